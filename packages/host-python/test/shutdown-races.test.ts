// Shutdown racing a worker restart: a worker that dies just before shutdown is being replaced;
// shutdown (and the host's dispose) must stop the replacement too, never leave it running.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FIXTURES, managerWith, realCpexPython, shimPython } from './helpers.js';

const py = shimPython() ?? realCpexPython();

/** Live (not zombie) child processes of this process. */
function children(): number[] {
  const out: number[] = [];
  for (const tid of readdirSync('/proc/self/task'))
    for (const pid of readFileSync(`/proc/self/task/${tid}/children`, 'utf8').split(/\s+/).filter(Boolean)) {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        if (stat[stat.lastIndexOf(')') + 2] !== 'Z') out.push(Number(pid));
      } catch {}
    }
  return out;
}

describe.skipIf(!py || process.platform !== 'linux')('Python host: shutdown while a worker restarts', () => {
  for (const fork of [false, true]) {
    it(`the replacement being spawned is stopped too (${fork ? 'forked' : 'spawned'} workers)`, async () => {
      const before = new Set(children());
      const { manager, host } = await managerWith(
        'plugins:\n  - {name: m, kind: hp_plugins.chaos.Chaos, hooks: [tool_pre_invoke]}',
        { python: py!, pythonPath: [FIXTURES], fork },
      );
      const plugin = [...host.plugins][0]!;
      const [pid] = plugin.pids;
      process.kill(pid!, 'SIGKILL');
      // Wait for the host to see the death (its restart starts now), then shut down at once.
      for (let i = 0; i < 400 && plugin.workerStats[0]?.pid === pid; i++)
        await new Promise((r) => setTimeout(r, 5));
      await manager.shutdown();
      await host.dispose();
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
      const left = children().filter(
        (p) => !before.has(p) && !readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('--zygote'),
      );
      expect(left).toEqual([]);
    });
  }
});
