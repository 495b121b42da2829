/**
 * The WASM host: `wasm://path/plugin.wasm` entries run WebAssembly components exporting the
 * cpex:plugin world, sandboxed by our own deny-by-default WASI, in worker threads (default) or
 * in-thread (`isolation: none`).
 */
import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BroadcastChannel } from 'node:worker_threads';
import {
  attachHost,
  ConfigError,
  CpexError,
  type FactoryContext,
  type HostRegistrar,
  type PluginEntry,
  type PluginFactory,
  type PluginHost,
  trackLive,
} from '@cpex/core/host';
import { Piscina } from 'piscina';
import { defaultCacheDir, type LoadedComponent, loadComponent } from './loader.js';
import {
  effectiveTimeMs,
  guestConfig,
  type Isolation,
  parseIsolation,
  parseSandboxPolicy,
} from './policy.js';
import { IN_THREAD_CAPABILITIES, WasmPlugin, WORKER_CAPABILITIES, type WorkerRunner } from './plugin.js';
import type { GuestSpec } from './runtime.js';
import type { WarmMessage, WorkerAnswer, WorkerData, WorkerTask } from './worker.js';

export const WASM_KINDS = ['wasm://'] as const;

export interface WasmHostOptions {
  /** Where transpiled components are cached by content hash (default `~/.cache/cpex-ts/wasm`). */
  cacheDir?: string;
  /** Default isolation for entries without an `isolation:` key (default `worker`). */
  isolation?: Isolation;
  /** Worker threads shared by this host's `isolation: worker` plugins (default min(2, cores)). */
  workers?: number;
  /** `max_fuel` units per millisecond when mapping fuel to time (default 200,000: 1e9 fuel = 5 s). */
  fuelPerMs?: number;
  /** Time a fresh worker may take to instantiate a guest before its call's limit starts (default 30 000 ms). */
  startAllowanceMs?: number;
  /** Overrides the manager's logger for guest output. */
  logger?: FactoryContext['logger'];
}

export interface WasmHost extends PluginHost {
  readonly options: Readonly<WasmHostOptions>;
  readonly plugins: ReadonlySet<WasmPlugin>;
}

function fileOf(entry: PluginEntry, baseDir: string): string {
  const rest = entry.kind.slice('wasm://'.length);
  if (!rest) {
    throw new ConfigError(
      'CPEX_ERR_CONFIG_INVALID',
      `plugin "${entry.name}": kind wasm:// needs a path (wasm://plugin.wasm)`,
      {
        plugin: entry.name,
        path: `plugins[${entry.name}].kind`,
      },
    );
  }
  return path.resolve(baseDir, rest);
}

function workerFile(): { filename: string; execArgv: string[] } {
  const here = fileURLToPath(import.meta.url);
  const ext = path.extname(here);
  const filename = path.join(path.dirname(here), `worker${ext}`);
  // From TypeScript sources (tests, pnpm scripts) the worker needs tsx too.
  return { filename, execArgv: ext === '.ts' ? ['--conditions=@cpex/source', '--import', 'tsx'] : [] };
}

/**
 * Creates the WASM host. Register it with `manager.registerHost(host)` or use `registerWasmHost`.
 * @example
 * const host = createWasmHost({ cacheDir: '.cache/wasm' });
 * manager.registerHost(host);
 */
export function createWasmHost(options: WasmHostOptions = {}): WasmHost {
  const plugins = new Set<WasmPlugin>();
  const cacheDir = path.resolve(options.cacheDir ?? defaultCacheDir());
  const defaultIsolation = options.isolation ?? 'worker';
  if (defaultIsolation !== 'worker' && defaultIsolation !== 'none') {
    throw new ConfigError(
      'CPEX_ERR_CONFIG_INVALID',
      `WASM host option isolation must be worker or none, got ${JSON.stringify(defaultIsolation)}`,
      {
        path: 'isolation',
      },
    );
  }
  const fuelPerMs = options.fuelPerMs ?? 200_000;
  const threads = options.workers ?? Math.max(1, Math.min(2, availableParallelism()));
  let pool: Piscina | undefined;
  let disposed = false;
  let seq = 0;
  const loads = new Map<string, Promise<LoadedComponent>>();
  // Warm state per thread (worker.ts): every live plugin's spec, announced on a channel that a
  // starting thread reads before it takes calls.
  const channelName = `cpex-wasm-${process.pid}-${randomUUID()}`;
  let channel: BroadcastChannel | undefined;
  const live = new Map<string, GuestSpec>();
  const waiting = new Map<string, { threads: Set<number>; done: () => void }>();
  const warmTimeoutMs = options.startAllowanceMs ?? 30_000;

  const getChannel = () => {
    if (!channel) {
      const c = new BroadcastChannel(channelName);
      (c as unknown as { unref?: () => void }).unref?.();
      c.onmessage = (ev: unknown) => {
        const m = (ev as { data: WarmMessage }).data;
        if ('hello' in m) {
          c.postMessage({ specs: [...live.values()], to: m.hello } satisfies WarmMessage);
        } else if ('warmed' in m) {
          const w = waiting.get(m.warmed);
          if (w) {
            w.threads.add(m.thread);
            if (w.threads.size >= threads) w.done();
          }
        }
      };
      channel = c;
    }
    return channel;
  };

  const getPool = () => {
    if (disposed) throw new CpexError('CPEX_ERR_SHUT_DOWN', 'the WASM host is disposed');
    if (!pool) {
      const w = workerFile();
      getChannel();
      // Every thread up front: a call must not wait for a thread to start.
      pool = new Piscina({
        filename: w.filename,
        execArgv: w.execArgv,
        minThreads: threads,
        maxThreads: threads,
        idleTimeout: Number.POSITIVE_INFINITY,
        concurrentTasksPerWorker: 1,
        // An idle thread must keep its event loop running (the warm-state channel): the default
        // synchronous Atomics.wait between tasks would block it until the next call.
        atomics: 'async',
        workerData: { channel: channelName, helloTimeoutMs: warmTimeoutMs } satisfies WorkerData,
      });
    }
    return pool;
  };
  const runner: WorkerRunner = {
    async run(task, signal) {
      return (await getPool().run(task satisfies WorkerTask, { signal })) as WorkerAnswer;
    },
    warm(spec) {
      // Announce the plugin: every running thread instantiates it when idle and says so; a thread
      // that starts later (a replacement after a timeout) instantiates it before taking calls.
      // initialize() waits for one answer per thread, bounded by startAllowanceMs (a thread busy
      // with a long call answers after it; should a call reach it first, that call instantiates
      // the guest, and the time it takes does not count against the call's limit).
      getPool();
      live.set(spec.key, spec);
      return new Promise<void>((resolve) => {
        const timer = setTimeout(finish, warmTimeoutMs);
        function finish() {
          clearTimeout(timer);
          waiting.delete(spec.key);
          resolve();
        }
        waiting.set(spec.key, { threads: new Set(), done: finish });
        getChannel().postMessage({ warm: spec } satisfies WarmMessage);
      });
    },
    drop(key) {
      live.delete(key);
      waiting.get(key)?.done();
      if (channel && !disposed) channel.postMessage({ drop: key } satisfies WarmMessage);
    },
  };

  const factory: PluginFactory = {
    async create(entry: PluginEntry, ctx: FactoryContext) {
      const file = fileOf(entry, ctx.baseDir);
      const policy = parseSandboxPolicy(entry, ctx.baseDir);
      const isolation = parseIsolation(entry, defaultIsolation);
      if (isolation === 'none') {
        const explicit: string[] = [];
        if (entry.timeout !== undefined) explicit.push('timeout');
        if (policy.maxExecutionTimeMs !== undefined)
          explicit.push('config.sandbox_policy.resources.max_execution_time_ms');
        if (policy.maxFuel !== undefined) explicit.push('config.sandbox_policy.resources.max_fuel');
        if (explicit.length) {
          throw new ConfigError(
            'CPEX_ERR_CONFIG_INVALID',
            `plugin "${entry.name}": isolation: none runs the guest in-thread, where a call cannot be pre-empted, so ${explicit.join(' and ')} cannot be honoured; use isolation: worker or remove it`,
            { plugin: entry.name, path: `plugins[${entry.name}].${explicit[0]}` },
          );
        }
      }
      const timeMs = effectiveTimeMs(policy, entry.timeout, fuelPerMs);
      const load = () => {
        let p = loads.get(file);
        if (!p) {
          p = loadComponent(file, cacheDir, entry.name);
          p.catch(() => loads.delete(file));
          loads.set(file, p);
        }
        return p;
      };
      const plugin = new WasmPlugin(
        {
          entry,
          file,
          policy,
          isolation,
          timeMs,
          maxPayloadBytes: ctx.settings.maxPayloadBytes,
          maxPayloadDepth: ctx.settings.maxPayloadDepth,
          load,
          workers: () => runner,
          logger: options.logger ?? ctx.logger,
          hooks: ctx.hooks,
          key: `${entry.name}#${++seq}`,
          fuelPerMs,
          startAllowanceMs: options.startAllowanceMs ?? 30_000,
        },
        JSON.stringify(guestConfig(entry)),
      );
      // Fail at load time, not on the first call: read, check and transpile now.
      await load();
      return trackLive(plugins, plugin);
    },
  };

  return {
    name: 'wasm',
    capabilities: defaultIsolation === 'worker' ? WORKER_CAPABILITIES : IN_THREAD_CAPABILITIES,
    kinds: [...WASM_KINDS],
    factory,
    options,
    plugins,
    async dispose() {
      if (disposed) return;
      disposed = true;
      await Promise.allSettled([...plugins].map((p) => p.shutdown()));
      const p = pool;
      pool = undefined;
      if (p) await p.destroy();
      channel?.close();
      channel = undefined;
    },
  };
}

/** The part of PluginManager the WASM host needs. */
export type ManagerLike = HostRegistrar;

/**
 * Registers the WASM host on a manager: `wasm://path.wasm` entries then load components that
 * export the cpex:plugin world.
 * @example
 * const manager = new PluginManager();
 * registerWasmHost(manager, { cacheDir: '.cache/wasm' });
 * await manager.loadConfig('plugins/config.yaml');
 */
export function registerWasmHost(manager: ManagerLike, options: WasmHostOptions = {}): WasmHost {
  return attachHost(manager, createWasmHost(options));
}
