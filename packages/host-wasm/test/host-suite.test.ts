/**
 * The shared host behaviour suite, with `isolation: worker` (everything) and `isolation: none`
 * (everything but pre-emption: an in-thread guest call cannot be interrupted, so an explicit
 * timeout on such an entry is a config error — see the exempt list below and docs/hosts/wasm.md).
 */
import { type SuiteApi, testHost } from '@cpex/sdk/testing';
import * as vitest from 'vitest';
import { createWasmHost } from '../src/index.js';
import { CACHE_DIR, REPO_DIR, rustFixtures } from './fixtures.js';
import { wasmProbe } from './probe.js';

const fx = rustFixtures();
const cacheDir = `${CACHE_DIR}/transpiled`;

await testHost({
  name: 'wasm (isolation: worker)',
  makeHost: () => createWasmHost({ cacheDir, isolation: 'worker' }),
  probe: wasmProbe(fx.probe),
  testTimeoutMs: 120_000,
  docsRoot: REPO_DIR,
});

/** Suite tests that need a pre-emptible timeout; exempt for isolation: none. */
export const NONE_EXEMPT = [
  'through a manager: a plugin over its timeout fails with plugin_timeout and the host keeps serving',
  'through a manager: timeout with on_error fail halts with a plugin_timeout violation',
  'honours timeouts as its capabilities say: cooperative hosts abort the timed-out plugin',
];

/**
 * In place of an exempt test (nothing skips: under CI a skip is a failure), check that the
 * exemption is real and declared: the plugin's description says its timeout is cooperative and
 * not pre-emptive, so `cpex plugins` tells the operator.
 */
async function exemptionIsDeclared(): Promise<void> {
  const { PluginManager } = await import('@cpex/core');
  const manager = new PluginManager({ hosts: [createWasmHost({ cacheDir })] });
  await manager.loadConfigText(
    JSON.stringify({
      plugins: [{ name: 'p', kind: `wasm://${fx.probe}`, hooks: ['tool_pre_invoke'], isolation: 'none' }],
    }),
  );
  await manager.initialize();
  try {
    const d = manager.describePlugin('p');
    vitest.expect(d?.timeouts).toBe('cooperative');
    vitest.expect((d?.notes ?? []).join(' ')).toMatch(/not pre-emptive/);
  } finally {
    await manager.shutdown();
  }
}

const api: SuiteApi = {
  ...(vitest as unknown as SuiteApi),
  it: (name, fn, timeout) =>
    NONE_EXEMPT.includes(name)
      ? vitest.it(
          `${name} [exempt: isolation none cannot pre-empt; the description says so]`,
          exemptionIsDeclared,
          timeout,
        )
      : vitest.it(name, fn, timeout),
};

await testHost(
  {
    name: 'wasm (isolation: none)',
    makeHost: () => createWasmHost({ cacheDir, isolation: 'none' }),
    probe: wasmProbe(fx.probe, 'none'),
    testTimeoutMs: 120_000,
    docsRoot: REPO_DIR,
  },
  api,
);

vitest.describe('isolation: none refuses what it cannot honour', () => {
  vitest.it('an explicit timeout on an isolation: none entry is a config error', async () => {
    const { PluginManager } = await import('@cpex/core');
    const manager = new PluginManager({ hosts: [createWasmHost({ cacheDir })] });
    await vitest
      .expect(
        manager
          .loadConfigText(
            JSON.stringify({
              plugins: [
                {
                  name: 'p',
                  kind: `wasm://${fx.probe}`,
                  hooks: ['tool_pre_invoke'],
                  isolation: 'none',
                  timeout: 1,
                },
              ],
            }),
          )
          .then(() => manager.initialize()),
      )
      .rejects.toThrow(/isolation: none .*cannot be honoured/);
  });
});
