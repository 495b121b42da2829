import { describe, expect, it } from 'vitest';
import {
  CpexError,
  definePlugin,
  HOOK_METHODS,
  hook,
  hookHandler,
  Plugin,
  PLUGIN_CLASS,
  pluginSet,
} from './index.js';
import { allow, deny } from './results.js';

describe('definePlugin', () => {
  it('returns a core plugin object whose hooks map holds the handlers', async () => {
    const p = definePlugin({
      name: 'deny-rm',
      hooks: { tool_pre_invoke: (payload) => (payload.name === 'rm' ? deny('no_rm', 'rm') : allow()) },
      initialize() {},
    });
    expect(p.name).toBe('deny-rm');
    expect(typeof p.initialize).toBe('function');
    expect(p.shutdown).toBeUndefined();
    const ctx = {} as never;
    expect(await p.hooks.tool_pre_invoke({ name: 'rm', args: {} }, ctx, undefined)).toMatchObject({
      continueProcessing: false,
    });
  });

  it('rejects a missing name or a non-function handler with a coded error naming the hook', () => {
    expect(() => definePlugin({ name: '', hooks: {} })).toThrow(CpexError);
    try {
      definePlugin({ name: 'p', hooks: { tool_pre_invoke: 42 as never } });
      expect.unreachable();
    } catch (e) {
      expect((e as CpexError).code).toBe('CPEX_ERR_INVALID_ARGUMENT');
      expect((e as CpexError).hook).toBe('tool_pre_invoke');
      expect((e as CpexError).message).toMatch(/hooks\.tool_pre_invoke must be a function/);
    }
  });
});

describe('Plugin base class and @hook', () => {
  class Tagger extends Plugin<{ tag: string }> {
    @hook('cmf.tool_pre_invoke', 'cmf.llm_input')
    label() {
      return allow({ tag: this.config.tag });
    }

    tool_pre_invoke() {
      return allow({ by: this.name });
    }
  }

  it('takes the entry config and name; defaults to the class name', () => {
    const t = new Tagger({ tag: 'pii' }, { name: 'tagger-1' });
    expect(t.config).toEqual({ tag: 'pii' });
    expect(t.name).toBe('tagger-1');
    expect(new Tagger(null).name).toBe('Tagger');
    expect(new Tagger(null).config).toEqual({});
    expect((Tagger as unknown as Record<symbol, unknown>)[PLUGIN_CLASS]).toBe(true);
  });

  it('@hook records hook → method names per instance under Symbol.for("cpex.hook-methods")', () => {
    const a = new Tagger({ tag: 'a' });
    const b = new Tagger({ tag: 'b' });
    const map = (a as unknown as Record<symbol, Record<string, string>>)[Symbol.for('cpex.hook-methods')];
    expect(map).toEqual({ 'cmf.tool_pre_invoke': 'label', 'cmf.llm_input': 'label' });
    expect(HOOK_METHODS).toBe(Symbol.for('cpex.hook-methods'));
    expect((b as unknown as Record<symbol, unknown>)[HOOK_METHODS]).not.toBe(map);
    expect(Object.keys(a)).not.toContain(String(HOOK_METHODS));
  });

  it('subclass decorators add to (not replace) the parent map', () => {
    class More extends Tagger {
      @hook('tool_post_invoke')
      after() {
        return allow();
      }
    }
    const m = new More({ tag: 'x' });
    expect((m as unknown as Record<symbol, unknown>)[HOOK_METHODS]).toEqual({
      'cmf.tool_pre_invoke': 'label',
      'cmf.llm_input': 'label',
      tool_post_invoke: 'after',
    });
  });

  it('@hook() without names is a coded error', () => {
    expect(() => (hook as unknown as () => unknown)()).toThrow(/hook names/);
  });
});

describe('hookHandler and pluginSet', () => {
  it('hookHandler returns [hook, handler] for manager.registerHook', async () => {
    const [name, fn] = hookHandler('tool_pre_invoke', (p) => allow({ seen: p.name }));
    expect(name).toBe('tool_pre_invoke');
    expect(await fn({ name: 'search', args: {} }, {} as never, undefined)).toEqual({
      continueProcessing: true,
      metadata: { seen: 'search' },
    });
    expect(() => hookHandler('x', 1 as never)).toThrow(CpexError);
  });

  it('pluginSet builds a nestable PluginSet and validates members', () => {
    const a = definePlugin({ name: 'a', hooks: { x: () => allow() } });
    const inner = pluginSet('inner', [a]);
    const outer = pluginSet('outer', [inner, { plugin: a, entry: { priority: 5 } }]);
    expect(outer).toEqual({
      kind: 'plugin-set',
      name: 'outer',
      members: [inner, { plugin: a, entry: { priority: 5 } }],
    });
    expect(() => pluginSet('bad', [null as never])).toThrow(/members\[0\]/);
    expect(() => pluginSet('', [])).toThrow(CpexError);
  });
});
