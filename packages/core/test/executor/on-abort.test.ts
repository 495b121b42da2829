/**
 * `context.onAbort(listener)`: the abort of a plugin call (timeout, a concurrent sibling's deny,
 * the caller's AbortSignal) observed without creating the call's AbortSignal — what out-of-process
 * hosts use on every call. Same events as `context.signal`, delivered once, with the reason.
 */
import { describe, expect, it } from 'vitest';
import type { PluginContext } from '../../src/index.js';
import { deferred, newManager, probe, run, sleep, Trail } from './helpers.js';

/** Registers an onAbort listener and reports what it saw; never touches `ctx.signal`. */
function watch(ctx: PluginContext): { reasons: unknown[]; registered: boolean } {
  const seen = { reasons: [] as unknown[], registered: false };
  seen.registered = ctx.onAbort!((reason) => seen.reasons.push(reason));
  return seen;
}

describe('PluginContext.onAbort', () => {
  it('fires once with the timeout error when the call times out; no AbortSignal is created', async () => {
    const m = newManager({ pluginTimeout: 0.03 });
    let seen: ReturnType<typeof watch> | undefined;
    let ctxRef: PluginContext | undefined;
    probe(m, new Trail(), 'slow', { onError: 'ignore' }, async (_p, ctx) => {
      ctxRef = ctx;
      seen = watch(ctx);
      await sleep(200);
      return undefined;
    });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(r.errors?.[0]?.code).toBe('plugin_timeout');
    expect(seen?.registered).toBe(true);
    expect(seen?.reasons).toHaveLength(1);
    expect((seen!.reasons[0] as { code?: string }).code).toBe('CPEX_ERR_PLUGIN_TIMEOUT');
    // The lazily created signal was never needed; asking for it now gives an aborted one.
    expect((ctxRef as unknown as { controller?: AbortController }).controller).toBeUndefined();
    expect(ctxRef?.signal.aborted).toBe(true);
  });

  it("fires for a concurrent sibling's deny and for the caller's AbortSignal, like the signal does", async () => {
    const m = newManager();
    const listener: unknown[] = [];
    const signal: boolean[] = [];
    probe(m, new Trail(), 'denier', { mode: 'concurrent' }, async () => {
      await sleep(10);
      return { continueProcessing: false, violation: { code: 'no', reason: 'no' } };
    });
    probe(m, new Trail(), 'sibling', { mode: 'concurrent' }, async (_p, ctx) => {
      ctx.onAbort!((reason) => listener.push(reason));
      ctx.signal.addEventListener('abort', () => signal.push(true));
      await sleep(300);
      return undefined;
    });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(r.violation?.code).toBe('no');
    expect(listener).toHaveLength(1);
    expect(signal).toEqual([true]);

    const m2 = newManager();
    const started = deferred();
    const reasons: unknown[] = [];
    probe(m2, new Trail(), 'waiter', {}, async (_p, ctx) => {
      ctx.onAbort!((reason) => reasons.push(reason));
      started.resolve();
      await sleep(300);
      return undefined;
    });
    await m2.initialize();
    const caller = new AbortController();
    const pending = run(m2, 'tool_pre_invoke', {}, { signal: caller.signal }).catch((e: unknown) => e);
    await started.promise;
    caller.abort(new Error('client went away'));
    const err = (await pending) as { code?: string };
    expect(err.code).toBe('CPEX_ERR_ABORTED');
    expect(reasons).toHaveLength(1);
  });

  it('offAbort removes a listener; a listener that throws does not stop the others; after the abort it returns false', async () => {
    const m = newManager({ pluginTimeout: 0.03 });
    const calls: string[] = [];

    let ctxRef: PluginContext | undefined;
    probe(m, new Trail(), 'slow', { onError: 'ignore' }, async (_p, ctx) => {
      ctxRef = ctx;
      const removed = () => calls.push('removed');
      ctx.onAbort!(() => {
        calls.push('first');
        throw new Error('listener bug');
      });
      ctx.onAbort!(removed);
      ctx.onAbort!(() => calls.push('third'));
      ctx.offAbort!(removed);
      await sleep(200);
      return undefined;
    });
    await m.initialize();
    await run(m, 'tool_pre_invoke', {});
    expect(calls).toEqual(['first', 'third']);
    const late = ctxRef!.onAbort!(() => calls.push('late'));
    expect(late).toBe(false);
    expect(calls).toEqual(['first', 'third']);
  });

  it('a call that settles normally never fires its listeners', async () => {
    const m = newManager();
    const reasons: unknown[] = [];
    probe(m, new Trail(), 'quick', {}, async (_p, ctx) => {
      ctx.onAbort!((r) => reasons.push(r));
      await sleep(5);
      return { metadata: { ok: true } };
    });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(r.metadata).toEqual({ ok: true });
    await sleep(20);
    expect(reasons).toEqual([]);
  });
});
