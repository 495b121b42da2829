/**
 * Fleet mode: two replica processes on one real Redis. A reload on one is announced (its config
 * hash) and the other converges by re-reading its own file; a replica whose file does not hash to
 * the announced value keeps serving and reports itself diverged (status + log line).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { configHash } from '@cpex/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisServer } from '../src/testing.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');

const cfg = (names: string[]) =>
  `plugins:\n${names.map((n) => `  - {name: ${n}, kind: rec, hooks: [tool_pre_invoke]}`).join('\n')}\n`;

interface Replica {
  proc: ChildProcess;
  lines: Interface;
  stderr: string[];
  next(): Promise<Record<string, unknown>>;
  status(): Promise<Record<string, unknown>>;
}

function replica(url: string, file: string, id: string, watch: boolean): Replica {
  const proc = spawn(
    process.execPath,
    [
      '--conditions=@cpex/source',
      '--import',
      'tsx',
      path.join(here, 'fixtures/fleet-replica.ts'),
      JSON.stringify({ url, file, id, watch }),
    ],
    { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const lines = createInterface({ input: proc.stdout! });
  const queue: string[] = [];
  const waiting: Array<(l: string) => void> = [];
  lines.on('line', (l) => {
    const w = waiting.shift();
    if (w) w(l);
    else queue.push(l);
  });
  const stderr: string[] = [];
  createInterface({ input: proc.stderr! }).on('line', (l) => stderr.push(l));
  const next = () =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const q = queue.shift();
      if (q !== undefined) return resolve(JSON.parse(q));
      const t = setTimeout(
        () => reject(new Error(`${id}: no output within 60 s; stderr:\n${stderr.join('\n')}`)),
        60_000,
      );
      waiting.push((l) => {
        clearTimeout(t);
        resolve(JSON.parse(l));
      });
    });
  return {
    proc,
    lines,
    stderr,
    next,
    status: () => {
      proc.stdin!.write('status\n');
      return next();
    },
  };
}

/** Poll a replica's status until `ok` holds. */
async function until(
  r: Replica,
  ok: (s: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>> {
  const t0 = Date.now();
  for (;;) {
    const s = await r.status();
    if (ok(s)) return s;
    if (Date.now() - t0 > 30_000) throw new Error(`condition not reached; last status ${JSON.stringify(s)}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

describe('fleet reload over Redis pub/sub (two processes)', () => {
  let server: RedisServer;
  let dir: string;
  const replicas: Replica[] = [];
  beforeAll(async () => {
    server = await RedisServer.start();
    dir = mkdtempSync(path.join(tmpdir(), 'cpex-fleet-'));
  });
  afterAll(async () => {
    for (const r of replicas) {
      r.proc.stdin?.end('exit\n');
      await new Promise((res) => (r.proc.exitCode !== null ? res(undefined) : r.proc.once('exit', res)));
    }
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('replicas converge on an announced hash; one whose file differs reports itself diverged and keeps serving', async () => {
    const fileA = path.join(dir, 'a/plugins.yaml');
    const fileB = path.join(dir, 'b/plugins.yaml');
    for (const f of [fileA, fileB]) {
      rmSync(path.dirname(f), { recursive: true, force: true });
      (await import('node:fs')).mkdirSync(path.dirname(f), { recursive: true });
      writeFileSync(f, cfg(['p1']));
    }
    // A watches its file; B reloads only on announcements (so convergence is the channel's doing).
    const a = replica(server.url, fileA, 'replica-a', true);
    const b = replica(server.url, fileB, 'replica-b', false);
    replicas.push(a, b);
    const [ra, rb] = await Promise.all([a.next(), b.next()]);
    expect(ra).toMatchObject({ ready: true, hash: configHash(cfg(['p1'])), diverged: false });
    expect(rb.hash).toBe(ra.hash);

    // A new config rolled out to both files; only A's watch sees it — B follows A's announcement.
    writeFileSync(fileB, cfg(['p1', 'p2']));
    writeFileSync(fileA, cfg(['p1', 'p2']));
    const v2 = configHash(cfg(['p1', 'p2']));
    await until(a, (s) => s.hash === v2);
    const sb = await until(b, (s) => s.hash === v2);
    expect(sb).toMatchObject({
      diverged: false,
      announced: v2,
      announcedBy: 'replica-a',
      plugins: ['p1', 'p2'],
    });

    // A moves on to v3, B's file still says v2: B keeps serving v2 and reports itself diverged.
    writeFileSync(fileA, cfg(['p3']));
    const v3 = configHash(cfg(['p3']));
    await until(a, (s) => s.hash === v3);
    const diverged = await until(b, (s) => s.announced === v3);
    expect(diverged).toMatchObject({ hash: v2, diverged: true, plugins: ['p1', 'p2'] });
    expect(b.stderr.some((l) => l.includes('replica replica-b diverged') && l.includes(v3))).toBe(true);

    // B's file catches up; the next announcement brings it back in line.
    writeFileSync(fileB, cfg(['p3']));
    writeFileSync(fileA, cfg(['p3', 'p4']));
    writeFileSync(fileB, cfg(['p3', 'p4']));
    const v4 = configHash(cfg(['p3', 'p4']));
    const back = await until(b, (s) => s.hash === v4);
    expect(back).toMatchObject({ diverged: false, plugins: ['p3', 'p4'] });
    expect(b.stderr.some((l) => l.includes('converged'))).toBe(true);
  });
});
