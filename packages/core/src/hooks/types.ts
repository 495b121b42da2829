/**
 * The typed hook map: hook name -> { payload, result }. Built-in hooks are declared by core;
 * plugin authors and gateways add custom hooks by declaration merging:
 *
 * ```ts
 * declare module '@cpex/core' {
 *   interface HookMap { 'my.hook': { payload: { q: string }; result: PluginResult<{ q: string }> } }
 * }
 * ```
 */
import type { PluginResult } from '../types.js';
import type { BuiltinHookMap } from './hook-map.js';

/** Built-in hooks whose payload types are enforced today (the new CMF / identity / delegation / elicitation names). */
export type TypedBuiltinHooks = Pick<
  BuiltinHookMap,
  Extract<
    keyof BuiltinHookMap,
    `cmf.${string}` | 'evaluate' | 'identity.resolve' | 'token.delegate' | 'elicit'
  >
>;

/**
 * Hook name → { payload, result } for every built-in hook of Python and Rust cpex (legacy
 * `tool_pre_invoke` & co., CMF, identity, delegation, elicitation); extended by declaration merging.
 */
export interface HookMap extends BuiltinHookMap {}

/** A JSON-ish payload for hooks with no declared type. */
export type GenericPayload = Record<string, unknown>;

export type PayloadOf<H extends string> = H extends keyof HookMap
  ? HookMap[H] extends { payload: infer P }
    ? P
    : GenericPayload
  : GenericPayload;

export type ResultOf<H extends string> = H extends keyof HookMap
  ? HookMap[H] extends { result: infer R }
    ? R
    : PluginResult<PayloadOf<H>>
  : PluginResult<PayloadOf<H>>;
