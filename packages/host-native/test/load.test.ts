// Loading rules of the in-process native host: manifest checks (ABI version, interface hash,
// hooks), the thread-pool bound, boundary limits and undecodable output.
import { PluginManager } from '@cpex/core';
import {
  ABI_VERSION,
  createNativeHost,
  interfaceHash,
  registerNativeHost,
  threadPoolSize,
} from '@cpex/host-native';
import { HEADER_PATH } from '@cpex/host-native';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { gc, LIBS } from './helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function managerWith(plugins: Array<Record<string, unknown>>, settings: Record<string, unknown> = {}) {
  const manager = new PluginManager();
  const host = registerNativeHost(manager);
  cleanups.push(() => host.dispose());
  cleanups.push(() => manager.shutdown());
  await manager.loadConfig({ plugin_settings: settings, plugins } as Parameters<
    PluginManager['loadConfig']
  >[0]);
  await manager.initialize();
  return manager;
}

async function loadError(
  plugins: Array<Record<string, unknown>>,
): Promise<{ code: string | undefined; text: string }> {
  try {
    await managerWith(plugins);
  } catch (e) {
    const err = e as Error & { code?: string; cause?: Error & { code?: string } };
    return {
      code: err.code,
      text: `${err.code} ${err.message} ${err.cause?.code ?? ''} ${err.cause?.message ?? ''}`,
    };
  }
  throw new Error('expected a load error');
}

const probe = (name: string, extra: Record<string, unknown> = {}, lib = LIBS['libcpex_probe.so']) => ({
  name,
  kind: `native://${lib}`,
  hooks: ['tool_pre_invoke'],
  ...extra,
});

describe('manifest checks at load', () => {
  it('the header and the host agree on the ABI version and interface hash', () => {
    const h = readFileSync(HEADER_PATH, 'utf8');
    expect(h).toContain(`#define CPEX_ABI_VERSION ${ABI_VERSION}u`);
    expect(h).toContain(`#define CPEX_INTERFACE_HASH 0x${interfaceHash().toString(16)}ull`);
  });

  it('a library declaring another ABI version is refused with CPEX_ERR_NATIVE_ABI_MISMATCH', async () => {
    const err = await loadError([probe('old_abi', {}, LIBS['libcpex_wrong_abi.so'])]);
    expect(err.text).toContain('CPEX_ERR_NATIVE_ABI_MISMATCH');
    expect(err.text).toContain('ABI version 2');
  });

  it('a library built for another wire schema is refused with CPEX_ERR_NATIVE_INTERFACE_HASH', async () => {
    const err = await loadError([probe('other_wire', {}, LIBS['libcpex_wrong_hash.so'])]);
    expect(err.text).toContain('CPEX_ERR_NATIVE_INTERFACE_HASH');
  });

  it('a configured hook the manifest does not list is a load error', async () => {
    const err = await loadError([
      probe('partial', { hooks: ['tool_pre_invoke', 'tool_post_invoke'] }, LIBS['libcpex_partial.so']),
    ]);
    expect(err.text).toContain('CPEX_ERR_HOOK_NOT_IMPLEMENTED');
    expect(err.text).toContain('tool_post_invoke');
  });

  it('a failing cpex_plugin_init is a load error carrying its message', async () => {
    const err = await loadError([probe('ctor', { config: { init_error: 'constructor failure' } })]);
    expect(err.text).toContain('constructor failure');
  });

  it('a missing library names every place it looked', async () => {
    const err = await loadError([
      { name: 'nope', kind: 'native://libdoes_not_exist', hooks: ['tool_pre_invoke'] },
    ]);
    expect(err.text).toContain('libdoes_not_exist.so');
  });

  it('isolation: worker is not a native isolation mode', async () => {
    const err = await loadError([probe('w', { isolation: 'worker' })]);
    expect(err.text).toMatch(/isolation "worker" is not supported/);
  });
});

describe('thread-pool bound (isolation: none)', () => {
  it('refuses more in-process native plugins than UV_THREADPOOL_SIZE threads', async () => {
    const pool = threadPoolSize();
    const plugins = Array.from({ length: pool + 1 }, (_, i) => probe(`p${i}`));
    const err = await loadError(plugins);
    expect(err.text).toContain('UV_THREADPOOL_SIZE');
    // ... and the refused load left no plugin counted.
    expect(createNativeHost().inProcessCount()).toBe(0);
  });
});

describe('calls', () => {
  it('returns results from the pool thread, context and global state round-trip', async () => {
    const m = await managerWith([
      probe('rec', { config: { record: true, global_state: { seen: 1 }, read_state: ['calls'] } }),
    ]);
    const g = gc('ctx-1');
    const r1 = await m.invoke('tool_pre_invoke', { name: 't', args: {} }, { globalContext: g });
    expect(r1.continueProcessing).toBe(true);
    expect(g.state).toEqual({ seen: 1 });
    const r2 = await m.invoke(
      'tool_pre_invoke',
      { name: 't', args: {} },
      { globalContext: g, contextTable: r1.contextTable },
    );
    expect(r2.metadata['rec.local']).toEqual({ calls: ['tool_pre_invoke', 'tool_pre_invoke'] });
  });

  it('a result over max_payload_bytes is a coded error; the bytes are freed, not copied', async () => {
    const m = await managerWith([probe('huge', { config: { huge_output: 2_000_000 }, on_error: 'ignore' })], {
      max_payload_bytes: 1_000_000,
    });
    const r = await m.invoke('tool_pre_invoke', { name: 't', args: {} }, { globalContext: gc() });
    expect(r.errors[0]?.message).toMatch(/exceeds max_payload_bytes/);
  });

  it('a request over max_payload_bytes is refused before the call', async () => {
    const m = await managerWith([probe('small', { on_error: 'ignore' })], { max_payload_bytes: 1000 });
    const r = await m.invoke(
      'tool_pre_invoke',
      { name: 't', args: { big: 'x'.repeat(5000) } },
      { globalContext: gc() },
    );
    expect(r.errors[0]?.message).toMatch(/request of \d+ bytes exceeds max_payload_bytes/);
  });

  it('output that is not MessagePack is a coded error, never a crash', async () => {
    const m = await managerWith([probe('garbage', { config: { garbage_output: true } })]);
    const r = await m.invoke('tool_pre_invoke', { name: 't', args: {} }, { globalContext: gc() });
    expect(r.continueProcessing).toBe(false);
    expect(r.violation?.code).toBe('plugin_error');
    expect(JSON.stringify(r.violation)).toMatch(/not valid MessagePack/);
  });

  it('a call that ignores its cancel flag times out, holds only its own lane, and the plugin serves again afterwards', async () => {
    const m = await managerWith([
      probe('stubborn', {
        config: { hang_ms: 800, metadata: { done: 1 } },
        timeout: 0.2,
        on_error: 'ignore',
        priority: 1,
      }),
      probe('other', { config: { metadata: { other: 1 } }, priority: 2 }),
    ]);
    const r = await m.invoke('tool_pre_invoke', { name: 't', args: {} }, { globalContext: gc() });
    expect(r.errors[0]?.code).toBe('plugin_timeout');
    expect(r.metadata.other).toBe(1);
    // Wait until the hung call has returned, then the plugin answers normally (within its timeout? no: it always hangs 800 ms).
    await new Promise((res) => setTimeout(res, 900));
    const again = await m.invoke('tool_pre_invoke', { name: 't', args: {} }, { globalContext: gc() });
    expect(again.errors[0]?.code).toBe('plugin_timeout');
    expect(again.metadata.other).toBe(1);
  });

  it('describe() reports the isolation, timeouts, signature state and manifest', async () => {
    const host = createNativeHost();
    cleanups.push(() => host.dispose());
    const { DEFAULT_SETTINGS, HookRegistry } = await import('@cpex/core');
    const instance = await host.factory.create(
      {
        name: 'd',
        kind: `native://${LIBS['libcpex_probe.so']}`,
        hooks: ['tool_pre_invoke'],
        mode: 'sequential',
        priority: 100,
        onError: 'fail',
        capabilities: [],
        conditions: [],
        config: null,
        tags: [],
        extra: {},
      },
      {
        baseDir: process.cwd(),
        pluginDirs: [],
        settings: { ...DEFAULT_SETTINGS },
        logger: { debug() {}, info() {}, warn() {}, error() {} },
        hooks: new HookRegistry(),
      },
    );
    const d = instance.describe?.();
    expect(d?.host).toBe('native');
    expect(d?.isolation).toBe('none');
    expect(d?.timeouts).toBe('cooperative');
    expect(d?.signature?.state).toBe('not-required');
    expect(d?.details?.library).toBe('cpex-probe');
    expect(d?.details?.interfaceHash).toBe(`0x${interfaceHash().toString(16)}`);
    expect(d?.notes?.[0]).toMatch(/crash takes the gateway down/);
    await instance.shutdown?.();
  });
});

describe('payload bounds (max_payload_depth)', () => {
  it('a request nesting deeper than max_payload_depth is CPEX_ERR_PAYLOAD_TOO_DEEP, before the call', async () => {
    const m = await managerWith([probe('deep', { on_error: 'ignore' })], { max_payload_depth: 8 });
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let i = 0; i < 20; i++) {
      deep.a = {};
      deep = deep.a as Record<string, unknown>;
    }
    const r = await m.invoke('tool_pre_invoke', { name: 't', args: root }, { globalContext: gc() });
    expect(r.errors[0]?.message).toMatch(/deeper than max_payload_depth 8/);
  });
});
