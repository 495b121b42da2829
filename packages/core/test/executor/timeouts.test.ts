/**
 * ARCHITECTURE.md section 3 "Timeouts" rule, "Further decisions" (seconds, fractions) and "More
 * decisions" (timeouts in-thread: one deadline, lazily created signals, synchronous overrun
 * discarded); section 4 row "per-plugin timeout".
 */
import { describe, expect, it } from 'vitest';
import { CpexError, IN_PROCESS_HOST_CAPABILITIES } from '../../src/index.js';
import { aborted, gctx, newManager, probe, sleep, spin, Trail, run, until } from './helpers.js';

describe('plugin_timeout and per-plugin timeout (ARCH s3 "Timeouts"; s4 row "per-plugin timeout")', () => {
  it('plugin_timeout defaults to 30 seconds and applies to every plugin without its own timeout (ARCH s3 settings table)', async () => {
    const m = newManager();
    probe(m, new Trail(), 'p');
    await m.initialize();
    expect(m.settings.pluginTimeout).toBe(30);
    expect(m.lineup('tool_pre_invoke').sequential[0]?.timeout).toBe(30);
  });

  it('a plugin exceeding plugin_timeout (fractions of a second allowed) halts with plugin_timeout naming it under on_error fail (ARCH s3 "Timeouts"; "Further decisions" fractions)', async () => {
    const m = newManager({ pluginTimeout: 0.03 });
    const t = new Trail();
    probe(m, t, 'slow', {}, async () => {
      await sleep(300);
      return undefined;
    });
    probe(m, t, 'after', { priority: 200 });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(r.continueProcessing).toBe(false);
    expect(r.violation?.code).toBe('plugin_timeout');
    expect(r.violation?.pluginName).toBe('slow');
    expect(r.errors).toEqual([expect.objectContaining({ pluginName: 'slow', code: 'plugin_timeout' })]);
    expect(t.ran).toEqual(['slow']);
  });

  it('the per-plugin `timeout` overrides plugin_timeout in both directions (ARCH s3 "a per-plugin timeout override")', async () => {
    const m = newManager({ pluginTimeout: 0.03 });
    probe(m, new Trail(), 'patient', { timeout: 2, onError: 'ignore' }, async () => {
      await sleep(60);
      return { metadata: { patient: 'done' } };
    });
    probe(m, new Trail(), 'strict', { timeout: 0.02, onError: 'ignore', priority: 200 }, async () => {
      await sleep(300);
      return { metadata: { strict: 'done' } };
    });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(r.metadata).toEqual({ patient: 'done' });
    expect(r.errors).toEqual([expect.objectContaining({ pluginName: 'strict', code: 'plugin_timeout' })]);
    const lineup = m.lineup('tool_pre_invoke').sequential;
    expect(lineup.map((e) => [e.name, e.timeout])).toEqual([
      ['patient', 2],
      ['strict', 0.02],
    ]);
  });

  it('plugin_timeout and the per-plugin timeout come from YAML too, in seconds with fractions (ARCH s3 "Further decisions")', async () => {
    const m = newManager();
    m.registerFactory('sleepy', {
      async create(entry) {
        const { pluginToInstance } = await import('../../src/index.js');
        return pluginToInstance({
          name: entry.name,
          async tool_pre_invoke() {
            await sleep(Number(entry.config?.ms));
            return { metadata: { [entry.name]: true } };
          },
        });
      },
    });
    await m.loadConfigText(
      [
        'plugin_settings: {plugin_timeout: 0.15}',
        'plugins:',
        '  - {name: quick, kind: sleepy, hooks: [tool_pre_invoke], on_error: ignore, config: {ms: 1}}',
        '  - {name: global_limit, kind: sleepy, hooks: [tool_pre_invoke], on_error: ignore, config: {ms: 400}}',
        '  - {name: own_limit, kind: sleepy, hooks: [tool_pre_invoke], on_error: ignore, timeout: 1.5, config: {ms: 60}}',
      ].join('\n'),
    );
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(r.metadata).toEqual({ quick: true, own_limit: true });
    expect(r.errors.map((e) => [e.pluginName, e.code])).toEqual([['global_limit', 'plugin_timeout']]);
  });

  it('on_error ignore: a timed-out plugin is recorded as plugin_timeout and the pipeline continues (ARCH s3 "ignore: recorded in errors, continue")', async () => {
    const m = newManager();
    const t = new Trail();
    probe(m, t, 'slow', { timeout: 0.02, onError: 'ignore' }, async () => {
      await sleep(300);
      return undefined;
    });
    probe(m, t, 'next', { priority: 200 }, () => ({ metadata: { next: 1 } }));
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(r.continueProcessing).toBe(true);
    expect(r.errors).toEqual([expect.objectContaining({ pluginName: 'slow', code: 'plugin_timeout' })]);
    expect(r.metadata).toEqual({ next: 1 });
  });
});

describe('cooperative in-thread timeouts (ARCH s3 "In-thread timeouts are cooperative"; "More decisions")', () => {
  it('at the deadline the manager stops waiting and aborts the plugin\'s signal (ARCH s3 "aborts the plugin\'s signal")', async () => {
    const m = newManager();
    let reason: unknown;
    let sawAbort = false;
    probe(m, new Trail(), 'cooperative', { timeout: 0.03 }, async (_p, ctx) => {
      reason = await aborted(ctx.signal);
      sawAbort = ctx.signal.aborted;
      return undefined;
    });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(r.violation).toMatchObject({ code: 'plugin_timeout', pluginName: 'cooperative' });
    await until(() => sawAbort, 'the plugin saw its abort');
    expect(reason).toBeInstanceOf(CpexError);
    expect((reason as CpexError).code).toBe('CPEX_ERR_PLUGIN_TIMEOUT');
  });

  it('a signal taken late, after the deadline already passed, is already aborted (ARCH s3 "More decisions": lazily created AbortSignals)', async () => {
    const m = newManager();
    let lateSignal: AbortSignal | undefined;
    probe(m, new Trail(), 'late', { timeout: 0.02, onError: 'ignore' }, async (_p, ctx) => {
      await sleep(80);
      lateSignal = ctx.signal;
      return undefined;
    });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(r.errors[0]?.code).toBe('plugin_timeout');
    await until(() => lateSignal !== undefined, 'the late plugin took its signal');
    expect(lateSignal?.aborted).toBe(true);
  });

  it('a timed-out plugin\'s late result and writes never reach the result, payload, context table or caller context (ARCH s3 "stops waiting")', async () => {
    const m = newManager();
    let finished = false;
    probe(m, new Trail(), 'ignoresSignal', { timeout: 0.02, onError: 'ignore' }, async (p, ctx) => {
      await sleep(60);
      ctx.globalContext.state.late = true;
      ctx.state.late = true;
      finished = true;
      return { modifiedPayload: { ...p, late: true }, metadata: { late: true } };
    });
    await m.initialize();
    const g = gctx('r');
    const r = await run(m, 'tool_pre_invoke', { q: 1 }, { globalContext: g });
    await until(() => finished, 'the timed-out plugin finished');
    expect(r.modifiedPayload).toBeNull();
    expect(r.payloadModified).toBe(false);
    expect(r.metadata).toEqual({});
    expect(g.state).toEqual({});
    expect(r.contextTable?.toJSON().ignoresSignal?.state).toEqual({});
  });

  it("a timed-out plugin's promise settling late never settles the next plugin's call (the invocation's calls share one pair of promise callbacks: call.ts SettleListener)", async () => {
    const m = newManager();
    let releaseLate!: (r: { continueProcessing: boolean }) => void;
    let lateSettled = false;
    probe(m, new Trail(), 'late', { timeout: 0.02, onError: 'ignore' }, () => {
      const p = new Promise<{ continueProcessing: boolean }>((resolve) => {
        releaseLate = resolve;
      });
      return p.then((r) => {
        lateSettled = true;
        return r;
      });
    });
    probe(m, new Trail(), 'next', { priority: 200 }, async (p) => {
      // The timed-out plugin's promise settles (with a deny) while this call is in flight.
      releaseLate({ continueProcessing: false });
      await until(() => lateSettled, 'the timed-out plugin settled');
      await sleep(1);
      return { modifiedPayload: { ...(p as object), next: true } };
    });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', { q: 1 });
    expect(r.continueProcessing).toBe(true);
    expect(r.modifiedPayload).toEqual({ q: 1, next: true });
    expect(r.errors).toEqual([expect.objectContaining({ pluginName: 'late', code: 'plugin_timeout' })]);
  });

  it("a timed-out call's late settle never reaches a later invocation (free calls are pooled across invocations: call.ts, pipeline.ts #finish)", async () => {
    const m = newManager();
    const releases: Array<(r: { continueProcessing: boolean }) => void> = [];
    let call = 0;
    probe(m, new Trail(), 'late', { timeout: 0.02, onError: 'ignore' }, async (p) => {
      // The first invocation's call never settles in time; later ones answer at once.
      if (call++ === 0) return new Promise<{ continueProcessing: boolean }>((r) => releases.push(r));
      return { modifiedPayload: { ...(p as object), late: call } };
    });
    probe(m, new Trail(), 'next', { priority: 200 }, async (p) => ({
      modifiedPayload: { ...(p as object), next: true },
    }));
    await m.initialize();
    const first = await run(m, 'tool_pre_invoke', { q: 0 });
    expect(first.errors).toEqual([expect.objectContaining({ pluginName: 'late', code: 'plugin_timeout' })]);
    // Later invocations run while the first one's promise settles (with a deny) behind them.
    const later = run(m, 'tool_pre_invoke', { q: 1 });
    releases[0]!({ continueProcessing: false });
    const again = await Promise.all([later, run(m, 'tool_pre_invoke', { q: 2 })]);
    expect(again.map((r) => r.continueProcessing)).toEqual([true, true]);
    expect(again.map((r) => r.errors)).toEqual([[], []]);
    expect(again.map((r) => r.modifiedPayload)).toEqual([
      { q: 1, late: 2, next: true },
      { q: 2, late: 3, next: true },
    ]);
  });

  it("interleaved invocations never see each other's calls (pooled calls carry no state across invocations)", async () => {
    const m = newManager();
    for (const [i, name] of ['a', 'b', 'c'].entries()) {
      probe(m, new Trail(), name, { priority: 10 + i }, async (p, ctx) => {
        await sleep((p as { q: number }).q % 3);
        ctx.setState('seen', (p as { q: number }).q);
        return {
          modifiedPayload: { ...(p as object), [name]: (p as { q: number }).q },
          metadata: { [name]: (p as { q: number }).q },
        };
      });
    }
    await m.initialize();
    const rs = await Promise.all(Array.from({ length: 40 }, (_, q) => run(m, 'tool_pre_invoke', { q })));
    rs.forEach((r, q) => {
      expect(r.modifiedPayload).toEqual({ q, a: q, b: q, c: q });
      expect(r.metadata).toEqual({ a: q, b: q, c: q });
      expect(r.contextTable?.get('b')?.state).toEqual({ seen: q });
    });
  });

  it('a synchronous handler cannot be pre-empted: if it overruns, its result is discarded as timed out (ARCH s3 "More decisions")', async () => {
    const m = newManager();
    probe(m, new Trail(), 'busy', { timeout: 0.02, onError: 'ignore' }, (p) => {
      spin(60);
      return { modifiedPayload: { ...p, busy: true }, metadata: { busy: true } };
    });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', { q: 1 });
    expect(r.errors).toEqual([expect.objectContaining({ pluginName: 'busy', code: 'plugin_timeout' })]);
    expect(r.modifiedPayload).toBeNull();
    expect(r.metadata).toEqual({});
  });

  it('a synchronous overrun under on_error fail halts with plugin_timeout (ARCH s3 "More decisions")', async () => {
    const m = newManager();
    probe(m, new Trail(), 'busy', { timeout: 0.02 }, () => {
      spin(50);
      return undefined;
    });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(r.violation).toMatchObject({ code: 'plugin_timeout', pluginName: 'busy' });
  });

  it('timeouts are enforced in every phase that waits: transform, audit, concurrent and fire_and_forget (ARCH s3 "Timeouts")', async () => {
    const m = newManager({ pluginTimeout: 0.02 });
    const slow = async () => {
      await sleep(300);
      return undefined;
    };
    probe(m, new Trail(), 'tra', { mode: 'transform', onError: 'ignore' }, slow);
    probe(m, new Trail(), 'aud', { mode: 'audit' }, slow);
    probe(m, new Trail(), 'con', { mode: 'concurrent', onError: 'ignore' }, slow);
    probe(m, new Trail(), 'faf', { mode: 'fire_and_forget' }, slow);
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(r.continueProcessing).toBe(true);
    expect(r.errors.map((e) => [e.pluginName, e.code])).toEqual([
      ['tra', 'plugin_timeout'],
      ['aud', 'plugin_timeout'],
      ['con', 'plugin_timeout'],
    ]);
    const bg = await r.background.wait();
    expect(bg.map((e) => [e.pluginName, e.code])).toEqual([['faf', 'plugin_timeout']]);
  });

  it('many concurrent invocations with short timeouts each time out on their own deadline (ARCH s3 "one deadline per invocation")', async () => {
    const m = newManager();
    probe(m, new Trail(), 'slowOrFast', { timeout: 0.15, onError: 'ignore' }, async (p) => {
      await sleep(p.slow ? 600 : 1);
      return { metadata: { ok: p.i } };
    });
    await m.initialize();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => run(m, 'tool_pre_invoke', { i, slow: i % 2 === 0 })),
    );
    results.forEach((r, i) => {
      if (i % 2 === 0) {
        expect(r.errors.map((e) => e.code)).toEqual(['plugin_timeout']);
        expect(r.metadata).toEqual({});
      } else {
        expect(r.errors).toEqual([]);
        expect(r.metadata).toEqual({ ok: i });
      }
    });
  });

  it('the in-process host reports cooperative timeouts — it never claims pre-emption (ARCH s3 "never claim pre-emption where it is cooperative")', async () => {
    expect(IN_PROCESS_HOST_CAPABILITIES.supportsTimeouts).toBe('cooperative');
    expect(IN_PROCESS_HOST_CAPABILITIES.isolated).toBe(false);
    const { pluginToInstance } = await import('../../src/index.js');
    expect(pluginToInstance({ name: 'p' }).host.supportsTimeouts).toBe('cooperative');
  });

  it('on_error disable on a timeout switches the plugin off for later invocations (ARCH s3 "disable")', async () => {
    const m = newManager();
    let calls = 0;
    probe(m, new Trail(), 'slow', { timeout: 0.02, onError: 'disable' }, async () => {
      calls++;
      await sleep(200);
      return undefined;
    });
    await m.initialize();
    const r1 = await run(m, 'tool_pre_invoke', {});
    const r2 = await run(m, 'tool_pre_invoke', {});
    expect(r1.errors.map((e) => e.code)).toEqual(['plugin_timeout']);
    expect(r2.errors).toEqual([]);
    expect(calls).toBe(1);
  });

  it('the timeout is per plugin call, not a budget for the whole pipeline: serial plugins each under their timeout never time out (ARCH s3 "per-plugin timeout")', async () => {
    const m = newManager({ pluginTimeout: 0.1 });
    for (let i = 1; i <= 4; i++) {
      probe(m, new Trail(), `p${i}`, { priority: i }, async () => {
        await sleep(40);
        return { metadata: { [`p${i}`]: true } };
      });
    }
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(r.errors).toEqual([]);
    expect(Object.keys(r.metadata)).toEqual(['p1', 'p2', 'p3', 'p4']);
  });

  it('AbortSignals are created lazily: plugins that never read context.signal cost no AbortController; reading it creates one (ARCH s3 "More decisions": lazily created AbortSignals)', async () => {
    const Original = globalThis.AbortController;
    let created = 0;
    class CountingAbortController extends Original {
      constructor() {
        super();
        created++;
      }
    }
    const m = newManager();
    probe(m, new Trail(), 'syncPass', { priority: 1 });
    probe(m, new Trail(), 'asyncPass', { priority: 2 }, async () => undefined);
    probe(m, new Trail(), 'conPass', { mode: 'concurrent' }, async () => undefined);
    await m.initialize();
    globalThis.AbortController = CountingAbortController;
    try {
      for (let i = 0; i < 10; i++) await run(m, 'tool_pre_invoke', {});
      expect(created).toBe(0);
      const reader = newManager();
      let aborted: boolean | undefined;
      probe(reader, new Trail(), 'reader', {}, (_p, ctx) => {
        aborted = ctx.signal.aborted;
        return undefined;
      });
      await reader.initialize();
      await run(reader, 'tool_pre_invoke', {});
      expect(aborted).toBe(false);
      expect(created).toBe(1);
    } finally {
      globalThis.AbortController = Original;
    }
  });
});
