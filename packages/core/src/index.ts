/**
 * @cpex/core — the CPEX plugin engine for TypeScript.
 *
 * `PluginManager` loads a config (YAML or object), creates plugins through factories and hosts,
 * and runs them on named hooks through the fixed 5-phase executor
 * (sequential → transform → audit → concurrent → fire_and_forget).
 *
 * Which import (docs/api.md):
 * - `@cpex/core` — a gateway: the manager, config, results, errors, hooks and their payloads,
 *   session store, reload, tracing channels (this module: ARCHITECTURE section 2's pinned surface);
 * - `@cpex/core/extensions` — extension slots, schemas, capabilities, builders;
 * - `@cpex/core/cmf` — the Common Message Format and its views;
 * - `@cpex/core/host` — a host author (python, wasm, native, ffi, your own);
 * - `@cpex/sdk` — a plugin author (`definePlugin`, `Plugin`, `allow`/`deny`/`modify`, testing).
 * `@cpex/core/internal` is for the workspace's own packages: not public, no semver promise.
 *
 * Every name is listed here explicitly; `packages/core/test/exports/export-map.test.ts` pins the
 * runtime names of each subpath, so a name cannot appear or vanish unnoticed.
 */

// The pinned contract types (GlobalContext, PluginResult, PipelineResult, Plugin, PluginEntry,
// PluginFactory, ManagerOptions, InvokeOptions, …) and the phase order.
export * from './types.js';

// The manager and the per-request context table.
export { PluginManager, consoleLogger } from './manager.js';
export type { ConfigObject, LineupEntry } from './manager.js';
export { ContextTable } from './context/context-table.js';

// Errors: thrown errors carry a CPEX_ERR_* code from the one catalogue (docs/errors.md).
export { CpexError, ConfigError, PluginViolationError, isCpexError } from './errors/cpex-error.js';
export type { ConfigIssue, CpexErrorFields } from './errors/cpex-error.js';
export { ERROR_CATALOGUE, MANAGER_VIOLATION_CODES } from './errors/catalogue.js';
export type { CpexErrorCode, ManagerViolationCode } from './errors/catalogue.js';

// Config: YAML text or objects, validated; the JSON Schema; default settings.
export { configJsonSchema, CANONICAL_MODES, LEGACY_MODES } from './config/schema.js';
export type { RawConfig } from './config/schema.js';
export { parseConfigText, validateConfig, loadConfigFile } from './config/load.js';
export type { NormalizedConfig } from './config/load.js';
export { DEFAULT_SETTINGS } from './config/settings.js';

// Hooks: the typed hook map (extend it by declaration merging), built-in hooks and their payloads.
export type { HookMap, PayloadOf, ResultOf, GenericPayload } from './hooks/types.js';
export type { BuiltinHookMap } from './hooks/hook-map.js';
export * from './hooks/payloads.js';
export {
  BUILTIN_HOOK_DEFINITIONS,
  BUILTIN_HOOK_NAMES,
  LEGACY_HOOKS,
  CMF_HOOKS,
  FAMILY_HOOKS,
} from './hooks/builtin.js';
export type { HookDefinition, HookFamily, PayloadTypeId } from './hooks/builtin.js';
export { HookRegistry } from './hooks/registry.js';
export type { CustomHookOptions } from './hooks/registry.js';

// Tracing: diagnostics_channel names and message shapes.
export { CHANNEL_NAMES } from './tracing/channels.js';
export type {
  HookStartMessage,
  HookEndMessage,
  PluginStartMessage,
  PluginEndMessage,
  PluginOutcome,
} from './tracing/channels.js';

// Sessions (Rust cpex's session store), routing explanations, hot reload.
export { DEFAULT_SESSION_MAX_LABELS, MemorySessionStore, SessionStoreError } from './session/store.js';
export type { SessionStore, MemorySessionStoreOptions } from './session/store.js';
export { resolveSession } from './session/resolve.js';
export type { ResolvedSession, SessionSource } from './session/resolve.js';
export { explainRoute } from './executor/route-explain.js';
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

// Deprecated root re-exports: names that moved to a subpath in 0.2 and stay here, marked
// @deprecated, until 0.3 (see the changeset `core-export-map`). New code imports the subpath.
export * from './deprecated-root.js';
