/**
 * Read-only views of payloads for in-process plugins (`cow_validation: strict`).
 *
 * A view is a Proxy over the caller's object; a nested object gets its view lazily on first access,
 * cached on its parent's view, so a plugin that does not touch the payload costs O(1) and nothing
 * is copied. The executor keeps one view per payload for all the plugins of an invocation.
 * Any write (set, delete, defineProperty, setPrototypeOf, preventExtensions) throws a coded
 * CPEX_ERR_PAYLOAD_MUTATION inside the plugin, which the executor records for that plugin.
 * Only plain objects and arrays are wrapped; other objects (Date, Map, class instances) are passed
 * through as they are.
 */
import { CpexError } from '../errors/cpex-error.js';

/** Read through a view's `get` trap: the object the view was made for. Module-private. */
const VIEW_SOURCE: unique symbol = Symbol('cpex.readonly-view');

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

/**
 * Each view has a handler of its own (traps on the shared prototype): it knows the object the
 * view was made for and caches the views of its children, so `view.args === view.args` and a
 * subtree is wrapped once per payload. No global WeakMaps: a fresh payload per request costs one
 * Proxy and one small object, and nothing for the GC to trace weakly.
 */
interface ViewHandler extends ProxyHandler<object> {
  source: object;
  children: Map<PropertyKey, object> | undefined;
}

const traps: ProxyHandler<object> = {
  get(this: ViewHandler, target, key, receiver) {
    if (key === VIEW_SOURCE) return this.source;
    const v = Reflect.get(target, key, receiver);
    if (!wrappable(v)) return v;
    const d = Object.getOwnPropertyDescriptor(target, key);
    // Proxy invariant: a non-writable, non-configurable data property must report its own value.
    if (d && !d.configurable && !d.writable) return v;
    const cached = this.children?.get(key);
    if (cached !== undefined && (cached as { [VIEW_SOURCE]: unknown })[VIEW_SOURCE] === v) return cached;
    const view = makeView(v);
    (this.children ??= new Map()).set(key, view);
    return view;
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

function makeView(value: object): object {
  // A frozen object's properties bind the Proxy to return them raw (a Proxy invariant), which
  // would let nested writes through: view a shallow shadow copy instead. Its values are the
  // frozen object's own, which can never change.
  const target = Object.isFrozen(value) ? (Array.isArray(value) ? [...value] : { ...value }) : value;
  const handler = Object.create(traps) as ViewHandler;
  handler.source = value;
  handler.children = undefined;
  return new Proxy(target, handler);
}

/** The object `value` is a view of, or undefined when it is not one of our views. */
function sourceOf(value: object): object | undefined {
  try {
    return (value as { [VIEW_SOURCE]?: object })[VIEW_SOURCE];
  } catch {
    return undefined; // a foreign Proxy whose get trap throws is not a view
  }
}

/** A read-only view of `value` (the value itself when it is not a plain object/array, or already a view). */
export function readonlyView<T>(value: T): T {
  if (!wrappable(value)) return value;
  if (sourceOf(value) !== undefined) return value; // already a view
  return makeView(value) as T;
}

export function isReadonlyView(value: unknown): boolean {
  return value !== null && typeof value === 'object' && sourceOf(value) !== undefined;
}

/**
 * Replace read-only views inside a plugin's returned value by their targets, so callers and later
 * plugins get plain objects. Only new objects made by the plugin are walked (views are swapped in
 * O(1)); unchanged subtrees stay shared with the input (copy-on-write).
 */
export function unwrapViews<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  const t = sourceOf(value);
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
        const t = sourceOf(c);
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
      const t = sourceOf(c);
      if (t !== undefined) (obj as Record<string, unknown>)[k] = t;
      else walk(c, seen);
    }
  }
}
