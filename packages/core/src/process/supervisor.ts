/**
 * The process supervisor every out-of-process host uses (host-python's workers and fork server,
 * host-native's `isolation: process`): a child in its own session and process group, whose exit
 * is learned from the process (waitpid through Node's 'exit' event), never from its pipes, and
 * whose whole tree is killed on kill(), on exit, and when the gateway exits.
 *
 * The child gets two things in its environment (language-neutral; docs/host-python.md "Processes"
 * and docs/security.md describe what each language does with them):
 * - `CPEX_LIFELINE_FD`: an inherited fd that the gateway never writes. End-of-file on it means the
 *   gateway is gone — including by SIGKILL, when no code of ours runs: the kernel closes our end.
 *   The child then kills its own tree and exits.
 * - `CPEX_SUPERVISOR_TAG`: a random marker its descendants inherit; `killProcessTree` finds
 *   escapees by it in /proc/<pid>/environ.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { killProcessTree, SUPERVISOR_TAG_ENV } from './proc-tree.js';

/** The environment variable naming the lifeline fd in a supervised child. */
export const LIFELINE_FD_ENV = 'CPEX_LIFELINE_FD';

/** How a supervised process ended (from waitpid: an exit code or a signal). */
export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Options of {@link spawnSupervised}. */
export interface SpawnSupervisedOptions {
  command: string;
  args?: readonly string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /**
   * Give the child a lifeline fd (default true). It sits at the fd number just after the extra
   * stdio entries, and `CPEX_LIFELINE_FD` names it.
   */
  lifeline?: boolean;
  /** Extra stdio entries after stdin/stdout/stderr (each 'pipe' or 'ignore'). */
  extraStdio?: ReadonlyArray<'pipe' | 'ignore'>;
  /** Whether the running child keeps Node's event loop alive (default true). */
  ref?: boolean;
}

/**
 * A supervised child process. `exited` settles when the process ends, whatever holds its pipes
 * (a forked grandchild can keep them open for ever); `kill()` ends the whole tree.
 */
export interface SupervisedProcess {
  readonly child: ChildProcess;
  readonly pid: number | undefined;
  /** The marker its descendants carry (`CPEX_SUPERVISOR_TAG`). */
  readonly tag: string;
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Resolves with the exit status (never rejects). A spawn error resolves it too, with `error` set. */
  readonly exited: Promise<ProcessExit>;
  /** Set once the process has ended. */
  readonly exit: ProcessExit | undefined;
  /** Set when the process could not be started (ENOENT, EACCES, …). */
  readonly error: NodeJS.ErrnoException | undefined;
  /**
   * SIGKILLs the process, its group, its descendants and every process with its tag; resolves
   * when the process is gone. Keeps Node's event loop alive until then.
   */
  kill(): Promise<ProcessExit>;
}

const live = new Set<Supervised>();
let exitHookInstalled = false;

/** On any Node exit that runs JavaScript (process.exit, end of the event loop), kill every tree. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const s of live) s.sweep();
  });
}

class Supervised implements SupervisedProcess {
  readonly child: ChildProcess;
  readonly tag: string;
  readonly exited: Promise<ProcessExit>;
  exit: ProcessExit | undefined;
  error: NodeJS.ErrnoException | undefined;
  private holding = false;

  constructor(opts: SpawnSupervisedOptions) {
    this.tag = randomBytes(12).toString('hex');
    const extra = opts.extraStdio ?? [];
    const lifeline = opts.lifeline !== false;
    const stdio: Array<'pipe' | 'ignore'> = ['pipe', 'pipe', 'pipe', ...extra];
    const env: NodeJS.ProcessEnv = { ...(opts.env ?? process.env), [SUPERVISOR_TAG_ENV]: this.tag };
    if (lifeline) {
      env[LIFELINE_FD_ENV] = String(stdio.length);
      stdio.push('pipe');
    } else delete env[LIFELINE_FD_ENV];
    this.child = spawn(opts.command, [...(opts.args ?? [])], {
      env,
      stdio,
      // setsid(): its own session and process group (pgid = pid), so the group can be killed whole.
      detached: true,
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
    });
    if (lifeline) {
      // Never written, never closed by us while the child should live: only our death closes it.
      const line = this.child.stdio[stdio.length - 1] as (Readable & { unref?(): void }) | null;
      line?.on('error', () => {});
      line?.unref?.();
    }
    if (opts.ref === false) this.child.unref();
    live.add(this);
    installExitHook();
    this.exited = new Promise<ProcessExit>((resolve) => {
      this.child.once('exit', (code, sig) => {
        this.exit = { code, signal: sig };
        live.delete(this);
        // What it left behind in its group or tagged elsewhere (a plugin's forks) goes with it.
        this.sweep();
        resolve(this.exit);
      });
      this.child.once('error', (err: NodeJS.ErrnoException) => {
        this.error = err;
        if (this.child.pid === undefined) {
          // Never started: there will be no 'exit'.
          this.exit = { code: null, signal: null };
          live.delete(this);
          resolve(this.exit);
        }
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }
  get stdin(): Writable {
    return this.child.stdin!;
  }
  get stdout(): Readable {
    return this.child.stdout!;
  }
  get stderr(): Readable {
    return this.child.stderr!;
  }

  /** Synchronous: kill the tree (the process too, if it still runs). */
  sweep(): void {
    const pid = this.child.pid;
    if (pid === undefined) return;
    killProcessTree(pid, { tag: this.tag, includeRoot: this.exit === undefined });
    // After the leader's exit its group may still hold its plain forks.
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {}
  }

  kill(): Promise<ProcessExit> {
    if (this.exit) return this.exited;
    if (!this.holding) {
      this.holding = true;
      // The child may be unref'd; whoever awaits its exit must not be left with a pending promise.
      const keep = setInterval(() => {}, 1 << 30);
      void this.exited.then(() => clearInterval(keep));
    }
    this.sweep();
    return this.exited;
  }
}

/**
 * Spawns `command` under supervision: own session and process group, a lifeline fd, a tag; its
 * exit is the process's; kill() and the gateway's exit end its whole tree.
 * @example
 * const child = spawnSupervised({ command: 'python3', args: ['worker.py'] });
 * child.stdout.on('data', onFrames);
 * const { code, signal } = await child.kill();
 */
export function spawnSupervised(options: SpawnSupervisedOptions): SupervisedProcess {
  return new Supervised(options);
}

/** Supervised processes still running in this Node process (operators, tests). */
export function liveSupervisedPids(): number[] {
  return [...live].flatMap((s) => (s.pid === undefined ? [] : [s.pid]));
}
