/**
 * Type tests: the forbidden extension operations do not compile. Every `@ts-expect-error` below
 * is also checked by the root `tsc -p tsconfig.json` (an unused directive is an error there).
 */
import { describe, expectTypeOf, it } from 'vitest';
import { withLabels } from './builders.js';
import { MonotonicSet } from './monotonic-set.js';
import type { DelegationHop, Extensions } from './types.js';

declare const ext: Extensions;
declare const labels: MonotonicSet;

describe('MonotonicSet', () => {
  it('can add, test and iterate', () => {
    expectTypeOf(labels.add('PII')).toEqualTypeOf<MonotonicSet>();
    expectTypeOf(labels.has('pii')).toEqualTypeOf<boolean>();
    expectTypeOf([...labels]).toEqualTypeOf<string[]>();
  });
  it('has no way to remove a label', () => {
    // @ts-expect-error no delete
    labels.delete('PII');
    // @ts-expect-error no remove
    labels.remove('PII');
    // @ts-expect-error no clear
    labels.clear();
    // @ts-expect-error no pop/splice either (it is not an array)
    labels.pop();
    expectTypeOf<MonotonicSet>().not.toHaveProperty('delete');
    expectTypeOf<MonotonicSet>().not.toHaveProperty('clear');
  });
  it('cannot be constructed from outside (only of/from/add)', () => {
    // @ts-expect-error private constructor
    new MonotonicSet([], new Set());
    expectTypeOf(MonotonicSet.of('a')).toEqualTypeOf<MonotonicSet>();
  });
});

describe('Extensions are read-only values', () => {
  it('slots and fields cannot be assigned', () => {
    // @ts-expect-error slots are readonly
    ext.custom = {};
    if (ext.security) {
      // @ts-expect-error labels cannot be replaced in place
      ext.security.labels = MonotonicSet.EMPTY;
    }
    if (ext.http?.request_headers) {
      // @ts-expect-error headers cannot be written in place (use setHeaders + write_headers)
      ext.http.request_headers['x-a'] = '1';
    }
    if (ext.request) {
      // @ts-expect-error immutable slot fields are readonly
      ext.request.request_id = 'forged';
    }
  });
  it('the delegation chain is append-only at the type level', () => {
    const chain = ext.delegation?.chain ?? [];
    expectTypeOf(chain).toEqualTypeOf<readonly DelegationHop[]>();
    // @ts-expect-error no pop on a readonly chain
    chain.pop();
    // @ts-expect-error no splice on a readonly chain
    chain.splice(0, 1);
    // @ts-expect-error no in-place push either (append with appendDelegationHop)
    chain.push({ subject_id: 'x' });
    if (chain[0]) {
      // @ts-expect-error hops are readonly
      chain[0].scopes_granted = ['admin'];
    }
  });
  it('builders return new Extensions', () => {
    expectTypeOf(withLabels(ext, 'PII')).toEqualTypeOf<Extensions>();
    // @ts-expect-error labels are strings
    withLabels(ext, 42);
  });
});
