/**
 * One Python worker process: spawn, handshake, NDJSON framing over stdio, request ids,
 * cancellation with a grace period, and failure of every call in flight when it dies.
 */
import type { Readable, Writable } from 'node:stream';
import { CpexError, type Logger, type PluginContext } from '@cpex/core';
import { killProcessTree, spawnSupervised } from '@cpex/core/host';
import { errorFromWire } from './wire.js';

/** What a worker reports once it is ready (or why it cannot run). */
export interface WorkerHello {
  protocol: number;
  pid: number;
  python: string;
  executable: string;
  codec: 'orjson' | 'json';
  pydantic?: string;
  cpex?: { origin: 'installed' | 'bundled'; version: string | null; path: string };
  error?: { code: string; message: string };
}

export interface WorkerSpawnOptions {
  python: string;
  script: string;
  env: NodeJS.ProcessEnv;
  cwd?: string;
  plugin: string;
  logger: Logger;
  /** Largest response line accepted; a longer line kills the worker. */
  maxLineBytes: number;
  startTimeoutMs: number;
}

interface Pending {
  resolve(frame: Record<string, unknown>): void;
  reject(err: Error): void;
  hook: string | undefined;
  /** The caller already gave up (timeout/abort); only the grace timer is left. */
  abandoned: boolean;
  graceTimer: NodeJS.Timeout | undefined;
  /** A plugin call's deadline and abort wiring (`call()`); absent for control requests. */
  guard: CallGuard | undefined;
}

/** The errors a plugin call rejects with when it gives up (one object per plugin and hook). */
export interface CallErrors {
  timeout(): Error;
  aborted(): Error;
}

/** What a plugin call watches for its caller's abort: the handler's context (`onAbort` when it has it, else `signal`). */
export type AbortSource = Pick<PluginContext, 'signal' | 'onAbort' | 'offAbort'>;

/**
 * A plugin call's deadline and abort wiring. With a context that has `onAbort` (the executor's),
 * no AbortSignal is ever created for the call; otherwise the guard is its own `signal` listener.
 */
class CallGuard {
  private readonly listener: ((reason: unknown) => void) | undefined;
  constructor(
    readonly worker: WorkerProcess,
    readonly id: number,
    readonly deadline: number,
    readonly source: AbortSource,
    readonly errors: CallErrors,
    readonly graceMs: number,
  ) {
    if (source.onAbort && source.offAbort) this.listener = () => this.handleEvent();
  }
  /** Starts watching; false when the call is already aborted. */
  attach(): boolean {
    if (this.listener) return this.source.onAbort!(this.listener);
    const signal = this.source.signal;
    if (signal.aborted) return false;
    signal.addEventListener('abort', this);
    return true;
  }
  detach(): void {
    if (this.listener) this.source.offAbort!(this.listener);
    else this.source.signal.removeEventListener('abort', this);
  }
  handleEvent(): void {
    this.worker.giveUp(this.id, false);
  }
}

/** PIDs of forked workers (not our children: the fork server's); their trees are killed on exit too. */
export const livePids = new Set<number>();
let exitHookInstalled = false;

/**
 * Kill every forked worker's tree if the Node process exits without shutting the manager down (no
 * orphans). Spawned workers and the fork server are core's supervised processes: core kills them.
 */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const pid of livePids) killProcessTree(pid);
  });
}

const STDERR_TAIL = 20;

/** How a WorkerProcess talks to its process: a spawned child's pipes, or a forked worker's sockets. */
export interface WorkerTransport {
  readonly pid: number | undefined;
  /** Frames to the worker. */
  readonly input: Writable;
  /** Frames from the worker. */
  readonly output: Readable;
  /** The worker's stdout+stderr (logged). */
  readonly stderr: Readable | undefined;
  kill(): void;
  onExit(cb: (code: number | null, signal: string | null) => void): void;
  onError(cb: (err: NodeJS.ErrnoException) => void): void;
}

/**
 * A worker started as its own process, under core's supervisor: its own session and process
 * group, a lifeline fd it watches (the gateway's death, even by SIGKILL, kills its tree), its exit
 * taken from the process; kill() ends the worker's whole tree (plugin forks included).
 */
function spawnTransport(opts: WorkerSpawnOptions): WorkerTransport {
  const child = spawnSupervised({
    command: opts.python,
    args: ['-u', opts.script],
    env: opts.env,
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
  });
  return {
    get pid() {
      return child.pid;
    },
    input: child.stdin,
    output: child.stdout,
    stderr: child.stderr,
    kill: () => {
      void child.kill();
    },
    onExit: (cb) => {
      void child.exited.then((e) => {
        if (!child.error || child.pid !== undefined) cb(e.code, e.signal);
      });
    },
    onError: (cb) => child.child.on('error', cb),
  };
}

export class WorkerProcess {
  readonly transport: WorkerTransport;
  hello: WorkerHello | undefined;
  private readonly opts: WorkerSpawnOptions;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private chunks: Buffer[] = [];
  private partialBytes = 0;
  private stderrBuf = '';
  private readonly stderrTail: string[] = [];
  private deathError: CpexError | undefined;
  private readonly exitListeners: Array<(err: CpexError | undefined) => void> = [];
  private outbox: string[] = [];
  /**
   * Ids of guarded calls in the order they were sent. Every call of a plugin has the same
   * timeout, so deadlines are in this order too: one timer (for the oldest) serves them all.
   */
  private deadlineIds: number[] = [];
  private deadlineHead = 0;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private helloWaiter: { resolve(h: WorkerHello): void; reject(e: Error): void } | undefined;
  /** Set when we asked it to stop; its exit is then not a crash. */
  stopping = false;
  exited = false;
  readonly exitPromise: Promise<void>;

  constructor(opts: WorkerSpawnOptions, transport?: WorkerTransport, initialData?: Buffer) {
    this.opts = opts;
    installExitHook();
    this.transport = transport ?? spawnTransport(opts);
    const t = this.transport;
    t.output.on('data', (chunk: Buffer) => this.onData(chunk));
    if (t.stderr) {
      t.stderr.setEncoding('utf8');
      t.stderr.on('data', (s: string) => this.onStderr(s));
    }
    // EPIPE when the worker died between our check and the write; the exit handler reports it.
    t.input.on('error', () => {});
    let resolveExit!: () => void;
    this.exitPromise = new Promise((r) => (resolveExit = r));
    t.onError((err: NodeJS.ErrnoException) => {
      const e =
        err.code === 'ENOENT'
          ? new CpexError(
              'CPEX_ERR_HOST_UNAVAILABLE',
              `Python interpreter "${opts.python}" not found (plugin "${opts.plugin}"); set the host's python option or CPEX_PYTHON`,
              { plugin: opts.plugin, cause: err },
            )
          : new CpexError(
              'CPEX_ERR_WORKER_START',
              `cannot start Python worker for plugin "${opts.plugin}": ${err.message}`,
              {
                plugin: opts.plugin,
                cause: err,
              },
            );
      this.die(e);
      resolveExit();
    });
    t.onExit((code, signal) => {
      this.flushStderr();
      const how = signal ? `signal ${signal}` : code === null ? 'connection lost' : `exit code ${code}`;
      const tail = this.stderrTail.length ? `; last stderr: ${this.stderrTail.slice(-5).join(' | ')}` : '';
      this.die(
        new CpexError(
          this.hello ? 'CPEX_ERR_WORKER_DIED' : 'CPEX_ERR_WORKER_START',
          `Python worker of plugin "${opts.plugin}" (pid ${t.pid}) ${this.hello ? 'died' : 'exited during startup'} (${how})${tail}`,
          { plugin: opts.plugin, details: { exitCode: code, signal, stderrTail: [...this.stderrTail] } },
        ),
      );
      resolveExit();
    });
    t.output.resume();
    t.stderr?.resume();
    if (initialData?.length) this.onData(initialData);
  }

  get pid(): number | undefined {
    return this.transport.pid;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /** Calls waiting in the deadline queue (settled ones are pruned as the queue grows). */
  get deadlinesQueued(): number {
    return this.deadlineIds.length - this.deadlineHead;
  }

  /** Resolves with the handshake; rejects with a coded error if the worker cannot run. */
  waitHello(): Promise<WorkerHello> {
    if (this.hello) return Promise.resolve(this.hello);
    if (this.deathError) return Promise.reject(this.deathError);
    return new Promise<WorkerHello>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new CpexError(
            'CPEX_ERR_WORKER_START',
            `Python worker of plugin "${this.opts.plugin}" did not answer its handshake within ${this.opts.startTimeoutMs} ms`,
            { plugin: this.opts.plugin },
          ),
        );
        this.kill();
      }, this.opts.startTimeoutMs);
      this.helloWaiter = {
        resolve: (h) => {
          clearTimeout(timer);
          resolve(h);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
    });
  }

  onExit(listener: (err: CpexError | undefined) => void): void {
    this.exitListeners.push(listener);
  }

  /** Sends a frame and resolves with the worker's reply frame (ok or not). */
  request(
    frame: Record<string, unknown>,
    hook?: string,
  ): { id: number; reply: Promise<Record<string, unknown>> } {
    const id = this.nextId++;
    const line = JSON.stringify({ ...frame, id });
    return { id, reply: this.requestLine(id, line, hook) };
  }

  /** Like `request`, with the frame already serialized by the caller (size checked there); `line` has no id yet. */
  requestLine(id: number, line: string, hook?: string): Promise<Record<string, unknown>> {
    if (this.deathError) return Promise.reject(this.deathError);
    return new Promise((resolve, reject) => {
      this.pending.set(id, {
        resolve,
        reject,
        hook,
        abandoned: false,
        graceTimer: undefined,
        guard: undefined,
      });
      this.send(line.endsWith('\n') ? line : `${line}\n`);
    });
  }

  /**
   * A plugin call: sends `line` (already serialized, ending in a newline) and resolves with the
   * reply frame, or rejects with `timeoutError()` once `timeoutMs` passed or `abortError()` when
   * `signal` aborts; the worker is then asked to cancel, and killed after `graceMs`.
   */
  call(
    id: number,
    line: string,
    hook: string,
    timeoutMs: number,
    abort: AbortSource,
    errors: CallErrors,
    graceMs: number,
  ): Promise<Record<string, unknown>> {
    if (this.deathError) return Promise.reject(this.deathError);
    const guard = new CallGuard(this, id, performance.now() + timeoutMs, abort, errors, graceMs);
    // Detached on every path that settles the call.
    if (!guard.attach()) return Promise.reject(errors.aborted());
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, hook, abandoned: false, graceTimer: undefined, guard });
      this.deadlineIds.push(id);
      if (!this.deadlineTimer) this.armDeadline(timeoutMs);
      this.send(line);
    });
  }

  /** The caller stops waiting for call `id` (timeout or abort): reject it, cancel it in the worker. */
  giveUp(id: number, timedOut: boolean): void {
    const p = this.pending.get(id);
    if (!p || p.abandoned || !p.guard) return;
    const g = p.guard;
    g.detach();
    p.reject(timedOut ? g.errors.timeout() : g.errors.aborted());
    this.abandon(id, g.graceMs);
  }

  private armDeadline(ms: number): void {
    this.deadlineTimer = setTimeout(this.onDeadline, Math.max(0, ms));
    this.deadlineTimer.unref?.();
  }

  /** Times out every call whose deadline passed; re-arms for the oldest call still waiting. */
  private readonly onDeadline = (): void => {
    this.deadlineTimer = undefined;
    const now = performance.now();
    const ids = this.deadlineIds;
    while (this.deadlineHead < ids.length) {
      const id = ids[this.deadlineHead]!;
      const p = this.pending.get(id);
      if (p && !p.abandoned && p.guard) {
        if (p.guard.deadline > now) {
          this.armDeadline(p.guard.deadline - now);
          break;
        }
        this.giveUp(id, true);
      }
      this.deadlineHead++;
    }
    this.compactDeadlines();
  };

  private compactDeadlines(): void {
    if (this.deadlineHead >= this.deadlineIds.length) {
      this.deadlineIds = [];
      this.deadlineHead = 0;
    } else if (this.deadlineHead > 1024 && this.deadlineHead * 2 > this.deadlineIds.length) {
      this.deadlineIds = this.deadlineIds.slice(this.deadlineHead);
      this.deadlineHead = 0;
    }
  }

  /** Frames written in one tick go out in one write (pipelined calls cost one syscall, not one each). */
  private send(line: string): void {
    if (this.outbox.push(line) === 1) process.nextTick(this.flush);
  }

  private readonly flush = (): void => {
    const lines = this.outbox;
    this.outbox = [];
    if (!this.exited && lines.length)
      this.transport.input.write(lines.length === 1 ? lines[0]! : lines.join(''));
  };

  allocId(): number {
    return this.nextId++;
  }

  /**
   * The caller stopped waiting for `id`: ask the worker to cancel it, and kill the worker if it
   * does not answer within `graceMs` (a hung plugin blocks the worker's event loop).
   */
  abandon(id: number, graceMs: number): void {
    const p = this.pending.get(id);
    if (!p || p.abandoned) return;
    p.abandoned = true;
    if (this.deathError) return;
    this.send(`{"op":"cancel","target":${id}}\n`);
    p.graceTimer = setTimeout(() => {
      if (!this.pending.has(id)) return;
      this.opts.logger.warn(
        `Python plugin "${this.opts.plugin}": call ${id} did not stop within ${graceMs} ms of its cancel; killing worker pid ${this.pid}`,
        { plugin: this.opts.plugin, pid: this.pid, hook: p.hook },
      );
      this.kill();
    }, graceMs);
    p.graceTimer.unref?.();
  }

  /** SIGKILL; every call in flight fails with CPEX_ERR_WORKER_DIED through the exit handler. */
  kill(): void {
    if (this.exited) return;
    this.killing = true;
    this.holdUntilExit();
    this.transport.kill();
  }

  /** Set once we killed it: its exit may be reported a moment later, but no call may be sent to it. */
  private killing = false;

  /** Running and not being killed or stopped: new calls may go to it. */
  get usable(): boolean {
    return !this.exited && !this.killing && !this.stopping;
  }

  /** Closes stdin (the worker exits when its plugin's shutdown is done) and kills it after `ms`. */
  async stop(ms: number): Promise<void> {
    this.stopping = true;
    if (this.exited) return;
    this.holdUntilExit();
    this.transport.input.end();
    const timer = setTimeout(() => this.kill(), ms);
    await this.exitPromise;
    clearTimeout(timer);
  }

  private holding = false;
  /**
   * Keeps Node's event loop alive until the exit we asked for is seen. A forked worker's exit
   * arrives through the fork server's pipe, which is unref'd (it must not keep an idle gateway
   * alive); without a ref'd handle, a caller awaiting the exit (initialize() failing, shutdown())
   * would be left with a promise nothing can settle, and Node would exit with code 13.
   */
  private holdUntilExit(): void {
    if (this.holding) return;
    this.holding = true;
    const keep = setInterval(() => {}, 1 << 30);
    void this.exitPromise.then(() => clearInterval(keep));
  }

  get stderrLines(): readonly string[] {
    return this.stderrTail;
  }

  private die(err: CpexError): void {
    if (this.exited) return;
    this.exited = true;
    const failure = this.stopping ? undefined : err;
    this.deathError = err;
    if (this.helloWaiter) this.helloWaiter.reject(err);
    this.helloWaiter = undefined;
    for (const [, p] of this.pending) {
      if (p.graceTimer) clearTimeout(p.graceTimer);
      if (!p.abandoned) {
        if (p.guard) p.guard.detach();
        p.reject(
          new CpexError(
            err.code === 'CPEX_ERR_WORKER_START' ? 'CPEX_ERR_WORKER_DIED' : err.code,
            err.message,
            {
              plugin: this.opts.plugin,
              ...(p.hook ? { hook: p.hook } : {}),
              ...(err.details ? { details: err.details } : {}),
            },
          ),
        );
      }
    }
    this.pending.clear();
    this.clearDeadlines();
    for (const l of this.exitListeners) l(failure);
  }

  /** A fatal protocol problem: fail everything in flight with `err` and kill the worker. */
  private fatal(err: CpexError): void {
    this.opts.logger.error(err.message, { plugin: this.opts.plugin, pid: this.pid, code: err.code });
    for (const [, p] of this.pending) {
      if (p.graceTimer) clearTimeout(p.graceTimer);
      if (p.guard && !p.abandoned) p.guard.detach();
      if (!p.abandoned)
        p.reject(
          new CpexError(err.code, err.message, {
            plugin: this.opts.plugin,
            ...(p.hook ? { hook: p.hook } : {}),
          }),
        );
    }
    this.pending.clear();
    this.clearDeadlines();
    this.kill();
  }

  private onData(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(10, start);
      if (nl < 0) {
        const rest = chunk.subarray(start);
        this.chunks.push(rest);
        this.partialBytes += rest.length;
        if (this.partialBytes > this.opts.maxLineBytes) {
          this.chunks = [];
          this.partialBytes = 0;
          this.fatal(
            new CpexError(
              'CPEX_ERR_RESPONSE_TOO_LARGE',
              `Python worker of plugin "${this.opts.plugin}" sent a frame larger than ${this.opts.maxLineBytes} bytes; worker killed`,
            ),
          );
        }
        return;
      }
      let bytes: number;
      let text: string;
      if (this.chunks.length) {
        this.chunks.push(chunk.subarray(start, nl));
        const line = Buffer.concat(this.chunks);
        this.chunks = [];
        this.partialBytes = 0;
        bytes = line.length;
        text = bytes > this.opts.maxLineBytes ? '' : line.toString('utf8');
      } else {
        bytes = nl - start;
        // Decoded straight from the chunk: no Buffer view per line.
        text = bytes > this.opts.maxLineBytes ? '' : chunk.toString('utf8', start, nl);
      }
      start = nl + 1;
      if (bytes > this.opts.maxLineBytes) {
        this.fatal(
          new CpexError(
            'CPEX_ERR_RESPONSE_TOO_LARGE',
            `Python worker of plugin "${this.opts.plugin}" sent a frame of ${bytes} bytes (limit ${this.opts.maxLineBytes}); worker killed`,
          ),
        );
        return;
      }
      if (bytes) this.onLine(text);
      if (this.exited) return;
    }
  }

  private onLine(line: string): void {
    let frame: unknown;
    try {
      frame = JSON.parse(line);
    } catch {
      this.fatal(
        new CpexError(
          'CPEX_ERR_PROTOCOL',
          `Python worker of plugin "${this.opts.plugin}" sent a malformed frame (${JSON.stringify(line.slice(0, 120))}); worker killed`,
        ),
      );
      return;
    }
    if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) {
      this.fatal(
        new CpexError(
          'CPEX_ERR_PROTOCOL',
          `Python worker of plugin "${this.opts.plugin}" sent a non-object frame; worker killed`,
        ),
      );
      return;
    }
    const f = frame as Record<string, unknown>;
    if (f.op === 'hello') {
      this.hello = f as unknown as WorkerHello;
      if (this.hello.error) {
        const err = errorFromWire(this.hello.error, { plugin: this.opts.plugin });
        this.helloWaiter?.reject(err);
        this.deathError = err;
      } else {
        this.helloWaiter?.resolve(this.hello);
      }
      this.helloWaiter = undefined;
      return;
    }
    const id = f.id;
    const p = typeof id === 'number' ? this.pending.get(id) : undefined;
    if (!p) {
      if (id === null || id === undefined) {
        // The worker could not parse something we sent: our bug, not the plugin's; log it.
        this.opts.logger.error(`Python worker of plugin "${this.opts.plugin}" rejected a frame`, {
          error: f.error,
        });
        return;
      }
      this.fatal(
        new CpexError(
          'CPEX_ERR_PROTOCOL',
          `Python worker of plugin "${this.opts.plugin}" answered unknown request id ${String(id)}; worker killed`,
        ),
      );
      return;
    }
    this.pending.delete(id as number);
    if (p.graceTimer) clearTimeout(p.graceTimer);
    // Past max_memory_mb the worker answers and then exits: no call may be sent to it any more
    // (it would fail with CPEX_ERR_WORKER_DIED); the next call waits for its replacement.
    if (f.ok === false && (f.error as { code?: unknown } | undefined)?.code === 'memory_limit') this.kill();
    if (!p.abandoned) {
      if (p.guard) p.guard.detach();
      p.resolve(f);
    }
    if (this.pending.size === 0) this.clearDeadlines();
    else if (this.deadlineIds.length - this.deadlineHead > 2 * this.pending.size + 1024)
      this.pruneDeadlines();
  }

  /**
   * Drops settled calls from the deadline queue. Under sustained load the worker is never idle, so
   * the queue is not emptied by `clearDeadlines`; without this it would grow by one id per call.
   */
  private pruneDeadlines(): void {
    const live: number[] = [];
    const ids = this.deadlineIds;
    for (let i = this.deadlineHead; i < ids.length; i++) {
      const p = this.pending.get(ids[i]!);
      if (p?.guard && !p.abandoned) live.push(ids[i]!);
    }
    this.deadlineIds = live;
    this.deadlineHead = 0;
  }

  /** Nothing in flight: no timer may keep running (it would hold the event loop for the timeout). */
  private clearDeadlines(): void {
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    this.deadlineIds = [];
    this.deadlineHead = 0;
  }

  private onStderr(s: string): void {
    this.stderrBuf += s;
    let nl = this.stderrBuf.indexOf('\n');
    while (nl >= 0) {
      this.logStderr(this.stderrBuf.slice(0, nl));
      this.stderrBuf = this.stderrBuf.slice(nl + 1);
      nl = this.stderrBuf.indexOf('\n');
    }
    if (this.stderrBuf.length > 16_384) {
      this.logStderr(this.stderrBuf);
      this.stderrBuf = '';
    }
  }

  private flushStderr(): void {
    if (this.stderrBuf) this.logStderr(this.stderrBuf);
    this.stderrBuf = '';
  }

  private logStderr(line: string): void {
    if (!line) return;
    this.stderrTail.push(line.length > 500 ? `${line.slice(0, 500)}…` : line);
    if (this.stderrTail.length > STDERR_TAIL) this.stderrTail.shift();
    this.opts.logger.info(`[python:${this.opts.plugin}] ${line}`, {
      plugin: this.opts.plugin,
      pid: this.pid,
      stream: 'stderr',
    });
  }
}
