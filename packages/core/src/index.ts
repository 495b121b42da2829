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
