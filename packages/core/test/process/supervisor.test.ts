// The process supervisor (`@cpex/core/host`), language-neutral half plus the Node in-child half:
// exit from the process, whole-tree kill (setsid escapes included), lifeline on gateway SIGKILL.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { canWalkProcessTree, killProcessTree, spawnSupervised } from '@cpex/core/host';
import { describe, expect, it } from 'vitest';
import { isCI } from '../../../../scripts/lib/ci.mjs';

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
const nodeArgs = ['--conditions=@cpex/source', '--import', 'tsx'];
const linux = process.platform === 'linux';
if (isCI() && linux && !canWalkProcessTree) throw new Error('CI: /proc is required');

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
async function waitGone(pids: number[], ms = 15_000): Promise<number[]> {
  const end = Date.now() + ms;
  let left = pids.filter(alive);
  while (left.length && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 25));
    left = left.filter(alive);
  }
  for (const pid of left) process.kill(pid, 'SIGKILL'); // never leak into other tests
  return left;
}
function firstLine(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    const on = (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        stream.off('data', on);
        resolve(out.slice(0, nl));
      }
    };
    stream.on('data', on);
  });
}

describe.skipIf(!linux)('process supervisor', () => {
  it('kill() ends the child, its plain child and its setsid child; exited settles', {
    timeout: 60_000,
  }, async () => {
    const sup = spawnSupervised({
      command: process.execPath,
      args: [...nodeArgs, here('./supervised-child.ts')],
    });
    const { watching, pids } = JSON.parse(await firstLine(sup.stdout)) as {
      watching: boolean;
      pids: number[];
    };
    expect(watching).toBe(true);
    expect(pids[0]).toBe(sup.pid);
    for (const pid of pids) expect(alive(pid)).toBe(true);
    const exit = await sup.kill();
    expect(exit.signal).toBe('SIGKILL');
    expect(await waitGone(pids)).toEqual([]);
  });

  it('an exit is seen from the process while a grandchild keeps its pipes open; leftovers are swept', {
    timeout: 60_000,
  }, async () => {
    const sup = spawnSupervised({
      command: process.execPath,
      args: [...nodeArgs, here('./supervised-child.ts'), 'exit-keeping-pipes'],
    });
    const { pids } = JSON.parse(await firstLine(sup.stdout)) as { pids: number[] };
    const exit = await sup.exited;
    expect(exit.code).toBe(5);
    expect(await waitGone(pids)).toEqual([]);
  });

  it('a gateway SIGKILLed: the child sees EOF on its lifeline and takes its tree with it', {
    timeout: 60_000,
  }, async () => {
    const gw = spawn(process.execPath, [...nodeArgs, here('./gateway.ts')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const { pids } = JSON.parse(await firstLine(gw.stdout)) as { pids: number[] };
    for (const pid of pids) expect(alive(pid)).toBe(true);
    gw.kill('SIGKILL');
    expect(await waitGone(pids)).toEqual([]);
  });

  it('killProcessTree never signals the caller or its group', () => {
    const killed = killProcessTree(process.pid, { includeRoot: true });
    expect(killed).not.toContain(process.pid);
  });

  it('a command that cannot start resolves exited and reports the error', async () => {
    const sup = spawnSupervised({ command: '/nonexistent/cpex-test-binary' });
    const exit = await sup.exited;
    expect(exit).toEqual({ code: null, signal: null });
    expect(sup.error?.code).toBe('ENOENT');
  });
});
