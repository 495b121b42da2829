/**
 * `@cpex/core/host` — what a host author (python, wasm, native, ffi, your own) imports.
 *
 * The contract itself is described in docs/hosts/contract.md; `testHost` in `@cpex/sdk/testing`
 * is its executable form. In short:
 * - a host is a {@link PluginHost}: a name, {@link HostCapabilities}, the kinds it answers and a
 *   {@link PluginFactory} that turns a config entry into a {@link PluginInstance};
 * - the factory gets a {@link FactoryContext}: the manager's settings, logger and hook registry
 *   (custom hook schemas from `manager.defineHook` included);
 * - a handler returns a plain PluginResult decoded from the host's wire; core validates every
 *   result with one rule, the host only reports output it cannot decode, as a coded error;
 * - `describe()` tells `cpex plugins` how the plugin runs (isolation, timeouts, grants, signature).
 *
 * @example
 * import { CpexError, type PluginHost, type PluginFactory } from '@cpex/core/host';
 */
export type {
  Extensions,
  FactoryContext,
  GlobalContext,
  Handler,
  HookRegistryReader,
  HostCapabilities,
  Logger,
  Phase,
  PluginContext,
  PluginDescription,
  PluginEntry,
  PluginFactory,
  PluginHost,
  PluginInstance,
  PluginIsolation,
  PluginResult,
  PluginViolation,
  ResolvedSettings,
} from './types.js';
export type { HookDefinition, HookFamily, PayloadTypeId } from './hooks/builtin.js';
export { HookRegistry } from './hooks/registry.js';

// What `describe()` must look like: undefined when well-formed, else what is wrong (testHost checks it).
export { descriptionProblem } from './manager/introspect.js';

// Errors a host raises: always a CpexError with a catalogue code (docs/errors.md).
export { CpexError, ConfigError, isCpexError, describeCause } from './errors/cpex-error.js';
export type { CpexErrorFields } from './errors/cpex-error.js';
export { ERROR_CATALOGUE } from './errors/catalogue.js';
export type { CpexErrorCode } from './errors/catalogue.js';

// Wire helpers: validating what arrives over a host's wire, and plain data for encoders.
export { parseExtensions, extensionsToJSON, ExtensionsSchema } from './extensions/schemas.js';
export { ingressExtensions } from './extensions/ingress.js';
// The same one-line `path: message` summary core's own coded errors use, for a wire validated with zod.
export { summarizeZodError } from './errors/issue-path.js';
export { MonotonicSet } from './extensions/monotonic-set.js';
export { copyPlain, setOwn } from './context/copy.js';
export { unwrapViews, isReadonlyView } from './executor/readonly.js';
export { PAYLOAD_TYPE_GENERIC, PAYLOAD_TYPE_CMF_MESSAGE, PAYLOAD_TYPE_IDENTITY } from './hooks/builtin.js';
// Results and errors in their snake_case wire shape (Rust cpex field names), for every wire that sends them.
export { violationToWire, errorToWire } from './payload/wire-records.js';
// JSON text that writes a BigInt (an exact 64-bit integer a wire brought in) as its literal; and
// the check that keeps NaN/Infinity from crossing to another language as a silent null.
export { refuseNonFinite, stringifyExact } from './payload/exact-json.js';

// The in-process host, as a reference implementation and for composing hosts.
export {
  IN_PROCESS_HOST_CAPABILITIES,
  createInProcessHost,
  pluginToInstance,
  resolveHandler,
  discoverHooks,
} from './host/in-process.js';
// The markers the sdk's class-based authoring sets and the in-process/node:// hosts read.
export { HOOK_METHODS, PLUGIN_CLASS } from './host/markers.js';
// The `node://` kind (TS/JS plugin modules), registered by the manager; for hosts that compose it.
export { createNodeModuleFactory, parseNodeKind, NODE_MODULE_SCHEME } from './host/node-module.js';

// One registration body for `registerXHost(manager, options)` functions.
export { attachHost, trackLive, type HostRegistrar } from './host/register.js';
// The host packages (which kinds each serves, its register export), and registering the installed
// ones a config needs (the `cpex` CLI and `cpex serve` do).
export {
  HOST_PACKAGES,
  hostPackageFor,
  registerNeededHosts,
  type DisposableHost,
  type HostPackage,
  type RegisterNeededHostsOptions,
} from './host/packages.js';

// The process supervisor for out-of-process hosts (python workers, native `isolation: process`):
// own process group, exit from the process, whole-tree kill, lifeline fd, /proc sweep.
export * from './process/index.js';

// Payload bounds at the wire: depth (max_payload_depth) and size (max_payload_bytes), one
// iterative walk — call it wherever a host parses or serializes a payload (docs/config.md).
export {
  checkPayloadBounds,
  parsePayloadJson,
  serializePayloadJson,
  DEFAULT_MAX_PAYLOAD_DEPTH,
  type PayloadBounds,
  type PayloadMeasure,
} from './payload/bounds.js';

// Arrays with holes (`length = 2 ** 32 - 1` costs its maker nothing): iterate what an array holds,
// and find a sparse array before an encoder walks every index of it.
export {
  DIRECT_SCAN_MAX,
  describeSparse,
  findSparse,
  forEachHeld,
  type SparseArray,
} from './payload/holes.js';
