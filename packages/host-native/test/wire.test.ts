/**
 * Issue 11 at the native MessagePack wire (the `__proto__` class and items 5/13): what a library
 * returns is decoded without changing any prototype, and a result deeper than
 * `max_payload_depth` is a coded error, never a stack overflow. Decoding only: no library needed.
 */
import type { PluginContext } from '@cpex/core';
import { encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { encodeRequest } from '../src/in-process.js';
import { decodeResult, makeDecoder, makeEncoder, resultFromWire } from '../src/wire.js';

const where = { plugin: 'lib', hook: 'tool_pre_invoke' };
const context = (): PluginContext =>
  ({
    state: {},
    metadata: {},
    globalContext: { requestId: 'r', state: { role: 'user' }, metadata: {} },
  }) as unknown as PluginContext;

/** A MessagePack map whose first key is the string `__proto__` (encoders drop it from objects). */
function protoMap(value: unknown, rest: Record<string, unknown> = {}): Uint8Array {
  const key = Buffer.concat([Buffer.from([0xa9]), Buffer.from('__proto__')]);
  const tail = Buffer.from(encode(rest)).subarray(1); // the entries of `rest`, without its header
  const n = 1 + Object.keys(rest).length;
  return Buffer.concat([Buffer.from([0x80 | n]), key, Buffer.from(encode(value)), tail]);
}

describe('native wire: "__proto__" keys never re-parent anything', () => {
  it('a result map with a "__proto__" key is CPEX_ERR_INVALID_RESULT', () => {
    const bytes = protoMap({ continue_processing: false }, { continue_processing: true });
    expect(() => decodeResult(bytes, makeDecoder(1 << 20), 128, context(), where)).toThrow(
      expect.objectContaining({ code: 'CPEX_ERR_INVALID_RESULT' }),
    );
  });

  it('a decoded context with an own "__proto__" key is applied as data', () => {
    const ctx = context();
    const wire = JSON.parse('{"context":{"global_state":{"__proto__":{"isAdmin":true},"role":"user"}}}');
    resultFromWire(wire, 128, ctx, where);
    const state = ctx.globalContext.state as Record<string, unknown>;
    expect(Object.getPrototypeOf(state)).toBe(Object.prototype);
    expect(state.isAdmin).toBeUndefined();
    expect(Object.getOwnPropertyDescriptor(state, '__proto__')?.value).toEqual({ isAdmin: true });
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });
});

describe('native wire: depth', () => {
  it('a 100,000-deep modified payload is CPEX_ERR_PAYLOAD_TOO_DEEP, not a stack overflow', () => {
    // Hand-assembled: fixarray(1) headers around a 1, as a library could send.
    const bytes = Buffer.concat([
      Buffer.from([0x82]),
      Buffer.from(encode('continue_processing')),
      Buffer.from([0xc3]),
      Buffer.from(encode('modified_payload')),
      Buffer.alloc(100_000, 0x91),
      Buffer.from([0x01]),
    ]);
    let thrown: unknown;
    try {
      decodeResult(bytes, makeDecoder(1 << 20), 128, context(), where);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toMatchObject({ code: 'CPEX_ERR_PAYLOAD_TOO_DEEP' });
    expect(thrown).not.toBeInstanceOf(RangeError);
  });

  it('within the bound, the result decodes', () => {
    const bytes = encode({ continue_processing: true, modified_payload: { a: [[[1]]] } });
    const r = decodeResult(bytes, makeDecoder(1 << 20), 128, context(), where);
    expect(r).toEqual({ continueProcessing: true, modifiedPayload: { a: [[[1]]] } });
  });
});

describe('native wire: arrays with holes (issue 11: nothing hostile can hang the engine)', () => {
  it('a request holding a 2**32-1 long sparse array is CPEX_ERR_INVALID_PAYLOAD before the encoder walks it', () => {
    const rows: unknown[] = [];
    rows.length = 2 ** 32 - 1;
    rows[7] = 'x';
    let err: unknown;
    try {
      encodeRequest(
        'tool_pre_invoke',
        'lib',
        0,
        { name: 't', args: { rows } },
        context(),
        undefined,
        where,
        makeEncoder(128),
        128,
      );
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'CPEX_ERR_INVALID_PAYLOAD', path: 'payload.args.rows' });
    expect((err as Error).message).toContain('sparse array (length 4294967295, 1 element held)');
  });

  it('a short array with holes is encoded as MessagePack encodes it (holes are nil)', () => {
    const rows = Object.assign(new Array(3), { 0: 1, 2: 3 });
    const bytes = encodeRequest(
      'tool_pre_invoke',
      'lib',
      0,
      { rows },
      context(),
      undefined,
      where,
      makeEncoder(128),
      128,
    );
    expect(bytes.byteLength).toBeGreaterThan(0);
  });
});

describe('native wire: values a library can send that JavaScript cannot carry exactly', () => {
  const decode = (bytes: number[]) =>
    decodeResult(Uint8Array.from(bytes), makeDecoder(1 << 20), 128, context(), where);
  /** `{metadata: {v: <value bytes>}}` */
  const withValue = (value: number[]) => [
    0x81,
    ...Buffer.from('\xa8metadata', 'latin1'),
    0x81,
    0xa1,
    0x76,
    ...value,
  ];

  it.each([
    [
      'uint64 2^53+1',
      [0xcf, 0, 0x20, 0, 0, 0, 0, 0, 1],
      /result\.metadata\.v: the integer 9007199254740993 is beyond/,
    ],
    ['int64 min', [0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0], /the integer -9223372036854775808 is beyond/],
    [
      'an application extension type',
      [0xd4, 5, 0x41],
      /not valid MessagePack.*extension type 5 is not part of the cpex wire/,
    ],
    ['the timestamp extension', [0xd6, 0xff, 0, 0, 0, 1], /extension type -1 is not part of the cpex wire/],
    ['a str that is not UTF-8', [0xa2, 0xff, 0xfe], /not valid MessagePack.*is not valid UTF-8/],
    ['a CESU-encoded surrogate', [0xa3, 0xed, 0xa0, 0x80], /is not valid UTF-8/],
  ])(
    '%s is CPEX_ERR_INVALID_RESULT (never rounded, an ExtData/Date, or other text)',
    (_name, value, pattern) => {
      let err: unknown;
      try {
        decode(withValue(value));
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ code: 'CPEX_ERR_INVALID_RESULT' });
      expect((err as Error).message).toMatch(pattern);
    },
  );

  it('a non-UTF-8 map key is refused too', () => {
    expect(() => decode([0x81, 0xa2, 0xff, 0xfe, 0x01])).toThrowError(/is not valid UTF-8/);
  });

  it('int64/uint64 within ±(2^53−1) arrive as exact numbers; bin stays bytes', () => {
    // {metadata: {a: uint64 2^53-1, b: int64 -2, c: bin [1, 2], d: [uint64 7, "xyz"]}}
    const hex = [
      '81 a8 6d65746164617461 84',
      'a1 61 cf 001fffffffffffff',
      'a1 62 d3 fffffffffffffffe',
      'a1 63 c4 02 0102',
      'a1 64 92 cf 0000000000000007 a3 78797a',
    ].join('');
    const r = decode([...Buffer.from(hex.replace(/ /g, ''), 'hex')]);
    expect(r.metadata).toEqual({ a: 2 ** 53 - 1, b: -2, c: Uint8Array.from([1, 2]), d: [7, 'xyz'] });
    expect(typeof (r.metadata as { a: unknown }).a).toBe('number');
  });
});
