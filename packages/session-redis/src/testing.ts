/**
 * `@cpex/session-redis/testing` — a real redis-server for tests and benchmarks: started on a free
 * localhost port (never a fixed one), answering PING before `start()` resolves, stoppable and
 * restartable on the same port (outage tests). Used by this package's tests and by
 * `pnpm bench --only fleet`, so both start Redis the same way.
 *
 * A missing redis-server is an error, never a skip (`scripts/setup.d/40-redis.sh` installs the
 * Debian package). Persistence is off: the server's data lives only as long as the process.
 *
 * @example
 * ```ts
 * import { RedisServer } from '@cpex/session-redis/testing';
 * const redis = await RedisServer.start();
 * try {
 *   // new RedisSessionStore({ endpoint: redis.url }) …
 * } finally {
 *   await redis.stop();
 * }
 * ```
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import net from 'node:net';

/** `redis-server`, after checking it runs; throws with the install hint when it is missing. */
export function redisServerBinary(): string {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return 'redis-server';
  } catch {
    throw new Error(
      'redis-server is not installed: run `bash scripts/setup.d/40-redis.sh` (Debian package redis-server)',
    );
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host: '127.0.0.1' });
    let buf = '';
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1_000, () => done(false));
    sock.on('error', () => done(false));
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
  });
}

/** One redis-server process on a free localhost port. */
export class RedisServer {
  private proc: ChildProcess | undefined;
  private constructor(readonly port: number) {}

  /** Start a server on a free port (retried on another port if the port was taken meanwhile). */
  static async start(): Promise<RedisServer> {
    redisServerBinary();
    for (let attempt = 0; ; attempt++) {
      const s = new RedisServer(await freePort());
      try {
        await s.up();
        return s;
      } catch (e) {
        if (attempt >= 3) throw e;
      }
    }
  }

  /** `redis://127.0.0.1:<port>`. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.proc !== undefined;
  }

  /** Start (again) on this server's port; resolves when it answers PING. */
  async up(): Promise<void> {
    if (this.proc) return;
    const proc = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--loglevel',
        'warning',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let exited = false;
    let stderr = '';
    proc.stderr?.on('data', (d) => {
      stderr += d;
    });
    proc.once('exit', () => {
      exited = true;
    });
    this.proc = proc;
    for (let i = 0; i < 200; i++) {
      if (exited) {
        this.proc = undefined;
        throw new Error(`redis-server on port ${this.port} exited: ${stderr.trim()}`);
      }
      if (await ping(this.port)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    await this.stop();
    throw new Error(`redis-server on port ${this.port} did not answer PING within 10 s`);
  }

  /** Stop the server and wait for the process to exit. */
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p) return;
    this.proc = undefined;
    if (p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => p.kill('SIGKILL'), 5_000);
      p.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      p.kill('SIGTERM');
    });
  }
}
