/**
 * A Python plugin entry: N worker processes (slots), each with its own plugin instance,
 * restarted when they die; calls pipelined over each worker and spread over the slots.
 */
import {
  CpexError,
  type Extensions,
  type Handler,
  type HostCapabilities,
  type HookRegistryReader,
  type Logger,
  type PluginContext,
  type PluginDescription,
  type PluginEntry,
  type PluginInstance,
  type PluginResult,
} from '@cpex/core';
import { checkPayloadBounds, DEFAULT_MAX_PAYLOAD_DEPTH, refuseNonFinite } from '@cpex/core/host';
import { type CallErrors, type WorkerHello, WorkerProcess } from './worker-process.js';
import { zygoteFor } from './zygote.js';
import {
  applyContext,
  contextToWireJson,
  entryToPluginConfig,
  errorFromWire,
  resultFromWire,
} from './wire.js';

const identity = (x: unknown): unknown => x;

export const PYTHON_HOST_CAPABILITIES: HostCapabilities = Object.freeze({
  supportsTimeouts: 'preemptive',
  isolated: true,
  copiesPayloads: true,
});

/** Everything a PythonPlugin needs, resolved by the factory. */
export interface PythonPluginSpec {
  entry: PluginEntry;
  /** `pkg.module.Class` */
  classPath: string;
  python: string;
  script: string;
  importRoots: string[];
  env: NodeJS.ProcessEnv;
  workers: number;
  maxPayloadBytes: number;
  /** `plugin_settings.max_payload_depth`: deeper payloads/extensions are refused at the wire. */
  maxPayloadDepth?: number;
  timeoutMs: number;
  startTimeoutMs: number;
  cancelGraceMs: number;
  shutdownTimeoutMs: number;
  maxRestarts: number;
  restartWindowMs: number;
  logger: Logger;
  /** The manager's hook registry (built-in hooks and those added with `manager.defineHook`). */
  hooks: HookRegistryReader;
  /** Fork workers from a shared fork server (POSIX) instead of starting an interpreter each. */
  fork: boolean;
  /** How long an idle worker polls for its next frame before sleeping (µs; 0: never). */
  spinUs: number;
  /** The entry's `max_memory_mb`: an address-space rlimit in each worker (undefined: none). */
  maxMemoryMb?: number | undefined;
  /** Runs before the first worker starts (e.g. builds an isolated venv and sets `python`). */
  prepare?: () => Promise<void>;
  extensionsOut?: (ext: Extensions | undefined) => unknown;
  extensionsIn?: (ext: unknown, sent: Extensions | undefined) => unknown;
}

/** Per-hook constants of a Python plugin's calls (see `PythonPlugin.perHook`). */
interface HookCalls {
  prefix: string;
  where: Readonly<{ plugin: string; hook: string }>;
  errors: CallErrors;
}

export type SlotState = 'starting' | 'ready' | 'restarting' | 'failed' | 'stopped';

class Slot {
  worker: WorkerProcess | undefined;
  /** A worker process being spawned (a restart included): shutdown waits for it, then stops it. */
  spawning: Promise<WorkerProcess> | undefined;
  state: SlotState = 'starting';
  ready: Promise<WorkerProcess>;
  failure: CpexError | undefined;
  restarts: number[] = [];
  constructor(ready: Promise<WorkerProcess>) {
    this.ready = ready;
  }
}

/** A NaN or ±Infinity anywhere the frame carries it: CPEX_ERR_INVALID_PAYLOAD naming its path. */
function refuseNonFiniteIn(
  plugin: string,
  hook: string,
  line: string,
  payload: unknown,
  context: PluginContext,
  ext: unknown,
): void {
  const g = context.globalContext;
  try {
    refuseNonFinite(line, payload, 'payload');
    refuseNonFinite(
      line,
      {
        state: context.state,
        metadata: context.metadata,
        global_context: { state: g.state, metadata: g.metadata, user: g.user, user_context: g.userContext },
      },
      'context',
    );
    if (ext !== undefined) refuseNonFinite(line, ext, 'extensions');
  } catch (e) {
    throw new CpexError(
      'CPEX_ERR_INVALID_PAYLOAD',
      `Python plugin "${plugin}" on ${hook}: ${(e as Error).message}`,
      {
        plugin,
        hook,
        cause: e,
      },
    );
  }
}

/**
 * The PluginInstance of one Python plugin entry: its worker processes and their lifecycle.
 * Created by the Python host's factory; the manager calls `initialize()`, `handler(hook)` and
 * `shutdown()`. `runtime`, `pids` and `whenReady()` are there for operators and tests.
 * @example
 * const plugin = [...host.plugins].find((p) => p.name === 'pii')!;
 * await plugin.whenReady();
 * console.log(plugin.pids, plugin.runtime?.cpex?.origin); // [12345] 'installed'
 */
export class PythonPlugin implements PluginInstance {
  readonly host = PYTHON_HOST_CAPABILITIES;
  private readonly spec: PythonPluginSpec;
  private slots: Slot[] = [];
  private hooks: Map<string, number> | undefined;
  private readonly handlers = new Map<string, Handler>();
  private readonly hookCalls = new Map<string, HookCalls>();
  private shuttingDown = false;
  private booted: Promise<void> | undefined;
  private initialized = false;
  /** What the first worker reported (interpreter, pydantic, which cpex). */
  runtime: WorkerHello | undefined;

  constructor(spec: PythonPluginSpec) {
    this.spec = spec;
  }

  /** The plugin entry's name. */
  get name(): string {
    return this.spec.entry.name;
  }

  /** PIDs of the live worker processes. */
  get pids(): number[] {
    return this.slots.flatMap((s) => (s.worker && !s.worker.exited && s.worker.pid ? [s.worker.pid] : []));
  }

  /**
   * One row per worker slot, for operators and tests: its process, its state, the calls it has
   * in flight, the deadlines it tracks and its restarts in the current restart window.
   * @example
   * for (const w of plugin.workerStats) console.log(w.pid, w.state, w.inFlight);
   */
  get workerStats(): Array<{
    pid: number | undefined;
    state: SlotState;
    inFlight: number;
    deadlinesQueued: number;
    restarts: number;
  }> {
    return this.slots.map((s) => ({
      pid: s.worker && !s.worker.exited ? s.worker.pid : undefined,
      state: s.state,
      inFlight: s.worker?.inFlight ?? 0,
      deadlinesQueued: s.worker?.deadlinesQueued ?? 0,
      restarts: s.restarts.length,
    }));
  }

  /** Resolves when every worker slot is running (after a crash: when its replacement is up). */
  async whenReady(): Promise<void> {
    await this.boot();
    // A worker being killed is replaced once its exit is reported: wait for that first.
    await Promise.all(
      this.slots.flatMap((s) =>
        s.worker && !s.worker.usable && !this.shuttingDown ? [s.worker.exitPromise] : [],
      ),
    );
    await Promise.all(this.slots.map((s) => s.ready));
  }

  /** Starts the workers and loads the plugin class (without running its initialize()). */
  boot(): Promise<void> {
    if (!this.booted) {
      this.booted = (async () => {
        await this.spec.prepare?.();
        this.slots = Array.from(
          { length: this.spec.workers },
          () => new Slot(Promise.resolve(undefined as never)),
        );
        const starts = this.slots.map((slot) => {
          slot.ready = this.startWorker(slot, false);
          return slot.ready;
        });
        const results = await Promise.allSettled(starts);
        const failed = results.find((r) => r.status === 'rejected');
        if (failed) {
          await this.killAll();
          throw (failed as PromiseRejectedResult).reason;
        }
      })();
      this.booted.catch(() => {});
    }
    return this.booted;
  }

  /** Waits for the workers, then runs the plugin's `initialize()` in each; any failure is a coded load error. */
  async initialize(): Promise<void> {
    await this.boot();
    const results = await Promise.allSettled(this.slots.map((slot) => this.initSlot(slot)));
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) {
      await this.killAll();
      throw (failed as PromiseRejectedResult).reason;
    }
    this.initialized = true;
  }

  /** The handler for `hook`, or undefined when the Python plugin does not implement it. */
  handler(hook: string): Handler | undefined {
    if (this.hooks ? !this.hooks.has(hook) : !this.spec.entry.hooks.includes(hook)) return undefined;
    let h = this.handlers.get(hook);
    if (!h) {
      h = (payload, context, extensions) => this.call(hook, payload, context, extensions);
      this.handlers.set(hook, h);
    }
    return h;
  }

  private shutDown(): CpexError {
    return new CpexError('CPEX_ERR_SHUT_DOWN', `Python plugin "${this.name}" has been shut down`, {
      plugin: this.name,
    });
  }

  /** Runs the plugin's `shutdown()` in each worker, then stops the workers (killed if they do not exit). */
  async shutdown(): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    await Promise.allSettled(
      this.slots.map(async (slot) => {
        // A worker being spawned (a restart) is stopped too, never left running after shutdown.
        if (slot.spawning) await slot.spawning.catch(() => undefined);
        const w = slot.worker;
        slot.state = 'stopped';
        if (!w || w.exited) return;
        if (w.hello && !w.hello.error && this.initialized) {
          const { reply } = w.request({ op: 'shutdown' });
          const timer = new Promise<'timeout'>((r) =>
            setTimeout(() => r('timeout'), this.spec.shutdownTimeoutMs).unref(),
          );
          const res = await Promise.race([reply.catch(() => undefined), timer]);
          if (res === 'timeout') {
            this.spec.logger.warn(
              `Python plugin "${this.name}": shutdown() did not finish in ${this.spec.shutdownTimeoutMs} ms`,
              {
                plugin: this.name,
              },
            );
          } else if (res && res.ok === false) {
            this.spec.logger.warn(`Python plugin "${this.name}": shutdown() failed`, {
              plugin: this.name,
              error: res.error,
            });
          }
        }
        await w.stop(1_000);
      }),
    );
  }

  // ------------------------------------------------------------------ workers

  /** A new worker: forked from the shared fork server when possible, else a fresh process. */
  private async spawn(): Promise<WorkerProcess> {
    const s = this.spec;
    const opts = {
      python: s.python,
      script: s.script,
      env: s.env,
      plugin: this.name,
      logger: s.logger,
      // Frames carry an envelope (ids, context) around the payload: allow slack beyond the payload limit.
      maxLineBytes: s.maxPayloadBytes + 1_048_576,
      startTimeoutMs: s.startTimeoutMs,
    };
    if (s.fork) {
      const z = zygoteFor(opts);
      z.acquire();
      try {
        const { transport, initial } = await z.fork(s.startTimeoutMs);
        const w = new WorkerProcess(opts, transport, initial);
        void w.exitPromise.then(() => z.release());
        return w;
      } catch (e) {
        z.release();
        s.logger.debug(
          `Python plugin "${this.name}": fork server unavailable (${(e as Error).message}); starting a process`,
          {
            plugin: this.name,
          },
        );
      }
    }
    return new WorkerProcess(opts);
  }

  /** Spawns a worker, waits for its handshake and loads the plugin class; `init` also runs initialize(). */
  private async startWorker(slot: Slot, init: boolean): Promise<WorkerProcess> {
    const s = this.spec;
    // A restart due after shutdown began spawns nothing; one spawned meanwhile is stopped at once.
    if (this.shuttingDown) throw this.shutDown();
    const spawning = this.spawn();
    slot.spawning = spawning;
    let w: WorkerProcess;
    try {
      w = await spawning;
    } finally {
      slot.spawning = undefined;
    }
    slot.worker = w;
    if (this.shuttingDown) {
      w.kill();
      throw this.shutDown();
    }
    w.onExit((err) => this.onWorkerExit(slot, w, err));
    const hello = await w.waitHello();
    if (!this.runtime) {
      this.runtime = hello;
      s.logger.info(
        `Python plugin "${this.name}": ${hello.executable} (Python ${hello.python}, pydantic ${hello.pydantic}), cpex ${hello.cpex?.origin} ${hello.cpex?.version ?? ''} from ${hello.cpex?.path}`,
        { plugin: this.name, pid: hello.pid },
      );
    }
    const load = await w.request({
      op: 'load',
      class_path: s.classPath,
      config: entryToPluginConfig(s.entry),
      import_roots: s.importRoots,
      max_bytes: s.maxPayloadBytes,
      spin_us: s.spinUs,
      ...(s.maxMemoryMb !== undefined ? { max_memory_mb: s.maxMemoryMb } : {}),
    }).reply;
    if (load.ok !== true) {
      w.kill();
      const err = errorFromWire(load.error, { plugin: this.name });
      throw new CpexError(
        err.code === 'CPEX_ERR_HOOK_NOT_IMPLEMENTED' ? err.code : 'CPEX_ERR_PLUGIN_LOAD',
        `cannot load Python plugin "${this.name}" (${s.classPath}): ${err.message.replace(`Python plugin "${this.name}": `, '')}`,
        { plugin: this.name, ...(err.details ? { details: err.details } : {}) },
      );
    }
    const hooks = (load.result as { hooks?: Record<string, { params: number }> } | undefined)?.hooks ?? {};
    this.hooks = new Map(Object.entries(hooks).map(([k, v]) => [k, v.params]));
    if (init) await this.runInit(w);
    if (slot.state !== 'stopped') slot.state = 'ready';
    return w;
  }

  private async runInit(w: WorkerProcess): Promise<void> {
    const res = await w.request({ op: 'init' }).reply;
    if (res.ok !== true) {
      w.kill();
      const err = errorFromWire(res.error, { plugin: this.name });
      throw new CpexError(
        'CPEX_ERR_PLUGIN_LOAD',
        `Python plugin "${this.name}": ${err.message.replace(`Python plugin "${this.name}": `, '')}`,
        {
          plugin: this.name,
          ...(err.details ? { details: err.details } : {}),
        },
      );
    }
  }

  private async initSlot(slot: Slot): Promise<void> {
    const w = await slot.ready;
    await this.runInit(w);
  }

  private onWorkerExit(slot: Slot, w: WorkerProcess, err: CpexError | undefined): void {
    if (slot.worker !== w || this.shuttingDown || slot.state === 'stopped' || !err) return;
    if (!this.initialized) return; // startup failures are reported by boot()/initialize()
    const now = Date.now();
    slot.restarts = slot.restarts.filter((t) => now - t < this.spec.restartWindowMs);
    if (slot.restarts.length >= this.spec.maxRestarts) {
      slot.state = 'failed';
      slot.failure = new CpexError(
        'CPEX_ERR_WORKER_START',
        `Python plugin "${this.name}": worker died ${slot.restarts.length + 1} times within ${this.spec.restartWindowMs} ms; not restarting (${err.message})`,
        { plugin: this.name },
      );
      this.spec.logger.error(slot.failure.message, { plugin: this.name });
      return;
    }
    slot.restarts.push(now);
    this.spec.logger.warn(`${err.message}; restarting`, { plugin: this.name });
    slot.state = 'restarting';
    const delay = slot.restarts.length <= 1 ? 0 : Math.min(100 * 2 ** (slot.restarts.length - 2), 2_000);
    slot.ready = new Promise<void>((r) => setTimeout(r, delay)).then(() => this.startWorker(slot, true));
    slot.ready.catch((e: unknown) => {
      // The restarted worker could not come up: its own exit listener retries within the budget.
      this.spec.logger.error(`Python plugin "${this.name}": restart failed: ${(e as Error).message}`, {
        plugin: this.name,
      });
    });
  }

  private async killAll(): Promise<void> {
    await Promise.allSettled(
      this.slots.map(async (s) => {
        s.state = 'stopped';
        s.worker?.kill();
        await s.worker?.exitPromise;
      }),
    );
  }

  /** The least busy ready worker (synchronous, so concurrent calls spread before any await). */
  private pickReady(): WorkerProcess | undefined {
    let best: WorkerProcess | undefined;
    for (const slot of this.slots) {
      const w = slot.worker;
      if (slot.state === 'ready' && w?.usable && (!best || w.inFlight < best.inFlight)) best = w;
    }
    return best;
  }

  /** Waits for a worker that is (re)starting; throws when none can come back. */
  private async waitWorker(hook: string): Promise<WorkerProcess> {
    if (this.shuttingDown) {
      throw new CpexError('CPEX_ERR_SHUT_DOWN', `Python plugin "${this.name}" has been shut down`, {
        plugin: this.name,
        hook,
      });
    }
    // A worker we just killed (hang, protocol error) is still 'ready' until its exit is reported
    // (a forked worker's comes from the fork server): wait for that exit, which starts its restart.
    const dying = this.slots.filter(
      (s) => s.state === 'ready' && s.worker && !s.worker.usable && !s.worker.exited,
    );
    if (dying.length) {
      await Promise.race(dying.map((s) => s.worker!.exitPromise));
      return this.waitWorker(hook);
    }
    const waiting = this.slots.filter((s) => s.state === 'restarting' || s.state === 'starting');
    if (waiting.length) {
      await Promise.any(waiting.map((s) => s.ready)).catch(() => undefined);
      const w = this.pickReady();
      if (w) return w;
      if (this.slots.some((s) => s.state === 'restarting' || s.state === 'starting'))
        return this.waitWorker(hook);
    }
    const failure = this.slots.find((s) => s.failure)?.failure;
    throw (
      failure ??
      new CpexError('CPEX_ERR_WORKER_DIED', `Python plugin "${this.name}" has no running worker`, {
        plugin: this.name,
        hook,
      })
    );
  }

  /**
   * How this plugin runs, for `cpex plugins`: isolated by process (one or more workers), timeouts
   * pre-emptive (a call that overruns is cancelled, then its worker killed and restarted), the
   * interpreter and cpex package in use, live pids, and the per-plugin venv for `isolated_venv`.
   */
  describe(): PluginDescription {
    const s = this.spec;
    const rt = this.runtime;
    const details: Record<string, unknown> = {
      class: s.classPath,
      interpreter: rt?.executable ?? s.python,
      workers: s.workers,
      pids: this.pids,
      fork_server: s.fork,
      max_payload_bytes: s.maxPayloadBytes,
    };
    if (rt) {
      details.python_version = rt.python;
      if (rt.pydantic) details.pydantic = rt.pydantic;
      if (rt.cpex) details.cpex = `${rt.cpex.origin}${rt.cpex.version ? ` ${rt.cpex.version}` : ''}`;
      details.codec = rt.codec;
    }
    if (s.entry.kind === 'isolated_venv') details.venv = s.python;
    return {
      host: 'python',
      isolation: 'process',
      timeouts: 'preemptive',
      details,
      notes: [
        'isolated by process: a crash, hang or leak takes down only its worker, which is restarted',
        'not a sandbox: the worker runs as the gateway user, with its filesystem, network and environment',
      ],
    };
  }

  // ------------------------------------------------------------------ calls

  private async call(
    hook: string,
    payload: unknown,
    context: PluginContext,
    extensions: Extensions | undefined,
  ): Promise<PluginResult> {
    const s = this.spec;
    const calls = this.perHook(hook);
    const w = (!this.shuttingDown && this.pickReady()) || (await this.waitWorker(hook));
    const id = w.allocId();
    const ext =
      extensions !== undefined && extensions !== null && this.hooks?.get(hook) === 3
        ? s.extensionsOut
          ? s.extensionsOut(extensions)
          : extensions
        : undefined;
    // The wire's depth bound (max_payload_depth): a coded CPEX_ERR_PAYLOAD_TOO_DEEP here, never a
    // RangeError from JSON.stringify nor a RecursionError in the worker. One iterative walk.
    const bounds = { maxDepth: s.maxPayloadDepth ?? DEFAULT_MAX_PAYLOAD_DEPTH };
    checkPayloadBounds(payload, bounds, `Python plugin "${this.name}" on ${hook}: payload`);
    if (ext !== undefined)
      checkPayloadBounds(ext, bounds, `Python plugin "${this.name}" on ${hook}: extensions`);
    let line: string;
    try {
      // The frame as one string; the part that is the same for every call of a hook is cached.
      const body = JSON.stringify(payload);
      line = `${calls.prefix}${id}${body === undefined ? '' : `,"payload":${body}`},"context":${contextToWireJson(context)}`;
      const extBody = ext === undefined ? undefined : JSON.stringify(ext);
      line += extBody === undefined ? '}\n' : `,"extensions":${extBody}}\n`;
      // JSON writes NaN/Infinity as null: never let a plugin read None for them.
      if (line.includes('null')) refuseNonFiniteIn(this.name, hook, line, payload, context, ext);
    } catch (e) {
      if (e instanceof CpexError) throw e;
      throw new CpexError(
        'CPEX_ERR_INVALID_PAYLOAD',
        `Python plugin "${this.name}" on ${hook}: payload is not JSON-serializable`,
        { plugin: this.name, hook, cause: e },
      );
    }
    if (line.length > s.maxPayloadBytes / 3 && Buffer.byteLength(line) > s.maxPayloadBytes) {
      throw new CpexError(
        'CPEX_ERR_PAYLOAD_TOO_LARGE',
        `Python plugin "${this.name}" on ${hook}: request of ${Buffer.byteLength(line)} bytes exceeds max_payload_bytes ${s.maxPayloadBytes}`,
        { plugin: this.name, hook },
      );
    }
    const res = await w.call(
      id,
      line,
      hook,
      context.timeoutMs ?? s.timeoutMs,
      context,
      calls.errors,
      s.cancelGraceMs,
    );
    const where = calls.where;
    if (res.ok !== true) throw errorFromWire(res.error, where);
    const result = resultFromWire(res.result, where, s.extensionsIn ?? identity, extensions);
    // The modified payload is judged by core's one result rule (executor/results.ts), as for every
    // host: no second, host-specific check here.
    applyContext(context, res.context, where);
    return result;
  }

  /**
   * What every call on `hook` shares, built once per hook: the start of its frames
   * (`{"op":"call","hook":<hook>,"id":`), the `{plugin, hook}` of its error messages and the
   * errors it gives up with.
   */
  private perHook(hook: string): HookCalls {
    let h = this.hookCalls.get(hook);
    if (h === undefined) {
      const { timeoutMs } = this.spec;
      const where = Object.freeze({ plugin: this.name, hook });
      h = {
        prefix: `{"op":"call","hook":${JSON.stringify(hook)},"id":`,
        where,
        errors: {
          timeout: () =>
            new CpexError(
              'CPEX_ERR_PLUGIN_TIMEOUT',
              `Python plugin "${this.name}" on ${hook}: exceeded its ${timeoutMs / 1000} s timeout`,
              { ...where },
            ),
          aborted: () =>
            new CpexError('CPEX_ERR_ABORTED', `Python plugin "${this.name}" on ${hook}: call aborted`, {
              ...where,
            }),
        },
      };
      this.hookCalls.set(hook, h);
    }
    return h;
  }
}
