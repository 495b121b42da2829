/** Copying helpers for plain data (JSON-like objects and arrays). */

/** Deep copy of plain objects and arrays (cycles and shared references preserved); other values are shared. */
export function copyPlain(v: unknown, seen: Map<object, unknown> = new Map()): unknown {
  if (v === null || typeof v !== 'object') return v;
  const done = seen.get(v);
  if (done !== undefined) return done;
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    seen.set(v, out);
    for (const x of v) out.push(copyPlain(x, seen));
    return out;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return v;
  const out: Record<string, unknown> = {};
  seen.set(v, out);
  for (const k of Object.keys(v)) out[k] = copyPlain((v as Record<string, unknown>)[k], seen);
  return out;
}
