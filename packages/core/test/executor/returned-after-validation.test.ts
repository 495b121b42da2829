/**
 * A plugin that keeps a reference to the payload it returned and edits it afterwards (hostile
 * plugins, item 2: "mutates the payload or the context after returning"). What the engine
 * validated must be what later plugins and the caller get: an edit made after the return must
 * change nothing.
 *
 * Fixed in session 6 (executor/results.ts planEdits, executor/readonly.ts adoptReturned): the
 * executor keeps a copy of the plain data an in-process plugin returned (views swapped back to the
 * caller's objects, unchanged subtrees shared), so the plugin's own objects are no longer the
 * engine's.
 */
import { describe, expect, it } from 'vitest';
import { newManager, run } from './helpers.js';

function lateEditor() {
  const held: { payload?: { name: string; args: Record<string, unknown> } } = {};
  return {
    held,
    plugin: {
      name: 'editor',
      hooks: {
        tool_pre_invoke: (p: { name: string; args: Record<string, unknown> }) => {
          held.payload = { ...p, args: { x: 'validated' } };
          return { modifiedPayload: held.payload };
        },
      },
    },
  };
}

describe('a returned payload edited after the return changes nothing', () => {
  it('the next plugin sees the payload as validated, not a later edit', async () => {
    const m = newManager();
    const { held, plugin } = lateEditor();
    m.register(plugin, { mode: 'sequential', priority: 1 });
    let seen: unknown;
    m.register(
      {
        name: 'reader',
        hooks: {
          tool_pre_invoke: async (p: { args: Record<string, unknown> }) => {
            held.payload!.args.x = 'edited after return'; // the first plugin's code, running late
            await Promise.resolve();
            seen = p.args.x;
            return undefined;
          },
        },
      },
      { mode: 'sequential', priority: 2 },
    );
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', { name: 't', args: { x: 'orig' } });
    expect(seen).toBe('validated');
    expect(r.modifiedPayload).toEqual({ name: 't', args: { x: 'validated' } });
  });

  it("the caller's result does not change after invoke() resolved", async () => {
    const m = newManager();
    const { held, plugin } = lateEditor();
    m.register(plugin, { mode: 'transform' });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', { name: 't', args: { x: 'orig' } });
    held.payload!.args.x = 'edited after the call';
    expect(r.modifiedPayload).toEqual({ name: 't', args: { x: 'validated' } });
  });
});

describe("a result's metadata and violation details edited after the return change nothing", () => {
  it('metadata', async () => {
    const m = newManager();
    const info = { count: 1, tags: ['a'] };
    m.registerHook('tool_pre_invoke', () => ({ metadata: { info } }), { name: 'meta' });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', { name: 't', args: {} });
    info.count = 2;
    info.tags.push('late');
    expect(r.metadata).toEqual({ info: { count: 1, tags: ['a'] } });
  });

  it('violation details', async () => {
    const m = newManager();
    const details = { rule: 'r1', hits: [1] };
    m.registerHook(
      'tool_pre_invoke',
      () => ({ continueProcessing: false, violation: { code: 'blocked', reason: 'no', details } }),
      { name: 'guard' },
    );
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', { name: 't', args: {} });
    details.rule = 'changed';
    details.hits.push(2);
    expect(r.violation?.details).toEqual({ rule: 'r1', hits: [1] });
  });
});
