import { ConfigError, CpexError, parseConfigText, PluginManager, validateConfig } from '@cpex/core';
import { describe, expect, it } from 'vitest';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('config errors name the file, the YAML path, the expected and the actual value', () => {
  it('a misspelled mode: plugins[2].mode: expected one of sequential|...|disabled, got "sequental", with line:col', () => {
    const yaml = [
      'plugins:',
      '  - {name: a, kind: k}',
      '  - {name: b, kind: k}',
      '  - name: c',
      '    kind: k',
      '    mode: sequental',
    ].join('\n');
    const e = configError(() => parseConfigText(yaml, { file: 'gateway.yaml' }));
    expect(e.code).toBe('CPEX_ERR_CONFIG_INVALID');
    expect(e.file).toBe('gateway.yaml');
    expect(e.path).toBe('plugins[2].mode');
    expect(e.message).toContain(
      'plugins[2].mode: expected one of sequential|transform|audit|concurrent|fire_and_forget|disabled, got "sequental"',
    );
    expect(e.message).toContain('(line 6:11)');
    expect(e.message.startsWith('gateway.yaml:')).toBe(true);
  });

  it('every problem is listed, not just the first', () => {
    const e = configError(() =>
      validateConfig({
        plugins: [
          { name: 'a', kind: 'k', priority: 'high', on_error: 'explode' },
          { name: '', kind: 'k', hooks: 'tool_pre_invoke' },
        ],
      }),
    );
    const paths = e.issues.map((i) => i.path).sort();
    expect(paths).toEqual([
      'plugins[0].on_error',
      'plugins[0].priority',
      'plugins[1].hooks',
      'plugins[1].name',
    ]);
    expect(e.message).toContain('plugins[0].on_error: expected one of fail|ignore|disable, got "explode"');
    expect(e.message).toContain(
      'plugins[0].priority: expected an integer in -2147483648..2147483647 (lower runs first), got "high"',
    );
    expect(e.message).toMatch(/plugins\[1\]\.hooks: expected array, got string "tool_pre_invoke"/);
  });

  it('a missing required field says so', () => {
    const e = configError(() => validateConfig({ plugins: [{ name: 'x' }] }));
    expect(e.message).toContain('plugins[0].kind: expected string, got nothing (missing)');
  });

  it('YAML syntax errors are CPEX_ERR_CONFIG_PARSE with the line', () => {
    const e = configError(() =>
      parseConfigText('plugins:\n  - name: a\n   kind: [unclosed\n', { file: 'bad.yaml' }),
    );
    expect(e.code).toBe('CPEX_ERR_CONFIG_PARSE');
    expect(e.message).toMatch(/bad\.yaml:\d+:\d+: /);
    // The location is named once per problem (the YAML library's own "at line X, column Y" is dropped).
    expect(e.message).not.toMatch(/at line \d+, column \d+/);
    for (const issue of e.issues) expect(issue.path).toMatch(/^line \d+:\d+$/);
  });

  it('duplicate plugin names are an error naming both places', () => {
    const e = configError(() =>
      validateConfig({
        plugins: [
          { name: 'a', kind: 'k' },
          { name: 'a', kind: 'k' },
        ],
      }),
    );
    expect(e.issues[0]).toEqual({
      path: 'plugins[1].name',
      message: 'duplicate plugin name "a" (first used at plugins[0])',
    });
  });

  it('unknown capability names are a config error at their path', () => {
    const e = configError(() =>
      validateConfig({
        plugins: [{ name: 'a', kind: 'k', capabilities: ['read_labels', 'read_everything'] }],
      }),
    );
    expect(e.path).toBe('plugins[0].capabilities[1]');
    expect(e.message).toContain('unknown capability "read_everything"');
    // docs/extensions.md promises this code
    expect(e.code).toBe('CPEX_ERR_UNKNOWN_CAPABILITY');
    expect(e.issues[0]?.code).toBe('CPEX_ERR_UNKNOWN_CAPABILITY');
  });

  it('an unknown capability in YAML gives CPEX_ERR_UNKNOWN_CAPABILITY with file:line; mixed with other issues, CONFIG_INVALID and each issue keeps its code', async () => {
    const m = new PluginManager();
    const e = (await m
      .loadConfigText('plugins:\n  - {name: a, kind: k, hooks: [x], capabilities: [read_lables]}\n')
      .catch((err: unknown) => err)) as ConfigError;
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.code).toBe('CPEX_ERR_UNKNOWN_CAPABILITY');
    expect(e.message).toMatch(/read_lables/);
    const mixed = configError(() =>
      validateConfig({
        plugins: [{ name: 'a', kind: 'k', mode: 'nope', capabilities: ['read_everything'] }],
      }),
    );
    expect(mixed.code).toBe('CPEX_ERR_CONFIG_INVALID');
    expect(mixed.issues.map((i) => i.code ?? 'CPEX_ERR_CONFIG_INVALID')).toContain('CPEX_ERR_CONFIG_INVALID');
  });

  it('external plugins (kind: external, mcp/grpc/unix_socket) are a clear "not supported yet" error', () => {
    const e = configError(() =>
      validateConfig({
        plugins: [
          {
            name: 'remote',
            kind: 'external',
            mcp: { proto: 'STREAMABLEHTTP', url: 'http://127.0.0.1:8000/mcp' },
          },
        ],
      }),
    );
    expect(e.code).toBe('CPEX_ERR_CONFIG_UNSUPPORTED');
    expect(e.message).toContain(
      'plugin "remote": external plugins (MCP/gRPC/unix-socket transports) are not supported yet',
    );
  });

  it('template syntax other than {{ env.X }} is refused, not silently kept', () => {
    const e = configError(() => parseConfigText('plugins:\n{% for x in y %}\n', { file: 'j.yaml' }));
    expect(e.code).toBe('CPEX_ERR_CONFIG_UNSUPPORTED');
    expect(e.message).toContain('j.yaml:2');
  });

  it('the root must be a mapping', () => {
    expect(() => parseConfigText('- a\n- b\n')).toThrowError(/\(root\): expected a mapping, got a list/);
  });
});

describe('config semantics', () => {
  it('YAML 1.2: off/yes/no stay strings (Python reads YAML 1.1 and would turn them into booleans)', () => {
    const cfg = parseConfigText('plugins:\n  - {name: off, kind: yes, hooks: [no]}\n');
    expect(cfg.entries[0]).toMatchObject({ name: 'off', kind: 'yes', hooks: ['no'] });
  });

  it('legacy modes are rewritten as Python does (enforce, permissive, enforce_ignore_error)', () => {
    const cfg = validateConfig({
      plugins: [
        { name: 'a', kind: 'k', mode: 'enforce' },
        { name: 'b', kind: 'k', mode: 'permissive' },
        { name: 'c', kind: 'k', mode: 'enforce_ignore_error' },
        { name: 'd', kind: 'k', mode: 'enforce_ignore_error', on_error: 'disable' },
      ],
    });
    expect(cfg.entries.map((e) => [e.mode, e.onError])).toEqual([
      ['sequential', 'fail'],
      ['transform', 'fail'],
      ['sequential', 'ignore'],
      ['sequential', 'disable'],
    ]);
  });

  it('defaults: mode sequential, priority 100, on_error fail, no timeout (plugin_timeout applies)', () => {
    const [e] = validateConfig({ plugins: [{ name: 'a', kind: 'k' }] }).entries;
    expect(e).toMatchObject({
      mode: 'sequential',
      priority: 100,
      onError: 'fail',
      hooks: [],
      capabilities: [],
      conditions: [],
    });
    expect(e!.timeout).toBeUndefined();
  });

  it('per-plugin timeout is seconds, fractions allowed; zero or negative is an error', () => {
    expect(validateConfig({ plugins: [{ name: 'a', kind: 'k', timeout: 0.25 }] }).entries[0]!.timeout).toBe(
      0.25,
    );
    const e = configError(() => validateConfig({ plugins: [{ name: 'a', kind: 'k', timeout: 0 }] }));
    expect(e.path).toBe('plugins[0].timeout');
  });

  it('{{ env.NAME }} substitution, with | default(...)', () => {
    const cfg = parseConfigText(
      "plugins:\n  - {name: '{{ env.PNAME }}', kind: \"{{ env.MISSING | default('fallback') }}\"}\n",
      {
        env: { PNAME: 'from-env' },
      },
    );
    expect(cfg.entries[0]).toMatchObject({ name: 'from-env', kind: 'fallback' });
  });

  it('unknown keys are warnings (Python ignores them), never silently dropped', () => {
    const cfg = validateConfig({
      plugins: [{ name: 'a', kind: 'k', moed: 'audit' }],
      plugin_settings: { enable_plugin_api: true },
    });
    expect(cfg.warnings).toEqual([
      'plugin_settings.enable_plugin_api: unknown key, ignored',
      'plugins[0].moed: unknown key, ignored',
    ]);
    expect(cfg.entries[0]!.extra).toEqual({ moed: 'audit' });
  });

  it('condition content types are normalized (parameters dropped, trimmed, lower-cased)', () => {
    const cfg = validateConfig({
      plugins: [
        { name: 'a', kind: 'k', conditions: [{ content_types: [' Application/JSON; charset=latin1'] }] },
      ],
    });
    expect(cfg.entries[0]!.conditions).toEqual([{ contentTypes: ['application/json'] }]);
  });

  it('routes, groups and global.defaults are validated and normalized (routing_enabled)', () => {
    const cfg = validateConfig({
      plugin_settings: { routing_enabled: true },
      plugins: [{ name: 'a', kind: 'k' }],
      groups: { g: { plugins: ['a'] } },
      global: { defaults: { tool: 'g' } },
      routes: [{ tool: 'send_*', plugins: [{ a: { config: { x: 1 } } }] }],
    });
    expect(cfg.settings.routing_enabled).toBe(true);
    expect(cfg.routing.groups).toEqual({ g: [{ name: 'a' }] });
    expect(cfg.routing.defaults).toEqual({ tool: ['g'] });
    expect(cfg.routing.routes[0]).toMatchObject({
      entityType: 'tool',
      match: { kind: 'glob' },
      plugins: [{ name: 'a', config: { x: 1 } }],
    });
  });

  it('plugin_dirs resolve against the config file directory', () => {
    const cfg = parseConfigText('plugin_dirs: [./plugins]\n', { baseDir: '/srv/gateway' });
    expect(cfg.pluginDirs).toEqual(['/srv/gateway/plugins']);
  });

  it('a missing config file is CPEX_ERR_CONFIG_READ naming the file', async () => {
    const m = new PluginManager();
    await expect(m.loadConfig('/nonexistent/cpex.yaml')).rejects.toMatchObject({
      code: 'CPEX_ERR_CONFIG_READ',
      file: '/nonexistent/cpex.yaml',
    });
  });

  it('invalid PLUGINS_* environment values are coded errors naming the variable', () => {
    expect(() => new PluginManager({ env: { PLUGINS_EXECUTION_POOL: 'many' } })).toThrow(CpexError);
    expect(() => new PluginManager({ env: { PLUGINS_EXECUTION_POOL: 'many' } })).toThrowError(
      /environment PLUGINS_EXECUTION_POOL: expected an integer in 0\.\.10000 \(plugins; 0 = unbounded\), got "many"/,
    );
    expect(() => new PluginManager({ env: { PLUGINS_PLUGIN_TIMEOUT: '0' } })).toThrowError(
      /environment PLUGINS_PLUGIN_TIMEOUT: expected a number > 0 and <= 2147483\.647 \(seconds\), got "0"/,
    );
  });
});
