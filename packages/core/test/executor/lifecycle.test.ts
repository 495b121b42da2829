/**
 * ARCHITECTURE.md section 3 "Further decisions": invoke on a manager that is not initialized (or
 * whose initialize() failed) throws a coded error and never runs a partial lineup; a config that
 * fails to load is a coded error naming the plugin; fail_on_plugin_error false turns per-plugin load
 * failures into warnings; DEVIATIONS general rules (a plugin that fails to resolve one of its hooks
 * is a load error naming the plugin). Also the caller's AbortSignal, independent managers, and
 * `shutdown()`.
 */
import { describe, expect, it } from 'vitest';
import { CpexError, type PluginFactory, pluginToInstance } from '../../src/index.js';
import { aborted, gctx, newManager, probe, rejectsWith, sleep, Trail, run, until } from './helpers.js';

const failingFactory: PluginFactory = {
  async create(entry) {
    throw new Error(`cannot build ${entry.name}`);
  },
};

describe('initialization (ARCH s3 "Further decisions")', () => {
  it('invoke before initialize() rejects with CPEX_ERR_NOT_INITIALIZED and runs nothing (ARCH s3 "invoke on a manager that is not initialized")', async () => {
    const m = newManager();
    const t = new Trail();
    probe(m, t, 'p');
    const err = await rejectsWith(run(m, 'tool_pre_invoke', {}), 'CPEX_ERR_NOT_INITIALIZED');
    expect(err.message).toContain('tool_pre_invoke');
    expect(t.ran).toEqual([]);
  });

  it('invoke after a failed initialize() rejects with CPEX_ERR_NOT_INITIALIZED; no partial lineup runs (ARCH s3 "or whose initialize() failed")', async () => {
    const m = newManager();
    const t = new Trail();
    probe(m, t, 'good');
    m.register({
      name: 'bad',
      initialize() {
        throw new Error('init exploded');
      },
      tool_pre_invoke() {
        t.add('bad');
        return undefined;
      },
    });
    const initErr = await m.initialize().catch((e: unknown) => e);
    expect(initErr).toBeInstanceOf(CpexError);
    expect((initErr as CpexError).plugin).toBe('bad');
    expect((initErr as CpexError).message).toContain('init exploded');
    const err = await rejectsWith(run(m, 'tool_pre_invoke', {}), 'CPEX_ERR_NOT_INITIALIZED');
    expect(err.message).toContain('init exploded');
    expect(t.ran).toEqual([]);
  });

  it('invoke after shutdown() rejects with CPEX_ERR_SHUT_DOWN, as register does (one error per lifecycle state)', async () => {
    const m = newManager();
    probe(m, new Trail(), 'p');
    await m.initialize();
    await m.shutdown();
    await rejectsWith(run(m, 'tool_pre_invoke', {}), 'CPEX_ERR_SHUT_DOWN');
    expect(() => probe(m, new Trail(), 'late')).toThrow(
      expect.objectContaining({ code: 'CPEX_ERR_SHUT_DOWN' }),
    );
  });

  it('a config plugin whose factory fails is a load error naming the plugin (fail_on_plugin_error true, the default) (ARCH s3 "A config that fails to load is a coded error naming the plugin")', async () => {
    const m = newManager();
    m.registerFactory('broken', failingFactory);
    m.registerFactory('probe', {
      async create(entry) {
        return pluginToInstance({ name: entry.name, tool_pre_invoke: () => undefined });
      },
    });
    await m.loadConfig({
      plugins: [
        { name: 'fine', kind: 'probe', hooks: ['tool_pre_invoke'] },
        { name: 'wreck', kind: 'broken', hooks: ['tool_pre_invoke'] },
      ],
    });
    expect(m.settings.failOnPluginError).toBe(true);
    const err = await m.initialize().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CpexError);
    expect((err as CpexError).code).toBe('CPEX_ERR_PLUGIN_LOAD');
    expect((err as CpexError).plugin).toBe('wreck');
    expect((err as CpexError).message).toContain('wreck');
    expect((err as CpexError).message).toContain('cannot build wreck');
    expect(m.initialized).toBe(false);
  });

  it('an unknown kind is a load error naming the plugin and the kind (DEVIATIONS "nothing skipped silently")', async () => {
    const m = newManager();
    await m.loadConfig({ plugins: [{ name: 'ghost', kind: 'no-such-kind', hooks: ['tool_pre_invoke'] }] });
    const err = await m.initialize().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CpexError);
    expect((err as CpexError).plugin).toBe('ghost');
    expect((err as CpexError).message).toContain('no-such-kind');
  });

  it('fail_on_plugin_error false: a failing plugin is skipped with a warning and the others run (ARCH s3 "turns per-plugin load failures into warnings")', async () => {
    const m = newManager();
    const t = new Trail();
    m.registerFactory('broken', failingFactory);
    m.registerFactory('probe', {
      async create(entry) {
        return pluginToInstance({ name: entry.name, tool_pre_invoke: () => void t.add(entry.name) });
      },
    });
    await m.loadConfig({
      plugin_settings: { fail_on_plugin_error: false },
      plugins: [
        { name: 'fine', kind: 'probe', hooks: ['tool_pre_invoke'] },
        { name: 'wreck', kind: 'broken', hooks: ['tool_pre_invoke'] },
      ],
    });
    await m.initialize();
    expect(m.pluginNames()).toEqual(['fine']);
    expect(m.warnings.some((w) => w.includes('wreck'))).toBe(true);
    expect(m.log.warnings().some((w) => w.includes('wreck'))).toBe(true);
    await run(m, 'tool_pre_invoke', {});
    expect(t.ran).toEqual(['fine']);
  });

  it('a plugin missing a listed hook is a load error naming the plugin and the hook (DEVIATIONS "fails ... to resolve one of its hooks")', async () => {
    const m = newManager();
    m.register(
      { name: 'half', tool_pre_invoke: () => undefined },
      { hooks: ['tool_pre_invoke', 'tool_post_invoke'] },
    );
    const err = await m.initialize().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CpexError);
    expect((err as CpexError).code).toBe('CPEX_ERR_HOOK_NOT_IMPLEMENTED');
    expect((err as CpexError).plugin).toBe('half');
    expect((err as CpexError).hook).toBe('tool_post_invoke');
    expect((err as CpexError).message).toContain('half');
    expect((err as CpexError).message).toContain('tool_post_invoke');
  });

  it('a config plugin missing a listed hook is a load error with the YAML path of its hooks (DEVIATIONS; bad config names the YAML path)', async () => {
    const m = newManager();
    m.registerFactory('probe', {
      async create(entry) {
        return pluginToInstance({ name: entry.name, tool_pre_invoke: () => undefined });
      },
    });
    await m.loadConfig({
      plugins: [
        { name: 'ok', kind: 'probe', hooks: ['tool_pre_invoke'] },
        { name: 'half', kind: 'probe', hooks: ['tool_pre_invoke', 'prompt_pre_fetch'] },
      ],
    });
    const err = (await m.initialize().catch((e: unknown) => e)) as CpexError;
    expect(err.code).toBe('CPEX_ERR_HOOK_NOT_IMPLEMENTED');
    expect(err.plugin).toBe('half');
    expect(err.hook).toBe('prompt_pre_fetch');
    expect(err.path).toBe('plugins[1].hooks');
  });

  it('fail_on_plugin_error false: a plugin missing a listed hook is skipped, not half-registered (DEVIATIONS "no half-registered plugins")', async () => {
    const m = newManager({ failOnPluginError: false });
    const t = new Trail();
    m.register(
      { name: 'half', tool_pre_invoke: () => void t.add('half') },
      { hooks: ['tool_pre_invoke', 'tool_post_invoke'] },
    );
    probe(m, t, 'whole');
    await m.initialize();
    await run(m, 'tool_pre_invoke', {});
    expect(t.ran).toEqual(['whole']);
    expect(m.hookOrder('tool_pre_invoke')).toEqual(['whole']);
    expect(m.warnings.some((w) => w.includes('half'))).toBe(true);
  });

  it('a plugin initialize() failure under fail_on_plugin_error true shuts down the plugins already initialized (no half-initialized manager)', async () => {
    const m = newManager();
    const t = new Trail();
    m.register({
      name: 'first',
      initialize: () => void t.add('first:init'),
      shutdown: () => void t.add('first:shutdown'),
      tool_pre_invoke: () => undefined,
    });
    m.register({
      name: 'second',
      initialize() {
        throw new Error('nope');
      },
      tool_pre_invoke: () => undefined,
    });
    await m.initialize().catch(() => undefined);
    expect(t.events).toEqual(['first:init', 'first:shutdown']);
  });

  it('initialize() failing fast while another plugin is still initializing: that plugin is shut down once its initialize settles, and nothing runs (no half-initialized manager)', async () => {
    const m = newManager();
    const t = new Trail();
    m.register({
      name: 'slowInit',
      async initialize() {
        await sleep(30);
        t.add('slowInit:init');
      },
      shutdown: () => void t.add('slowInit:shutdown'),
      tool_pre_invoke: () => void t.add('slowInit'),
    });
    m.register({
      name: 'fastFail',
      initialize() {
        throw new Error('fast failure');
      },
      tool_pre_invoke: () => undefined,
    });
    const err = await m.initialize().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CpexError);
    expect((err as CpexError).plugin).toBe('fastFail');
    await until(() => t.events.includes('slowInit:shutdown'), 'slowInit shut down');
    expect(t.events).toEqual(['slowInit:init', 'slowInit:shutdown']);
    await rejectsWith(run(m, 'tool_pre_invoke', {}), 'CPEX_ERR_NOT_INITIALIZED');
  });

  it('initialize() twice is harmless; plugins are initialized once (ARCH s2 PluginManager)', async () => {
    const m = newManager();
    let inits = 0;
    m.register({ name: 'p', initialize: () => void inits++, tool_pre_invoke: () => undefined });
    await m.initialize();
    await m.initialize();
    expect(inits).toBe(1);
  });

  it('shutdown() shuts plugins down in reverse registration order (ARCH s2 PluginManager)', async () => {
    const m = newManager();
    const t = new Trail();
    for (const n of ['a', 'b', 'c']) {
      m.register({ name: n, shutdown: () => void t.add(`${n}:shutdown`), tool_pre_invoke: () => undefined });
    }
    await m.initialize();
    await m.shutdown();
    expect(t.events).toEqual(['c:shutdown', 'b:shutdown', 'a:shutdown']);
  });

  it('shutdown() during an in-flight invocation: no plugin runs after its own shutdown() (in-flight work is drained like background work, STYLE 6)', async () => {
    const m = newManager();
    const t = new Trail();
    m.register(
      {
        name: 'a',
        async tool_pre_invoke() {
          await sleep(40);
          t.add('a:done');
          return undefined;
        },
        shutdown: () => void t.add('a:shutdown'),
      },
      { priority: 1 },
    );
    m.register(
      {
        name: 'b',
        tool_pre_invoke() {
          t.add('b:run');
          return undefined;
        },
        shutdown: () => void t.add('b:shutdown'),
      },
      { priority: 2 },
    );
    await m.initialize();
    const inflight = run(m, 'tool_pre_invoke', {}).then(
      (r) => t.add(`invoke:${r.continueProcessing}`),
      (e: unknown) => t.add(`invoke:rejected:${(e as CpexError).code}`),
    );
    await sleep(5);
    await m.shutdown();
    t.add('shutdown:resolved');
    await inflight;
    // Whatever the invocation's outcome, a plugin must never be called after its shutdown().
    if (t.events.includes('b:run')) expect(t.indexOf('b:run')).toBeLessThan(t.indexOf('b:shutdown'));
    expect(t.indexOf('a:done')).toBeLessThan(t.indexOf('a:shutdown'));
    expect(t.indexOf('b:shutdown')).toBeLessThan(t.indexOf('shutdown:resolved'));
  });

  it('dispose() during an in-flight invocation: the disposed plugin is never called after its shutdown() (ARCH s2 register(): Disposable)', async () => {
    const m = newManager();
    const t = new Trail();
    m.register(
      {
        name: 'a',
        async tool_pre_invoke() {
          await sleep(30);
          return undefined;
        },
      },
      { priority: 1 },
    );
    const b = m.register(
      {
        name: 'b',
        tool_pre_invoke() {
          t.add('b:run');
          return undefined;
        },
        shutdown: () => void t.add('b:shutdown'),
      },
      { priority: 2 },
    );
    await m.initialize();
    const inflight = run(m, 'tool_pre_invoke', {});
    await sleep(5);
    await b.dispose();
    await inflight.catch(() => undefined);
    if (t.events.includes('b:run')) expect(t.indexOf('b:run')).toBeLessThan(t.indexOf('b:shutdown'));
    expect(t.events).toContain('b:shutdown');
  });

  it('a disposed registration leaves the lineup (ARCH s2 register(): Disposable)', async () => {
    const m = newManager();
    const t = new Trail();
    probe(m, t, 'stays');
    const d = m.registerHook('tool_pre_invoke', () => void t.add('goes'), { name: 'goes' });
    await m.initialize();
    await run(m, 'tool_pre_invoke', {});
    await d.dispose();
    await run(m, 'tool_pre_invoke', {});
    expect(t.ran).toEqual(['stays', 'goes', 'stays']);
  });

  it('a PluginSet registers and disposes its members as one unit (ARCH s2 "PluginSet")', async () => {
    const m = newManager();
    const t = new Trail();
    const mk = (name: string) => ({ name, tool_pre_invoke: () => void t.add(name) });
    const set = {
      kind: 'plugin-set' as const,
      name: 'outer',
      members: [
        mk('a'),
        { kind: 'plugin-set' as const, name: 'inner', members: [mk('b')] },
        { plugin: mk('c'), entry: { priority: 1 } },
      ],
    };
    const d = m.register(set);
    await m.initialize();
    await run(m, 'tool_pre_invoke', {});
    expect(t.ran).toEqual(['c', 'a', 'b']);
    await d.dispose();
    expect(m.hasHooksFor('tool_pre_invoke')).toBe(false);
  });
});

describe('registration after initialize() (DEVIATIONS "no half-registered plugins, nothing skipped silently")', () => {
  it('a plugin registered after initialize() that fails to load is not skipped silently: with fail_on_plugin_error true the next invoke rejects with the coded load error naming it (never a silent allow)', async () => {
    const m = newManager();
    const t = new Trail();
    probe(m, t, 'early');
    await m.initialize();
    m.register(
      { name: 'lateGuard', tool_pre_invoke: () => void t.add('lateGuard') },
      { hooks: ['tool_pre_invoke', 'tool_post_invoke'] },
    );
    const err = (await run(m, 'tool_pre_invoke', {}).then(
      () => undefined,
      (e: unknown) => e,
    )) as CpexError | undefined;
    expect(err).toBeInstanceOf(CpexError);
    expect(err?.plugin).toBe('lateGuard');
    expect(err?.message).toContain('tool_post_invoke');
  });

  it('a failed late registration: register().ready rejects with the load error, and disposing it lets invokes run again (DEVIATIONS "nothing skipped silently")', async () => {
    const m = newManager();
    const t = new Trail();
    probe(m, t, 'early');
    await m.initialize();
    const late = m.register(
      { name: 'lateGuard', tool_pre_invoke: () => void t.add('lateGuard') },
      { hooks: ['tool_pre_invoke', 'tool_post_invoke'] },
    );
    const readyErr = await late.ready.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(readyErr).toBeInstanceOf(CpexError);
    expect((readyErr as CpexError).plugin).toBe('lateGuard');
    await rejectsWith(run(m, 'tool_pre_invoke', {}), (readyErr as CpexError).code);
    await late.dispose();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(r.continueProcessing).toBe(true);
    expect(t.ran).toEqual(['early']);
  });

  it('two failed late registrations: disposing one still fails closed for the other (DEVIATIONS "nothing skipped silently")', async () => {
    const m = newManager();
    probe(m, new Trail(), 'early');
    await m.initialize();
    const a = m.register(
      { name: 'guardA', tool_pre_invoke: () => undefined },
      { hooks: ['tool_pre_invoke', 'hook_a'] },
    );
    const b = m.register(
      { name: 'guardB', tool_pre_invoke: () => undefined },
      { hooks: ['tool_pre_invoke', 'hook_b'] },
    );
    await Promise.allSettled([a.ready, b.ready]);
    await b.dispose();
    const err = (await run(m, 'tool_pre_invoke', {}).then(
      () => undefined,
      (e: unknown) => e,
    )) as CpexError | undefined;
    expect(err).toBeInstanceOf(CpexError);
    expect(err?.plugin).toBe('guardA');
    await a.dispose();
    expect((await run(m, 'tool_pre_invoke', {})).continueProcessing).toBe(true);
  });

  it('a late registration that loads fine: register().ready resolves and the plugin runs at its priority (ARCH s3 "computed ... when plugins are registered")', async () => {
    const m = newManager();
    const t = new Trail();
    probe(m, t, 'p50', { priority: 50 });
    await m.initialize();
    const late = m.register({ name: 'p10', tool_pre_invoke: () => void t.add('p10') }, { priority: 10 });
    await late.ready;
    await run(m, 'tool_pre_invoke', {});
    expect(t.ran).toEqual(['p10', 'p50']);
  });

  it('fail_on_plugin_error false: a late registration that fails to load is skipped with a warning and the others run (ARCH s3 "turns per-plugin load failures into warnings")', async () => {
    const m = newManager({ failOnPluginError: false });
    const t = new Trail();
    probe(m, t, 'early');
    await m.initialize();
    m.register(
      { name: 'lateBroken', tool_pre_invoke: () => void t.add('lateBroken') },
      { hooks: ['tool_pre_invoke', 'tool_post_invoke'] },
    );
    const r = await run(m, 'tool_pre_invoke', {});
    expect(r.continueProcessing).toBe(true);
    expect(t.ran).toEqual(['early']);
    expect(m.warnings.some((w) => w.includes('lateBroken'))).toBe(true);
  });
});

describe("the caller's AbortSignal (ARCH s2 InvokeOptions.signal)", () => {
  it("aborting the caller's signal rejects invoke with CPEX_ERR_ABORTED, aborts the running plugin's signal, and later plugins never run", async () => {
    const m = newManager();
    const t = new Trail();
    let pluginReason: unknown;
    probe(m, t, 'slow', { priority: 1 }, async (_p, ctx) => {
      pluginReason = await aborted(ctx.signal);
      return undefined;
    });
    probe(m, t, 'later', { priority: 2 });
    await m.initialize();
    const ac = new AbortController();
    const p = run(m, 'tool_pre_invoke', {}, { signal: ac.signal });
    await sleep(5);
    ac.abort(new Error('client went away'));
    const err = await rejectsWith(p, 'CPEX_ERR_ABORTED');
    expect(err.message).toContain('tool_pre_invoke');
    await sleep(1);
    expect(pluginReason).toBeDefined();
    expect(t.ran).toEqual(['slow']);
  });

  it('an already-aborted signal rejects with CPEX_ERR_ABORTED without running any plugin', async () => {
    const m = newManager();
    const t = new Trail();
    probe(m, t, 'first');
    await m.initialize();
    const ac = new AbortController();
    ac.abort();
    await rejectsWith(run(m, 'tool_pre_invoke', {}, { signal: ac.signal }), 'CPEX_ERR_ABORTED');
    expect(t.ran).toEqual([]);
  });

  it("aborting during the concurrent phase aborts every in-flight plugin's signal", async () => {
    const m = newManager();
    const signals: AbortSignal[] = [];
    for (const n of ['a', 'b']) {
      probe(m, new Trail(), n, { mode: 'concurrent' }, async (_p, ctx) => {
        signals.push(ctx.signal);
        await aborted(ctx.signal);
        return undefined;
      });
    }
    await m.initialize();
    const ac = new AbortController();
    const p = run(m, 'tool_pre_invoke', {}, { signal: ac.signal });
    await sleep(5);
    ac.abort();
    await rejectsWith(p, 'CPEX_ERR_ABORTED');
    expect(signals.map((s) => s.aborted)).toEqual([true, true]);
  });

  it('a signal that never aborts does not change the result', async () => {
    const m = newManager();
    probe(m, new Trail(), 'p', {}, (q) => ({ modifiedPayload: { ...q, x: 1 } }));
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {}, { signal: new AbortController().signal });
    expect(r.modifiedPayload).toEqual({ x: 1 });
  });
});

describe('bad invoke input (bad input gets a clear coded error)', () => {
  it('a globalContext without a string requestId is rejected with CPEX_ERR_INVALID_ARGUMENT (a rejected promise, not a synchronous throw)', async () => {
    const m = newManager();
    probe(m, new Trail(), 'p');
    await m.initialize();
    let syncThrow: unknown;
    let p: Promise<unknown> | undefined;
    try {
      p = run(m, 'tool_pre_invoke', {}, { globalContext: { state: {}, metadata: {} } as never });
    } catch (e) {
      syncThrow = e;
    }
    expect(syncThrow).toBeUndefined();
    const err = await rejectsWith(p ?? Promise.resolve(), 'CPEX_ERR_INVALID_ARGUMENT');
    expect(err.message).toContain('requestId');
  });

  it('a hook name that is not a non-empty string is rejected with CPEX_ERR_INVALID_ARGUMENT, not answered with an empty allow', async () => {
    const m = newManager();
    probe(m, new Trail(), 'p');
    await m.initialize();
    for (const hook of [undefined, null, 42, '']) {
      await rejectsWith(run(m, hook as never, {}), 'CPEX_ERR_INVALID_ARGUMENT');
    }
  });

  it('a globalContext without state/metadata is completed, not rejected (ARCH s2 GlobalContext)', async () => {
    const m = newManager();
    probe(m, new Trail(), 'p', {}, (_q, ctx) => {
      ctx.globalContext.state.x = 1;
      return undefined;
    });
    await m.initialize();
    const g = { requestId: 'r' } as ReturnType<typeof gctx>;
    await run(m, 'tool_pre_invoke', {}, { globalContext: g });
    expect(g.state).toEqual({ x: 1 });
  });
});

describe('independent managers share nothing (ref s14 "independent managers only, no global state")', () => {
  it('two managers with same-named plugins keep their own lineups, settings, disabled sets and context tables', async () => {
    const a = newManager({ pluginTimeout: 1 });
    const b = newManager({ pluginTimeout: 2 });
    const ta = new Trail();
    const tb = new Trail();
    probe(a, ta, 'same', { onError: 'disable' }, () => {
      throw new Error('a fails');
    });
    probe(b, tb, 'same', {}, (_p, ctx) => {
      ctx.state.b = true;
      return undefined;
    });
    await a.initialize();
    await b.initialize();
    await run(a, 'tool_pre_invoke', {});
    await run(a, 'tool_pre_invoke', {});
    const rb = await run(b, 'tool_pre_invoke', {}, { globalContext: gctx('shared-id') });
    const rb2 = await run(b, 'tool_pre_invoke', {}, { globalContext: gctx('shared-id') });
    expect(ta.ran).toEqual(['same']);
    expect(tb.ran).toEqual(['same', 'same']);
    expect(a.runtimeDisabled()).toEqual(['same']);
    expect(b.runtimeDisabled()).toEqual([]);
    expect(a.settings.pluginTimeout).toBe(1);
    expect(b.settings.pluginTimeout).toBe(2);
    expect(rb.contextTable?.toJSON()).toEqual({ same: { state: { b: true }, metadata: {} } });
    expect(rb2.contextTable).not.toBe(rb.contextTable);
  });

  it('shutting one manager down leaves the other working', async () => {
    const a = newManager();
    const b = newManager();
    probe(a, new Trail(), 'p');
    probe(b, new Trail(), 'p', {}, () => ({ metadata: { b: 1 } }));
    await a.initialize();
    await b.initialize();
    await a.shutdown();
    const r = await run(b, 'tool_pre_invoke', {});
    expect(r.metadata).toEqual({ b: 1 });
  });

  it('a context table from one manager passed to another manager does not leak state between them', async () => {
    const a = newManager();
    const b = newManager();
    probe(a, new Trail(), 'p', {}, (_p, ctx) => {
      ctx.state.secret = 'a';
      return undefined;
    });
    let seenInB: unknown = 'unset';
    probe(b, new Trail(), 'p', {}, (_p, ctx) => {
      seenInB = ctx.state.secret;
      return undefined;
    });
    await a.initialize();
    await b.initialize();
    const ra = await run(a, 'tool_pre_invoke', {}, { globalContext: gctx('rid') });
    await run(b, 'tool_pre_invoke', {}, { globalContext: gctx('rid'), contextTable: ra.contextTable });
    expect(seenInB).toBeUndefined();
  });
});

describe('capability names (ARCH s3 "More decisions": unknown names are a config error)', () => {
  it('an unknown capability name in code is a coded error naming the plugin (ARCH s3 "unknown names are a config error")', () => {
    const m = newManager();
    let err: unknown;
    try {
      m.registerHook('tool_pre_invoke', () => undefined, {
        name: 'greedy',
        capabilities: ['read_everything'],
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CpexError);
    expect((err as CpexError).code).toBe('CPEX_ERR_UNKNOWN_CAPABILITY');
    expect((err as CpexError).message).toContain('greedy');
    expect((err as CpexError).message).toContain('read_everything');
  });

  it('an unknown capability name in YAML is a config error with its YAML path (ARCH s3 "unknown names are a config error")', async () => {
    const m = newManager();
    const err = await rejectsWith(
      m.loadConfig({
        plugins: [
          {
            name: 'p',
            kind: 'probe',
            hooks: ['tool_pre_invoke'],
            capabilities: ['read_labels', 'read_minds'],
          },
        ],
      }),
      'CPEX_ERR_UNKNOWN_CAPABILITY',
    );
    expect(err.message).toContain('plugins[0].capabilities[1]');
    expect(err.message).toContain('read_minds');
  });

  it('capability names are case-insensitive and trimmed (ARCH s3 "More decisions")', async () => {
    const m = newManager();
    m.registerHook('tool_pre_invoke', () => undefined, { name: 'p', capabilities: [' Read_Labels '] });
    await m.initialize();
    expect(m.lineup('tool_pre_invoke').sequential[0]?.capabilities).toEqual(['read_labels']);
  });
});

describe('bad invoke input: the context table (bad input gets a clear coded error)', () => {
  it('a contextTable that is not a table returned by invoke (e.g. its toJSON()) is rejected with CPEX_ERR_INVALID_ARGUMENT, not silently dropped (bad input gets a clear coded error)', async () => {
    const m = newManager();
    probe(m, new Trail(), 'p', {}, (_p, ctx) => {
      ctx.state.n = ((ctx.state.n as number | undefined) ?? 0) + 1;
      return undefined;
    });
    await m.initialize();
    const r1 = await run(m, 'tool_pre_invoke', {}, { globalContext: gctx('r') });
    const err = await rejectsWith(
      run(
        m,
        'tool_pre_invoke',
        {},
        { globalContext: gctx('r'), contextTable: r1.contextTable?.toJSON() as never },
      ),
      'CPEX_ERR_INVALID_ARGUMENT',
    );
    expect(err.message).toContain('contextTable');
  });
});

describe('plugin names (ARCH s2 register(); config errors name the YAML path)', () => {
  it('two plugins with the same name are a coded error naming it, from code and from config (no silent replacement)', async () => {
    const m = newManager();
    probe(m, new Trail(), 'twin');
    expect(() => probe(m, new Trail(), 'twin')).toThrow(/twin/);
    const c = newManager();
    const err = await rejectsWith(
      c.loadConfig({
        plugins: [
          { name: 'twin', kind: 'x', hooks: ['tool_pre_invoke'] },
          { name: 'twin', kind: 'x', hooks: ['tool_pre_invoke'] },
        ],
      }),
      'CPEX_ERR_CONFIG_INVALID',
    );
    expect(err.message).toContain('plugins[1].name');
    const both = newManager();
    probe(both, new Trail(), 'twin');
    const err2 = await rejectsWith(
      both.loadConfig({ plugins: [{ name: 'twin', kind: 'x', hooks: ['tool_pre_invoke'] }] }),
      'CPEX_ERR_DUPLICATE_PLUGIN',
    );
    expect(err2.message).toContain('twin');
  });
});

describe('bad registration input in code is a coded error, never a silent allow (bad input gets a clear coded error)', () => {
  const bad: Array<[string, Record<string, unknown>]> = [
    ['mode', { mode: 'bogus' }],
    ['onError', { onError: 'Fail' }],
    ['priority', { priority: 'high' }],
    ['conditions', { conditions: { tools: ['x'] } }],
    ['capabilities', { capabilities: 'read_labels' }],
  ];
  for (const [field, entry] of bad) {
    it(`registerHook with an invalid ${field} (${JSON.stringify(entry[field])}) throws CPEX_ERR_INVALID_ARGUMENT naming the plugin and the field`, () => {
      const m = newManager();
      let err: unknown;
      try {
        m.registerHook('tool_pre_invoke', () => undefined, { name: 'typo', ...entry } as never);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(CpexError);
      expect((err as CpexError).code).toBe('CPEX_ERR_INVALID_ARGUMENT');
      expect((err as CpexError).message).toContain('typo');
      expect((err as CpexError).message).toContain(field);
    });
  }

  it('a typo in onError never turns a failing guard into a silent allow (fail closed) (ARCH s3 "on_error fail (default)")', async () => {
    const m = newManager();
    let registered = true;
    try {
      m.registerHook(
        'tool_pre_invoke',
        () => {
          throw new Error('guard broke');
        },
        { name: 'guard', onError: 'fails' } as never,
      );
    } catch {
      registered = false;
    }
    if (registered) {
      await m.initialize();
      const r = await run(m, 'tool_pre_invoke', {});
      expect(r.continueProcessing).toBe(false);
    } else {
      expect(m.pluginNames()).toEqual([]);
    }
  });
});
