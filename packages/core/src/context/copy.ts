/** Copying helpers for plain data (JSON-like objects and arrays). */
import { forEachHeld } from '../payload/holes.js';

/**
 * Deep copy of plain objects and arrays (cycles and shared references preserved); other values are
 * shared. Iterative: a value of any depth is copied without recursion (no stack overflow).
 * `swap`: asked for every object before it is copied; what it returns (unless undefined) is used
 * instead, as it is (a read-only view's source, for instance).
 */
export function copyPlain(
  v: unknown,
  seen: Map<object, unknown> = new Map(),
  swap?: (x: object) => unknown,
): unknown {
  const jobs: Array<() => void> = [];
  const copyOf = (x: unknown): unknown => {
    if (x === null || typeof x !== 'object') return x;
    const done = seen.get(x);
    if (done !== undefined) return done;
    if (swap !== undefined) {
      const s = swap(x);
      if (s !== undefined) {
        seen.set(x, s);
        return s;
      }
    }
    if (Array.isArray(x)) {
      const out: unknown[] = [];
      seen.set(x, out);
      jobs.push(() => {
        forEachHeld(x as unknown[], (e, i) => {
          out[i] = copyOf(e);
        });
        out.length = x.length; // holes stay holes, at no cost
      });
      return out;
    }
    const proto = Object.getPrototypeOf(x);
    if (proto !== Object.prototype && proto !== null) return x;
    const out: Record<string, unknown> = {};
    seen.set(x, out);
    jobs.push(() => {
      for (const k of Object.keys(x)) setOwn(out, k, copyOf((x as Record<string, unknown>)[k]));
    });
    return out;
  };
  const root = copyOf(v);
  for (let job = jobs.pop(); job !== undefined; job = jobs.pop()) job();
  return root;
}

/**
 * `o[k] = v` as an own data property, also for the key `__proto__` (which plain assignment would
 * turn into a prototype change: a payload key arriving as JSON `"__proto__"` stays data).
 */
export function setOwn(o: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__')
    Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
  else o[k] = v;
}
