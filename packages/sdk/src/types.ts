/**
 * Typed handler shapes. Payload and result types come from core's `HookMap` through `PayloadOf` /
 * `ResultOf`, so built-in hooks are typed and custom hooks added by declaration merging are too;
 * any other hook name gets a `GenericPayload`.
 */
import type { Extensions, HookMap, PayloadOf, PluginContext, ResultOf } from '@cpex/core';

/** A value or a promise of it. */
export type MaybePromise<T> = T | Promise<T>;

/** Hook names declared in `HookMap` (built-ins plus your declaration-merged ones). */
export type KnownHookName = Extract<keyof HookMap, string>;

/**
 * The handler type for hook `H`: typed payload in, `PluginResult` (or nothing = allow) out.
 * The payload is read-only: return `modify(newPayload)` instead of writing into it.
 *
 * @example
 * const h: TypedHandler<'tool_pre_invoke'> = (payload) => (payload.name === 'rm' ? deny('no', 'no rm') : allow());
 */
export type TypedHandler<H extends string> = (
  payload: Readonly<PayloadOf<H>>,
  context: PluginContext,
  extensions: Extensions | undefined,
) => MaybePromise<ResultOf<H> | undefined | void>;

/** `{ [hook]: handler }` with each handler typed by its hook name. */
export type TypedHooks<K extends string> = { [H in K]: TypedHandler<H> };
