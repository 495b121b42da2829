/**
 * The in-child half of the supervisor, for a Node child (host-native runs libraries in one).
 * A Python child does the same in `cpex_host/supervise.py`; any other language: see
 * docs/host-python.md "Processes" (watch the lifeline fd for EOF, become a child subreaper, make
 * protocol fds close-on-exec).
 */
import { Socket } from 'node:net';
import { killProcessTree, SUPERVISOR_TAG_ENV } from './proc-tree.js';
import { LIFELINE_FD_ENV } from './supervisor.js';

/** prctl(2) options the in-child part uses (Linux). */
export const PR_SET_PDEATHSIG = 1;
export const PR_SET_CHILD_SUBREAPER = 36;

/** A prctl binding, e.g. koffi's `lib.func('int prctl(int, unsigned long, unsigned long, unsigned long, unsigned long)')`. */
export type Prctl = (option: number, arg2: number, arg3: number, arg4: number, arg5: number) => number;

/**
 * Makes this process a child subreaper (Linux): descendants orphaned by a double fork — `setsid`
 * included — are re-parented here instead of to init, so they stay in this tree and
 * `killOwnTreeAndExit` finds them. Node has no prctl: pass a binding (koffi). False elsewhere.
 * @example
 * const libc = koffi.load('libc.so.6');
 * becomeSubreaper(libc.func('int prctl(int, unsigned long, unsigned long, unsigned long, unsigned long)'));
 */
export function becomeSubreaper(prctl: Prctl): boolean {
  if (process.platform !== 'linux') return false;
  try {
    return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) === 0;
  } catch {
    return false;
  }
}

/** Kills every descendant of this process and every process with its tag, then exits with `code`. */
export function killOwnTreeAndExit(code = 1): never {
  try {
    killProcessTree(process.pid, { tag: process.env[SUPERVISOR_TAG_ENV], includeRoot: false });
  } finally {
    // The supervisor made us our group's leader: the rest of the group (and we) go with it.
    try {
      process.kill(-process.pid, 'SIGKILL');
    } catch {}
  }
  process.exit(code);
}

/**
 * Watches the lifeline fd the supervisor passed (`CPEX_LIFELINE_FD`); when the gateway is gone
 * (EOF — also after a SIGKILL), calls `onGone` (default: kill this tree and exit). Does not keep
 * the event loop alive. False when there is no lifeline.
 * @example
 * watchLifeline(); // first thing in a supervised Node child
 */
export function watchLifeline(onGone: () => void = () => killOwnTreeAndExit(1)): boolean {
  const raw = process.env[LIFELINE_FD_ENV];
  const fd = raw && /^\d+$/.test(raw) ? Number(raw) : undefined;
  if (fd === undefined) return false;
  let sock: Socket;
  try {
    sock = new Socket({ fd, readable: true, writable: false });
  } catch {
    return false;
  }
  let fired = false;
  const gone = () => {
    if (fired) return;
    fired = true;
    onGone();
  };
  sock.on('end', gone);
  sock.on('close', gone);
  sock.on('error', gone);
  sock.resume();
  sock.unref();
  return true;
}
