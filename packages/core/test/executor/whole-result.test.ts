/**
 * Issue 10 point 2: a result is applied whole or not at all, in every phase that applies results.
 * Under on_error ignore a refused part (forbidden extension edit, a payload of a shape the hook
 * does not accept, unreadable global-context writes) refuses the whole result: no payload,
 * extension, metadata, global-context or retry edit of it survives.
 */
import { describe, expect, it } from 'vitest';
import type { Extensions, Phase } from '../../src/index.js';
import { PHASE_RUNNERS } from '../../src/executor/phases/index.js';
import { gctx, newManager, run } from './helpers.js';

const ext = (): Extensions =>
  ({ request: { request_id: 'req-1', environment: 'prod' }, custom: { n: 1 } }) as Extensions;
const forged = (view: Extensions | undefined) =>
  ({ ...view, request: { request_id: 'forged', environment: 'prod' } }) as Extensions;

/** A result with every kind of edit, one of which (`bad`) is refused. */
function editsAll(bad: 'extensions' | 'payload' | 'global') {
  return (
    payload: unknown,
    ctx: import('../../src/index.js').PluginContext,
    view: Extensions | undefined,
  ) => {
    ctx.globalContext.state.leaked = 'yes';
    if (bad === 'global') {
      (ctx.globalContext as { state: unknown }).state = new Proxy(
        {},
        {
          ownKeys() {
            throw new Error('hostile keys');
          },
        },
      );
    }
    return {
      modifiedPayload:
        bad === 'payload'
          ? { name: 42 } // tool_pre_invoke needs a string name
          : { ...(payload as object), name: 'changed', args: {} },
      modifiedExtensions: bad === 'extensions' ? forged(view) : ({ ...view, custom: { n: 2 } } as Extensions),
      metadata: { from_refused: true },
      retryDelayMs: 999,
    };
  };
}

const CHAINED: Phase[] = ['sequential', 'transform'];

describe('a result is applied whole or not at all (issue 10 point 2)', () => {
  for (const phase of CHAINED) {
    for (const bad of ['extensions', 'payload', 'global'] as const) {
      it(`${phase}: a refused ${bad} part under on_error ignore drops the payload, extension, metadata, global and retry edits`, async () => {
        const m = newManager();
        m.registerHook('tool_pre_invoke', editsAll(bad), { name: 'partial', mode: phase, onError: 'ignore' });
        await m.initialize();
        const g = gctx('r1');
        const r = await run(
          m,
          'tool_pre_invoke',
          { name: 'calc', args: { x: 1 } },
          { extensions: ext(), globalContext: g },
        );
        expect(r.continueProcessing).toBe(true);
        expect(r.errors).toHaveLength(1);
        expect(r.errors[0]).toMatchObject({ pluginName: 'partial', phase });
        expect(r.payloadModified).toBe(false);
        expect(r.modifiedPayload).toBeNull();
        expect(r.modifiedExtensions).toBeNull();
        expect(r.metadata).toEqual({});
        expect(r.retryDelayMs).toBe(0);
        expect(g.state).toEqual({});
      });
    }
    it(`${phase}: the same result with nothing refused is applied whole`, async () => {
      const m = newManager();
      m.registerHook('tool_pre_invoke', editsAll('global'), { name: 'p', mode: phase });
      // a control plugin whose only difference is a readable global write
      await m.initialize();
      const m2 = newManager();
      m2.registerHook(
        'tool_pre_invoke',
        (p, ctx, view) => {
          ctx.globalContext.state.kept = 'yes';
          return {
            modifiedPayload: { ...(p as object), name: 'changed' },
            modifiedExtensions: { ...view, custom: { n: 2 } } as Extensions,
            metadata: { m: 1 },
            retryDelayMs: 5,
          };
        },
        { name: 'p', mode: phase },
      );
      await m2.initialize();
      const g = gctx('r2');
      const r = await run(
        m2,
        'tool_pre_invoke',
        { name: 'calc', args: {} },
        { extensions: ext(), globalContext: g },
      );
      expect(r.payloadModified).toBe(true);
      expect((r.modifiedPayload as { name: string }).name).toBe('changed');
      expect((r.modifiedExtensions as { custom: unknown }).custom).toEqual({ n: 2 });
      expect(r.metadata).toEqual({ m: 1 });
      expect(r.retryDelayMs).toBe(5);
      expect(g.state).toEqual({ kept: 'yes' });
    });
  }

  it('concurrent: unreadable global-context writes refuse the result: its metadata is not kept either', async () => {
    const m = newManager();
    m.registerHook('tool_pre_invoke', editsAll('global'), {
      name: 'c',
      mode: 'concurrent',
      onError: 'ignore',
    });
    await m.initialize();
    const g = gctx('r3');
    const r = await run(m, 'tool_pre_invoke', { name: 'calc', args: {} }, { globalContext: g });
    expect(r.errors).toEqual([expect.objectContaining({ pluginName: 'c', phase: 'concurrent' })]);
    expect(r.metadata).toEqual({});
    expect(g.state).toEqual({});
  });

  it('audit: its edits and global writes are never applied; its metadata is (a well-formed result)', async () => {
    const m = newManager();
    m.registerHook('tool_pre_invoke', editsAll('extensions'), { name: 'a', mode: 'audit' });
    await m.initialize();
    const g = gctx('r4');
    const r = await run(
      m,
      'tool_pre_invoke',
      { name: 'calc', args: {} },
      { extensions: ext(), globalContext: g },
    );
    expect(r.payloadModified).toBe(false);
    expect(r.modifiedExtensions).toBeNull();
    expect(r.metadata).toEqual({ from_refused: true });
    expect(g.state).toEqual({});
  });

  it('the phase table is closed: every phase has a runner with a one-line contract', () => {
    for (const [phase, runner] of Object.entries(PHASE_RUNNERS)) {
      expect(runner.contract, phase).toMatch(/blocks: .* · modifies: .* · writes global context: /);
      expect(runner.contract.includes('\n')).toBe(false);
    }
    expect(Object.keys(PHASE_RUNNERS)).toEqual([
      'sequential',
      'transform',
      'audit',
      'concurrent',
      'fire_and_forget',
    ]);
  });
});
