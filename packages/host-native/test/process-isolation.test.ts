// isolation: process — every hostile fixture fails only its own calls: a segfault and a hang
// fail the call and the child restarts; huge or undecodable output is a coded error; a wrong
// ABI version or interface hash is refused at load without touching the gateway process.
import { PluginManager } from '@cpex/core';
import { registerNativeHost } from '@cpex/host-native';
import { afterEach, describe, expect, it } from 'vitest';
import { gc, LIBS } from './helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function managerWith(plugins: Array<Record<string, unknown>>, settings: Record<string, unknown> = {}) {
  const manager = new PluginManager();
  const host = registerNativeHost(manager, { isolation: 'process', startTimeoutMs: 30_000 });
  cleanups.push(() => host.dispose());
  cleanups.push(() => manager.shutdown());
  await manager.loadConfig({ plugin_settings: settings, plugins } as Parameters<
    PluginManager['loadConfig']
  >[0]);
  await manager.initialize();
  return manager;
}

const probe = (name: string, extra: Record<string, unknown> = {}, lib = LIBS['libcpex_probe.so']) => ({
  name,
  kind: `native://${lib}`,
  hooks: ['tool_pre_invoke'],
  ...extra,
});
const healthy = probe('healthy', { config: { metadata: { healthy: true } }, priority: 10 });
const payload = { name: 't', args: {} };

describe('isolation: process contains hostile libraries', { timeout: 90_000 }, () => {
  it('a segfault fails only that plugin’s call; the child restarts and serves the next call', async () => {
    const m = await managerWith([
      probe('crasher', { config: { crash: true }, on_error: 'ignore', priority: 1 }),
      healthy,
    ]);
    const r = await m.invoke('tool_pre_invoke', payload, { globalContext: gc() });
    expect(r.continueProcessing).toBe(true);
    expect(r.errors[0]?.pluginName).toBe('crasher');
    expect(r.errors[0]?.message).toMatch(/child process (killed by SIGSEGV|exited)/);
    expect(r.metadata.healthy).toBe(true);
    const again = await m.invoke('tool_pre_invoke', payload, { globalContext: gc() });
    expect(again.errors[0]?.pluginName).toBe('crasher');
    expect(again.metadata.healthy).toBe(true);
  });

  it('a hang that ignores its cancel flag is pre-empted: plugin_timeout, child killed and restarted', async () => {
    const m = await managerWith([
      probe('hanger', { config: { hang: true }, timeout: 0.5, on_error: 'ignore', priority: 1 }),
      healthy,
    ]);
    const r = await m.invoke('tool_pre_invoke', payload, { globalContext: gc() });
    expect(r.errors[0]?.code).toBe('plugin_timeout');
    expect(r.metadata.healthy).toBe(true);
    const again = await m.invoke('tool_pre_invoke', payload, { globalContext: gc() });
    expect(again.errors[0]?.code).toBe('plugin_timeout');
    expect(again.metadata.healthy).toBe(true);
  });

  it('huge output is a coded error (never copied across); garbage output is CPEX_ERR_INVALID_RESULT', async () => {
    const m = await managerWith(
      [
        probe('huge', { config: { huge_output: 3_000_000 }, on_error: 'ignore', priority: 1 }),
        probe('garbage', { config: { garbage_output: true }, on_error: 'ignore', priority: 2 }),
        healthy,
      ],
      { max_payload_bytes: 1_000_000 },
    );
    const r = await m.invoke('tool_pre_invoke', payload, { globalContext: gc() });
    expect(r.errors.map((e) => e.pluginName)).toEqual(['huge', 'garbage']);
    expect(r.errors[0]?.message).toMatch(/exceeds max_payload_bytes/);
    expect(r.errors[1]?.message).toMatch(/not valid MessagePack/);
    expect(r.metadata.healthy).toBe(true);
  });

  it.each([
    ['libcpex_wrong_abi.so', 'CPEX_ERR_NATIVE_ABI_MISMATCH'],
    ['libcpex_wrong_hash.so', 'CPEX_ERR_NATIVE_INTERFACE_HASH'],
  ] as const)('%s is refused at load (%s)', async (lib, code) => {
    let text = '';
    try {
      await managerWith([probe('bad', {}, LIBS[lib])]);
    } catch (e) {
      const err = e as Error & { code?: string; cause?: Error & { code?: string } };
      text = `${err.code} ${err.message} ${err.cause?.code ?? ''}`;
    }
    expect(text).toContain(code);
  });
});
