// Issue 11 item 11: Python plugins that fork. Worker exit is learned from the process (not its
// sockets, which a forked child keeps open); every worker is its own process group and a child
// subreaper; its whole tree dies on shutdown, on restart and with the gateway (SIGKILL included).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PluginManager } from '@cpex/core';
import { canWalkProcessTree } from '@cpex/core/host';
import type { PythonHost } from '@cpex/host-python';
import { afterEach, describe, expect, it } from 'vitest';
import { FIXTURES, gc, managerWith, pidAlive, realCpexPython, shimPython, waitGone } from './helpers.js';
import { isCI } from '../../../scripts/lib/ci.mjs';

const py = shimPython() ?? realCpexPython();
const linux = process.platform === 'linux';
if (isCI() && !canWalkProcessTree && linux) throw new Error('CI: /proc is required for these tests');

/** The session id of a process (field 6 of /proc/<pid>/stat). */
function sessionOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]);
}

for (const fork of [true, false]) {
  describe.skipIf(!py || !linux)(`plugins that fork (${fork ? 'forked workers' : 'spawned workers'})`, () => {
    let manager: PluginManager | undefined;
    let host: PythonHost;
    const leaked: number[] = [];
    afterEach(async () => {
      await manager?.shutdown();
      manager = undefined;
      // Whatever a test left alive is a failure of that test; do not let it leak into the next.
      for (const pid of leaked.splice(0)) if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
    });

    async function boot() {
      ({ manager, host } = await managerWith(
        'plugins:\n  - {name: c, kind: hp_plugins.chaos.Chaos, hooks: [tool_pre_invoke], on_error: ignore}',
        { python: py!, pythonPath: [FIXTURES], fork },
      ));
      return [...host.plugins][0]!;
    }
    const call = (action: string, extra: Record<string, unknown> = {}) =>
      manager!.invoke('tool_pre_invoke', { name: 'c', args: { action, ...extra } }, { globalContext: gc() });
    const spawned = async (action: string) => {
      const r = await call(action);
      expect(r.errors).toEqual([]);
      const pids = r.metadata.spawned as number[];
      leaked.push(...pids);
      for (const pid of pids) expect(pidAlive(pid)).toBe(true);
      return pids;
    };

    it('a plain fork: shutdown() does not wait for the child, and kills it', async () => {
      const plugin = await boot();
      const [child] = await spawned('fork');
      const [worker] = plugin.pids;
      await manager!.shutdown(); // would hang until the child exits if the socket decided
      manager = undefined;
      expect(await waitGone([child!, worker!])).toEqual([]);
    });

    it('a double fork + setsid: the grandchild left the group and the tree, and still dies on shutdown', async () => {
      const plugin = await boot();
      const [grandchild] = await spawned('double_fork');
      const [worker] = plugin.pids;
      // A session (and so a process group) of its own: a process-group kill misses it.
      expect(sessionOf(grandchild!)).not.toBe(sessionOf(worker!));
      await manager!.shutdown();
      manager = undefined;
      expect(await waitGone([grandchild!, worker!])).toEqual([]);
    });

    for (const action of ['fork', 'double_fork']) {
      it(`a worker that crashes after a ${action} is restarted; what it forked dies; later calls succeed`, async () => {
        const plugin = await boot();
        const pidfile = join(mkdtempSync(join(tmpdir(), 'cpex-fork-')), 'pids');
        const [before] = plugin.pids;
        // fork_crash forks a child and kills the worker in the same call.
        const forked = action === 'fork' ? [] : await spawned('double_fork');
        const r = await call('fork_crash', { pidfile });
        expect(r.errors[0]?.message).toMatch(/exit code 9/);
        const children = readFileSync(pidfile, 'utf8').trim().split(/\s+/).map(Number);
        leaked.push(...children);
        expect(await waitGone([before!, ...children, ...forked])).toEqual([]);
        await plugin.whenReady();
        const [after] = plugin.pids;
        expect(after).not.toBe(before);
        for (let i = 0; i < 3; i++) expect((await call('ok')).errors).toEqual([]);
      });
    }

    it("protocol and lifeline fds are close-on-exec: an exec'd program inherits none of them", async () => {
      await boot();
      const r = await call('exec_fds');
      expect(r.errors).toEqual([]);
      expect(r.metadata.inherited).toEqual([]);
    });
  });
}

describe.skipIf(!py || !linux)('a gateway SIGKILLed while its plugins have forked', () => {
  it('leaves no worker, child or setsid grandchild behind (forked and spawned workers)', {
    timeout: 120_000,
  }, async () => {
    const child = spawn(
      process.execPath,
      ['--conditions=@cpex/source', '--import', 'tsx', join(FIXTURES, 'forking-gateway.ts'), py!, FIXTURES],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(out.trim());
      });
      child.on('exit', () => reject(new Error(`fixture exited early: ${out}`)));
    });
    const pids = JSON.parse(line) as number[];
    expect(pids).toHaveLength(6); // per worker kind: the worker, its child, its setsid grandchild
    for (const pid of pids) expect(pidAlive(pid)).toBe(true);
    child.kill('SIGKILL');
    const alive = await waitGone(pids, 20_000);
    for (const pid of alive) process.kill(pid, 'SIGKILL');
    expect(alive).toEqual([]);
  });
});
