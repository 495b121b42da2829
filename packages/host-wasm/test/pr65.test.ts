/**
 * Acceptance against Rust cpex PR #65 (the WASM host, commit 9dce96f): its example plugins
 * (`crates/cpex-wasm-plugin/src/examples`), loaded through our host with configs like PR #65's
 * (`crates/cpex-wasm-host/config/*.yaml`: same names, kinds, hooks, modes and sandbox_policy),
 * must reach the decisions PR #65's own tests expect of them (the `#[cfg(test)]` modules of the
 * examples and crates/cpex-wasm-host/tests).
 *
 * Two sets of components run the same table:
 * - our own reproduction of each example (fixtures/rust/pr65), always — CI included;
 * - PR #65's examples built UNCHANGED from its source, when CPEX_PR65_SRC names a clone of
 *   contextforge-org/cpex (CI has no access to GitHub; see docs/hosts/wasm.md for the last run).
 *   With them, PR #65's config files themselves are loaded verbatim too.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type MessagePayload, PluginManager } from '@cpex/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createWasmHost, type WasmHost } from '../src/index.js';
import { CACHE_DIR, pr65Reproduction, pr65Unchanged, scratchDir } from './fixtures.js';

const cacheDir = `${CACHE_DIR}/transpiled`;
const unchanged = pr65Unchanged();
const origins = [
  { origin: 'our reproduction of PR #65 examples', dir: pr65Reproduction(), verbatimConfigs: false },
  ...(unchanged
    ? [{ origin: 'PR #65 examples built unchanged', dir: unchanged, verbatimConfigs: true }]
    : []),
];

type Rec = Record<string, unknown>;
const hosts: WasmHost[] = [];
const managers: PluginManager[] = [];
afterAll(async () => {
  for (const m of managers) await m.shutdown();
  for (const h of hosts) await h.dispose();
});

/** A sandbox_policy block as PR #65's configs write it (10 MB, 1 B fuel, 5 s). */
function policy(extra: Rec = {}): Rec {
  return {
    sandbox_policy: {
      allowed_filesystem: [],
      allowed_network: [],
      allowed_env: [],
      resources: {
        max_memory_bytes: 10485760,
        max_fuel: 1000000000,
        max_execution_time_ms: 5000,
        max_instances: 10,
        max_tables: 10,
      },
      ...extra,
    },
  };
}

function entry(name: string, example: string, hooks: string[], more: Rec = {}): Rec {
  return {
    name,
    kind: `wasm://${example}.wasm`,
    hooks,
    mode: 'sequential',
    priority: 10,
    on_error: 'fail',
    config: policy(),
    ...more,
  };
}

/** The four plugins of PR #65's config_plugin_demo.yaml. */
function pluginDemo(): Rec[] {
  return [
    entry('identity-resolver', 'tool-invoke-checker', ['tool_pre_invoke', 'tool_post_invoke']),
    entry('pii-guard', 'pii-guard', ['tool_pre_invoke'], { priority: 20 }),
    entry('remote-authz', 'remote-authz', ['tool_pre_invoke'], { priority: 30 }),
    entry('audit-logger', 'audit-logger-custom', ['tool_pre_invoke', 'tool_post_invoke'], {
      mode: 'fire_and_forget',
      priority: 100,
      on_error: 'ignore',
    }),
  ];
}

async function managerFor(
  dir: string,
  plugins: Rec[],
  baseDir = dir,
  more: Rec = {},
): Promise<PluginManager> {
  const host = createWasmHost({ cacheDir, workers: 2 });
  hosts.push(host);
  const manager = new PluginManager({ hosts: [host] });
  managers.push(manager);
  for (const p of plugins) {
    // Relative kinds resolve against baseDir; point them at the component directory.
    if (baseDir !== dir) p.kind = `wasm://${path.join(dir, String(p.kind).slice(7))}`;
  }
  await manager.loadConfigText(JSON.stringify({ ...more, plugins }), { baseDir });
  await manager.initialize();
  return manager;
}

/** Results read loosely: the test compares them with what PR #65's tests state. */
// biome-ignore lint/suspicious/noExplicitAny: results of several hook families, checked by value
type Loose = any;
function inv(m: PluginManager, hook: string, payload: unknown, opts: Rec): Promise<Loose> {
  return m.invoke(hook as never, payload as never, opts as never);
}

let rid = 0;
const gc = (state: Rec = {}, user?: string) => ({
  requestId: `pr65-${++rid}`,
  state,
  metadata: {},
  ...(user !== undefined ? { user } : {}),
});
const toolCall = (name: string, args: Rec = {}): MessagePayload => ({
  message: {
    schema_version: '2.0',
    role: 'assistant',
    content: [{ content_type: 'tool_call', content: { tool_call_id: `tc_${name}`, name, arguments: args } }],
  },
});
const toolResult = (name: string): MessagePayload => ({
  message: {
    schema_version: '2.0',
    role: 'tool',
    content: [
      {
        content_type: 'tool_result',
        content: { tool_call_id: `tc_${name}`, tool_name: name, content: 'ok', is_error: false },
      },
    ],
  },
});

describe.each(origins)('$origin', ({ dir, verbatimConfigs }) => {
  it('config_plugin_demo: identity-resolver, pii-guard and remote-authz decide as PR #65 tests expect', async () => {
    const m = await managerFor(dir, pluginDemo());
    const call = { name: 'get_compensation', args: { employee_id: 42 } };
    // tool_invoke_checker: test_no_user_denied
    let r = await inv(m, 'tool_pre_invoke', call, { globalContext: gc({}, '') });
    expect(r.violation).toMatchObject({ code: 'no_identity', pluginName: 'identity-resolver' });
    // pii_guard: test_no_clearance_denied
    r = await inv(m, 'tool_pre_invoke', call, { globalContext: gc({}, 'alice') });
    expect(r.violation).toMatchObject({ code: 'pii_access_denied', pluginName: 'pii-guard' });
    // pii_guard: test_with_clearance_allowed; remote_authz: test_allowed_user_passes
    r = await inv(m, 'tool_pre_invoke', call, { globalContext: gc({ pii_clearance: true }, 'alice') });
    expect(r.errors).toEqual([]);
    expect(r.continueProcessing).toBe(true);
    // remote_authz: test_denied_user_blocked
    r = await inv(m, 'tool_pre_invoke', call, { globalContext: gc({ pii_clearance: true }, 'mallory') });
    expect(r.violation).toMatchObject({ code: 'remote_authz_denied', pluginName: 'remote-authz' });
    expect(r.violation?.reason).toContain("'mallory'");
    // remote_authz: test_acl_persists_across_calls (the guest's statics survive between calls)
    for (const user of ['bob', 'alice', 'bob']) {
      r = await inv(m, 'tool_pre_invoke', call, { globalContext: gc({ pii_clearance: true }, user) });
      expect(r.continueProcessing).toBe(true);
    }
    // tool_post_invoke: identity-resolver and the audit logger allow
    r = await inv(
      m,
      'tool_post_invoke',
      { name: 'get_compensation', result: { v: 1 } },
      { globalContext: gc({}, 'alice') },
    );
    expect(r.errors).toEqual([]);
    expect(r.continueProcessing).toBe(true);
  });

  it('config_capabilities: identity-checker denies PII without hr_admin; header-injector adds its header and label', async () => {
    const m = await managerFor(dir, [
      entry('identity-checker', 'identity-checker', ['cmf.tool_pre_invoke', 'cmf.tool_post_invoke'], {
        capabilities: ['read_labels', 'read_subject', 'read_roles'],
      }),
      entry('header-injector', 'header-injector', ['cmf.tool_pre_invoke'], {
        priority: 20,
        capabilities: ['read_headers', 'write_headers', 'append_labels'],
      }),
      entry('audit-logger', 'audit-logger', ['cmf.tool_pre_invoke', 'cmf.tool_post_invoke'], {
        mode: 'audit',
        priority: 100,
        on_error: 'ignore',
        capabilities: ['read_headers', 'read_labels'],
      }),
    ]);
    const subject = (id: string, roles: string[]) => ({ id, type: 'user', roles });
    // identity_checker: test_denies_pii_access_without_hr_admin_role
    let r = await inv(m, 'cmf.tool_pre_invoke', toolCall('get_compensation'), {
      globalContext: gc(),
      extensions: { security: { labels: ['PII'], subject: subject('bob', ['viewer']) } },
    });
    expect(r.violation).toMatchObject({ code: 'insufficient_role', pluginName: 'identity-checker' });
    expect(r.violation?.reason).toContain("'get_compensation'");
    // identity_checker: test_allows_pii_access_with_hr_admin_role, then header_injector:
    // test_injects_header_and_label (PII kept, PROCESSED added, X-Processed-By set)
    r = await inv(m, 'cmf.tool_pre_invoke', toolCall('get_compensation'), {
      globalContext: gc(),
      extensions: {
        security: { labels: ['PII'], subject: subject('alice', ['hr_admin']) },
        http: { request_headers: { Authorization: 'Bearer token' } },
      },
    });
    expect(r.errors).toEqual([]);
    expect(r.continueProcessing).toBe(true);
    const ext = r.modifiedExtensions;
    expect([...ext.security.labels].sort()).toEqual(['PII', 'PROCESSED']);
    const headers = ext.http.request_headers;
    expect(headers['X-Processed-By'] ?? headers['x-processed-by']).toBe('header-injector');
    // identity_checker: test_allows_non_pii_without_role
    r = await inv(m, 'cmf.tool_pre_invoke', toolCall('get_weather'), {
      globalContext: gc(),
      extensions: { security: { labels: ['PUBLIC'] } },
    });
    expect(r.violation).toBeNull();
    // post-invoke (tool result): identity-checker and audit-logger allow
    r = await inv(m, 'cmf.tool_post_invoke', toolResult('get_weather'), { globalContext: gc() });
    expect(r.errors).toEqual([]);
    expect(r.continueProcessing).toBe(true);
  });

  it('config_identity_resolve_test: identity-checker resolves the subject from x-user-id', async () => {
    const m = await managerFor(dir, [entry('identity-checker', 'identity-checker', ['identity.resolve'])]);
    // test_identity_resolves_subject_from_header
    let r = await inv(
      m,
      'identity.resolve',
      { source: 'bearer', headers: { 'x-user-id': 'alice' } },
      { globalContext: gc() },
    );
    expect(r.continueProcessing).toBe(true);
    expect(r.modifiedPayload).toMatchObject({ subject: { id: 'alice' } });
    const s = r.modifiedPayload.subject;
    expect(s.subject_type ?? s.type).toBe('user');
    // test_identity_passes_through_without_header
    r = await inv(m, 'identity.resolve', { source: 'bearer' }, { globalContext: gc() });
    expect(r.continueProcessing).toBe(true);
    expect(r.modifiedPayload).toBeNull();
    // test_identity_skips_when_subject_already_resolved
    r = await inv(
      m,
      'identity.resolve',
      { source: 'bearer', headers: { 'x-user-id': 'bob' }, subject: { id: 'existing-user', type: 'user' } },
      { globalContext: gc() },
    );
    expect(r.continueProcessing).toBe(true);
    expect(r.modifiedPayload).toBeNull();
  });

  it('config_token_attenuator_demo: a scoped token for tool targets, pass-through for others', async () => {
    const m = await managerFor(dir, [entry('token-attenuator', 'token-attenuator', ['token.delegate'])]);
    const delegate = (payload: Rec) => inv(m, 'token.delegate', payload, { globalContext: gc() });
    // test_mints_token_for_tool_target
    let r = await delegate({
      target_name: 'get_compensation',
      target_type: 'tool',
      target_audience: 'hr-service.internal',
      required_permissions: ['read_compensation'],
    });
    expect(r.errors).toEqual([]);
    expect(r.continueProcessing).toBe(true);
    const d = r.modifiedPayload;
    expect(d.delegated_token).toMatchObject({
      audience: 'hr-service.internal',
      scopes: ['read_compensation'],
      outbound_header: 'Authorization',
    });
    expect(typeof d.minted_at).toBe('string');
    expect(d.delegation_mode).toBe('on_behalf_of_user');
    expect(d.metadata).toMatchObject({ minter: 'token-attenuator-wasm' });
    // test_passes_through_non_tool_targets
    r = await delegate({ target_name: 'planner', target_type: 'agent' });
    expect(r.continueProcessing).toBe(true);
    expect(r.modifiedPayload).toBeNull();
    // test_uses_target_name_as_audience_when_no_explicit_audience
    r = await delegate({ target_name: 'fetch-records', target_type: 'tool' });
    expect(r.modifiedPayload.delegated_token.audience).toBe('fetch-records');
    // test_token_delegation_multi_permission_scopes: every required permission a scope, in order
    r = await delegate({
      target_name: 'query_external_data',
      target_type: 'tool',
      target_audience: 'https://data-svc.internal/query',
      required_permissions: ['read:records', 'read:metadata', 'read:audit'],
    });
    expect(r.errors).toEqual([]);
    expect(r.modifiedPayload.delegated_token).toMatchObject({
      audience: 'https://data-svc.internal/query',
      scopes: ['read:records', 'read:metadata', 'read:audit'],
    });
  });

  it('config_execution_modes_test: noop in concurrent and fire_and_forget modes; compute-bench writes local state', async () => {
    const m = await managerFor(dir, [
      entry('concurrent-a', 'noop', ['cmf.tool_pre_invoke'], { mode: 'concurrent' }),
      entry('concurrent-b', 'noop', ['cmf.tool_pre_invoke'], { mode: 'concurrent', priority: 20 }),
      entry('fire-and-forget-a', 'noop', ['cmf.tool_post_invoke'], {
        mode: 'fire_and_forget',
        on_error: 'ignore',
      }),
      entry('compute-bench', 'compute-bench', ['cmf.tool_pre_invoke'], { priority: 30 }),
    ]);
    let r = await inv(m, 'cmf.tool_pre_invoke', toolCall('calc', { a: 1 }), { globalContext: gc() });
    expect(r.errors).toEqual([]);
    expect(r.continueProcessing).toBe(true);
    const local = r.contextTable?.get('compute-bench')?.state ?? {};
    // The FNV-1a u64 hash is kept exactly (a BigInt: a number would round it; docs/hosts/wasm.md).
    expect(typeof local.hash).toBe('bigint');
    expect(local.hash > 2n ** 53n).toBe(true);
    expect(local.summary_len).toBe('tool=calc'.length);
    r = await inv(m, 'cmf.tool_post_invoke', toolResult('calc'), { globalContext: gc() });
    expect(await r.background.wait()).toEqual([]);
    expect(r.errors).toEqual([]);
    expect(r.continueProcessing).toBe(true);
  });

  it('config_env_sandbox_demo: only allowed_env names are visible (env_sandbox_demo tests)', async () => {
    process.env.CPEX_APP_TOKEN = 'app-token-123';
    process.env.CPEX_PR65_SECRET = 'never-visible';
    const m = await managerFor(dir, [
      entry('env-sandbox-demo', 'env-sandbox-demo', ['cmf.tool_pre_invoke'], {
        config: policy({ allowed_env: ['CPEX_APP_TOKEN', 'CPEX_LOG_LEVEL'] }),
      }),
    ]);
    let r = await inv(
      m,
      'cmf.tool_pre_invoke',
      toolCall('env_allowed_token', { env_var: 'CPEX_APP_TOKEN' }),
      {
        globalContext: gc(),
      },
    );
    expect(r.continueProcessing).toBe(true);
    expect(r.contextTable?.get('env-sandbox-demo')?.state).toMatchObject({
      env_result: 'allowed',
      env_value: 'app-token-123',
    });
    for (const name of ['HOME', 'PATH', 'CPEX_PR65_SECRET']) {
      r = await inv(m, 'cmf.tool_pre_invoke', toolCall('env_denied', { env_var: name }), {
        globalContext: gc(),
      });
      expect(r.violation).toMatchObject({ code: 'env_access_denied' });
    }
  });

  it('config_fs_sandbox_demo: each permission level allows and denies what PR #65 says', async () => {
    const base = scratchDir(`pr65-fs-${verbatimConfigs ? 'u' : 'o'}`);
    const data = path.join(base, 'examples', 'data');
    for (const d of ['rules', 'cache', 'audit', 'counters', 'plugins', 'scratch'])
      mkdirSync(path.join(data, d), { recursive: true });
    writeFileSync(path.join(data, 'rules', 'policy.yaml'), 'rules: []\n');
    writeFileSync(path.join(data, 'counters', 'rate.txt'), '0\n');
    writeFileSync(path.join(data, 'audit', 'any.txt'), 'dropped\n');
    writeFileSync(path.join(data, 'plugins', 'fs-sandbox-demo.wasm'), 'not really\n');
    writeFileSync(path.join(data, 'secrets.txt'), 'top secret\n');
    const grants = [
      ['rules', 'read-only'],
      ['cache', 'full-access'],
      ['audit', 'drop-box'],
      ['counters', 'fixed-mutable'],
      ['plugins', 'list-only'],
      ['scratch', 'private-scratch'],
    ].map(([d, permission]) => ({ dir: `examples/data/${d}`, permission }));
    const m = await managerFor(
      dir,
      [
        entry('fs-sandbox-demo', 'fs-sandbox-demo', ['cmf.tool_pre_invoke'], {
          config: policy({ allowed_filesystem: grants }),
        }),
      ],
      base,
    );
    const op = async (operation: string, p: string) => {
      const r = await inv(
        m,
        'cmf.tool_pre_invoke',
        toolCall('fs', { operation, path: `examples/data/${p}` }),
        {
          globalContext: gc(),
        },
      );
      return r.continueProcessing ? 'allow' : (r.violation?.code ?? 'error');
    };
    // The permission table of PR #65's policy_loader.rs (what each level allows on wasmtime).
    const D = 'fs_access_denied';
    const table: Array<[string, string, string]> = [
      // read-only: list and read; no modifications
      ['read', 'rules/policy.yaml', 'allow'],
      ['list_dir', 'rules', 'allow'],
      ['write', 'rules/new.txt', D],
      ['create_dir', 'rules/sub', D],
      // full-access: everything within the preopen
      ['write', 'cache/output.txt', 'allow'],
      ['read', 'cache/output.txt', 'allow'],
      ['create_dir', 'cache/sub', 'allow'],
      ['list_dir', 'cache', 'allow'],
      ['delete', 'cache/sub', 'allow'],
      // drop-box: create_dir/delete only; file reads and listing denied
      ['create_dir', 'audit/inbox', 'allow'],
      ['list_dir', 'audit', D],
      ['read', 'audit/any.txt', D],
      // fixed-mutable: read files; FilePerms::WRITE has no effect without DirPerms::MUTATE
      ['read', 'counters/rate.txt', 'allow'],
      ['write', 'counters/rate.txt', D],
      ['create_dir', 'counters/sub', D],
      // list-only: enumerate names only
      ['list_dir', 'plugins', 'allow'],
      ['read', 'plugins/fs-sandbox-demo.wasm', D],
      // private-scratch: file I/O, no listing
      ['write', 'scratch/tmp.txt', 'allow'],
      ['read', 'scratch/tmp.txt', 'allow'],
      ['list_dir', 'scratch', D],
      // outside every grant
      ['read', 'secrets.txt', D],
      ['read', '../../secrets.txt', D],
    ];
    const got = [];
    for (const [o, p] of table) got.push([o, p, await op(o, p)]);
    expect(got).toEqual(table);
  });

  it('config_network_policy_demo: outgoing HTTP is checked against host, port, scheme and method rules', async () => {
    const netPolicy = (rules: Rec[]) => policy({ allowed_network: rules });
    const m = await managerFor(dir, [
      entry('net-deny-all', 'net-sandbox-demo', ['cmf.tool_pre_invoke'], { config: netPolicy([]) }),
      entry('net-wildcard', 'net-sandbox-demo', ['cmf.tool_pre_invoke'], {
        config: netPolicy([{ host: '*.example.com' }]),
        priority: 11,
      }),
      entry('net-method', 'net-sandbox-demo', ['cmf.tool_pre_invoke'], {
        config: netPolicy([{ host: 'example.com', methods: ['GET'] }]),
        priority: 12,
      }),
    ]);
    const results = async (url: string, method = 'GET') => {
      const r = await inv(m, 'cmf.tool_pre_invoke', toolCall('net', { url, method }), {
        globalContext: gc(),
      });
      expect(r.errors).toEqual([]);
      const t = r.contextTable!;
      return ['net-deny-all', 'net-wildcard', 'net-method'].map((n) => t.get(n)?.state.http_result);
    };
    // The demo only checks whether the host accepts the request (outgoing-handler.handle), so
    // an allowed request needs no network: the response is never awaited.
    expect(await results('https://api.example.com/v1')).toEqual(['denied', 'allowed', 'denied']);
    expect(await results('https://example.com/')).toEqual(['denied', 'denied', 'allowed']);
    expect(await results('https://example.com/', 'POST')).toEqual(['denied', 'denied', 'denied']);
  });

  it('config_resource_limits_demo: a fuel-burning guest is stopped, a runaway allocation traps at the cap', async () => {
    const m = await managerFor(dir, [
      entry('resource-sandbox-demo', 'resource-sandbox-demo', ['cmf.tool_pre_invoke'], {
        config: policy({
          resources: { max_memory_bytes: 10485760, max_fuel: 1000000000, max_execution_time_ms: 2000 },
        }),
      }),
    ]);
    // burn_fuel loops until pre-empted. (PR #65's `infinite_loop` mode is not used: in a release
    // build LLVM removes that side-effect-free counting loop, so it returns allow on any host.)
    let r = await inv(m, 'cmf.tool_pre_invoke', toolCall('spin', { mode: 'burn_fuel' }), {
      globalContext: gc(),
    });
    expect(r.violation).toMatchObject({ code: 'plugin_timeout' });
    r = await inv(m, 'cmf.tool_pre_invoke', toolCall('alloc', { mode: 'alloc_memory' }), {
      globalContext: gc(),
    });
    expect(r.violation).toMatchObject({ code: 'plugin_error' });
    expect(JSON.stringify(r.errors)).toMatch(/CPEX_ERR_WASM_TRAP/);
    // and the plugin keeps serving
    r = await inv(m, 'cmf.tool_pre_invoke', toolCall('fine', { mode: 'none' }), { globalContext: gc() });
    expect(r.continueProcessing).toBe(true);
  });

  it('config_plugin_demo with its routes and policy groups (test_custom_payload_pipeline): each tool gets its own stack', async () => {
    const m = await managerFor(dir, pluginDemo(), dir, {
      plugin_settings: { routing_enabled: true, plugin_timeout: 30 },
      global: {
        policies: {
          all: { plugins: ['identity-resolver'] },
          pii: { plugins: ['pii-guard'] },
          external_authz: { plugins: ['remote-authz'] },
        },
      },
      routes: [
        { tool: 'get_compensation', meta: { tags: ['pii', 'hr'] }, plugins: ['audit-logger'] },
        { tool: 'list_departments', plugins: ['audit-logger'] },
        { tool: 'query_external_data', meta: { tags: ['external_authz'] }, plugins: ['audit-logger'] },
        { tool: '*', plugins: ['audit-logger'] },
      ],
    });
    // PR #65 names the tool in extensions.meta (make_extensions) and the user in the payload.
    const call = async (
      tool: string,
      user: string,
      state: Rec = {},
      table?: unknown,
      hook = 'tool_pre_invoke',
    ) => {
      const r = await inv(
        m,
        hook,
        { name: tool, args: { q: 1 } },
        {
          globalContext: gc(state, user),
          extensions: { meta: { entity_type: 'tool', entity_name: tool } },
          ...(table ? { contextTable: table } : {}),
        },
      );
      expect(await r.background.wait()).toEqual([]);
      return r;
    };
    // test_identity_resolver_denies_empty_user
    let r = await call('list_departments', '');
    expect(r.violation).toMatchObject({ code: 'no_identity', pluginName: 'identity-resolver' });
    // test_pii_guard_denies_without_clearance
    r = await call('get_compensation', 'alice');
    expect(r.violation).toMatchObject({ code: 'pii_access_denied', pluginName: 'pii-guard' });
    // test_pii_guard_allows_with_clearance, then test_context_table_threads_across_hooks
    const pre = await call('get_compensation', 'alice', { pii_clearance: true });
    expect(pre.continueProcessing).toBe(true);
    expect(pre.violation).toBeNull();
    const post = await call('get_compensation', 'alice', {}, pre.contextTable, 'tool_post_invoke');
    expect(post.continueProcessing).toBe(true);
    expect(post.errors).toEqual([]);
    // test_remote_authz_allows_user_in_acl / test_remote_authz_denies_user_not_in_acl
    r = await call('query_external_data', 'alice');
    expect(r.continueProcessing).toBe(true);
    r = await call('query_external_data', 'charlie');
    expect(r.violation).toMatchObject({ code: 'remote_authz_denied', pluginName: 'remote-authz' });
    // test_non_pii_tool_allowed: no pii tag, so pii-guard does not run (no clearance needed)
    r = await call('list_departments', 'bob');
    expect(r.continueProcessing).toBe(true);
    expect(r.errors).toEqual([]);
    // test_wildcard_route_allowed
    r = await call('unknown_tool_xyz', 'bob');
    expect(r.continueProcessing).toBe(true);
    expect(r.errors).toEqual([]);
  });

  it('env_sandbox_demo: an allowed name the host does not set is denied, with the error in local state; no env_var passes through', async () => {
    delete process.env.CPEX_LOG_LEVEL;
    const m = await managerFor(dir, [
      entry('env-sandbox-demo', 'env-sandbox-demo', ['cmf.tool_pre_invoke'], {
        config: policy({ allowed_env: ['CPEX_APP_TOKEN', 'CPEX_LOG_LEVEL'] }),
      }),
    ]);
    // test_var_absent_from_host_is_denied (allowed by the policy, absent on the host)
    let r = await inv(m, 'cmf.tool_pre_invoke', toolCall('env', { env_var: 'CPEX_LOG_LEVEL' }), {
      globalContext: gc(),
    });
    expect(r.violation).toMatchObject({ code: 'env_access_denied', pluginName: 'env-sandbox-demo' });
    expect(r.contextTable?.get('env-sandbox-demo')?.state).toMatchObject({
      env_var: 'CPEX_LOG_LEVEL',
      env_result: 'denied',
    });
    // test_missing_env_var_arg_passes_through: a tool call without env_var, and no tool call at all
    r = await inv(m, 'cmf.tool_pre_invoke', toolCall('env', {}), { globalContext: gc() });
    expect(r.continueProcessing).toBe(true);
    r = await inv(
      m,
      'cmf.tool_pre_invoke',
      { message: { schema_version: '2.0', role: 'assistant', content: [] } },
      { globalContext: gc() },
    );
    expect(r.continueProcessing).toBe(true);
    expect(r.errors).toEqual([]);
  });

  it('fs_sandbox_demo and test_sandbox_isolation: /etc/passwd stays out of reach; unknown operations and missing files are denied; no args pass', async () => {
    const base = scratchDir(`pr65-fs2-${verbatimConfigs ? 'u' : 'o'}`);
    mkdirSync(path.join(base, 'examples', 'data', 'rules'), { recursive: true });
    writeFileSync(path.join(base, 'examples', 'data', 'rules', 'policy.yaml'), 'rules: []\n');
    const fsPlugin = (name: string, grants: Rec[]) =>
      entry(name, 'fs-sandbox-demo', ['cmf.tool_pre_invoke'], {
        config: policy({ allowed_filesystem: grants }),
      });
    const run = async (grants: Rec[], args: Rec) => {
      const m = await managerFor(dir, [fsPlugin('fs-sandbox-demo', grants)], base);
      return inv(m, 'cmf.tool_pre_invoke', toolCall('fs', args), { globalContext: gc() });
    };
    // test_plugin_cannot_read_etc_passwd_without_filesystem_policy
    let r = await run([], { operation: 'read', path: '/etc/passwd' });
    expect(r.violation).toMatchObject({ code: 'fs_access_denied', pluginName: 'fs-sandbox-demo' });
    expect(r.contextTable?.get('fs-sandbox-demo')?.state).toMatchObject({ fs_result: 'denied' });
    // test_plugin_cannot_read_etc_passwd_with_unrelated_filesystem_policy
    r = await run([{ dir: '/tmp', permission: 'read-only' }], { operation: 'read', path: '/etc/passwd' });
    expect(r.violation).toMatchObject({ code: 'fs_access_denied' });
    const rules = [{ dir: 'examples/data/rules', permission: 'read-only' }];
    // test_read_existing_file_is_allowed / test_read_nonexistent_file_is_denied
    r = await run(rules, { operation: 'read', path: 'examples/data/rules/policy.yaml' });
    expect(r.continueProcessing).toBe(true);
    expect(r.contextTable?.get('fs-sandbox-demo')?.state).toMatchObject({
      fs_result: 'allowed',
      fs_detail: 'read 10 bytes',
    });
    r = await run(rules, { operation: 'read', path: 'examples/data/rules/missing.yaml' });
    expect(r.violation).toMatchObject({ code: 'fs_access_denied' });
    // test_unknown_operation_is_denied
    r = await run(rules, { operation: 'chmod', path: 'examples/data/rules/policy.yaml' });
    expect(r.violation).toMatchObject({ code: 'unknown_operation', pluginName: 'fs-sandbox-demo' });
    // test_missing_args_passes_through
    r = await run(rules, { operation: 'read' });
    expect(r.continueProcessing).toBe(true);
    expect(r.errors).toEqual([]);
  });

  it('test_sandbox_network: no policy, an unrelated allowlist, a blocked port, scheme, method or host are denied', async () => {
    const net = (name: string, rules: Rec[], priority: number) =>
      entry(name, 'net-sandbox-demo', ['cmf.tool_pre_invoke'], {
        config: policy({ allowed_network: rules }),
        priority,
      });
    const names = ['net-none', 'net-unrelated', 'net-exact', 'net-port-443', 'net-get-only'];
    const m = await managerFor(dir, [
      net('net-none', [], 10),
      net('net-unrelated', [{ host: 'internal.example.com' }], 11),
      net('net-exact', [{ host: 'example.com' }], 12),
      net('net-port-443', [{ host: 'example.com', ports: [443] }], 13),
      net('net-get-only', [{ host: 'example.com', methods: ['GET'] }], 14),
    ]);
    const results = async (url: string, method = 'GET') => {
      const r = await inv(m, 'cmf.tool_pre_invoke', toolCall('http_check', { url, method }), {
        globalContext: gc(),
      });
      expect(r.errors).toEqual([]);
      return names.map((n) => r.contextTable!.get(n)?.state.http_result);
    };
    // test_plugin_cannot_access_network_without_policy / _with_unrelated_allowlist /
    // test_http_request_allowed_when_host_matches
    expect(await results('https://example.com/')).toEqual([
      'denied',
      'denied',
      'allowed',
      'allowed',
      'allowed',
    ]);
    // test_http_request_denied_for_blocked_port (ports [443], request on 8080)
    expect(await results('https://example.com:8080/')).toEqual([
      'denied',
      'denied',
      'allowed',
      'denied',
      'allowed',
    ]);
    // test_http_request_denied_for_blocked_scheme (schemes default to https)
    expect(await results('http://example.com/')).toEqual(['denied', 'denied', 'denied', 'denied', 'denied']);
    // test_http_request_denied_for_blocked_method
    expect(await results('https://example.com/', 'POST')).toEqual([
      'denied',
      'denied',
      'allowed',
      'allowed',
      'denied',
    ]);
    // test_http_request_denied_for_unlisted_host
    expect(await results('https://other.com/')).toEqual(['denied', 'denied', 'denied', 'denied', 'denied']);
  });

  it('test_sandbox_resource_limits: a tiny fuel budget, a 200 ms limit and a 5 MiB memory cap each stop the guest', async () => {
    const limited = (name: string, resources: Rec, priority: number) =>
      entry(name, 'resource-sandbox-demo', ['cmf.tool_pre_invoke'], {
        config: policy({ resources }),
        priority,
        on_error: 'ignore',
      });
    const m = await managerFor(dir, [
      // test_fuel_limit_traps_plugin
      limited('resource-sandbox-demo', { max_fuel: 100000, max_execution_time_ms: 10000 }, 10),
    ]);
    let r = await inv(m, 'cmf.tool_pre_invoke', toolCall('spin', { mode: 'burn_fuel' }), {
      globalContext: gc(),
    });
    expect(r.errors).toMatchObject([{ pluginName: 'resource-sandbox-demo', code: 'plugin_timeout' }]);
    // test_epoch_timeout_traps_plugin
    const m2 = await managerFor(dir, [
      limited('resource-sandbox-demo', { max_execution_time_ms: 200, max_fuel: 500000000 }, 10),
    ]);
    r = await inv(m2, 'cmf.tool_pre_invoke', toolCall('spin', { mode: 'burn_fuel' }), {
      globalContext: gc(),
    });
    expect(r.errors).toMatchObject([{ pluginName: 'resource-sandbox-demo', code: 'plugin_timeout' }]);
    // test_memory_limit_traps_plugin
    const m3 = await managerFor(dir, [
      limited(
        'resource-sandbox-demo',
        { max_memory_bytes: 5 * 1024 * 1024, max_execution_time_ms: 10000 },
        10,
      ),
    ]);
    r = await inv(m3, 'cmf.tool_pre_invoke', toolCall('alloc', { mode: 'alloc_memory' }), {
      globalContext: gc(),
    });
    expect(r.errors).toMatchObject([
      { pluginName: 'resource-sandbox-demo', errorCode: 'CPEX_ERR_WASM_TRAP' },
    ]);
  });

  it('capabilities (test_security_enforcement): a hidden slot is not seen, and an edit the grants do not cover is refused', async () => {
    const subject = (id: string, roles: string[]) => ({ id, type: 'user', roles });
    const pii = (who: string, roles: string[]) => ({
      security: { labels: ['PII'], subject: subject(who, roles) },
      http: { request_headers: { Authorization: 'Bearer t' } },
    });
    const decide = async (plugins: Rec[], extensions: Rec) => {
      const m = await managerFor(dir, plugins);
      return inv(m, 'cmf.tool_pre_invoke', toolCall('get_compensation'), { globalContext: gc(), extensions });
    };
    // test_pre_filter_strips_ungated_extensions: without read_subject the checker sees no subject
    let r = await decide(
      [
        entry('identity-checker', 'identity-checker', ['cmf.tool_pre_invoke'], {
          capabilities: ['read_labels'],
        }),
      ],
      pii('bob', ['viewer']),
    );
    expect(r.continueProcessing).toBe(true);
    // read_subject without read_roles: the roles are hidden, so even hr_admin is refused
    r = await decide(
      [
        entry('identity-checker', 'identity-checker', ['cmf.tool_pre_invoke'], {
          capabilities: ['read_labels', 'read_subject'],
        }),
      ],
      pii('alice', ['hr_admin']),
    );
    expect(r.violation).toMatchObject({ code: 'insufficient_role', pluginName: 'identity-checker' });
    // test_unauthorized_http_write_detected: header-injector without write_headers
    r = await decide(
      [
        entry('header-injector', 'header-injector', ['cmf.tool_pre_invoke'], {
          capabilities: ['read_headers', 'append_labels'],
        }),
      ],
      pii('alice', ['hr_admin']),
    );
    expect(r.continueProcessing).toBe(false);
    expect(r.violation).toMatchObject({ code: 'extension_violation', pluginName: 'header-injector' });
    // test_unauthorized_labels_write_detected: header-injector without append_labels
    r = await decide(
      [
        entry('header-injector', 'header-injector', ['cmf.tool_pre_invoke'], {
          capabilities: ['read_headers', 'write_headers', 'read_labels'],
        }),
      ],
      pii('alice', ['hr_admin']),
    );
    expect(r.violation).toMatchObject({ code: 'extension_violation', pluginName: 'header-injector' });
    // test_authorized_http_write_passes + test_hidden_*_preserved: with both grants the edit lands
    // and the slots the plugin could not see (the subject) are kept
    r = await decide(
      [
        entry('header-injector', 'header-injector', ['cmf.tool_pre_invoke'], {
          capabilities: ['read_headers', 'write_headers', 'append_labels'],
        }),
      ],
      pii('alice', ['hr_admin']),
    );
    expect(r.errors).toEqual([]);
    expect([...r.modifiedExtensions.security.labels].sort()).toEqual(['PII', 'PROCESSED']);
    expect(r.modifiedExtensions.security.subject).toMatchObject({ id: 'alice' });
  });

  // Only with the unchanged build (defined, not skipped, so CI never sees a skip).
  if (!verbatimConfigs) return;
  it("PR #65's own config files load unchanged and decide the same", async () => {
    for (const f of [
      'config_plugin_demo.yaml',
      'config_capabilities.yaml',
      'config_identity_resolve_test.yaml',
      'config_token_attenuator_demo.yaml',
      'config_execution_modes_test.yaml',
      'config_env_sandbox_demo.yaml',
      'config_network_policy_demo.yaml',
      'config_resource_limits_demo.yaml',
    ]) {
      const host = createWasmHost({ cacheDir, workers: 1 });
      hosts.push(host);
      const m = new PluginManager({ hosts: [host] });
      managers.push(m);
      await m.loadConfig(path.join(dir, f));
      await m.initialize();
      if (f === 'config_plugin_demo.yaml') {
        const r = await inv(
          m,
          'tool_pre_invoke',
          { name: 'list_departments', args: {} },
          { globalContext: gc({}, '') },
        );
        expect(r.violation).toMatchObject({ code: 'no_identity' });
      }
      if (f === 'config_resource_limits_demo.yaml') {
        // wasm_resource_limits_demo.rs: each route's plugin has one tight limit that stops the guest
        for (const [tool, mode, code] of [
          ['resource_fuel', 'burn_fuel', 'plugin_timeout'],
          ['resource_timeout', 'burn_fuel', 'plugin_timeout'],
          ['resource_memory', 'alloc_memory', 'plugin_error'],
        ] as const) {
          const r = await inv(m, 'cmf.tool_pre_invoke', toolCall(tool, { mode }), {
            globalContext: gc(),
            extensions: { meta: { entity_type: 'tool', entity_name: tool } },
          });
          expect(r.violation, tool).toMatchObject({ code, pluginName: tool.replace('_', '-') });
        }
      }
      await m.shutdown();
    }
  });
});
