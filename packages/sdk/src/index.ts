/**
 * @cpex/sdk — what a CPEX plugin author imports.
 *
 * - `definePlugin({ name, hooks })`, or a class extending `Plugin` (methods named after hooks, or `@hook(...)`),
 *   or a single typed function via `hookHandler(hook, fn)`;
 * - `allow()` / `deny()` / `modify()` to answer;
 * - `pluginSet()` to group plugins;
 * - every public type of `@cpex/core` (payloads, results, violations, extensions, the `HookMap`,
 *   and the host contract `PluginHost` / `PluginFactory` / `PluginInstance` / `FactoryContext`).
 *
 * The testing harness lives in `@cpex/sdk/testing`.
 */
export * from '@cpex/core';
/** Core's plugin-object interface (`Plugin` in @cpex/core); in the sdk, `Plugin` is the base class. */
export type { Plugin as PluginObject } from '@cpex/core';
export { definePlugin, hookHandler, pluginSet } from './define.js';
export type { DefinedPlugin, PluginDefinition, PluginSetMember } from './define.js';
export { HOOK_METHODS, PLUGIN_CLASS, Plugin, hook } from './plugin-class.js';
export { allow, deny, modify } from './results.js';
export { toMutable } from './mutable.js';
export type { Mutable } from './mutable.js';
export type { ResultExtras, ViolationExtras } from './results.js';
export type { KnownHookName, MaybePromise, TypedHandler, TypedHooks } from './types.js';
