/**
 * Cross-package internals for @cpex/* hosts and tools. Not part of the public API: no semver promise.
 */
export { readonlyView, unwrapViews, isReadonlyView } from './executor/readonly.js';
export { deepEqual } from './executor/policies.js';
export { discoverHooks, resolveHandler } from './host/in-process.js';
export { formatPath } from './config/load.js';
export { copyPlain } from './context/copy.js';
export {
  checkPayloadBounds,
  parsePayloadJson,
  serializePayloadJson,
  DEFAULT_MAX_PAYLOAD_DEPTH,
  type PayloadBounds,
  type PayloadMeasure,
} from './payload/bounds.js';
export { NUMERIC_RANGES, describeRange, inRange, type NumericRange } from './config/ranges.js';
export { boundedMemo } from './session/memo.js';
