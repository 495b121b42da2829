/**
 * The manager split (issue 10, design point 3): one lifecycle state machine with one error per
 * state, in-code entries judged by the YAML schema, one duplicate-name check, and the active
 * lineup as one immutable snapshot that each invoke captures at its start.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, CpexError } from '../../src/index.js';
import { deferred, newManager, probe, rejectsWith, run, sleep, Trail } from './helpers.js';

describe('one lifecycle state machine, one error per state (issue 10 point 3)', () => {
  it('walks created -> initializing -> ready -> shutting_down -> shut_down', async () => {
    const m = newManager();
    const gate = deferred();
    m.register({ name: 'slow', initialize: () => gate.promise, hooks: { tool_pre_invoke: () => undefined } });
    expect(m.state).toBe('created');
    const init = m.initialize();
    expect(m.state).toBe('initializing');
    gate.resolve();
    await init;
    expect(m.state).toBe('ready');
    const down = m.shutdown();
    expect(m.state).toBe('shutting_down');
    await down;
    expect(m.state).toBe('shut_down');
  });

  it('invoke gets the error of the state it is called in: created, initializing, failed -> NOT_INITIALIZED; shutting_down, shut_down -> SHUT_DOWN', async () => {
    const m = newManager();
    const gate = deferred();
    m.register({ name: 'slow', initialize: () => gate.promise, hooks: { tool_pre_invoke: () => undefined } });
    expect((await rejectsWith(run(m, 'tool_pre_invoke', {}), 'CPEX_ERR_NOT_INITIALIZED')).message).toMatch(
      /initialize\(\) first/,
    );
    const init = m.initialize();
    expect((await rejectsWith(run(m, 'tool_pre_invoke', {}), 'CPEX_ERR_NOT_INITIALIZED')).message).toMatch(
      /not finished/,
    );
    gate.resolve();
    await init;
    // A slow in-flight invoke keeps the manager in shutting_down while a second invoke arrives.
    const hold = deferred();
    m.registerHook('tool_post_invoke', () => hold.promise.then(() => undefined), { name: 'holder' });
    await sleep(0);
    const inflight = run(m, 'tool_post_invoke', {});
    const down = m.shutdown();
    await sleep(0);
    expect(m.state).toBe('shutting_down');
    await rejectsWith(run(m, 'tool_pre_invoke', {}), 'CPEX_ERR_SHUT_DOWN');
    hold.resolve();
    await inflight;
    await down;
    await rejectsWith(run(m, 'tool_pre_invoke', {}), 'CPEX_ERR_SHUT_DOWN');
  });

  it('after a failed initialize() invoke names the failure as its cause; a retry can succeed', async () => {
    const m = newManager();
    let fail = true;
    m.register({
      name: 'flaky',
      initialize: () => {
        if (fail) throw new Error('not yet');
      },
      hooks: { tool_pre_invoke: () => undefined },
    });
    await expect(m.initialize()).rejects.toThrow(/not yet/);
    expect(m.state).toBe('failed');
    const err = await rejectsWith(run(m, 'tool_pre_invoke', {}), 'CPEX_ERR_NOT_INITIALIZED');
    expect(err.message).toContain('not yet');
    expect(err.cause).toBeInstanceOf(CpexError);
    fail = false;
    await m.initialize();
    expect(m.state).toBe('ready');
    expect((await run(m, 'tool_pre_invoke', {})).continueProcessing).toBe(true);
  });

  it('every registration and config call after shutdown() gets the same SHUT_DOWN error', async () => {
    const m = newManager();
    await m.initialize();
    await m.shutdown();
    const codes: string[] = [];
    const attempt = async (f: () => unknown) => {
      try {
        await f();
        codes.push('ok');
      } catch (e) {
        codes.push((e as CpexError).code);
      }
    };
    await attempt(() => m.register({ name: 'x', hooks: { tool_pre_invoke: () => undefined } }));
    await attempt(() => m.registerHook('tool_pre_invoke', () => undefined));
    await attempt(() => m.loadConfig({ plugins: [] }));
    await attempt(() => m.loadConfigText('plugins: []'));
    await attempt(() => m.initialize());
    await attempt(() => m.invoke('tool_pre_invoke', { name: 'x', args: {} }));
    expect(codes).toEqual(Array(6).fill('CPEX_ERR_SHUT_DOWN'));
    // shutdown() twice is the same shutdown.
    await m.shutdown();
  });

  it('a plugin registered while initialize() runs is initialized by it too (no half lineup)', async () => {
    const m = newManager();
    const t = new Trail();
    const gate = deferred();
    m.register({ name: 'slow', initialize: () => gate.promise, hooks: { tool_pre_invoke: () => undefined } });
    const init = m.initialize();
    probe(m, t, 'late');
    gate.resolve();
    await init;
    await run(m, 'tool_pre_invoke', {});
    expect(t.ran).toEqual(['late']);
  });
});

describe('in-code entries are judged by the YAML schema (issue 10 point 3)', () => {
  it('accepts exactly what YAML accepts: legacy modes are rewritten, enforce_ignore_error sets on_error ignore', async () => {
    const m = newManager();
    m.registerHook('tool_pre_invoke', () => undefined, {
      name: 'legacy',
      mode: 'enforce_ignore_error' as never,
    });
    m.registerHook('tool_pre_invoke', () => undefined, { name: 'perm', mode: 'permissive' as never });
    await m.initialize();
    const l = m.lineup('tool_pre_invoke');
    expect(l.sequential.map((r) => [r.name, r.onError])).toEqual([['legacy', 'ignore']]);
    expect(l.transform.map((r) => r.name)).toEqual(['perm']);
  });

  const bad: Array<[string, Record<string, unknown>]> = [
    ['timeout', { timeout: 0 }],
    ['timeout', { timeout: -1 }],
    ['timeout', { timeout: '5' }],
    ['priority', { priority: 1.5 }],
    ['priority', { priority: Number.NaN }],
    ['hooks', { hooks: 'tool_pre_invoke' }],
    ['hooks', { hooks: [1] }],
    ['tags', { tags: [null] }],
    ['config', { config: [1, 2] }],
    ['config', { config: 'x' }],
    ['kind', { kind: '' }],
    ['conditions', { conditions: [{ serverIds: 'a' }] }],
    ['conditions[0].bogus', { conditions: [{ bogus: ['a'] }] }],
    ['description', { description: 42 }],
  ];
  for (const [field, entry] of bad) {
    it(`rejects ${field} = ${JSON.stringify(Object.values(entry)[0])} with INVALID_ARGUMENT naming the plugin and the field`, () => {
      const m = newManager();
      let err: unknown;
      try {
        // register() takes `hooks` from the entry (registerHook fixes it to its hook).
        m.register({ name: 'typo', hooks: { tool_pre_invoke: () => undefined } }, entry as never);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(CpexError);
      expect((err as CpexError).code).toBe('CPEX_ERR_INVALID_ARGUMENT');
      expect((err as CpexError).message).toContain('typo');
      expect((err as CpexError).message).toContain(field.split('[')[0]);
      expect(m.pluginNames()).toEqual([]);
    });
  }

  it('the same bad value gets an error from YAML and from code (one schema)', async () => {
    const y = newManager();
    await rejectsWith(
      y.loadConfig({ plugins: [{ name: 'p', kind: 'x', hooks: ['tool_pre_invoke'], timeout: 0 }] }),
      'CPEX_ERR_CONFIG_INVALID',
    );
    const c = newManager();
    expect(() => c.registerHook('tool_pre_invoke', () => undefined, { name: 'p', timeout: 0 })).toThrow(
      CpexError,
    );
  });
});

describe('one duplicate-name check (issue 10 point 3)', () => {
  it('code after code, YAML after code, code after YAML and YAML after YAML all give ConfigError DUPLICATE_PLUGIN', async () => {
    const errs: unknown[] = [];
    const grab = async (f: () => unknown) => {
      try {
        await f();
      } catch (e) {
        errs.push(e);
      }
    };
    const a = newManager({ hosts: [] });
    a.registerFactory('x', { create: async () => ({ handler: () => () => undefined, host: HOST }) });
    probe(a, new Trail(), 'twin');
    await grab(() => probe(a, new Trail(), 'twin'));
    await grab(() => a.loadConfig({ plugins: [{ name: 'twin', kind: 'x', hooks: ['tool_pre_invoke'] }] }));
    const b = newManager();
    await b.loadConfig({ plugins: [{ name: 'twin', kind: 'x', hooks: ['tool_pre_invoke'] }] });
    await grab(() => probe(b, new Trail(), 'twin'));
    await grab(() => b.loadConfig({ plugins: [{ name: 'twin', kind: 'x', hooks: ['tool_pre_invoke'] }] }));
    // A PluginSet whose members share a name.
    await grab(() =>
      newManager().register({
        kind: 'plugin-set',
        name: 's',
        members: [
          { name: 'dup', hooks: { tool_pre_invoke: () => undefined } },
          { name: 'dup', hooks: { tool_pre_invoke: () => undefined } },
        ],
      }),
    );
    expect(errs).toHaveLength(5);
    for (const e of errs) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as CpexError).code).toBe('CPEX_ERR_DUPLICATE_PLUGIN');
      expect((e as CpexError).plugin).toMatch(/twin|dup/);
    }
    expect((errs[1] as CpexError).path).toBe('plugins[0].name');
  });
});

const HOST = { supportsTimeouts: 'cooperative', isolated: false, copiesPayloads: false } as const;

describe('the active lineup is one snapshot per invoke (the hot-reload seam)', () => {
  it('an invocation in flight finishes on the lineup it started with while a registration is disposed', async () => {
    const m = newManager();
    const t = new Trail();
    const gate = deferred();
    probe(m, t, 'first', { priority: 1 }, () => gate.promise.then(() => undefined));
    const second = m.registerHook(
      'tool_pre_invoke',
      () => {
        t.add('second');
        return undefined;
      },
      { name: 'second', priority: 2 },
    );
    await m.initialize();
    const inflight = run(m, 'tool_pre_invoke', {});
    await sleep(0);
    // Disposing stops NEW calls of `second` at once...
    const disposing = second.dispose();
    expect(m.pluginNames()).toEqual(['first']);
    const fresh = run(m, 'tool_pre_invoke', {});
    gate.resolve();
    await fresh;
    await inflight;
    await disposing;
    // ...the in-flight invocation kept its lineup (second closing: not called after dispose began).
    expect(t.ran).toEqual(['first', 'first']);
    expect(m.hookOrder('tool_pre_invoke')).toEqual(['first']);
  });

  it('a late registration swaps in a new lineup without touching an invocation in flight', async () => {
    const m = newManager();
    const t = new Trail();
    const gate = deferred();
    probe(m, t, 'a', { priority: 1 }, () => gate.promise.then(() => undefined));
    await m.initialize();
    const inflight = run(m, 'tool_pre_invoke', {});
    await sleep(0);
    const late = m.registerHook(
      'tool_pre_invoke',
      () => {
        t.add('b');
        return undefined;
      },
      { name: 'b', priority: 2 },
    );
    await late.ready;
    gate.resolve();
    await inflight;
    expect(t.ran).toEqual(['a']);
    await run(m, 'tool_pre_invoke', {});
    expect(t.ran).toEqual(['a', 'a', 'b']);
  });
});
