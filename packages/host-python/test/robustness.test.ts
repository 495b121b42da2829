import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PluginManager } from '@cpex/core';
import type { PythonHost } from '@cpex/host-python';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, gc, managerWith, pidAlive, realCpexPython, shimPython, waitGone } from './helpers.js';

// Fast start-up: prefer the bundled package (pydantic only); the worker code is the same.
const py = shimPython() ?? realCpexPython();

const CHAOS = (name: string, extra = '') =>
  `  - {name: ${name}, kind: hp_plugins.chaos.Chaos, hooks: [tool_pre_invoke], on_error: ignore, conditions: [{tools: [${name}]}]${extra}}`;

for (const fork of [true, false]) {
  describe.skipIf(!py)(
    `robustness: the gateway survives what plugins do (${fork ? 'forked from the fork server' : 'spawned processes'})`,
    () => {
      let manager: PluginManager;
      let host: PythonHost;
      let logger: Awaited<ReturnType<typeof managerWith>>['logger'];

      beforeAll(async () => {
        ({ manager, host, logger } = await managerWith(
          [
            'plugins:',
            CHAOS('chaos'),
            // 2 s: a quick call (50 ms of Python) must finish well inside it on a loaded machine.
            CHAOS('slowpoke', ', timeout: 2'),
            CHAOS('pool', ', mode: concurrent, workers: 3'),
          ].join('\n'),
          // cancelGraceMs only bounds a worker stuck in a blocking call; a cooperative cancel is
          // answered at once, but a slowed worker must not be killed for answering late.
          { python: py!, pythonPath: [FIXTURES], cancelGraceMs: 3_000, maxPayloadBytes: 200_000, fork },
        ));
      });
      afterAll(async () => {
        await manager?.shutdown();
      });

      const call = (action: string, extra: Record<string, unknown> = {}, plugin = 'chaos') =>
        manager.invoke(
          'tool_pre_invoke',
          { name: plugin, args: { action, ...extra } },
          { globalContext: gc() },
        );
      const pidOf = (name: string) => [...host.plugins].find((p) => p.name === name)!.pids;
      const ok = async (plugin = 'chaos') => {
        // A replacement worker may still be starting (imports take time); the call would wait for it.
        await [...host.plugins].find((p) => p.name === plugin)!.whenReady();
        const r = await call('ok', {}, plugin);
        if (r.errors.length) console.error('ok() failed', r.errors);
        expect(r.errors).toEqual([]);
        return r;
      };
      // Each plugin's condition restricts it to calls that name it (so one manager holds them all).
      beforeAll(() => {
        for (const p of host.plugins) expect(p.pids.length).toBeGreaterThan(0);
      });

      it('a Python exception fails only that call, with the message; the worker keeps running', async () => {
        const before = pidOf('chaos');
        const r = await call('raise', { message: 'kaboom' });
        const err = r.errors.find((e) => e.pluginName === 'chaos')!;
        expect(err.message).toContain('ValueError: chaos: kaboom');
        expect(pidOf('chaos')).toEqual(before);
      });

      // Issue 11 item 9: BaseException subclasses are the plugin's error too, answered at once
      // (not left to the call's timeout, which would kill the worker).
      for (const kind of ['custom', 'system_exit', 'keyboard_interrupt', 'generator_exit']) {
        for (const suspend of [false, true]) {
          it(`a BaseException (${kind}${suspend ? ', after an await' : ''}) is a plugin error; the worker lives on`, async () => {
            const before = pidOf('chaos');
            const r = await call('base_exception', { kind, suspend });
            const err = r.errors.find((e) => e.pluginName === 'chaos')!;
            expect(err.code).toBe('plugin_error');
            expect(err.message).toMatch(
              {
                custom: /_Abort/,
                system_exit: /SystemExit/,
                keyboard_interrupt: /KeyboardInterrupt/,
                generator_exit: /GeneratorExit/,
              }[kind]!,
            );
            expect(pidOf('chaos')).toEqual(before);
            await ok();
          });
        }
      }

      for (const [action, what] of [
        ['exit', 'os._exit'],
        ['segv', 'a segfault'],
      ] as const) {
        it(`${what} fails the call in flight with CPEX_ERR_WORKER_DIED and the worker is restarted`, async () => {
          const [before] = pidOf('chaos');
          const r = await call(action);
          const err = r.errors.find((e) => e.pluginName === 'chaos')!;
          expect(err.errorCode ?? err.code).toMatch(/WORKER_DIED|plugin_error/);
          expect(err.message).toMatch(action === 'exit' ? /exit code 7/ : /SIGSEGV/);
          expect(await waitGone([before!])).toEqual([]);
          await ok();
          expect(pidOf('chaos')[0]).not.toBe(before);
        });
      }

      it('a hung plugin (blocking sleep) times out; the stuck worker is killed and replaced', async () => {
        const [before] = pidOf('slowpoke');
        const r = await call('hang', {}, 'slowpoke');
        const err = r.errors.find((e) => e.pluginName === 'slowpoke')!;
        expect(err.code).toBe('plugin_timeout');
        expect(await waitGone([before!])).toEqual([]);
        await ok('slowpoke');
        expect(pidOf('slowpoke')[0]).not.toBe(before);
        expect(logger.lines.some((l) => /did not stop within 3000 ms of its cancel/.test(l.msg))).toBe(true);
      });

      it('a cooperative overrun (async sleep) is cancelled inside the worker, which survives', async () => {
        const [before] = pidOf('slowpoke');
        const r = await call('sleep', { seconds: 30 }, 'slowpoke');
        expect(r.errors.find((e) => e.pluginName === 'slowpoke')!.code).toBe('plugin_timeout');
        await ok('slowpoke');
        expect(pidOf('slowpoke')).toEqual([before]);
      });

      it('pipelined calls each get their own deadline: later calls time out later, quick ones complete', async () => {
        const [before] = pidOf('slowpoke');
        const order: string[] = [];
        const track = (name: string, p: ReturnType<typeof call>) =>
          p.then((r) => {
            order.push(name);
            return { r, at: performance.now() };
          });
        const t0 = performance.now();
        const first = track('first', call('sleep', { seconds: 30 }, 'slowpoke'));
        await new Promise((r) => setTimeout(r, 250));
        const t1 = performance.now();
        const second = track('second', call('sleep', { seconds: 30 }, 'slowpoke'));
        const quick = track('quick', call('sleep', { seconds: 0.05 }, 'slowpoke'));
        const [a, b, q] = await Promise.all([first, second, quick]);
        expect(a.r.errors.find((e) => e.pluginName === 'slowpoke')!.code).toBe('plugin_timeout');
        expect(b.r.errors.find((e) => e.pluginName === 'slowpoke')!.code).toBe('plugin_timeout');
        expect(q.r.errors).toEqual([]);
        expect(order).toEqual(['quick', 'first', 'second']);
        // Neither deadline fired early (the second one counts from its own start). Lower bounds
        // only: load can make a deadline late, never early.
        expect(a.at - t0).toBeGreaterThanOrEqual(1_990);
        expect(b.at - t1).toBeGreaterThanOrEqual(1_990);
        await ok('slowpoke');
        expect(pidOf('slowpoke')).toEqual([before]);
      });

      it('an oversized response is refused with CPEX_ERR_RESPONSE_TOO_LARGE and the worker survives', async () => {
        const [before] = pidOf('chaos');
        const r = await call('huge', { size: 500_000 });
        const err = r.errors.find((e) => e.pluginName === 'chaos')!;
        expect(err.message).toMatch(/exceeds max_payload_bytes 200000/);
        expect(err.errorCode ?? 'CPEX_ERR_RESPONSE_TOO_LARGE').toBe('CPEX_ERR_RESPONSE_TOO_LARGE');
        await ok();
        expect(pidOf('chaos')).toEqual([before]);
      });

      it('a frame over the hard limit (limit + 1 MiB) is CPEX_ERR_RESPONSE_TOO_LARGE and the worker is replaced', async () => {
        const [before] = pidOf('chaos');
        const r = await call('flood', { chunks: 32 }); // 2 MiB without a newline; limit here is 200 kB + 1 MiB
        const err = r.errors.find((e) => e.pluginName === 'chaos')!;
        expect(err.message).toMatch(/larger than \d+ bytes; worker killed/);
        expect(err.errorCode ?? 'CPEX_ERR_RESPONSE_TOO_LARGE').toBe('CPEX_ERR_RESPONSE_TOO_LARGE');
        expect(await waitGone([before!])).toEqual([]);
        await ok();
      });

      it('an oversized request is refused before it is sent (CPEX_ERR_PAYLOAD_TOO_LARGE)', async () => {
        const r = await call('ok', { blob: 'y'.repeat(300_000) });
        const err = r.errors.find((e) => e.pluginName === 'chaos')!;
        expect(err.message).toMatch(/exceeds max_payload_bytes 200000/);
        expect(err.errorCode ?? 'CPEX_ERR_PAYLOAD_TOO_LARGE').toBe('CPEX_ERR_PAYLOAD_TOO_LARGE');
      });

      it('prints and raw writes to fd 1 never reach the protocol; they are logged with the plugin name', async () => {
        const [before] = pidOf('chaos');
        const r = await call('print');
        expect(r.errors).toEqual([]);
        expect(pidOf('chaos')).toEqual([before]);
        const deadline = Date.now() + 20_000; // returns as soon as the lines are there
        const lines = () =>
          logger.lines.filter((l) => l.fields?.stream === 'stderr' && l.fields?.plugin === 'chaos');
        while (lines().length < 4 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
        const text = lines()
          .map((l) => l.msg)
          .join('\n');
        for (const s of ['hello from print()', 'raw bytes on fd 1', 'sys.stdout.write', 'to stderr'])
          expect(text).toContain(s);
        expect(text).toContain('[python:chaos]');
      });

      it('a malformed frame on the protocol fd fails the call with CPEX_ERR_PROTOCOL and restarts the worker', async () => {
        const [before] = pidOf('chaos');
        const r = await call('garbage');
        const err = r.errors.find((e) => e.pluginName === 'chaos')!;
        expect(err.message).toMatch(/malformed frame/);
        expect(err.errorCode ?? 'CPEX_ERR_PROTOCOL').toBe('CPEX_ERR_PROTOCOL');
        expect(await waitGone([before!])).toEqual([]);
        await ok();
      });

      it('a result that is not a PluginResult, or state that is not JSON, is CPEX_ERR_INVALID_RESULT', async () => {
        for (const action of ['bad_result', 'bad_state']) {
          const r = await call(action);
          const err = r.errors.find((e) => e.pluginName === 'chaos')!;
          expect(err.message).toMatch(/expected a PluginResult|not JSON-serializable/);
          expect(err.errorCode ?? 'CPEX_ERR_INVALID_RESULT').toBe('CPEX_ERR_INVALID_RESULT');
        }
        await ok();
      });

      it('runs many calls in flight at once: one worker pipelines, a pool of 3 spreads them', async () => {
        // 6 calls that each sleep in one worker: pipelined, they are inside the plugin at the same time.
        const rs = await Promise.all(Array.from({ length: 6 }, () => call('overlap', { seconds: 0.4 })));
        for (const r of rs) expect(r.errors).toEqual([]);
        expect(Math.max(...rs.map((r) => r.metadata.peak as number))).toBeGreaterThan(1);
        const pool = [...host.plugins].find((p) => p.name === 'pool')!;
        expect(pool.pids).toHaveLength(3);
        const seen = new Set<number>();
        const calls = await Promise.all(
          Array.from({ length: 9 }, () => call('sleep', { seconds: 0.2 }, 'pool')),
        );
        for (const r of calls) {
          expect(r.errors).toEqual([]);
          seen.add(r.metadata.pid as number);
        }
        expect(seen.size).toBe(3);
      });
    },
  );
}

describe.skipIf(!py)('lifecycle', () => {
  it('shutdown() runs each plugin shutdown() and leaves no worker process behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cpex-hp-'));
    const log = join(dir, 'lifecycle.log');
    const { manager, host } = await managerWith(
      `plugins:\n  - {name: lc, kind: hp_plugins.lifecycle.Lifecycle, hooks: [tool_pre_invoke], workers: 2, config: {log: ${log}}}\n  - {name: other, kind: hp_plugins.chaos.Chaos, hooks: [tool_pre_invoke]}`,
      { python: py!, pythonPath: [FIXTURES] },
    );
    const pids = [...host.plugins].flatMap((p) => p.pids);
    expect(pids).toHaveLength(3);
    for (const pid of pids) expect(pidAlive(pid)).toBe(true);
    await manager.invoke('tool_pre_invoke', { name: 'x', args: {} }, { globalContext: gc() });
    await manager.shutdown();
    expect(await waitGone(pids, 3_000)).toEqual([]);
    expect(host.plugins.size).toBe(0);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(lines.filter((l) => l.startsWith('initialize'))).toHaveLength(2);
    expect(lines.filter((l) => l.startsWith('shutdown'))).toHaveLength(2);
  });

  it('a Node process that exits without shutdown() leaves no worker behind', async () => {
    const script = join(FIXTURES, 'exit-without-shutdown.ts');
    const out = execFileSync(
      process.execPath,
      ['--conditions=@cpex/source', '--import', 'tsx', script, py!, FIXTURES],
      {
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    const pids = JSON.parse(out.trim().split('\n').pop()!) as number[];
    expect(pids).toHaveLength(2);
    expect(await waitGone(pids, 3_000)).toEqual([]);
  });

  it.skipIf(process.platform !== 'linux')(
    'a gateway killed with SIGKILL while a plugin hangs leaves no worker behind',
    async () => {
      const script = join(FIXTURES, 'killed-while-hanging.ts');
      const child = spawn(
        process.execPath,
        ['--conditions=@cpex/source', '--import', 'tsx', script, py!, FIXTURES],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('\n')) resolve(out.trim());
        });
        child.on('exit', () => reject(new Error(`fixture exited early: ${out}`)));
      });
      const pids = JSON.parse(line) as number[];
      expect(pids).toHaveLength(2);
      for (const pid of pids) expect(pidAlive(pid)).toBe(true);
      child.kill('SIGKILL');
      expect(await waitGone(pids, 5_000)).toEqual([]);
    },
  );

  for (const fork of [true, false]) {
    it(`large responses within the limit arrive whole (${fork ? 'forked' : 'spawned'})`, async () => {
      const { manager } = await managerWith(
        `plugins:\n  - {name: big, kind: hp_plugins.chaos.Chaos, hooks: [tool_pre_invoke]}`,
        { python: py!, pythonPath: [FIXTURES], fork },
      );
      const rs = await Promise.all(
        [3_000_000, 1_000_000, 10].map((size) =>
          manager.invoke(
            'tool_pre_invoke',
            { name: 'big', args: { action: 'huge', size } },
            { globalContext: gc() },
          ),
        ),
      );
      expect(rs.map((r) => r.errors)).toEqual([[], [], []]);
      expect(
        rs.map((r) => (r.modifiedPayload as unknown as { args: { blob: string } }).args.blob.length),
      ).toEqual([3_000_000, 1_000_000, 10]);
      await manager.shutdown();
    });
  }

  it('a worker that keeps crashing is given up after maxRestarts (CPEX_ERR_WORKER_START), not restarted forever', async () => {
    const { manager, host } = await managerWith(
      `plugins:\n  - {name: c, kind: hp_plugins.chaos.Chaos, hooks: [tool_pre_invoke], on_error: ignore}`,
      { python: py!, pythonPath: [FIXTURES], maxRestarts: 1 },
    );
    const plugin = [...host.plugins][0]!;
    const crash = () =>
      manager.invoke('tool_pre_invoke', { name: 'c', args: { action: 'exit' } }, { globalContext: gc() });
    expect((await crash()).errors[0]?.errorCode).toBe('CPEX_ERR_WORKER_DIED');
    await plugin.whenReady(); // restarted once
    expect((await crash()).errors[0]?.errorCode).toBe('CPEX_ERR_WORKER_DIED');
    const r = await manager.invoke('tool_pre_invoke', { name: 'c', args: {} }, { globalContext: gc() });
    expect(r.errors[0]?.errorCode).toBe('CPEX_ERR_WORKER_START');
    expect(r.errors[0]?.message).toMatch(/not restarting/);
    expect(plugin.pids).toEqual([]);
    await manager.shutdown();
  });

  it('host.dispose() also stops workers, even when a plugin hangs in Python', async () => {
    const { manager, host } = await managerWith(
      `plugins:\n  - {name: c, kind: hp_plugins.chaos.Chaos, hooks: [tool_pre_invoke], on_error: ignore, timeout: 30}`,
      { python: py!, pythonPath: [FIXTURES], shutdownTimeoutMs: 300 },
    );
    const pids = [...host.plugins].flatMap((p) => p.pids);
    const stuck = manager.invoke(
      'tool_pre_invoke',
      { name: 'c', args: { action: 'hang' } },
      { globalContext: gc() },
    );
    await new Promise((r) => setTimeout(r, 200));
    await host.dispose();
    expect(await waitGone(pids, 3_000)).toEqual([]);
    const r = await stuck;
    expect(r.errors[0]?.message).toMatch(/died|shut down/);
    await manager.shutdown();
  });
});
