// biome-ignore-all lint/suspicious/noExplicitAny: the test plugins read untyped payloads
// JSON has no NaN or Infinity, and JSON.stringify writes them as null without a word. A payload,
// context or extension value another plugin (TypeScript, a native library) left as NaN/±Infinity
// must not reach a Python plugin as None: that plugin's call fails with CPEX_ERR_INVALID_PAYLOAD
// naming the value's path (its on_error decides), and the value itself is never changed.
import { PluginManager } from '@cpex/core';
import { createPythonHost } from '@cpex/host-python';
import { afterEach, describe, expect, it } from 'vitest';
import { FIXTURES, gc, realCpexPython, shimPython } from './helpers.js';

const py = shimPython() ?? realCpexPython();
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function withPython(setter: (payload: any, ctx: any) => unknown) {
  const host = createPythonHost({ python: py!, pythonPath: [FIXTURES] });
  cleanups.push(() => host.dispose());
  const manager = new PluginManager({ hosts: [host] });
  cleanups.push(() => manager.shutdown());
  manager.register(
    {
      name: 'ts_first',
      hooks: { tool_pre_invoke: (payload: any, ctx: any) => setter(payload, ctx) as never },
    },
    { priority: 1 },
  );
  await manager.loadConfigText(
    JSON.stringify({
      plugins: [
        {
          name: 'py_next',
          kind: 'hp_plugins.suite_probe.SuiteProbe',
          hooks: ['tool_pre_invoke'],
          priority: 2,
          on_error: 'ignore',
          config: {
            behaviour: { kind: 'modify', set: { name: 'seen_by_python' } },
            hooks: ['tool_pre_invoke'],
          },
        },
      ],
    }),
    { baseDir: FIXTURES },
  );
  await manager.initialize();
  return manager;
}

describe.skipIf(!py)('non-finite numbers never reach Python as None', () => {
  for (const [label, v] of [
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['-Infinity', Number.NEGATIVE_INFINITY],
  ] as const) {
    it(`a payload value ${label} fails the Python call with its path; the value is not changed`, async () => {
      const manager = await withPython((payload) => ({
        modifiedPayload: { ...payload, args: { ...payload.args, deep: [{ v }] } },
      }));
      const r = await manager.invoke(
        'tool_pre_invoke',
        { name: 't', args: { x: 1 } },
        { globalContext: gc() },
      );
      expect(r.errors).toHaveLength(1);
      expect(r.errors[0]).toMatchObject({ pluginName: 'py_next', errorCode: 'CPEX_ERR_INVALID_PAYLOAD' });
      expect(r.errors[0]?.message).toMatch(
        /payload\.args\.deep\[0\]\.v: .* cannot cross to another language as JSON/,
      );
      expect((r.modifiedPayload as any).name).toBe('t');
      expect(Object.is((r.modifiedPayload as any).args.deep[0].v, v)).toBe(true);
    });
  }

  it('in global state too; a genuine null passes', async () => {
    const bad = await withPython((_p, ctx) => {
      ctx.globalContext.state.score = Number.NaN;
      return {};
    });
    const r = await bad.invoke('tool_pre_invoke', { name: 't', args: {} }, { globalContext: gc() });
    expect(r.errors[0]).toMatchObject({ pluginName: 'py_next', errorCode: 'CPEX_ERR_INVALID_PAYLOAD' });
    expect(r.errors[0]?.message).toMatch(/context\.global_context\.state\.score: NaN/);
    const ok = await withPython((payload) => ({ modifiedPayload: { ...payload, args: { n: null } } }));
    const fine = await ok.invoke('tool_pre_invoke', { name: 't', args: {} }, { globalContext: gc() });
    expect(fine.errors).toEqual([]);
    expect(fine.modifiedPayload).toMatchObject({ name: 'seen_by_python', args: { n: null } });
  });
});
