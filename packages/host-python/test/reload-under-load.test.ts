/**
 * Hot reload under load: ~1,000 invokes/s through a Python plugin (out-of-process worker) and TS
 * plugins while the config is reloaded (the Python plugin is kept, a TS plugin changes, one is
 * added). No call may fail or be lost; the invoke p99 during the swap window is printed (the note
 * reports it — timings are never asserted, the machine is shared).
 */
import { type PluginEntry, PluginManager } from '@cpex/core';
import { registerPythonHost } from '@cpex/host-python';
import { afterAll, describe, expect, it } from 'vitest';
import { CONFORMANCE_PY, FIXTURES, realCpexPython, shimPython } from './helpers.js';

const python = shimPython() ?? realCpexPython();

const config = (tsTag: string, extra: boolean) => `
plugins:
  - {name: py, kind: pyref.plugins.probe.Probe, hooks: [tool_pre_invoke], priority: 1, config: {}}
  - {name: ts-a, kind: ts-tag, hooks: [tool_pre_invoke], priority: 2, config: {tag: ${tsTag}}}
${extra ? '  - {name: ts-b, kind: ts-tag, hooks: [tool_pre_invoke], priority: 3, config: {tag: b}}' : ''}
`;

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const managers: PluginManager[] = [];
afterAll(async () => {
  await Promise.allSettled(managers.map((m) => m.shutdown()));
});

describe.skipIf(!python)('reload under load (Python + TS plugins)', () => {
  it('1,000 calls/s across a reload: no call fails or is lost', { timeout: 120_000 }, async () => {
    const quiet = { debug() {}, info() {}, warn() {}, error() {} };
    const manager = new PluginManager({ logger: quiet });
    managers.push(manager);
    registerPythonHost(manager, { python: python!, pythonPath: [CONFORMANCE_PY, FIXTURES], logger: quiet });
    manager.registerFactory('ts-tag', {
      async create(entry: PluginEntry) {
        return {
          host: { supportsTimeouts: 'cooperative', isolated: false, copiesPayloads: false },
          handler: () => () => ({ metadata: { [`tag_${entry.name}`]: entry.config?.tag } }),
        };
      },
    });
    await manager.loadConfigText(config('v1', false), { baseDir: FIXTURES });
    await manager.initialize();
    // Warm the worker.
    for (let i = 0; i < 50; i++) await manager.invoke('tool_pre_invoke', { name: 'warm', args: {} });

    const rate = 1_000; // calls per second
    const durationMs = 3_000;
    const reloadAtMs = 1_200;
    const calls: Array<{ start: number; ms: number; ok: boolean; tag?: unknown }> = [];
    const failures: string[] = [];
    const inflight: Promise<void>[] = [];
    let swap: { start: number; end: number; swapMs: number; prepareMs: number } | undefined;
    const t0 = performance.now();
    let sent = 0;
    let reloading: Promise<void> | undefined;
    while (performance.now() - t0 < durationMs) {
      const due = Math.floor(((performance.now() - t0) / 1000) * rate);
      for (; sent < due; sent++) {
        const start = performance.now();
        inflight.push(
          manager.invoke('tool_pre_invoke', { name: `call-${sent}`, args: {} }).then(
            (r) => {
              const ok = r.continueProcessing && r.errors.length === 0;
              if (!ok) failures.push(JSON.stringify({ v: r.violation, e: r.errors }));
              calls.push({
                start: start - t0,
                ms: performance.now() - start,
                ok,
                tag: r.metadata.tag_ts_a ?? r.metadata['tag_ts-a'],
              });
            },
            (e) => {
              failures.push(String(e));
              calls.push({ start: start - t0, ms: performance.now() - start, ok: false });
            },
          ),
        );
      }
      if (!reloading && performance.now() - t0 >= reloadAtMs) {
        const s = performance.now() - t0;
        reloading = manager.reload({ text: config('v2', true), baseDir: FIXTURES }).then((r) => {
          expect(r).toMatchObject({ status: 'reloaded', kept: ['py'] });
          expect(r.added.sort()).toEqual(['ts-a', 'ts-b']);
          swap = { start: s, end: performance.now() - t0, swapMs: r.swapMs, prepareMs: r.prepareMs };
        });
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    await reloading;
    await Promise.all(inflight);

    expect(failures).toEqual([]);
    expect(calls.length).toBe(sent);
    const tags = new Set(calls.map((c) => c.tag));
    expect(tags).toEqual(new Set(['v1', 'v2'])); // both lineups served, nothing else
    const all = calls.map((c) => c.ms).sort((a, b) => a - b);
    const window = calls
      .filter((c) => c.start >= swap!.start - 50 && c.start <= swap!.end + 200)
      .map((c) => c.ms)
      .sort((a, b) => a - b);
    const report = {
      calls: calls.length,
      achievedRate: Math.round(calls.length / (durationMs / 1000)),
      p50: +pct(all, 50).toFixed(3),
      p99: +pct(all, 99).toFixed(3),
      swapWindowCalls: window.length,
      swapWindowP99: +pct(window, 99).toFixed(3),
      reloadPrepareMs: +swap!.prepareMs.toFixed(2),
      swapMs: +swap!.swapMs.toFixed(4),
    };
    // For the notes: the machine is shared, so this is printed, not asserted.
    console.log(`[reload-under-load] ${JSON.stringify(report)}`);
  });
});
