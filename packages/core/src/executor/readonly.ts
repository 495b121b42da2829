/**
 * Read-only views of payloads for in-process plugins (`cow_validation: strict`).
 *
 * A view is a Proxy over the caller's object, created lazily per object on first access and shared
 * through a WeakMap, so a plugin that does not touch the payload costs O(1) and nothing is copied.
 * Any write (set, delete, defineProperty, setPrototypeOf, preventExtensions) throws a coded
 * CPEX_ERR_PAYLOAD_MUTATION inside the plugin, which the executor records for that plugin.
 * Only plain objects and arrays are wrapped; other objects (Date, Map, class instances) are passed
 * through as they are.
 */
import { CpexError } from '../errors/cpex-error.js';

const viewOf = new WeakMap<object, object>();
const targetOf = new WeakMap<object, object>();

function wrappable(v: unknown): v is object {
  if (v === null || typeof v !== 'object') return false;
  if (Array.isArray(v)) return true;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function refuse(what: string, key?: PropertyKey): never {
  const k = key === undefined ? '' : ` "${String(key)}"`;
  throw new CpexError(
    'CPEX_ERR_PAYLOAD_MUTATION',
    `payload is read-only: cannot ${what}${k} (return a modified copy in modifiedPayload instead)`,
  );
}

const handler: ProxyHandler<object> = {
  get(target, key, receiver) {
    const v = Reflect.get(target, key, receiver);
    if (!wrappable(v)) return v;
    const d = Object.getOwnPropertyDescriptor(target, key);
    // Proxy invariant: a non-writable, non-configurable data property must report its own value.
    if (d && !d.configurable && !d.writable) return v;
    return readonlyView(v);
  },
  set(_t, key) {
    return refuse('set', key);
  },
  deleteProperty(_t, key) {
    return refuse('delete', key);
  },
  defineProperty(_t, key) {
    return refuse('define', key);
  },
  setPrototypeOf() {
    return refuse('change the prototype of it');
  },
  preventExtensions() {
    return refuse('freeze or seal it');
  },
};

/** The shared read-only view of `value` (the value itself when it is not a plain object/array). */
export function readonlyView<T>(value: T): T {
  if (!wrappable(value)) return value;
  if (targetOf.has(value)) return value; // already a view
  let v = viewOf.get(value);
  if (v === undefined) {
    // A frozen object's properties bind the Proxy to return them raw (a Proxy invariant), which
    // would let nested writes through: view a shallow shadow copy instead (made once, cached).
    // Its values are the frozen object's own, which can never change.
    const target = Object.isFrozen(value)
      ? Array.isArray(value)
        ? [...value]
        : { ...(value as object) }
      : value;
    v = new Proxy(target as object, handler);
    viewOf.set(value, v);
    targetOf.set(v, value);
  }
  return v as T;
}

export function isReadonlyView(value: unknown): boolean {
  return value !== null && typeof value === 'object' && targetOf.has(value);
}

/**
 * Replace read-only views inside a plugin's returned value by their targets, so callers and later
 * plugins get plain objects. Only new objects made by the plugin are walked (views are swapped in
 * O(1)); unchanged subtrees stay shared with the input (copy-on-write).
 */
export function unwrapViews<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  const t = targetOf.get(value);
  if (t !== undefined) return t as T;
  const seen = new Set<object>();
  walk(value, seen);
  return value;
}

function walk(obj: object, seen: Set<object>): void {
  if (seen.has(obj)) return;
  seen.add(obj);
  if (Object.isFrozen(obj)) return;
  if (Array.isArray(obj)) {
    for (let i = 0; i < obj.length; i++) {
      const c = obj[i];
      if (c !== null && typeof c === 'object') {
        const t = targetOf.get(c);
        if (t !== undefined) obj[i] = t;
        else walk(c, seen);
      }
    }
    return;
  }
  if (!wrappable(obj)) return;
  for (const k of Object.keys(obj)) {
    const c = (obj as Record<string, unknown>)[k];
    if (c !== null && typeof c === 'object') {
      const t = targetOf.get(c);
      if (t !== undefined) (obj as Record<string, unknown>)[k] = t;
      else walk(c, seen);
    }
  }
}
