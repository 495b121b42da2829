/**
 * Mutability tier and read gate of every extension slot (docs/extensions.md has the table).
 */
import type { CapabilityName } from './capabilities.js';
import type { ExtensionSlot } from './types.js';

export type MutabilityTier = 'immutable' | 'monotonic' | 'guarded' | 'mutable';

export interface SlotPolicy {
  /** The slot's tier; `security` is monotonic for labels and immutable for every other field. */
  readonly tier: MutabilityTier;
  /** Capability needed to see the slot at all (null: visible to every plugin). */
  readonly read: CapabilityName | null;
  /** Capability needed to change it (null: nobody may, unless the tier is mutable). */
  readonly write: CapabilityName | null;
}

export const SLOT_POLICIES: Readonly<Record<ExtensionSlot, SlotPolicy>> = Object.freeze({
  request: { tier: 'immutable', read: null, write: null },
  agent: { tier: 'immutable', read: 'read_agent', write: null },
  http: { tier: 'guarded', read: 'read_headers', write: 'write_headers' },
  security: { tier: 'monotonic', read: null, write: 'append_labels' },
  delegation: { tier: 'monotonic', read: 'read_delegation', write: 'append_delegation' },
  // Visible per sub-map (read_inbound_credentials / read_delegated_tokens); never writable by plugins.
  raw_credentials: { tier: 'immutable', read: null, write: null },
  candidate_constraint: { tier: 'guarded', read: null, write: 'write_candidate_constraint' },
  mcp: { tier: 'immutable', read: null, write: null },
  completion: { tier: 'immutable', read: null, write: null },
  provenance: { tier: 'immutable', read: null, write: null },
  llm: { tier: 'immutable', read: null, write: null },
  framework: { tier: 'immutable', read: null, write: null },
  meta: { tier: 'immutable', read: null, write: null },
  custom: { tier: 'mutable', read: null, write: null },
});

export const EXTENSION_SLOTS = Object.freeze(Object.keys(SLOT_POLICIES) as ExtensionSlot[]);

/** Security fields and the capability that reveals each (null: visible to all). */
export const SECURITY_FIELD_READ: Readonly<Record<string, CapabilityName | null>> = Object.freeze({
  labels: 'read_labels',
  classification: null,
  subject: 'read_subject',
  client: 'read_client',
  caller_workload: 'read_workload',
  this_workload: 'read_workload',
  auth_method: null,
  objects: null,
  data: null,
});

/** Subject sub-fields hidden unless the plugin holds their own capability (id and type come with read_subject). */
export const SUBJECT_FIELD_READ: Readonly<Record<string, CapabilityName>> = Object.freeze({
  roles: 'read_roles',
  teams: 'read_teams',
  claims: 'read_claims',
  permissions: 'read_permissions',
});
