/**
 * The caller's abort reaches a Python call (through the executor's `onAbort`, and through a bare
 * `signal` for hand-built contexts), and sustained pipelined load keeps the host's bookkeeping
 * bounded.
 */
import { CpexError, type PluginContext, type PluginManager } from '@cpex/core';
import { createPythonHost } from '@cpex/host-python';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, gc, managerWith, realCpexPython, until } from './helpers.js';

const py = realCpexPython();

const CHAOS = `
plugins:
  - {name: chaos, kind: hp_plugins.chaos.Chaos, hooks: [tool_pre_invoke], timeout: 20}
`;

/** A context built by hand (no onAbort): the host falls back to the AbortSignal. */
function signalOnlyContext(signal: AbortSignal): PluginContext {
  const state: Record<string, unknown> = {};
  return {
    state,
    metadata: {},
    globalContext: gc(),
    signal,
    pluginName: 'chaos',
    hook: 'tool_pre_invoke',
    phase: 'sequential',
    timeoutMs: 20_000,
    getState: (k) => state[k] as never,
    setState: (k, v) => {
      state[k] = v;
    },
  };
}

describe.skipIf(!py)('aborts and sustained load (Python host)', () => {
  let manager: PluginManager;
  let host: Awaited<ReturnType<typeof managerWith>>['host'];
  beforeAll(async () => {
    ({ manager, host } = await managerWith(CHAOS, {
      python: py!,
      pythonPath: [FIXTURES],
      // A cooperative cancel is answered at once; the grace only bounds a stuck worker. Generous,
      // so a worker slowed by a loaded machine is not killed for answering late.
      cancelGraceMs: 5_000,
    }));
  });
  afterAll(async () => {
    await manager?.shutdown();
  });
  const plugin = () => [...host.plugins][0]!;

  it("the caller's AbortSignal stops a Python call in flight (CPEX_ERR_ABORTED); the worker keeps serving", async () => {
    const pid = plugin().pids[0];
    const caller = new AbortController();
    const pending = manager
      .invoke(
        'tool_pre_invoke',
        { name: 't', args: { action: 'sleep', seconds: 30 } },
        {
          globalContext: gc(),
          signal: caller.signal,
        },
      )
      .catch((e: unknown) => e);
    expect(await until(() => plugin().workerStats[0]!.inFlight === 1)).toBe(true);
    caller.abort(new Error('client went away'));
    const err = (await pending) as CpexError;
    expect(err).toBeInstanceOf(CpexError);
    expect(err.code).toBe('CPEX_ERR_ABORTED');
    // The worker answered the cancel (a cooperative sleep): same process, nothing left in flight.
    expect(await until(() => plugin().workerStats[0]!.inFlight === 0)).toBe(true);
    expect(plugin().pids[0]).toBe(pid);
    const r = await manager.invoke(
      'tool_pre_invoke',
      { name: 't', args: { action: 'ok' } },
      { globalContext: gc() },
    );
    expect(r.errors).toEqual([]);
    expect(r.metadata.pid).toBe(pid);
  });

  it('a hand-built context with only a signal is honoured too (already-aborted and aborted mid-call)', async () => {
    await plugin().whenReady();
    const h = plugin().handler('tool_pre_invoke')!;
    const done = new AbortController();
    done.abort();
    await expect(
      Promise.resolve(h({ name: 't', args: { action: 'ok' } }, signalOnlyContext(done.signal), undefined)),
    ).rejects.toMatchObject({ code: 'CPEX_ERR_ABORTED', plugin: 'chaos', hook: 'tool_pre_invoke' });

    const mid = new AbortController();
    const pending = Promise.resolve(
      h({ name: 't', args: { action: 'sleep', seconds: 30 } }, signalOnlyContext(mid.signal), undefined),
    ).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 50));
    mid.abort();
    expect(await pending).toMatchObject({ code: 'CPEX_ERR_ABORTED' });
  });

  it('sustained pipelined load: every answer right, and the deadline queue stays bounded', async () => {
    await plugin().whenReady();
    const inflight = 64;
    const perCaller = 40;
    let maxQueued = 0;
    let answered = 0;
    // One slow call stays in flight throughout, as under steady gateway traffic: the worker is never idle.
    const stopSlow = new AbortController();
    const slow = manager
      .invoke(
        'tool_pre_invoke',
        { name: 't', args: { action: 'sleep', seconds: 15 } },
        {
          globalContext: gc('slow'),
          signal: stopSlow.signal,
        },
      )
      .catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 50));
    await Promise.all(
      Array.from({ length: inflight }, async (_, caller) => {
        for (let i = 0; i < perCaller; i++) {
          const n = caller * 1000 + i;
          const r = await manager.invoke(
            'tool_pre_invoke',
            { name: 't', args: { action: 'ok', n } },
            { globalContext: gc(`r${n}`) },
          );
          expect(r.errors).toEqual([]);
          expect(r.metadata.action).toBe('ok');
          answered++;
          maxQueued = Math.max(maxQueued, plugin().workerStats[0]!.deadlinesQueued);
        }
      }),
    );
    expect(answered).toBe(inflight * perCaller);
    expect(plugin().workerStats[0]!.inFlight).toBe(1);
    stopSlow.abort();
    expect(await slow).toMatchObject({ code: 'CPEX_ERR_ABORTED' });
    await new Promise((r) => setTimeout(r, 100)); // the worker answers the cancel
    // Without pruning the queue would hold one id per call made while the slow one ran (2560).
    expect(maxQueued).toBeLessThanOrEqual(2 * inflight + 1024 + 1);
    expect(plugin().workerStats[0]).toMatchObject({ state: 'ready', inFlight: 0, deadlinesQueued: 0 });
  });
});

describe('host options', () => {
  it('spinUs must be a number of microseconds 0..10000 (CPEX_ERR_CONFIG_INVALID)', () => {
    for (const bad of [-1, Number.NaN, 20_000, '100' as unknown as number]) {
      expect(() => createPythonHost({ spinUs: bad })).toThrow(
        expect.objectContaining({
          code: 'CPEX_ERR_CONFIG_INVALID',
          message: expect.stringContaining('spinUs'),
        }),
      );
    }
    expect(() => createPythonHost({ spinUs: 0 })).not.toThrow();
  });
});
