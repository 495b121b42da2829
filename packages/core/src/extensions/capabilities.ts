/**
 * The 17 capability names (Rust cpex core) and Python's implications. A plugin's capabilities
 * come from its config entry only (trust flows one way).
 */
import { CpexError } from '../errors/cpex-error.js';

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

/** `write_headers` ⇒ `read_headers`, `append_labels` ⇒ `read_labels`, `append_delegation` ⇒ `read_delegation`, roles/teams/claims/permissions ⇒ `read_subject`. */
export const CAPABILITY_IMPLICATIONS: Readonly<Partial<Record<CapabilityName, readonly CapabilityName[]>>> =
  Object.freeze({
    write_headers: ['read_headers'],
    append_labels: ['read_labels'],
    append_delegation: ['read_delegation'],
    read_roles: ['read_subject'],
    read_teams: ['read_subject'],
    read_claims: ['read_subject'],
    read_permissions: ['read_subject'],
  });

/** A plugin's capabilities with implications expanded; `key` identifies the set for caching. */
export interface CompiledCapabilities {
  readonly has: ReadonlySet<CapabilityName>;
  readonly key: string;
}

const KNOWN = new Set<string>(CAPABILITY_NAMES);
const compiledCache = new Map<string, CompiledCapabilities>();

/**
 * Validates and expands capability names (trimmed, case-insensitive). Throws CpexError
 * CPEX_ERR_UNKNOWN_CAPABILITY naming the bad one; the manager adds the YAML path.
 * @example compileCapabilities(['append_labels']).has.has('read_labels') // true
 */
export function compileCapabilities(names: readonly string[] | null | undefined): CompiledCapabilities {
  const has = new Set<CapabilityName>();
  for (const [i, raw] of (names ?? []).entries()) {
    const n = typeof raw === 'string' ? raw.trim().toLowerCase() : '';
    if (!KNOWN.has(n)) {
      throw new CpexError(
        'CPEX_ERR_UNKNOWN_CAPABILITY',
        `unknown capability ${JSON.stringify(raw)} (capabilities[${i}]); expected one of ${CAPABILITY_NAMES.join(', ')}`,
        { details: { capability: raw, index: i } },
      );
    }
    has.add(n as CapabilityName);
    for (const implied of CAPABILITY_IMPLICATIONS[n as CapabilityName] ?? []) has.add(implied);
  }
  const key = [...has].sort().join(',');
  // One shared object per distinct set keeps the view cache small.
  let compiled = compiledCache.get(key);
  if (!compiled) {
    compiled = Object.freeze({ has: has as ReadonlySet<CapabilityName>, key });
    compiledCache.set(key, compiled);
  }
  return compiled;
}
