/**
 * Load a config into a fresh PluginManager for a CLI command: warnings collected, the hosts the
 * config's kinds need registered (when their packages are installed).
 */
import path from 'node:path';
import { type Logger, PluginManager } from '@cpex/core';
import type { CliIo } from './io.js';

/** Host packages the CLI wires up on demand: which kinds need them and the function that registers them. */
const HOSTS: ReadonlyArray<{ pkg: string; register: string; needs(kind: string): boolean }> = [
  {
    pkg: '@cpex/host-python',
    register: 'registerPythonHost',
    needs: (k) =>
      k.startsWith('python://') || k === 'isolated_venv' || /^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$/.test(k),
  },
  { pkg: '@cpex/host-wasm', register: 'registerWasmHost', needs: (k) => k.startsWith('wasm://') },
  { pkg: '@cpex/host-native', register: 'registerNativeHost', needs: (k) => k.startsWith('native://') },
];

export interface LoadedConfig {
  manager: PluginManager;
  file: string;
  warnings: string[];
}

function collectingLogger(warnings: string[]): Logger {
  return {
    debug() {},
    info() {},
    warn(msg) {
      warnings.push(msg);
    },
    error(msg) {
      warnings.push(msg);
    },
  };
}

/** Register installed hosts the loaded config's kinds need; a missing one is left to the manager's UNKNOWN_KIND error. */
async function registerNeededHosts(
  manager: PluginManager,
  kinds: readonly string[],
  warnings: string[],
): Promise<void> {
  for (const host of HOSTS) {
    if (!kinds.some((k) => host.needs(k))) continue;
    let mod: Record<string, unknown>;
    try {
      mod = (await import(host.pkg)) as Record<string, unknown>;
    } catch {
      continue; // not installed: initialize() reports CPEX_ERR_UNKNOWN_KIND naming the package
    }
    const register = mod[host.register];
    if (typeof register === 'function') await (register as (m: PluginManager) => unknown)(manager);
    else warnings.push(`${host.pkg} is installed but has no ${host.register}() export`);
  }
}

/** A manager with `configPath` loaded (not initialized). Throws the manager's coded errors. */
export async function loadConfigForCli(configPath: string, io: CliIo): Promise<LoadedConfig> {
  const file = path.resolve(io.cwd, configPath);
  const warnings: string[] = [];
  const manager = new PluginManager({ logger: collectingLogger(warnings), env: io.env });
  await manager.loadConfig(file);
  const kinds = manager.config?.entries.map((e) => e.kind) ?? [];
  await registerNeededHosts(manager, kinds, warnings);
  return { manager, file, warnings };
}
