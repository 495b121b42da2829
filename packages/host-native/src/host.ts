import { existsSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  attachHost,
  ConfigError,
  CpexError,
  type Extensions,
  type FactoryContext,
  type HostRegistrar,
  type Handler,
  type HostCapabilities,
  type PluginContext,
  type PluginDescription,
  type PluginEntry,
  type PluginFactory,
  type PluginHost,
  type PluginInstance,
} from '@cpex/core/host';
import {
  ABI_VERSION,
  koffi,
  type NativeLibrary,
  type NativeManifest,
  openLibrary,
  WIRE_SCHEMA_VERSION,
} from './abi.js';
import { InProcessNative } from './in-process.js';
import { type NativeHostOptions, threadPoolSize } from './options.js';
import { ProcessNative } from './process-plugin.js';
import { checkSignature, parseTrustedKeys, type SignatureState, type TrustedKey } from './signature.js';

/** The kind scheme this host answers. */
export const NATIVE_SCHEME = 'native://';

/** Capabilities of `isolation: none`: cooperative timeouts (a cancel flag), in the gateway process. */
export const NATIVE_IN_PROCESS_CAPABILITIES: HostCapabilities = Object.freeze({
  supportsTimeouts: 'cooperative',
  isolated: false,
  copiesPayloads: true,
});
/** Capabilities of `isolation: process`: the child is killed and restarted on a timeout. */
export const NATIVE_PROCESS_CAPABILITIES: HostCapabilities = Object.freeze({
  supportsTimeouts: 'preemptive',
  isolated: true,
  copiesPayloads: true,
});

export type NativeIsolation = 'none' | 'process';

/** The host handle returned by `createNativeHost`. */
export interface NativeHost extends PluginHost {
  readonly options: Readonly<NativeHostOptions>;
  /** How many in-process native plugins are alive in this process (each may hold one pool thread). */
  inProcessCount(): number;
}

// Process-wide: every in-process native plugin may hold one libuv pool thread, whatever host made it.
let inProcessLive = 0;

const LIBRARY_EXTENSIONS =
  process.platform === 'darwin' ? ['.dylib', '.so'] : process.platform === 'win32' ? ['.dll'] : ['.so'];

/** `native://<path>` → the file it names: absolute; else relative to the config, plugin_dirs, then search paths. */
export function resolveLibrary(
  kind: string,
  entryName: string,
  ctx: Pick<FactoryContext, 'baseDir' | 'pluginDirs'>,
  searchPaths: readonly string[],
): string {
  const spec = kind.slice(NATIVE_SCHEME.length);
  if (!spec) {
    throw new ConfigError(
      'CPEX_ERR_CONFIG_INVALID',
      `plugin "${entryName}": kind native:// needs a library path (native://path/to/libplugin.so)`,
      {
        plugin: entryName,
        path: `plugins[${entryName}].kind`,
      },
    );
  }
  const dirs = [
    ctx.baseDir,
    ...ctx.pluginDirs.map((d) => path.resolve(ctx.baseDir, d)),
    ...searchPaths.map((d) => path.resolve(d)),
  ];
  const names = [spec];
  // A bare name (no directory, no extension) also finds lib<name>.so / <name>.so.
  if (!spec.includes('/') && !path.extname(spec))
    for (const ext of LIBRARY_EXTENSIONS) names.push(`lib${spec}${ext}`, `${spec}${ext}`);
  const tried: string[] = [];
  for (const name of names) {
    if (path.isAbsolute(name)) {
      tried.push(name);
      if (existsSync(name)) return realpathSync(name);
      continue;
    }
    for (const dir of dirs) {
      const candidate = path.resolve(dir, name);
      tried.push(candidate);
      if (existsSync(candidate) && statSync(candidate).isFile()) return realpathSync(candidate);
    }
  }
  throw new CpexError(
    'CPEX_ERR_PLUGIN_LOAD',
    `plugin "${entryName}": native library ${JSON.stringify(spec)} not found; looked in: ${[...new Set(tried)].join(', ')}`,
    {
      plugin: entryName,
      details: { tried: [...new Set(tried)] },
    },
  );
}

function isolationOf(entry: PluginEntry, fallback: NativeIsolation): NativeIsolation {
  const v = entry.extra.isolation ?? fallback;
  if (v === 'none' || v === 'process') return v;
  throw new ConfigError(
    'CPEX_ERR_CONFIG_INVALID',
    `plugin "${entry.name}": isolation ${JSON.stringify(v)} is not supported by the native host (none | process)`,
    {
      plugin: entry.name,
      path: `plugins[${entry.name}].isolation`,
    },
  );
}

/**
 * The entry's `max_memory_mb` (core's schema checked its range): only `isolation: process` can
 * honour it (the child's resident memory is watched through /proc, so Linux only).
 */
function maxMemoryOf(entry: PluginEntry, isolation: NativeIsolation): number | undefined {
  const v = entry.extra.max_memory_mb;
  if (v === undefined || v === null) return undefined;
  const where = { plugin: entry.name, path: `plugins[${entry.name}].max_memory_mb` };
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
    throw new ConfigError(
      'CPEX_ERR_CONFIG_INVALID',
      `plugin "${entry.name}": max_memory_mb must be a whole number of MiB, got ${JSON.stringify(v)}`,
      where,
    );
  if (isolation !== 'process')
    throw new ConfigError(
      'CPEX_ERR_CONFIG_INVALID',
      `plugin "${entry.name}": max_memory_mb cannot be honoured with isolation: none (the library allocates from the gateway's own memory); use isolation: process`,
      where,
    );
  if (process.platform !== 'linux')
    throw new ConfigError(
      'CPEX_ERR_CONFIG_INVALID',
      `plugin "${entry.name}": max_memory_mb of a native plugin needs Linux (the child's memory is read from /proc)`,
      where,
    );
  return v;
}

function checkHooks(entry: PluginEntry, manifest: NativeManifest, libPath: string): void {
  const missing = entry.hooks.filter((h) => !manifest.hooks.includes(h));
  if (missing.length) {
    throw new CpexError(
      'CPEX_ERR_HOOK_NOT_IMPLEMENTED',
      `plugin "${entry.name}": hooks ${missing.join(', ')} are configured but ${libPath} (manifest "${manifest.name}") implements only: ${manifest.hooks.join(', ') || '(none)'}`,
      {
        plugin: entry.name,
        ...(missing[0] ? { hook: missing[0] } : {}),
        details: { path: libPath, missing, implemented: manifest.hooks },
      },
    );
  }
}

/** The part of an instance both isolation modes share. */
interface Backend {
  initialize(): Promise<void>;
  call(
    hook: string,
    payload: unknown,
    context: PluginContext,
    extensions: Extensions | undefined,
  ): Promise<unknown>;
  shutdown(): Promise<unknown>;
  details?(): Record<string, unknown>;
}

/**
 * Creates the native host: `kind: native://path/to/libplugin.so` loads a library that implements
 * `cpex_plugin.h` (shipped in this package, `@cpex/host-native/cpex_plugin.h`).
 * @example
 * const host = createNativeHost({ isolation: 'process' });
 * const manager = new PluginManager({ hosts: [host] });
 */
export function createNativeHost(options: NativeHostOptions = {}): NativeHost {
  const defaultIsolation = options.isolation ?? 'none';
  if (defaultIsolation !== 'none' && defaultIsolation !== 'process') {
    throw new ConfigError(
      'CPEX_ERR_CONFIG_INVALID',
      `native host option isolation must be none | process, got ${JSON.stringify(defaultIsolation)}`,
      {
        path: 'isolation',
      },
    );
  }
  const instances = new Set<PluginInstance>();
  /** isolation: process backends from creation until their shutdown completed. */
  const processes = new Set<ProcessNative>();
  const searchPaths = options.searchPaths ?? [];
  const keyCache = new Map<string, TrustedKey[]>();

  function trustedKeys(list: readonly string[]): TrustedKey[] {
    const cacheKey = list.join('\n');
    let keys = keyCache.get(cacheKey);
    if (!keys) {
      keys = parseTrustedKeys(list);
      keyCache.set(cacheKey, keys);
    }
    return keys;
  }

  const factory: PluginFactory = {
    async create(entry: PluginEntry, ctx: FactoryContext): Promise<PluginInstance> {
      const isolation = isolationOf(entry, defaultIsolation);
      const maxMemoryMb = maxMemoryOf(entry, isolation);
      const libPath = resolveLibrary(entry.kind, entry.name, ctx, searchPaths);
      const keys = trustedKeys([...(ctx.settings.trustedKeys ?? []), ...(options.trustedKeys ?? [])]);
      const entryRequires = entry.extra.require_signature;
      if (entryRequires !== undefined && typeof entryRequires !== 'boolean') {
        throw new ConfigError(
          'CPEX_ERR_CONFIG_INVALID',
          `plugin "${entry.name}": require_signature must be true or false`,
          {
            plugin: entry.name,
            path: `plugins[${entry.name}].require_signature`,
          },
        );
      }
      const required =
        entryRequires === true || ctx.settings.requireSignature === true || options.requireSignature === true;
      // BEFORE the library is opened: dlopen runs its constructors.
      const signature: SignatureState = checkSignature(libPath, keys, required, {
        plugin: entry.name,
        path: libPath,
      });

      const maxPayloadBytes = options.maxPayloadBytes ?? ctx.settings.maxPayloadBytes;
      const maxPayloadDepth = options.maxPayloadDepth ?? ctx.settings.maxPayloadDepth ?? 128;
      const payloadTypeOf = (hook: string) => ctx.hooks.get(hook)?.payloadType ?? 0;
      const shutdownTimeoutMs = options.shutdownTimeoutMs ?? 5_000;
      const timeoutS = entry.timeout ?? ctx.settings.pluginTimeout;
      let backend: Backend;
      let manifest: NativeManifest;
      let counted = false;
      if (isolation === 'none') {
        const pool = threadPoolSize();
        if (inProcessLive + 1 > pool) {
          throw new ConfigError(
            'CPEX_ERR_CONFIG_INVALID',
            `plugin "${entry.name}": ${inProcessLive + 1} in-process native plugins would exceed the ${pool} threads of the libuv pool (UV_THREADPOOL_SIZE); a hung call holds its thread, so more plugins than threads could starve the gateway. Start the gateway with a larger UV_THREADPOOL_SIZE, or use isolation: process for some plugins`,
            {
              plugin: entry.name,
              path: `plugins[${entry.name}].isolation`,
              details: { threadPoolSize: pool, inProcess: inProcessLive },
            },
          );
        }
        configureKoffi(options.asyncStackBytes);
        const library: NativeLibrary = openLibrary(libPath, entry.name);
        manifest = library.manifest;
        checkHooks(entry, manifest, libPath);
        inProcessLive++;
        counted = true;
        backend = new InProcessNative({
          pluginName: entry.name,
          library,
          config: entry.config,
          maxPayloadBytes,
          maxPayloadDepth,
          payloadTypeOf,
          shutdownTimeoutMs,
        });
      } else {
        const proc = new ProcessNative({
          pluginName: entry.name,
          libraryPath: libPath,
          config: entry.config,
          maxPayloadBytes,
          maxPayloadDepth,
          payloadTypeOf,
          shutdownTimeoutMs,
          timeoutMs: Math.max(1, timeoutS * 1000) + 100,
          startTimeoutMs: options.startTimeoutMs ?? 10_000,
          maxRestarts: options.maxRestarts ?? 5,
          restartWindowMs: options.restartWindowMs ?? 60_000,
          logger: options.logger ?? ctx.logger,
          asyncStackBytes: options.asyncStackBytes,
          maxMemoryMb,
        });
        processes.add(proc);
        try {
          manifest = await proc.start();
          checkHooks(entry, manifest, libPath);
        } catch (e) {
          await proc.shutdown();
          processes.delete(proc);
          throw e;
        }
        backend = proc;
      }

      const capabilities =
        isolation === 'none' ? NATIVE_IN_PROCESS_CAPABILITIES : NATIVE_PROCESS_CAPABILITIES;
      const handlers = new Map<string, Handler>();
      for (const hook of manifest.hooks) {
        handlers.set(
          hook,
          (payload, context, extensions) =>
            backend.call(hook, payload, context, extensions as Extensions | undefined) as Promise<never>,
        );
      }
      let down = false;
      const instance: PluginInstance = {
        host: capabilities,
        handler: (hook) => handlers.get(hook),
        initialize: () => backend.initialize(),
        async shutdown() {
          if (down) return;
          down = true;
          try {
            await backend.shutdown();
          } finally {
            if (counted) inProcessLive--;
            instances.delete(instance);
            if (backend instanceof ProcessNative) processes.delete(backend);
          }
        },
        describe(): PluginDescription {
          const notes =
            isolation === 'none'
              ? [
                  'isolation: none — runs in the gateway process on a libuv pool thread: a crash takes the gateway down, and a call that ignores its cancel flag keeps its thread after the timeout',
                ]
              : [
                  "isolation: process — a supervised child process; a crash or timeout kills and restarts it and fails only this plugin's calls",
                ];
          return {
            host: 'native',
            isolation,
            timeouts: capabilities.supportsTimeouts,
            signature: {
              state: signature.state,
              ...(signature.keyId ? { keyId: signature.keyId } : {}),
              ...(signature.detail ? { detail: signature.detail } : {}),
            },
            details: {
              path: libPath,
              library: manifest.name,
              version: manifest.version,
              abiVersion: ABI_VERSION,
              wireSchemaVersion: WIRE_SCHEMA_VERSION,
              interfaceHash: manifest.interfaceHash,
              hooks: manifest.hooks,
              ...(backend.details?.() ?? {}),
            },
            notes,
          };
        },
      };
      instances.add(instance);
      return instance;
    },
  };

  return {
    name: 'native',
    capabilities: defaultIsolation === 'none' ? NATIVE_IN_PROCESS_CAPABILITIES : NATIVE_PROCESS_CAPABILITIES,
    kinds: [NATIVE_SCHEME],
    factory,
    options,
    inProcessCount: () => inProcessLive,
    async dispose() {
      await Promise.allSettled([...instances].map((i) => i.shutdown?.()));
      // What is left — a child still starting after the manager gave up on it, or one whose
      // shutdown never completes — is killed now; dispose resolves once each has exited.
      await Promise.allSettled([...processes].map((p) => p.terminate()));
      processes.clear();
    },
  };
}

let koffiConfigured = false;
/** koffi's async calls run on a stack of their own (128 KiB by default): give plugins a real one. */
export function configureKoffi(asyncStackBytes = 1024 * 1024): void {
  if (koffiConfigured) return;
  koffiConfigured = true;
  try {
    const k = koffi();
    k.config({ ...k.config(), async_stack_size: asyncStackBytes });
  } catch {
    // Already in use: koffi keeps its defaults (documented).
  }
}

/** The part of PluginManager the native host needs (core's `HostRegistrar`; name kept). */
export type ManagerLike = HostRegistrar;

/**
 * Registers the native host on a manager: `kind: native://path/to/libplugin.so` then loads native
 * plugins (the CLI calls this when a config uses native:// kinds).
 * @example
 * const manager = new PluginManager();
 * registerNativeHost(manager, { searchPaths: ['./plugins/native'] });
 * await manager.loadConfig('plugins/config.yaml');
 */
export function registerNativeHost(manager: ManagerLike, options: NativeHostOptions = {}): NativeHost {
  return attachHost(manager, createNativeHost(options));
}
