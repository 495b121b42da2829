/**
 * Arrays with holes: `a.length = 2 ** 32 - 1` costs a plugin or a caller nothing, and an index
 * loop over it costs minutes. No engine walker may do that work (issue 11: nothing hostile can
 * hang the engine). Each case hands the engine a "hole bomb" through one channel; a regression
 * shows as a test that never finishes (vitest's timeout fails it), never as a slow pass, because
 * 4,294,967,295 iterations take minutes. Where data is validated or encoded (extensions, every
 * boundary), an array with holes longer than DIRECT_SCAN_MAX is refused with a coded error naming
 * its path, and a shorter one is data as JSON sees it; in-process payloads and context keep holes,
 * at the cost of what the array holds.
 */
import { describe, expect, it } from 'vitest';
import { copyPlain } from '../../src/context/copy.js';
import { CpexError, type MonotonicSet } from '../../src/index.js';
import { deepEqual } from '../../src/executor/policies.js';
import { readonlyView, unwrapViews } from '../../src/executor/readonly.js';
import { dataEqual, deepFreeze } from '../../src/extensions/equality.js';
import { ingressExtensions } from '../../src/extensions/ingress.js';
import { checkPayloadBounds, serializePayloadJson } from '../../src/payload/bounds.js';
import { DIRECT_SCAN_MAX, findSparse, forEachHeld, heldCount } from '../../src/payload/holes.js';
import { gctx, holeBomb, MAX_ARRAY_LENGTH as MAX_LENGTH, newManager, run } from './helpers.js';

describe('payload/holes: iteration bounded by what an array holds', () => {
  it('forEachHeld visits held elements in index order, skipping holes, small or huge', () => {
    const small: unknown[] = Object.assign(new Array(3), { 0: 1, 2: 3 }); // a hole at 1
    const seen: Array<[unknown, number]> = [];
    forEachHeld(small, (v, i) => seen.push([v, i]));
    expect(seen).toEqual([
      [1, 0],
      [3, 2],
    ]);
    const big = holeBomb('a', 'b');
    (big as unknown as Record<string, unknown>).foo = 'not an index';
    const got: Array<[unknown, number]> = [];
    forEachHeld(big, (v, i) => got.push([v, i]));
    expect(got).toEqual([
      ['a', 3],
      ['b', 4],
    ]);
    expect(heldCount(big)).toBe(2);
    const dense = Array.from({ length: DIRECT_SCAN_MAX + 5 }, (_, i) => i);
    expect(heldCount(dense)).toBe(DIRECT_SCAN_MAX + 5);
  });

  it('findSparse names the path of the first long array with holes, and passes dense or short data', () => {
    expect(findSparse({ a: [1, 2, { b: [3] }], c: 'x' })).toBeUndefined();
    expect(findSparse({ a: Object.assign(new Array(3), { 0: 1, 2: 3 }) })).toBeUndefined(); // short: JSON-encodable
    const longDense = Array.from({ length: DIRECT_SCAN_MAX + 1 }, () => 0);
    expect(findSparse({ longDense })).toBeUndefined();
    const longSparse: unknown[] = [];
    longSparse.length = DIRECT_SCAN_MAX + 1;
    expect(findSparse({ longSparse })).toEqual({ path: 'longSparse', length: DIRECT_SCAN_MAX + 1, held: 0 });
    expect(findSparse({ a: [1, { b: holeBomb(1) }] })).toEqual({
      path: 'a.1.b',
      length: MAX_LENGTH,
      held: 1,
    });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(findSparse(cyclic)).toBeUndefined();
  });

  it('walkers: unwrapViews, deepFreeze, copyPlain, deepEqual and dataEqual finish on a hole bomb', () => {
    const inner = { a: 1 };
    const view = readonlyView({ inner });
    const made = holeBomb(view.inner);
    expect(unwrapViews({ made }).made[3]).toBe(inner);
    expect(Object.isFrozen(deepFreeze({ made: holeBomb({ x: 1 }) }).made[3])).toBe(true);
    const copy = copyPlain({ l: holeBomb({ x: 1 }) }) as { l: unknown[] };
    expect(copy.l.length).toBe(MAX_LENGTH);
    expect(copy.l[3]).toEqual({ x: 1 });
    expect(deepEqual(holeBomb(1), holeBomb(1))).toBe(true);
    expect(deepEqual(holeBomb(1), holeBomb(2))).toBe(false);
    expect(dataEqual(holeBomb('a'), holeBomb('a'))).toBe(true);
    expect(dataEqual(holeBomb('a'), holeBomb('a', 'b'))).toBe(false);
  });

  it('at a boundary a sparse payload is CPEX_ERR_INVALID_PAYLOAD, before any encoder walks it', () => {
    const where = 'python plugin "p" on tool_pre_invoke: payload';
    for (const f of [
      () => checkPayloadBounds({ args: { rows: holeBomb(1) } }, { maxDepth: 10 }, where),
      () => checkPayloadBounds({ rows: [1, holeBomb(2)] }, { maxDepth: 10, maxBytes: 1000 }, where),
      () => serializePayloadJson({ args: holeBomb() }, { maxDepth: 10, maxBytes: 10_000_000 }, where),
    ]) {
      let err: unknown;
      try {
        f();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(CpexError);
      expect((err as CpexError).code).toBe('CPEX_ERR_INVALID_PAYLOAD');
      expect((err as CpexError).message).toMatch(
        /python plugin "p".*sparse array \(length \d+, \d+ elements? held\)/,
      );
    }
    // A short array with holes is measured as JSON encodes it.
    const short = { rows: Object.assign(new Array(3), { 0: 1, 2: 3 }) }; // a hole at 1
    expect(checkPayloadBounds(short, { maxDepth: 10, maxBytes: 1000 }, where).bytes).toBe(
      JSON.stringify(short).length,
    );
  });

  it("caller extensions with holes are refused at ingress with the field's path", () => {
    const out = ingressExtensions({ security: { labels: holeBomb('pii') } }, 'tool_pre_invoke');
    expect(out).toBeInstanceOf(CpexError);
    expect((out as CpexError).code).toBe('CPEX_ERR_INVALID_PAYLOAD');
    expect((out as CpexError).path).toBe('extensions.security.labels');
    const custom = ingressExtensions({ custom: { rows: [1, holeBomb()] } }, 'tool_pre_invoke');
    expect((custom as CpexError).path).toBe('extensions.custom.rows.1');
  });
});

describe('the executor with hole bombs from a plugin or the caller', () => {
  it('a plugin returns a hole bomb in its modified payload (with a view inside): applied, holes kept', async () => {
    const m = newManager();
    m.registerHook(
      'tool_pre_invoke',
      (p: { args: { inner: object } }) => ({
        continueProcessing: true,
        modifiedPayload: { name: 't', args: { rows: holeBomb(p.args.inner) } },
      }),
      { name: 'bomber', mode: 'transform' },
    );
    await m.initialize();
    const inner = { a: 1 };
    const r = await run(m, 'tool_pre_invoke', { name: 't', args: { inner } });
    const rows = (r.modifiedPayload as { args: { rows: unknown[] } }).args.rows;
    expect(rows.length).toBe(MAX_LENGTH);
    expect(rows[3]).toBe(inner); // the view was swapped back for the caller's object
  });

  it('with a payload policy (deepEqual of the fields): a hole bomb in a writable field is compared and applied', async () => {
    const m = newManager({ hookPolicies: { tool_pre_invoke: ['args'] } });
    m.registerHook(
      'tool_pre_invoke',
      () => ({ continueProcessing: true, modifiedPayload: { name: 't', args: { rows: holeBomb(1) } } }),
      { name: 'bomber', mode: 'transform' },
    );
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', { name: 't', args: { rows: holeBomb(1) } });
    // Equal to the input (same length, same held element): not a modification.
    expect(r.modifiedPayload ?? null).toBeNull();
  });

  it.each([
    ['security.labels', { security: { labels: holeBomb('pii') } }],
    ['custom.rows', { custom: { rows: holeBomb({ x: 1 }) } }],
    ['custom.a.0', { custom: { a: [holeBomb()] } }],
  ])(
    'a plugin returns extensions with holes at %s: an extension violation naming the path',
    async (path, modifiedExtensions) => {
      const m = newManager();
      m.registerHook(
        'tool_pre_invoke',
        () => ({ continueProcessing: true, modifiedExtensions: modifiedExtensions as never }),
        {
          name: 'bomber',
          mode: 'sequential',
          capabilities: ['append_labels'],
        },
      );
      await m.initialize();
      const r = await run(m, 'tool_pre_invoke', { name: 't', args: {} }, { extensions: { custom: {} } });
      expect(r.continueProcessing).toBe(false);
      expect(r.violation?.code).toBe('extension_violation');
      expect(r.violation?.description).toContain(`extension edit rejected at ${path}: a sparse array`);
    },
  );

  it("a caller's hole-bomb labels: invoke throws CPEX_ERR_INVALID_PAYLOAD naming the field", async () => {
    const m = newManager();
    m.registerHook('tool_pre_invoke', () => undefined, { name: 'p' });
    await m.initialize();
    await expect(
      m.invoke(
        'tool_pre_invoke',
        { name: 't', args: {} },
        { extensions: { security: { labels: holeBomb('x') as never } } },
      ),
    ).rejects.toMatchObject({ code: 'CPEX_ERR_INVALID_PAYLOAD', path: 'extensions.security.labels' });
  });

  it('a plugin writes hole bombs into its local state and the global context: committed, holes kept', async () => {
    const m = newManager();
    m.registerHook(
      'tool_pre_invoke',
      (_p, ctx) => {
        ctx.state.rows = holeBomb(1);
        ctx.globalContext.state.rows = holeBomb(2);
        ctx.globalContext.metadata.rows = holeBomb(3);
        return undefined;
      },
      { name: 'bomber' },
    );
    await m.initialize();
    const g = gctx('req-holes');
    const r = await m.invoke('tool_pre_invoke', { name: 't', args: {} }, { globalContext: g });
    expect(r.continueProcessing).toBe(true);
    expect((g.state.rows as unknown[]).length).toBe(MAX_LENGTH);
    expect((g.state.rows as unknown[])[3]).toBe(2);
    expect((g.metadata.rows as unknown[])[3]).toBe(3);
  });

  it('labels from a hole-free list still merge (the check does not refuse dense data)', async () => {
    const m = newManager();
    m.registerHook(
      'tool_pre_invoke',
      () => ({
        continueProcessing: true,
        modifiedExtensions: { security: { labels: ['pii', 'internal'] as never } },
      }),
      { name: 'labeller', capabilities: ['append_labels'] },
    );
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', { name: 't', args: {} }, { extensions: {} });
    const labels = r.modifiedExtensions?.security?.labels as MonotonicSet;
    expect([...labels].sort()).toEqual(['internal', 'pii']);
  });
});
