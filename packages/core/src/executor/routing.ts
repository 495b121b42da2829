/**
 * Route-based plugin selection (`plugin_settings.routing_enabled: true`), after Rust cpex 0.2.
 *
 * A request names its entity in `extensions.meta` (`entity_type` tool|resource|prompt|llm,
 * `entity_name`, optional `scope` and `tags`). The plugins that run are, in this order of
 * resolution: the `all` group, the `global.defaults` groups of the entity type, the groups named by
 * the best matching route's tags and `groups:` and by the request's tags, and the route's own
 * plugins; a plugin named twice keeps its last reference (so a route's override wins).
 *
 * Route score (highest wins, ties go to the first route in the file): exact name 1000, list 500,
 * glob 300, "*" 0; +100 when the route's scope equals the request's (a scoped route never matches
 * another or an absent scope); +10 when the route has a `when`.
 *
 * Unlike Rust, the selected plugins still run in phase order and by priority: routing decides
 * *which* plugins run, never the order (ARCHITECTURE s3: ordering is computed once, at registration).
 * Requests without `meta.entity_type` run every plugin of the hook. Resolved lineups are cached per
 * (hook, entity type, entity name, scope, tags), bounded by `route_cache_max_entries`. A hit is two
 * Map lookups (hook, then entity name) and a short scan of that name's entries comparing type,
 * scope and tags — no key string is built per invoke. Eviction is second-chance (CLOCK, an LRU
 * approximation): an entry hit since the last sweep is kept once more.
 */
import type { EntityType, PluginRef, RouteDef, RoutingConfig } from '../config/load.js';
import { buildLineups, type Lineup, type Registration } from './registration.js';

export interface RequestMeta {
  entity_type?: string;
  entity_name?: string;
  scope?: string;
  tags?: readonly string[];
}

const EMPTY: Lineup = Object.freeze({
  hook: '',
  ordered: [],
  phases: { sequential: [], transform: [], audit: [], concurrent: [], fire_and_forget: [] },
  hasFireAndForget: false,
  steps: [],
}) as Lineup;

/** One cached resolution. `tags` are the request's tags, sorted. */
interface CacheEntry {
  readonly hook: string;
  readonly name: string;
  readonly type: string;
  readonly scope: string;
  readonly tags: readonly string[];
  readonly lineup: Lineup;
  /** Hit since the eviction sweep last passed it. */
  used: boolean;
}

const NO_TAGS: readonly string[] = Object.freeze([]);

function sortedTags(tags: readonly string[] | undefined): readonly string[] {
  return tags === undefined || tags.length === 0 ? NO_TAGS : [...tags].sort();
}

/** Whether a request's tags (any order) are an entry's sorted tags. */
function sameTags(sorted: readonly string[], tags: readonly string[] | undefined): boolean {
  const n = tags === undefined ? 0 : tags.length;
  if (n !== sorted.length) return false;
  if (n === 0) return true;
  if (n === 1) return tags![0] === sorted[0];
  const mine = [...tags!].sort();
  for (let i = 0; i < n; i++) if (mine[i] !== sorted[i]) return false;
  return true;
}

export class RouteTable {
  /** hook → entity name → the entries of that name (usually one). */
  private readonly cache = new Map<string, Map<string, CacheEntry[]>>();
  /** Every entry, oldest first (the eviction sweep's order). */
  private readonly order = new Set<CacheEntry>();

  constructor(
    private readonly routing: RoutingConfig,
    private readonly maxEntries: number,
    /** The registration a reference resolves to: the base plugin, or its override instance. */
    private readonly resolve: (ref: PluginRef) => Registration | undefined,
  ) {}

  /** The best matching route for a request, or undefined. */
  matchRoute(entityType: string, entityName: string, scope: string | undefined): RouteDef | undefined {
    let best: RouteDef | undefined;
    let bestScore = -1;
    for (const r of this.routing.routes) {
      if (r.entityType !== entityType) continue;
      if (r.scope !== undefined && r.scope !== scope) continue;
      let score: number;
      switch (r.match.kind) {
        case 'exact':
          if (r.match.names[0] !== entityName) continue;
          score = 1000;
          break;
        case 'list':
          if (!r.match.names.includes(entityName)) continue;
          score = 500;
          break;
        case 'glob':
          if (!r.match.re!.test(entityName)) continue;
          score = 300;
          break;
        default:
          score = 0;
      }
      if (r.scope !== undefined) score += 100;
      if (r.hasWhen) score += 10;
      if (score > bestScore) {
        best = r;
        bestScore = score;
      }
    }
    return best;
  }

  /** The plugin references selected for a request, in resolution order, last reference of a name kept. */
  resolveRefs(meta: RequestMeta): PluginRef[] {
    const type = meta.entity_type as EntityType;
    const refs: PluginRef[] = [];
    const addGroup = (g: string) => {
      const list = this.routing.groups[g];
      if (list) refs.push(...list);
    };
    addGroup('all');
    for (const g of this.routing.defaults[type] ?? []) addGroup(g);
    const route = this.matchRoute(type, meta.entity_name ?? '', meta.scope);
    const tags = new Set<string>([...(route?.tags ?? []), ...(route?.groups ?? []), ...(meta.tags ?? [])]);
    tags.delete('all');
    for (const t of [...tags].sort()) addGroup(t);
    if (route) refs.push(...route.plugins);
    const last = new Map<string, PluginRef>();
    for (const r of refs) {
      last.delete(r.name);
      last.set(r.name, r);
    }
    return [...last.values()];
  }

  /** The lineup of `hook` for a request (the full lineup when the request names no entity). */
  select(full: Lineup, hook: string, meta: RequestMeta | null | undefined): Lineup {
    if (!meta || typeof meta.entity_type !== 'string') return full;
    const type = meta.entity_type;
    const name = meta.entity_name ?? '';
    const scope = meta.scope ?? '';
    const bucket = this.cache.get(hook)?.get(name);
    if (bucket !== undefined) {
      for (const e of bucket) {
        if (e.type === type && e.scope === scope && sameTags(e.tags, meta.tags)) {
          e.used = true;
          return e.lineup;
        }
      }
    }
    const regs: Registration[] = [];
    for (const ref of this.resolveRefs(meta)) {
      const reg = this.resolve(ref);
      if (reg?.handlers.has(hook)) regs.push(reg);
    }
    regs.sort((a, b) => a.order - b.order);
    const lineup = buildLineups(regs).get(hook) ?? EMPTY;
    if (this.order.size >= this.maxEntries) this.evictOne();
    const entry: CacheEntry = { hook, name, type, scope, tags: sortedTags(meta.tags), lineup, used: false };
    let byName = this.cache.get(hook);
    if (byName === undefined) this.cache.set(hook, (byName = new Map()));
    const list = byName.get(name);
    if (list === undefined) byName.set(name, [entry]);
    else list.push(entry);
    this.order.add(entry);
    return lineup;
  }

  /** Second chance: entries hit since the last pass go to the back (once); the first other one goes. */
  private evictOne(): void {
    for (const e of this.order) {
      this.order.delete(e);
      if (e.used) {
        e.used = false;
        this.order.add(e);
        continue;
      }
      const byName = this.cache.get(e.hook);
      const list = byName?.get(e.name);
      if (list !== undefined) {
        const i = list.indexOf(e);
        if (i >= 0) list.splice(i, 1);
        if (list.length === 0) byName!.delete(e.name);
        if (byName!.size === 0) this.cache.delete(e.hook);
      }
      return;
    }
  }

  clear(): void {
    this.cache.clear();
    this.order.clear();
  }

  get cacheSize(): number {
    return this.order.size;
  }
}
