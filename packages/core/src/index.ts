/**
 * @cpex/core — the CPEX plugin engine for TypeScript.
 *
 * `PluginManager` loads a config (YAML or object), creates plugins through factories and hosts,
 * and runs them on named hooks through the fixed 5-phase executor
 * (sequential → transform → audit → concurrent → fire_and_forget).
 */
export * from './types.js';
export * from './errors/index.js';
export type { HookMap, PayloadOf, ResultOf, GenericPayload } from './hooks/types.js';
export { PluginManager, consoleLogger } from './manager.js';
export type { ConfigObject, LineupEntry } from './manager.js';
export { ContextTable } from './context/context-table.js';
export { configJsonSchema, CANONICAL_MODES, LEGACY_MODES } from './config/schema.js';
export type { RawConfig } from './config/schema.js';
export { parseConfigText, validateConfig, loadConfigFile } from './config/load.js';
export type { NormalizedConfig } from './config/load.js';
export { DEFAULT_SETTINGS, resolveSettings } from './config/settings.js';
export { CHANNEL_NAMES } from './tracing/channels.js';
export type {
  HookStartMessage,
  HookEndMessage,
  PluginStartMessage,
  PluginEndMessage,
  PluginOutcome,
} from './tracing/channels.js';
export { CAPABILITY_NAMES, compileCapabilities } from './extensions/gate.js';
export type { CapabilityName, CompiledCapabilities } from './extensions/gate.js';
export {
  pluginToInstance,
  createInProcessHost,
  IN_PROCESS_HOST_CAPABILITIES,
  HOOK_METHODS,
} from './host/in-process.js';
export * from './public-extensions.js';
export { createNodeModuleFactory, parseNodeKind, NODE_MODULE_SCHEME } from './host/node-module.js';
export { DEFAULT_SESSION_MAX_LABELS, MemorySessionStore, SessionStoreError } from './session/store.js';
export type { SessionStore, MemorySessionStoreOptions } from './session/store.js';
export { resolveSession } from './session/resolve.js';
export type { ResolvedSession, SessionSource } from './session/resolve.js';
export { explainRoute, scoreRoute } from './executor/route-explain.js';
export type {
  RouteExplanation,
  RouteCandidate,
  ExplainedRef,
  ExplainedPlugin,
} from './executor/route-explain.js';
export { configHash } from './reload/hash.js';
export { reloadChannel } from './reload/reloader.js';
export type { ReloadResult, ReloadSource, ReloadEvent } from './reload/reloader.js';
export type { ConfigWatch, WatchConfigOptions } from './reload/watch.js';
