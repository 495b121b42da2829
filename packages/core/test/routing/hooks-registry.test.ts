import { CpexError, PluginManager } from '@cpex/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

describe('each manager has its own hook registry (custom hooks registrable at runtime)', () => {
  it('built-in hooks are known; a custom hook can be defined with a schema on one manager only', async () => {
    const a = new PluginManager();
    const b = new PluginManager();
    expect(a.hooks.has('tool_pre_invoke')).toBe(true);
    expect(a.hooks.has('cmf.llm_input')).toBe(true);
    a.defineHook('generation.pre_call', { payloadSchema: z.object({ prompt: z.string() }) });
    expect(a.hooks.has('generation.pre_call')).toBe(true);
    expect(b.hooks.has('generation.pre_call')).toBe(false);
    expect(() => a.defineHook('tool_pre_invoke')).toThrow(CpexError);
    // any hook name works for invoke, defined or not
    a.registerHook('generation.pre_call', async () => ({ metadata: { seen: true } }), { name: 'g' });
    await a.initialize();
    const r = await a.invoke('generation.pre_call', { prompt: 'hi' });
    expect(r.metadata).toEqual({ seen: true });
    await a.shutdown();
  });
});
