import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import {
  ConfigError,
  CpexError,
  type FactoryContext,
  type Logger,
  type PluginEntry,
  type PluginFactory,
  type PluginHost,
} from '@cpex/core';
import { attachHost, type HostRegistrar, trackLive } from '@cpex/core/host';
import { extensionCodec } from './extensions.js';
import { defaultPython, type PythonHostOptions, WORKER_SCRIPT } from './options.js';
import { PYTHON_HOST_CAPABILITIES, PythonPlugin, type PythonPluginSpec } from './python-plugin.js';
import { defaultVenvCacheDir, ensureVenv } from './venv.js';

/** Kinds this host answers: the `python://` scheme and Rust cpex's `isolated_venv`. */
export const PYTHON_KINDS = ['python://', 'isolated_venv'] as const;

const DOTTED = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/;

/** The host handle returned by `createPythonHost`, with the plugins it created (for `dispose()`). */
export interface PythonHost extends PluginHost {
  readonly options: Readonly<PythonHostOptions>;
  /** Live plugin instances created by this host. */
  readonly plugins: ReadonlySet<PythonPlugin>;
}

function classPathOf(entry: PluginEntry, where: string): string {
  const kind = entry.kind;
  let path: string | undefined;
  if (kind.startsWith('python://')) path = kind.slice('python://'.length);
  else if (kind === 'isolated_venv') {
    const cn = entry.config?.class_name;
    if (typeof cn !== 'string' || !cn) {
      throw new ConfigError(
        'CPEX_ERR_CONFIG_INVALID',
        `plugin "${entry.name}": kind isolated_venv needs config.class_name ("package.module.Class")`,
        { plugin: entry.name, path: `${where}.config.class_name` },
      );
    }
    path = cn;
  } else path = kind;
  if (!DOTTED.test(path)) {
    throw new ConfigError(
      'CPEX_ERR_CONFIG_INVALID',
      `plugin "${entry.name}": "${path}" is not a Python class path ("package.module.Class")`,
      { plugin: entry.name, path: kind === 'isolated_venv' ? `${where}.config.class_name` : `${where}.kind` },
    );
  }
  return path;
}

function positiveInt(v: unknown, fallback: number, entry: PluginEntry, key: string): number {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 64) {
    throw new ConfigError(
      'CPEX_ERR_CONFIG_INVALID',
      `plugin "${entry.name}": ${key} must be an integer 1..64, got ${JSON.stringify(v)}`,
      {
        plugin: entry.name,
        path: `plugins[${entry.name}].${key}`,
      },
    );
  }
  return v;
}

/** The entry's `max_memory_mb` (core's schema checked its range for YAML and in-code entries). */
function maxMemoryOf(entry: PluginEntry): number | undefined {
  const v = entry.extra.max_memory_mb;
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new ConfigError(
      'CPEX_ERR_CONFIG_INVALID',
      `plugin "${entry.name}": max_memory_mb must be a whole number of MiB, got ${JSON.stringify(v)}`,
      { plugin: entry.name, path: `plugins[${entry.name}].max_memory_mb` },
    );
  }
  if (process.platform === 'win32') {
    throw new ConfigError(
      'CPEX_ERR_CONFIG_INVALID',
      `plugin "${entry.name}": max_memory_mb needs POSIX resource limits, not available on Windows`,
      { plugin: entry.name, path: `plugins[${entry.name}].max_memory_mb` },
    );
  }
  return v;
}

/**
 * Where an `isolated_venv` entry's relative `requirements_file` is. First that exists wins:
 * the config's directory (our rule), then beside the plugin package under each import root — as
 * Python cpex does (`<plugin_dir>/<first segment of class_name>/<file>`), and the package's full
 * path (`<root>/a/b/<file>` for `a.b.module.Class`). None: CPEX_ERR_VENV_BUILD listing every place tried.
 */
function findRequirements(
  plugin: string,
  req: string,
  classPath: string,
  baseDir: string,
  roots: string[],
): string {
  if (isAbsolute(req)) return req;
  const parts = classPath.split('.');
  const pkgs = [parts[0]!, parts.slice(0, -2).join('/')].filter((p, i, a) => p && a.indexOf(p) === i);
  const candidates = [resolve(baseDir, req)];
  for (const root of roots) for (const pkg of pkgs) candidates.push(join(root, pkg, req));
  const unique = [...new Set(candidates)];
  const found = unique.find((c) => existsSync(c));
  if (found) return found;
  throw new CpexError(
    'CPEX_ERR_VENV_BUILD',
    `isolated_venv plugin "${plugin}": requirements_file ${JSON.stringify(req)} not found; looked in: ${unique.join(', ')}`,
    { plugin, details: { requirementsFile: req, tried: unique } },
  );
}

/**
 * Creates the Python host: runs existing Python cpex plugins, unchanged, in worker processes.
 * Register it with `manager.registerHost(host)` (or use `registerPythonHost`).
 * @example
 * const host = createPythonHost({ python: '.venv/bin/python', pythonPath: ['plugins'] });
 * manager.registerHost(host);
 */
export function createPythonHost(options: PythonHostOptions = {}): PythonHost {
  const plugins = new Set<PythonPlugin>();
  const pythonPath = (options.pythonPath ?? []).map((p) => resolve(p));
  const spinUs = options.spinUs ?? 100;
  if (typeof spinUs !== 'number' || !Number.isFinite(spinUs) || spinUs < 0 || spinUs > 10_000) {
    throw new ConfigError(
      'CPEX_ERR_CONFIG_INVALID',
      `Python host option spinUs must be a number of microseconds 0..10000, got ${JSON.stringify(spinUs)}`,
      { path: 'spinUs' },
    );
  }

  const factory: PluginFactory = {
    async create(entry: PluginEntry, ctx: FactoryContext) {
      const where = `plugins[${entry.name}]`;
      const classPath = classPathOf(entry, where);
      const logger: Logger = options.logger ?? ctx.logger;
      const timeoutS = entry.timeout ?? ctx.settings.pluginTimeout;
      const cfg = entry.config ?? {};
      const maxPayloadBytes =
        (entry.kind === 'isolated_venv' && typeof cfg.max_content_size === 'number'
          ? cfg.max_content_size
          : undefined) ??
        options.maxPayloadBytes ??
        ctx.settings.maxPayloadBytes;
      const spec: PythonPluginSpec = {
        entry,
        classPath,
        python: options.python ?? defaultPython(),
        script: WORKER_SCRIPT,
        importRoots: [...ctx.pluginDirs.map((d) => resolve(ctx.baseDir, d)), ...pythonPath],
        env: { ...process.env, PYTHONUNBUFFERED: '1', PYTHONIOENCODING: 'utf-8', ...(options.env ?? {}) },
        workers: positiveInt(entry.extra.workers, options.workers ?? 1, entry, 'workers'),
        maxPayloadBytes,
        maxPayloadDepth: ctx.settings.maxPayloadDepth,
        // Our own deadline sits just behind the executor's, which is authoritative (it aborts the signal).
        timeoutMs: Math.max(1, timeoutS * 1000) + 100,
        startTimeoutMs: options.startTimeoutMs ?? 30_000,
        cancelGraceMs: options.cancelGraceMs ?? 1_000,
        shutdownTimeoutMs: options.shutdownTimeoutMs ?? 5_000,
        maxRestarts: options.maxRestarts ?? 5,
        restartWindowMs: options.restartWindowMs ?? 60_000,
        fork: options.fork ?? process.platform !== 'win32',
        maxMemoryMb: maxMemoryOf(entry),
        spinUs,
        logger,
        hooks: ctx.hooks,
      };
      if (entry.kind === 'isolated_venv') {
        const req = cfg.requirements_file;
        if (req !== undefined && typeof req !== 'string') {
          throw new ConfigError(
            'CPEX_ERR_CONFIG_INVALID',
            `plugin "${entry.name}": config.requirements_file must be a path`,
            {
              plugin: entry.name,
              path: `${where}.config.requirements_file`,
            },
          );
        }
        const basePython = spec.python;
        spec.prepare = async () => {
          spec.python = await ensureVenv({
            plugin: entry.name,
            basePython,
            cacheDir: options.venvCacheDir ?? defaultVenvCacheDir(),
            ...(req
              ? {
                  requirementsFile: findRequirements(
                    entry.name,
                    req,
                    classPath,
                    ctx.baseDir,
                    spec.importRoots,
                  ),
                }
              : {}),
            systemSitePackages: cfg.system_site_packages !== false,
            pipTimeoutMs: options.pipTimeoutMs ?? 600_000,
            env: spec.env,
            logger,
          });
        };
        if (typeof cfg.plugin_dir === 'string')
          spec.importRoots.unshift(resolve(ctx.baseDir, cfg.plugin_dir));
      }
      spec.extensionsOut = extensionCodec.out;
      spec.extensionsIn = extensionCodec.in;
      const plugin = new PythonPlugin(spec);
      trackLive(plugins, plugin);
      // Start the processes now so several plugins boot in parallel; initialize() awaits them.
      void plugin.boot();
      return plugin;
    },
  };

  return {
    name: 'python',
    capabilities: PYTHON_HOST_CAPABILITIES,
    kinds: [...PYTHON_KINDS],
    handlesDottedPaths: true,
    factory,
    options,
    plugins,
    async dispose() {
      await Promise.allSettled([...plugins].map((p) => p.shutdown()));
    },
  };
}

/** The part of PluginManager the Python host needs (registerHost when core has it, else registerFactory). */
export type ManagerLike = HostRegistrar;

/**
 * Registers the Python host on a manager: `python://pkg.mod.Class`, bare dotted class paths and
 * `isolated_venv` kinds then load Python cpex plugins.
 * @example
 * const manager = new PluginManager();
 * registerPythonHost(manager, { pythonPath: ['./plugins'] });
 * await manager.loadConfig('plugins/config.yaml');
 */
export function registerPythonHost(manager: ManagerLike, options: PythonHostOptions = {}): PythonHost {
  return attachHost(manager, createPythonHost(options));
}
