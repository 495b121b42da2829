import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CpexError } from '../errors/cpex-error.js';
import { checkPayloadBounds, parsePayloadJson, serializePayloadJson } from './bounds.js';

const nested = (depth: number): unknown => {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
  return v;
};

const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(CpexError);
    return (e as CpexError).code;
  }
};

describe('checkPayloadBounds', () => {
  it('measures depth: scalar 0, {} 1, nested n', () => {
    expect(checkPayloadBounds('x', { maxDepth: 1 }, 't').depth).toBe(0);
    expect(checkPayloadBounds({}, { maxDepth: 1 }, 't').depth).toBe(1);
    expect(checkPayloadBounds(nested(50), { maxDepth: 50 }, 't').depth).toBe(50);
    expect(codeOf(() => checkPayloadBounds(nested(51), { maxDepth: 50 }, 't'))).toBe(
      'CPEX_ERR_PAYLOAD_TOO_DEEP',
    );
  });

  it('a 100,000-deep payload is a coded error, not a stack overflow (object, array, parsed text)', () => {
    expect(codeOf(() => checkPayloadBounds(nested(100_000), { maxDepth: 128 }, 'test'))).toBe(
      'CPEX_ERR_PAYLOAD_TOO_DEEP',
    );
    const text = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(codeOf(() => parsePayloadJson(text, { maxDepth: 1000 }, 'test'))).toBe(
      'CPEX_ERR_PAYLOAD_TOO_DEEP',
    );
    expect(codeOf(() => serializePayloadJson(nested(100_000), { maxDepth: 1000 }, 'test'))).toBe(
      'CPEX_ERR_PAYLOAD_TOO_DEEP',
    );
  });

  it('the message names where and the limit', () => {
    try {
      checkPayloadBounds(nested(10), { maxDepth: 3 }, 'cpex invoke --payload');
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toBe(
        'cpex invoke --payload: payload nests deeper than max_payload_depth 3',
      );
      expect((e as CpexError).details).toEqual({ where: 'cpex invoke --payload', maxDepth: 3 });
    }
  });

  it('bytes equal the UTF-8 length of JSON.stringify for arbitrary JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const r = checkPayloadBounds(v, { maxDepth: 1000, maxBytes: Number.MAX_SAFE_INTEGER }, 't');
        expect(r.bytes).toBe(Buffer.byteLength(JSON.stringify(v) ?? 'null'));
      }),
      { numRuns: 300 },
    );
  });

  it('bytes follow JSON for undefined, functions, Dates, NaN and sparse arrays', () => {
    const v = {
      a: undefined,
      f: () => 1,
      d: new Date(0),
      n: Number.NaN,
      s: Object.assign(new Array(3), { 0: 1, 2: 3 }),
      u: [undefined],
      e: 'é"\n',
    };
    const r = checkPayloadBounds(v, { maxDepth: 10, maxBytes: 1e9 }, 't');
    expect(r.bytes).toBe(Buffer.byteLength(JSON.stringify(v)));
  });

  it('over max_payload_bytes is CPEX_ERR_PAYLOAD_TOO_LARGE, stopping early', () => {
    expect(codeOf(() => checkPayloadBounds({ s: 'x'.repeat(100) }, { maxDepth: 5, maxBytes: 50 }, 't'))).toBe(
      'CPEX_ERR_PAYLOAD_TOO_LARGE',
    );
    expect(
      codeOf(() => serializePayloadJson({ s: 'é'.repeat(30) }, { maxDepth: 5, maxBytes: 50 }, 't')),
    ).toBe('CPEX_ERR_PAYLOAD_TOO_LARGE');
    expect(
      codeOf(() => parsePayloadJson(JSON.stringify('x'.repeat(100)), { maxDepth: 5, maxBytes: 50 }, 't')),
    ).toBe('CPEX_ERR_PAYLOAD_TOO_LARGE');
  });

  it('a DAG of shared references is measured per distinct object (no exponential walk)', () => {
    let v: unknown = ['leaf'];
    for (let i = 0; i < 60; i++) v = [v, v];
    expect(checkPayloadBounds(v, { maxDepth: 100 }, 't').depth).toBe(61);
    expect(codeOf(() => checkPayloadBounds(v, { maxDepth: 100, maxBytes: 10_000_000 }, 't'))).toBe(
      'CPEX_ERR_PAYLOAD_TOO_LARGE',
    );
    expect(codeOf(() => checkPayloadBounds({ deep: v }, { maxDepth: 61 }, 't'))).toBe(
      'CPEX_ERR_PAYLOAD_TOO_DEEP',
    );
  });

  it('cycles and uninspectable values are CPEX_ERR_INVALID_PAYLOAD', () => {
    const cyc: Record<string, unknown> = { a: 1 };
    cyc.self = { back: cyc };
    expect(codeOf(() => checkPayloadBounds(cyc, { maxDepth: 100 }, 't'))).toBe('CPEX_ERR_INVALID_PAYLOAD');
    const hostile = new Proxy(
      {},
      {
        ownKeys() {
          throw new Proxy(
            {},
            {
              get: () => {
                throw new Error('trap');
              },
              getPrototypeOf: () => {
                throw 1;
              },
            },
          );
        },
      },
    );
    expect(codeOf(() => checkPayloadBounds({ x: hostile }, { maxDepth: 100 }, 't'))).toBe(
      'CPEX_ERR_INVALID_PAYLOAD',
    );
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expect(codeOf(() => checkPayloadBounds([proxy], { maxDepth: 100 }, 't'))).toBe(
      'CPEX_ERR_INVALID_PAYLOAD',
    );
    const getter = Object.defineProperty({}, 'g', {
      enumerable: true,
      get: () => {
        throw new Error('no');
      },
    });
    expect(codeOf(() => serializePayloadJson(getter, { maxDepth: 100 }, 't'))).toBe(
      'CPEX_ERR_INVALID_PAYLOAD',
    );
    expect(codeOf(() => serializePayloadJson({ b: 1n }, { maxDepth: 100 }, 't'))).toBe(
      'CPEX_ERR_INVALID_PAYLOAD',
    );
  });

  it('parsePayloadJson gives a coded error for bad JSON and returns the value otherwise', () => {
    expect(codeOf(() => parsePayloadJson('{"a":', { maxDepth: 10 }, 't'))).toBe('CPEX_ERR_INVALID_PAYLOAD');
    expect(parsePayloadJson('{"a":[1,2]}', { maxDepth: 2 }, 't')).toEqual({ a: [1, 2] });
  });
});
