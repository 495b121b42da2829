/**
 * Values a guest can send that JavaScript cannot carry exactly: JSON.parse rounds an integer
 * literal beyond ±(2^53−1) silently (serde_json writes u64s exactly), and Number() rounds a WIT
 * u64/s64 BigInt. Every JSON a guest sends goes through one parser (schema.ts `guestJson`), which
 * refuses such an integer with its path; the host reports it as the plugin's invalid result. Pure
 * mapping test (no component needed).
 */
import type { PluginContext } from '@cpex/core';
import { describe, expect, it } from 'vitest';
import {
  applyContext,
  contextFromWit,
  contextToWit,
  extensionsToWit,
  payloadToWit,
  resultFromWit,
  routeFor,
} from '../src/mapping.js';
import { guestJson, MappingError } from '../src/schema.js';

const refuses = (fn: () => unknown, pattern: RegExp) => {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(MappingError);
  expect((err as Error).message).toMatch(pattern);
};

describe('host-wasm: integers beyond ±(2^53−1) from a guest are refused, never rounded', () => {
  it('in any JSON a guest writes, with the path', () => {
    refuses(
      () => guestJson('{"a": [1, {"b": 9007199254740993}]}', 'metadata'),
      /^metadata\.a\[1\]\.b: an integer beyond/,
    );
    refuses(() => guestJson('-18446744073709551615', 'x'), /^x: an integer beyond/);
    expect(guestJson('{"a": 9007199254740991, "s": "12345678901234567890", "f": 1.5e300}', 'm')).toEqual({
      a: 9007199254740991,
      s: '12345678901234567890',
      f: 1.5e300,
    });
  });

  it("in a result's metadata", () => {
    const ctx = {
      state: {},
      metadata: {},
      globalContext: { requestId: 'r', state: {}, metadata: {} },
    } as unknown as PluginContext;
    refuses(
      () =>
        resultFromWit(
          { continueProcessing: true, metadata: '{"n": 12345678901234567890}' },
          {} as never,
          {},
          ctx,
        ),
      /^metadata\.n: an integer beyond/,
    );
  });
});

describe("host-wasm context entries: the guest's own local state keeps 64-bit integers exactly; shared global state refuses them", () => {
  const ctxOf = (state: Record<string, unknown>, global: Record<string, unknown> = {}) =>
    ({
      state,
      metadata: {},
      globalContext: { requestId: 'r', state: global, metadata: {} },
    }) as unknown as PluginContext;

  it('local state: a u64 (PR #65 compute-bench keeps its FNV hash there) comes back as an exact BigInt', () => {
    const c = contextFromWit({
      localState: [
        { key: 'hash', value: '14695981039346656037' },
        {
          key: 'deep',
          value: '{"a":[1,-9223372036854775808,{"b":18446744073709551615}],"s":"99999999999999999999"}',
        },
        { key: 'small', value: '9007199254740991' },
      ],
      globalState: [],
    });
    expect(c.local.hash).toBe(14695981039346656037n);
    expect(c.local.deep).toEqual({
      a: [1, -9223372036854775808n, { b: 18446744073709551615n }],
      s: '99999999999999999999',
    });
    expect(c.local.small).toBe(9007199254740991);
  });

  it('local state: the exact value goes back to the guest as the same literal on its next call', () => {
    const c = contextFromWit({
      localState: [{ key: 'hash', value: '{"h":14695981039346656037,"l":[-9223372036854775807]}' }],
      globalState: [],
    });
    const ctx = ctxOf({});
    applyContext(ctx, c);
    const wit = contextToWit(ctx, '{}', '"p"') as { localState: Array<{ key: string; value: string }> };
    expect(wit.localState).toEqual([
      { key: 'hash', value: '{"h":14695981039346656037,"l":[-9223372036854775807]}' },
    ]);
  });

  it('local state: beyond 64 bits no wire can carry it: refused with the path', () => {
    refuses(
      () =>
        contextFromWit({
          localState: [{ key: 'n', value: '{"x":[18446744073709551616]}' }],
          globalState: [],
        }),
      /^modified-context\.local-state\[0\] \(n\)\.x\[0\]: the integer 18446744073709551616 is beyond the 64-bit range/,
    );
  });

  it('local state: a guest string shaped like the internal tag stays a string', () => {
    const c = contextFromWit({
      localState: [{ key: 's', value: '["\\u0000cpex-int-x:1", 12345678901234567890]' }],
      globalState: [],
    });
    expect(c.local.s).toEqual(['\u0000cpex-int-x:1', 12345678901234567890n]);
  });

  it("local state: a guest's __proto__ key stays data", () => {
    const c = contextFromWit({
      localState: [{ key: 'o', value: '{"__proto__":{"polluted":12345678901234567890}}' }],
      globalState: [],
    });
    const o = c.local.o as Record<string, unknown>;
    expect(Object.getPrototypeOf(o)).toBe(Object.prototype);
    expect(Object.hasOwn(o, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('global state (shared with every plugin and the caller): refused with the path, never rounded', () => {
    refuses(
      () => contextFromWit({ localState: [], globalState: [{ key: 'g', value: '{"n":9007199254740993}' }] }),
      /^modified-context\.global-state\[0\] \(g\)\.n: an integer beyond/,
    );
  });
});

describe('host-wasm: NaN and ±Infinity never reach a guest as null (JSON has neither)', () => {
  const ctx = (state: Record<string, unknown>, global: Record<string, unknown>) =>
    ({
      state,
      metadata: {},
      globalContext: { requestId: 'r', state: global, metadata: {} },
    }) as unknown as PluginContext;

  it('in a payload, on every route that sends JSON, with the path', () => {
    refuses(
      () =>
        payloadToWit(
          routeFor('tool_pre_invoke', undefined),
          { name: 't', args: { a: [Number.NaN] } },
          undefined,
        ),
      /^payload\.args\.a\[0\]: NaN cannot cross to another language as JSON/,
    );
    refuses(
      () =>
        payloadToWit(
          routeFor('prompt_pre_fetch', undefined),
          { name: 'p', args: { x: Number.POSITIVE_INFINITY } },
          undefined,
        ),
      /^payload\.args\.x: Infinity cannot cross/,
    );
    // a genuine null passes
    expect(() =>
      payloadToWit(routeFor('tool_pre_invoke', undefined), { name: 't', args: { a: null } }, undefined),
    ).not.toThrow();
  });

  it('in context entries and custom extensions', () => {
    refuses(
      () => contextToWit(ctx({}, { g: { v: Number.NaN } }), '{}', '"p"'),
      /^context\.global_state\.g\.v: NaN/,
    );
    refuses(() => contextToWit(ctx({ s: -Infinity }, {}), '{}', '"p"'), /^context\.state\.s: -Infinity/);
    refuses(
      () => extensionsToWit({ custom: { score: Number.NaN } } as never),
      /^extensions\.custom\.score: NaN/,
    );
  });
});
