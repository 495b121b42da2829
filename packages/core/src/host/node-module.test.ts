import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CpexError } from '../errors/index.js';
import { PluginManager } from '../manager.js';
import { HookRegistry } from '../hooks/registry.js';
import type { FactoryContext, GlobalContext, PluginContext, PluginEntry } from '../types.js';
import { createNodeModuleFactory, parseNodeKind } from './node-module.js';

let dir: string;

const FILES: Record<string, string> = {
  'object.mjs': `
    export default {
      name: 'obj',
      hooks: { tool_pre_invoke: (p) => ({ continueProcessing: true, metadata: { saw: p.name } }) },
    };
    export const other = { name: 'other', tool_pre_invoke() { return { metadata: { from: 'other' } }; } };
    export const notAPlugin = { a: 1 };
    export const answer = 42;
    export const aSet = { kind: 'plugin-set', name: 'set', members: [] };
    export function LegacyGuard(config) { this.name = 'legacy'; this.limit = config.limit; }
    LegacyGuard.prototype.tool_pre_invoke = function () { return { metadata: { limit: this.limit } }; };
  `,
  'klass.mjs': `
    export class Guard {
      constructor(config, entry) { this.config = config; this.name = entry.name; }
      tool_pre_invoke(p) { return { continueProcessing: p.name !== this.config.blocked, metadata: { by: this.name } }; }
    }
  `,
  'factory.mjs': `
    export default async (config, entry) => ({
      name: entry.name,
      hooks: { tool_pre_invoke: () => ({ metadata: { greeting: config.greeting, hooks: entry.hooks } }) },
    });
    export const returnsString = () => 'nope';
    export const throws = () => { throw new Error('factory boom'); };
  `,
  'no-default.mjs': 'export const a = 1; export const b = { name: "b" };',
  'broken.mjs': 'throw new Error("module top-level boom");',
  'bad-import.mjs': 'import "./does-not-exist.mjs"; export default { name: "x" };',
  'typed.ts': `
    const threshold: number = 3;
    export default { name: 'typed', hooks: { tool_pre_invoke: (p: { args: unknown[] }) => ({ metadata: { n: threshold } }) } };
  `,
  'sub/nested.mjs':
    'export default { name: "nested", hooks: { tool_pre_invoke: () => ({ metadata: { nested: true } }) } };',
  'node_modules/fake-cpex-plugin/package.json': JSON.stringify({
    name: 'fake-cpex-plugin',
    type: 'module',
    exports: { '.': './index.js' },
  }),
  'node_modules/fake-cpex-plugin/index.js':
    'export default { name: "pkg", hooks: { tool_pre_invoke: () => ({ metadata: { pkg: true } }) } };',
};

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'cpex-node-module-'));
  for (const [rel, text] of Object.entries(FILES)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function entry(kind: string, config: Record<string, unknown> | null = null): PluginEntry {
  return {
    name: 'p1',
    kind,
    hooks: ['tool_pre_invoke'],
    mode: 'sequential',
    priority: 100,
    onError: 'fail',
    capabilities: [],
    conditions: [],
    config,
    tags: [],
    extra: {},
  };
}

function ctx(baseDir = dir, pluginDirs: string[] = []): FactoryContext {
  return {
    baseDir,
    pluginDirs,
    settings: {} as FactoryContext['settings'],
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    hooks: new HookRegistry(),
  };
}

const pctx = {} as PluginContext;
const payload = { name: 'search', args: {} };

async function create(kind: string, config: Record<string, unknown> | null = null, baseDir = dir) {
  return createNodeModuleFactory().create(entry(kind, config), ctx(baseDir));
}

async function failure(kind: string, config: Record<string, unknown> | null = null): Promise<CpexError> {
  try {
    await create(kind, config);
  } catch (e) {
    expect(e).toBeInstanceOf(CpexError);
    return e as CpexError;
  }
  throw new Error(`expected ${kind} to fail`);
}

describe('parseNodeKind', () => {
  it('splits the module and the export', () => {
    expect(parseNodeKind('node://./a/b.ts#Named')).toEqual({ specifier: './a/b.ts', exportName: 'Named' });
    expect(parseNodeKind('node://pkg')).toEqual({ specifier: 'pkg', exportName: 'default' });
    expect(parseNodeKind('node:///abs/x.js#')).toEqual({ specifier: '/abs/x.js', exportName: 'default' });
  });
});

describe('node:// factory: the export contract', () => {
  it('accepts a plugin object as the default export', async () => {
    const inst = await create('node://./object.mjs');
    expect(inst.host.supportsTimeouts).toBe('cooperative');
    expect(inst.plugin?.name).toBe('obj');
    expect(await inst.handler('tool_pre_invoke')?.(payload, pctx, undefined)).toEqual({
      continueProcessing: true,
      metadata: { saw: 'search' },
    });
    expect(inst.handler('tool_post_invoke')).toBeUndefined();
  });

  it('accepts a named export after #, with methods named after hooks', async () => {
    const inst = await create('node://./object.mjs#other');
    expect(await inst.handler('tool_pre_invoke')?.(payload, pctx, undefined)).toEqual({
      metadata: { from: 'other' },
    });
  });

  it('constructs a class with the entry config and the entry', async () => {
    const inst = await create('node://./klass.mjs#Guard', { blocked: 'search' });
    expect(inst.plugin?.name).toBe('p1');
    expect(await inst.handler('tool_pre_invoke')?.(payload, pctx, undefined)).toEqual({
      continueProcessing: false,
      metadata: { by: 'p1' },
    });
  });

  it('constructs a down-levelled (function + prototype) class', async () => {
    const inst = await create('node://./object.mjs#LegacyGuard', { limit: 7 });
    expect(await inst.handler('tool_pre_invoke')?.(payload, pctx, undefined)).toEqual({
      metadata: { limit: 7 },
    });
  });

  it('calls a (possibly async) factory function with (config, entry)', async () => {
    const inst = await create('node://./factory.mjs', { greeting: 'hi' });
    expect(await inst.handler('tool_pre_invoke')?.(payload, pctx, undefined)).toEqual({
      metadata: { greeting: 'hi', hooks: ['tool_pre_invoke'] },
    });
  });

  it('resolves relative paths against baseDir (not the cwd), absolute paths and file: URLs as given', async () => {
    const inst = await create('node://./nested.mjs', null, path.join(dir, 'sub'));
    expect(inst.plugin?.name).toBe('nested');
    const abs = await create(`node://${path.join(dir, 'sub', 'nested.mjs')}`, null, '/');
    expect(abs.plugin?.name).toBe('nested');
  });

  it('resolves a bare package specifier from baseDir', async () => {
    const inst = await create('node://fake-cpex-plugin');
    expect(await inst.handler('tool_pre_invoke')?.(payload, pctx, undefined)).toEqual({
      metadata: { pkg: true },
    });
  });

  it('finds a bare specifier under plugin_dirs before looking for a package', async () => {
    const inst = await createNodeModuleFactory().create(
      entry('node://nested.mjs'),
      ctx(dir, [path.join(dir, 'sub')]),
    );
    expect(inst.plugin?.name).toBe('nested');
    const viaPackage = await createNodeModuleFactory().create(
      entry('node://fake-cpex-plugin'),
      ctx(dir, ['sub']),
    );
    expect(viaPackage.plugin?.name).toBe('pkg');
  });

  it('imports TypeScript modules when a TS loader is active', async () => {
    const inst = await create('node://./typed.ts');
    expect(await inst.handler('tool_pre_invoke')?.(payload, pctx, undefined)).toEqual({ metadata: { n: 3 } });
  });
});

describe('node:// factory: errors name the plugin, the kind and the module', () => {
  it('a missing module is CPEX_ERR_MODULE_NOT_FOUND', async () => {
    const e = await failure('node://./missing.mjs');
    expect(e.code).toBe('CPEX_ERR_MODULE_NOT_FOUND');
    expect(e.plugin).toBe('p1');
    expect(e.message).toContain('plugin p1');
    expect(e.message).toContain('kind node://./missing.mjs');
    expect(e.message).toContain(path.join(dir, 'missing.mjs'));
    expect(e.message).toMatch(/was not found/);
  });

  it('a missing package is CPEX_ERR_MODULE_NOT_FOUND', async () => {
    const e = await failure('node://no-such-cpex-package-xyz');
    expect(e.code).toBe('CPEX_ERR_MODULE_NOT_FOUND');
    expect(e.message).toContain('no-such-cpex-package-xyz');
  });

  it('a module that throws on import, or whose import is missing, is CPEX_ERR_MODULE_NOT_FOUND with the cause', async () => {
    const e = await failure('node://./broken.mjs');
    expect(e.code).toBe('CPEX_ERR_MODULE_NOT_FOUND');
    expect(e.message).toMatch(/failed to import: module top-level boom/);
    expect((e.cause as Error).message).toBe('module top-level boom');
    const e2 = await failure('node://./bad-import.mjs');
    expect(e2.code).toBe('CPEX_ERR_MODULE_NOT_FOUND');
    expect(e2.message).toMatch(/could not load one of its imports/);
    expect(e2.message).toContain('does-not-exist.mjs');
  });

  it('an empty module part is CPEX_ERR_MODULE_NOT_FOUND', async () => {
    const e = await failure('node://#x');
    expect(e.code).toBe('CPEX_ERR_MODULE_NOT_FOUND');
  });

  it('no default export is CPEX_ERR_EXPORT_NOT_FOUND listing the exports', async () => {
    const e = await failure('node://./no-default.mjs');
    expect(e.code).toBe('CPEX_ERR_EXPORT_NOT_FOUND');
    expect(e.message).toMatch(/no default export \(exports: a, b\)/);
    expect(e.message).toContain('node://./no-default.mjs#<export>');
  });

  it('a missing named export is CPEX_ERR_EXPORT_NOT_FOUND', async () => {
    const e = await failure('node://./object.mjs#Nope');
    expect(e.code).toBe('CPEX_ERR_EXPORT_NOT_FOUND');
    expect(e.message).toContain('no export named "Nope"');
    expect(e.details?.available).toEqual(expect.arrayContaining(['default', 'other', 'answer']));
  });

  it.each([
    ['node://./object.mjs#answer', /export "answer" is a number/],
    ['node://./object.mjs#notAPlugin', /is an object with keys \[a\]/],
    ['node://./factory.mjs#returnsString', /a factory\) returned something that is a string/],
    ['node://./object.mjs#aSet', /is a PluginSet, not one plugin: it is an object/],
  ])('%s is CPEX_ERR_EXPORT_SHAPE', async (kind, message) => {
    const e = await failure(kind);
    expect(e.code).toBe('CPEX_ERR_EXPORT_SHAPE');
    expect(e.plugin).toBe('p1');
    expect(e.message).toMatch(message);
    expect(e.message).toMatch(
      /expected a plugin object \(definePlugin\), a Plugin subclass, or a factory function/,
    );
  });

  it('a factory that throws is CPEX_ERR_PLUGIN_LOAD with the cause', async () => {
    const e = await failure('node://./factory.mjs#throws');
    expect(e.code).toBe('CPEX_ERR_PLUGIN_LOAD');
    expect(e.message).toMatch(/calling export "throws" threw: factory boom/);
  });
});

describe('node:// through the PluginManager', () => {
  const gc = (): GlobalContext => ({ requestId: 'r1', state: {}, metadata: {} });

  it('loads a node:// plugin from YAML relative to the config file and runs it', async () => {
    const yamlPath = path.join(dir, 'config.yaml');
    writeFileSync(
      yamlPath,
      [
        'plugins:',
        '  - name: guard',
        '    kind: node://./klass.mjs#Guard',
        '    hooks: [tool_pre_invoke]',
        '    config: { blocked: rm }',
      ].join('\n'),
    );
    const m = new PluginManager();
    await m.loadConfig(yamlPath);
    await m.initialize();
    const ok = await m.invoke('tool_pre_invoke', { name: 'search', args: {} }, { globalContext: gc() });
    expect(ok.continueProcessing).toBe(true);
    expect(ok.metadata).toEqual({ by: 'guard' });
    const blocked = await m.invoke('tool_pre_invoke', { name: 'rm', args: {} }, { globalContext: gc() });
    expect(blocked.continueProcessing).toBe(false);
    expect(blocked.violation?.pluginName).toBe('guard');
    await m.shutdown();
  });

  it("resolves node://<name> under the config's plugin_dirs", async () => {
    const m = new PluginManager();
    await m.loadConfigText(
      'plugin_dirs: [sub]\nplugins:\n  - {name: n, kind: "node://nested.mjs", hooks: [tool_pre_invoke]}\n',
      { baseDir: dir },
    );
    await m.initialize();
    const r = await m.invoke('tool_pre_invoke', { name: 'search', args: {} }, { globalContext: gc() });
    expect(r.metadata).toEqual({ nested: true });
    await m.shutdown();
  });

  it('a missing module fails initialize() with the coded error naming the plugin', async () => {
    const m = new PluginManager({ logger: { debug() {}, info() {}, warn() {}, error() {} } });
    await m.loadConfigText(
      'plugins:\n  - {name: ghost, kind: "node://./ghost.mjs", hooks: [tool_pre_invoke]}\n',
      {
        baseDir: dir,
      },
    );
    await expect(m.initialize()).rejects.toMatchObject({
      code: 'CPEX_ERR_MODULE_NOT_FOUND',
      plugin: 'ghost',
    });
  });
});
