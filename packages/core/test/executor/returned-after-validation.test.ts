/**
 * A plugin that keeps a reference to the payload it returned and edits it afterwards (hostile
 * plugins, item 2: "mutates the payload or the context after returning"). What the engine
 * validated must be what later plugins and the caller get: an edit made after the return must
 * change nothing.
 *
 * KNOWN DEFECT (session 6, reported to the lead): the executor keeps the returned object by
 * reference, so such an edit reaches the next plugins (unvalidated: it bypasses the hook policy's
 * writable fields) and even the caller's result after invoke() resolved. The fix belongs in
 * packages/core/src/executor (accept a returned payload as a snapshot, or freeze it), which the
 * lead owns; these are `it.fails` until then — when the fix lands they fail, and `.fails` goes.
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
  it.fails('the next plugin sees the payload as validated, not a later edit', async () => {
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

  it.fails("the caller's result does not change after invoke() resolved", async () => {
    const m = newManager();
    const { held, plugin } = lateEditor();
    m.register(plugin, { mode: 'transform' });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', { name: 't', args: { x: 'orig' } });
    held.payload!.args.x = 'edited after the call';
    expect(r.modifiedPayload).toEqual({ name: 't', args: { x: 'validated' } });
  });
});
