/**
 * The process tree as Linux shows it in /proc: who is below whom, who carries a supervisor tag,
 * and killing all of it. Elsewhere (no /proc) these see nothing and only process groups are killed.
 * Synchronous on purpose: it also runs from `process.on('exit')`, where nothing async can.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** The environment variable carrying a supervised child's tag (inherited by its descendants). */
export const SUPERVISOR_TAG_ENV = 'CPEX_SUPERVISOR_TAG';

interface ProcInfo {
  ppid: number;
  pgid: number;
}

const hasProc = (() => {
  try {
    return process.platform === 'linux' && readdirSync('/proc').length > 0;
  } catch {
    return false;
  }
})();

/** pid → parent pid and process group of every process visible in /proc (empty without /proc). */
export function listProcesses(): Map<number, ProcInfo> {
  const out = new Map<number, ProcInfo>();
  if (!hasProc) return out;
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const name of names) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'latin1');
    } catch {
      continue; // gone meanwhile
    }
    // "pid (comm) state ppid pgrp ..." where comm may hold spaces and parentheses.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(rest[1]);
    const pgid = Number(rest[2]);
    if (Number.isInteger(ppid) && Number.isInteger(pgid)) out.set(Number(name), { ppid, pgid });
  }
  return out;
}

/** Every process below `root` in the process tree (none without /proc). */
export function descendantsOf(root: number, procs: Map<number, ProcInfo> = listProcesses()): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, { ppid }] of procs) {
    const list = children.get(ppid);
    if (list) list.push(pid);
    else children.set(ppid, [pid]);
  }
  const out: number[] = [];
  const stack = [...(children.get(root) ?? [])];
  while (stack.length) {
    const pid = stack.pop()!;
    out.push(pid);
    for (const c of children.get(pid) ?? []) stack.push(c);
  }
  return out;
}

/**
 * Processes whose environment (as exec'd or forked: /proc/<pid>/environ) holds `CPEX_SUPERVISOR_TAG=tag`.
 * Finds descendants that left the process group and the tree (setsid + double fork, re-parented to
 * init); not those that exec'd with a scrubbed environment.
 */
export function taggedProcesses(tag: string): number[] {
  if (!hasProc || !tag) return [];
  const needle = `${SUPERVISOR_TAG_ENV}=${tag}`;
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    try {
      const env = readFileSync(`/proc/${name}/environ`, 'latin1');
      if (env.includes(needle) && env.split('\0').includes(needle)) out.push(Number(name));
    } catch {}
  }
  return out;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {}
}

/** What {@link killProcessTree} kills besides the root's descendants. */
export interface KillTreeOptions {
  /** Also kill every process carrying this supervisor tag. */
  tag?: string | undefined;
  /** Kill the root itself and its process group (default true). */
  includeRoot?: boolean;
}

/**
 * SIGKILLs a process tree: `root`, its process group, every descendant (each stopped first so none
 * can fork while the tree is walked) and the groups they lead, and with `tag` every tagged process.
 * The walk repeats until it finds nothing new. Never signals the calling process or its group.
 * Returns the pids signalled.
 * @example
 * killProcessTree(worker.pid, { tag: worker.tag });
 */
export function killProcessTree(root: number, options: KillTreeOptions = {}): number[] {
  const includeRoot = options.includeRoot !== false;
  const self = process.pid;
  let ownGroup = -1;
  const killed = new Set<number>();
  for (let round = 0; round < 8; round++) {
    const procs = listProcesses();
    if (ownGroup < 0) ownGroup = procs.get(self)?.pgid ?? -1;
    const victims = new Set(descendantsOf(root, procs));
    if (options.tag) for (const p of taggedProcesses(options.tag)) victims.add(p);
    if (includeRoot) victims.add(root);
    victims.delete(self);
    const fresh = [...victims].filter((p) => !killed.has(p));
    if (fresh.length === 0) break;
    for (const pid of fresh) signal(pid, 'SIGSTOP');
    for (const pid of fresh) {
      const pgid = procs.get(pid)?.pgid ?? 0;
      if (pgid > 1 && pgid !== ownGroup) signal(-pgid, 'SIGKILL');
      signal(pid, 'SIGKILL');
      killed.add(pid);
    }
    if (!hasProc) break;
  }
  if (includeRoot && root > 1 && root !== ownGroup) signal(-root, 'SIGKILL');
  return [...killed];
}

/** True when the Linux /proc tree walk (and so subreaper-based sweeps and tags) is available. */
export const canWalkProcessTree = hasProc;
