/**
 * Payload schemas the sidecar can prove a value passes without running zod. An invoke's payload is
 * parsed with its hook's zod schema at ingress (plugins get the parsed value). For the simple
 * shapes most hook payloads have — objects of strings, numbers, booleans, string maps and arrays —
 * a hand-written check decides in a fraction of zod's time that the value passes **and** that
 * zod's output would equal the value itself (same keys in the same order, same leaves). Only then
 * is the parse left out; every other value (anything the check is unsure of: an unknown key zod
 * would strip, a key out of the schema's order, a wrong type) still goes through zod, which gives
 * the parsed value or the coded error exactly as before. The rule is unchanged; only provably
 * passing work is left out.
 *
 * The check is compiled once per schema from zod 4's definition (`schema._zod.def`). A schema
 * with anything else in it (refinements, checks, transforms, defaults, unions, a catch-all) gets
 * no check, so its values always go through zod. The values it judges are decoded from MessagePack
 * or JSON: plain objects and arrays whose keys are own, enumerable strings (anything else it sees
 * — another prototype, an inherited key, a hole — makes it ask zod).
 */

/** Decides whether `v` provably passes (and parses to itself); false means "ask zod". */
export type ProvenCheck = (v: unknown) => boolean;

interface ZodDef {
  type?: unknown;
  checks?: unknown;
  coerce?: unknown;
  shape?: unknown;
  catchall?: unknown;
  innerType?: unknown;
  keyType?: unknown;
  valueType?: unknown;
  element?: unknown;
  values?: unknown;
  entries?: unknown;
}

const compiled = new WeakMap<object, ProvenCheck | null>();

/** The check for `schema`, or undefined when it has none (its values always go through zod). */
export function provenCheck(schema: object): ProvenCheck | undefined {
  let c = compiled.get(schema);
  if (c === undefined) {
    c = compile(schema, 0);
    compiled.set(schema, c);
  }
  return c ?? undefined;
}

function defOf(schema: unknown): ZodDef | undefined {
  if (schema === null || typeof schema !== 'object') return undefined;
  const z = (schema as { _zod?: { def?: unknown } })._zod;
  const def = z?.def;
  return def !== null && typeof def === 'object' ? (def as ZodDef) : undefined;
}

/** No checks (refinements, lengths, formats) and no coercion. */
function bare(def: ZodDef): boolean {
  return (def.checks === undefined || (Array.isArray(def.checks) && def.checks.length === 0)) && !def.coerce;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype;

/** Schemas nest this deep at most before the compiler gives up (no check). */
const MAX_SCHEMA_DEPTH = 32;

function compile(schema: unknown, depth: number): ProvenCheck | null {
  if (depth > MAX_SCHEMA_DEPTH) return null;
  const def = defOf(schema);
  if (def === undefined || !bare(def)) return null;
  switch (def.type) {
    case 'string':
      return (v) => typeof v === 'string';
    case 'number':
      return (v) => typeof v === 'number' && Number.isFinite(v);
    case 'boolean':
      return (v) => typeof v === 'boolean';
    case 'unknown':
    case 'any':
      return () => true;
    case 'null':
      return (v) => v === null;
    case 'optional': {
      // A key whose value is undefined is refused below (zod would keep or drop it: ask zod).
      const inner = compile(def.innerType, depth + 1);
      return inner && ((v) => v !== undefined && inner(v));
    }
    case 'nullable': {
      const inner = compile(def.innerType, depth + 1);
      return inner && ((v) => v === null || inner(v));
    }
    case 'literal':
      return oneOf(def.values);
    case 'enum':
      return def.entries !== null && typeof def.entries === 'object'
        ? oneOf(Object.values(def.entries as Record<string, unknown>))
        : null;
    case 'array': {
      const element = compile(def.element, depth + 1);
      return (
        element &&
        ((v) => {
          if (!Array.isArray(v)) return false;
          for (let i = 0; i < v.length; i++) if (!(i in v) || !element(v[i])) return false;
          return true;
        })
      );
    }
    case 'record': {
      const key = defOf(def.keyType);
      if (key === undefined || key.type !== 'string' || !bare(key)) return null;
      const value = compile(def.valueType, depth + 1);
      return (
        value &&
        ((v) => {
          if (!isPlainObject(v)) return false;
          for (const k in v) {
            if (k === '__proto__' || !Object.hasOwn(v, k) || !value(v[k])) return false;
          }
          return true;
        })
      );
    }
    case 'object':
      return compileObject(def, depth);
    default:
      return null;
  }
}

/** One of a few strings, numbers or booleans (zod's output is the value itself). */
function oneOf(values: unknown): ProvenCheck | null {
  if (!Array.isArray(values)) return null;
  const allowed: unknown[] = values;
  for (const x of allowed)
    if (typeof x !== 'string' && typeof x !== 'number' && typeof x !== 'boolean') return null;
  return (v) => allowed.includes(v);
}

/**
 * A strip-mode object: every key of the value is in the shape, in the shape's order (zod's output
 * follows the shape's order), its value proven, and every required key is present.
 */
function compileObject(def: ZodDef, depth: number): ProvenCheck | null {
  if (def.catchall !== undefined) return null;
  const shape = def.shape;
  if (shape === null || typeof shape !== 'object') return null;
  const keys = Object.keys(shape);
  const checks: ProvenCheck[] = [];
  const required: boolean[] = [];
  for (const k of keys) {
    const field = (shape as Record<string, unknown>)[k];
    const c = compile(field, depth + 1);
    if (c === null) return null;
    checks.push(c);
    required.push(defOf(field)?.type !== 'optional');
  }
  const n = keys.length;
  return (v) => {
    if (!isPlainObject(v)) return false;
    let at = 0; // the next shape position a key of v may take
    for (const k in v) {
      if (!Object.hasOwn(v, k)) return false;
      let i = at;
      while (i < n && keys[i] !== k) {
        if (required[i]) return false; // a required key skipped: absent or out of order
        i++;
      }
      if (i === n || !checks[i]!(v[k])) return false;
      at = i + 1;
    }
    for (let i = at; i < n; i++) if (required[i]) return false;
    return true;
  };
}
