/**
 * Warm state per worker thread, and the glue's V8 code cache. No timing asserts: a call is "cold"
 * when its thread had to instantiate the guest for it (the host logs that at debug level), which
 * the warm-state channel is there to prevent, a thread replaced after a timeout included.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { PluginManager } from '@cpex/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createWasmHost, loadComponent, type WasmHost } from '../src/index.js';
import { codeCacheFile, glueAsScript } from '../src/runtime.js';
import { CACHE_DIR, rustFixtures, scratchDir } from './fixtures.js';

const fx = rustFixtures();
const HOOK = 'tool_pre_invoke';
const gc = () => ({ requestId: `r-${Math.random()}`, state: {}, metadata: {} });
const hosts: WasmHost[] = [];
const managers: PluginManager[] = [];
afterAll(async () => {
  for (const m of managers) await m.shutdown();
  for (const h of hosts) await h.dispose();
});

describe('warm state per worker thread', () => {
  it('no call lands on a cold thread, not even after a timeout replaced a thread', async () => {
    const cold: string[] = [];
    const logger = {
      debug: (text: string, fields?: Record<string, unknown>) => {
        if (fields?.cold) cold.push(text);
      },
      info() {},
      warn() {},
      error() {},
    };
    const host = createWasmHost({ cacheDir: `${CACHE_DIR}/transpiled`, workers: 2, logger });
    hosts.push(host);
    const manager = new PluginManager({ hosts: [host] });
    managers.push(manager);
    const probe = (name: string, config: Record<string, unknown>, extra = {}) => ({
      name,
      kind: `wasm://${fx.probe}`,
      hooks: [HOOK],
      on_error: 'ignore',
      ...extra,
      config,
    });
    await manager.loadConfigText(
      JSON.stringify({
        plugins: [
          probe('a', { metadata: { a: 1 } }, { mode: 'concurrent', priority: 1 }),
          probe('b', { metadata: { b: 1 } }, { mode: 'concurrent', priority: 2 }),
          probe('c', { metadata: { c: 1 } }, { mode: 'concurrent', priority: 3 }),
        ],
      }),
    );
    await manager.initialize();
    const round = async () => {
      const rs = await Promise.all(
        Array.from({ length: 4 }, () =>
          manager.invoke(HOOK, { name: 't', args: {} }, { globalContext: gc() }),
        ),
      );
      for (const r of rs) expect(r.metadata).toMatchObject({ a: 1, b: 1, c: 1 });
    };
    await round();
    // A timeout terminates a thread; piscina starts a replacement, which warms a, b and c
    // before it takes a call.
    const spin = new PluginManager({ hosts: [host] });
    managers.push(spin);
    await spin.loadConfigText(
      JSON.stringify({
        plugins: [
          probe('spin', { spin: true, sandbox_policy: { resources: { max_execution_time_ms: 200 } } }),
        ],
      }),
    );
    await spin.initialize();
    const stopped = await spin.invoke(HOOK, { name: 't', args: {} }, { globalContext: gc() });
    expect(stopped.errors[0]?.code).toBe('plugin_timeout');
    for (let i = 0; i < 3; i++) await round();
    expect(cold).toEqual([]);
  });
});

describe('the glue as a script with a V8 code cache', () => {
  it('a transpiled glue becomes a script; anything else is imported as a module', async () => {
    const l = await loadComponent(fx.noop, scratchDir('glue'), 'noop');
    const wrapped = glueAsScript(readFileSync(l.jsFile, 'utf8'));
    expect(wrapped).toMatch(/^\(function \(__cpexGlueUrl, __cpexGlueImport\)/);
    expect(wrapped).not.toMatch(/^export /m);
    expect(glueAsScript('export function instantiate() {}\nexport const other = 1;\n')).toBeUndefined();
    expect(
      glueAsScript('import x from "y";\nexport function instantiate() {}\nexport const _util = {};\n'),
    ).toBeUndefined();
  });

  it('the first call writes the code cache beside the glue (later loads read it)', async () => {
    const dir = scratchDir('codecache');
    const run = async () => {
      const host = createWasmHost({ cacheDir: dir, isolation: 'none' });
      hosts.push(host);
      const m = new PluginManager({ hosts: [host] });
      managers.push(m);
      await m.loadConfigText(
        JSON.stringify({ plugins: [{ name: 'n', kind: `wasm://${fx.noop}`, hooks: [HOOK] }] }),
      );
      await m.initialize();
      const r = await m.invoke(HOOK, { name: 't', args: {} }, { globalContext: gc() });
      expect(r.errors).toEqual([]);
      return (await loadComponent(fx.noop, dir, 'n')).jsFile;
    };
    const jsFile = await run();
    expect(existsSync(codeCacheFile(jsFile))).toBe(true);
    rmSync(dir, { recursive: true, force: true });
  });
});
