/**
 * Identity caches may only hold objects nobody can change behind them (issue 11: nothing hostile
 * can fool the engine). A cache keyed by an object that its owner can still mutate turns "checked
 * once" into "never checked again": a caller's extensions edited between invokes, or a plugin's
 * returned payload edited into an invalid shape, would pass on the second call.
 */
import { describe, expect, it } from 'vitest';
import { newManager, run } from './helpers.js';

describe('caller extensions are values: validated once, then frozen, never stale', () => {
  it.each([
    [
      'labels as a JSON array (converted to a MonotonicSet)',
      () => ({ security: { labels: ['pii'] }, custom: { a: 1 } }),
    ],
    ['no conversion needed', () => ({ custom: { a: 1 } })],
  ])('%s: after the first invoke the object is deep-frozen, so a later edit throws', async (_what, make) => {
    const m = newManager();
    const seen: unknown[] = [];
    m.registerHook(
      'tool_pre_invoke',
      (_p, _ctx, ext) => {
        seen.push(ext?.custom?.a);
        return undefined;
      },
      { name: 'reader', capabilities: ['read_labels'] },
    );
    await m.initialize();
    const ext = make() as Record<string, Record<string, unknown>>;
    await run(m, 'tool_pre_invoke', { name: 't', args: {} }, { extensions: ext as never });
    expect(Object.isFrozen(ext)).toBe(true);
    expect(Object.isFrozen(ext.custom)).toBe(true);
    expect(() => {
      (ext.custom as Record<string, unknown>).a = 2;
    }).toThrow(TypeError);
    if (ext.security) {
      expect(() => {
        (ext.security as Record<string, unknown>).labels = 'pii';
      }).toThrow(TypeError);
      expect(() => ((ext.security as Record<string, unknown>).labels as string[]).push('secret')).toThrow(
        TypeError,
      );
    }
    await run(m, 'tool_pre_invoke', { name: 't', args: {} }, { extensions: ext as never });
    expect(seen).toEqual([1, 1]);
  });

  it('a new object with bad labels is judged on its own (no cache hit from an earlier one)', async () => {
    const m = newManager();
    m.registerHook('tool_pre_invoke', () => undefined, { name: 'p' });
    await m.initialize();
    await run(
      m,
      'tool_pre_invoke',
      { name: 't', args: {} },
      { extensions: { security: { labels: ['a'] } } as never },
    );
    await expect(
      run(
        m,
        'tool_pre_invoke',
        { name: 't', args: {} },
        { extensions: { security: { labels: 'a' } } as never },
      ),
    ).rejects.toMatchObject({ code: 'CPEX_ERR_INVALID_PAYLOAD', path: 'extensions.security.labels' });
  });
});

describe("a plugin's returned payload is checked every time, also the same object again", () => {
  it('returned valid, then mutated into an invalid shape and returned again: refused the second time', async () => {
    const m = newManager();
    const out: Record<string, unknown> = { name: 'rewritten', args: {} };
    m.registerHook('tool_pre_invoke', () => ({ continueProcessing: true, modifiedPayload: out }), {
      name: 'rewriter',
      mode: 'transform',
    });
    await m.initialize();
    const first = await run(m, 'tool_pre_invoke', { name: 't', args: {} });
    expect(first.modifiedPayload).toEqual({ name: 'rewritten', args: {} });
    out.name = 42;
    delete out.args;
    const second = await run(m, 'tool_pre_invoke', { name: 't', args: {} });
    // The first result was a copy: the plugin's later edit of its own object did not reach it.
    expect(first.modifiedPayload).toEqual({ name: 'rewritten', args: {} });
    expect(second.modifiedPayload ?? null).toBeNull();
    expect(second.errors?.[0]?.message).toMatch(/modified payload for hook tool_pre_invoke is/);
  });
});
