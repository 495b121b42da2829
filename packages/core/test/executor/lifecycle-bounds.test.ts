/**
 * Issue 11 item 7: lifecycle calls are bounded. plugin_init_timeout bounds a plugin's creation +
 * initialize() (handled per fail_on_plugin_error), plugin_shutdown_timeout bounds its shutdown()
 * and a host's dispose() (shutdown proceeds).
 */
import { describe, expect, it } from 'vitest';
import { CpexError, type PluginFactory, type PluginHost } from '../../src/index.js';
import { resolveSettings } from '../../src/internal.js';
import { deferred, newManager, rejectsWith, run, Trail } from './helpers.js';

const never = () => new Promise<never>(() => {});
const HOST = { supportsTimeouts: 'cooperative', isolated: false, copiesPayloads: false } as const;

describe('plugin_init_timeout (issue 11 item 7)', () => {
  it('an initialize() that never settles fails initialize() with CPEX_ERR_LIFECYCLE_TIMEOUT naming the plugin; nothing runs', async () => {
    const m = newManager({ pluginInitTimeout: 0.05 });
    const t = new Trail();
    m.register({ name: 'stuck', initialize: never, hooks: { tool_pre_invoke: () => void t.add('stuck') } });
    m.register({ name: 'fine', hooks: { tool_pre_invoke: () => void t.add('fine') } });
    const err = await rejectsWith(m.initialize(), 'CPEX_ERR_LIFECYCLE_TIMEOUT');
    expect(err.plugin).toBe('stuck');
    expect(err.message).toContain('plugin_init_timeout');
    await rejectsWith(run(m, 'tool_pre_invoke', {}), 'CPEX_ERR_NOT_INITIALIZED');
    expect(t.ran).toEqual([]);
  });

  it('with fail_on_plugin_error false the stuck plugin is skipped with a warning and the rest runs', async () => {
    const m = newManager({ pluginInitTimeout: 0.05, failOnPluginError: false });
    const t = new Trail();
    m.register({ name: 'stuck', initialize: never, hooks: { tool_pre_invoke: () => void t.add('stuck') } });
    m.register({ name: 'fine', hooks: { tool_pre_invoke: () => void t.add('fine') } });
    await m.initialize();
    await run(m, 'tool_pre_invoke', {});
    expect(t.ran).toEqual(['fine']);
    expect(m.warnings.join('\n')).toMatch(/stuck.*plugin_init_timeout/);
  });

  it('a factory whose create() never settles is bounded too (a Python worker that never answers its handshake)', async () => {
    const m = newManager({ pluginInitTimeout: 0.05 });
    const f: PluginFactory = { create: never };
    m.registerFactory('hang', f);
    await m.loadConfig({ plugins: [{ name: 'py', kind: 'hang', hooks: ['tool_pre_invoke'] }] });
    const err = await rejectsWith(m.initialize(), 'CPEX_ERR_LIFECYCLE_TIMEOUT');
    expect(err.plugin).toBe('py');
  });

  it('an instance that finishes initializing after its deadline is shut down, not leaked', async () => {
    const m = newManager({ pluginInitTimeout: 0.03, failOnPluginError: false });
    const gate = deferred();
    const down = deferred();
    m.register({
      name: 'late',
      initialize: () => gate.promise,
      shutdown: () => down.resolve(),
      hooks: { tool_pre_invoke: () => undefined },
    });
    await m.initialize();
    expect(m.pluginNames()).toEqual([]);
    gate.resolve();
    await down.promise;
  });

  it('a plugin registered after initialize() whose initialize hangs: ready rejects (coded) and invokes fail closed', async () => {
    const m = newManager({ pluginInitTimeout: 0.05 });
    await m.initialize();
    const h = m.register({ name: 'stuck', initialize: never, hooks: { tool_pre_invoke: () => undefined } });
    await rejectsWith(h.ready, 'CPEX_ERR_LIFECYCLE_TIMEOUT');
    await rejectsWith(run(m, 'tool_pre_invoke', {}), 'CPEX_ERR_LIFECYCLE_TIMEOUT');
    await h.dispose();
  });

  it('an initialize() that throws an uninspectable value is still a coded load error', async () => {
    const m = newManager();
    const r = Proxy.revocable({}, {});
    r.revoke();
    m.register({
      name: 'weird',
      initialize: () => {
        throw r.proxy;
      },
      hooks: { tool_pre_invoke: () => undefined },
    });
    const err = await m.initialize().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CpexError);
    expect((err as CpexError).plugin).toBe('weird');
  });
});

describe('plugin_shutdown_timeout (issue 11 item 7)', () => {
  it('a shutdown() that never settles is logged as CPEX_ERR_LIFECYCLE_TIMEOUT and shutdown proceeds: the other plugins and the hosts are still shut down', async () => {
    const disposed = deferred();
    const host: PluginHost = {
      name: 'h',
      capabilities: HOST,
      kinds: ['h'],
      factory: { create: async () => ({ handler: () => () => undefined, host: HOST }) },
      dispose: async () => disposed.resolve(),
    };
    const m = newManager({ pluginShutdownTimeout: 0.05, hosts: [host] });
    const t = new Trail();
    m.register({
      name: 'first',
      shutdown: () => void t.add('first:shutdown'),
      hooks: { tool_pre_invoke: () => undefined },
    });
    m.register({ name: 'stuck', shutdown: never, hooks: { tool_pre_invoke: () => undefined } });
    m.register({
      name: 'last',
      shutdown: () => void t.add('last:shutdown'),
      hooks: { tool_pre_invoke: () => undefined },
    });
    await m.initialize();
    await m.shutdown();
    await disposed.promise;
    expect(m.state).toBe('shut_down');
    expect(t.events).toEqual(['last:shutdown', 'first:shutdown']);
    expect(m.log.warnings().join('\n')).toMatch(/stuck.*CPEX_ERR_LIFECYCLE_TIMEOUT/);
  });

  it('a host whose dispose() never settles does not keep shutdown() from settling', async () => {
    const host: PluginHost = {
      name: 'hung-host',
      capabilities: HOST,
      kinds: [],
      factory: { create: never },
      dispose: never,
    };
    const m = newManager({ pluginShutdownTimeout: 0.05, hosts: [host] });
    await m.initialize();
    await m.shutdown();
    expect(m.log.warnings().join('\n')).toMatch(/hung-host/);
  });

  it('a shutdown() that throws a hostile value is logged, shutdown proceeds', async () => {
    const m = newManager();
    m.register({
      name: 'bad',
      shutdown: () => {
        throw {
          toString: () => {
            throw new Error('no');
          },
        };
      },
      hooks: { tool_pre_invoke: () => undefined },
    });
    await m.initialize();
    await m.shutdown();
    expect(m.state).toBe('shut_down');
  });
});

describe('lifecycle timeout settings: YAML, option, env, ranges (issue 11 item 7)', () => {
  it('precedence option > YAML > env > default (60 s init, 10 s shutdown)', () => {
    expect(resolveSettings({ env: {} })).toMatchObject({ pluginInitTimeout: 60, pluginShutdownTimeout: 10 });
    const env = { PLUGINS_PLUGIN_INIT_TIMEOUT: '5', PLUGINS_PLUGIN_SHUTDOWN_TIMEOUT: '2.5' };
    expect(resolveSettings({ env })).toMatchObject({ pluginInitTimeout: 5, pluginShutdownTimeout: 2.5 });
    expect(resolveSettings({ env }, { plugin_init_timeout: 7, plugin_shutdown_timeout: 3 })).toMatchObject({
      pluginInitTimeout: 7,
      pluginShutdownTimeout: 3,
    });
    expect(
      resolveSettings({ env, pluginInitTimeout: 9, pluginShutdownTimeout: 4 }, { plugin_init_timeout: 7 }),
    ).toMatchObject({ pluginInitTimeout: 9, pluginShutdownTimeout: 4 });
  });

  it('out-of-range values are config errors, never clamped: YAML, option and env', async () => {
    for (const bad of [0, -1, 2 ** 31, '10']) {
      const m = newManager();
      await expect(
        m.loadConfig({ plugin_settings: { plugin_init_timeout: bad } } as never),
      ).rejects.toMatchObject({
        code: 'CPEX_ERR_CONFIG_INVALID',
      });
      await expect(
        m.loadConfig({ plugin_settings: { plugin_shutdown_timeout: bad } } as never),
      ).rejects.toMatchObject({
        code: 'CPEX_ERR_CONFIG_INVALID',
      });
      expect(() => resolveSettings({ env: {}, pluginShutdownTimeout: bad as number })).toThrow(CpexError);
    }
    expect(() => resolveSettings({ env: { PLUGINS_PLUGIN_INIT_TIMEOUT: 'soon' } })).toThrow(
      /PLUGINS_PLUGIN_INIT_TIMEOUT/,
    );
  });
});
