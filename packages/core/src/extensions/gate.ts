/**
 * The seam between the executor and the extension tiers/capabilities.
 *
 * The executor calls only these three functions:
 * - `compileCapabilities(names)` once per plugin entry at load time (unknown names throw);
 * - `extensionsView(ext, caps)` per plugin call: the capability-filtered view the handler sees
 *   (must not copy when nothing is filtered, and should be cached per (ext, caps));
 * - `mergeExtensions(current, view, returned, caps)` when a sequential/transform plugin returns
 *   `modifiedExtensions`: field-by-field merge into the canonical extensions, or a refusal that
 *   the executor records as an `extension_violation` through the plugin's on_error.
 */
import { CpexError } from '../errors/cpex-error.js';
import type { Extensions } from './types.js';

export const CAPABILITY_NAMES = [
  'read_subject',
  'read_roles',
  'read_teams',
  'read_claims',
  'read_permissions',
  'read_client',
  'read_workload',
  'read_agent',
  'read_headers',
  'write_headers',
  'read_labels',
  'append_labels',
  'read_delegation',
  'append_delegation',
  'read_inbound_credentials',
  'read_delegated_tokens',
  'write_candidate_constraint',
] as const;
export type CapabilityName = (typeof CAPABILITY_NAMES)[number];

const IMPLIES: Partial<Record<CapabilityName, CapabilityName[]>> = {
  write_headers: ['read_headers'],
  append_labels: ['read_labels'],
  append_delegation: ['read_delegation'],
  read_roles: ['read_subject'],
  read_teams: ['read_subject'],
  read_claims: ['read_subject'],
  read_permissions: ['read_subject'],
};

/** A plugin's capabilities with implications expanded; `key` identifies the set for caching. */
export interface CompiledCapabilities {
  readonly has: ReadonlySet<CapabilityName>;
  readonly key: string;
}

const KNOWN = new Set<string>(CAPABILITY_NAMES);

/** Validates and expands capability names. Throws CPEX_ERR_UNKNOWN_CAPABILITY naming the bad one. */
export function compileCapabilities(names: readonly string[]): CompiledCapabilities {
  const has = new Set<CapabilityName>();
  for (const raw of names) {
    const n = raw.trim().toLowerCase();
    if (!KNOWN.has(n)) {
      throw new CpexError('CPEX_ERR_UNKNOWN_CAPABILITY', `unknown capability "${raw}"; expected one of ${CAPABILITY_NAMES.join('|')}`);
    }
    has.add(n as CapabilityName);
    for (const implied of IMPLIES[n as CapabilityName] ?? []) has.add(implied);
  }
  return { has, key: [...has].sort().join(',') };
}

/** The view a plugin with `caps` sees. (Replaced by the tier-aware implementation.) */
export function extensionsView(ext: Extensions | undefined, _caps: CompiledCapabilities): Extensions | undefined {
  return ext;
}

export type MergeOutcome = { ok: true; value: Extensions } | { ok: false; message: string; details?: Record<string, unknown> };

/** Merge a plugin's returned extensions into the canonical ones. (Replaced by the tier-aware implementation.) */
export function mergeExtensions(
  current: Extensions | undefined,
  _view: Extensions | undefined,
  returned: Extensions,
  _caps: CompiledCapabilities,
): MergeOutcome {
  return { ok: true, value: { ...(current ?? {}), custom: returned.custom ?? current?.custom ?? null } };
}
