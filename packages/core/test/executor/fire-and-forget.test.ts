/**
 * ARCHITECTURE.md section 3 rule "Fire-and-forget runs after the other phases (also when halted,
 * so denials can be audited), sees the final payload, gets an isolated context, is tracked so
 * shutdown() drains it, and its failures are reported by wait()", "Further decisions" (fresh local
 * context in the returned table; still scheduled under violationsAsExceptions) and the section 4
 * row "fire_and_forget when halted".
 */
import { describe, expect, it } from 'vitest';
import { PluginViolationError } from '../../src/index.js';
import { deferred, gctx, newManager, probe, sleep, Trail, run } from './helpers.js';

describe('fire_and_forget (ARCH s3 rule "Fire-and-forget ...")', () => {
  it('fire_and_forget: runs after every other phase has finished (ARCH s3 "runs after the other phases")', async () => {
    const m = newManager();
    const t = new Trail();
    probe(m, t, 'faf', { mode: 'fire_and_forget', priority: 1 });
    probe(m, t, 'con', { mode: 'concurrent', priority: 50 }, async () => {
      await sleep(10);
      t.add('con:end');
      return undefined;
    });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    await r.background.wait();
    expect(t.events).toEqual(['con', 'con:end', 'faf']);
  });

  it('fire_and_forget: does not delay the pipeline result; background.wait() resolves when it settles (ARCH s3 "background, tracked")', async () => {
    const m = newManager();
    const gate = deferred();
    let finished = false;
    probe(m, new Trail(), 'faf', { mode: 'fire_and_forget' }, async () => {
      await gate.promise;
      finished = true;
      return undefined;
    });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(finished).toBe(false);
    expect(r.continueProcessing).toBe(true);
    const waiting = r.background.wait();
    gate.resolve();
    expect(await waiting).toEqual([]);
    expect(finished).toBe(true);
    expect(r.background.pending).toBe(0);
  });

  it('fire_and_forget: runs when a sequential plugin halted, so denials can be audited (ARCH s3 "also when halted"; s4 row "fire_and_forget when halted")', async () => {
    const m = newManager();
    const t = new Trail();
    probe(m, t, 'denier', {}, () => ({ continueProcessing: false, violation: { code: 'NO', reason: 'no' } }));
    probe(m, t, 'auditor', { mode: 'fire_and_forget' });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    await r.background.wait();
    expect(r.continueProcessing).toBe(false);
    expect(t.ran).toEqual(['denier', 'auditor']);
  });

  it('fire_and_forget: runs when a concurrent plugin halted or failed (ARCH s3 "also when halted")', async () => {
    const m = newManager();
    const t = new Trail();
    probe(m, t, 'conFail', { mode: 'concurrent' }, async () => {
      throw new Error('nope');
    });
    probe(m, t, 'auditor', { mode: 'fire_and_forget' });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    await r.background.wait();
    expect(r.violation?.code).toBe('plugin_error');
    expect(t.ran).toEqual(['conFail', 'auditor']);
  });

  it('fire_and_forget: sees the final payload — chained through sequential and transform (ARCH s3 "sees the final payload"; s4 row)', async () => {
    const m = newManager();
    let saw: unknown;
    probe(m, new Trail(), 'seq', {}, (p) => ({ modifiedPayload: { ...p, trail: 'seq' } }));
    probe(m, new Trail(), 'tra', { mode: 'transform' }, (p) => ({
      modifiedPayload: { ...p, trail: `${p.trail}>tra` },
    }));
    probe(m, new Trail(), 'faf', { mode: 'fire_and_forget' }, (p) => {
      saw = JSON.parse(JSON.stringify(p));
      return undefined;
    });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', { x: 1 });
    await r.background.wait();
    expect(saw).toEqual({ x: 1, trail: 'seq>tra' });
  });

  it('fire_and_forget: after a halt it sees the payload chained before the halting plugin (ARCH s3 "sees the final payload"; DEVIATIONS scenario 03)', async () => {
    const m = newManager();
    let saw: unknown;
    probe(m, new Trail(), 'first', { priority: 1 }, (p) => ({ modifiedPayload: { ...p, trail: 'first' } }));
    probe(m, new Trail(), 'denier', { priority: 2 }, (p) => ({
      continueProcessing: false,
      modifiedPayload: { ...p, trail: 'denier' },
    }));
    probe(m, new Trail(), 'faf', { mode: 'fire_and_forget' }, (p) => {
      saw = JSON.parse(JSON.stringify(p));
      return undefined;
    });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', { q: 1 });
    await r.background.wait();
    expect(saw).toEqual({ q: 1, trail: 'first' });
  });

  it('fire_and_forget: gets an isolated global context — its writes never reach the caller, even after wait() (ARCH s3 "gets an isolated context")', async () => {
    const m = newManager();
    let sawGlobal: unknown;
    probe(m, new Trail(), 'seq', {}, (_p, ctx) => {
      ctx.globalContext.state.fromSeq = 1;
      return undefined;
    });
    probe(m, new Trail(), 'faf', { mode: 'fire_and_forget' }, async (_p, ctx) => {
      await sleep(1);
      sawGlobal = { ...ctx.globalContext.state };
      ctx.globalContext.state.fromFaf = 1;
      ctx.globalContext.metadata.fromFaf = 1;
      return undefined;
    });
    await m.initialize();
    const g = gctx('r1');
    const r = await run(m, 'tool_pre_invoke', {}, { globalContext: g });
    await r.background.wait();
    expect(sawGlobal).toEqual({ fromSeq: 1 });
    expect(g.state).toEqual({ fromSeq: 1 });
    expect(g.metadata).toEqual({});
  });

  it('fire_and_forget: a fresh local context every invocation, even when the table is passed back (ARCH s3 "Further decisions": fresh local context per invocation)', async () => {
    const m = newManager();
    const seen: unknown[] = [];
    probe(m, new Trail(), 'faf', { mode: 'fire_and_forget' }, (_p, ctx) => {
      seen.push({ ...ctx.state });
      ctx.state.count = ((ctx.state.count as number | undefined) ?? 0) + 1;
      return undefined;
    });
    await m.initialize();
    const r1 = await run(m, 'tool_pre_invoke', {}, { globalContext: gctx('same') });
    await r1.background.wait();
    const r2 = await run(
      m,
      'tool_pre_invoke',
      {},
      { globalContext: gctx('same'), contextTable: r1.contextTable },
    );
    await r2.background.wait();
    expect(seen).toEqual([{}, {}]);
    expect(r2.contextTable?.toJSON().faf?.state).toEqual({ count: 1 });
  });

  it('fire_and_forget: its entry is in the returned table at once and filled in when its work completes (ARCH s2 ContextTable; s3 "Further decisions")', async () => {
    const m = newManager();
    const gate = deferred();
    probe(m, new Trail(), 'faf', { mode: 'fire_and_forget' }, async (_p, ctx) => {
      await gate.promise;
      ctx.state.done = true;
      ctx.metadata.note = 'bg';
      return undefined;
    });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(Object.keys(r.contextTable?.toJSON() ?? {})).toEqual(['faf']);
    expect(r.contextTable?.toJSON().faf).toEqual({ state: {}, metadata: {} });
    gate.resolve();
    await r.background.wait();
    expect(r.contextTable?.toJSON().faf).toEqual({ state: { done: true }, metadata: { note: 'bg' } });
  });

  it('fire_and_forget: failures and timeouts are reported by background.wait() as {pluginName, code, message} (ARCH s3 "its failures are reported by wait()")', async () => {
    const m = newManager();
    probe(m, new Trail(), 'thrower', { mode: 'fire_and_forget', priority: 1 }, () => {
      throw new Error('bg broke');
    });
    probe(m, new Trail(), 'sleeper', { mode: 'fire_and_forget', priority: 2, timeout: 0.02 }, async () => {
      await sleep(300);
      return undefined;
    });
    probe(m, new Trail(), 'fine', { mode: 'fire_and_forget', priority: 3 });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(r.errors).toEqual([]);
    const errors = await r.background.wait();
    const byName = Object.fromEntries(errors.map((e) => [e.pluginName, e]));
    expect(Object.keys(byName).sort()).toEqual(['sleeper', 'thrower']);
    expect(byName.thrower).toMatchObject({ code: 'plugin_error' });
    expect(byName.thrower?.message).toContain('bg broke');
    expect(byName.sleeper).toMatchObject({ code: 'plugin_timeout' });
    expect(typeof byName.sleeper?.message).toBe('string');
  });

  it('fire_and_forget: background.wait() can be called more than once and returns the same failures (ARCH s2 "a handle on the background work")', async () => {
    const m = newManager();
    probe(m, new Trail(), 'thrower', { mode: 'fire_and_forget' }, () => {
      throw new Error('once');
    });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    const a = await r.background.wait();
    const b = await r.background.wait();
    expect(a).toEqual(b);
    expect(a).toHaveLength(1);
  });

  it('fire_and_forget: tracked, so shutdown() drains in-flight work before shutting plugins down (ARCH s3 "tracked so shutdown() drains it")', async () => {
    const m = newManager();
    const t = new Trail();
    m.register(
      {
        name: 'bg',
        async tool_pre_invoke() {
          await sleep(40);
          t.add('bg:done');
          return undefined;
        },
        shutdown() {
          t.add('bg:shutdown');
        },
      },
      { mode: 'fire_and_forget' },
    );
    await m.initialize();
    await run(m, 'tool_pre_invoke', {});
    await run(m, 'tool_pre_invoke', {});
    expect(t.events).toEqual([]);
    await m.shutdown();
    expect(t.events).toEqual(['bg:done', 'bg:done', 'bg:shutdown']);
  });

  it('fire_and_forget: still scheduled when violationsAsExceptions throws (ARCH s3 "Further decisions")', async () => {
    const m = newManager();
    const t = new Trail();
    probe(m, t, 'denier', {}, () => ({ continueProcessing: false }));
    probe(m, t, 'auditor', { mode: 'fire_and_forget' });
    await m.initialize();
    const err = await run(m, 'tool_pre_invoke', {}, { violationsAsExceptions: true }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PluginViolationError);
    await (err as PluginViolationError).result.background.wait();
    expect(t.ran).toEqual(['denier', 'auditor']);
  });

  it('fire_and_forget: with no fire_and_forget plugin, background.wait() resolves to [] at once (ARCH s2 PipelineResult.background)', async () => {
    const m = newManager();
    probe(m, new Trail(), 'seq');
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(await r.background.wait()).toEqual([]);
    expect(r.background.pending).toBe(0);
  });
  it('fire_and_forget: sees the global context as it was when it was scheduled, not what the caller changed after invoke returned (Python prepares its context when it schedules it)', async () => {
    const m = newManager();
    const gate = deferred();
    let seen: unknown;
    probe(m, new Trail(), 'faf', { mode: 'fire_and_forget' }, async (_p, ctx) => {
      await gate.promise;
      seen = { k: ctx.globalContext.state.k, m: ctx.globalContext.metadata.m };
      return undefined;
    });
    await m.initialize();
    const g = gctx('req', { state: { k: 'at-invoke' }, metadata: { m: 1 } });
    const r = await run(m, 'tool_pre_invoke', {}, { globalContext: g });
    g.state.k = 'changed-after-return';
    g.metadata.m = 2;
    gate.resolve();
    expect(await r.background.wait()).toEqual([]);
    expect(seen).toEqual({ k: 'at-invoke', m: 1 });
  });
});
