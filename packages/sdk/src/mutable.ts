/**
 * `toMutable`: an editable deep copy of a payload. Handlers receive read-only views (under the
 * default `cow_validation: strict`), which `structuredClone` cannot copy (they are Proxies);
 * `toMutable` copies plain objects and arrays through the view and shares everything else.
 */

import { copyPlain } from '@cpex/core/host';

/** The editable counterpart of a (deeply) read-only type. */
export type Mutable<T> = T extends (...args: never[]) => unknown
  ? T
  : T extends ReadonlyArray<infer U>
    ? Mutable<U>[]
    : T extends object
      ? { -readonly [K in keyof T]: Mutable<T[K]> }
      : T;

/**
 * An editable deep copy of `value` (plain objects and arrays are copied; class instances, dates and
 * functions are shared). Cycles and shared references are preserved.
 *
 * @example
 * ```ts
 * tool_pre_invoke(payload) {
 *   const next = toMutable(payload);
 *   next.args.email = '[REDACTED]';
 *   return modify(next);
 * }
 * ```
 */
export function toMutable<T>(value: T): Mutable<T> {
  return copyPlain(value) as Mutable<T>;
}
