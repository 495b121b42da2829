/**
 * ARCHITECTURE.md section 3 "Settings. Precedence: PluginManager option > YAML plugin_settings >
 * PLUGINS_* environment variable > default", every row of the settings table, and section 4 row
 * "plugin_settings in YAML: honoured; env vars as fallback".
 */
import { describe, expect, it } from 'vitest';
import { CpexError, type ManagerOptions, type ResolvedSettings } from '../../src/index.js';
import { newManager, probe, rejectsWith, sleep, Trail, run } from './helpers.js';

type Row = {
  setting: keyof ResolvedSettings;
  yamlKey: string;
  option: keyof ManagerOptions;
  env?: string;
  def: unknown;
  /** Values for option / yaml / env, all different from each other and from the default. */
  values: { option: unknown; yaml: unknown; env?: { raw: string; value: unknown } };
};

const ROWS: Row[] = [
  {
    setting: 'pluginTimeout',
    yamlKey: 'plugin_timeout',
    option: 'pluginTimeout',
    env: 'PLUGINS_PLUGIN_TIMEOUT',
    def: 30,
    values: { option: 1.5, yaml: 2.5, env: { raw: '3.5', value: 3.5 } },
  },
  {
    setting: 'failOnPluginError',
    yamlKey: 'fail_on_plugin_error',
    option: 'failOnPluginError',
    env: 'PLUGINS_FAIL_ON_PLUGIN_ERROR',
    def: true,
    values: { option: true, yaml: false, env: { raw: 'false', value: false } },
  },
  {
    setting: 'executionPool',
    yamlKey: 'execution_pool',
    option: 'executionPool',
    env: 'PLUGINS_EXECUTION_POOL',
    def: 10,
    values: { option: 3, yaml: 4, env: { raw: '5', value: 5 } },
  },
  {
    setting: 'hookPolicies',
    yamlKey: 'hook_policies',
    option: 'hookPolicies',
    def: {},
    values: { option: { tool_pre_invoke: ['args'] }, yaml: { tool_post_invoke: ['result'] } },
  },
  {
    setting: 'defaultHookPolicy',
    yamlKey: 'default_hook_policy',
    option: 'defaultHookPolicy',
    env: 'PLUGINS_DEFAULT_HOOK_POLICY',
    def: 'allow',
    values: { option: 'allow', yaml: 'deny', env: { raw: 'deny', value: 'deny' } },
  },
  {
    setting: 'cowValidation',
    yamlKey: 'cow_validation',
    option: 'cowValidation',
    def: 'strict',
    values: { option: 'strict', yaml: 'disabled' },
  },
  {
    setting: 'shortCircuitOnDeny',
    yamlKey: 'short_circuit_on_deny',
    option: 'shortCircuitOnDeny',
    def: true,
    values: { option: true, yaml: false },
  },
  {
    setting: 'maxPayloadBytes',
    yamlKey: 'max_payload_bytes',
    option: 'maxPayloadBytes',
    def: 10_000_000,
    values: { option: 1000, yaml: 2000 },
  },
  {
    setting: 'routingEnabled',
    yamlKey: 'routing_enabled',
    option: 'routingEnabled',
    def: false,
    values: { option: false, yaml: true },
  },
  {
    setting: 'routeCacheMaxEntries',
    yamlKey: 'route_cache_max_entries',
    option: 'routeCacheMaxEntries',
    def: 10_000,
    values: { option: 11, yaml: 22 },
  },
];

describe('settings precedence: option > plugin_settings > PLUGINS_* env > default (ARCH s3 "Settings")', () => {
  for (const row of ROWS) {
    it(`${row.yamlKey}: default ${JSON.stringify(row.def)}${row.env ? `, ${row.env} overrides it` : ''}, plugin_settings overrides ${row.env ? 'env' : 'the default'}, the ${row.option} option overrides all (ARCH s3 settings table)`, async () => {
      const env = row.env && row.values.env ? { [row.env]: row.values.env.raw } : {};
      // default
      expect(newManager().settings[row.setting]).toEqual(row.def);
      // env > default
      if (row.env && row.values.env)
        expect(newManager({ env }).settings[row.setting]).toEqual(row.values.env.value);
      // yaml > env
      const y = newManager({ env });
      await y.loadConfig({ plugin_settings: { [row.yamlKey]: row.values.yaml } });
      expect(y.settings[row.setting]).toEqual(row.values.yaml);
      // option > yaml > env
      const o = newManager({ env, [row.option]: row.values.option } as ManagerOptions);
      await o.loadConfig({ plugin_settings: { [row.yamlKey]: row.values.yaml } });
      expect(o.settings[row.setting]).toEqual(row.values.option);
    });
  }

  it('the `timeout` option is accepted as an alias of pluginTimeout (ARCH s3 settings table "pluginTimeout (timeout accepted)")', () => {
    expect(newManager({ timeout: 4 }).settings.pluginTimeout).toBe(4);
  });

  it('an invalid PLUGINS_* value is a coded error naming the variable (bad input gets a clear coded error)', () => {
    for (const [name, raw] of [
      ['PLUGINS_PLUGIN_TIMEOUT', 'soon'],
      ['PLUGINS_EXECUTION_POOL', '-1'],
      ['PLUGINS_FAIL_ON_PLUGIN_ERROR', 'maybe'],
      ['PLUGINS_DEFAULT_HOOK_POLICY', 'sometimes'],
    ] as const) {
      let err: unknown;
      try {
        newManager({ env: { [name]: raw } });
      } catch (e) {
        err = e;
      }
      expect(err, name).toBeInstanceOf(CpexError);
      expect((err as CpexError).message, name).toContain(name);
    }
  });

  it('an invalid plugin_settings value is a config error naming its YAML path (bad input gets a clear coded error)', async () => {
    const m = newManager();
    const err = await rejectsWith(
      m.loadConfigText('plugin_settings:\n  execution_pool: -2\n  default_hook_policy: maybe\n'),
      'CPEX_ERR_CONFIG_INVALID',
    );
    expect(err.message).toContain('plugin_settings.execution_pool');
    expect(err.message).toContain('plugin_settings.default_hook_policy');
  });

  it('an invalid option is a coded error naming the option (bad input gets a clear coded error)', () => {
    for (const [opts, name] of [
      [{ pluginTimeout: -1 }, 'pluginTimeout'],
      [{ executionPool: 1.5 }, 'executionPool'],
      [{ cowValidation: 'sometimes' }, 'cowValidation'],
    ] as const) {
      let err: unknown;
      try {
        newManager(opts as ManagerOptions);
      } catch (e) {
        err = e;
      }
      expect(err, name).toBeInstanceOf(CpexError);
      expect((err as CpexError).message, name).toContain(name);
    }
  });
});

describe('settings take effect (ARCH s3 settings table; s4 row "plugin_settings in YAML: honoured")', () => {
  it('PLUGINS_PLUGIN_TIMEOUT from the environment actually bounds plugin calls (ARCH s3 settings table)', async () => {
    const m = newManager({ env: { PLUGINS_PLUGIN_TIMEOUT: '0.02' } });
    probe(m, new Trail(), 'slow', { onError: 'ignore' }, async () => {
      await sleep(300);
      return undefined;
    });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(r.errors.map((e) => e.code)).toEqual(['plugin_timeout']);
  });

  it('plugin_settings.plugin_timeout in YAML beats PLUGINS_PLUGIN_TIMEOUT (ARCH s3 "option > plugin_settings > env")', async () => {
    const m = newManager({ env: { PLUGINS_PLUGIN_TIMEOUT: '0.01' } });
    await m.loadConfig({ plugin_settings: { plugin_timeout: 5 } });
    probe(m, new Trail(), 'fine', {}, async () => {
      await sleep(40);
      return { metadata: { ok: true } };
    });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(r.errors).toEqual([]);
    expect(r.metadata).toEqual({ ok: true });
  });

  it('PLUGINS_EXECUTION_POOL from the environment limits concurrent plugins in flight (ARCH s3 settings table)', async () => {
    const m = newManager({ env: { PLUGINS_EXECUTION_POOL: '1' } });
    let inflight = 0;
    let max = 0;
    for (const n of ['a', 'b', 'c']) {
      probe(m, new Trail(), n, { mode: 'concurrent' }, async () => {
        max = Math.max(max, ++inflight);
        await sleep(3);
        inflight--;
        return undefined;
      });
    }
    await m.initialize();
    await run(m, 'tool_pre_invoke', {});
    expect(max).toBe(1);
  });
});

describe('config rows of ARCH s4 ("YAML", "external plugins")', () => {
  it('YAML is 1.2: `yes` is a string, so `fail_on_plugin_error: yes` is rejected with its YAML path and line (ARCH s4 row "YAML 1.2, zod-validated, errors with the YAML path")', async () => {
    const m = newManager();
    const err = await rejectsWith(
      m.loadConfigText('plugin_settings:\n  fail_on_plugin_error: yes\n', { file: 'plugins.yaml' }),
      'CPEX_ERR_CONFIG_INVALID',
    );
    expect(err.message).toContain('plugin_settings.fail_on_plugin_error');
    expect(err.message).toContain('plugins.yaml');
    expect(err.message).toMatch(/line 2/);
  });

  it('a bad plugin entry is rejected naming its YAML path, and every problem is listed (ARCH s4 row "YAML")', async () => {
    const m = newManager();
    const err = await rejectsWith(
      m.loadConfigText(
        [
          'plugins:',
          '  - {name: a, kind: probe, mode: sometimes}',
          '  - {name: b, kind: probe, priority: high}',
        ].join('\n'),
      ),
      'CPEX_ERR_CONFIG_INVALID',
    );
    expect(err.message).toContain('plugins[0].mode');
    expect(err.message).toContain('plugins[1].priority');
  });

  it('external plugins (kind: external, MCP/gRPC/unix transports) are a clear "not supported yet" config error naming the plugin (ARCH s4 row "external plugins")', async () => {
    const m = newManager();
    const err = await rejectsWith(
      m.loadConfig({
        plugins: [{ name: 'remote', kind: 'external', hooks: ['tool_pre_invoke'], mcp: { url: 'http://x' } }],
      }),
      'CPEX_ERR_CONFIG_UNSUPPORTED',
    );
    expect(err.message).toContain('remote');
    expect(err.message).toContain('not supported yet');
    expect(err.message).toContain('plugins[0]');
  });
});
