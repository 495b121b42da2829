/**
 * Load a config into a fresh PluginManager for a CLI command: warnings collected, the hosts the
 * config's kinds need registered (when their packages are installed).
 */
import { existsSync } from 'node:fs';
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
  /** Shut the manager down, then dispose the hosts this load registered. Never throws. */
  close(): Promise<void>;
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

/**
 * Host options from the environment: the Python interpreter is `$CPEX_PYTHON`, else the active
 * virtualenv's, else `./.venv/bin/python` when it exists, else the host's default (`python3`).
 */
function hostOptions(pkg: string, io: CliIo): Record<string, unknown> {
  if (pkg !== '@cpex/host-python' || io.env.CPEX_PYTHON) return {};
  const candidates = [io.env.VIRTUAL_ENV, path.join(io.cwd, '.venv')].filter((d): d is string => Boolean(d));
  for (const dir of candidates) {
    const python = path.join(dir, process.platform === 'win32' ? 'Scripts/python.exe' : 'bin/python');
    if (existsSync(python)) return { python };
  }
  return {};
}

/** Register installed hosts the loaded config's kinds need; a missing one is left to the manager's UNKNOWN_KIND error. */
async function registerNeededHosts(
  manager: PluginManager,
  kinds: readonly string[],
  warnings: string[],
  io: CliIo,
): Promise<Array<{ dispose(): Promise<void> }>> {
  const hosts: Array<{ dispose(): Promise<void> }> = [];
  for (const host of HOSTS) {
    if (!kinds.some((k) => host.needs(k))) continue;
    let mod: Record<string, unknown>;
    try {
      mod = (await import(host.pkg)) as Record<string, unknown>;
    } catch {
      continue; // not installed: initialize() reports CPEX_ERR_UNKNOWN_KIND naming the package
    }
    const register = mod[host.register];
    if (typeof register !== 'function') {
      warnings.push(`${host.pkg} is installed but has no ${host.register}() export`);
      continue;
    }
    const made = await (register as (m: PluginManager, o: Record<string, unknown>) => unknown)(
      manager,
      hostOptions(host.pkg, io),
    );
    if (made && typeof (made as { dispose?: unknown }).dispose === 'function')
      hosts.push(made as { dispose(): Promise<void> });
  }
  return hosts;
}

/** A manager with `configPath` loaded (not initialized). Throws the manager's coded errors. */
export async function loadConfigForCli(configPath: string, io: CliIo): Promise<LoadedConfig> {
  const file = path.resolve(io.cwd, configPath);
  const warnings: string[] = [];
  const manager = new PluginManager({ logger: collectingLogger(warnings), env: io.env });
  await manager.loadConfig(file);
  const kinds = manager.config?.entries.map((e) => e.kind) ?? [];
  const hosts = await registerNeededHosts(manager, kinds, warnings, io);
  const close = async () => {
    await manager.shutdown().catch(() => {});
    for (const h of hosts) await h.dispose().catch(() => {});
  };
  return { manager, file, warnings, close };
}
