// max_memory_mb on native plugins: honoured by isolation: process (the child's resident memory,
// read from /proc; past it the child is killed and the call fails with CPEX_ERR_WORKER_MEMORY),
// refused by isolation: none, which cannot honour it.
import { PluginManager } from '@cpex/core';
import { createNativeHost } from '@cpex/host-native';
import { afterEach, describe, expect, it } from 'vitest';
import { gc, LIBS } from './helpers.js';

const lib = LIBS['libcpex_probe.so'];
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function managerWith(isolation: 'none' | 'process', plugins: Record<string, unknown>[]) {
  const host = createNativeHost({ isolation });
  cleanups.push(() => host.dispose());
  const manager = new PluginManager({ hosts: [host] });
  cleanups.push(() => manager.shutdown());
  await manager.loadConfigText(JSON.stringify({ plugins }));
  await manager.initialize();
  return manager;
}

const probe = (name: string, behaviour: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  name,
  kind: `native://${lib}`,
  hooks: ['tool_pre_invoke'],
  config: { behaviour },
  ...extra,
});

describe.runIf(process.platform === 'linux')('native max_memory_mb', () => {
  it('isolation: none refuses it with the entry path (it cannot be honoured in the gateway process)', async () => {
    const err = await managerWith('none', [probe('m', { kind: 'allow' }, { max_memory_mb: 256 })]).then(
      () => undefined,
      (e: { code?: string; path?: string; message?: string }) => e,
    );
    expect(err?.code).toBe('CPEX_ERR_CONFIG_INVALID');
    expect(err?.message).toMatch(/max_memory_mb cannot be honoured with isolation: none/);
  });

  it('isolation: process: calls within the cap are untouched; growth past it is CPEX_ERR_WORKER_MEMORY, and the next call is served', async () => {
    const m = await managerWith('process', [
      probe('grow', { kind: 'grow', limitMb: 192 }, { max_memory_mb: 192, on_error: 'ignore', priority: 1 }),
      probe('fits', { kind: 'allow', metadata: { fits: true } }, { max_memory_mb: 192, priority: 2 }),
    ]);
    const r = await m.invoke('tool_pre_invoke', { name: 't', args: {} }, { globalContext: gc() });
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatchObject({ pluginName: 'grow', errorCode: 'CPEX_ERR_WORKER_MEMORY' });
    expect(r.errors[0]?.message).toMatch(
      /went past its max_memory_mb of 192 MiB .* during a call on tool_pre_invoke/,
    );
    expect(r.metadata.fits).toBe(true);
    const again = await m.invoke('tool_pre_invoke', { name: 't', args: {} }, { globalContext: gc() });
    expect(again.errors[0]?.errorCode).toBe('CPEX_ERR_WORKER_MEMORY');
    expect(again.metadata.fits).toBe(true);
  });
});
