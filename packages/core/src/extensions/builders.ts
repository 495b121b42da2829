/**
 * Copy-on-write helpers for plugins that change extensions. Each returns a new, frozen
 * Extensions object that shares every slot it does not touch with its input (a view or the
 * canonical extensions); return it as `modifiedExtensions` and the executor merges it.
 *
 * ```ts
 * return { modifiedExtensions: withLabels(ext, 'PII') };   // needs append_labels
 * ```
 */
import { CpexError } from '../errors/cpex-error.js';
import { deepFreeze } from './equality.js';
import { deriveDelegation } from './gate.js';
import { MonotonicSet, toLabelSet } from './monotonic-set.js';
import type { CandidateConstraintExtension, DelegationHop, Extensions, JsonValue } from './types.js';

function withSlot<K extends keyof Extensions>(
  ext: Extensions | null | undefined,
  slot: K,
  value: Extensions[K],
): Extensions {
  return deepFreeze({ ...(ext ?? {}), [slot]: value } as Extensions);
}

/**
 * The labels of `ext` (empty when none or hidden).
 * @example [...labelsOf(result.modifiedExtensions)] // ['PII']
 */
export function labelsOf(ext: Extensions | null | undefined): MonotonicSet {
  return toLabelSet(ext?.security?.labels) ?? MonotonicSet.EMPTY;
}

/**
 * True when `ext` carries `label` (case-insensitive). Needs `read_labels` to see any labels.
 * @example if (hasLabel(ext, 'pii')) return deny('pii', 'PII may not leave');
 */
export function hasLabel(ext: Extensions | null | undefined, label: string): boolean {
  return labelsOf(ext).has(label);
}

/**
 * Adds security labels (needs `append_labels`). Labels can only be added, never removed.
 * @example return { modifiedExtensions: withLabels(ext, 'PII', 'confidential') };
 */
export function withLabels(ext: Extensions | null | undefined, ...labels: string[]): Extensions {
  const current = labelsOf(ext);
  const next = current.add(...labels);
  if (next === current && ext) return ext;
  return withSlot(ext, 'security', { ...(ext?.security ?? {}), labels: next });
}

/**
 * Appends a delegation hop (needs `append_delegation`). Its `scopes_granted` must be a subset of
 * the previous hop's, otherwise this throws CpexError CPEX_ERR_EXTENSION_VIOLATION (the executor
 * would reject the edit too). depth, delegated, actor and origin subject are derived.
 * @example appendDelegationHop(ext, { subject_id: 'agent-7', subject_type: 'agent', scopes_granted: ['read'] })
 */
export function appendDelegationHop(ext: Extensions | null | undefined, hop: DelegationHop): Extensions {
  const chain = ext?.delegation?.chain ?? [];
  const prev = chain[chain.length - 1];
  if (prev) {
    const allowed = new Set(prev.scopes_granted ?? []);
    const widened = (hop.scopes_granted ?? []).filter((s) => !allowed.has(s));
    if (widened.length) {
      throw new CpexError(
        'CPEX_ERR_EXTENSION_VIOLATION',
        `delegation hop for ${JSON.stringify(hop.subject_id)} widens scopes (${widened.join(', ')}); each hop's scopes must be a subset of the previous hop's`,
        { path: `delegation.chain[${chain.length}].scopes_granted`, details: { widened } },
      );
    }
  }
  const hopWithTime: DelegationHop = hop.timestamp
    ? { ...hop }
    : { ...hop, timestamp: new Date().toISOString() };
  return withSlot(ext, 'delegation', deriveDelegation(ext?.delegation ?? undefined, [...chain, hopWithTime]));
}

export interface SetHeadersOptions {
  /** Change `response_headers` instead of `request_headers`. */
  response?: boolean;
  /** Replace the whole map instead of merging into it. */
  replace?: boolean;
}

/**
 * Sets (or, with `null`, removes) HTTP headers, matching names case-insensitively (needs
 * `write_headers`). The request line (method/path/host/scheme) never changes.
 * @example setHeaders(ext, { 'x-redacted': 'true', cookie: null })
 */
export function setHeaders(
  ext: Extensions | null | undefined,
  headers: Readonly<Record<string, string | null>>,
  options: SetHeadersOptions = {},
): Extensions {
  const field = options.response ? 'response_headers' : 'request_headers';
  const current = options.replace ? {} : { ...(ext?.http?.[field] ?? {}) };
  for (const [name, value] of Object.entries(headers)) {
    for (const existing of Object.keys(current)) {
      if (existing.toLowerCase() === name.toLowerCase()) delete current[existing];
    }
    if (value !== null) current[name] = value;
  }
  return withSlot(ext, 'http', { ...(ext?.http ?? {}), [field]: current });
}

/**
 * A header value by name, case-insensitive (needs `read_headers`).
 * @example getHeader(ext, 'X-Tenant') // 'acme'
 */
export function getHeader(
  ext: Extensions | null | undefined,
  name: string,
  options: { response?: boolean } = {},
): string | undefined {
  const map = ext?.http?.[options.response ? 'response_headers' : 'request_headers'];
  if (!map) return undefined;
  if (name in map) return map[name];
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(map)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/**
 * Sets keys of the mutable `custom` slot (no capability needed). `undefined` removes a key.
 * @example withCustom(ext, { 'pii.scanned': true })
 */
export function withCustom(
  ext: Extensions | null | undefined,
  patch: Readonly<Record<string, JsonValue>>,
): Extensions {
  const custom: Record<string, JsonValue> = { ...(ext?.custom ?? {}) };
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) delete custom[k];
    else custom[k] = v;
  }
  return withSlot(ext, 'custom', custom);
}

/**
 * Replaces the candidate constraint (needs `write_candidate_constraint`).
 * @example withCandidateConstraint(ext, { ...ext.candidate_constraint, allow_regions: ['eu-west-1'] })
 */
export function withCandidateConstraint(
  ext: Extensions | null | undefined,
  constraint: CandidateConstraintExtension,
): Extensions {
  return withSlot(ext, 'candidate_constraint', { ...constraint });
}
