/**
 * Native probes: the corpus's probe kinds (`pyref.plugins.probe.*`, `cpex_conformance.probes.MessageProbe`)
 * served by the C build of the probe (@cpex/host-native/testing) through the real native host,
 * so a scenario runs unchanged with `--host native`. Each kind maps to a library variant and,
 * for the classes that fail to load, the config that makes `cpex_plugin_init` fail the same way.
 */
import type { FactoryContext, PluginEntry, PluginFactory } from '@cpex/core';

type Rec = Record<string, unknown>;

interface NativeModules {
  host: typeof import('@cpex/host-native');
  testing: typeof import('@cpex/host-native/testing');
}

let modules: NativeModules | null | undefined;

/** @cpex/host-native and its probe builder, or null when the package or a C compiler is missing. */
export async function loadNativeHost(): Promise<NativeModules | null> {
  if (modules !== undefined) return modules;
  try {
    const host = await import('@cpex/host-native');
    const testing = await import('@cpex/host-native/testing');
    testing.buildProbeLibraries();
    modules = { host, testing };
  } catch {
    modules = null;
  }
  return modules;
}

/** Why `--host native` cannot run here (for the matrix's "unavailable" list). */
export async function nativeUnavailableReason(): Promise<string | undefined> {
  try {
    const testing = await import('@cpex/host-native/testing');
    testing.buildProbeLibraries();
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

const KINDS: Record<
  string,
  { lib: 'libcpex_probe.so' | 'libcpex_extprobe.so' | 'libcpex_partial.so'; config?: Rec }
> = {
  'pyref.plugins.probe.Probe': { lib: 'libcpex_probe.so' },
  'cpex_conformance.probes.MessageProbe': { lib: 'libcpex_probe.so' },
  'pyref.plugins.probe.ExtensionsProbe': { lib: 'libcpex_extprobe.so' },
  'pyref.plugins.probe.PartialPlugin': { lib: 'libcpex_partial.so' },
  'pyref.plugins.probe.CtorFailPlugin': {
    lib: 'libcpex_probe.so',
    config: { init_error: 'constructor failure' },
  },
  'pyref.plugins.probe.SyncHookPlugin': {
    lib: 'libcpex_probe.so',
    config: { init_error: 'hook tool_pre_invoke must be async' },
  },
};

/** The slice of PluginManager the probes need. */
export interface FactoryRegistry {
  registerFactory(kind: string, factory: PluginFactory): void;
}

/**
 * Registers every probe kind on a manager, backed by one native host (isolation as given).
 * Returns the host so the caller can dispose it.
 */
export async function registerNativeProbes(
  manager: FactoryRegistry,
  isolation: 'none' | 'process' = 'none',
): Promise<{ dispose(): Promise<void> }> {
  const m = await loadNativeHost();
  if (!m) throw new Error('@cpex/host-native (and a C compiler for its probe) is not available');
  const libs = m.testing.buildProbeLibraries();
  const host = m.host.createNativeHost({ isolation });
  for (const [kind, spec] of Object.entries(KINDS)) {
    manager.registerFactory(kind, {
      create(entry: PluginEntry, ctx: FactoryContext) {
        const native: PluginEntry = {
          ...entry,
          kind: `native://${libs[spec.lib]}`,
          config: { ...(entry.config ?? {}), ...(spec.config ?? {}) },
        };
        return host.factory.create(native, ctx);
      },
    });
  }
  return host;
}
