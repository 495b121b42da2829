/**
 * `@cpex/core/extensions` — the typed extensions a call carries (Rust cpex's slots) and the tools
 * to read, build and check them:
 * - slot types and their zod schemas (`SecurityExtension` / `SecurityExtensionSchema`, …), `SLOT_SCHEMAS`;
 * - `MonotonicSet` (labels only grow), mutability tiers (`SLOT_POLICIES`, `EXTENSION_SLOTS`) and
 *   what each capability reveals (`SECURITY_FIELD_READ`, `SUBJECT_FIELD_READ`);
 * - capabilities (`CAPABILITY_NAMES`, `CAPABILITY_IMPLICATIONS`, `compileCapabilities`) and the
 *   gate the executor applies (`extensionsView`, `mergeExtensions`);
 * - copy-on-write builders for plugins (`withLabels`, `appendDelegationHop`, `setHeaders`, `withCustom`, …);
 * - wire helpers: `parseExtensions` (validate at ingress, coded error) and `extensionsToJSON`.
 *
 * The `Extensions` type itself is also exported by `@cpex/core`; plugin authors get the builders
 * from `@cpex/sdk`. The Python 0.1.x shape mapping lives in `@cpex/host-python`.
 *
 * @example
 * import { parseExtensions, withLabels } from '@cpex/core/extensions';
 * const ext = withLabels(parseExtensions(body.extensions, 'tool_pre_invoke'), 'PII');
 */
export type * from './extensions/types.js';
export { MonotonicSet } from './extensions/monotonic-set.js';
export * from './extensions/schemas.js';
export {
  CAPABILITY_NAMES,
  CAPABILITY_IMPLICATIONS,
  compileCapabilities,
} from './extensions/capabilities.js';
export type { CapabilityName, CompiledCapabilities } from './extensions/capabilities.js';
export { extensionsView, mergeExtensions } from './extensions/gate.js';
export type { MergeOutcome } from './extensions/gate.js';
export {
  SLOT_POLICIES,
  EXTENSION_SLOTS,
  SECURITY_FIELD_READ,
  SUBJECT_FIELD_READ,
} from './extensions/tiers.js';
export type { MutabilityTier, SlotPolicy } from './extensions/tiers.js';
export {
  withLabels,
  labelsOf,
  hasLabel,
  appendDelegationHop,
  setHeaders,
  getHeader,
  withCustom,
  withCandidateConstraint,
} from './extensions/builders.js';
export type { SetHeadersOptions } from './extensions/builders.js';
