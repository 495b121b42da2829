/**
 * Conversion between cpex-ts extensions (Rust cpex 0.2 shapes) and the Python cpex 0.1.x
 * `Extensions` model shapes, for hosts that run Python plugins. The mapping is documented in
 * docs/host-python.md ("Extensions").
 *
 * - `http.request_headers` ↔ `http.headers`; response headers and the request line have no
 *   Python field.
 * - `security.subject.subject_type` ↔ `security.subject.type`; labels are a list; `client`,
 *   `caller_workload`, `this_workload`, `auth_method` have no Python field.
 * - `meta.entity_type` / `meta.entity_name`, delegation `authorization_details`,
 *   `raw_credentials` and `candidate_constraint` have no Python field (never sent).
 * - Everything else has the same field names.
 *
 * Python fills defaults and reorders sets, so `extensionsFromPython(obj, base)` keeps each value
 * of `base` (the extensions that were sent) wherever the Python value still says the same thing;
 * only real changes come back converted, for the executor's merge to judge.
 */
import type {
  AgentExtension,
  DelegationExtension,
  DelegationHop,
  HttpExtension,
  MetaExtension,
  SecurityExtension,
  SubjectExtension,
} from '@cpex/core/extensions';
import type { Extensions } from '@cpex/core';
import { CpexError, MonotonicSet } from '@cpex/core/host';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

type Json = Record<string, unknown>;

/** Slots with identical field names in both shapes. */
const SAME_SHAPE = [
  'request',
  'agent',
  'mcp',
  'completion',
  'provenance',
  'llm',
  'framework',
  'custom',
] as const;

/** Rust's default DateTime (a hop without a timestamp); Python requires one. */
const EPOCH = '1970-01-01T00:00:00Z';

function plain(v: unknown): unknown {
  return v === undefined ? undefined : JSON.parse(JSON.stringify(v));
}

function dropNullish(o: Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(o)) if (v != null) out[k] = v;
  return out;
}

function subjectToPython(s: SubjectExtension): Json {
  return dropNullish({
    id: s.id ?? '',
    type: s.subject_type ?? 'user',
    roles: s.roles ? [...s.roles] : undefined,
    permissions: s.permissions ? [...s.permissions] : undefined,
    teams: s.teams ? [...s.teams] : undefined,
    claims: s.claims ? { ...s.claims } : undefined,
  });
}

function hopToPython(h: DelegationHop): Json {
  return dropNullish({
    subject_id: h.subject_id,
    subject_type: h.subject_type ?? 'user',
    audience: h.audience,
    scopes_granted: [...(h.scopes_granted ?? [])],
    timestamp: h.timestamp ?? EPOCH,
    ttl_seconds: h.ttl_seconds,
    strategy: h.strategy,
    from_cache: h.from_cache ?? false,
  });
}

/**
 * Extensions (Rust shapes) → a JSON object that Python cpex 0.1.x `Extensions.model_validate`
 * accepts. Raw credentials and the candidate constraint are never included.
 * @example worker.send({ extensions: extensionsToPython(view) })
 */
export function extensionsToPython(ext: Extensions | null | undefined): Json {
  const out: Json = {};
  if (!ext) return out;
  for (const slot of SAME_SHAPE) if (ext[slot] != null) out[slot] = plain(ext[slot]);
  if (ext.http) out.http = { headers: { ...(ext.http.request_headers ?? {}) } };
  if (ext.security) {
    const s = ext.security;
    out.security = dropNullish({
      labels: s.labels ? [...MonotonicSet.from(s.labels)] : undefined,
      classification: s.classification,
      subject: s.subject ? subjectToPython(s.subject) : undefined,
      objects: plain(s.objects),
      data: plain(s.data),
    });
  }
  if (ext.delegation) {
    const d = ext.delegation;
    out.delegation = dropNullish({
      chain: (d.chain ?? []).map(hopToPython),
      depth: d.depth,
      origin_subject_id: d.origin_subject_id,
      actor_subject_id: d.actor_subject_id,
      delegated: d.delegated,
      age_seconds: d.age_seconds,
    });
  }
  if (ext.meta) {
    const m = ext.meta;
    out.meta = dropNullish({
      tags: m.tags ? [...m.tags] : undefined,
      scope: m.scope,
      properties: plain(m.properties),
    });
  }
  return out;
}

/** Python-side equality: null/absent/empty collections/false/0 are "unset"; lists of strings compare as sets; ISO timestamps by instant. */
function pyEqual(a: unknown, b: unknown): boolean {
  const unset = (v: unknown) =>
    v == null ||
    v === false ||
    v === 0 ||
    (Array.isArray(v) && v.length === 0) ||
    (isPlainObject(v) && Object.keys(v).length === 0);
  if (unset(a) && unset(b)) return true;
  if (typeof a === 'string' && typeof b === 'string') {
    if (a === b) return true;
    const ta = isoInstant(a);
    return ta !== null && ta === isoInstant(b);
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false;
    if (a.every((x) => typeof x === 'string') && b.every((x) => typeof x === 'string')) {
      const sb = new Set(b as string[]);
      return (a as string[]).every((x) => sb.has(x));
    }
    return a.every((x, i) => pyEqual(x, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) if (!pyEqual(a[k], b[k])) return false;
    return true;
  }
  return a === b;
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/;
function isoInstant(s: string): number | null {
  if (!ISO.test(s)) return null;
  const t = Date.parse(s);
  return Number.isNaN(t) ? null : t;
}

/**
 * Python types `agent.conversation.history` as `list[BaseModel]`, which dumps every entry as `{}`;
 * when the shape still matches what was sent, the sent history stands.
 */
function restoreHistory(v: unknown, base: AgentExtension | undefined): unknown {
  const conv = isPlainObject(v) ? v.conversation : undefined;
  const sent = base?.conversation?.history;
  if (!isPlainObject(conv) || !Array.isArray(conv.history) || !sent) return v;
  const h = conv.history as unknown[];
  if (h.length !== sent.length || !h.every((x) => isPlainObject(x) && Object.keys(x).length === 0)) return v;
  return { ...(v as Json), conversation: { ...conv, history: sent } };
}

function bad(path: string, expected: string, got: unknown): never {
  throw new CpexError(
    'CPEX_ERR_INVALID_RESULT',
    `Python extensions: ${path} must be ${expected}, got ${got === null ? 'null' : typeof got}`,
    { path },
  );
}

function obj(v: unknown, path: string): Json | undefined {
  if (v == null) return undefined;
  if (!isPlainObject(v)) bad(path, 'an object', v);
  return v;
}

function strings(v: unknown, path: string): string[] | undefined {
  if (v == null) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) bad(path, 'a list of strings', v);
  return v as string[];
}

function subjectFromPython(p: Json, base: SubjectExtension | null | undefined): SubjectExtension {
  if (base && pyEqual(p, subjectToPython(base))) return base;
  const out: Record<string, unknown> = {};
  if (p.id != null && p.id !== '') out.id = p.id;
  if (p.type != null) out.subject_type = p.type;
  for (const k of ['roles', 'permissions', 'teams'] as const) {
    const v = strings(p[k], `security.subject.${k}`);
    if (v && (v.length || base?.[k])) out[k] = v;
  }
  const claims = obj(p.claims, 'security.subject.claims');
  if (claims && (Object.keys(claims).length || base?.claims)) out.claims = claims;
  return out as SubjectExtension;
}

function securityFromPython(p: Json, base: SecurityExtension | null | undefined): SecurityExtension {
  const out: Record<string, unknown> = {};
  // Fields Python does not know stay as sent.
  for (const k of ['client', 'caller_workload', 'this_workload', 'auth_method'] as const) {
    if (base?.[k] != null) out[k] = base[k];
  }
  const labels = strings(p.labels, 'security.labels');
  const baseSet = base?.labels ? MonotonicSet.from(base.labels) : undefined;
  if (labels && (labels.length > 0 || baseSet)) {
    const set = MonotonicSet.from(labels);
    // Same labels → the object that was sent; anything else goes to the merge as returned.
    out.labels = baseSet && baseSet.size === set.size && baseSet.isSupersetOf(set) ? base?.labels : set;
  } else if (base?.labels) out.labels = base.labels;
  if (p.classification != null) out.classification = p.classification;
  else if (base?.classification != null) out.classification = base.classification;
  const subj = obj(p.subject, 'security.subject');
  if (subj) out.subject = subjectFromPython(subj, base?.subject);
  for (const k of ['objects', 'data'] as const) {
    const v = obj(p[k], `security.${k}`);
    if (base?.[k] && pyEqual(v, plain(base[k]))) out[k] = base[k];
    else if (v && Object.keys(v).length) out[k] = v;
  }
  return out as SecurityExtension;
}

function hopFromPython(p: Json, i: number, base: DelegationHop | undefined): DelegationHop {
  if (base && pyEqual(p, hopToPython(base))) return base;
  if (typeof p.subject_id !== 'string') bad(`delegation.chain[${i}].subject_id`, 'a string', p.subject_id);
  const out: Record<string, unknown> = { subject_id: p.subject_id };
  if (p.subject_type != null) out.subject_type = p.subject_type;
  if (p.audience != null) out.audience = p.audience;
  out.scopes_granted = strings(p.scopes_granted, `delegation.chain[${i}].scopes_granted`) ?? [];
  if (p.timestamp != null) out.timestamp = p.timestamp;
  if (p.ttl_seconds != null) out.ttl_seconds = p.ttl_seconds;
  if (p.strategy != null) out.strategy = p.strategy;
  if (p.from_cache != null) out.from_cache = p.from_cache;
  return out as unknown as DelegationHop;
}

function delegationFromPython(p: Json, base: DelegationExtension | null | undefined): DelegationExtension {
  const chain =
    p.chain == null ? [] : Array.isArray(p.chain) ? p.chain : bad('delegation.chain', 'a list', p.chain);
  const baseChain = base?.chain ?? [];
  const hops = chain.map((h, i) => hopFromPython(obj(h, `delegation.chain[${i}]`) ?? {}, i, baseChain[i]));
  if (base && hops.length === baseChain.length && hops.every((h, i) => h === baseChain[i])) return base;
  const out: Record<string, unknown> = { ...(base ?? {}), chain: hops };
  for (const k of ['depth', 'origin_subject_id', 'actor_subject_id', 'delegated', 'age_seconds'] as const) {
    if (p[k] != null) out[k] = p[k];
  }
  return out as DelegationExtension;
}

/**
 * A Python cpex 0.1.x `Extensions` dump → extensions in the Rust shapes. `base` is what was
 * sent to Python (normally the plugin's view): unchanged values come back as the very objects of
 * `base`, and fields Python cannot represent are restored from it. Null slots mean "unchanged"
 * and are omitted. Throws CpexError CPEX_ERR_INVALID_RESULT on a malformed object.
 * @example const returned = extensionsFromPython(reply.modified_extensions, view);
 */
export function extensionsFromPython(value: unknown, base?: Extensions | null): Extensions {
  const p = obj(value, 'extensions') ?? {};
  const out: Record<string, unknown> = {};
  const baseOf = (slot: keyof Extensions) => base?.[slot] ?? undefined;
  for (const slot of SAME_SHAPE) {
    let v = p[slot];
    if (v == null) continue;
    const b = baseOf(slot);
    if (slot === 'agent') v = restoreHistory(v, b as AgentExtension | undefined);
    out[slot] = b != null && pyEqual(v, plain(b)) ? b : v;
  }
  if (p.http != null) {
    const h = obj(p.http, 'http') ?? {};
    const headers = obj(h.headers, 'http.headers');
    const bh = base?.http;
    if (headers && !Object.values(headers).every((x) => typeof x === 'string'))
      bad('http.headers', 'a string map', headers);
    if (bh && pyEqual(headers ?? {}, bh.request_headers ?? {})) out.http = bh;
    else
      out.http = {
        ...(bh ?? {}),
        request_headers: (headers ?? {}) as Record<string, string>,
      } satisfies HttpExtension;
  }
  if (p.security != null) {
    const s = securityFromPython(obj(p.security, 'security') ?? {}, base?.security);
    const bs = base?.security;
    const same =
      bs &&
      Object.keys(s).every((k) => (s as Json)[k] === (bs as Json)[k]) &&
      Object.keys(bs).every((k) => (bs as Json)[k] == null || k in s);
    out.security = same ? bs : s;
  }
  if (p.delegation != null)
    out.delegation = delegationFromPython(obj(p.delegation, 'delegation') ?? {}, base?.delegation);
  if (p.meta != null) {
    const m = obj(p.meta, 'meta') ?? {};
    const bm = base?.meta;
    const asPy = bm ? extensionsToPython({ meta: bm }).meta : undefined;
    if (bm && pyEqual(m, asPy)) out.meta = bm;
    else {
      const meta: Record<string, unknown> = {};
      if (bm?.entity_type != null) meta.entity_type = bm.entity_type;
      if (bm?.entity_name != null) meta.entity_name = bm.entity_name;
      const tags = strings(m.tags, 'meta.tags');
      if (tags) meta.tags = tags;
      if (m.scope != null) meta.scope = m.scope;
      if (m.properties != null) meta.properties = m.properties;
      out.meta = meta as MetaExtension;
    }
  }
  // Slots Python has no field for: always as sent.
  if (base?.raw_credentials != null) out.raw_credentials = base.raw_credentials;
  if (base?.candidate_constraint != null) out.candidate_constraint = base.candidate_constraint;
  return out as Extensions;
}
