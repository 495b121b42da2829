/**
 * The seam between the executor and the extension tiers/capabilities.
 *
 * The executor calls only these three functions:
 * - `compileCapabilities(names)` once per plugin entry at load time (unknown names throw);
 * - `extensionsView(ext, caps)` per plugin call: the capability-filtered, frozen view the handler
 *   sees; cached per (extensions object, capability set), no copies when nothing is hidden;
 * - `mergeExtensions(current, view, returned, caps)` when a sequential/transform plugin returns
 *   `modifiedExtensions`: field-by-field merge into the canonical extensions, or a refusal that
 *   the executor records as an `extension_violation` through the plugin's on_error.
 */
import type { z } from 'zod';
import type { CapabilityName, CompiledCapabilities } from './capabilities.js';
import { setOwn } from '../context/copy.js';
import { describeSparse, findSparse, forEachHeld } from '../payload/holes.js';
import { dataEqual, deepFreeze, isPlainObject } from './equality.js';
import { MonotonicSet, toLabelSet } from './monotonic-set.js';
import { CandidateConstraintExtensionSchema, CustomExtensionSchema, DelegationHopSchema } from './schemas.js';
import { formatPath } from '../errors/issue-path.js';
import { notJsonData } from './json-data.js';
import { SECURITY_FIELD_READ, SLOT_POLICIES, SUBJECT_FIELD_READ } from './tiers.js';
import type { DelegationExtension, DelegationHop, Extensions, ExtensionSlot } from './types.js';

export type { CapabilityName, CompiledCapabilities } from './capabilities.js';
export { CAPABILITY_NAMES, compileCapabilities } from './capabilities.js';

type Obj = Record<string, unknown>;

const EMPTY: Extensions = Object.freeze({});
const viewCache = new WeakMap<object, Map<string, Extensions>>();
/** The last view handed out, in front of the WeakMap (one object passed to many invokes). */
let lastExt: Extensions | undefined;
let lastCaps: CompiledCapabilities | undefined;
let lastView: Extensions | undefined;

/**
 * The view a plugin holding `caps` sees: hidden slots and fields are absent, labels are a
 * MonotonicSet, and everything is frozen (an in-place write throws and never reaches the
 * canonical object). The same object comes back for the same (ext, caps); `ext` itself (frozen
 * in place) when nothing is hidden. Extensions are values: the canonical object is frozen too.
 * @example const view = extensionsView(ext, compileCapabilities(['read_labels']));
 */
export function extensionsView(
  ext: Extensions | undefined,
  caps: CompiledCapabilities,
): Extensions | undefined {
  if (ext == null || typeof ext !== 'object') return ext;
  if (ext === lastExt && caps === lastCaps) return lastView;
  let byCaps = viewCache.get(ext);
  const cached = byCaps?.get(caps.key);
  if (cached) {
    lastExt = ext;
    lastCaps = caps;
    lastView = cached;
    return cached;
  }
  if (!byCaps) {
    byCaps = new Map();
    viewCache.set(ext, byCaps);
  }
  deepFreeze(ext);
  const view = buildView(ext, caps.has);
  byCaps.set(caps.key, view);
  lastExt = ext;
  lastCaps = caps;
  lastView = view;
  return view;
}

function buildView(ext: Extensions, has: ReadonlySet<CapabilityName>): Extensions {
  const out: Obj = {};
  let changed = false;
  for (const [slot, value] of Object.entries(ext)) {
    const policy = SLOT_POLICIES[slot as ExtensionSlot] as (typeof SLOT_POLICIES)[ExtensionSlot] | undefined;
    if (value == null) {
      out[slot] = value;
      continue;
    }
    if (!policy || (policy.read && !has.has(policy.read))) {
      changed = true; // unknown slots are hidden too (secure by default)
      continue;
    }
    let shown: unknown = value;
    if (slot === 'security') shown = securityView(value as Obj, has);
    else if (slot === 'raw_credentials') shown = rawCredentialsView(value as Obj, has);
    if (shown !== value) changed = true;
    if (shown !== undefined) out[slot] = shown;
  }
  return changed ? Object.freeze(out) : ext;
}

function securityView(sec: Obj, has: ReadonlySet<CapabilityName>): Obj {
  const out: Obj = {};
  let changed = false;
  for (const [field, value] of Object.entries(sec)) {
    if (!(field in SECURITY_FIELD_READ)) {
      changed = true;
      continue;
    }
    const cap = SECURITY_FIELD_READ[field];
    if (value != null && cap && !has.has(cap)) {
      changed = true;
      continue;
    }
    let shown = value;
    if (field === 'labels' && value != null && !(value instanceof MonotonicSet)) {
      shown = toLabelSet(value) ?? MonotonicSet.EMPTY;
    } else if (field === 'subject' && isPlainObject(value)) {
      shown = subjectView(value, has);
    }
    if (shown !== value) changed = true;
    out[field] = shown;
  }
  return changed ? Object.freeze(out) : sec;
}

function subjectView(subject: Obj, has: ReadonlySet<CapabilityName>): Obj {
  let out: Obj | null = null;
  for (const [field, cap] of Object.entries(SUBJECT_FIELD_READ)) {
    if (subject[field] != null && !has.has(cap)) {
      out ??= { ...subject };
      delete out[field];
    }
  }
  return out ? Object.freeze(out) : subject;
}

function rawCredentialsView(rc: Obj, has: ReadonlySet<CapabilityName>): Obj | undefined {
  const inbound = has.has('read_inbound_credentials');
  const delegated = has.has('read_delegated_tokens');
  if (!inbound && !delegated) return undefined;
  if (inbound && delegated) return rc;
  const out: Obj = {};
  if (inbound && rc.inbound_tokens != null) out.inbound_tokens = rc.inbound_tokens;
  if (delegated && rc.delegated_tokens != null) out.delegated_tokens = rc.delegated_tokens;
  return Object.freeze(out);
}

export type MergeOutcome =
  | { ok: true; value: Extensions }
  | { ok: false; message: string; details?: Record<string, unknown> };

class Refusal {
  constructor(
    readonly message: string,
    readonly details: Record<string, unknown>,
  ) {}
}

function refuse(where: string, reason: string, capability?: CapabilityName): never {
  const needs = capability ? ` (needs capability ${capability})` : '';
  throw new Refusal(`extension edit rejected at ${where}: ${reason}${needs}`, {
    code: 'CPEX_ERR_EXTENSION_VIOLATION',
    path: where,
    reason,
    ...(capability ? { capability } : {}),
  });
}

/** A copy of plain data (undefined members dropped; MonotonicSet, Date, ... kept). Iterative. */
function cloneData<T>(v: T): T {
  const jobs: Array<() => void> = [];
  const copyOf = (x: unknown): unknown => {
    if (typeof x !== 'object' || x === null) return x;
    if (Array.isArray(x)) {
      const out: unknown[] = [];
      jobs.push(() => {
        forEachHeld(x as unknown[], (y, i) => {
          out[i] = copyOf(y);
        });
        out.length = x.length;
      });
      return out;
    }
    if (!isPlainObject(x)) return x; // MonotonicSet, Date, …: kept as they are
    const out: Obj = {};
    jobs.push(() => {
      for (const [k, y] of Object.entries(x)) if (y !== undefined) setOwn(out, k, copyOf(y));
    });
    return out;
  };
  const root = copyOf(v);
  for (let job = jobs.pop(); job !== undefined; job = jobs.pop()) job();
  return root as T;
}

function validated<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.length ? `${where}.${formatPath(issue.path)}` : where;
    refuse(path, `invalid value (${issue?.message ?? 'schema mismatch'})`);
  }
  return value as T;
}

/**
 * Merges a plugin's returned extensions into the canonical ones, field by field, enforcing tiers
 * and capabilities. A slot returned absent (undefined/null) means "unchanged", never "delete".
 * Unchanged slots are shared, so a plugin that changes nothing costs no copy and gets
 * `current` back.
 * @example
 * const out = mergeExtensions(canonical, view, result.modifiedExtensions, caps);
 * if (!out.ok) recordViolation('extension_violation', out.message);
 */
export function mergeExtensions(
  current: Extensions | undefined,
  view: Extensions | undefined,
  returned: Extensions,
  caps: CompiledCapabilities,
): MergeOutcome {
  try {
    return {
      ok: true,
      value: merge(
        current ?? EMPTY,
        view ?? extensionsView(current ?? EMPTY, caps) ?? EMPTY,
        returned,
        caps.has,
      ),
    };
  } catch (e) {
    if (e instanceof Refusal) return { ok: false, message: e.message, details: e.details };
    // e.g. a throwing getter on the returned object: still a refusal, never a crash
    const reason = e instanceof Error ? e.message : String(e);
    return {
      ok: false,
      message: `extension edit rejected: modifiedExtensions could not be read (${reason})`,
      details: { code: 'CPEX_ERR_EXTENSION_VIOLATION', path: 'extensions', reason },
    };
  }
}

function merge(
  canonical: Extensions,
  seen: Extensions,
  returned: unknown,
  has: ReadonlySet<CapabilityName>,
): Extensions {
  if (returned === canonical || returned === seen) return canonical;
  if (!isPlainObject(returned)) refuse('extensions', 'modifiedExtensions must be a plain object');
  const c = canonical as Obj;
  const v = seen as Obj;
  let next: Obj | null = null;
  const put = (slot: string, value: unknown) => {
    next ??= { ...c };
    next[slot] = value;
  };
  for (const [slot, r] of Object.entries(returned)) {
    if (r == null) continue; // absent = unchanged, never delete
    const policy = SLOT_POLICIES[slot as ExtensionSlot] as (typeof SLOT_POLICIES)[ExtensionSlot] | undefined;
    if (!policy) refuse(slot, 'unknown extension slot');
    if (r === c[slot] || r === v[slot]) continue;
    // Extension data is JSON data: an array with holes is refused before anything walks it.
    const sparse = findSparse(r);
    if (sparse) refuse(sparse.path === '' ? slot : `${slot}.${sparse.path}`, describeSparse(sparse));
    switch (slot as ExtensionSlot) {
      case 'security': {
        const out = mergeSecurity(c.security as Obj | undefined, v.security as Obj | undefined, r, has);
        if (out) put(slot, out);
        break;
      }
      case 'delegation': {
        if (!has.has('read_delegation'))
          refuse(slot, 'the slot is hidden from this plugin', 'read_delegation');
        const out = mergeDelegation(c.delegation as Obj | undefined, r, has);
        if (out) put(slot, out);
        break;
      }
      case 'http': {
        if (!has.has('read_headers')) refuse(slot, 'the slot is hidden from this plugin', 'read_headers');
        const out = mergeHttp(c.http as Obj | undefined, r, has);
        if (out) put(slot, out);
        break;
      }
      case 'candidate_constraint': {
        if (dataEqual(r, c[slot])) break;
        if (!has.has('write_candidate_constraint'))
          refuse(slot, 'changing the candidate constraint needs a capability', 'write_candidate_constraint');
        put(slot, cloneData(validated(CandidateConstraintExtensionSchema, r, slot)));
        break;
      }
      case 'custom': {
        if (dataEqual(r, c[slot])) break;
        const custom = validated(CustomExtensionSchema, r, slot);
        // It reaches plugins in every language as JSON: only what JSON carries exactly (as at ingress).
        const bad = notJsonData(custom);
        if (bad) refuse(`${slot}${bad.path}`, bad.message);
        put(slot, cloneData(custom));
        break;
      }
      case 'raw_credentials': {
        if (v[slot] == null) refuse(slot, 'the slot is hidden from this plugin', 'read_inbound_credentials');
        if (!isPlainObject(r)) refuse(slot, 'must be an object');
        for (const [field, value] of Object.entries(r)) {
          if (value == null) continue;
          const shown = (v[slot] as Obj)[field];
          if (shown == null) refuse(`${slot}.${field}`, 'the field is hidden from this plugin or absent');
          if (!dataEqual(value, shown))
            refuse(`${slot}.${field}`, 'raw credentials are immutable for plugins');
        }
        break;
      }
      default: {
        // immutable slots (agent is additionally gated by read_agent)
        if (v[slot] == null) {
          if (c[slot] == null) refuse(slot, 'a plugin cannot add an immutable slot');
          refuse(slot, 'the slot is hidden from this plugin', policy.read ?? undefined);
        }
        if (!dataEqual(r, v[slot])) refuse(slot, 'the slot is immutable');
      }
    }
  }
  return next ? deepFreeze(next as Extensions) : canonical;
}

function mergeSecurity(
  c: Obj | undefined,
  v: Obj | undefined,
  r: unknown,
  has: ReadonlySet<CapabilityName>,
): Obj | null {
  if (!isPlainObject(r)) refuse('security', 'must be an object');
  let labels: MonotonicSet | null = null;
  for (const [field, value] of Object.entries(r)) {
    if (value == null) continue;
    const where = `security.${field}`;
    if (!(field in SECURITY_FIELD_READ)) refuse(where, 'unknown security field');
    if (field === 'labels') {
      const returnedLabels = toLabelSet(value);
      if (!returnedLabels) refuse(where, 'labels must be a MonotonicSet or a list of strings');
      if (!has.has('read_labels')) {
        if (returnedLabels.size === 0) continue;
        refuse(where, 'labels are hidden from this plugin', 'read_labels');
      }
      const current = toLabelSet(c?.labels) ?? MonotonicSet.EMPTY;
      if (!returnedLabels.isSupersetOf(current)) {
        const missing = current.missingFrom(returnedLabels);
        refuse(
          where,
          `labels are monotonic: removing ${missing.map((l) => JSON.stringify(l)).join(', ')} is not allowed`,
        );
      }
      if (returnedLabels.size === current.size) continue;
      if (!has.has('append_labels')) refuse(where, 'adding labels needs a capability', 'append_labels');
      labels = current.union(returnedLabels);
      continue;
    }
    const cap = SECURITY_FIELD_READ[field];
    const shown = v?.[field];
    if (cap && shown == null) refuse(where, 'the field is hidden from this plugin', cap);
    if (shown == null && c?.[field] == null) refuse(where, 'a plugin cannot add an immutable field');
    if (!dataEqual(value, shown)) refuse(where, 'the field is immutable');
  }
  return labels ? { ...(c ?? {}), labels } : null;
}

function scopesOf(hop: DelegationHop | undefined): readonly string[] {
  return hop?.scopes_granted ?? [];
}

function sameHop(a: DelegationHop, b: DelegationHop): boolean {
  const sa = new Set(scopesOf(a));
  const sb = scopesOf(b);
  return (
    a.subject_id === b.subject_id &&
    (a.subject_type ?? null) === (b.subject_type ?? null) &&
    (a.audience ?? null) === (b.audience ?? null) &&
    (a.strategy ?? null) === (b.strategy ?? null) &&
    sa.size === new Set(sb).size &&
    sb.every((s) => sa.has(s))
  );
}

const DELEGATION_FIELDS = new Set([
  'chain',
  'depth',
  'origin_subject_id',
  'actor_subject_id',
  'delegated',
  'age_seconds',
]);

function mergeDelegation(
  c: Obj | undefined,
  r: unknown,
  has: ReadonlySet<CapabilityName>,
): DelegationExtension | null {
  if (!isPlainObject(r)) refuse('delegation', 'must be an object');
  const out = r.chain == null ? null : mergeChain(c, r.chain, has);
  // depth, delegated, actor and origin are derived from the chain: a returned value must agree
  // with the result (age_seconds is time-dependent and simply kept from the canonical value).
  const result: Obj = (out as Obj | null) ?? c ?? {};
  for (const [field, value] of Object.entries(r)) {
    if (!DELEGATION_FIELDS.has(field)) refuse(`delegation.${field}`, 'unknown delegation field');
    if (field === 'chain' || field === 'age_seconds' || value == null) continue;
    // a value carried over from the canonical object (a plain spread of the view) is fine too
    const fallback = field === 'depth' ? 0 : field === 'delegated' ? false : undefined;
    if (!dataEqual(value, result[field] ?? fallback) && !dataEqual(value, c?.[field] ?? fallback)) {
      refuse(`delegation.${field}`, 'the field is derived from the chain and cannot be set');
    }
  }
  return out;
}

function mergeChain(
  c: Obj | undefined,
  returnedChain: unknown,
  has: ReadonlySet<CapabilityName>,
): DelegationExtension | null {
  if (!Array.isArray(returnedChain)) refuse('delegation.chain', 'must be a list of hops');
  const current = (c?.chain as DelegationHop[] | undefined) ?? [];
  const chain = returnedChain as unknown[];
  if (chain.length < current.length) {
    refuse('delegation.chain', `the chain is append-only: ${current.length - chain.length} hop(s) removed`);
  }
  for (let i = 0; i < current.length; i++) {
    const hop = validated(DelegationHopSchema, chain[i], `delegation.chain[${i}]`) as DelegationHop;
    if (!sameHop(hop, current[i] as DelegationHop))
      refuse(`delegation.chain[${i}]`, 'an existing hop was rewritten');
  }
  if (chain.length === current.length) return null;
  if (!has.has('append_delegation'))
    refuse('delegation.chain', 'appending a hop needs a capability', 'append_delegation');
  const merged: DelegationHop[] = [...current];
  for (let i = current.length; i < chain.length; i++) {
    const hop = cloneData(
      validated(DelegationHopSchema, chain[i], `delegation.chain[${i}]`) as DelegationHop,
    );
    const prev = merged[merged.length - 1];
    if (prev) {
      const allowed = new Set(scopesOf(prev));
      const widened = scopesOf(hop).filter((s) => !allowed.has(s));
      if (widened.length) {
        refuse(
          `delegation.chain[${i}].scopes_granted`,
          `a hop may only narrow scopes: ${widened.map((s) => JSON.stringify(s)).join(', ')} not granted by the previous hop`,
        );
      }
    }
    merged.push(hop);
  }
  return deriveDelegation(c, merged);
}

/** Delegation bookkeeping derived from the chain (depth, delegated, actor; origin pinned once set). */
export function deriveDelegation(
  from: DelegationExtension | Obj | undefined,
  chain: readonly DelegationHop[],
): DelegationExtension {
  const base = from as Obj | undefined;
  const last = chain[chain.length - 1];
  return {
    ...(base ?? {}),
    chain,
    depth: chain.length,
    delegated: chain.length > 0,
    ...(last ? { actor_subject_id: last.subject_id } : {}),
    ...((base?.origin_subject_id ?? chain[0]?.subject_id) != null
      ? { origin_subject_id: (base?.origin_subject_id as string | undefined) ?? chain[0]?.subject_id }
      : {}),
  };
}

function mergeHttp(c: Obj | undefined, r: unknown, has: ReadonlySet<CapabilityName>): Obj | null {
  if (!isPlainObject(r)) refuse('http', 'must be an object');
  let out: Obj | null = null;
  for (const [field, value] of Object.entries(r)) {
    if (value == null) continue;
    const where = `http.${field}`;
    if (field === 'request_headers' || field === 'response_headers') {
      if (dataEqual(value, c?.[field] ?? {})) continue;
      if (!has.has('write_headers')) refuse(where, 'changing headers needs a capability', 'write_headers');
      if (!isPlainObject(value) || !Object.values(value).every((h) => typeof h === 'string')) {
        refuse(where, 'headers must be a map of strings');
      }
      out ??= { ...(c ?? {}) };
      out[field] = cloneData(value);
    } else if (field === 'method' || field === 'path' || field === 'host' || field === 'scheme') {
      if (!dataEqual(value, c?.[field])) refuse(where, 'the request line is immutable');
    } else {
      refuse(where, 'unknown http field');
    }
  }
  return out;
}
