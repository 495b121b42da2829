/**
 * Structural equality for extension data. `null`, `undefined` and a missing key are the same
 * (Python dumps `None` as `null`, Rust omits it); MonotonicSets compare as case-insensitive sets.
 */
import { forEachHeld } from '../payload/holes.js';
import { walkPairs } from '../payload/pairs.js';
import { MonotonicSet } from './monotonic-set.js';

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Deep equality where null/undefined/absent are equal. Iterative (any depth, no recursion) and
 * cycle-safe.
 */
export function dataEqual(a: unknown, b: unknown): boolean {
  return walkPairs(a, b, dataPair);
}

/** One pair of dataEqual (payload/pairs.ts walks them). */
function dataPair(x: unknown, y: unknown, push: (x: unknown, y: unknown) => void): boolean {
  if (x == null || y == null) return x == null && y == null;
  if (x instanceof MonotonicSet || y instanceof MonotonicSet) {
    const sa = MonotonicSet.from(x as Iterable<string>);
    const sb = MonotonicSet.from(y as Iterable<string>);
    return sa.size === sb.size && sa.isSupersetOf(sb);
  }
  if (Array.isArray(x)) {
    if (!Array.isArray(y) || x.length !== y.length) return false;
    pushElementPairs(push, x, y);
    return true;
  }
  if (isPlainObject(x) && isPlainObject(y)) {
    for (const k of Object.keys(x)) push(x[k], y[k]);
    for (const k of Object.keys(y)) if (!(k in x) && y[k] != null) return false;
    return true;
  }
  return typeof x === 'number' && typeof y === 'number' && Number.isNaN(x) && Number.isNaN(y);
}

/** Freezes plain objects and arrays, deeply (MonotonicSets are already immutable). Iterative. */
export function deepFreeze<T>(value: T): T {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null || Object.isFrozen(v)) continue;
    if (Array.isArray(v)) {
      Object.freeze(v);
      forEachHeld(v as unknown[], (x) => stack.push(x));
      continue;
    }
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) continue;
    Object.freeze(v);
    const obj = v as Record<string, unknown>;
    for (const k in obj) stack.push(obj[k]);
  }
  return value;
}

/**
 * Schedule each index pair of two equal-length arrays on a pair walker: every index either array
 * holds (a hole pairs with undefined), at a cost bounded by what they hold (payload/holes.ts).
 */
export function pushElementPairs(
  push: (x: unknown, y: unknown) => void,
  x: readonly unknown[],
  y: readonly unknown[],
): void {
  forEachHeld(x, (v, i) => push(v, y[i]));
  forEachHeld(y, (v, i) => {
    if (!(i in x)) push(undefined, v);
  });
}
