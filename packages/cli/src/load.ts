/**
 * Load a config into a fresh PluginManager for a CLI command: warnings collected, the hosts the
 * config's kinds need registered (when their packages are installed).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { type Logger, PluginManager } from '@cpex/core';
import { registerNeededHosts } from '@cpex/core/host';
import { type CliIo, EXIT, formatError } from './io.js';

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

/** A manager with `configPath` loaded (not initialized). Throws the manager's coded errors. */
export async function loadConfigForCli(configPath: string, io: CliIo): Promise<LoadedConfig> {
  const file = path.resolve(io.cwd, configPath);
  const warnings: string[] = [];
  const manager = new PluginManager({ logger: collectingLogger(warnings), env: io.env });
  await manager.loadConfig(file);
  const kinds = manager.config?.entries.map((e) => e.kind) ?? [];
  // The installed hosts the kinds need; a missing one is left to the manager's UNKNOWN_KIND error.
  const hosts = await registerNeededHosts(manager, kinds, {
    importer: (pkg) => import(pkg),
    options: (pkg) => hostOptions(pkg, io),
    warn: (message) => warnings.push(message),
  });
  const close = async () => {
    await manager.shutdown().catch(() => {});
    for (const h of hosts) await h.dispose().catch(() => {});
  };
  return { manager, file, warnings, close };
}

/** Print a command's error as coded lines on stderr (one per issue). */
export function reportError(e: unknown, io: CliIo): void {
  for (const line of formatError(e, io.cwd)) io.err(`${line}\n`);
}

/**
 * Run a command's body with `configPath` loaded (nothing is loaded when it is undefined), then
 * close it. Whatever the body or the load throws is reported (`report`, by default the coded lines
 * of `reportError`) and the command exits 1 (EXIT.config).
 */
export async function withConfig(
  configPath: string,
  io: CliIo,
  body: (loaded: LoadedConfig) => Promise<number>,
  report?: (e: unknown) => void,
): Promise<number>;
export async function withConfig(
  configPath: string | undefined,
  io: CliIo,
  body: (loaded: LoadedConfig | undefined) => Promise<number>,
  report?: (e: unknown) => void,
): Promise<number>;
export async function withConfig(
  configPath: string | undefined,
  io: CliIo,
  body: (loaded: LoadedConfig) => Promise<number>,
  report: (e: unknown) => void = (e) => reportError(e, io),
): Promise<number> {
  let loaded: LoadedConfig | undefined;
  try {
    if (configPath !== undefined) loaded = await loadConfigForCli(configPath, io);
    return await body(loaded as LoadedConfig);
  } catch (e) {
    report(e);
    return EXIT.config;
  } finally {
    await loaded?.close();
  }
}
