/**
 * Issue 11 items 5 and 13: nothing in core that walks a payload (the result module and what it
 * calls: view unwrapping, hook policies' comparison, extension merge/freeze/clone, context copies,
 * toMutable's copy) recurses, so a 100,000-deep payload gets an answer — accepted exactly, or a
 * coded error — and never a RangeError (stack overflow), whichever way it arrives: from the caller,
 * or returned by a plugin. (Boundaries — the CLI, each host's wire — refuse deep payloads with
 * CPEX_ERR_PAYLOAD_TOO_DEEP: tested with each host.)
 */
import { describe, expect, it } from 'vitest';
import { copyPlain } from '../../src/context/copy.js';
import { readonlyView, unwrapViews } from '../../src/executor/readonly.js';
import { deepEqual } from '../../src/executor/policies.js';
import { dataEqual, deepFreeze } from '../../src/extensions/equality.js';
import type { Extensions } from '../../src/index.js';
import { newManager, run } from './helpers.js';

const DEPTH = 100_000;

/** `{ next: { next: ... { leaf } } }`, `depth` levels, with the innermost object `leaf`. */
function deep(depth: number, leaf: Record<string, unknown> = { end: true }): Record<string, unknown> {
  let v: Record<string, unknown> = leaf;
  for (let i = 0; i < depth; i++) v = { next: v };
  return v;
}
function deepArray(depth: number): unknown[] {
  let v: unknown[] = [1];
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}
/** Depth of a `deep()` value, measured iteratively (and the leaf). */
function walkDown(v: unknown): { depth: number; leaf: unknown } {
  let depth = 0;
  let cur = v as Record<string, unknown>;
  while (cur && typeof cur === 'object' && 'next' in cur) {
    cur = cur.next as Record<string, unknown>;
    depth++;
  }
  return { depth, leaf: cur };
}

describe('walkers: a 100,000-deep value, no recursion (issue 11 items 5, 13)', () => {
  it('unwrapViews: a plugin-built 100,000-deep value with a view at the bottom', () => {
    const inner = { a: 1 };
    const view = readonlyView({ inner });
    const out = unwrapViews(deep(DEPTH, { v: view.inner }));
    expect((walkDown(out).leaf as { v: unknown }).v).toBe(inner);
    expect(unwrapViews(deepArray(DEPTH))).toHaveLength(1);
  });

  it('a view reads a 100,000-deep caller payload to the bottom', () => {
    const src = deep(DEPTH);
    const { depth, leaf } = walkDown(readonlyView(src));
    expect(depth).toBe(DEPTH);
    expect(leaf).toEqual({ end: true });
  });

  it('deepEqual (hook policies) and dataEqual (extensions) compare 100,000-deep values, and cycles', () => {
    expect(deepEqual(deep(DEPTH), deep(DEPTH))).toBe(true);
    expect(deepEqual(deep(DEPTH), deep(DEPTH, { end: false }))).toBe(false);
    expect(deepEqual(deepArray(DEPTH), deepArray(DEPTH))).toBe(true);
    expect(dataEqual(deep(DEPTH), deep(DEPTH))).toBe(true);
    expect(dataEqual(deep(DEPTH), deep(DEPTH, { end: 1 }))).toBe(false);
    const a: Record<string, unknown> = { x: 1 };
    a.self = a;
    const b: Record<string, unknown> = { x: 1 };
    b.self = b;
    expect(deepEqual(a, b)).toBe(true);
    expect(dataEqual(a, b)).toBe(true);
  });

  it('deepFreeze and copyPlain (context copies, toMutable) handle 100,000-deep values; copyPlain keeps cycles and "__proto__" keys as data', () => {
    const frozen = deepFreeze(deep(DEPTH));
    expect(Object.isFrozen(walkDown(frozen).leaf)).toBe(true);
    const src = deep(DEPTH);
    const copy = copyPlain(src);
    expect(walkDown(copy).depth).toBe(DEPTH);
    expect(walkDown(copy).leaf).not.toBe(walkDown(src).leaf);
    const cyc: Record<string, unknown> = {};
    cyc.self = cyc;
    const c = copyPlain(cyc) as Record<string, unknown>;
    expect(c.self).toBe(c);
    const proto = copyPlain(JSON.parse('{"__proto__": {"polluted": true}, "a": 1}')) as Record<
      string,
      unknown
    >;
    expect(Object.getPrototypeOf(proto)).toBe(Object.prototype);
    expect(Object.keys(proto)).toEqual(['__proto__', 'a']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ['no hook policy', {}],
    ['a hook policy (fields compared deeply)', { hookPolicies: { tool_pre_invoke: ['args'] } }],
  ])(
    'the executor: a plugin returns a 100,000-deep modified payload (%s) — applied, next plugin reads it, no RangeError',
    async (_what, options) => {
      const m = newManager(options);
      let nextDepth = -1;
      m.registerHook('tool_pre_invoke', () => ({ modifiedPayload: { name: 't', args: deep(DEPTH) } }), {
        name: 'deepener',
        priority: 1,
      });
      m.registerHook(
        'tool_pre_invoke',
        (p: unknown) => {
          nextDepth = walkDown((p as { args: unknown }).args).depth;
          return undefined;
        },
        { name: 'reader', priority: 2 },
      );
      await m.initialize();
      const r = await run(m, 'tool_pre_invoke', { name: 't', args: deep(DEPTH - 1) });
      expect(r.errors).toEqual([]);
      expect(r.continueProcessing).toBe(true);
      expect(nextDepth).toBe(DEPTH);
      expect(walkDown((r.modifiedPayload as { args: unknown }).args).depth).toBe(DEPTH);
    },
  );

  it('the executor: a 100,000-deep custom extension from the caller, edited by a plugin (merge, clone, freeze, compare)', async () => {
    const m = newManager();
    m.registerHook(
      'tool_pre_invoke',
      (_p, _c, view) => ({ modifiedExtensions: { ...view, custom: { note: 'edited', tree: deep(DEPTH) } } }),
      { name: 'editor' },
    );
    await m.initialize();
    const r = await run(
      m,
      'tool_pre_invoke',
      {},
      {
        extensions: { custom: { note: 'orig', tree: deep(DEPTH) } } as Extensions,
      },
    );
    expect(r.errors).toEqual([]);
    const custom = (r.modifiedExtensions as { custom?: { note: string; tree: unknown } } | null)?.custom;
    expect(custom?.note).toBe('edited');
    expect(walkDown(custom?.tree).depth).toBe(DEPTH);
  });

  it('"__proto__" keys a plugin writes or returns stay own data: metadata, global-context state/metadata and its own state never re-parent the caller\'s objects', async () => {
    const m = newManager();
    const proto = (): Record<string, unknown> => JSON.parse('{"__proto__": {"isAdmin": true}, "x": 1}');
    m.registerHook(
      'tool_pre_invoke',
      (_p, ctx) => {
        for (const [k, v] of Object.entries(Object.getOwnPropertyDescriptors(proto())))
          Object.defineProperty(ctx.globalContext.state, k, v);
        Object.defineProperty(ctx.globalContext.metadata, '__proto__', {
          value: { isAdmin: true },
          enumerable: true,
          configurable: true,
          writable: true,
        });
        ctx.setState?.('__proto__', { isAdmin: true });
        return { metadata: proto() };
      },
      { name: 'sneaky' },
    );
    await m.initialize();
    const g = {
      requestId: 'r',
      state: {} as Record<string, unknown>,
      metadata: {} as Record<string, unknown>,
    };
    const r = await run(m, 'tool_pre_invoke', {}, { globalContext: g });
    expect(r.errors).toEqual([]);
    for (const o of [g.state, g.metadata, r.metadata as Record<string, unknown>]) {
      expect(Object.getPrototypeOf(o)).toBe(Object.prototype);
      expect(o.isAdmin).toBeUndefined();
      expect(Object.getOwnPropertyDescriptor(o, '__proto__')?.value).toEqual({ isAdmin: true });
    }
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });
});
