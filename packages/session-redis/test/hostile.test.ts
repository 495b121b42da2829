/**
 * Hostile Redis, against a real redis-server: whatever the store or the channel answers, an invoke
 * with a session fails closed with a coded violation (never an allow, never a crash, never a
 * hang), and the fleet channel ignores what is not an announcement.
 *
 * - a key of the wrong type (WRONGTYPE) on load and on append;
 * - a huge set (over `maxLabels`): refused server-side without transferring it, and client-side when
 *   it grew past the cap between two loads;
 * - members that are not valid labels (empty, over-long, not UTF-8);
 * - a Redis that stops answering (CLIENT PAUSE): the command timeout fails the invoke closed;
 * - pub/sub garbage, and an announced hash for a config this replica cannot read.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Extensions, PluginManager, type PluginViolation, resolveSession } from '@cpex/core';
import { withLabels } from '@cpex/core/extensions';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetReload, RedisSessionStore } from '../src/index.js';
import { RedisServer } from '../src/testing.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** Wait (bounded, generous) until `ok()` holds; never a wall-clock assertion. */
async function until(ok: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 1500; i++) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('a hostile Redis fails the invoke closed, coded', () => {
  let server: RedisServer;
  let raw: Redis;
  const stores: RedisSessionStore[] = [];
  const managers: PluginManager[] = [];

  beforeAll(async () => {
    server = await RedisServer.start();
    raw = new Redis(server.port, '127.0.0.1');
    raw.on('error', () => {});
  });
  afterAll(async () => {
    await Promise.allSettled(managers.map((m) => m.shutdown()));
    await Promise.allSettled(stores.map((s) => s.close()));
    raw?.disconnect();
    await server?.stop();
  });

  /** A manager whose `tag:<label>` tool adds a label to the session. */
  async function gateway(options: Partial<ConstructorParameters<typeof RedisSessionStore>[0]> = {}) {
    const store = new RedisSessionStore({ endpoint: server.url, ttlSeconds: 600, ...options });
    stores.push(store);
    const m = new PluginManager({ logger: quiet, sessionStore: store });
    managers.push(m);
    m.registerHook(
      'tool_pre_invoke',
      (p: { name: string }, _c, ext) =>
        p.name.startsWith('tag:') ? { modifiedExtensions: withLabels(ext, p.name.slice(4)) } : {},
      { name: 'tagger', capabilities: ['read_labels', 'append_labels'] },
    );
    await m.initialize();
    return { m, store };
  }

  let n = 0;
  /** A fresh session: its extensions and its Redis key. */
  const session = (store: RedisSessionStore) => {
    const ext: Extensions = { security: { subject: { id: `mallory-${n++}` } } };
    return { ext, key: store.key(resolveSession(ext)!.id) };
  };
  const call = (m: PluginManager, ext: Extensions, tool = 'read') =>
    m.invoke('tool_pre_invoke', { name: tool, args: {} }, { extensions: ext });
  const halted = (v: PluginViolation | null | undefined, operation: string, errorCode: string) =>
    expect(v).toMatchObject({
      code: 'session_store_error',
      details: { operation, error_code: errorCode },
    });

  it('a key holding a string (WRONGTYPE) fails load and append closed', async () => {
    const { m, store } = await gateway();
    const { ext, key } = session(store);
    await raw.set(key, 'not a set');
    const r = await call(m, ext);
    expect(r.continueProcessing).toBe(false);
    halted(r.violation, 'load', 'CPEX_ERR_SESSION_STORE');
    expect(r.violation?.description).toContain('WRONGTYPE');
    // Within the refresh interval the load is a plain SMEMBERS: WRONGTYPE there too.
    const again = await call(m, ext);
    halted(again.violation, 'load', 'CPEX_ERR_SESSION_STORE');

    // Append: the load sees an empty set, then someone replaces the key before the append.
    const second = session(store);
    const racer = new PluginManager({ logger: quiet, sessionStore: store });
    managers.push(racer);
    racer.registerHook(
      'tool_pre_invoke',
      async (_p, _c, ext2) => {
        await raw.set(second.key, 'swapped');
        return { modifiedExtensions: withLabels(ext2, 'PII') };
      },
      { name: 'swap', capabilities: ['read_labels', 'append_labels'] },
    );
    await racer.initialize();
    const a = await call(racer, second.ext);
    expect(a.continueProcessing).toBe(false);
    halted(a.violation, 'append', 'CPEX_ERR_SESSION_STORE');
    expect(await raw.get(second.key)).toBe('swapped');
  });

  it('a set over maxLabels is refused without being transferred, and when it grew past the cap between loads', async () => {
    const { m, store } = await gateway();
    const { ext, key } = session(store);
    await raw.sadd(
      key,
      Array.from({ length: 5000 }, (_, i) => `label-${i}`),
    );
    const r = await call(m, ext);
    halted(r.violation, 'load', 'CPEX_ERR_SESSION_LABELS');
    expect(r.violation?.description).toContain('5000 labels, over the store');
    expect((await call(m, ext)).violation?.details).toMatchObject({ error_code: 'CPEX_ERR_SESSION_LABELS' });

    // A small cap; the set grows past it behind this replica's back between two loads (the second
    // load is within the refresh interval: a plain SMEMBERS, checked after the read).
    const small = await gateway({ maxLabels: 3, ttlRefreshIntervalMs: 60_000 });
    const s2 = session(small.store);
    await raw.sadd(s2.key, 'a', 'b');
    expect((await call(small.m, s2.ext)).continueProcessing).toBe(true);
    await raw.sadd(s2.key, 'c', 'd');
    halted((await call(small.m, s2.ext)).violation, 'load', 'CPEX_ERR_SESSION_LABELS');
    // An append that would take a session past the cap writes nothing.
    const s3 = session(small.store);
    await raw.sadd(s3.key, 'a', 'b', 'c');
    const grow = await call(small.m, s3.ext, 'tag:d');
    halted(grow.violation, 'append', 'CPEX_ERR_SESSION_LABELS');
    expect((await raw.smembers(s3.key)).sort()).toEqual(['a', 'b', 'c']);
  });

  it('members that are not valid labels (empty, over-long, not UTF-8) fail closed', async () => {
    const { m, store } = await gateway();
    for (const member of ['', 'x'.repeat(1025), Buffer.from([0x70, 0x69, 0xff, 0xfe])]) {
      const { ext, key } = session(store);
      await raw.sadd(key, 'fine', member);
      const r = await call(m, ext);
      expect(r.continueProcessing).toBe(false);
      halted(r.violation, 'load', 'CPEX_ERR_SESSION_LABELS');
    }
  });

  it('a Redis that stops answering fails the invoke closed at the command timeout, then recovers', async () => {
    const { m, store } = await gateway({ commandTimeoutMs: 150, ttlRefreshIntervalMs: 0 });
    const { ext } = session(store);
    expect((await call(m, ext)).continueProcessing).toBe(true);
    // Pause every client for 3 s (the pausing connection is answered before the pause starts).
    const pauser = new Redis(server.port, '127.0.0.1');
    pauser.on('error', () => {});
    try {
      await pauser.call('CLIENT', 'PAUSE', '3000', 'ALL');
      const r = await call(m, ext);
      expect(r.continueProcessing).toBe(false);
      halted(r.violation, 'load', 'CPEX_ERR_SESSION_STORE');
      expect(r.violation?.description).toMatch(/timed? ?out/i);
      // Once the pause is over the same manager serves again (no restart, no stuck connection).
      await until(async () => (await call(m, ext)).continueProcessing, 'Redis to answer again');
    } finally {
      pauser.disconnect();
    }
  });
});

describe('the fleet channel is a boundary', () => {
  let server: RedisServer;
  let raw: Redis;
  let dir: string;
  beforeAll(async () => {
    server = await RedisServer.start();
    raw = new Redis(server.port, '127.0.0.1');
    raw.on('error', () => {});
    dir = mkdtempSync(path.join(tmpdir(), 'cpex-fleet-hostile-'));
  });
  afterAll(async () => {
    raw?.disconnect();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ignores garbage, oversized and forged messages; an announced config it cannot read leaves it serving, diverged', async () => {
    const file = path.join(dir, 'plugins.yaml');
    writeFileSync(file, 'plugins:\n  - {name: a, kind: rec, hooks: [tool_pre_invoke]}\n');
    const m = new PluginManager({ logger: quiet });
    let calls = 0;
    m.registerFactory('rec', {
      async create() {
        return {
          host: { supportsTimeouts: 'cooperative', isolated: false, copiesPayloads: false },
          handler: () => () => {
            calls++;
            return {};
          },
        };
      },
    });
    await m.loadConfig(file);
    await m.initialize();
    const warnings: string[] = [];
    const channel = `cpex:test:${process.pid}`;
    const fleet = await FleetReload.start(m, {
      endpoint: server.url,
      file,
      channel,
      replicaId: 'replica-a',
      watch: false,
      logger: { info() {}, warn: (msg) => warnings.push(msg), error() {} },
    });
    try {
      const serving = m.configHash;
      const garbage = [
        'not json',
        'null',
        '[]',
        '"sha256:0"',
        '{"hash": 5, "replica": "x"}',
        '{"hash": "sha256:zz", "replica": "x"}',
        JSON.stringify({ hash: `sha256:${'a'.repeat(64)}`, replica: 'evil\n[cpex] converged' }),
        JSON.stringify({ hash: `sha256:${'a'.repeat(64)}`, replica: '' }),
        JSON.stringify({ hash: `sha256:${'a'.repeat(64)}`, replica: 'x', pad: 'y'.repeat(2000) }),
        'z'.repeat(1 << 20),
      ];
      for (const g of garbage) await raw.publish(channel, g);
      await raw.publish(channel, Buffer.from([0xff, 0xfe, 0x7b]));
      await until(() => fleet.status().ignoredMessages === garbage.length + 1, 'every message to be ignored');
      expect(fleet.status()).toMatchObject({ hash: serving, diverged: false, announced: undefined });
      expect(warnings).toHaveLength(1); // the first one is logged, not each
      expect(warnings[0]).not.toContain('\n');

      // A well-formed announcement of a config this replica cannot read: it keeps serving, diverged.
      rmSync(file);
      const foreign = `sha256:${'b'.repeat(64)}`;
      await raw.publish(channel, JSON.stringify({ hash: foreign, replica: 'replica-b' }));
      await until(() => fleet.status().diverged, 'the replica to report itself diverged');
      expect(fleet.status()).toMatchObject({
        hash: serving,
        announced: foreign,
        announcedBy: 'replica-b',
        diverged: true,
      });
      expect(fleet.status().lastError).toContain('cannot read config file');
      expect(warnings.some((w) => w.includes('diverged'))).toBe(true);
      const r = await m.invoke('tool_pre_invoke', { name: 't', args: {} });
      expect(r.continueProcessing).toBe(true);
      expect(calls).toBeGreaterThan(0);
    } finally {
      await fleet.close();
      await m.shutdown();
    }
  });
});
