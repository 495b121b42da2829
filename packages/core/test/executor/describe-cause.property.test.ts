/**
 * describeCause turns anything a plugin throws or puts where a string belongs into text. It is
 * bounded (issue 11: nothing hostile can hang the engine): a thrown 10 MB object or an array of
 * length 2 ** 32 - 1 costs at most MAX_CAUSE_CHARS of work, and plain data still reads as its JSON.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeCause, MAX_CAUSE_CHARS } from '../../src/errors/cpex-error.js';
import { holeBomb } from './helpers.js';

describe('describeCause', () => {
  it('property: plain data reads exactly as JSON.stringify writes it (cut at MAX_CAUSE_CHARS)', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.jsonValue(), fc.array(fc.jsonValue()), fc.dictionary(fc.string(), fc.jsonValue())),
        (v) => {
          if (typeof v !== 'object' || v === null) return;
          const json = JSON.stringify(v);
          const got = describeCause(v);
          if (json.length <= MAX_CAUSE_CHARS) expect(got).toBe(json);
          else expect(got).toBe(`${json.slice(0, MAX_CAUSE_CHARS)}…`);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('follows JSON for undefined, functions, symbols, NaN, toJSON and holes; a cycle reads as [Circular]', () => {
    const v = {
      u: undefined,
      f: () => 1,
      s: Symbol('x'),
      n: Number.NaN,
      d: new Date(0),
      l: [undefined, () => 1],
    };
    expect(describeCause(v)).toBe(JSON.stringify(v));
    expect(describeCause(Object.assign(new Array(3), { 1: 'x' }))).toBe('[null,"x",null]');
    const c: Record<string, unknown> = { a: 1 };
    c.self = c;
    expect(describeCause(c)).toBe('{"a":1,"self":"[Circular]"}');
  });

  it('is bounded: an array of length 2**32-1, a 10 MB object and a 10 MB message', () => {
    const a = describeCause(holeBomb());
    expect(a.length).toBe(MAX_CAUSE_CHARS + 1);
    expect(a.startsWith('[null,null,')).toBe(true);
    expect(a.endsWith('…')).toBe(true);
    const big = { rows: Array.from({ length: 1_000_000 }, (_, i) => ({ i, s: 'xxxxxxxx' })) };
    expect(describeCause(big).length).toBe(MAX_CAUSE_CHARS + 1);
    expect(describeCause(new Error('m'.repeat(10_000_000))).length).toBe(MAX_CAUSE_CHARS + 1);
    expect(describeCause('s'.repeat(10_000_000)).length).toBe(MAX_CAUSE_CHARS + 1);
  });

  it('a BigInt inside falls back to String() as before', () => {
    expect(describeCause({ n: 1n })).toBe('[object Object]');
  });
});
