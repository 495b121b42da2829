import { PluginManager } from '@cpex/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerWasmHost } from '../src/index.js';
import { CACHE_DIR, rustFixtures } from './fixtures.js';

let fx: ReturnType<typeof rustFixtures>;
beforeAll(() => {
  fx = rustFixtures();
}, 900_000);

describe.each(['none', 'worker'] as const)('smoke (%s)', (isolation) => {
  const managers: PluginManager[] = [];
  afterAll(async () => {
    for (const m of managers) await m.shutdown();
  });
  it('probe allows, modifies and denies', async () => {
    const manager = new PluginManager();
    managers.push(manager);
    const host = registerWasmHost(manager, { cacheDir: `${CACHE_DIR}/transpiled`, isolation });
    await manager.loadConfigText(
      JSON.stringify({
        plugins: [
          {
            name: 'mod',
            kind: `wasm://${fx.probe}`,
            hooks: ['tool_pre_invoke'],
            priority: 1,
            config: { set_args: { y: 2 }, metadata: { m: 1 }, record: true, global_state: { g: 1 } },
          },
          {
            name: 'deny',
            kind: `wasm://${fx.probe}`,
            hooks: ['tool_pre_invoke'],
            priority: 2,
            config: { deny: { code: 'nope', reason: 'because' } },
          },
        ],
      }),
    );
    await manager.initialize();
    const r = await manager.invoke(
      'tool_pre_invoke',
      { name: 't', args: { x: 1 } },
      { globalContext: { requestId: '1', state: {}, metadata: {} } },
    );
    expect(r.violation?.code).toBe('nope');
    expect(r.modifiedPayload).toEqual({ name: 't', args: { x: 1, y: 2 } });
    expect(r.metadata.m).toBe(1);
    expect(r.contextTable?.toJSON().mod?.state).toEqual({ calls: ['tool_pre_invoke'] });
    await host.dispose();
  });
});
