/**
 * The fork server: one Python process per (interpreter, environment) that imports pydantic and
 * cpex once and forks a worker per plugin slot. Starting a worker then costs a fork (a few ms)
 * instead of an interpreter start plus ~0.3–0.9 s of imports, which matters for start-up with
 * many plugins and for restarts after a crash or a hung plugin.
 *
 * Forked workers are not our children: they talk to us over a Unix socket (a protocol channel
 * and a stdio channel each), the fork server reports their exit status, and we kill them by pid.
 * Shared across hosts in this process; it goes away when unused for `IDLE_MS` (unref'd, so it
 * never keeps Node alive) and is killed on exit.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '@cpex/core';
import { killProcessTree, type SupervisedProcess, spawnSupervised } from '@cpex/core/host';
import { livePids, type WorkerSpawnOptions, type WorkerTransport } from './worker-process.js';

const IDLE_MS = 5_000;

interface Waiting {
  resolve(v: { proto: Socket; stdio: Socket; initial: Buffer }): void;
  reject(e: Error): void;
  proto?: Socket;
  initial?: Buffer;
  stdio?: Socket;
}

interface ExitInfo {
  code: number | null;
  signal: string | null;
}

class Zygote {
  readonly child: ChildProcessWithoutNullStreams;
  private readonly proc: SupervisedProcess;
  readonly ready: Promise<void>;
  private readonly server: Server;
  private readonly socketPath: string;
  private buf = '';
  private nextId = 1;
  private readonly replies = new Map<number, (f: Record<string, unknown>) => void>();
  private readonly byToken = new Map<string, Waiting>();
  private readonly exits = new Map<number, ExitInfo>();
  private readonly exitWaiters = new Map<number, (e: ExitInfo) => void>();
  users = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  dead = false;
  /** Asked to exit (idle); a new fork server is started for the next worker. */
  stopping = false;

  constructor(
    python: string,
    script: string,
    env: NodeJS.ProcessEnv,
    private readonly logger: Logger,
    private readonly onGone: () => void,
  ) {
    this.socketPath = join(tmpdir(), `cpex-py-${process.pid}-${randomBytes(6).toString('hex')}.sock`);
    this.server = createServer((sock) => this.onConnection(sock));
    this.server.unref();
    // Supervised (own process group, a tag every worker and its descendants inherit, the tree
    // killed when it exits or Node exits); unref'd: an idle fork server never keeps Node alive.
    // Its stdin is its lifeline: at EOF it kills its workers' trees and exits.
    this.proc = spawnSupervised({
      command: python,
      args: ['-u', script, '--zygote'],
      env,
      lifeline: false,
      ref: false,
    });
    this.child = this.proc.child as ChildProcessWithoutNullStreams;
    for (const s of [this.child.stdin, this.child.stdout, this.child.stderr])
      (s as unknown as Socket).unref?.();
    this.child.stdin.on('error', () => {});
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (s: string) => {
      for (const line of s.split('\n'))
        if (line) this.logger.debug(`[python:fork-server] ${line}`, { pid: this.child.pid });
    });
    this.child.stdout.setEncoding('utf8');
    let gotHello!: () => void;
    let failed!: (e: Error) => void;
    this.ready = new Promise<void>((res, rej) => {
      gotHello = res;
      failed = rej;
    });
    this.ready.catch(() => {});
    this.child.stdout.on('data', (s: string) => this.onData(s, gotHello, failed));
    this.child.on('error', (e) => {
      failed(e);
      this.gone();
    });
    this.child.on('exit', () => {
      failed(new Error('fork server exited'));
      this.gone();
    });
    this.server.listen(this.socketPath);
  }

  private gone(): void {
    if (this.dead) return;
    this.dead = true;
    this.server.close();
    try {
      unlinkSync(this.socketPath);
    } catch {}
    for (const [, w] of this.byToken) w.reject(new Error('fork server exited'));
    this.byToken.clear();
    for (const [, r] of this.replies) r({ ok: false, error: { message: 'fork server exited' } });
    this.replies.clear();
    // Its workers die with it (PR_SET_PDEATHSIG); nobody is left to report them: they are gone.
    for (const [pid, w] of this.exitWaiters) {
      this.killPid(pid);
      w({ code: null, signal: 'SIGKILL' });
    }
    this.exitWaiters.clear();
    this.onGone();
  }

  private onData(s: string, gotHello: () => void, failed: (e: Error) => void): void {
    this.buf += s;
    let nl = this.buf.indexOf('\n');
    while (nl >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      nl = this.buf.indexOf('\n');
      let f: Record<string, unknown>;
      try {
        f = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      if (f.op === 'hello') {
        if (f.zygote === true) gotHello();
        else
          failed(
            new Error(
              String((f.error as { message?: string } | undefined)?.message ?? 'fork server unavailable'),
            ),
          );
      } else if (f.op === 'exited' && typeof f.pid === 'number') {
        const info: ExitInfo = {
          code: typeof f.code === 'number' ? f.code : null,
          signal: typeof f.signal === 'string' ? f.signal : null,
        };
        livePids.delete(f.pid);
        const w = this.exitWaiters.get(f.pid);
        if (w) {
          this.exitWaiters.delete(f.pid);
          w(info);
        } else this.exits.set(f.pid, info);
      } else if (typeof f.id === 'number') {
        const r = this.replies.get(f.id);
        this.replies.delete(f.id);
        r?.(f);
      }
    }
  }

  private onConnection(sock: Socket): void {
    let first = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      first = Buffer.concat([first, chunk]);
      const nl = first.indexOf(10);
      if (nl < 0) {
        if (first.length > 65_536) sock.destroy();
        return;
      }
      sock.off('data', onData);
      sock.pause();
      let f: Record<string, unknown>;
      try {
        f = JSON.parse(first.subarray(0, nl).toString('utf8')) as Record<string, unknown>;
      } catch {
        sock.destroy();
        return;
      }
      const token = typeof f.stdio === 'string' ? f.stdio : typeof f.token === 'string' ? f.token : undefined;
      const w = token ? this.byToken.get(token) : undefined;
      if (!w) {
        sock.destroy();
        return;
      }
      if (typeof f.stdio === 'string') {
        w.stdio = sock;
        const rest = first.subarray(nl + 1);
        if (rest.length) sock.unshift(rest);
      } else {
        w.proto = sock;
        w.initial = first; // the hello frame and whatever followed: the WorkerProcess parses it
      }
      if (w.proto && w.stdio) {
        this.byToken.delete(token!);
        w.resolve({ proto: w.proto, stdio: w.stdio, initial: w.initial ?? Buffer.alloc(0) });
      }
    };
    sock.on('data', onData);
    sock.on('error', () => {});
  }

  /** Forks a worker; resolves with its transport once both of its channels are connected. */
  async fork(timeoutMs: number): Promise<{ transport: WorkerTransport; initial: Buffer }> {
    // The fork server's handles are unref'd; hold the event loop open while a fork is pending.
    const keepAlive = setInterval(() => {}, 60_000);
    try {
      return await this.forkNow(timeoutMs);
    } finally {
      clearInterval(keepAlive);
    }
  }

  private async forkNow(timeoutMs: number): Promise<{ transport: WorkerTransport; initial: Buffer }> {
    await this.ready;
    if (this.dead || this.stopping) throw new Error('fork server is stopping');
    const token = randomBytes(12).toString('hex');
    const id = this.nextId++;
    const channels = new Promise<{ proto: Socket; stdio: Socket; initial: Buffer }>((resolve, reject) => {
      this.byToken.set(token, { resolve, reject });
    });
    let replyTimer: NodeJS.Timeout | undefined;
    const reply = new Promise<Record<string, unknown>>((r) => {
      this.replies.set(id, r);
      replyTimer = setTimeout(() => {
        this.replies.delete(id);
        r({ ok: false, error: { message: `no answer within ${timeoutMs} ms` } });
      }, timeoutMs);
    });
    this.child.stdin.write(`${JSON.stringify({ id, op: 'fork', socket: this.socketPath, token })}\n`);
    const r = await reply;
    clearTimeout(replyTimer);
    const pid = (r.result as { pid?: number } | undefined)?.pid;
    if (r.ok !== true || typeof pid !== 'number') {
      this.byToken.delete(token);
      throw new Error(`fork failed: ${JSON.stringify(r.error ?? r)}`);
    }
    livePids.add(pid);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, rej) => {
      timer = setTimeout(
        () => rej(new Error(`forked worker ${pid} did not connect within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    let ch: { proto: Socket; stdio: Socket; initial: Buffer };
    try {
      ch = await Promise.race([channels, timeout]);
    } catch (e) {
      this.byToken.delete(token);
      this.killPid(pid);
      throw e;
    } finally {
      clearTimeout(timer);
    }
    return { transport: this.transport(pid, ch.proto, ch.stdio), initial: ch.initial };
  }

  /** A forked worker's whole tree: its process group and every descendant (setsid'd ones included:
   * the worker is a child subreaper, so they stay below it while it lives). */
  private killPid(pid: number): void {
    killProcessTree(pid);
  }

  /**
   * The worker's exit as its parent (the fork server) saw it through waitpid: the process, not a
   * socket, decides (a child the plugin forked can hold the sockets open long after the worker died).
   */
  private exitOf(pid: number): Promise<ExitInfo> {
    const known = this.exits.get(pid);
    if (known) {
      this.exits.delete(pid);
      return Promise.resolve(known);
    }
    if (this.dead) return Promise.resolve({ code: null, signal: 'SIGKILL' });
    return new Promise((resolve) => this.exitWaiters.set(pid, resolve));
  }

  private transport(pid: number, proto: Socket, stdio: Socket): WorkerTransport {
    let exited = false;
    const exitCbs: Array<(code: number | null, signal: string | null) => void> = [];
    void this.exitOf(pid).then((info) => {
      exited = true;
      livePids.delete(pid);
      proto.destroy();
      stdio.destroy();
      for (const cb of exitCbs) cb(info.code, info.signal);
    });
    // A worker that closed its protocol channel cannot be talked to any more: end it (its exit
    // is then reported by the fork server).
    proto.on('close', () => {
      if (!exited) this.killPid(pid);
    });
    proto.resume();
    stdio.resume();
    return {
      pid,
      input: proto,
      output: proto,
      stderr: stdio,
      kill: () => {
        if (!exited) this.killPid(pid);
      },
      onExit: (cb) => exitCbs.push(cb),
      onError: () => {},
    };
  }

  acquire(): void {
    this.users++;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  release(): void {
    this.users = Math.max(0, this.users - 1);
    if (this.users === 0 && !this.dead) {
      this.idleTimer = setTimeout(() => this.stop(), IDLE_MS);
      this.idleTimer.unref();
    }
  }

  stop(): void {
    if (this.users > 0 || this.stopping) return;
    this.stopping = true;
    this.child.stdin.end();
    setTimeout(() => {
      if (!this.dead) void this.proc.kill();
    }, 1_000).unref();
  }

  kill(): void {
    void this.proc.kill();
  }
}

const zygotes = new Map<string, Zygote>();
let exitHook = false;

/** The shared fork server for this interpreter and environment (started on first use). */
export function zygoteFor(opts: WorkerSpawnOptions): Zygote {
  const key = JSON.stringify([opts.python, opts.script, opts.env]);
  let z = zygotes.get(key);
  if (!z || z.dead || z.stopping) {
    const created = new Zygote(opts.python, opts.script, opts.env, opts.logger, () => {
      if (zygotes.get(key) === created) zygotes.delete(key);
    });
    z = created;
    zygotes.set(key, z);
    if (!exitHook) {
      exitHook = true;
      process.once('exit', () => {
        for (const zz of zygotes.values()) zz.kill();
      });
    }
  }
  return z;
}

export type { Zygote };
