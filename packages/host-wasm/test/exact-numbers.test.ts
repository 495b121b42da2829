/**
 * Values a guest can send that JavaScript cannot carry exactly: JSON.parse rounds an integer
 * literal beyond ±(2^53−1) silently (serde_json writes u64s exactly), and Number() rounds a WIT
 * u64/s64 BigInt. Every JSON a guest sends goes through one parser (schema.ts `guestJson`), which
 * refuses such an integer with its path; the host reports it as the plugin's invalid result. Pure
 * mapping test (no component needed).
 */
import type { PluginContext } from '@cpex/core';
import { describe, expect, it } from 'vitest';
import { contextFromWit, resultFromWit } from '../src/mapping.js';
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

  it("in a result's metadata; context entries are the documented exception (PR #65 keeps a u64 hash there)", () => {
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
    const c = contextFromWit({ localState: [{ key: 'n', value: '9007199254740993' }], globalState: [] });
    expect(c.local.n).toBe(9007199254740992); // rounded: the known gap
  });
});
