// The MessagePack fast path against @msgpack/msgpack, the reference: the same values from the same
// bytes, the same bytes from the same values, and a hand-off (never a different answer) for
// everything it does not cover.
import { Decoder, Encoder } from '@msgpack/msgpack';
import { checkPayloadBounds } from '@cpex/core/host';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fastDecode, fastEncodeFrame, lastFastDepth, NOT_FAST } from '../src/msgpack.js';

const reference = new Encoder({ ignoreUndefined: true, maxDepth: 1024 });
const decoder = new Decoder();

/** Any UTF-16 code unit, lone surrogates included. */
const anyString = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) });
const longAscii = fc.string({ unit: 'grapheme-ascii', minLength: 17, maxLength: 400 });

const scalar = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.maxSafeInteger(),
  fc.integer({ min: -40, max: 300 }),
  fc.double(),
  fc.string(),
  fc.string({ unit: 'binary' }),
  longAscii,
  anyString,
  fc.uint8Array({ maxLength: 300 }),
);

/** JSON-shaped values plus bin, with undefined where ignoreUndefined matters. */
const value = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(fc.oneof(tie('v'), fc.constant(undefined)), { maxLength: 20 }),
    fc.dictionary(fc.oneof(fc.string(), anyString, longAscii), fc.oneof(tie('v'), fc.constant(undefined)), {
      maxKeys: 20,
    }),
  ),
})).v;

/** Encodes with random (often non-minimal) header widths, as other clients may (Go writes 0xcf ids). */
function looseEncode(v: unknown, pick: () => number): Buffer {
  const parts: Buffer[] = [];
  const head = (tag: number, n: number, bytes: 1 | 2 | 4) => {
    const b = Buffer.alloc(1 + bytes);
    b[0] = tag;
    if (bytes === 1) b.writeUInt8(n, 1);
    else if (bytes === 2) b.writeUInt16BE(n, 1);
    else b.writeUInt32BE(n, 1);
    parts.push(b);
  };
  const walk = (x: unknown): void => {
    if (typeof x === 'number' && Number.isSafeInteger(x) && pick() % 2 === 0) {
      const b = Buffer.alloc(9);
      b[0] = x < 0 ? 0xd3 : 0xcf;
      b.writeBigInt64BE(BigInt(x), 1);
      parts.push(b);
      return;
    }
    if (typeof x === 'string') {
      const s = Buffer.from(x, 'utf8');
      const w = pick() % 3;
      if (w === 0 && s.length < 256) head(0xd9, s.length, 1);
      else if (w === 1 && s.length < 65536) head(0xda, s.length, 2);
      else head(0xdb, s.length, 4);
      parts.push(s);
      return;
    }
    if (Array.isArray(x)) {
      if (pick() % 2 === 0) head(0xdc, x.length, 2);
      else head(0xdd, x.length, 4);
      for (const e of x) walk(e);
      return;
    }
    if (x !== null && typeof x === 'object' && !(x instanceof Uint8Array)) {
      const entries = Object.entries(x).filter(([, e]) => e !== undefined);
      if (pick() % 2 === 0) head(0xde, entries.length, 2);
      else head(0xdf, entries.length, 4);
      for (const [k, e] of entries) {
        walk(k);
        walk(e);
      }
      return;
    }
    parts.push(Buffer.from(reference.encode(x)));
  };
  walk(v);
  return Buffer.concat(parts);
}

const hasProtoKey = (v: unknown) => JSON.stringify(v).includes('"__proto__":');

/** The fast result is the reference's value, or a hand-off (always so when the reference throws). */
function agreesWithReference(bytes: Uint8Array): (fast: unknown) => boolean {
  return (fast) => {
    let ref: unknown;
    try {
      ref = decoder.decode(bytes);
    } catch {
      return fast === NOT_FAST;
    }
    if (fast === NOT_FAST) return true;
    expect(fast).toEqual(ref);
    return true;
  };
}

describe('fastDecode', () => {
  it('gives exactly what @msgpack/msgpack gives, for its own and for loose encodings', () => {
    fc.assert(
      fc.property(value, fc.infiniteStream(fc.nat()), (v, widths) => {
        const it = widths[Symbol.iterator]();
        const pick = () => it.next().value as number;
        for (const bytes of [Buffer.from(reference.encode(v)), looseEncode(v, pick)])
          expect(fastDecode(bytes)).toSatisfy(agreesWithReference(bytes));
      }),
      { numRuns: 500 },
    );
  });

  it('covers JSON-shaped data: it does not hand off what it should decode', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (v) => {
        fc.pre(!hasProtoKey(v)); // refused by both (tested above)
        const bytes = Buffer.from(reference.encode(v));
        const fast = fastDecode(bytes);
        expect(fast).not.toBe(NOT_FAST);
        expect(fast).toEqual(decoder.decode(bytes));
      }),
    );
  });

  it('measures the depth as checkPayloadBounds does', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), (v) => {
        fc.pre(!hasProtoKey(v));
        fastDecode(Buffer.from(reference.encode(v)));
        expect(lastFastDepth()).toBe(checkPayloadBounds(v, { maxDepth: 1000 }, 'test').depth);
      }),
    );
  });

  it('never answers differently from the reference on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(fastDecode(bytes)).toSatisfy(agreesWithReference(bytes));
      }),
      { numRuns: 5000 },
    );
  });

  it('hands off what only the reference decides', () => {
    const handedOff = (bytes: number[] | Buffer) => {
      const fast = fastDecode(Uint8Array.from(bytes));
      expect(fast).toBe(NOT_FAST);
      expect(lastFastDepth()).toBe(-1);
    };
    handedOff([0xd6, 0xff, 0, 0, 0, 1]); // timestamp extension
    handedOff([0xd4, 0x05, 0x00]); // other extension
    handedOff([0xc1]); // never used
    handedOff([0xcf, 0x00, 0x20, 0, 0, 0, 0, 0, 0]); // 2^53: rounding is the reference's
    handedOff([0xd3, 0xff, 0xdf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    handedOff([0xa2, 0xc3, 0x28]); // invalid UTF-8
    handedOff([0x81, 0x01, 0xc0]); // a number key
    handedOff([0x81, 0xa9, ...Buffer.from('__proto__'), 0x01]); // the reference refuses it, with its message
    handedOff([0x92, 0x01]); // truncated
    handedOff([0x01, 0x02]); // trailing bytes
    handedOff([0xdd, 0xff, 0xff, 0xff, 0xff]); // a length the input cannot hold
    // deeper than the fast path follows: the reference decodes it iteratively
    const deep = Buffer.concat([Buffer.alloc(300, 0x91), Buffer.from([0xc0])]);
    handedOff(deep);
    expect(() => decoder.decode(deep)).not.toThrow();
  });

  it('caches short strings by their bytes: thousands of distinct keys, then the same again', () => {
    const keys = Array.from({ length: 5000 }, (_, i) =>
      `k${i.toString(36)}${'é'.repeat(i % 3)}`.slice(0, 24),
    );
    for (let round = 0; round < 2; round++)
      for (let i = 0; i < keys.length; i += 50) {
        const v = Object.fromEntries(
          keys.slice(i, i + 50).map((k, j) => [k, keys[(i + j * 7) % keys.length]]),
        );
        const bytes = Buffer.from(reference.encode(v));
        expect(fastDecode(bytes)).toEqual(decoder.decode(bytes));
      }
  });

  it('decodes a top-level map into the object `top` makes (nested maps stay plain)', () => {
    class Fields {
      id: unknown = undefined;
      op: unknown = undefined;
    }
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 })), (v) => {
        fc.pre(!hasProtoKey(v));
        const bytes = Buffer.from(reference.encode(v));
        const fast = fastDecode(bytes, () => new Fields() as unknown as Record<string, unknown>) as Record<
          string,
          unknown
        >;
        expect(fast).toBeInstanceOf(Fields);
        const ref = decoder.decode(bytes) as Record<string, unknown>;
        for (const [k, x] of Object.entries(ref)) expect(fast[k]).toEqual(x);
        for (const k of Object.keys(fast)) if (!(k in ref)) expect(fast[k]).toBeUndefined();
        for (const x of Object.values(fast))
          if (x !== null && typeof x === 'object' && !Array.isArray(x))
            expect(Object.getPrototypeOf(x)).toBe(Object.prototype);
      }),
    );
    // not a map at the top: `top` is not used
    expect(fastDecode(Buffer.from(reference.encode([1])), () => ({ made: true }))).toEqual([1]);
  });

  it('returns bin as a view of the input, as the reference does', () => {
    const bytes = Buffer.from([0xc4, 0x02, 0x07, 0x08]);
    const fast = fastDecode(bytes) as Uint8Array;
    expect(fast.buffer).toBe(bytes.buffer);
    expect(fast.constructor).toBe((decoder.decode(bytes) as Uint8Array).constructor);
    const plain = Uint8Array.from(bytes);
    expect((fastDecode(plain) as Uint8Array).constructor).toBe(Uint8Array);
  });
});

describe('fastEncodeFrame', () => {
  it('writes the bytes @msgpack/msgpack writes, after the frame header', () => {
    fc.assert(
      fc.property(value, (v) => {
        const framed = fastEncodeFrame(v, 4);
        if (framed === undefined) return; // handed off (lone surrogates, deep values)
        expect(framed.readUInt32BE(0)).toBe(framed.length - 4);
        expect(framed.subarray(4).toString('hex')).toBe(Buffer.from(reference.encode(v)).toString('hex'));
        const bare = fastEncodeFrame(v, 0)!;
        expect(bare.toString('hex')).toBe(framed.subarray(4).toString('hex'));
      }),
      { numRuns: 500 },
    );
  });

  it('covers JSON-shaped data, -0, NaN and the integer edges', () => {
    const edges = [0, -0, Number.NaN, Number.POSITIVE_INFINITY, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000];
    edges.push(0xffff_ffff, 0x1_0000_0000, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 2 ** 60);
    edges.push(-0x20, -0x21, -0x80, -0x81, -0x8000, -0x8001, -0x8000_0000, -0x8000_0001, 1.5);
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue({ maxDepth: 6 }), fc.constantFrom(...edges)), (v) => {
        const bare = fastEncodeFrame(v, 0);
        expect(bare).toBeDefined();
        expect(bare!.toString('hex')).toBe(Buffer.from(reference.encode(v)).toString('hex'));
      }),
    );
  });

  it('hands off what only the reference encodes', () => {
    class Point {
      x = 1;
    }
    const deep: unknown[] = [];
    let cur = deep;
    for (let i = 0; i < 300; i++) {
      const next: unknown[] = [];
      cur.push(next);
      cur = next;
    }
    for (const v of [
      new Date(0),
      new Map(),
      new Point(),
      1n,
      () => 1,
      Symbol('s'),
      new Int16Array(2),
      'a\ud800b'.repeat(20),
      { a: [new Date(0)] },
      deep,
    ])
      expect(fastEncodeFrame(v, 4)).toBeUndefined();
  });

  it('does not keep a grown buffer and starts clean after a hand-off', () => {
    const big = { s: 'x'.repeat(3 * 1024 * 1024) };
    expect(fastEncodeFrame(big, 4)!.length).toBe(reference.encode(big).length + 4);
    expect(fastEncodeFrame({ a: 1n }, 4)).toBeUndefined();
    expect(fastEncodeFrame({ a: 1 }, 4)!.toString('hex')).toBe('0000000481a16101');
  });
});
