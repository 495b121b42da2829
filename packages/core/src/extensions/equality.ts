/**
 * Structural equality for extension data. `null`, `undefined` and a missing key are the same
 * (Python dumps `None` as `null`, Rust omits it); MonotonicSets compare as case-insensitive sets.
 */
import { forEachHeld } from '../payload/holes.js';
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
  const stack: unknown[] = [a, b];
  let seen: Map<object, object> | undefined;
  while (stack.length > 0) {
    const y = stack.pop();
    const x = stack.pop();
    if (x === y) continue;
    if (x == null || y == null) {
      if (x == null && y == null) continue;
      return false;
    }
    if (x instanceof MonotonicSet || y instanceof MonotonicSet) {
      const sa = MonotonicSet.from(x as Iterable<string>);
      const sb = MonotonicSet.from(y as Iterable<string>);
      if (sa.size === sb.size && sa.isSupersetOf(sb)) continue;
      return false;
    }
    if (typeof x === 'object' && typeof y === 'object') {
      seen ??= new Map();
      if (seen.get(x) === y) continue;
      seen.set(x, y);
    }
    if (Array.isArray(x)) {
      if (!Array.isArray(y) || x.length !== y.length) return false;
      pushElementPairs(stack, x, y);
      continue;
    }
    if (isPlainObject(x) && isPlainObject(y)) {
      for (const k of Object.keys(x)) stack.push(x[k], y[k]);
      for (const k of Object.keys(y)) if (!(k in x) && y[k] != null) return false;
      continue;
    }
    if (typeof x === 'number' && typeof y === 'number' && Number.isNaN(x) && Number.isNaN(y)) continue;
    return false;
  }
  return true;
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
 * Push each index pair of two equal-length arrays onto a pair walker's stack: every index either
 * array holds (a hole pairs with undefined), at a cost bounded by what they hold (payload/holes.ts).
 */
export function pushElementPairs(stack: unknown[], x: readonly unknown[], y: readonly unknown[]): void {
  forEachHeld(x, (v, i) => stack.push(v, y[i]));
  forEachHeld(y, (v, i) => {
    if (!(i in x)) stack.push(undefined, v);
  });
}
