import { describe, expect, it } from 'vitest';
import { CpexError } from '../errors/cpex-error.js';
import { MonotonicSet, toLabelSet } from './monotonic-set.js';

describe('MonotonicSet', () => {
  it('compares labels case-insensitively and keeps the first spelling', () => {
    const s = MonotonicSet.of('PII', 'pii', 'Secret');
    expect(s.size).toBe(2);
    expect([...s]).toEqual(['PII', 'Secret']);
    expect(s.has('pIi')).toBe(true);
    expect(s.has('public')).toBe(false);
  });
  it('add returns a new set and never changes the receiver; nothing new returns the receiver', () => {
    const a = MonotonicSet.of('a');
    const b = a.add('b');
    expect([...a]).toEqual(['a']);
    expect([...b]).toEqual(['a', 'b']);
    expect(a.add('A')).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
  });
  it('union, superset and missingFrom', () => {
    const a = MonotonicSet.of('a', 'b');
    const b = MonotonicSet.of('B', 'c');
    expect([...a.union(b)]).toEqual(['a', 'b', 'c']);
    expect(a.union(b).isSupersetOf(a)).toBe(true);
    expect(a.isSupersetOf(['A'])).toBe(true);
    expect(a.isSupersetOf(b)).toBe(false);
    expect(a.missingFrom(b)).toEqual(['a']);
  });
  it('serializes as a JSON array and is built from arrays, sets and nothing', () => {
    expect(JSON.stringify({ labels: MonotonicSet.of('x', 'y') })).toBe('{"labels":["x","y"]}');
    expect(MonotonicSet.from(new Set(['q'])).has('Q')).toBe(true);
    expect(MonotonicSet.from(undefined)).toBe(MonotonicSet.EMPTY);
    const s = MonotonicSet.of('z');
    expect(MonotonicSet.from(s)).toBe(s);
    expect(s.toArray()).not.toBe(s.toArray());
  });
  it('has no removal method at run time either', () => {
    const s = MonotonicSet.of('x') as unknown as Record<string, unknown>;
    for (const m of ['delete', 'remove', 'clear', 'pop', 'splice']) expect(s[m]).toBeUndefined();
  });
  it('rejects non-string labels with a coded error', () => {
    expect(() => MonotonicSet.of(1 as unknown as string)).toThrow(CpexError);
  });
  it('toLabelSet reads whatever a slot holds, or null for garbage', () => {
    expect(toLabelSet(['a'])?.has('A')).toBe(true);
    expect(toLabelSet(null)).toBe(MonotonicSet.EMPTY);
    expect(toLabelSet([1])).toBeNull();
    expect(toLabelSet('PII')).toBeNull();
  });
});
