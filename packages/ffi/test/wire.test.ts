import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeBody,
  FrameReader,
  frame,
  jsonSizeBound,
  packValue,
  peekId,
  unpackValue,
} from '../src/wire.js';

describe('FrameReader', () => {
  it('reassembles frames from any chunking', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 20 }),
        (bodies, cuts) => {
          const stream = Buffer.concat(bodies.map((b) => frame(b)));
          const reader = new FrameReader(1024);
          const got: Uint8Array[] = [];
          let off = 0;
          let i = 0;
          while (off < stream.length) {
            const n = cuts[i++ % cuts.length]!;
            for (const ev of reader.push(stream.subarray(off, off + n)))
              if (ev.kind === 'frame') got.push(Buffer.from(ev.body));
            off += n;
          }
          expect(got.map((b) => Buffer.from(b).toString('hex'))).toEqual(
            bodies.map((b) => Buffer.from(b).toString('hex')),
          );
          expect(reader.pending).toBe(0);
        },
      ),
    );
  });

  it('reports an oversize frame once, skips its body and stays in sync', () => {
    const reader = new FrameReader(10);
    const big = frame(new Uint8Array(50));
    const small = frame(new Uint8Array([1, 2, 3]));
    const events = [
      ...reader.push(big.subarray(0, 20)),
      ...reader.push(Buffer.concat([big.subarray(20), small])),
    ];
    expect(events.map((e) => e.kind)).toEqual(['oversize', 'frame']);
    expect(events[1]).toMatchObject({ kind: 'frame' });
  });
});

describe('values', () => {
  it('MessagePack round trip leaves undefined fields out', () => {
    expect(unpackValue(packValue({ a: 1, b: undefined, c: [1, 'x'] }))).toEqual({ a: 1, c: [1, 'x'] });
  });
  it('refuses a __proto__ map key in either encoding, at any depth', () => {
    const json = (t: string) => decodeBody(Buffer.from(t), 'json');
    expect(() => json('{"id":1,"payload":{"a":[{"__proto__":{"x":1}}]}}')).toThrow(/__proto__/);
    expect(() => json('{"id":1,"p":{"\\u005f_proto__":1}}')).toThrow(/__proto__/);
    expect(json('{"id":1,"p":{"proto":1}}')).toEqual({ id: 1, p: { proto: 1 } });
    // MessagePack: {"id":1,"__proto__":1}
    const mp = new Uint8Array([0x82, 0xa2, 0x69, 0x64, 0x01, 0xa9, ...Buffer.from('__proto__'), 0x01]);
    expect(() => decodeBody(mp, 'msgpack')).toThrow(/__proto__/);
  });
  it('peekId reads a leading id from a body that does not decode', () => {
    const id = (v: number) => packValue({ id: v, op: 'x' });
    for (const v of [0, 7, 200, 60_000, 4_000_000_000, 2 ** 40]) expect(peekId(id(v), 'msgpack')).toBe(v);
    expect(peekId(packValue({ op: 'x', id: 5 }), 'msgpack')).toBe(0);
    expect(peekId(new Uint8Array([0x82, 0xa2, 0x69]), 'msgpack')).toBe(0);
    expect(peekId(new Uint8Array([]), 'msgpack')).toBe(0);
    expect(peekId(Buffer.from('{"id": 42, "op": '), 'json')).toBe(42);
    expect(peekId(Buffer.from('{"op":"x","id":42}'), 'json')).toBe(0);
  });
  it('jsonSizeBound bounds the JSON size of what the bytes decode to', () => {
    const cases: unknown[] = [
      new Uint8Array(300).fill(255),
      Array.from({ length: 200 }, () => false),
      Array.from({ length: 200 }, () => -32),
      { '': null, a: [null, null], b: '\u0001\u0002' },
      'x'.repeat(1000),
      [1.5e300, -2.2250738585072014e-308],
    ];
    for (const v of cases) {
      const bytes = packValue(v).length;
      expect(Buffer.byteLength(JSON.stringify(unpackValue(packValue(v))))).toBeLessThanOrEqual(
        jsonSizeBound(bytes, 'msgpack'),
      );
    }
    const text = '[1e20,1e20,-1e20,1e20]';
    expect(Buffer.byteLength(JSON.stringify(JSON.parse(text)))).toBeLessThanOrEqual(
      jsonSizeBound(text.length, 'json'),
    );
  });
});
