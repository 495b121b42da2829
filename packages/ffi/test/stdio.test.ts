// `cpex serve --stdio` as a real process: frames on stdin/stdout, plugin console output kept off
// stdout, exit 0 when stdin closes.
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FrameReader, frame, packValue, unpackValue } from '../src/wire.js';
import { spawnServe } from './client.js';

const dir = mkdtempSync(path.join(tmpdir(), 'cpex-ffi-stdio-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('cpex serve --stdio', { timeout: 120_000 }, () => {
  it('answers frames on stdout, sends console output to stderr, exits 0 on stdin end', async () => {
    writeFileSync(
      path.join(dir, 'loud.mjs'),
      `export default { name: 'loud', hooks: { tool_pre_invoke: () => { console.log('plugin says hi'); return { continueProcessing: true }; } } };`,
    );
    writeFileSync(
      path.join(dir, 'config.yaml'),
      'plugins:\n  - name: loud\n    kind: node://./loud.mjs\n    hooks: [tool_pre_invoke]\n',
    );
    const child = spawnServe(
      ['--stdio', '--config', path.join(dir, 'config.yaml')],
      ['pipe', 'pipe', 'pipe'],
    ) as ChildProcessWithoutNullStreams;
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const reader = new FrameReader();
    const answers: Array<Record<string, unknown>> = [];
    const waiters: Array<() => void> = [];
    child.stdout.on('data', (chunk: Buffer) => {
      for (const ev of reader.push(chunk)) {
        if (ev.kind === 'frame') answers.push(unpackValue(ev.body) as Record<string, unknown>);
      }
      for (const w of waiters.splice(0)) w();
    });
    let exited = false;
    child.on('exit', () => {
      exited = true;
      for (const w of waiters.splice(0)) w();
    });
    const next = async (n: number) => {
      while (answers.length < n) {
        if (exited) throw new Error(`the sidecar exited early: ${stderr}`);
        await new Promise<void>((r) => waiters.push(r));
      }
      return answers[n - 1]!;
    };
    child.stdin.write(frame(packValue({ id: 1, op: 'version' })));
    const v = await next(1);
    expect(v).toMatchObject({ id: 1, rc: 0, protocol: 1 });
    child.stdin.write(
      frame(
        packValue({
          id: 2,
          op: 'invoke',
          manager: v.shared_manager,
          hook: 'tool_pre_invoke',
          payload: packValue({ name: 'x' }),
        }),
      ),
    );
    expect(await next(2)).toMatchObject({ id: 2, rc: 0, result: { continue_processing: true } });
    const code = await new Promise<number | null>((resolve) => {
      if (exited) resolve(child.exitCode);
      child.on('exit', resolve);
      child.stdin.end();
    });
    expect(code).toBe(0);
    expect(stderr).toContain('plugin says hi');
  });
});
