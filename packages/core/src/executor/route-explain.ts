/**
 * Why a plugin runs for a request: the routing decision of `routing.ts`, spelled out. Built beside
 * the route table (never inside its hot path) for `cpex routes` and for gateways that want to log
 * it. Works from the config alone — no plugin is created — and follows the route table's rules
 * exactly (a test checks the two agree on every route of a corpus):
 *
 * - every route of the request's entity type is scored (exact 1000, list 500, glob 300, `*` 0;
 *   +100 for an equal scope — a scoped route never matches another or an absent scope; +10 with a
 *   `when`); the highest wins, ties go to the first in the file;
 * - the plugins are the `all` group, the `global.defaults` groups of the entity type, the groups
 *   named by the route's tags and `groups:` and by the request's tags (sorted), then the route's
 *   own plugins; a plugin named twice keeps its last reference (a route's override wins);
 * - the selected plugins run in phase order and by priority (ties in config order).
 */
import type { EntityType, PluginRef, RouteDef, RoutingConfig } from '../config/load.js';
import { PHASES, type Phase, type PluginEntry } from '../types.js';
import type { RequestMeta } from './routing.js';

export interface RouteCandidate {
  /** Index in `routes:`. */
  index: number;
  /** What the route matches: the name, the list, the glob or `*`. */
  match: string | string[];
  matchKind: RouteDef['match']['kind'];
  scope?: string;
  /** Score for this request, or null when the route does not match it. */
  score: number | null;
  /** Why it matched or not, in words. */
  why: string;
}

export interface ExplainedRef {
  name: string;
  /** Where the reference came from: `group all`, `defaults.tool → group pii`, `route #2`, … */
  from: string;
  /** The per-route/per-group config override (an override instance), when the reference has one. */
  override?: Record<string, unknown>;
  /** Earlier references to the same plugin this one replaced. */
  replaces?: string[];
}

export interface ExplainedPlugin {
  name: string;
  phase: Phase;
  priority: number;
  kind: string;
  from: string;
  override?: Record<string, unknown>;
}

export interface RouteExplanation {
  routingEnabled: boolean;
  request: { entity_type: string; entity_name: string; scope?: string; tags: string[] };
  /** The winning route, or null (then only groups apply). */
  route: RouteCandidate | null;
  /** Every route of the entity type, best first (matching ones), then the non-matching ones. */
  candidates: RouteCandidate[];
  /** Groups applied, in resolution order. */
  groups: string[];
  /** The selected references in resolution order (last reference of a name kept). */
  refs: ExplainedRef[];
  /**
   * Per hook: the plugins that would run, by phase in execution order. With routing off, every
   * plugin of the hook (legacy `conditions` still apply per request).
   */
  hooks: Record<string, Record<Phase, ExplainedPlugin[]>>;
  /** Referenced names with no plugin entry (or a disabled one): they never run. */
  missing: string[];
}

/** The score of `r` for a request, or null when it does not match (the route table's rule). */
export function scoreRoute(
  r: RouteDef,
  entityType: string,
  name: string,
  scope: string | undefined,
): number | null {
  if (r.entityType !== entityType) return null;
  if (r.scope !== undefined && r.scope !== scope) return null;
  let score: number;
  switch (r.match.kind) {
    case 'exact':
      if (r.match.names[0] !== name) return null;
      score = 1000;
      break;
    case 'list':
      if (!r.match.names.includes(name)) return null;
      score = 500;
      break;
    case 'glob':
      if (!r.match.re!.test(name)) return null;
      score = 300;
      break;
    default:
      score = 0;
  }
  if (r.scope !== undefined) score += 100;
  if (r.hasWhen) score += 10;
  return score;
}

function candidate(
  r: RouteDef,
  meta: Required<Pick<RequestMeta, 'entity_type' | 'entity_name'>> & RequestMeta,
) {
  const score = scoreRoute(r, meta.entity_type, meta.entity_name, meta.scope);
  const kindWord = { exact: 'exact name', list: 'name list', glob: 'glob', any: 'wildcard *' }[r.match.kind];
  let why: string;
  if (score === null) {
    why =
      r.scope !== undefined && r.scope !== meta.scope
        ? `scope ${JSON.stringify(r.scope)} ≠ request scope ${meta.scope === undefined ? '(none)' : JSON.stringify(meta.scope)}`
        : `${kindWord} does not match ${JSON.stringify(meta.entity_name)}`;
  } else {
    const parts = [`${kindWord} ${score - (r.scope !== undefined ? 100 : 0) - (r.hasWhen ? 10 : 0)}`];
    if (r.scope !== undefined) parts.push('scope +100');
    if (r.hasWhen) parts.push('when +10');
    why = parts.join(', ');
  }
  const c: RouteCandidate = {
    index: r.index,
    match: r.match.kind === 'list' ? [...r.match.names] : r.match.names[0]!,
    matchKind: r.match.kind,
    score,
    why,
  };
  if (r.scope !== undefined) c.scope = r.scope;
  return c;
}

/**
 * Explain which plugins run for a request and why.
 *
 * @example
 * ```ts
 * const cfg = await loadConfigFile('plugins.yaml');
 * const why = explainRoute(cfg.routing, cfg.entries, { entity_type: 'tool', entity_name: 'search' }, true);
 * console.log(why.route?.index, why.hooks.tool_pre_invoke?.sequential.map((p) => p.name));
 * ```
 */
export function explainRoute(
  routing: RoutingConfig,
  entries: readonly PluginEntry[],
  meta: RequestMeta & { entity_type: EntityType | string; entity_name: string },
  routingEnabled: boolean,
): RouteExplanation {
  const request = {
    entity_type: meta.entity_type,
    entity_name: meta.entity_name,
    ...(meta.scope !== undefined ? { scope: meta.scope } : {}),
    tags: [...(meta.tags ?? [])],
  };
  const byName = new Map<string, { entry: PluginEntry; order: number }>();
  entries.forEach((e, order) => {
    if (e.mode !== 'disabled') byName.set(e.name, { entry: e, order });
  });

  const hooks: RouteExplanation['hooks'] = {};
  const fill = (selected: Array<{ entry: PluginEntry; order: number; plugin: ExplainedPlugin }>) => {
    const perHook = new Map<string, Array<{ p: ExplainedPlugin; order: number }>>();
    for (const s of selected) {
      for (const hook of s.entry.hooks) {
        let l = perHook.get(hook);
        if (!l) perHook.set(hook, (l = []));
        l.push({ p: s.plugin, order: s.order });
      }
    }
    for (const [hook, list] of perHook) {
      list.sort((a, b) => a.p.priority - b.p.priority || a.order - b.order);
      const phases = Object.fromEntries(PHASES.map((ph) => [ph, [] as ExplainedPlugin[]])) as Record<
        Phase,
        ExplainedPlugin[]
      >;
      for (const { p } of list) phases[p.phase].push(p);
      hooks[hook] = phases;
    }
  };

  if (!routingEnabled) {
    fill(
      [...byName.values()].map(({ entry, order }) => ({
        entry,
        order,
        plugin: {
          name: entry.name,
          phase: entry.mode as Phase,
          priority: entry.priority,
          kind: entry.kind,
          from:
            entry.conditions.length > 0
              ? 'every request (routing off; conditions apply)'
              : 'every request (routing off)',
        },
      })),
    );
    return { routingEnabled, request, route: null, candidates: [], groups: [], refs: [], hooks, missing: [] };
  }

  const candidates = routing.routes
    .filter((r) => r.entityType === meta.entity_type)
    .map((r) => candidate(r, meta));
  let route: RouteCandidate | null = null;
  for (const c of candidates) if (c.score !== null && (route === null || c.score > route.score!)) route = c;
  const routeDef = route ? routing.routes[route.index] : undefined;
  const ordered = [
    ...(route ? [route] : []),
    ...candidates.filter((c) => c !== route && c.score !== null).sort((a, b) => b.score! - a.score!),
    ...candidates.filter((c) => c.score === null),
  ];

  const refs: Array<{ ref: PluginRef; from: string }> = [];
  const groups: string[] = [];
  const addGroup = (g: string, via: string) => {
    const list = routing.groups[g];
    if (!list) return;
    groups.push(g);
    for (const ref of list) refs.push({ ref, from: via });
  };
  addGroup('all', 'group all');
  for (const g of routing.defaults[meta.entity_type] ?? [])
    addGroup(g, `defaults.${meta.entity_type} → group ${g}`);
  const routeTags = new Set([...(routeDef?.tags ?? [])]);
  const routeGroups = new Set([...(routeDef?.groups ?? [])]);
  const tags = new Set<string>([...routeTags, ...routeGroups, ...(meta.tags ?? [])]);
  tags.delete('all');
  for (const t of [...tags].sort()) {
    const via = routeGroups.has(t)
      ? `route #${routeDef!.index} groups → group ${t}`
      : routeTags.has(t)
        ? `route #${routeDef!.index} tag → group ${t}`
        : `request tag → group ${t}`;
    addGroup(t, via);
  }
  if (routeDef) for (const ref of routeDef.plugins) refs.push({ ref, from: `route #${routeDef.index}` });

  const last = new Map<string, ExplainedRef>();
  for (const { ref, from } of refs) {
    const prev = last.get(ref.name);
    last.delete(ref.name);
    const e: ExplainedRef = { name: ref.name, from };
    if (ref.config !== undefined) e.override = ref.config;
    if (prev) e.replaces = [...(prev.replaces ?? []), prev.from];
    last.set(ref.name, e);
  }
  const explained = [...last.values()];
  const missing: string[] = [];
  const selected: Array<{ entry: PluginEntry; order: number; plugin: ExplainedPlugin }> = [];
  for (const r of explained) {
    const base = byName.get(r.name);
    if (!base) {
      missing.push(r.name);
      continue;
    }
    const plugin: ExplainedPlugin = {
      name: r.name,
      phase: base.entry.mode as Phase,
      priority: base.entry.priority,
      kind: base.entry.kind,
      from: r.from,
    };
    if (r.override !== undefined) plugin.override = r.override;
    selected.push({ entry: base.entry, order: base.order, plugin });
  }
  fill(selected);
  return { routingEnabled, request, route, candidates: ordered, groups, refs: explained, hooks, missing };
}
