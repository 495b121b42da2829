/**
 * WASM probes for `--host wasm`: the reference `Probe` and the corpus's `MessageProbe` kinds run
 * as the Rust probe component (packages/host-wasm/fixtures/rust/probe, the same config-driven
 * behaviour as ../shared/conformance/python/pyref/plugins/probe.py) on @cpex/host-wasm with
 * `isolation: worker`. Kinds that test Python-API edge cases (ExtensionsProbe, CtorFailPlugin,
 * PartialPlugin, SyncHookPlugin) have no WASM counterpart and stay on the TS probes; docs/conformance.md
 * lists them with the other exemptions.
 */
import type { FactoryContext, PluginEntry, PluginFactory } from '@cpex/core';

export const WASM_PROBE_KINDS = [
  'pyref.plugins.probe.Probe',
  'cpex_conformance.probes.MessageProbe',
] as const;

interface SharedHost {
  factory: PluginFactory;
  dispose(): Promise<void>;
}
let shared: Promise<{ host: SharedHost; probe: string }> | undefined;

async function wasmHost() {
  shared ??= (async () => {
    const { createWasmHost } = await import('@cpex/host-wasm');
    const fixtures = await import('../../../packages/host-wasm/test/fixtures.js');
    const probe = fixtures.rustFixtures().probe;
    const host = createWasmHost({
      cacheDir: `${fixtures.CACHE_DIR}/transpiled`,
      isolation: 'worker',
      workers: 4,
    });
    return { host, probe };
  })();
  return shared;
}

/** Registers the WASM probe kinds on a manager (one shared host for the whole run). */
export async function registerWasmProbes(manager: {
  registerFactory(kind: string, f: PluginFactory): void;
}): Promise<void> {
  const { host, probe } = await wasmHost();
  const factory: PluginFactory = {
    create: (entry: PluginEntry, ctx: FactoryContext) =>
      host.factory.create({ ...entry, kind: `wasm://${probe}` }, ctx),
  };
  for (const kind of WASM_PROBE_KINDS) manager.registerFactory(kind, factory);
}

/** Disposes the shared WASM host (its worker threads) at the end of a run. */
export async function disposeWasmProbes(): Promise<void> {
  const s = shared;
  shared = undefined;
  if (s) await (await s).host.dispose();
}
