import { execFileSync } from 'node:child_process';
import { CpexError, type Extensions, PluginManager } from '@cpex/core';
import { MonotonicSet } from '@cpex/core/extensions';
import { registerPythonHost } from '@cpex/host-python';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CONFORMANCE_PY,
  captureLogger,
  FIXTURES,
  gc,
  managerWith,
  realCpexPython,
  shimPython,
} from './helpers.js';

const managers: PluginManager[] = [];
afterEach(async () => {
  await Promise.allSettled(managers.splice(0).map((m) => m.shutdown()));
});

async function setup(yaml: string, python: string, extra: Parameters<typeof managerWith>[2] = {}) {
  const r = await managerWith(yaml, { python, pythonPath: [CONFORMANCE_PY, FIXTURES] }, extra);
  managers.push(r.manager);
  return r;
}

const PROBES = `
plugins:
  - {name: first, kind: pyref.plugins.probe.Probe, hooks: [tool_pre_invoke, tool_post_invoke], priority: 1,
     config: {trail: true, record: true, global_state: {first: 1}, metadata: {m1: true}}}
  - {name: second, kind: python://pyref.plugins.probe.Probe, hooks: [tool_pre_invoke], priority: 2,
     config: {trail: true, read_global: [first], echo: true}}
  - {name: gate, kind: pyref.plugins.probe.Probe, hooks: [tool_pre_invoke], priority: 3,
     config: {deny: {code: NOPE, reason: not today, description: policy P-1, details: {k: v}}}}
`;

// The unchanged conformance probe runs under both the installed cpex 0.1.4 and the bundled package.
const pythons: Array<[string, string | undefined, 'installed' | 'bundled']> = [
  ['installed cpex 0.1.4', realCpexPython(), 'installed'],
  ['bundled cpex compatibility package', shimPython(), 'bundled'],
];

for (const [label, python, origin] of pythons) {
  describe.skipIf(!python)(`Python plugins through the manager (${label})`, () => {
    it('chains modified payloads, merges global state, halts on a deny and keeps local state across hooks', async () => {
      const { manager, host } = await setup(PROBES, python!);
      const runtime = [...host.plugins][0]!.runtime!;
      expect(runtime.cpex?.origin).toBe(origin);
      expect(runtime.pydantic).toMatch(/^2\./);

      const g = gc('req-1');
      const r = await manager.invoke(
        'tool_pre_invoke',
        { name: 'calc', args: { x: 1 } },
        { globalContext: g },
      );
      expect(r.continueProcessing).toBe(false);
      expect(r.violation).toMatchObject({
        code: 'NOPE',
        reason: 'not today',
        description: 'policy P-1',
        details: { k: 'v' },
      });
      expect(r.violation?.pluginName).toBe('gate');
      expect(r.modifiedPayload).toEqual({ name: 'calc', args: { x: 1, trail: 'first>second' } });
      expect(r.metadata).toMatchObject({ m1: true, 'second.global': { first: 1 } });
      // what the second plugin saw is the pydantic payload re-serialized
      expect(r.metadata['second.saw']).toMatchObject({ name: 'calc', args: { x: 1, trail: 'first' } });
      expect(g.state).toEqual({ first: 1 });
      const table = r.contextTable!.toJSON();
      expect(table.first?.state).toEqual({ calls: ['tool_pre_invoke'] });

      const post = await manager.invoke(
        'tool_post_invoke',
        { name: 'calc', result: { trail: 'x' } },
        { globalContext: gc('req-1'), contextTable: r.contextTable },
      );
      expect(post.continueProcessing).toBe(true);
      expect(post.contextTable!.toJSON().first?.state).toEqual({
        calls: ['tool_pre_invoke', 'tool_post_invoke'],
      });
      expect(post.modifiedPayload).toEqual({ name: 'calc', result: { trail: 'x>first' } });
    });

    it('converts extensions to the Python shapes, withholds credential headers, and maps edits back', async () => {
      const { manager } = await setup(
        `plugins:
  - {name: ext, kind: pyref.plugins.probe.ExtensionsProbe, hooks: [tool_pre_invoke],
     capabilities: [read_headers, append_labels, read_roles], config: {add_label: SCANNED}}`,
        python!,
      );
      const extensions = {
        http: { request_headers: { 'x-trace': 't1', Authorization: 'Bearer s3cret', Cookie: 'c=1' } },
        security: {
          labels: MonotonicSet.from(['PII']),
          subject: { id: 'alice', subject_type: 'user', roles: ['admin'] },
        },
        custom: { tenant: 't' },
      } as unknown as Extensions;
      const r = await manager.invoke(
        'tool_pre_invoke',
        { name: 'calc', args: {} },
        { globalContext: gc(), extensions },
      );
      expect(r.errors).toEqual([]);
      const seen = r.metadata['ext.ext'] as Record<string, unknown>;
      expect(seen.headers).toEqual({ 'x-trace': 't1' }); // Python shape http.headers, credentials withheld
      expect(seen.labels).toEqual(['PII']);
      expect(seen.subject).toMatchObject({ id: 'alice', roles: ['admin'] });
      expect(seen.custom).toEqual({ tenant: 't' });
      const ext = r.modifiedExtensions!;
      expect([...(ext.security?.labels ?? [])].sort()).toEqual(['PII', 'SCANNED']);
      // the withheld headers are not read as an edit: the slot comes back as it was sent
      expect(ext.http?.request_headers).toEqual(extensions.http?.request_headers);
    });

    it('turns a Python exception into a plugin_error naming the plugin and the message', async () => {
      const { manager } = await setup(
        `plugins:\n  - {name: broken, kind: pyref.plugins.probe.Probe, hooks: [tool_pre_invoke], config: {raise: database unavailable}}`,
        python!,
      );
      const r = await manager.invoke('tool_pre_invoke', { name: 'calc', args: {} }, { globalContext: gc() });
      expect(r.continueProcessing).toBe(false);
      expect(r.violation?.code).toBe('plugin_error');
      expect(r.violation?.pluginName).toBe('broken');
      expect(JSON.stringify(r.violation)).toContain('database unavailable');
    });

    it('validates modified payloads coming back (model_copy does not validate in Python)', async () => {
      const { manager } = await setup(
        `plugins:\n  - {name: bad_edit, kind: pyref.plugins.probe.Probe, hooks: [tool_pre_invoke], on_error: ignore, config: {set_fields: {name: 123}}}`,
        python!,
      );
      const r = await manager.invoke('tool_pre_invoke', { name: 'calc', args: {} }, { globalContext: gc() });
      expect(r.payloadModified).toBe(false);
      expect(r.errors[0]?.errorCode).toBe('CPEX_ERR_INVALID_RESULT');
      expect(r.errors[0]?.message).toMatch(/bad_edit.*tool_pre_invoke.*name/);
    });

    it('validates payloads at ingress on the Python side (coded CPEX_ERR_INVALID_PAYLOAD through on_error)', async () => {
      const { manager } = await setup(
        `plugins:\n  - {name: p, kind: pyref.plugins.probe.Probe, hooks: [tool_pre_invoke], on_error: ignore, config: {}}`,
        python!,
      );
      const r = await manager.invoke('tool_pre_invoke', { args: { no: 'name' } } as never, {
        globalContext: gc(),
      });
      expect(r.continueProcessing).toBe(true);
      expect(r.errors).toHaveLength(1);
      expect(r.errors[0]!.pluginName).toBe('p');
      expect(r.errors[0]!.errorCode ?? r.errors[0]!.code).toMatch(/INVALID_PAYLOAD|plugin_error/);
      expect(r.errors[0]!.message).toMatch(/name/);
      expect(r.errors[0]!.message).toMatch(/ToolPreInvokePayload/);
    });
  });
}

const py = shimPython() ?? realCpexPython();

describe.skipIf(!py)('hook resolution and loading (as Python cpex)', () => {
  it('finds @hook-decorated methods, gives custom hooks a plain dict and typed hooks their payload class', async () => {
    const { manager } = await setup(
      `plugins:\n  - {name: d, kind: hp_plugins.shapes.Decorated, hooks: [my.custom_hook, prompt_pre_fetch, resource_pre_fetch]}`,
      py!,
    );
    const c = await manager.invoke('my.custom_hook', { anything: [1, 2] }, { globalContext: gc() });
    expect(c.metadata).toEqual({ got: { anything: [1, 2] }, type: 'dict' });
    const p = await manager.invoke(
      'prompt_pre_fetch',
      { prompt_id: 'p1', args: {} },
      { globalContext: gc() },
    );
    expect(p.metadata).toEqual({ type: 'PromptPrehookPayload' });
    const q = await manager.invoke('resource_pre_fetch', { uri: 'file:///x' }, { globalContext: gc() });
    expect(q.metadata).toEqual({ type: 'ResourcePreFetchPayload' });
  });

  it('hands 3-argument hooks the extensions and returns their edits', async () => {
    const { manager } = await setup(
      `plugins:\n  - {name: e, kind: hp_plugins.shapes.WithExtensions, hooks: [tool_pre_invoke], config: {set_custom: {seen_by: e}}}`,
      py!,
    );
    const r = await manager.invoke(
      'tool_pre_invoke',
      { name: 'calc', args: {} },
      { globalContext: gc(), extensions: { custom: { tenant: 't1' } } as never },
    );
    expect((r.metadata.seen as Record<string, unknown>).custom).toEqual({ tenant: 't1' });
    expect(r.modifiedExtensions?.custom).toEqual({ tenant: 't1', seen_by: 'e' });
  });

  const loadCases: Array<[string, string, RegExp, string]> = [
    ['a non-async hook', 'hp_plugins.shapes.SyncHook', /must be async/, 'CPEX_ERR_HOOK_NOT_IMPLEMENTED'],
    [
      'a hook with the wrong arity',
      'hp_plugins.shapes.WrongArity',
      /2 or 3 parameters/,
      'CPEX_ERR_HOOK_NOT_IMPLEMENTED',
    ],
    [
      'a listed hook the class lacks',
      'hp_plugins.shapes.Partial',
      /has no hook: 'tool_post_invoke'/,
      'CPEX_ERR_HOOK_NOT_IMPLEMENTED',
    ],
    [
      'a constructor that raises',
      'hp_plugins.shapes.CtorFails',
      /constructor failure/,
      'CPEX_ERR_PLUGIN_LOAD',
    ],
    [
      'a missing module',
      'hp_plugins.nope.Missing',
      /cannot import module 'hp_plugins.nope'/,
      'CPEX_ERR_PLUGIN_LOAD',
    ],
    ['a missing class', 'hp_plugins.shapes.Nope', /has no attribute 'Nope'/, 'CPEX_ERR_PLUGIN_LOAD'],
  ];
  for (const [what, kind, message, code] of loadCases) {
    it(`refuses ${what} at load with a coded error naming the plugin`, async () => {
      const manager = new PluginManager({ logger: captureLogger() });
      managers.push(manager);
      registerPythonHost(manager, { python: py!, pythonPath: [FIXTURES] });
      await manager.loadConfigText(
        `plugins:\n  - {name: bad, kind: ${kind}, hooks: [tool_pre_invoke, tool_post_invoke]}`,
      );
      const err = await manager.initialize().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(CpexError);
      expect((err as CpexError).code).toBe(code);
      expect((err as CpexError).plugin).toBe('bad');
      expect((err as CpexError).message).toMatch(message);
    });
  }

  it('runs the plugin initialize() and, on failure, reports it as a load error', async () => {
    const manager = new PluginManager({ logger: captureLogger() });
    managers.push(manager);
    registerPythonHost(manager, { python: py!, pythonPath: [FIXTURES] });
    await manager.loadConfigText(
      `plugins:\n  - {name: lc, kind: hp_plugins.lifecycle.Lifecycle, hooks: [tool_pre_invoke], config: {fail_init: true, log: /dev/null}}`,
    );
    await expect(manager.initialize()).rejects.toThrow(/initialize refused/);
  });
});

describe('interpreter problems are clear, coded errors', () => {
  it('names the missing interpreter', async () => {
    const manager = new PluginManager({ logger: captureLogger() });
    managers.push(manager);
    registerPythonHost(manager, { python: '/nonexistent/python3.99' });
    await manager.loadConfigText(`plugins:\n  - {name: p, kind: pkg.mod.Plugin, hooks: [tool_pre_invoke]}`);
    const err = (await manager.initialize().catch((e: unknown) => e)) as CpexError;
    expect(err.code).toBe('CPEX_ERR_HOST_UNAVAILABLE');
    expect(err.message).toContain('/nonexistent/python3.99');
  });

  it.skipIf(!process.env.CPEX_TEST_NO_PYDANTIC_PYTHON && !isBarePython('/usr/bin/python3'))(
    'says pydantic 2 is required when the interpreter has none',
    async () => {
      const bare = process.env.CPEX_TEST_NO_PYDANTIC_PYTHON ?? '/usr/bin/python3';
      const manager = new PluginManager({ logger: captureLogger() });
      managers.push(manager);
      registerPythonHost(manager, { python: bare });
      await manager.loadConfigText(`plugins:\n  - {name: p, kind: pkg.mod.Plugin, hooks: [tool_pre_invoke]}`);
      const err = (await manager.initialize().catch((e: unknown) => e)) as CpexError;
      expect(err.code).toBe('CPEX_ERR_HOST_UNAVAILABLE');
      expect(err.message).toMatch(/pydantic 2 is required/);
      expect(err.message).toContain(bare);
    },
  );

  it('rejects a kind that is not a class path and isolated_venv without class_name (config errors)', async () => {
    const manager = new PluginManager({ logger: captureLogger() });
    managers.push(manager);
    registerPythonHost(manager, { python: py ?? 'python3' });
    await manager.loadConfigText(
      `plugins:\n  - {name: v, kind: isolated_venv, hooks: [tool_pre_invoke], config: {}}`,
    );
    const err = (await manager.initialize().catch((e: unknown) => e)) as CpexError;
    expect(err.code).toBe('CPEX_ERR_CONFIG_INVALID');
    expect(err.message).toContain('class_name');
  });
});

function isBarePython(p: string): boolean {
  try {
    execFileSync(p, ['-c', 'import pydantic'], { stdio: 'ignore' });
    return false;
  } catch (e) {
    return (e as { status?: number }).status === 1;
  }
}
