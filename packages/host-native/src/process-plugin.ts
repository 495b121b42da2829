/**
 * `isolation: process`: the library runs in a child Node program (`child/native-child.mjs`) that
 * loads it with koffi and serves it over a socket pair in length-prefixed MessagePack frames
 * (host-python's msgpack framing). The request/result bytes are the same as in-process; only
 * where the library runs changes. A crash (segfault, abort, exit) fails the calls in flight with
 * CPEX_ERR_WORKER_DIED and the child is restarted; a call that overruns its timeout is cancelled
 * (the ABI's cancel flag) and, when the child does not answer within a grace period, the child is
 * killed and restarted (pre-emptive timeouts). Restarts are bounded (maxRestarts per window).
 * With `max_memory_mb`, the child's resident memory is read from /proc while it lives; past the
 * cap the child is killed and its calls fail with CPEX_ERR_WORKER_MEMORY.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  CpexError,
  type Extensions,
  type Logger,
  type PluginContext,
  type PluginResult,
  type SupervisedProcess,
  spawnSupervised,
} from '@cpex/core/host';
import { Decoder, type Encoder } from '@msgpack/msgpack';
import { type NativeManifest, type RawManifest, STATUS, validateManifest } from './abi.js';
import { encodeRequest, errorText, tooLarge } from './in-process.js';
import { decodeResult, encodeMsgpack, makeDecoder, makeEncoder, type Where } from './wire.js';

/** The child program (plain ESM, no build step). */
export const CHILD_SCRIPT = fileURLToPath(new URL('../child/native-child.mjs', import.meta.url));

/** Options of one `isolation: process` instance. */
export interface ProcessSpec {
  pluginName: string;
  libraryPath: string;
  config: Record<string, unknown> | null;
  maxPayloadBytes: number;
  maxPayloadDepth: number;
  payloadTypeOf(hook: string): number;
  shutdownTimeoutMs: number;
  timeoutMs: number;
  startTimeoutMs: number;
  maxRestarts: number;
  restartWindowMs: number;
  /** After a cancel, how long the child has to answer before it is killed (ms). */
  cancelGraceMs?: number;
  logger: Logger;
  asyncStackBytes: number | undefined;
  /** Discovery: read and check the manifest, do not run cpex_plugin_init. */
  manifestOnly?: boolean;
  /** The entry's `max_memory_mb`: a cap on the child's resident memory (undefined: none). */
  maxMemoryMb?: number | undefined;
}

/** How often a capped child's resident memory is read (ms). */
const MEMORY_POLL_MS = 10;

/** Resident memory of `pid` in MiB, from /proc (undefined once it is gone). */
function residentMb(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s*(\d+)\s*kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

interface Pending {
  resolve(frame: Frame): void;
  reject(err: Error): void;
  hook: string;
}

type Frame = Record<string, unknown>;

/** One child process: spawn, hello, init, frames, death. */
class Child {
  readonly proc: SupervisedProcess;
  private buffered: Buffer = Buffer.alloc(0);
  private readonly frameDecoder = new Decoder();
  private waiters: Array<{ op: string; resolve(f: Frame): void; reject(e: Error): void }> = [];
  readonly pending = new Map<number, Pending>();
  exited = false;
  exitInfo = '';
  /** Set when the child was killed for going past max_memory_mb: its resident MiB then. */
  overMemoryMb: number | undefined;
  readonly died: Promise<void>;

  constructor(
    private readonly spec: ProcessSpec,
    onDeath: (child: Child) => void,
  ) {
    // Own session and process group, exit learned from waitpid, whole-tree kill, lifeline fd
    // (the child dies with the gateway, even after a SIGKILL): the shared supervisor.
    this.proc = spawnSupervised({
      command: process.execPath,
      args: [
        CHILD_SCRIPT,
        spec.libraryPath,
        String(spec.maxPayloadBytes),
        String(spec.asyncStackBytes ?? 1024 * 1024),
      ],
      env: process.env,
      extraStdio: ['pipe'],
    });
    const log = (stream: NodeJS.ReadableStream | null, what: string) =>
      stream?.on('data', (d: Buffer) => {
        for (const line of d.toString('utf8').split('\n'))
          if (line.trim())
            spec.logger.warn(`native plugin ${spec.pluginName} ${what}: ${line}`, {
              plugin: spec.pluginName,
            });
      });
    this.proc.stdin.end();
    log(this.proc.stdout, 'stdout');
    log(this.proc.stderr, 'stderr');
    const channel = this.proc.child.stdio[3] as unknown as NodeJS.ReadWriteStream;
    channel.on('data', (chunk: Buffer) => this.onData(chunk));
    channel.on('error', () => {});
    const cap = spec.maxMemoryMb;
    const watch =
      cap === undefined
        ? undefined
        : setInterval(() => {
            const pid = this.proc.pid;
            const mb = pid === undefined ? undefined : residentMb(pid);
            if (mb === undefined || mb <= cap || this.overMemoryMb !== undefined) return;
            this.overMemoryMb = mb;
            this.kill(`resident memory ${Math.round(mb)} MiB is past max_memory_mb of ${cap} MiB`);
          }, MEMORY_POLL_MS).unref();
    this.died = this.proc.exited.then(({ code, signal }) => {
      clearInterval(watch);
      this.exited = true;
      this.exitInfo = this.proc.error
        ? `could not start (${this.proc.error.message})`
        : signal
          ? `killed by ${signal}`
          : `exited with code ${code}`;
      const memory = this.overMemoryMb;
      const code_ = memory === undefined ? 'CPEX_ERR_WORKER_DIED' : 'CPEX_ERR_WORKER_MEMORY';
      const details =
        memory === undefined
          ? { exit: this.exitInfo }
          : { exit: this.exitInfo, residentMb: Math.round(memory), maxMemoryMb: cap };
      const said = (during: string) =>
        memory === undefined
          ? `native plugin "${spec.pluginName}": its child process ${this.exitInfo}${during}`
          : `native plugin "${spec.pluginName}": its child process went past its max_memory_mb of ${cap} MiB (resident ${Math.round(memory)} MiB)${during}; it was killed and restarts`;
      const err = new CpexError(code_, said(''), { plugin: spec.pluginName, details });
      for (const w of this.waiters.splice(0)) w.reject(err);
      for (const [, p] of this.pending)
        p.reject(
          new CpexError(code_, said(` during a call on ${p.hook}`), {
            plugin: spec.pluginName,
            hook: p.hook,
            details,
          }),
        );
      this.pending.clear();
      onDeath(this);
    });
  }

  send(frame: Frame): void {
    if (this.exited) return;
    const body = encodeMsgpack(frame);
    const head = Buffer.alloc(4);
    head.writeUInt32BE(body.length, 0);
    const channel = this.proc.child.stdio[3] as unknown as NodeJS.WritableStream;
    channel.write(head);
    channel.write(body);
  }

  /** The next frame with `op` (hello, init, bye). */
  next(op: string, ms: number): Promise<Frame> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(
          new CpexError(
            'CPEX_ERR_WORKER_START',
            `native plugin "${this.spec.pluginName}": no ${op} from its child process within ${ms} ms`,
            { plugin: this.spec.pluginName },
          ),
        );
      }, ms);
      const waiter = {
        op,
        resolve: (f: Frame) => {
          clearTimeout(timer);
          resolve(f);
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.waiters.push(waiter);
    });
  }

  private onData(chunk: Buffer): void {
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    while (this.buffered.length >= 4) {
      const len = this.buffered.readUInt32BE(0);
      if (len > this.spec.maxPayloadBytes + 65_536) {
        this.kill('a frame over max_payload_bytes');
        return;
      }
      if (this.buffered.length < 4 + len) break;
      const body = this.buffered.subarray(4, 4 + len);
      this.buffered = this.buffered.subarray(4 + len);
      let frame: Frame;
      try {
        frame = this.frameDecoder.decode(body) as Frame;
      } catch {
        this.kill('a malformed frame');
        return;
      }
      if (frame.op === 'result') {
        const p = this.pending.get(frame.id as number);
        if (p) {
          this.pending.delete(frame.id as number);
          p.resolve(frame);
        }
        continue;
      }
      const i = this.waiters.findIndex((w) => w.op === frame.op);
      if (i >= 0) this.waiters.splice(i, 1)[0]?.resolve(frame);
    }
  }

  kill(why: string): void {
    if (this.exited) return;
    this.spec.logger.warn(`native plugin ${this.spec.pluginName}: killing its child process (${why})`, {
      plugin: this.spec.pluginName,
    });
    void this.proc.kill();
  }
}

/** One config entry of a native library in a supervised child process. */
export class ProcessNative {
  private child: Child | undefined;
  private starting: Promise<Child> | undefined;
  /** The child being spawned (hello, init), until it is `child` or has failed. */
  private spawning: Child | undefined;
  /** The child asked to shut down (it may never finish: terminate() kills it). */
  private stopping: Child | undefined;
  private manifest: NativeManifest | undefined;
  private nextId = 1;
  private closed = false;
  private readonly restarts: number[] = [];
  private gaveUp: CpexError | undefined;
  private readonly encoder: Encoder;
  private readonly decoder: Decoder;
  private readonly config: Uint8Array;

  constructor(private readonly spec: ProcessSpec) {
    this.encoder = makeEncoder(spec.maxPayloadDepth);
    this.decoder = makeDecoder(spec.maxPayloadBytes);
    this.config = encodeMsgpack(spec.config ?? {});
  }

  /** Starts the child, checks the manifest it read, runs init; returns the manifest. */
  async start(): Promise<NativeManifest> {
    await this.ensureChild();
    return this.manifest as NativeManifest;
  }

  async initialize(): Promise<void> {
    await this.ensureChild();
  }

  private ensureChild(): Promise<Child> {
    if (this.child && !this.child.exited) return Promise.resolve(this.child);
    if (this.gaveUp) return Promise.reject(this.gaveUp);
    if (this.closed)
      return Promise.reject(
        new CpexError('CPEX_ERR_SHUT_DOWN', `native plugin "${this.spec.pluginName}" is shut down`, {
          plugin: this.spec.pluginName,
        }),
      );
    this.starting ??= this.spawnChild().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async spawnChild(): Promise<Child> {
    const { spec } = this;
    const child = new Child(spec, (c) => this.onDeath(c));
    this.spawning = child;
    try {
      const hello = await child.next('hello', spec.startTimeoutMs);
      if (hello.error) {
        const e = hello.error as { message?: string };
        throw new CpexError(
          'CPEX_ERR_PLUGIN_LOAD',
          `native library ${spec.libraryPath}: ${e.message ?? 'failed to load'}`,
          {
            plugin: spec.pluginName,
            details: { path: spec.libraryPath },
          },
        );
      }
      this.manifest = validateManifest(spec.libraryPath, hello.manifest as RawManifest, spec.pluginName);
      if (spec.manifestOnly) {
        this.child = child;
        return child;
      }
      child.send({ op: 'init', config: this.config });
      const init = await child.next('init', spec.startTimeoutMs);
      if (init.status !== STATUS.OK) {
        throw new CpexError(
          'CPEX_ERR_PLUGIN_LOAD',
          `native plugin "${spec.pluginName}" (${spec.libraryPath}): cpex_plugin_init failed: ${(init.message as string | undefined) ?? `status ${init.status}`}`,
          { plugin: spec.pluginName, details: { path: spec.libraryPath, status: init.status } },
        );
      }
    } catch (e) {
      child.kill('start failed');
      throw e;
    } finally {
      this.spawning = undefined;
    }
    if (this.closed) {
      // terminated while starting: the child is not kept
      child.kill('host disposed');
      throw new CpexError('CPEX_ERR_SHUT_DOWN', `native plugin "${spec.pluginName}" is shut down`, {
        plugin: spec.pluginName,
      });
    }
    this.child = child;
    return child;
  }

  /**
   * Kills the child now — one still starting included — and resolves once it exited: the host's
   * dispose(), after the manager gave up on a start or a shutdown that never completes.
   */
  async terminate(): Promise<void> {
    this.closed = true;
    const children = [this.child, this.spawning, this.stopping].filter(
      (c): c is Child => c !== undefined && !c.exited,
    );
    for (const c of children) c.kill('host disposed');
    await Promise.all(children.map((c) => c.died));
  }

  private onDeath(child: Child): void {
    if (this.child !== child || this.closed) return;
    this.child = undefined;
    const now = Date.now();
    this.restarts.push(now);
    while (this.restarts.length && (this.restarts[0] ?? 0) < now - this.spec.restartWindowMs)
      this.restarts.shift();
    if (this.restarts.length > this.spec.maxRestarts) {
      this.gaveUp = new CpexError(
        'CPEX_ERR_WORKER_DIED',
        `native plugin "${this.spec.pluginName}": its child process died ${this.restarts.length} times within ${this.spec.restartWindowMs} ms (last: ${child.exitInfo}); given up`,
        { plugin: this.spec.pluginName },
      );
      this.spec.logger.error(this.gaveUp.message, { plugin: this.spec.pluginName });
      return;
    }
    this.spec.logger.warn(
      `native plugin ${this.spec.pluginName}: child process ${child.exitInfo}; restarting`,
      { plugin: this.spec.pluginName },
    );
    // Restart now, so the next call finds a warm child (failures surface on that call).
    this.ensureChild().catch(() => {});
  }

  async call(
    hook: string,
    payload: unknown,
    context: PluginContext,
    extensions: Extensions | undefined,
  ): Promise<PluginResult> {
    const { spec } = this;
    const where: Where = { plugin: spec.pluginName, hook };
    const request = encodeRequest(
      hook,
      spec.pluginName,
      spec.payloadTypeOf(hook),
      payload,
      context,
      extensions,
      where,
      this.encoder,
      spec.maxPayloadDepth,
    );
    if (request.length > spec.maxPayloadBytes)
      throw tooLarge('request', request.length, spec.maxPayloadBytes, where);
    const child = await this.ensureChild();
    const id = this.nextId++;
    const signal = context.signal;
    const frame = await new Promise<Frame>((resolve, reject) => {
      let graceTimer: NodeJS.Timeout | undefined;
      const done = () => {
        signal.removeEventListener('abort', onAbort);
        clearTimeout(deadline);
        clearTimeout(graceTimer);
      };
      const cancelThenKill = (err: CpexError) => {
        signal.removeEventListener('abort', onAbort);
        clearTimeout(deadline);
        if (!child.pending.has(id)) return;
        child.send({ op: 'cancel', id });
        // Give the plugin a moment to honour the cancel flag, then pre-empt: kill and restart.
        graceTimer = setTimeout(() => {
          if (child.pending.has(id)) child.kill(`call ${id} on ${hook} did not stop after its cancel`);
        }, spec.cancelGraceMs ?? 1_000);
        const p = child.pending.get(id);
        if (p) {
          p.resolve = () => clearTimeout(graceTimer);
          p.reject = () => clearTimeout(graceTimer);
        }
        reject(err);
      };
      const onAbort = () =>
        cancelThenKill(
          new CpexError('CPEX_ERR_ABORTED', `native plugin "${spec.pluginName}" on ${hook}: call aborted`, {
            ...where,
          }),
        );
      const deadline = setTimeout(
        () =>
          cancelThenKill(
            new CpexError(
              'CPEX_ERR_PLUGIN_TIMEOUT',
              `native plugin "${spec.pluginName}" on ${hook}: exceeded its ${spec.timeoutMs / 1000} s timeout`,
              { ...where },
            ),
          ),
        spec.timeoutMs,
      );
      child.pending.set(id, {
        hook,
        resolve: (f) => {
          done();
          resolve(f);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      });
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      child.send({ op: 'call', id, request });
    });
    const status = frame.status as number;
    const data = frame.data as Uint8Array | undefined;
    if (typeof frame.size === 'number')
      throw tooLarge('result', frame.size, spec.maxPayloadBytes, where, 'CPEX_ERR_RESPONSE_TOO_LARGE');
    if (status !== STATUS.OK) {
      throw new CpexError(
        status === STATUS.CANCELLED ? 'CPEX_ERR_ABORTED' : 'CPEX_ERR_PLUGIN_EXCEPTION',
        `native plugin "${spec.pluginName}" on ${hook}: ${errorText(data, status)}`,
        { ...where, details: { status } },
      );
    }
    if (!data)
      throw new CpexError(
        'CPEX_ERR_INVALID_RESULT',
        `native plugin "${spec.pluginName}" on ${hook}: returned CPEX_OK without a result buffer`,
        { ...where },
      );
    return decodeResult(data, this.decoder, spec.maxPayloadDepth, context, where);
  }

  /** Asks the child to run cpex_plugin_shutdown and exit; kills it after the bound. */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const child = this.child ?? (this.starting ? await this.starting.catch(() => undefined) : undefined);
    this.child = undefined;
    if (!child || child.exited) return;
    this.stopping = child;
    child.send({ op: 'shutdown' });
    const timer = setTimeout(() => child.kill('shutdown timed out'), this.spec.shutdownTimeoutMs);
    await child.died;
    clearTimeout(timer);
  }

  /** pid of the current child (for describe() and tests). */
  details(): Record<string, unknown> {
    return { pid: this.child?.proc.pid ?? null, restarts: this.restarts.length };
  }
}
