/**
 * `@cpex/core/internal` — cross-package internals for the workspace's own packages that depend on
 * core in lockstep (`workspace:^`, e.g. @cpex/cli). NOT public: no semver promise, may change in
 * any release. Packages with a loose peer range on core (the hosts, the ffi) use `@cpex/core/host`;
 * applications and plugins import `@cpex/core`, `/extensions`, `/cmf` or `@cpex/sdk`.
 */
export { readonlyView, unwrapViews, isReadonlyView } from './executor/readonly.js';
export { deepEqual } from './executor/policies.js';
export { discoverHooks, resolveHandler } from './host/in-process.js';
export { formatPath, summarizeZodError } from './errors/issue-path.js';
export { describeCause, errorLocation } from './errors/cpex-error.js';
export { resolveSettings } from './config/settings.js';
export { scoreRoute } from './executor/route-explain.js';
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
