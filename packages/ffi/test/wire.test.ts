import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exceedsDepth, FrameReader, frame, packValue, unpackValue } from '../src/wire.js';

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
  it('exceedsDepth is iterative and exact', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(exceedsDepth(deep, 64)).toBe(true);
    expect(exceedsDepth({ a: { b: [1] } }, 3)).toBe(false);
    expect(exceedsDepth({ a: { b: [1] } }, 2)).toBe(true);
  });
});
