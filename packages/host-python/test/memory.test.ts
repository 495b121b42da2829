// Issue 11 item 12: `max_memory_mb` — an address-space rlimit in each worker. Going past it fails
// the call with CPEX_ERR_WORKER_MEMORY and restarts the worker; later calls succeed.
import { PluginManager } from '@cpex/core';
import { describe, expect, it } from 'vitest';
import { FIXTURES, gc, managerWith, realCpexPython, shimPython, waitGone } from './helpers.js';

const py = shimPython() ?? realCpexPython();
const posix = process.platform !== 'win32';

for (const fork of [true, false]) {
  describe.skipIf(!py || !posix)(`max_memory_mb (${fork ? 'forked' : 'spawned'} workers)`, () => {
    it('an allocation past the cap is CPEX_ERR_WORKER_MEMORY; the worker is restarted; later calls succeed', async () => {
      const { manager, host } = await managerWith(
        'plugins:\n  - {name: m, kind: hp_plugins.chaos.Chaos, hooks: [tool_pre_invoke], on_error: ignore, max_memory_mb: 384}',
        { python: py!, pythonPath: [FIXTURES], fork },
      );
      try {
        const plugin = [...host.plugins][0]!;
        const call = (args: Record<string, unknown>) =>
          manager.invoke('tool_pre_invoke', { name: 'm', args }, { globalContext: gc() });
        const small = await call({ action: 'alloc', mb: 8 });
        expect(small.errors).toEqual([]);
        const [before] = plugin.pids;
        const big = await call({ action: 'alloc', mb: 1024 });
        expect(big.errors).toHaveLength(1);
        expect(big.errors[0]!.errorCode).toBe('CPEX_ERR_WORKER_MEMORY');
        expect(big.errors[0]!.message).toMatch(/max_memory_mb of 384 MiB/);
        // The answer comes first, then the worker exits: wait until the host has replaced it.
        expect(await waitGone([before!], 30_000)).toEqual([]);
        for (let i = 0; i < 600 && plugin.workerStats[0]?.pid === before; i++)
          await new Promise((r) => setTimeout(r, 50));
        await plugin.whenReady();
        expect(plugin.pids[0]).not.toBe(before);
        const after = await call({ action: 'ok' });
        expect(after.errors).toEqual([]);
        // The call right after a memory failure goes to the replacement, never to the worker that
        // is exiting (it used to fail with CPEX_ERR_WORKER_DIED).
        const again = await call({ action: 'alloc', mb: 1024 });
        expect(again.errors[0]!.errorCode).toBe('CPEX_ERR_WORKER_MEMORY');
        const next = await call({ action: 'ok' });
        expect(next.errors).toEqual([]);
      } finally {
        await manager.shutdown();
      }
    });
  });
}

describe('max_memory_mb is range-checked by the config schema', () => {
  for (const bad of [0, 10, 63, 2_000_000, 1.5, '"256"']) {
    it(`max_memory_mb: ${bad} is CPEX_ERR_CONFIG_INVALID`, async () => {
      const manager = new PluginManager();
      const err = await manager
        .loadConfigText(
          `plugins:\n  - {name: m, kind: x.y.Z, hooks: [tool_pre_invoke], max_memory_mb: ${bad}}`,
        )
        .then(
          () => undefined,
          (e: unknown) => e as { code?: string; message?: string },
        );
      expect(err?.code).toBe('CPEX_ERR_CONFIG_INVALID');
      expect(err?.message).toMatch(/max_memory_mb/);
    });
  }
});
