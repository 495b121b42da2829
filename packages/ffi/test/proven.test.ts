// The proven-pass check of payload schemas against zod, the reference: whenever the check says a
// value passes, zod parses it, and zod's output is the value itself (same keys in the same order,
// same leaves). Anything the check does not cover has no check (zod decides every value).
import { PluginManager } from '@cpex/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { provenCheck } from '../src/proven.js';

/**
 * Whether two values are the same tree: the same prototypes, the same own keys in the same order,
 * the same leaves (toStrictEqual is not used: it compares `.constructor`, which a key may shadow).
 */
function same(a: unknown, b: unknown): boolean {
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return Object.is(a, b);
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  const ka = Reflect.ownKeys(a);
  const kb = Reflect.ownKeys(b);
  if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i])) return false;
  return ka.every((k) =>
    same((a as Record<PropertyKey, unknown>)[k], (b as Record<PropertyKey, unknown>)[k]),
  );
}

/** A value shaped like the schema (often passing), with wrong types, extra keys and shuffles mixed in. */
function near(schema: z.ZodType, depth = 0): fc.Arbitrary<unknown> {
  const def = (schema as unknown as { _zod: { def: Record<string, unknown> } })._zod.def;
  const noise = fc.oneof(
    fc.constant(null),
    fc.string(),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(undefined),
    fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }),
    fc.array(fc.string(), { maxLength: 3 }),
  );
  if (depth > 6) return noise;
  const inner = (s: unknown) => near(s as z.ZodType, depth + 1);
  let shaped: fc.Arbitrary<unknown>;
  switch (def.type) {
    case 'string':
      shaped = fc.string();
      break;
    case 'number':
      shaped = fc.oneof(fc.integer(), fc.double());
      break;
    case 'boolean':
      shaped = fc.boolean();
      break;
    case 'optional':
    case 'nullable':
      shaped = fc.oneof(inner(def.innerType), fc.constant(null), fc.constant(undefined));
      break;
    case 'array':
      shaped = fc.array(inner(def.element), { maxLength: 4 });
      break;
    case 'record':
      shaped = fc.dictionary(
        fc.oneof(fc.string(), fc.constantFrom('__proto__', '1', 'constructor')),
        inner(def.valueType),
        {
          maxKeys: 4,
        },
      );
      break;
    case 'object': {
      const shape = def.shape as Record<string, unknown>;
      const keys = Object.keys(shape);
      shaped = fc
        .tuple(
          fc.tuple(...keys.map((k) => fc.option(inner(shape[k]), { nil: undefined, freq: 3 }))),
          fc.boolean(),
          fc.option(fc.tuple(fc.string(), noise), { nil: undefined, freq: 4 }),
        )
        .map(([vals, reverse, extra]) => {
          const entries = keys.map((k, i) => [k, vals[i]] as const).filter(([, v]) => v !== undefined);
          if (reverse) entries.reverse();
          const o: Record<string, unknown> = {};
          for (const [k, v] of entries) o[k] = v;
          if (extra) o[extra[0]] = extra[1];
          return o;
        });
      break;
    }
    default:
      shaped = fc.anything();
  }
  return fc.oneof({ arbitrary: shaped, weight: 5 }, { arbitrary: noise, weight: 1 });
}

function agrees(schema: z.ZodType, value: unknown): void {
  const check = provenCheck(schema);
  if (check === undefined || !check(value)) return;
  const parsed = schema.safeParse(value);
  expect(parsed.success).toBe(true);
  expect(same(parsed.data, value)).toBe(true);
}

describe('provenCheck', () => {
  const hooks = new PluginManager().hooks;
  const names = hooks.names().filter((h) => hooks.get(h)?.payloadSchema !== undefined);

  it('covers the legacy hook payloads', () => {
    for (const h of ['tool_pre_invoke', 'tool_post_invoke', 'prompt_pre_fetch', 'resource_pre_fetch'])
      expect(provenCheck(hooks.get(h)!.payloadSchema!)).toBeDefined();
  });

  it('agrees with zod on every built-in payload schema: a proven value parses to itself', () => {
    for (const h of names) {
      const schema = hooks.get(h)!.payloadSchema!;
      if (provenCheck(schema) === undefined) continue;
      fc.assert(
        fc.property(near(schema), (v) => agrees(schema, v)),
        { numRuns: 400 },
      );
    }
  });

  it('proves the common values and hands the rest to zod', () => {
    const schema = hooks.get('tool_pre_invoke')!.payloadSchema!;
    const check = provenCheck(schema)!;
    expect(check({ name: 'search', args: { q: 'x' } })).toBe(true);
    expect(check({ name: 'search', args: null, headers: { a: 'b' } })).toBe(true);
    expect(check({ name: 'search' })).toBe(true);
    // zod decides: out of the schema's order, an unknown key (stripped), a missing or wrong field
    expect(check({ args: {}, name: 'search' })).toBe(false);
    expect(check({ name: 'search', extra: 1 })).toBe(false);
    expect(check({ args: {} })).toBe(false);
    expect(check({ name: 1 })).toBe(false);
    expect(check({ name: 'x', headers: { a: 1 } })).toBe(false);
    expect(check(JSON.parse('{"name":"x","args":{"__proto__":{"polluted":1}}}'))).toBe(false);
    expect(check(Object.assign(Object.create({ inherited: 1 }), { name: 'x' }))).toBe(false);
    expect(check(null)).toBe(false);
    expect(check(new Uint8Array(2))).toBe(false);
    expect(check({ name: 'x', args: undefined })).toBe(false);
  });

  it('has no check for schemas with checks, transforms, defaults, unions or a catch-all', () => {
    const none = [
      z.string().min(1),
      z.number().int(),
      z.string().transform((s) => s.length),
      z.string().default('x'),
      z.union([z.string(), z.number()]),
      z.object({ a: z.string() }).refine(() => true),
      z.object({ a: z.string() }).strict(),
      z.looseObject({ a: z.string() }),
      z.object({ a: z.string().email() }),
      z.record(z.string().min(1), z.string()),
      z.array(z.string()).min(1),
      z.date(),
      z.coerce.string(),
    ];
    for (const s of none) expect(provenCheck(s)).toBeUndefined();
  });

  it('agrees with zod on hand-made schemas of every supported kind', () => {
    const schemas = [
      z.object({ a: z.string(), b: z.number().nullish(), c: z.array(z.boolean()).optional() }),
      z.object({ kind: z.literal('x'), mode: z.enum(['a', 'b']), any: z.unknown(), n: z.null() }),
      z.record(z.string(), z.array(z.record(z.string(), z.number()))),
      z.array(z.object({ id: z.string() })),
    ];
    for (const schema of schemas) {
      expect(provenCheck(schema)).toBeDefined();
      fc.assert(
        fc.property(fc.oneof(near(schema), fc.anything()), (v) => agrees(schema, v)),
        { numRuns: 500 },
      );
    }
  });

  it('refuses non-finite numbers and holes (zod refuses them too, with its message)', () => {
    const check = provenCheck(z.array(z.number()))!;
    expect(check([1, 2.5])).toBe(true);
    expect(check([Number.NaN])).toBe(false);
    expect(check([Number.POSITIVE_INFINITY])).toBe(false);
    // biome-ignore lint/suspicious/noSparseArray: a hole on purpose
    expect(check([1, , 2])).toBe(false);
  });
});
