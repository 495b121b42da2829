/**
 * Config data is what YAML 1.2 (and JSON) can say: null, booleans, finite numbers, strings,
 * lists and string-keyed mappings. One iterative walk checks that, at any depth, for a config
 * parsed from text and for a config object a gateway builds in code, and names the YAML path of
 * every problem:
 * - a value JavaScript or JSON cannot carry faithfully to a plugin in another language: an
 *   integer beyond ±(2^53−1) (YAML ints are read as BigInt, so the literal is never rounded
 *   silently), NaN/±Infinity (`.nan`, `.inf`: JSON turns them into null), BigInt, Symbol,
 *   function, undefined in a list, Date/Map/Set/Buffer/class instances, arrays with holes;
 * - a `__proto__` key (JavaScript reads it as the prototype, not as data);
 * - a cycle, more than MAX_CONFIG_DEPTH levels or MAX_CONFIG_VALUES values;
 * - in code: an object whose reads throw (getters, Proxy traps, a revoked Proxy).
 * In `copy` mode (config objects from code) the result is a plain snapshot: read once, so later
 * edits of the caller's object, getters and proxies can change nothing after validation.
 */
import { describeCause } from '../errors/cpex-error.js';
import { formatPath } from '../errors/issue-path.js';
import { heldCount } from '../payload/holes.js';

/** Nesting a config may have (a plugin's `config:` included): far beyond any real config. */
export const MAX_CONFIG_DEPTH = 1000;
/** Values (scalars and collections) a config may hold: ~10× the 10,000-plugin bench config. */
export const MAX_CONFIG_VALUES = 1_000_000;

export interface PlainIssue {
  path: string;
  message: string;
}

type Parts = ReadonlyArray<PropertyKey>;

/**
 * Check (and in `copy` mode, copy) config data. Returns the data (the copy, or `data` itself with
 * its safe BigInts turned into numbers in place) and the issues found (at most 20). `locateKey`
 * adds ` (line L:C)` for a mapping key, `locate` for a value.
 */
export function plainConfig(
  data: unknown,
  mode: 'copy' | 'in-place',
  locate: (parts: Parts) => string = () => '',
  locateKey: (parts: Parts) => string = locate,
): { data: unknown; issues: PlainIssue[] } {
  const issues: PlainIssue[] = [];
  const fail = (at: Parts, message: string, where = locate(at)): void => {
    if (issues.length < 20) issues.push({ path: formatPath(at), message: `${message}${where}` });
  };
  let count = 0;
  // One frame per container being filled; `ancestors` holds the containers on the current path
  // (a cycle is a container that is its own ancestor; a shared, acyclic object is fine).
  const ancestors = new Set<object>();
  type Frame = { src: object; out: unknown; at: PropertyKey[]; keys: string[] | number[]; i: number };
  const stack: Frame[] = [];
  let result: unknown;

  /** The plain form of `v` at `at`, or a container frame pushed for it; `undefined` = refused. */
  const enter = (v: unknown, at: PropertyKey[], assign: (out: unknown) => void): void => {
    if (++count > MAX_CONFIG_VALUES) {
      if (count === MAX_CONFIG_VALUES + 1) fail(at, `the config holds more than ${MAX_CONFIG_VALUES} values`);
      return;
    }
    switch (typeof v) {
      case 'boolean':
        assign(v);
        return;
      case 'string':
        if (loneSurrogate(v) < 0) assign(v);
        else
          fail(
            at,
            `the string ${unpaired(v)}: not valid Unicode text (UTF-8, which carries config to other languages, cannot encode it)`,
          );
        return;
      case 'number':
        if (Number.isFinite(v)) assign(v);
        else
          fail(
            at,
            `expected a finite number (JSON, which carries config to plugins in other languages, has no NaN or Infinity), got ${v}`,
          );
        return;
      case 'bigint':
        if (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) assign(Number(v));
        else
          fail(
            at,
            `the integer ${v} is beyond ±(2^53−1): JavaScript cannot hold it exactly (it would silently change); quote it as a string`,
          );
        return;
      case 'undefined':
        fail(at, 'undefined is not config data (use null, or leave the key out)');
        return;
      case 'symbol':
      case 'function':
        fail(at, `a ${typeof v} is not config data`);
        return;
    }
    if (v === null) {
      assign(null);
      return;
    }
    const o = v as object;
    let isArray: boolean;
    let proto: object | null = null;
    try {
      isArray = Array.isArray(o);
      if (!isArray) proto = Object.getPrototypeOf(o);
    } catch (e) {
      fail(at, `cannot be read: ${describeCause(e)}`);
      return;
    }
    if (!isArray && proto !== Object.prototype && proto !== null) {
      fail(
        at,
        `${kindOf(o)} is not config data (give plain objects, arrays, strings, numbers, booleans or null)`,
      );
      return;
    }
    if (ancestors.has(o)) {
      fail(at, 'the value contains itself (a cycle)');
      return;
    }
    if (stack.length >= MAX_CONFIG_DEPTH) {
      fail(at, `nested more than ${MAX_CONFIG_DEPTH} levels deep`);
      return;
    }
    let keys: string[] | number[];
    try {
      if (isArray) {
        // O(what the array holds), so `a.length = 2 ** 32 - 1` costs nothing (payload/holes.ts).
        const arr = o as unknown[];
        const held = heldCount(arr);
        if (held !== arr.length) {
          fail(
            at,
            `a list with holes (length ${arr.length}, ${held} held): JSON would turn each hole into null`,
          );
          return;
        }
        keys = Array.from({ length: arr.length }, (_, i) => i);
      } else keys = Object.keys(o);
    } catch (e) {
      fail(at, `cannot be read: ${describeCause(e)}`);
      return;
    }
    const out = mode === 'copy' ? (isArray ? [] : {}) : o;
    assign(out);
    ancestors.add(o);
    stack.push({ src: o, out, at, keys, i: 0 });
  };

  enter(data, [], (out) => {
    result = out;
  });
  while (stack.length > 0) {
    const f = stack[stack.length - 1]!;
    if (f.i >= f.keys.length || issues.length >= 20) {
      stack.pop();
      ancestors.delete(f.src);
      continue;
    }
    const k = f.keys[f.i++]!;
    const at = [...f.at, k];
    if (typeof k === 'string' && loneSurrogate(k) >= 0) {
      fail(f.at, `the key ${JSON.stringify(k)} ${unpaired(k)}: not valid Unicode text`, locateKey(at));
      continue;
    }
    if (k === '__proto__') {
      fail(
        at,
        '"__proto__" is not allowed as a key: JavaScript would read it as the object\'s prototype, not as data (rename it)',
        locateKey(at),
      );
      continue;
    }
    let v: unknown;
    try {
      v = (f.src as Record<PropertyKey, unknown>)[k];
    } catch (e) {
      fail(at, `cannot be read: ${describeCause(e)}`);
      continue;
    }
    // A mapping key left undefined in code (`{timeout: opts.timeout}`) means "not set", as in JSON.
    if (v === undefined && typeof k === 'string') {
      if (mode === 'in-place') delete (f.out as Record<string, unknown>)[k];
      continue;
    }
    const out = f.out as Record<PropertyKey, unknown>;
    enter(v, at, (plain) => {
      if (mode === 'copy' || plain !== v) out[k] = plain;
    });
  }
  return { data: result, issues };
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Index of a string's first unpaired UTF-16 surrogate, or -1 (String#isWellFormed is ES2024). */
export function loneSurrogate(s: string): number {
  return s.search(LONE_SURROGATE);
}

/** "has an unpaired surrogate \ud800 at index 3". */
function unpaired(s: string): string {
  const i = loneSurrogate(s);
  return `has an unpaired surrogate \\u${s.charCodeAt(i).toString(16)} at index ${i}`;
}

/** "a Date", "a Map", "an instance of Foo" — never calls the value's own code. */
function kindOf(o: object): string {
  let tag: string;
  try {
    tag = Object.prototype.toString.call(o).slice(8, -1);
  } catch {
    return 'an unreadable object';
  }
  if (tag !== 'Object') return /^[AEIO]/.test(tag) ? `an ${tag}` : `a ${tag}`;
  let name: unknown;
  try {
    const ctor = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(o) ?? {}, 'constructor')?.value;
    name = typeof ctor === 'function' ? ctor.name : undefined;
  } catch {
    name = undefined;
  }
  return typeof name === 'string' && name ? `an instance of ${name}` : 'an object with a custom prototype';
}
