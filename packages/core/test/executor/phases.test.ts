/**
 * ARCHITECTURE.md section 3: the fixed phase order, priority ordering, and the phase table
 * (runs / may block / may modify / context writes kept), row by row.
 */
import { describe, expect, it } from 'vitest';
import type { PluginEntry } from '../../src/index.js';
import { gctx, newManager, probe, recordingFactory, run, snapshot, Trail } from './helpers.js';

const PHASE_NAMES = ['sequential', 'transform', 'audit', 'concurrent', 'fire_and_forget'] as const;

describe('phase order and priority (ARCH s3 "Fixed order")', () => {
  it('phases run sequential → transform → audit → concurrent → fire_and_forget regardless of priority (ARCH s3 "Fixed order")', async () => {
    const m = newManager();
    const t = new Trail();
    // Priorities run against the phase order: the fire_and_forget plugin has the lowest number.
    const prio = { sequential: 500, transform: 400, audit: 300, concurrent: 200, fire_and_forget: 1 };
    for (const phase of [...PHASE_NAMES].reverse())
      probe(m, t, phase, { mode: phase, priority: prio[phase] });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', { name: 'x', args: {} });
    await r.background.wait();
    expect(t.ran).toEqual(['sequential', 'transform', 'audit', 'concurrent', 'fire_and_forget']);
  });

  it('within a phase plugins run by ascending priority (ARCH s3 "ascending priority")', async () => {
    const m = newManager();
    const t = new Trail();
    probe(m, t, 'p30', { priority: 30 });
    probe(m, t, 'p10', { priority: 10 });
    probe(m, t, 'p20', { priority: 20 });
    await m.initialize();
    await run(m, 'tool_pre_invoke', {});
    expect(t.ran).toEqual(['p10', 'p20', 'p30']);
  });

  it('priority ties keep registration (config) order (ARCH s3 "ties keep config order")', async () => {
    const m = newManager();
    const t = new Trail();
    for (const n of ['c', 'a', 'd', 'b']) probe(m, t, n, { priority: 7 });
    await m.initialize();
    await run(m, 'tool_pre_invoke', {});
    expect(t.ran).toEqual(['c', 'a', 'd', 'b']);
  });

  it('priority ties keep config order for plugins loaded from a config (ARCH s3 "ties keep config order")', async () => {
    const m = newManager();
    const t = new Trail();
    m.registerFactory('probe', recordingFactory(t));
    await m.loadConfig({
      plugins: ['zeta', 'alpha', 'mid'].map((name) => ({
        name,
        kind: 'probe',
        hooks: ['tool_pre_invoke'],
        priority: 5,
      })),
    });
    await m.initialize();
    await run(m, 'tool_pre_invoke', {});
    expect(t.ran).toEqual(['zeta', 'alpha', 'mid']);
  });

  it('the default priority is 100 (ARCH s3 "priority (default 100)")', async () => {
    const m = newManager();
    const t = new Trail();
    probe(m, t, 'p101', { priority: 101 });
    probe(m, t, 'default');
    probe(m, t, 'p99', { priority: 99 });
    await m.initialize();
    await run(m, 'tool_pre_invoke', {});
    expect(t.ran).toEqual(['p99', 'default', 'p101']);
    expect(m.lineup('tool_pre_invoke').sequential.find((e) => e.name === 'default')?.priority).toBe(100);
  });

  it('negative priorities sort before zero and positive ones, from code and from YAML (ARCH s3 "ascending priority")', async () => {
    const m = newManager();
    const t = new Trail();
    m.registerFactory('probe', recordingFactory(t));
    await m.loadConfigText(
      [
        'plugins:',
        '  - {name: zero, kind: probe, hooks: [tool_pre_invoke], priority: 0}',
        '  - {name: minus5, kind: probe, hooks: [tool_pre_invoke], priority: -5}',
      ].join('\n'),
    );
    probe(m, t, 'minus10', { priority: -10 });
    probe(m, t, 'plus1', { priority: 1 });
    await m.initialize();
    await run(m, 'tool_pre_invoke', {});
    expect(t.ran).toEqual(['minus10', 'minus5', 'zero', 'plus1']);
  });

  it('ordering is computed once at registration, never per call (ARCH s3 "Ordering is computed once per hook")', async () => {
    const m = newManager();
    const t = new Trail();
    let reads = 0;
    const entry = {
      name: 'b',
      get priority() {
        reads++;
        return 1;
      },
    } as Partial<PluginEntry>;
    probe(m, t, 'a', { priority: 2 });
    m.registerHook('tool_pre_invoke', () => void t.add('b'), entry);
    await m.initialize();
    const readsAfterRegistration = reads;
    for (let i = 0; i < 5; i++) await run(m, 'tool_pre_invoke', { i });
    expect(reads).toBe(readsAfterRegistration);
    expect(t.ran).toEqual(['b', 'a', 'b', 'a', 'b', 'a', 'b', 'a', 'b', 'a']);
    expect(m.hookOrder('tool_pre_invoke')).toEqual(['b', 'a']);
  });

  it('a plugin registered after initialize() joins the lineup at its priority (ARCH s3 "computed ... when plugins are registered")', async () => {
    const m = newManager();
    const t = new Trail();
    probe(m, t, 'p50', { priority: 50 });
    await m.initialize();
    probe(m, t, 'p10', { priority: 10 });
    await run(m, 'tool_pre_invoke', {});
    expect(t.ran).toEqual(['p10', 'p50']);
  });

  it('load.hook_order is by priority regardless of phase, ties in config order (ARCH s3 "More decisions")', async () => {
    const m = newManager();
    const t = new Trail();
    probe(m, t, 'audit5', { mode: 'audit', priority: 5 });
    probe(m, t, 'seq50', { mode: 'sequential', priority: 50 });
    probe(m, t, 'faf1', { mode: 'fire_and_forget', priority: 1 });
    probe(m, t, 'conc5', { mode: 'concurrent', priority: 5 });
    await m.initialize();
    expect(m.hookOrder('tool_pre_invoke')).toEqual(['faf1', 'audit5', 'conc5', 'seq50']);
  });

  it('any hook name in a plugin\'s hooks list works; custom hooks need no registration (ARCH s3 "Further decisions")', async () => {
    const m = newManager();
    const t = new Trail();
    probe(m, t, 'custom', { hook: 'my.custom_hook' }, (p) => ({ modifiedPayload: { ...p, seen: true } }));
    await m.initialize();
    expect(m.hasHooksFor('my.custom_hook')).toBe(true);
    const r = await run(m, 'my.custom_hook', { q: 1 });
    expect(r.modifiedPayload).toEqual({ q: 1, seen: true });
  });

  it('a disabled entry (mode: disabled) is never instantiated and never runs (ARCH s3 phase table)', async () => {
    const m = newManager();
    const t = new Trail();
    let created = 0;
    m.registerFactory('probe', {
      async create(entry) {
        created++;
        return recordingFactory(t).create(entry, undefined as never);
      },
    });
    await m.loadConfig({
      plugins: [
        { name: 'on', kind: 'probe', hooks: ['tool_pre_invoke'] },
        { name: 'off', kind: 'probe', hooks: ['tool_pre_invoke'], mode: 'disabled' },
      ],
    });
    await m.initialize();
    await run(m, 'tool_pre_invoke', {});
    expect(created).toBe(1);
    expect(t.ran).toEqual(['on']);
    expect(m.pluginNames()).toEqual(['on']);
  });
});

describe('phase table: sequential (ARCH s3 "serial, chained | may block | may modify | context writes kept")', () => {
  it('sequential: serial and chained — each plugin sees the payload the previous one returned (ARCH s3 phase table)', async () => {
    const m = newManager();
    const t = new Trail();
    const seen: unknown[] = [];
    probe(m, t, 'a', { priority: 1 }, (p) => ({ modifiedPayload: { ...p, trail: [...p.trail, 'a'] } }));
    probe(m, t, 'b', { priority: 2 }, (p) => {
      seen.push(snapshot({ ...p, trail: [...p.trail] }));
      return { modifiedPayload: { ...p, trail: [...p.trail, 'b'] } };
    });
    await m.initialize();
    const input = { trail: [] as string[] };
    const r = await run(m, 'tool_pre_invoke', input);
    expect(seen).toEqual([{ trail: ['a'] }]);
    expect(r.modifiedPayload).toEqual({ trail: ['a', 'b'] });
    expect(r.payloadModified).toBe(true);
    expect(input).toEqual({ trail: [] });
  });

  it('sequential: a deny halts; later sequential, transform, audit and concurrent plugins never run (ARCH s3 phase table)', async () => {
    const m = newManager();
    const t = new Trail();
    probe(m, t, 'first', { priority: 1 });
    probe(m, t, 'denier', { priority: 2 }, () => ({
      continueProcessing: false,
      violation: { code: 'NOPE', reason: 'no' },
    }));
    probe(m, t, 'laterSeq', { priority: 3 });
    probe(m, t, 'tra', { mode: 'transform', priority: 0 });
    probe(m, t, 'aud', { mode: 'audit', priority: 0 });
    probe(m, t, 'con', { mode: 'concurrent', priority: 0 });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(t.ran).toEqual(['first', 'denier']);
    expect(r.continueProcessing).toBe(false);
    expect(r.violation).toMatchObject({ code: 'NOPE', reason: 'no', pluginName: 'denier' });
  });

  it('sequential: global context writes are kept (merged into the caller\'s GlobalContext) (ARCH s3 phase table "context writes kept: yes")', async () => {
    const m = newManager();
    probe(m, new Trail(), 'seq', {}, (_p, ctx) => {
      ctx.globalContext.state.seq = 1;
      ctx.globalContext.metadata.seqMeta = 'm';
      return undefined;
    });
    await m.initialize();
    const g = gctx('r1', { state: { pre: true } });
    await run(m, 'tool_pre_invoke', {}, { globalContext: g });
    expect(g.state).toEqual({ pre: true, seq: 1 });
    expect(g.metadata).toEqual({ seqMeta: 'm' });
  });

  it("sequential: a denying plugin's global writes are still merged (ARCH s3 phase table; Python semantics kept)", async () => {
    const m = newManager();
    probe(m, new Trail(), 'denier', {}, (_p, ctx) => {
      ctx.globalContext.state.why = 'denied';
      return { continueProcessing: false };
    });
    await m.initialize();
    const g = gctx('r1');
    const r = await run(m, 'tool_pre_invoke', {}, { globalContext: g });
    expect(r.continueProcessing).toBe(false);
    expect(g.state).toEqual({ why: 'denied' });
  });
});

describe('phase table: transform (ARCH s3 "serial, chained | no (deny ignored, its edits kept) | yes | yes")', () => {
  it('transform: serial and chained after the sequential phase (ARCH s3 phase table)', async () => {
    const m = newManager();
    const t = new Trail();
    probe(m, t, 'seq', { priority: 9 }, (p) => ({ modifiedPayload: { ...p, n: p.n + 1 } }));
    probe(m, t, 'tra1', { mode: 'transform', priority: 1 }, (p) => ({
      modifiedPayload: { ...p, n: p.n * 10 },
    }));
    probe(m, t, 'tra2', { mode: 'transform', priority: 2 }, (p) => ({
      modifiedPayload: { ...p, n: p.n + 3 },
    }));
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', { n: 1 });
    expect(t.ran).toEqual(['seq', 'tra1', 'tra2']);
    expect(r.modifiedPayload).toEqual({ n: 23 });
  });

  it('transform: a deny is ignored but its edits are kept, and later plugins still run (ARCH s3 phase table "deny ignored, its edits kept")', async () => {
    const m = newManager();
    const t = new Trail();
    probe(m, t, 'tra', { mode: 'transform', priority: 1 }, (p) => ({
      continueProcessing: false,
      violation: { code: 'IGNORED', reason: 'transform cannot block' },
      modifiedPayload: { ...p, edited: true },
    }));
    probe(m, t, 'after', { mode: 'transform', priority: 2 }, (p) => ({
      modifiedPayload: { ...p, after: p.edited },
    }));
    probe(m, t, 'aud', { mode: 'audit' });
    probe(m, t, 'con', { mode: 'concurrent' });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', { q: 1 });
    expect(r.continueProcessing).toBe(true);
    expect(r.violation).toBeNull();
    expect(r.modifiedPayload).toEqual({ q: 1, edited: true, after: true });
    expect(t.ran).toEqual(['tra', 'after', 'aud', 'con']);
  });

  it('transform: global context writes are kept (ARCH s3 phase table "context writes kept: yes")', async () => {
    const m = newManager();
    probe(m, new Trail(), 'tra', { mode: 'transform' }, (_p, ctx) => {
      ctx.globalContext.state.tra = true;
      ctx.globalContext.metadata.traMeta = 1;
      return { continueProcessing: false };
    });
    await m.initialize();
    const g = gctx('r');
    await run(m, 'tool_pre_invoke', {}, { globalContext: g });
    expect(g.state).toEqual({ tra: true });
    expect(g.metadata).toEqual({ traMeta: 1 });
  });
});

describe('phase table: audit (ARCH s3 "serial, read-only | no | no | no (metadata kept)")', () => {
  it('audit: serial, in priority order, after transform (ARCH s3 phase table)', async () => {
    const m = newManager();
    const t = new Trail();
    const active: string[] = [];
    let overlap = false;
    for (const [name, prio] of [
      ['aud2', 2],
      ['aud1', 1],
    ] as const) {
      probe(m, t, name, { mode: 'audit', priority: prio }, async () => {
        if (active.length > 0) overlap = true;
        active.push(name);
        await new Promise((r) => setTimeout(r, 10));
        active.pop();
        return undefined;
      });
    }
    probe(m, t, 'tra', { mode: 'transform', priority: 50 });
    await m.initialize();
    await run(m, 'tool_pre_invoke', {});
    expect(t.ran).toEqual(['tra', 'aud1', 'aud2']);
    expect(overlap).toBe(false);
  });

  it('audit: sees the payload as chained through sequential and transform (ARCH s3 phase table "serial, read-only")', async () => {
    const m = newManager();
    let saw: unknown;
    probe(m, new Trail(), 'seq', {}, (p) => ({ modifiedPayload: { ...p, s: 1 } }));
    probe(m, new Trail(), 'tra', { mode: 'transform' }, (p) => ({ modifiedPayload: { ...p, t: 1 } }));
    probe(m, new Trail(), 'aud', { mode: 'audit' }, (p) => {
      saw = JSON.parse(JSON.stringify(p));
      return undefined;
    });
    await m.initialize();
    await run(m, 'tool_pre_invoke', { q: 1 });
    expect(saw).toEqual({ q: 1, s: 1, t: 1 });
  });

  it('audit: cannot block — a deny is suppressed and its violation dropped (ARCH s3 phase table "may block: no")', async () => {
    const m = newManager();
    const t = new Trail();
    probe(m, t, 'aud', { mode: 'audit' }, () => ({
      continueProcessing: false,
      violation: { code: 'X', reason: 'x' },
    }));
    probe(m, t, 'con', { mode: 'concurrent' });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(r.continueProcessing).toBe(true);
    expect(r.violation).toBeNull();
    expect(t.ran).toEqual(['aud', 'con']);
  });

  it('audit: cannot modify — a returned modifiedPayload is discarded (ARCH s3 phase table "may modify: no")', async () => {
    const m = newManager();
    const t = new Trail();
    let seenByConcurrent: unknown;
    probe(m, t, 'aud', { mode: 'audit' }, (p) => ({ modifiedPayload: { ...p, audited: true } }));
    probe(m, t, 'con', { mode: 'concurrent' }, (p) => {
      seenByConcurrent = { ...p };
      return undefined;
    });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', { q: 1 });
    expect(r.payloadModified).toBe(false);
    expect(r.modifiedPayload).toBeNull();
    expect(seenByConcurrent).toEqual({ q: 1 });
  });

  it('audit: its result metadata is kept, its global writes are dropped, its local state is kept (ARCH s3 "Further decisions")', async () => {
    const m = newManager();
    probe(m, new Trail(), 'aud', { mode: 'audit' }, (_p, ctx) => {
      ctx.globalContext.state.audit = 'dropped';
      ctx.globalContext.metadata.audit = 'dropped';
      ctx.state.local = 'kept';
      return { metadata: { audited: true } };
    });
    await m.initialize();
    const g = gctx('r');
    const r = await run(m, 'tool_pre_invoke', {}, { globalContext: g });
    expect(r.metadata).toEqual({ audited: true });
    expect(g.state).toEqual({});
    expect(g.metadata).toEqual({});
    expect(r.contextTable?.toJSON().aud?.state).toEqual({ local: 'kept' });
  });
});

describe('phase table: concurrent (ARCH s3 "parallel on one snapshot | yes — first deny wins | no | yes")', () => {
  it('concurrent: cannot modify — returned payloads are discarded (ARCH s3 phase table "may modify: no")', async () => {
    const m = newManager();
    probe(m, new Trail(), 'con', { mode: 'concurrent' }, (p) => ({
      modifiedPayload: { ...p, changed: true },
    }));
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', { q: 1 });
    expect(r.payloadModified).toBe(false);
    expect(r.modifiedPayload).toBeNull();
  });

  it('concurrent: may block — a deny halts the pipeline (ARCH s3 phase table "may block: yes")', async () => {
    const m = newManager();
    probe(m, new Trail(), 'con', { mode: 'concurrent' }, () => ({
      continueProcessing: false,
      violation: { code: 'BLOCK', reason: 'blocked' },
    }));
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(r.continueProcessing).toBe(false);
    expect(r.violation).toMatchObject({ code: 'BLOCK', pluginName: 'con' });
  });

  it('concurrent: global context writes are kept (ARCH s3 phase table "context writes kept: yes")', async () => {
    const m = newManager();
    probe(m, new Trail(), 'con', { mode: 'concurrent' }, async (_p, ctx) => {
      ctx.globalContext.state.con = 1;
      ctx.globalContext.metadata.conMeta = 2;
      return { metadata: { fromCon: true } };
    });
    await m.initialize();
    const g = gctx('r');
    const r = await run(m, 'tool_pre_invoke', {}, { globalContext: g });
    expect(g.state).toEqual({ con: 1 });
    expect(g.metadata).toEqual({ conMeta: 2 });
    expect(r.metadata).toEqual({ fromCon: true });
  });
});

describe('phase table: fire_and_forget (ARCH s3 "background, tracked | no | no | no")', () => {
  it('fire_and_forget: cannot block or modify; the pipeline result ignores its result (ARCH s3 phase table)', async () => {
    const m = newManager();
    probe(m, new Trail(), 'faf', { mode: 'fire_and_forget' }, (p) => ({
      continueProcessing: false,
      violation: { code: 'X', reason: 'x' },
      modifiedPayload: { ...p, changed: true },
      metadata: { faf: true },
    }));
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', { q: 1 });
    const errors = await r.background.wait();
    expect(errors).toEqual([]);
    expect(r.continueProcessing).toBe(true);
    expect(r.violation).toBeNull();
    expect(r.modifiedPayload).toBeNull();
    expect(r.metadata).toEqual({});
  });

  it('fire_and_forget: global context writes are dropped (ARCH s3 phase table "context writes kept: no")', async () => {
    const m = newManager();
    probe(m, new Trail(), 'faf', { mode: 'fire_and_forget' }, (_p, ctx) => {
      ctx.globalContext.state.faf = 'dropped';
      ctx.globalContext.metadata.faf = 'dropped';
      return undefined;
    });
    await m.initialize();
    const g = gctx('r', { state: { keep: 1 } });
    const r = await run(m, 'tool_pre_invoke', {}, { globalContext: g });
    await r.background.wait();
    expect(g.state).toEqual({ keep: 1 });
    expect(g.metadata).toEqual({});
  });
});

describe('scheduling decisions (ARCH s2 "Trust flows one way"; s3 "Fast paths", "CMF hook names")', () => {
  it('trust flows one way: mode, priority and on_error come from the entry, never from what the plugin object reports (ARCH s2 "Trust flows one way")', async () => {
    const m = newManager();
    const t = new Trail();
    m.register({
      name: 'claims-audit',
      mode: 'audit',
      priority: 1,
      onError: 'ignore',
      capabilities: ['read_headers'],
      tool_pre_invoke: () => {
        t.add('claims-audit');
        throw new Error('fails');
      },
    });
    probe(m, t, 'seq50', { priority: 50 });
    await m.initialize();
    const lineup = m.lineup('tool_pre_invoke');
    expect(lineup.sequential.map((e) => [e.name, e.priority, e.onError])).toEqual([
      ['seq50', 50, 'fail'],
      ['claims-audit', 100, 'fail'],
    ]);
    expect(lineup.sequential[1]?.capabilities).toEqual([]);
    expect(lineup.audit).toEqual([]);
    const r = await run(m, 'tool_pre_invoke', {});
    // Scheduled as a sequential plugin with on_error fail: its error halts.
    expect(r.violation).toMatchObject({ code: 'plugin_error', pluginName: 'claims-audit' });
    expect(t.ran).toEqual(['seq50', 'claims-audit']);
  });

  it('trust flows one way for config plugins: the factory\'s instance cannot change its scheduling (ARCH s2 "Trust flows one way")', async () => {
    const m = newManager();
    const t = new Trail();
    m.registerFactory('liar', {
      async create(entry) {
        const inst = recordingFactory(t).create(entry, undefined as never);
        return Object.assign(await inst, { mode: 'fire_and_forget', priority: -1000 });
      },
    });
    await m.loadConfig({
      plugins: [
        { name: 'first', kind: 'liar', hooks: ['tool_pre_invoke'], mode: 'transform', priority: 1 },
        { name: 'second', kind: 'liar', hooks: ['tool_pre_invoke'], mode: 'transform', priority: 2 },
      ],
    });
    await m.initialize();
    expect(m.lineup('tool_pre_invoke').transform.map((e) => e.name)).toEqual(['first', 'second']);
    expect(m.lineup('tool_pre_invoke').fire_and_forget).toEqual([]);
  });

  it('stay synchronous until a handler returns a promise: synchronous handlers have run when invoke() returns (ARCH s3 "Fast paths")', async () => {
    const m = newManager();
    const t = new Trail();
    probe(m, t, 'sync1', { priority: 1 });
    probe(m, t, 'sync2', { priority: 2 });
    probe(m, t, 'async3', { priority: 3 }, async () => {
      await Promise.resolve();
      return undefined;
    });
    probe(m, t, 'sync4', { priority: 4 });
    await m.initialize();
    const pending = run(m, 'tool_pre_invoke', {});
    // Without yielding to the event loop: the synchronous prefix ran inside the call.
    expect(t.ran).toEqual(['sync1', 'sync2', 'async3']);
    await pending;
    expect(t.ran).toEqual(['sync1', 'sync2', 'async3', 'sync4']);
  });

  it('a hook with no plugins returns an empty allowing result (ARCH s3 "Fast paths"; ref s14 "no plugins for the hook")', async () => {
    const m = newManager();
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', { q: 1 });
    expect(r).toMatchObject({
      continueProcessing: true,
      modifiedPayload: null,
      payloadModified: false,
      violation: null,
      errors: [],
      metadata: {},
      retryDelayMs: 0,
      contextTable: null,
    });
    expect(m.hasHooksFor('tool_pre_invoke')).toBe(false);
  });

  it('CMF hook names are not aliases of the legacy hooks: cmf.tool_pre_invoke and tool_pre_invoke are separate (ARCH s3 "names are not aliases of each other")', async () => {
    const m = newManager();
    const t = new Trail();
    probe(m, t, 'cmf', { hook: 'cmf.tool_pre_invoke' });
    probe(m, t, 'legacy', { hook: 'tool_pre_invoke' });
    probe(m, t, 'llm', { hook: 'cmf.llm_input' });
    await m.initialize();
    await run(m, 'tool_pre_invoke', { name: 'x', args: {} });
    await run(m, 'cmf.tool_pre_invoke', { message: { role: 'user', content: [] } });
    await run(m, 'cmf.llm_output', { message: { role: 'assistant', content: [] } });
    expect(t.ran).toEqual(['legacy', 'cmf']);
  });
});
