/**
 * Read-only views of payloads for in-process plugins (`cow_validation: strict`).
 *
 * A view is a Proxy that reads the caller's object; a nested object gets its view lazily on first
 * access, cached on its parent's view, so a plugin that does not touch the payload costs O(1) and
 * nothing is copied. The executor keeps one view per payload for all the plugins of an invocation.
 * Any write (set, delete, defineProperty, setPrototypeOf, preventExtensions, a Map's `set`, a
 * Date's `setX`, a typed array's `fill`, ...) throws a coded CPEX_ERR_PAYLOAD_MUTATION inside the
 * plugin, which the executor records for that plugin.
 *
 * No trap hands out the caller's objects:
 * - the Proxy's target is an empty stand-in, never the caller's object, so no Proxy invariant
 *   forces a trap to report a raw nested value (a frozen object or a non-configurable property of
 *   the caller is viewed like any other);
 * - property descriptors carry views as values (accessors are read once, reported as read-only data);
 * - objects with internal slots get views of their own: Map and Set (reads and iteration give
 *   views of their members; `set`/`add`/`delete`/`clear` refuse), Date (`setX` refuses), typed
 *   arrays and DataView (`set`/`fill`/`copyWithin`/`reverse`/`sort`/`setX` refuse; `subarray` and
 *   `buffer` give views), ArrayBuffer (`resize`/`transfer` refuse; `slice` gives a fresh copy);
 * - class instances are viewed like plain objects (their methods run with the view as `this`).
 * Known limits (docs/security.md): APIs that need the real internal slot (`TextDecoder.decode`,
 * `Buffer.from(view.bytes)`, `new Uint8Array(view.arrayBuffer)`, `structuredClone`, `#private`
 * methods of class instances) throw a TypeError on a view (copy first: `view.bytes.slice()`,
 * `view.buf.slice(0)`, or `toMutable` from @cpex/sdk); Promise, RegExp, WeakMap, WeakSet, WeakRef
 * and functions inside a payload are passed as they are.
 */
import { types } from 'node:util';
import { copyPlain } from '../context/copy.js';
import { CpexError } from '../errors/cpex-error.js';
import { forEachHeld } from '../payload/holes.js';

/** Read through a view's `get` trap: the object the view was made for. Module-private. */
const VIEW_SOURCE: unique symbol = Symbol('cpex.readonly-view');

/** How a value is viewed; kinds from `Map` on have internal slots (their methods are wrapped). */
const Kind = {
  None: 0,
  Object: 1,
  Array: 2,
  Map: 3,
  Set: 4,
  Date: 5,
  Typed: 6,
  DataView: 7,
  Buffer: 8,
} as const;
type Kind = (typeof Kind)[keyof typeof Kind];
const KIND_NAMES = ['', 'object', 'array', 'Map', 'Set', 'Date', 'typed array', 'DataView', 'ArrayBuffer'];

/** How `v` is viewed (Kind.None: passed as it is). Plain objects and arrays are decided first, cheaply. */
function kindOf(v: unknown): Kind {
  if (v === null || typeof v !== 'object') return Kind.None;
  if (Array.isArray(v)) return Kind.Array;
  const proto = Object.getPrototypeOf(v);
  if (proto === Object.prototype || proto === null) return Kind.Object;
  if (types.isMap(v)) return Kind.Map;
  if (types.isSet(v)) return Kind.Set;
  if (types.isDate(v)) return Kind.Date;
  if (types.isTypedArray(v)) return Kind.Typed;
  if (types.isDataView(v)) return Kind.DataView;
  if (types.isAnyArrayBuffer(v)) return Kind.Buffer;
  if (
    types.isPromise(v) ||
    types.isRegExp(v) ||
    types.isWeakMap(v) ||
    types.isWeakSet(v) ||
    types.isBoxedPrimitive(v) ||
    (typeof WeakRef === 'function' && v instanceof WeakRef)
  ) {
    return Kind.None;
  }
  return Kind.Object;
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
 * view was made for and caches the views of its children by their object, so `view.args ===
 * view.args` and a subtree is wrapped once per payload. No global WeakMaps: a fresh payload per
 * request costs one Proxy, one stand-in and one small object, and nothing for the GC to trace weakly.
 */
interface ViewHandler extends ProxyHandler<object> {
  source: object;
  kind: Kind;
  view: object;
  children: Map<object, object> | undefined;
  methods: Map<PropertyKey, unknown> | undefined;
}

/**
 * Every view's stand-in target, shared: the traps refuse every write (set, delete, define,
 * setPrototypeOf, preventExtensions) and never read the target, so nothing ever changes it, and
 * it stays an empty extensible object (or array) that no Proxy invariant binds to the caller's data.
 */
const STAND_IN_OBJECT: object = {};
const STAND_IN_ARRAY: object = [];

/** The view of a value read through `h` (scalars and passed-through objects as they are). */
function child(h: ViewHandler, v: unknown): unknown {
  const kind = kindOf(v);
  if (kind === Kind.None) return v;
  const o = v as object;
  const cached = h.children?.get(o);
  if (cached !== undefined) return cached;
  if (sourceOf(o) !== undefined) return o; // already one of our views
  const view = makeView(o, kind);
  (h.children ??= new Map()).set(o, view);
  return view;
}

/** The caller's object behind a view argument (a Map key, a Set member), else the argument. */
function unview(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  return sourceOf(v) ?? v;
}

const RAW_TYPED = new Set<PropertyKey>([
  // fresh copies or scalars: handed out as they are
  'slice',
  'map',
  'filter',
  'toReversed',
  'toSorted',
  'with',
  'entries',
  'keys',
  'values',
  Symbol.iterator,
]);
const MUTATORS: Partial<Record<Kind, ReadonlySet<PropertyKey>>> = {
  [Kind.Map]: new Set(['set', 'delete', 'clear']),
  [Kind.Set]: new Set(['add', 'delete', 'clear']),
  [Kind.Typed]: new Set(['set', 'fill', 'copyWithin', 'reverse', 'sort']),
  [Kind.Buffer]: new Set(['resize', 'grow', 'transfer', 'transferToFixedLength']),
};

/** The function a view hands out for a method `fn` of its internal-slot object. */
function method(h: ViewHandler, key: PropertyKey, fn: (...a: unknown[]) => unknown): unknown {
  const cached = h.methods?.get(key);
  if (cached !== undefined) return cached;
  const src = h.source as Record<PropertyKey, unknown> & Map<unknown, unknown> & Set<unknown>;
  const view = h.view;
  const wrap = (v: unknown) => child(h, v);
  let out: (...a: unknown[]) => unknown;
  const name = typeof key === 'string' ? key : '';
  if (
    MUTATORS[h.kind]?.has(key) ||
    ((h.kind === Kind.Date || h.kind === Kind.DataView) && name.startsWith('set'))
  ) {
    out = () => refuse(`call ${name}() on a ${KIND_NAMES[h.kind]} in it`);
  } else if (h.kind === Kind.Map || h.kind === Kind.Set) {
    const isMap = h.kind === Kind.Map;
    if (key === 'get') out = (k) => wrap(src.get(unview(k)));
    else if (key === 'has') out = (k) => src.has(unview(k));
    else if (key === 'forEach') {
      out = (cb, thisArg) => {
        if (typeof cb !== 'function') return fn.call(src, cb);
        const f = cb as (...a: unknown[]) => unknown;
        src.forEach((v: unknown, k: unknown) => void f.call(thisArg, wrap(v), wrap(k), view));
        return undefined;
      };
    } else if (key === 'keys' || (!isMap && key === 'values') || (!isMap && key === Symbol.iterator)) {
      out = function* () {
        for (const k of (src as Map<unknown, unknown>).keys()) yield wrap(k);
      };
    } else if (isMap && key === 'values') {
      out = function* () {
        for (const v of (src as Map<unknown, unknown>).values()) yield wrap(v);
      };
    } else if (key === 'entries' || key === Symbol.iterator) {
      out = function* () {
        for (const [k, v] of (src as Map<unknown, unknown>).entries()) yield [wrap(k), wrap(v)];
      };
    } else out = (...a) => wrap(fn.apply(src, a.map(unview)));
  } else {
    // Date, typed arrays, DataView, ArrayBuffer: run on the caller's object; a callback that
    // would receive that object receives the view.
    const raw = h.kind === Kind.Date || (h.kind === Kind.Typed && RAW_TYPED.has(key)) || key === 'slice';
    out = (...a) => {
      const args = a.map((x) =>
        typeof x === 'function'
          ? function (this: unknown, ...cb: unknown[]) {
              return (x as (...c: unknown[]) => unknown).apply(
                this,
                cb.map((y) => (y === src ? view : y)),
              );
            }
          : unview(x),
      );
      const r = fn.apply(src, args);
      return r === src ? view : raw ? r : wrap(r);
    };
  }
  (h.methods ??= new Map()).set(key, out);
  return out;
}

const traps: ProxyHandler<object> = {
  get(this: ViewHandler, _t, key) {
    if (key === VIEW_SOURCE) return this.source;
    const src = this.source;
    const v = Reflect.get(src, key, src);
    if (
      this.kind >= Kind.Map &&
      typeof v === 'function' &&
      key !== 'constructor' &&
      !Object.hasOwn(src, key)
    ) {
      return method(this, key, v as (...a: unknown[]) => unknown);
    }
    return child(this, v);
  },
  has(this: ViewHandler, _t, key) {
    return Reflect.has(this.source, key);
  },
  ownKeys(this: ViewHandler) {
    return Reflect.ownKeys(this.source);
  },
  getOwnPropertyDescriptor(this: ViewHandler, target, key) {
    const src = this.source;
    const d = Reflect.getOwnPropertyDescriptor(src, key);
    if (d === undefined) return undefined;
    if (this.kind === Kind.Array && key === 'length') {
      // The stand-in array's own non-configurable `length`: report it as the invariant requires.
      return { value: (src as unknown[]).length, writable: true, enumerable: false, configurable: false };
    }
    void target;
    const value = 'value' in d ? d.value : Reflect.get(src, key, src);
    return {
      value: child(this, value),
      writable: false,
      enumerable: d.enumerable === true,
      configurable: true,
    };
  },
  getPrototypeOf(this: ViewHandler) {
    return Reflect.getPrototypeOf(this.source);
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

/**
 * A view's handler: its own state in fields made by one constructor (one allocation, every field
 * in the object), the traps on the prototype it shares with every other handler.
 */
const Handler = function (this: ViewHandler, source: object, kind: Kind) {
  this.source = source;
  this.kind = kind;
  this.view = STAND_IN_OBJECT;
  this.children = undefined;
  this.methods = undefined;
} as unknown as new (
  source: object,
  kind: Kind,
) => ViewHandler;
Handler.prototype = traps;

function makeView(value: object, kind: Kind): object {
  const handler = new Handler(value, kind);
  // An empty stand-in as the target: Proxy invariants then bind nothing to the caller's object.
  const view = new Proxy(kind === Kind.Array ? STAND_IN_ARRAY : STAND_IN_OBJECT, handler);
  handler.view = view;
  return view;
}

/** The object `value` is a view of, or undefined when it is not one of our views. */
function sourceOf(value: object): object | undefined {
  try {
    return (value as { [VIEW_SOURCE]?: object })[VIEW_SOURCE];
  } catch {
    return undefined; // a foreign Proxy whose get trap throws is not a view
  }
}

/** A read-only view of `value` (the value itself when it is a scalar, a passed-through object, or already a view). */
export function readonlyView<T>(value: T): T {
  const kind = kindOf(value);
  if (kind === Kind.None) return value;
  if (sourceOf(value as object) !== undefined) return value; // already a view
  return makeView(value as object, kind) as T;
}

export function isReadonlyView(value: unknown): boolean {
  return value !== null && typeof value === 'object' && sourceOf(value) !== undefined;
}

/**
 * What the executor keeps of a payload an in-process plugin returned: a copy of the plain data the
 * plugin made (objects and arrays), with read-only views replaced by the caller's objects they
 * show (unchanged subtrees are shared, never copied). The plugin keeps its own objects, so an
 * edit it makes after returning reaches neither the plugins after it nor the caller's result —
 * what was validated is what runs on. Other objects (Map, Set, Date, class instances) are kept as
 * they are (Maps and Sets with their views swapped in place, as `unwrapViews` does).
 * Cost: proportional to what the plugin built, not to the payload.
 */
export function adoptReturned<T>(value: T): T {
  return copyPlain(value, new Map(), adoptSwap) as T;
}

function adoptSwap(x: object): unknown {
  const s = sourceOf(x);
  if (s !== undefined) return s;
  if (types.isMap(x) || types.isSet(x)) return unwrapViews(x);
  return undefined;
}

/**
 * Replace read-only views inside a plugin's returned value by their sources, so callers and later
 * plugins get plain objects. Only new objects made by the plugin are walked (views are swapped in
 * O(1)); unchanged subtrees stay shared with the input (copy-on-write). The walk is iterative: a
 * returned value of any depth is handled without recursion.
 */
export function unwrapViews<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  const t = sourceOf(value);
  if (t !== undefined) return t as T;
  const seen = new Set<object>([value]);
  const stack: object[] = [value];
  /** The source for a view member, or undefined after scheduling a plain member for the walk. */
  const swap = (c: unknown): object | undefined => {
    if (c === null || typeof c !== 'object') return undefined;
    const s = sourceOf(c);
    if (s !== undefined) return s;
    if (!seen.has(c)) {
      seen.add(c);
      stack.push(c);
    }
    return undefined;
  };
  for (let obj = stack.pop(); obj !== undefined; obj = stack.pop()) {
    if (Object.isFrozen(obj)) continue;
    if (Array.isArray(obj)) {
      const arr = obj as unknown[];
      forEachHeld(arr, (v, i) => {
        const s = swap(v);
        if (s !== undefined) arr[i] = s;
      });
      continue;
    }
    if (types.isMap(obj) || types.isSet(obj)) {
      const m = obj as Map<unknown, unknown>;
      const isMap = types.isMap(obj);
      let changed = false;
      const entries: [unknown, unknown][] = [];
      for (const [k, v] of m.entries()) {
        const sk = swap(k);
        const sv = isMap ? swap(v) : sk;
        if (sk !== undefined || sv !== undefined) changed = true;
        entries.push([sk ?? k, sv ?? v]);
      }
      if (changed) {
        m.clear();
        for (const [k, v] of entries) {
          if (isMap) m.set(k, v);
          else (m as unknown as Set<unknown>).add(k);
        }
      }
      continue;
    }
    const proto = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null) continue;
    for (const k of Object.keys(obj)) {
      const s = swap((obj as Record<string, unknown>)[k]);
      if (s !== undefined) (obj as Record<string, unknown>)[k] = s;
    }
  }
  return value;
}
