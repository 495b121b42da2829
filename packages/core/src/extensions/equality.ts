/**
 * Structural equality for extension data. `null`, `undefined` and a missing key are the same
 * (Python dumps `None` as `null`, Rust omits it); MonotonicSets compare as case-insensitive sets.
 */
import { MonotonicSet } from './monotonic-set.js';

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Deep equality where null/undefined/absent are equal. */
export function dataEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a == null || b == null) return a == null && b == null;
  if (a instanceof MonotonicSet || b instanceof MonotonicSet) {
    const sa = MonotonicSet.from(a as Iterable<string>);
    const sb = MonotonicSet.from(b as Iterable<string>);
    return sa.size === sb.size && sa.isSupersetOf(sb);
  }
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!dataEqual(a[i], b[i])) return false;
    return true;
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    for (const k of Object.keys(a)) if (!dataEqual(a[k], b[k])) return false;
    for (const k of Object.keys(b)) if (!(k in a) && b[k] != null) return false;
    return true;
  }
  if (typeof a === 'number' && typeof b === 'number') return Number.isNaN(a) && Number.isNaN(b);
  return false;
}

/** Recursively freezes plain objects and arrays (MonotonicSets are already immutable). */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  if (Array.isArray(value)) {
    Object.freeze(value);
    for (let i = 0; i < value.length; i++) deepFreeze(value[i]);
    return value;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  Object.freeze(value);
  const obj = value as Record<string, unknown>;
  for (const k in obj) deepFreeze(obj[k]);
  return value;
}
