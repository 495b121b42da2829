/**
 * explainRoute (what `cpex routes` prints) agrees with the route table that selects plugins at
 * invoke time, on a corpus of requests over every kind of route, and explains what it found.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/load.js';
import { explainRoute } from '../../src/executor/route-explain.js';
import { RouteTable } from '../../src/executor/routing.js';

const cfg = validateConfig({
  plugin_settings: { routing_enabled: true },
  plugins: ['authn', 'pii', 'audit', 'ratelimit', 'guard', 'scoped', 'late']
    .map((name, i) => ({
      name,
      kind: 'rec',
      hooks: ['tool_pre_invoke', ...(name === 'guard' ? ['cmf.llm_input'] : [])],
      priority: name === 'late' ? 1 : (i + 1) * 10,
      ...(name === 'audit' ? { mode: 'audit' } : {}),
      ...(name === 'ratelimit' ? { mode: 'concurrent' } : {}),
    }))
    .concat([{ name: 'off', kind: 'rec', hooks: ['tool_pre_invoke'], mode: 'disabled' } as never]),
  groups: {
    all: { plugins: ['authn'] },
    security: { plugins: ['pii'] },
    observability: { plugins: ['audit'] },
    llm: { plugins: ['guard'] },
    extra: { plugins: ['late', 'off'] },
  },
  global: { defaults: { tool: 'observability', llm: ['llm'] } },
  routes: [
    { tool: 'send_email', plugins: ['ratelimit', { pii: { config: { mode: 'strict' } } }] },
    { tool: 'send_*', groups: 'security' },
    { tool: ['search', 'fetch'], meta: { tags: ['extra'] }, plugins: ['scoped'] },
    { tool: '*', meta: { scope: 'internal' }, plugins: ['scoped'] },
    { tool: 'search', meta: { scope: 'internal' }, plugins: ['late'] },
    { tool: 'fetch', when: 'true', plugins: ['guard'] },
    { llm: 'gpt-*', plugins: ['guard'] },
  ],
} as never);

describe('RouteTable cache', () => {
  it('stays within its bound, keys tags in any order alike, and keeps an entry hit since the last sweep', () => {
    const table = new RouteTable(cfg.routing, 3, () => undefined);
    const full = table.select(
      { hook: 'h', ordered: [], phases: {}, hasFireAndForget: false, steps: [] } as never,
      'h',
      undefined,
    );
    expect(full).toBeDefined();
    const a = table.select(full, 'h', { entity_type: 'tool', entity_name: 'a', tags: ['x', 'y'] });
    expect(table.select(full, 'h', { entity_type: 'tool', entity_name: 'a', tags: ['y', 'x'] })).toBe(a);
    expect(table.cacheSize).toBe(1);
    table.select(full, 'h', { entity_type: 'tool', entity_name: 'a', scope: 'internal', tags: ['x', 'y'] });
    table.select(full, 'h', { entity_type: 'tool', entity_name: 'b' });
    expect(table.cacheSize).toBe(3);
    // `a` was hit: the sweep passes it over once and evicts the oldest entry not hit (a, internal).
    table.select(full, 'h', { entity_type: 'tool', entity_name: 'c' });
    expect(table.cacheSize).toBe(3);
    expect(table.select(full, 'h', { entity_type: 'tool', entity_name: 'a', tags: ['x', 'y'] })).toBe(a);
    expect(table.cacheSize).toBe(3);
    for (let i = 0; i < 50; i++) table.select(full, 'h', { entity_type: 'tool', entity_name: `n${i}` });
    expect(table.cacheSize).toBe(3);
    table.clear();
    expect(table.cacheSize).toBe(0);
  });
});

describe('explainRoute', () => {
  const table = new RouteTable(cfg.routing, 100, () => undefined);
  const names = ['send_email', 'send_sms', 'search', 'fetch', 'other', 'gpt-4', ''];
  const scopes = [undefined, 'internal', 'public'];
  const tagSets = [[], ['security'], ['extra', 'observability'], ['all']];

  it('picks the same route and the same plugins, in the same order, as the route table', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('tool', 'llm', 'prompt'),
        fc.constantFrom(...names),
        fc.constantFrom(...scopes),
        fc.constantFrom(...tagSets),
        (type, name, scope, tags) => {
          const meta = { entity_type: type, entity_name: name, ...(scope ? { scope } : {}), tags };
          const x = explainRoute(cfg.routing, cfg.entries, meta, true);
          expect(x.route?.index).toBe(table.matchRoute(type, name, scope)?.index);
          expect(x.refs.map((r) => [r.name, r.override])).toEqual(
            table.resolveRefs(meta).map((r) => [r.name, r.config]),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('scores every candidate, says why, and orders each hook by phase then priority', () => {
    const x = explainRoute(
      cfg.routing,
      cfg.entries,
      { entity_type: 'tool', entity_name: 'search', scope: 'internal' },
      true,
    );
    expect(x.route).toMatchObject({ index: 4, score: 1100 });
    const byIndex = Object.fromEntries(x.candidates.map((c) => [c.index, c]));
    expect(byIndex[2]).toMatchObject({ score: 500, why: 'name list 500' });
    expect(byIndex[3]).toMatchObject({ score: 100, why: 'wildcard * 0, scope +100' });
    expect(byIndex[5]?.score).toBeNull();
    expect(byIndex[0]?.why).toContain('does not match');
    expect(x.candidates[0]).toBe(x.route);
    expect(x.groups).toEqual(['all', 'observability']);
    const hook = x.hooks.tool_pre_invoke!;
    expect(hook.sequential.map((p) => p.name)).toEqual(['late', 'authn']);
    expect(hook.audit.map((p) => [p.name, p.from])).toEqual([
      ['audit', 'defaults.tool → group observability'],
    ]);
  });

  it('shows overrides, replaced references and disabled plugins that never run', () => {
    const x = explainRoute(
      cfg.routing,
      cfg.entries,
      { entity_type: 'tool', entity_name: 'send_email', tags: ['security', 'extra'] },
      true,
    );
    const pii = x.refs.find((r) => r.name === 'pii')!;
    expect(pii).toMatchObject({
      from: 'route #0',
      override: { mode: 'strict' },
      replaces: ['request tag → group security'],
    });
    expect(x.missing).toEqual(['off']);
    expect(x.hooks.tool_pre_invoke!.sequential.find((p) => p.name === 'pii')?.override).toEqual({
      mode: 'strict',
    });
  });

  it('with routing off, every plugin of the hook runs and the explanation says so', () => {
    const x = explainRoute(cfg.routing, cfg.entries, { entity_type: 'tool', entity_name: 'x' }, false);
    expect(x.routingEnabled).toBe(false);
    expect(x.route).toBeNull();
    expect(Object.values(x.hooks.tool_pre_invoke!).flat()).toHaveLength(7);
  });
});
