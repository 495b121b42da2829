/**
 * Values a Python plugin can return that JSON/JavaScript cannot carry exactly — NaN/Infinity
 * (orjson and pydantic's JSON mode write them as null), ints beyond 2^53 (JavaScript would round
 * them), bytes that are not UTF-8 (were replaced by U+FFFD), lone surrogates — are refused in the
 * worker with a coded plugin error naming the value's path, for the modified payload and for
 * metadata alike. Never silently changed; the worker keeps serving. Valid bytes and safe ints pass.
 */
import type { PluginManager } from '@cpex/core';
import type { PythonHost } from '@cpex/host-python';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, gc, managerWith, realCpexPython, shimPython } from './helpers.js';

const REFUSED: Array<[string, RegExp]> = [
  ['nan', /deep\[0\]\.v: nan is not JSON/],
  ['inf', /deep\[0\]\.v: -inf is not JSON/],
  ['int53', /deep\[0\]\.v: the integer 9007199254740993 is beyond/],
  ['int64', /deep\[0\]\.v: the integer -9223372036854775808 is beyond/],
  ['int70', /deep\[0\]\.v: the integer 1180591620717411303424 is beyond/],
  ['bytes_bad', /(deep\[0\]\.v: bytes that are not UTF-8|can't decode byte 0xff)/],
  ['surrogate', /deep\[0\]\.v: the string has a lone surrogate/],
  ['surrogate_key', /(a key has a lone surrogate|surrogates not allowed)/],
];

for (const [label, py] of [
  ['bundled package', shimPython()],
  ['cpex 0.1.4', realCpexPython()],
] as const) {
  describe.skipIf(!py)(`Python values JavaScript cannot represent (${label})`, () => {
    let manager: PluginManager;
    let host: PythonHost;
    beforeAll(async () => {
      ({ manager, host } = await managerWith(
        'plugins:\n  - {name: chaos, kind: hp_plugins.chaos.Chaos, hooks: [tool_pre_invoke], on_error: ignore}\n',
        { python: py!, pythonPath: [FIXTURES] },
      ));
    });
    afterAll(async () => {
      await manager?.shutdown();
    });
    const call = (kind: string, where: 'payload' | 'metadata') =>
      manager.invoke(
        'tool_pre_invoke',
        { name: 'x', args: { action: 'unrepresentable', kind, where } },
        { globalContext: gc() },
      );

    it('each is a coded plugin error naming where the value is; the same worker keeps serving', async () => {
      const pids = [...host.plugins][0]!.pids.slice();
      for (const [kind, pattern] of REFUSED) {
        for (const where of ['payload', 'metadata'] as const) {
          const r = await call(kind, where);
          const at = `${kind} in ${where}`;
          expect(r.modifiedPayload ?? undefined, at).toBeUndefined();
          expect(r.metadata, at).toEqual({});
          expect(r.errors.length, at).toBe(1);
          expect(r.errors[0]!.pluginName, at).toBe('chaos');
          expect(r.errors[0]!.message, at).toMatch(pattern);
          if (!/can't decode|surrogates not allowed/.test(r.errors[0]!.message)) {
            expect(r.errors[0]!.message, at).toContain(
              where === 'payload' ? 'result.modified_payload.args.deep[0].v' : 'result.metadata.deep',
            );
          }
        }
      }
      expect([...host.plugins][0]!.pids).toEqual(pids);
    });

    it('dict keys that JSON turns into the same text are refused with the path, never one value dropped', async () => {
      for (const [kind, pattern] of [
        ['key_collision', /result\.metadata\.deep\[0\]\.v: the keys 1 and '1' both become "1" in JSON/],
        [
          'none_key_collision',
          /result\.metadata\.deep\[0\]\.v: the keys None and 'null' both become "null" in JSON/,
        ],
      ] as const) {
        const r = await call(kind, 'metadata');
        expect(r.metadata, kind).toEqual({});
        expect(r.errors[0]?.pluginName, kind).toBe('chaos');
        expect(r.errors[0]?.message, kind).toMatch(pattern);
      }
      // keys that do not collide are converted as Python's json module does
      expect((await call('int_keys', 'metadata')).metadata).toEqual({ deep: [{ v: { 1: 'a', 2: 'b' } }] });
    });

    it('valid bytes and the largest safe integer arrive exactly', async () => {
      expect((await call('bytes_ok', 'payload')).modifiedPayload).toMatchObject({
        args: { deep: [{ v: 'abc' }] },
      });
      expect((await call('safe', 'metadata')).metadata).toEqual({ deep: [{ v: 2 ** 53 - 1 }] });
    });
  });
}
