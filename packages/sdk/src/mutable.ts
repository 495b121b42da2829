/**
 * `toMutable`: an editable deep copy of a payload. Handlers receive read-only views (under the
 * default `cow_validation: strict`), which `structuredClone` cannot copy (they are Proxies);
 * `toMutable` copies plain objects and arrays through the view and shares everything else.
 */

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
  return copy(value, new Map()) as Mutable<T>;
}

function copy(v: unknown, seen: Map<object, unknown>): unknown {
  if (v === null || typeof v !== 'object') return v;
  const done = seen.get(v);
  if (done !== undefined) return done;
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    seen.set(v, out);
    for (let i = 0; i < v.length; i++) out.push(copy(v[i], seen));
    return out;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return v;
  const out: Record<string, unknown> = {};
  seen.set(v, out);
  for (const k of Object.keys(v)) out[k] = copy((v as Record<string, unknown>)[k], seen);
  return out;
}
