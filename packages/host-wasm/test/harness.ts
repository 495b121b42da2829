/**
 * What the host-wasm test files share: the hook they call, a fresh global context, and hosts and
 * managers that are shut down after the file's tests.
 */
import { PluginManager } from '@cpex/core';
import { afterAll } from 'vitest';
import { createWasmHost, type WasmHost, type WasmHostOptions } from '../src/index.js';
import { CACHE_DIR } from './fixtures.js';

export const HOOK = 'tool_pre_invoke';
export const gc = () => ({ requestId: `r-${Math.random()}`, state: {}, metadata: {} });

/** Makes hosts and managers for one test file and disposes of them after its tests. */
export function tracked() {
  const hosts: WasmHost[] = [];
  const managers: PluginManager[] = [];
  afterAll(async () => {
    for (const m of managers) await m.shutdown();
    for (const h of hosts) await h.dispose();
  });
  const host = (options: WasmHostOptions = {}) => {
    const h = createWasmHost({ cacheDir: `${CACHE_DIR}/transpiled`, ...options });
    hosts.push(h);
    return h;
  };
  /** A manager on `h` with these plugin entries, loaded and initialized. */
  const manager = async (h: WasmHost, plugins: Array<Record<string, unknown>>) => {
    const m = new PluginManager({ hosts: [h] });
    managers.push(m);
    await m.loadConfigText(JSON.stringify({ plugins }), { baseDir: CACHE_DIR });
    await m.initialize();
    return m;
  };
  return { host, manager };
}
