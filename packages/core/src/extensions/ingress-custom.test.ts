// `extensions.custom` crosses to plugins in every language as JSON: at ingress, anything JSON
// cannot carry exactly is refused with its path (it used to pass, and then reached a Python
// plugin as null, a string or nothing, or made a host's encoder throw an uncoded TypeError).
import { describe, expect, it } from 'vitest';
import { CpexError } from '../errors/cpex-error.js';
import { ingressExtensions } from './ingress.js';

const refused = (custom: unknown) => {
  const r = ingressExtensions({ custom }, 'tool_pre_invoke');
  expect(r).toBeInstanceOf(CpexError);
  return r as CpexError;
};

describe('ingress: extensions.custom is JSON data', () => {
  it.each([
    [{ x: Number.NaN }, 'extensions.custom.x', /expected a finite number/],
    [{ deep: [{ v: Number.NEGATIVE_INFINITY }] }, 'extensions.custom.deep[0].v', /finite number/],
    [{ big: 10n ** 20n }, 'extensions.custom.big', /the BigInt 100000000000000000000 is not JSON data/],
    [{ when: new Date(0) }, 'extensions.custom.when', /Date is not extension data/],
    [{ f: () => 1 }, 'extensions.custom.f', /a function is not extension data/],
    [{ m: new Map() }, 'extensions.custom.m', /Map is not extension data/],
    [{ list: [1, undefined] }, 'extensions.custom.list[1]', /undefined in a list is not JSON data/],
    [{ s: 'a\ud800' }, 'extensions.custom.s', /lone surrogate/],
  ])('%o is CPEX_ERR_INVALID_PAYLOAD at its path', (custom, path, message) => {
    const e = refused(custom);
    expect(e.code).toBe('CPEX_ERR_INVALID_PAYLOAD');
    expect(e.path).toBe(path);
    expect(e.message).toMatch(message);
    expect(e.message).toContain(`at ${path}`);
  });

  it('a cycle is refused, never a stack overflow', () => {
    const c: Record<string, unknown> = { a: 1 };
    c.self = c;
    expect(refused(c).message).toMatch(/extensions\.custom\.self: the value contains itself/);
  });

  it('plain JSON data passes, including null and a safe integer', () => {
    const ext = { custom: { a: [1, 'two', null, true, { b: 2 ** 53 - 1 }] } };
    const r = ingressExtensions(ext, 'tool_pre_invoke');
    expect(r).not.toBeInstanceOf(CpexError);
    expect((r as { custom?: unknown }).custom).toEqual({ a: [1, 'two', null, true, { b: 2 ** 53 - 1 }] });
  });
});
