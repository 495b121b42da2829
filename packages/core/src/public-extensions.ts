/**
 * The CMF, extensions and typed-hooks surface of @cpex/core (re-exported by @cpex/sdk):
 * - CMF: `Message`, content parts, `MessagePayload`, zod schemas, zero-copy `MessageView`;
 * - extensions: Rust-shaped slot types and schemas, `MonotonicSet`, tiers and capabilities,
 *   copy-on-write helpers (`withLabels`, `appendDelegationHop`, `setHeaders`, `withCustom`),
 *   (the Python 0.1.x shape mapping moved to @cpex/host-python);
 * - hooks: payload/result types and schemas of every built-in hook, `HookRegistry`, hook-name
 *   constants and the wire payload-type ids.
 */
export type { BuiltinHookMap } from './hooks/hook-map.js';

export * from './cmf/types.js';
export * from './cmf/schemas.js';
export { MessageView, messageViews, textOf, partsOf } from './cmf/view.js';
export type { MessageViewOptions, ViewAction } from './cmf/view.js';

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

export * from './hooks/payloads.js';
export {
  BUILTIN_HOOK_DEFINITIONS,
  BUILTIN_HOOK_NAMES,
  LEGACY_HOOKS,
  CMF_HOOKS,
  FAMILY_HOOKS,
  PAYLOAD_TYPE_GENERIC,
  PAYLOAD_TYPE_CMF_MESSAGE,
  PAYLOAD_TYPE_IDENTITY,
} from './hooks/builtin.js';
export type { HookDefinition, HookFamily, PayloadTypeId } from './hooks/builtin.js';
export { HookRegistry } from './hooks/registry.js';
export type { CustomHookOptions } from './hooks/registry.js';
