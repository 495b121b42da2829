import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  allow,
  definePlugin,
  deny,
  hook,
  hookHandler,
  modify,
  type PayloadOf,
  Plugin,
  PluginManager,
  pluginSet,
} from '../src/index.js';
import { createTestManager, probePlugin } from '../src/testing/index.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');

const redactor = definePlugin({
  name: 'redactor',
  hooks: {
    tool_pre_invoke(payload) {
      const args = payload.args as Record<string, unknown>;
      if (typeof args.email !== 'string') return allow();
      return modify(
        { ...payload, args: { ...args, email: '[REDACTED]' } },
        { metadata: { redacted: ['email'] } },
      );
    },
  },
});

class AllowList extends Plugin<{ tools: string[] }> {
  tool_pre_invoke(payload: PayloadOf<'tool_pre_invoke'>) {
    return this.config.tools.includes(payload.name as string)
      ? allow()
      : deny('tool_not_allowed', `tool ${String(payload.name)} is not allowed`);
  }
}

describe('createTestManager', () => {
  it('runs definePlugin and Plugin-subclass plugins through the real executor', async () => {
    await using tm = await createTestManager({
      plugins: [
        { plugin: new AllowList({ tools: ['search'] }, { name: 'allow-list' }), entry: { priority: 1 } },
        { plugin: redactor, entry: { mode: 'transform', hooks: ['tool_pre_invoke'] } },
      ],
    });
    const ok = await tm.invoke('tool_pre_invoke', { name: 'search', args: { email: 'a@b.c', q: 'x' } });
    expect(ok.continueProcessing).toBe(true);
    expect(ok.modifiedPayload).toEqual({ name: 'search', args: { email: '[REDACTED]', q: 'x' } });
    expect(ok.metadata).toEqual({ redacted: ['email'] });
    expect(ok.backgroundErrors).toEqual([]);

    const blocked = await tm.invoke('tool_pre_invoke', { name: 'rm', args: {} });
    expect(blocked.continueProcessing).toBe(false);
    expect(blocked.violation).toMatchObject({ code: 'tool_not_allowed', pluginName: 'allow-list' });
    expect(tm.manager).toBeInstanceOf(PluginManager);
  });

  it('runs @hook-decorated methods (core resolves the sdk decorator map)', async () => {
    class Labeler extends Plugin {
      @hook('custom.label', 'custom.relabel')
      label(payload: PayloadOf<'custom.label'>) {
        return modify({ ...payload, label: `${this.name}:${String(payload.text)}` });
      }
    }
    await using tm = await createTestManager({ plugins: [new Labeler(null, { name: 'lab' })] });
    const r = await tm.invoke('custom.label', { text: 'hi' });
    expect(r.modifiedPayload).toEqual({ text: 'hi', label: 'lab:hi' });
    const r2 = await tm.invoke('custom.relabel', { text: 'yo' });
    expect(r2.modifiedPayload).toEqual({ text: 'yo', label: 'lab:yo' });
  });

  it('registers plugin sets and single function hooks', async () => {
    const tagger = definePlugin({
      name: 'tagger',
      hooks: { tool_post_invoke: () => allow({ tagged: true }) },
    });
    const counter = definePlugin({
      name: 'counter',
      hooks: { tool_post_invoke: () => allow({ counted: 1 }) },
    });
    await using tm = await createTestManager({
      plugins: [pluginSet('post', [tagger, pluginSet('inner', [counter])])],
    });
    const [hookName, handler] = hookHandler('tool_post_invoke', (p) => allow({ tool: p.name }));
    const single = tm.manager.registerHook(hookName, handler, { name: 'single' });
    const r = await tm.invoke('tool_post_invoke', { name: 'search', result: 1 });
    expect(r.metadata).toEqual({ tagged: true, counted: 1, tool: 'search' });
    await single.dispose();
    const r2 = await tm.invoke('tool_post_invoke', { name: 'search', result: 1 });
    expect(r2.metadata).toEqual({ tagged: true, counted: 1 });
  });

  it('loads a YAML config of node:// sdk plugins and reports background (fire_and_forget) failures', async () => {
    await using tm = await createTestManager({
      settings: { logger: quiet },
      baseDir: fixtures,
      config: [
        'plugins:',
        '  - name: words',
        '    kind: node://./word-filter.ts',
        '    hooks: [prompt_pre_fetch, tool_pre_invoke]',
        '    config: { words: [secret] }',
        '  - name: masker',
        '    kind: node://./word-filter.ts#factory',
        '    hooks: [prompt_pre_fetch]',
        '    mode: transform',
        '    config: { words: [hidden] }',
      ].join('\n'),
      plugins: [
        {
          plugin: definePlugin({
            name: 'bg',
            hooks: {
              tool_pre_invoke() {
                throw new Error('telemetry down');
              },
            },
          }),
          entry: { mode: 'fire_and_forget' },
        },
      ],
    });
    const denied = await tm.invoke('prompt_pre_fetch', { prompt_id: 'p', args: { q: 'the secret' } });
    expect(denied.violation).toMatchObject({
      code: 'word_blocked',
      details: { word: 'secret' },
      pluginName: 'words',
    });
    const masked = await tm.invoke('prompt_pre_fetch', { prompt_id: 'p', args: { q: 'a hidden thing' } });
    expect(masked.modifiedPayload).toEqual({ prompt_id: 'p', args: { q: 'a *** thing' } });
    const t = await tm.invoke('tool_pre_invoke', { name: 'x', args: {} });
    expect(t.metadata).toEqual({ initialized: true, by: 'words' });
    expect(t.backgroundErrors).toHaveLength(1);
    expect(t.backgroundErrors[0]).toMatchObject({ pluginName: 'bg', code: 'plugin_error' });
    expect(t.backgroundErrors[0]?.message).toMatch(/telemetry down/);
    expect(tm.logs).toEqual([]); // a logger was given in settings
  });

  it('collects what the manager logs instead of printing it', async () => {
    const bg = definePlugin({
      name: 'bg',
      hooks: {
        tool_pre_invoke() {
          throw new Error('sink down');
        },
      },
    });
    await using tm = await createTestManager({
      plugins: [{ plugin: bg, entry: { mode: 'fire_and_forget' } }],
    });
    const r = await tm.invoke('tool_pre_invoke', { name: 'x', args: {} });
    expect(r.backgroundErrors).toHaveLength(1);
    expect(tm.logs.some((l) => l.startsWith('warn: ') && l.includes('sink down'))).toBe(true);
  });

  it('passes a partial global context through and numbers request ids', async () => {
    const seen: string[] = [];
    const spy = definePlugin({
      name: 'spy',
      hooks: {
        tool_pre_invoke(_p, ctx) {
          seen.push(`${ctx.globalContext.requestId}/${ctx.globalContext.tenantId ?? '-'}`);
          return allow();
        },
      },
    });
    await using tm = await createTestManager({ plugins: [spy] });
    await tm.invoke('tool_pre_invoke', { name: 'a', args: {} });
    await tm.invoke(
      'tool_pre_invoke',
      { name: 'a', args: {} },
      { globalContext: { tenantId: 't1', requestId: 'r-9' } },
    );
    expect(seen).toEqual(['test-1/-', 'r-9/t1']);
  });

  it('surfaces load errors as coded errors', async () => {
    await expect(
      createTestManager({
        baseDir: fixtures,
        config: { plugins: [{ name: 'ghost', kind: 'node://./ghost.ts', hooks: ['tool_pre_invoke'] }] },
        settings: { logger: quiet },
      }),
    ).rejects.toMatchObject({ code: 'CPEX_ERR_MODULE_NOT_FOUND', plugin: 'ghost' });
    await expect(createTestManager({ plugins: [42 as never] })).rejects.toMatchObject({
      code: 'CPEX_ERR_INVALID_ARGUMENT',
    });
  });
});

describe('probePlugin', () => {
  it('implements exactly the configured hooks with the configured behaviour', async () => {
    const p = probePlugin(
      { behaviour: { kind: 'deny', code: 'c', reason: 'r' }, hooks: ['a', 'b'] },
      { name: 'pr' },
    );
    expect(Object.keys(p.hooks)).toEqual(['a', 'b']);
    expect(await p.hooks.a?.({}, {} as never, undefined)).toEqual({
      continueProcessing: false,
      violation: { code: 'c', reason: 'r' },
    });
    expect(() => probePlugin({}, { name: 'pr' })).toThrow(/config.behaviour/);
  });
});
