// The host contract as host-python implements it: the manager's hook registry (custom hook
// schemas from manager.defineHook included) reaches the host through FactoryContext.hooks.
import { PluginManager, ResourcePreFetchPayloadSchema } from '@cpex/core';
import { registerPythonHost } from '@cpex/host-python';
import { afterEach, describe, expect, it } from 'vitest';
import { captureLogger, FIXTURES, gc, realCpexPython, shimPython } from './helpers.js';

const managers: PluginManager[] = [];
afterEach(async () => {
  await Promise.allSettled(managers.splice(0).map((m) => m.shutdown()));
});

const python = realCpexPython() ?? shimPython();

const CONFIG = `
plugins:
  - {name: good, kind: hp_plugins.shapes.CustomHookEdit, hooks: [doc.score], priority: 1,
     config: {returns: {uri: "doc://1", metadata: {score: 1}}}}
  - {name: bad, kind: hp_plugins.shapes.CustomHookEdit, hooks: [doc.score], priority: 2,
     config: {returns: {uri: 42}}}
`;

describe.skipIf(!python)('host-python and the host contract', () => {
  it('a custom hook schema defined on the manager is enforced for a Python plugin', async () => {
    const logger = captureLogger();
    const manager = new PluginManager({ logger });
    managers.push(manager);
    registerPythonHost(manager, { logger, python: python!, pythonPath: [FIXTURES] });
    // The schema exists only on this manager; the host learns it through ctx.hooks.
    manager.defineHook('doc.score', {
      payloadSchema: ResourcePreFetchPayloadSchema,
      resultSchema: ResourcePreFetchPayloadSchema,
    });
    await manager.loadConfigText(CONFIG, { baseDir: FIXTURES });
    await manager.initialize();

    const r = await manager.invoke('doc.score', { uri: 'doc://0' }, { globalContext: gc() });
    expect(r.continueProcessing).toBe(false);
    expect(r.violation).toMatchObject({ code: 'plugin_error', pluginName: 'bad' });
    expect(r.violation?.details).toMatchObject({ error_code: 'CPEX_ERR_INVALID_RESULT' });
    // describe(): what `cpex plugins` shows for a Python plugin
    const d = manager.describePlugin('good')!;
    expect(d).toMatchObject({ host: 'python', isolation: 'process', timeouts: 'preemptive' });
    expect(d.details).toMatchObject({ class: 'hp_plugins.shapes.CustomHookEdit', workers: 1 });
    expect(d.details?.pids).toEqual([expect.any(Number)]);
    expect(d.details?.python_version).toEqual(expect.any(String));
    expect(r.violation?.description).toMatch(/modified payload for hook doc\.score .*at uri/);
  });

  it('without a schema for the hook, the same output passes (the schema is what rejected it)', async () => {
    const logger = captureLogger();
    const manager = new PluginManager({ logger });
    managers.push(manager);
    registerPythonHost(manager, { logger, python: python!, pythonPath: [FIXTURES] });
    await manager.loadConfigText(CONFIG, { baseDir: FIXTURES });
    await manager.initialize();
    const r = await manager.invoke('doc.score', { uri: 'doc://0' }, { globalContext: gc() });
    expect(r.continueProcessing).toBe(true);
    expect(r.modifiedPayload).toEqual({ uri: 42 });
  });
});
