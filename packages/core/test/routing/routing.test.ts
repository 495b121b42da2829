/**
 * Route-based plugin selection (plugin_settings.routing_enabled), ARCHITECTURE s3 "Routes" and
 * the Rust cpex 0.2 route table semantics (rust-cpex-0.2.md s4).
 */
import {
  type ConfigError,
  PluginManager,
  type PluginEntry,
  type PluginFactory,
  type PluginInstance,
} from '@cpex/core';
import { describe, expect, it } from 'vitest';

/** A factory whose plugins record their name and config.tag into metadata.ran. */
const recorder: PluginFactory = {
  async create(entry: PluginEntry): Promise<PluginInstance> {
    const handler = async (_p: unknown, ctx: { globalContext: { state: Record<string, unknown> } }) => {
      const ran = (ctx.globalContext.state.ran as string[] | undefined) ?? [];
      const tag = entry.config?.tag ? `${entry.name}:${String(entry.config.tag)}` : entry.name;
      ctx.globalContext.state.ran = [...ran, tag];
      return {};
    };
    return {
      host: { supportsTimeouts: 'cooperative', isolated: false, copiesPayloads: false },
      handler: (hook: string) => (entry.hooks.includes(hook) ? handler : undefined),
    };
  },
};

const plugins = ['authn', 'pii', 'audit', 'ratelimit', 'llm_guard', 'scoped'].map((name, i) => ({
  name,
  kind: 'rec',
  hooks: ['tool_pre_invoke', 'cmf.llm_input'],
  priority: (i + 1) * 10,
}));

async function routed(extra: Record<string, unknown> = {}) {
  const m = new PluginManager({ logger: { debug() {}, info() {}, warn() {}, error() {} } });
  m.registerFactory('rec', recorder);
  await m.loadConfig({
    plugin_settings: { routing_enabled: true, route_cache_max_entries: 4 },
    plugins,
    groups: {
      all: { plugins: ['authn'] },
      security: { plugins: ['pii'] },
      observability: { plugins: ['audit'] },
      llm: { plugins: ['llm_guard'] },
    },
    global: { defaults: { tool: 'observability', llm: ['llm'] } },
    routes: [
      { tool: 'send_*', meta: { tags: ['security'] } },
      { tool: 'send_email', plugins: ['ratelimit'] },
      { tool: ['search', 'fetch'], groups: 'security', plugins: [{ pii: { config: { tag: 'strict' } } }] },
      { tool: '*', meta: { scope: 'tenant-a' }, plugins: ['scoped'] },
    ],
    ...extra,
  });
  await m.initialize();
  return m;
}

async function ran(m: PluginManager, hook: string, meta?: Record<string, unknown>): Promise<string[]> {
  const gc = { requestId: 'r', state: {} as Record<string, unknown>, metadata: {} };
  await m.invoke(
    hook as 'tool_pre_invoke',
    { name: 'x', args: {} },
    { globalContext: gc, ...(meta ? { extensions: { meta } } : {}) },
  );
  return (gc.state.ran as string[] | undefined) ?? [];
}

describe('routes decide which plugins run (routing_enabled)', () => {
  it('the all group, the entity type defaults, route tag groups and the route plugins run; order stays priority', async () => {
    const m = await routed();
    // exact route (1000) beats the glob (300): authn (all) + audit (tool default) + ratelimit (route)
    expect(await ran(m, 'tool_pre_invoke', { entity_type: 'tool', entity_name: 'send_email' })).toEqual([
      'authn',
      'audit',
      'ratelimit',
    ]);
    // the glob route tags the request "security" -> pii
    expect(await ran(m, 'tool_pre_invoke', { entity_type: 'tool', entity_name: 'send_sms' })).toEqual([
      'authn',
      'pii',
      'audit',
    ]);
    await m.shutdown();
  });

  it('a list route (500) with a per-route config override runs a separate instance with merged config', async () => {
    const m = await routed();
    expect(await ran(m, 'tool_pre_invoke', { entity_type: 'tool', entity_name: 'search' })).toEqual([
      'authn',
      'pii:strict',
      'audit',
    ]);
    // the override replaces the base pii pulled in by the security group (last reference wins)
    expect(await ran(m, 'tool_pre_invoke', { entity_type: 'tool', entity_name: 'fetch' })).toEqual([
      'authn',
      'pii:strict',
      'audit',
    ]);
    await m.shutdown();
  });

  it('request tags select groups; unknown tags are ignored', async () => {
    const m = await routed();
    expect(
      await ran(m, 'tool_pre_invoke', {
        entity_type: 'tool',
        entity_name: 'calc',
        tags: ['security', 'nope'],
      }),
    ).toEqual(['authn', 'pii', 'audit']);
    await m.shutdown();
  });

  it('a scoped route matches only its scope (+100) and never an absent or other scope', async () => {
    const m = await routed();
    expect(
      await ran(m, 'tool_pre_invoke', { entity_type: 'tool', entity_name: 'calc', scope: 'tenant-a' }),
    ).toEqual(['authn', 'audit', 'scoped']);
    expect(
      await ran(m, 'tool_pre_invoke', { entity_type: 'tool', entity_name: 'calc', scope: 'tenant-b' }),
    ).toEqual(['authn', 'audit']);
    expect(await ran(m, 'tool_pre_invoke', { entity_type: 'tool', entity_name: 'calc' })).toEqual([
      'authn',
      'audit',
    ]);
    await m.shutdown();
  });

  it('llm requests get the llm defaults; requests without meta.entity_type run every plugin of the hook', async () => {
    const m = await routed();
    expect(await ran(m, 'cmf.llm_input', { entity_type: 'llm', entity_name: 'gpt' })).toEqual([
      'authn',
      'llm_guard',
    ]);
    expect(await ran(m, 'tool_pre_invoke')).toEqual([
      'authn',
      'pii',
      'audit',
      'ratelimit',
      'llm_guard',
      'scoped',
    ]);
    await m.shutdown();
  });

  it('resolved lineups are cached in a bounded LRU (route_cache_max_entries) and stay correct past the bound', async () => {
    const m = await routed();
    for (let i = 0; i < 10; i++) {
      expect(await ran(m, 'tool_pre_invoke', { entity_type: 'tool', entity_name: `t${i}` })).toEqual([
        'authn',
        'audit',
      ]);
    }
    expect(await ran(m, 'tool_pre_invoke', { entity_type: 'tool', entity_name: 'send_email' })).toEqual([
      'authn',
      'audit',
      'ratelimit',
    ]);
    await m.shutdown();
  });

  it('the bounded cache (4 entries) answers every request as a large one does: names, scopes, tags in any order', async () => {
    const small = await routed();
    const large = await routed({
      plugin_settings: { routing_enabled: true, route_cache_max_entries: 10_000 },
    });
    const names = ['send_email', 'send_sms', 'search', 'fetch', 'other'];
    const scopes = [undefined, 'tenant-a', ''];
    const tagSets = [undefined, [], ['security'], ['security', 'llm'], ['llm', 'security'], ['llm']];
    // A fixed pseudo-random sequence with repeats (hits), far more distinct keys than the bound.
    let x = 7;
    for (let i = 0; i < 300; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      const meta = {
        entity_type: 'tool',
        entity_name: names[x % names.length],
        ...(scopes[(x >> 3) % scopes.length] !== undefined
          ? { scope: scopes[(x >> 3) % scopes.length] }
          : {}),
        ...(tagSets[(x >> 6) % tagSets.length] !== undefined
          ? { tags: tagSets[(x >> 6) % tagSets.length] }
          : {}),
      };
      expect(await ran(small, 'tool_pre_invoke', meta)).toEqual(await ran(large, 'tool_pre_invoke', meta));
    }
    await small.shutdown();
    await large.shutdown();
  });

  it('legacy conditions are not applied when routing is on', async () => {
    const m = new PluginManager();
    m.registerFactory('rec', recorder);
    await m.loadConfig({
      plugin_settings: { routing_enabled: true },
      plugins: [
        { name: 'c', kind: 'rec', hooks: ['tool_pre_invoke'], conditions: [{ server_ids: ['nowhere'] }] },
      ],
      routes: [{ tool: 'x', plugins: ['c'] }],
    });
    await m.initialize();
    expect(await ran(m, 'tool_pre_invoke', { entity_type: 'tool', entity_name: 'x' })).toEqual(['c']);
    await m.shutdown();
  });

  it('with routing off, routes and groups are accepted and ignored: every plugin runs', async () => {
    const m = await routed({ plugin_settings: { routing_enabled: false } });
    expect(await ran(m, 'tool_pre_invoke', { entity_type: 'tool', entity_name: 'send_email' })).toHaveLength(
      6,
    );
    await m.shutdown();
  });
});

describe('route config validation (errors name the YAML path)', () => {
  const bad = async (cfg: Record<string, unknown>) => {
    const m = new PluginManager();
    try {
      await m.loadConfig({ plugins: [{ name: 'a', kind: 'rec' }], ...cfg });
    } catch (e) {
      return e as ConfigError;
    }
    throw new Error('expected a ConfigError');
  };

  it('a route needs exactly one entity matcher', async () => {
    expect((await bad({ routes: [{ tool: 'x', llm: 'y' }] })).message).toContain(
      'routes[0]: a route needs exactly one of tool|resource|prompt|llm, got tool, llm',
    );
    expect((await bad({ routes: [{ plugins: ['a'] }] })).message).toContain('got none');
  });

  it('unknown plugins in groups and routes, unknown groups in routes and defaults', async () => {
    const e = await bad({
      groups: { g: { plugins: ['a', 'ghost'] } },
      global: { defaults: { tool: 'nogroup' } },
      routes: [{ tool: 'x', groups: ['missing'], plugins: [{ phantom: { config: {} } }] }],
    });
    expect(e.issues.map((i) => i.path).sort()).toEqual([
      'global.defaults.tool',
      'groups.g.plugins[1]',
      'routes[0].groups',
      'routes[0].plugins[0]',
    ]);
    expect(e.message).toContain('unknown plugin "ghost"');
    expect(e.message).toContain('unknown group "missing"');
  });
});
