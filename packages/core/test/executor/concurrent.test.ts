/**
 * ARCHITECTURE.md section 3, the concurrent row of the phase table ("parallel on one snapshot",
 * "the first deny to complete wins and aborts the rest", "context writes kept from plugins that
 * completed before the halt"), the settings `execution_pool` and `short_circuit_on_deny`, and
 * "More decisions" (metadata and global writes merge in completion order).
 */
import { describe, expect, it } from 'vitest';
import { aborted, gctx, newManager, probe, sleep, Trail, run, until } from './helpers.js';

describe('concurrent: parallel on one snapshot (ARCH s3 phase table)', () => {
  it('concurrent: plugins run in parallel — every plugin starts before any finishes (ARCH s3 "parallel")', async () => {
    const m = newManager();
    const t = new Trail();
    for (const n of ['a', 'b', 'c']) {
      probe(m, t, n, { mode: 'concurrent' }, async () => {
        await sleep(40);
        t.add(`${n}:end`);
        return undefined;
      });
    }
    await m.initialize();
    await run(m, 'tool_pre_invoke', {});
    const lastStart = Math.max(t.indexOf('a'), t.indexOf('b'), t.indexOf('c'));
    const firstEnd = Math.min(t.indexOf('a:end'), t.indexOf('b:end'), t.indexOf('c:end'));
    expect(lastStart).toBeLessThan(firstEnd);
  });

  it('concurrent: plugins start in priority order (ARCH s3 "ascending priority")', async () => {
    const m = newManager();
    const t = new Trail();
    for (const [n, p] of [
      ['c3', 3],
      ['c1', 1],
      ['c2', 2],
    ] as const) {
      probe(m, t, n, { mode: 'concurrent', priority: p }, async () => {
        await sleep(1);
        return undefined;
      });
    }
    await m.initialize();
    await run(m, 'tool_pre_invoke', {});
    expect(t.ran).toEqual(['c1', 'c2', 'c3']);
  });

  it('concurrent: every plugin sees the same snapshot — the payload after transform — whatever its siblings return (ARCH s3 "on one snapshot")', async () => {
    const m = newManager();
    const seen: Record<string, unknown> = {};
    probe(m, new Trail(), 'tra', { mode: 'transform' }, (p) => ({ modifiedPayload: { ...p, n: 2 } }));
    probe(m, new Trail(), 'fast', { mode: 'concurrent', priority: 1 }, (p) => {
      seen.fast = { ...p };
      return { modifiedPayload: { ...p, n: 99 } };
    });
    probe(m, new Trail(), 'slow', { mode: 'concurrent', priority: 2 }, async (p) => {
      await sleep(5);
      seen.slow = { ...p };
      return undefined;
    });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', { n: 1 });
    expect(seen).toEqual({ fast: { n: 2 }, slow: { n: 2 } });
    expect(r.modifiedPayload).toEqual({ n: 2 });
  });
});

describe('concurrent: the first deny to complete wins and aborts the rest (ARCH s3 phase table)', () => {
  it('concurrent: the first deny to complete wins, not the first by priority (ARCH s3 "the first deny to complete wins")', async () => {
    const m = newManager();
    probe(m, new Trail(), 'slowDeny', { mode: 'concurrent', priority: 1 }, async () => {
      await sleep(40);
      return { continueProcessing: false, violation: { code: 'SLOW', reason: 'slow' } };
    });
    probe(m, new Trail(), 'fastDeny', { mode: 'concurrent', priority: 2 }, async () => {
      await sleep(2);
      return { continueProcessing: false, violation: { code: 'FAST', reason: 'fast' }, retryDelayMs: 7 };
    });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(r.violation).toMatchObject({ code: 'FAST', pluginName: 'fastDeny' });
    expect(r.retryDelayMs).toBe(7);
  });

  it('concurrent: a deny aborts the siblings\' signals and their later writes never reach result, context table or caller (ARCH s3 "aborts the rest"; DEVIATIONS general rules)', async () => {
    const m = newManager();
    let siblingReason: unknown;
    let siblingDone = false;
    probe(m, new Trail(), 'denier', { mode: 'concurrent' }, async () => {
      await sleep(5);
      return { continueProcessing: false, violation: { code: 'NO', reason: 'no' } };
    });
    probe(m, new Trail(), 'sibling', { mode: 'concurrent' }, async (_p, ctx) => {
      siblingReason = await Promise.race([aborted(ctx.signal), sleep(200).then(() => 'not aborted')]);
      ctx.globalContext.state.late = 1;
      ctx.globalContext.metadata.late = 1;
      ctx.state.late = 1;
      siblingDone = true;
      return { metadata: { late: 1 } };
    });
    await m.initialize();
    const g = gctx('req');
    const r = await run(m, 'tool_pre_invoke', {}, { globalContext: g });
    expect(r.continueProcessing).toBe(false);
    await until(() => siblingDone, 'the aborted sibling finished');
    expect(siblingReason).not.toBe('not aborted');
    expect(r.metadata).toEqual({});
    expect(r.errors).toEqual([]);
    expect(g.state).toEqual({});
    expect(g.metadata).toEqual({});
    expect(r.contextTable?.toJSON().sibling?.state ?? {}).toEqual({});
  });

  it('concurrent: writes from plugins that completed before the halt are kept (ARCH s3 phase table "from plugins that completed before the halt")', async () => {
    const m = newManager();
    probe(m, new Trail(), 'early', { mode: 'concurrent' }, async (_p, ctx) => {
      await sleep(1);
      ctx.globalContext.state.early = true;
      ctx.state.local = 'kept';
      return { metadata: { early: true } };
    });
    probe(m, new Trail(), 'denier', { mode: 'concurrent' }, async () => {
      await sleep(30);
      return { continueProcessing: false };
    });
    await m.initialize();
    const g = gctx('req');
    const r = await run(m, 'tool_pre_invoke', {}, { globalContext: g });
    expect(r.continueProcessing).toBe(false);
    expect(r.violation?.pluginName).toBe('denier');
    expect(r.metadata).toEqual({ early: true });
    expect(g.state).toEqual({ early: true });
    expect(r.contextTable?.toJSON().early?.state).toEqual({ local: 'kept' });
  });

  it("concurrent: the denier's own global writes and metadata are kept (ARCH s3 phase table; Python merges on deny)", async () => {
    const m = newManager();
    probe(m, new Trail(), 'denier', { mode: 'concurrent' }, async (_p, ctx) => {
      ctx.globalContext.state.denied_by = 'denier';
      return { continueProcessing: false, metadata: { reason: 'x' } };
    });
    await m.initialize();
    const g = gctx('req');
    const r = await run(m, 'tool_pre_invoke', {}, { globalContext: g });
    expect(g.state).toEqual({ denied_by: 'denier' });
    expect(r.metadata).toEqual({ reason: 'x' });
  });

  it('short_circuit_on_deny false: siblings are not aborted, all complete, the first deny still wins (ARCH s3 settings table)', async () => {
    const m = newManager({ shortCircuitOnDeny: false });
    let siblingAborted: boolean | undefined;
    probe(m, new Trail(), 'denier', { mode: 'concurrent', priority: 1 }, async () => {
      await sleep(2);
      return { continueProcessing: false, violation: { code: 'FIRST', reason: 'first' } };
    });
    probe(m, new Trail(), 'slowDeny', { mode: 'concurrent', priority: 2 }, async () => {
      await sleep(20);
      return { continueProcessing: false, violation: { code: 'SECOND', reason: 'second' } };
    });
    probe(m, new Trail(), 'slowAllow', { mode: 'concurrent', priority: 3 }, async (_p, ctx) => {
      await sleep(30);
      siblingAborted = ctx.signal.aborted;
      ctx.globalContext.state.slow = true;
      return { metadata: { slow: true } };
    });
    await m.initialize();
    const g = gctx('req');
    const r = await run(m, 'tool_pre_invoke', {}, { globalContext: g });
    expect(r.continueProcessing).toBe(false);
    expect(r.violation).toMatchObject({ code: 'FIRST', pluginName: 'denier' });
    expect(siblingAborted).toBe(false);
    expect(r.metadata).toEqual({ slow: true });
    expect(g.state).toEqual({ slow: true });
  });

  it('short_circuit_on_deny is read from YAML plugin_settings (ARCH s3 settings table)', async () => {
    const m = newManager();
    await m.loadConfig({ plugin_settings: { short_circuit_on_deny: false } });
    expect(m.settings.shortCircuitOnDeny).toBe(false);
    const d = newManager();
    expect(d.settings.shortCircuitOnDeny).toBe(true);
  });
});

describe('concurrent: merge order (ARCH s3 "More decisions")', () => {
  it('concurrent metadata and global-state writes merge in completion order, not priority order (ARCH s3 "merge in completion order")', async () => {
    const m = newManager();
    for (const [name, prio, ms] of [
      ['firstByPriority', 1, 30],
      ['secondByPriority', 2, 2],
    ] as const) {
      probe(m, new Trail(), name, { mode: 'concurrent', priority: prio }, async (_p, ctx) => {
        await sleep(ms);
        ctx.globalContext.state.last = name;
        return { metadata: { last: name } };
      });
    }
    await m.initialize();
    const g = gctx('req');
    const r = await run(m, 'tool_pre_invoke', {}, { globalContext: g });
    expect(r.metadata).toEqual({ last: 'firstByPriority' });
    expect(g.state).toEqual({ last: 'firstByPriority' });
  });
});

describe('execution_pool: max concurrent-mode plugins in flight per invoke (ARCH s3 settings table)', () => {
  async function maxInFlight(
    pool: number | undefined,
    plugins: number,
  ): Promise<{ max: number; order: string[] }> {
    const m = newManager(pool === undefined ? {} : { executionPool: pool });
    let inflight = 0;
    let max = 0;
    const order: string[] = [];
    for (let i = 0; i < plugins; i++) {
      probe(m, new Trail(), `c${i}`, { mode: 'concurrent', priority: plugins - i }, async () => {
        order.push(`c${i}`);
        inflight++;
        max = Math.max(max, inflight);
        await sleep(5);
        inflight--;
        return undefined;
      });
    }
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(r.continueProcessing).toBe(true);
    return { max, order };
  }

  it('execution_pool 1 runs concurrent plugins one at a time, in priority order (ARCH s3 settings table)', async () => {
    const { max, order } = await maxInFlight(1, 4);
    expect(max).toBe(1);
    expect(order).toEqual(['c3', 'c2', 'c1', 'c0']);
  });

  it('execution_pool 0 is unbounded (ARCH s3 settings table "0 = unbounded")', async () => {
    const { max } = await maxInFlight(0, 14);
    expect(max).toBe(14);
  });

  it('execution_pool defaults to 10 plugins in flight (ARCH s3 settings table)', async () => {
    const { max } = await maxInFlight(undefined, 13);
    expect(max).toBe(10);
  });

  it('execution_pool 2 keeps at most two in flight and still runs them all (ARCH s3 settings table)', async () => {
    const { max, order } = await maxInFlight(2, 5);
    expect(max).toBe(2);
    expect(order).toHaveLength(5);
  });

  it('execution_pool is per invoke: two invocations with pool 1 still run their concurrent plugins at the same time (ARCH s3 settings table "per invoke")', async () => {
    const m = newManager({ executionPool: 1 });
    const t = new Trail();
    probe(m, t, 'c', { mode: 'concurrent' }, async (p) => {
      t.add(`start:${p.i}`);
      await sleep(30);
      t.add(`end:${p.i}`);
      return undefined;
    });
    await m.initialize();
    await Promise.all([run(m, 'tool_pre_invoke', { i: 1 }), run(m, 'tool_pre_invoke', { i: 2 })]);
    expect(t.indexOf('start:2')).toBeLessThan(t.indexOf('end:1'));
  });

  it('a concurrent deny under a bounded pool: plugins not yet started never run (ARCH s3 "aborts the rest")', async () => {
    const m = newManager({ executionPool: 1 });
    const t = new Trail();
    probe(m, t, 'denier', { mode: 'concurrent', priority: 1 }, async () => ({ continueProcessing: false }));
    probe(m, t, 'queued', { mode: 'concurrent', priority: 2 });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(r.violation?.pluginName).toBe('denier');
    expect(t.ran).toEqual(['denier']);
    expect(Object.keys(r.contextTable?.toJSON() ?? {})).toEqual(['denier']);
  });

  it('a concurrent on_error fail halts and aborts the siblings even with short_circuit_on_deny false (DEVIATIONS "on_error fail from a concurrent plugin halts and aborts its siblings")', async () => {
    const m = newManager({ shortCircuitOnDeny: false });
    let siblingSignal: AbortSignal | undefined;
    probe(m, new Trail(), 'broken', { mode: 'concurrent' }, async () => {
      await sleep(2);
      throw new Error('x');
    });
    probe(m, new Trail(), 'sibling', { mode: 'concurrent' }, async (_p, ctx) => {
      siblingSignal = ctx.signal;
      await sleep(60);
      return { metadata: { late: true } };
    });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(r.violation).toMatchObject({ code: 'plugin_error', pluginName: 'broken' });
    expect(siblingSignal?.aborted).toBe(true);
    expect(r.metadata).toEqual({});
  });

  it('a concurrent timeout under on_error fail halts with plugin_timeout and aborts the siblings (ARCH s3 "on_error fail"; s4 row "concurrent error with fail")', async () => {
    const m = newManager();
    let siblingSignal: AbortSignal | undefined;
    probe(m, new Trail(), 'slow', { mode: 'concurrent', timeout: 0.02 }, async () => {
      await sleep(300);
      return undefined;
    });
    probe(m, new Trail(), 'sibling', { mode: 'concurrent', timeout: 5 }, async (_p, ctx) => {
      siblingSignal = ctx.signal;
      await sleep(300);
      return undefined;
    });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(r.violation).toMatchObject({ code: 'plugin_timeout', pluginName: 'slow' });
    expect(siblingSignal?.aborted).toBe(true);
  });
});
