// The cpex CLI run as a real child process (node + tsx from source), success and every error path.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../..');
const bin = path.join(repo, 'packages/cli/src/bin.ts');
const fx = (name: string) => path.join('packages/cli/test/fixtures', name);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cpex(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--conditions=@cpex/source', '--import', 'tsx', bin, ...args],
      { cwd: repo, env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('cpex --help / usage errors (exit 2)', { timeout: 90_000 }, () => {
  it('--help lists the commands and exit codes; no command prints it to stderr with exit 2', async () => {
    const help = await cpex('--help');
    expect(help.code).toBe(0);
    for (const c of ['validate', 'invoke', 'plugins']) expect(help.stdout).toContain(`  ${c}`);
    expect(help.stdout).toMatch(/Exit codes: 0 ok, 1 invalid config/);
    const none = await cpex();
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Usage: cpex <command>');
  });

  it.each(['validate', 'invoke', 'plugins'])(
    '%s --help and `cpex help %s` show the command help',
    async (c) => {
      const a = await cpex(c, '--help');
      expect(a.code).toBe(0);
      expect(a.stdout).toContain(`Usage: cpex ${c} <config>`);
      expect(a.stdout).toContain('Exit codes:');
      const b = await cpex('help', c);
      expect(b.stdout).toBe(a.stdout);
    },
  );

  it('an unknown command or flag, or a missing argument, is a coded usage error', async () => {
    const cmd = await cpex('frobnicate');
    expect(cmd.code).toBe(2);
    expect(cmd.stderr).toMatch(/^error CPEX_ERR_INVALID_ARGUMENT: cpex: unknown command "frobnicate"/);
    const flag = await cpex('validate', fx('good.yaml'), '--frob');
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("Unknown option '--frob'");
    const missing = await cpex('invoke', fx('good.yaml'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('missing <hook>');
    const extra = await cpex('validate', 'a.yaml', 'b.yaml');
    expect(extra.code).toBe(2);
    expect(extra.stderr).toContain('unexpected argument "b.yaml"');
  });
});

describe('cpex validate', { timeout: 90_000 }, () => {
  it('a good config: exit 0 and a summary', async () => {
    const r = await cpex('validate', fx('good.yaml'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('ok: 3 plugins (+1 disabled) on 1 hook\n');
    const j = await cpex('validate', fx('good.yaml'), '--json');
    expect(JSON.parse(j.stdout)).toEqual({
      ok: true,
      plugins: 3,
      disabled: 1,
      hooks: ['tool_pre_invoke'],
      warnings: [],
    });
  });

  it('a missing file is CPEX_ERR_CONFIG_READ (exit 1)', async () => {
    const r = await cpex('validate', 'no/such/config.yaml');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error CPEX_ERR_CONFIG_READ: .*no\/such\/config\.yaml/);
  });

  it('a YAML syntax error is CPEX_ERR_CONFIG_PARSE naming the file', async () => {
    // Written at test time: a broken YAML file in the repo would fail the linter.
    const dir = mkdtempSync(path.join(tmpdir(), 'cpex-cli-'));
    const file = path.join(dir, 'syntax.yaml');
    writeFileSync(file, 'plugins:\n  - name: a\n    kind: node://./guard.mjs\n    hooks: [tool_pre_invoke\n');
    try {
      const r = await cpex('validate', file);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^error CPEX_ERR_CONFIG_PARSE/);
      expect(r.stderr).toContain(`(file ${file})`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('schema errors: every issue on its own line with its YAML path', async () => {
    const r = await cpex('validate', fx('schema.yaml'));
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^error CPEX_ERR_CONFIG_INVALID at plugins\[1\]\.mode: .*"sequental"/);
    expect(lines[1]).toMatch(/^error CPEX_ERR_CONFIG_INVALID at plugins\[1\]\.priority: .*"high"/);
    expect(lines[0]).toContain(`(file ${fx('schema.yaml')})`);
    const j = await cpex('validate', fx('schema.yaml'), '--json');
    const out = JSON.parse(j.stdout) as { ok: boolean; errors: Array<{ code: string; path: string }> };
    expect(out.ok).toBe(false);
    expect(out.errors.map((e) => e.path)).toEqual(['plugins[1].mode', 'plugins[1].priority']);
  });

  it('an unknown kind is CPEX_ERR_UNKNOWN_KIND naming the plugin; --schema-only does not create plugins', async () => {
    const r = await cpex('validate', fx('unknown-kind.yaml'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error CPEX_ERR_UNKNOWN_KIND/);
    expect(r.stderr).toContain('mystery');
    expect(r.stderr).toContain('no-such-factory');
    const s = await cpex('validate', fx('unknown-kind.yaml'), '--schema-only');
    expect(s.code).toBe(0);
    expect(s.stdout).toContain('(schema only)');
  });

  it('a plugin skipped under fail_on_plugin_error: false still fails validation (CPEX_ERR_PLUGIN_LOAD)', async () => {
    const r = await cpex('validate', fx('skipped.yaml'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^error CPEX_ERR_PLUGIN_LOAD at plugins\[1\]: plugin ghost was skipped: .*module was not found/,
    );
    // invoke runs what loaded, and says what it skipped.
    const i = await cpex(
      'invoke',
      fx('skipped.yaml'),
      'tool_pre_invoke',
      '--payload',
      '{"name":"x","args":{}}',
    );
    expect(i.code).toBe(0);
    expect(i.stderr).toMatch(/^warning: .*ghost/m);
    expect(JSON.parse(i.stdout).metadata).toEqual({ checked_by: 'fine' });
  });

  it('a node:// module that does not exist is CPEX_ERR_MODULE_NOT_FOUND naming plugin and path', async () => {
    const r = await cpex('validate', fx('missing-module.yaml'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error CPEX_ERR_MODULE_NOT_FOUND: plugin ghost \(kind node:\/\/\.\/ghost\.mjs/);
    expect(r.stderr).toContain(path.join(repo, 'packages/cli/test/fixtures/ghost.mjs'));
  });
});

describe('cpex invoke', { timeout: 90_000 }, () => {
  it('--extensions get the schemas plugin output gets: labels as a string or a mixed list are a usage error naming the field (exit 2)', async () => {
    for (const ext of ['{"security":{"labels":"pii"}}', '{"security":{"labels":["pii",3]}}']) {
      const r = await cpex(
        'invoke',
        fx('good.yaml'),
        'tool_pre_invoke',
        '--payload',
        `@${fx('payload.json')}`,
        '--extensions',
        ext,
      );
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/CPEX_ERR_INVALID_PAYLOAD.*extensions\.security\.labels/);
      expect(r.stdout).toBe('');
    }
  });

  it('prints the PipelineResult with wire keys, background errors included (exit 0)', async () => {
    const r = await cpex('invoke', fx('good.yaml'), 'tool_pre_invoke', '--payload', `@${fx('payload.json')}`);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(out).sort()).toEqual(
      [
        'background_errors',
        'context_table',
        'continue_processing',
        'errors',
        'metadata',
        'modified_extensions',
        'modified_payload',
        'payload_modified',
        'retry_delay_ms',
        'violation',
      ].sort(),
    );
    expect(out.continue_processing).toBe(true);
    expect(out.modified_payload).toEqual({ name: 'SEARCH', args: { q: 'cats' } });
    expect(out.payload_modified).toBe(true);
    expect(out.metadata).toEqual({ checked_by: 'guard' });
    expect(out.background_errors).toEqual([
      expect.objectContaining({
        plugin_name: 'telemetry',
        code: 'plugin_error',
        message: 'telemetry sink unreachable',
      }),
    ]);
    expect(Object.keys(out.context_table as object).sort()).toEqual(['guard', 'telemetry', 'upper']);
  });

  it('a denied call prints the violation and exits 3', async () => {
    const r = await cpex(
      'invoke',
      fx('good.yaml'),
      'tool_pre_invoke',
      '--payload',
      '{"name":"rm","args":{}}',
      '--compact',
    );
    expect(r.code).toBe(3);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    const out = JSON.parse(r.stdout) as { continue_processing: boolean; violation: Record<string, unknown> };
    expect(out.continue_processing).toBe(false);
    expect(out.violation).toEqual({ code: 'tool_blocked', reason: 'rm is blocked', plugin_name: 'guard' });
  });

  it('--context reaches plugins (snake_case keys), unknown context keys are usage errors', async () => {
    const ok = await cpex(
      'invoke',
      fx('good.yaml'),
      'tool_pre_invoke',
      '--payload',
      '{"name":"x","args":{}}',
      '--context',
      '{"request_id":"req-7","tenant_id":"t1","state":{"k":1}}',
    );
    expect(ok.code).toBe(0);
    expect(Object.keys(JSON.parse(ok.stdout).context_table)).toContain('guard');
    const bad = await cpex(
      'invoke',
      fx('good.yaml'),
      'tool_pre_invoke',
      '--payload',
      '{}',
      '--context',
      '{"tenant":"x"}',
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--context: unknown key "tenant"');
  });

  it.each([
    [['--payload', '{bad'], /--payload is not valid JSON/],
    [['--payload', '[1,2]'], /--payload must be a JSON object, got an array/],
    [
      ['--payload', '@packages/cli/test/fixtures/nope.json'],
      /--payload file .*nope\.json: cannot read \(no such file\)/,
    ],
    [['--payload', '{}', '--extensions', 'nope'], /--extensions is not valid JSON/],
    [[], /--payload <json\|@file> is required/],
  ])('bad payload input %j is a usage error (exit 2)', async (flags, message) => {
    const r = await cpex('invoke', fx('good.yaml'), 'tool_pre_invoke', ...flags);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error CPEX_ERR_INVALID_ARGUMENT/);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });

  it('a 100,000-deep payload is CPEX_ERR_PAYLOAD_TOO_DEEP (exit 2), not a stack overflow', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cpex-deep-'));
    try {
      const file = path.join(dir, 'deep.json');
      writeFileSync(file, `{"name":"x","args":${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
      const r = await cpex('invoke', fx('good.yaml'), 'tool_pre_invoke', '--payload', `@${file}`);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(
        /^error CPEX_ERR_PAYLOAD_TOO_DEEP: cpex invoke --payload: payload nests deeper than max_payload_depth 128/,
      );
      expect(r.stderr).not.toMatch(/Maximum call stack/);
      const ctx = await cpex(
        'invoke',
        fx('good.yaml'),
        'tool_pre_invoke',
        '--payload',
        '{"name":"x"}',
        '--context',
        `{"state":${'{"a":'.repeat(200)}1${'}'.repeat(200)}}`,
      );
      expect(ctx.code).toBe(2);
      expect(ctx.stderr).toContain('CPEX_ERR_PAYLOAD_TOO_DEEP: cpex invoke --context');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a plugin's exact 64-bit integer (a BigInt in its state) is printed digit for digit, not a crash", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cpex-bigint-'));
    try {
      writeFileSync(
        path.join(dir, 'hash.mjs'),
        'export default (c, e) => ({ name: e.name, hooks: { tool_pre_invoke(p, ctx) { ctx.state.hash = 14695981039346656037n; ctx.state.list = [-9223372036854775808n, 1]; return {}; } } });\n',
      );
      writeFileSync(
        path.join(dir, 'config.yaml'),
        'plugins:\n  - {name: hasher, kind: node://./hash.mjs, hooks: [tool_pre_invoke]}\n',
      );
      for (const compact of [[], ['--compact']]) {
        const r = await cpex(
          'invoke',
          path.join(dir, 'config.yaml'),
          'tool_pre_invoke',
          '--payload',
          '{"name":"x"}',
          ...compact,
        );
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        expect(r.stdout.replace(/\s+/g, '')).toContain(
          '"state":{"hash":14695981039346656037,"list":[-9223372036854775808,1]}',
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a plugin returning a 500-deep payload gets a coded error, not a stack overflow', async () => {
    const r = await cpex('invoke', fx('deep.yaml'), 'tool_pre_invoke', '--payload', '{"name":"x"}');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^error CPEX_ERR_PAYLOAD_TOO_DEEP: cpex invoke result: payload nests deeper than/,
    );
  });

  it('a config error is exit 1 and prints no result', async () => {
    const r = await cpex('invoke', fx('schema.yaml'), 'tool_pre_invoke', '--payload', '{}');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/CPEX_ERR_CONFIG_INVALID at plugins\[1\]\.mode/);
  });

  it('a hook nobody handles passes through with a warning', async () => {
    const r = await cpex('invoke', fx('good.yaml'), 'resource_pre_fetch', '--payload', '{"uri":"file:///x"}');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('warning: no plugin');
    expect(JSON.parse(r.stdout)).toMatchObject({
      continue_processing: true,
      context_table: null,
      errors: [],
    });
  });
});

describe('cpex plugins', { timeout: 90_000 }, () => {
  it('shows each hook by phase in run order with mode, priority, timeout, on_error and capabilities', async () => {
    const r = await cpex('plugins', fx('good.yaml'));
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('tool_pre_invoke');
    const rows = lines.slice(2, 5).map((l) => l.trim().split(/\s{2,}/));
    expect(rows).toEqual([
      ['sequential', '10', 'guard', '5s', 'fail', '-', 'node://./guard.mjs'],
      ['transform', '50', 'upper', '0.5s', 'fail', 'read_headers', 'node://./guard.mjs#upper'],
      ['fire_and_forget', '100', 'telemetry', '5s', 'fail', '-', 'node://./guard.mjs#failing'],
    ]);
    expect(r.stdout).toContain('parked  hooks: tool_post_invoke');
    // how each plugin runs, from its host's describe()
    expect(r.stdout).toContain('hosts (how each plugin runs)');
    expect(r.stdout).toMatch(/ {2}upper\s+in-process\s+none\s+cooperative\s+-/);
    expect(r.stdout).toMatch(/note: timeout is cooperative/);
  });

  it('--json and --no-load agree with the loaded lineup', async () => {
    const loaded = JSON.parse((await cpex('plugins', fx('good.yaml'), '--json')).stdout);
    const fromConfig = JSON.parse((await cpex('plugins', fx('good.yaml'), '--json', '--no-load')).stdout);
    const { plugins, ...lineup } = loaded;
    expect(fromConfig).toEqual(lineup);
    expect(fromConfig.plugins).toBeUndefined(); // no plugins created, no host descriptions
    // every loaded plugin is described by its host (here the in-process host, via node://)
    expect(Object.keys(plugins).sort()).toEqual(['guard', 'telemetry', 'upper']);
    expect(plugins.upper).toMatchObject({
      host: 'in-process',
      isolation: 'none',
      timeouts: 'cooperative',
      details: { export: 'upper' },
    });
    expect(plugins.upper.notes.join(' ')).toMatch(/cooperative/);
    expect(loaded.hooks.tool_pre_invoke.transform).toEqual([
      {
        name: 'upper',
        mode: 'transform',
        priority: 50,
        timeout: 0.5,
        on_error: 'fail',
        capabilities: ['read_headers'],
        kind: 'node://./guard.mjs#upper',
        disabled: false,
      },
    ]);
    expect(loaded.disabled).toEqual([
      { name: 'parked', hooks: ['tool_post_invoke'], kind: 'node://./guard.mjs' },
    ]);
  });

  it('load errors are coded (exit 1); --no-load still shows a config whose plugins cannot load', async () => {
    const r = await cpex('plugins', fx('missing-module.yaml'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/CPEX_ERR_MODULE_NOT_FOUND/);
    const n = await cpex('plugins', fx('missing-module.yaml'), '--no-load');
    expect(n.code).toBe(0);
    expect(n.stdout).toContain('ghost');
  });
});

describe('Python plugins through @cpex/host-python (real Python worker processes)', {
  timeout: 90_000,
}, () => {
  it('validate and invoke the examples/python-plugin config', async () => {
    const v = await cpex('validate', 'examples/python-plugin/config.yaml');
    expect(v.stderr).toBe('');
    expect(v.stdout).toBe('ok: 2 plugins on 2 hooks\n');
    const r = await cpex(
      'invoke',
      'examples/python-plugin/config.yaml',
      'tool_pre_invoke',
      '--payload',
      '{"name":"delete_database","args":{}}',
    );
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout).violation).toMatchObject({
      code: 'TOOL_DENIED',
      plugin_name: 'python-deny-list',
    });
  });

  it('cpex plugins shows how the Python host runs each plugin (process isolation, pre-emptive timeouts, pids)', async () => {
    const r = await cpex('plugins', 'examples/python-plugin/config.yaml', '--json');
    expect(r.code).toBe(0);
    const d = JSON.parse(r.stdout).plugins['python-deny-list'];
    expect(d).toMatchObject({
      host: 'python',
      isolation: 'process',
      timeouts: 'preemptive',
      details: { class: 'pii_guard.ToolDenyList', workers: 1 },
    });
    expect(d.details.pids).toHaveLength(1);
    expect(d.details.interpreter).toEqual(expect.any(String));
    const t = await cpex('plugins', 'examples/python-plugin/config.yaml');
    expect(t.stdout).toMatch(/python-deny-list\s+python\s+process\s+preemptive/);
    expect(t.stdout).toContain('note: not a sandbox');
  });
});
