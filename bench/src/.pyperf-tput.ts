import path from 'node:path';
import { readFileSync } from 'node:fs';
import type { Logger, PluginContext, PluginEntry, ResolvedSettings } from '@cpex/core';
import { createPythonHost } from '@cpex/host-python';
const repo = '/work/main';
const pluginDir = path.join(repo, 'examples/python-plugin/plugins');
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const cls = process.env.CLS ?? 'ToolDenyList';
const workers = Number(process.env.WORKERS ?? 1);
const host = createPythonHost({ python: `${repo}/.venv/bin/python`, logger: quiet, workers });
const entry: PluginEntry = {
  name: 'bench',
  kind: `pii_guard.${cls}`,
  hooks: ['tool_pre_invoke'],
  mode: 'transform',
  priority: 100,
  onError: 'fail',
  capabilities: [],
  conditions: [],
  config: { deny: ['x'], detect: ['email', 'phone'] },
  tags: [],
  extra: {},
};
const inst = await host.factory.create(entry, {
  baseDir: repo,
  pluginDirs: [pluginDir],
  settings: { pluginTimeout: 30, maxPayloadBytes: 10_000_000 } as ResolvedSettings,
  logger: quiet,
});
await inst.initialize?.();
const h = inst.handler('tool_pre_invoke')!;
function ctx(): PluginContext {
  const state: Record<string, unknown> = {};
  return {
    state,
    metadata: {},
    globalContext: { requestId: 'bench', state: {}, metadata: {} },
    signal: new AbortController().signal,
    pluginName: 'pii',
    hook: 'tool_pre_invoke',
    phase: 'transform',
    getState: <T>(k: string, f?: T) => (k in state ? (state[k] as T) : f),
    setState: (k: string, v: unknown) => {
      state[k] = v;
    },
  };
}
const payload = () =>
  cls === 'PiiGuard'
    ? { name: 'send_email', args: { to: 'bob@example.com', body: 'call 555-123-4567', n: 1 } }
    : { name: 'search', args: { q: 'weather in Paris', n: 1 } };
const once = () => Promise.resolve(h(payload(), ctx(), undefined));
const pids = (inst as unknown as { pids: number[] }).pids;
const wcpu = () =>
  pids.reduce((a, pid) => {
    const p = readFileSync(`/proc/${pid}/stat`, 'utf8').split(')')[1]!.trim().split(/\s+/);
    return a + Number(p[11]) + Number(p[12]);
  }, 0) / 100;
for (let i = 0; i < 2000; i++) await once();
for (let r = 0; r < 3; r++) {
  let total = 0;
  const c0 = process.cpuUsage();
  const w0 = wcpu();
  const t0 = performance.now();
  const until = t0 + Number(process.env.MS ?? 1000);
  await Promise.all(
    Array.from({ length: 100 }, async () => {
      while (performance.now() < until) {
        await once();
        total++;
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  const w1 = wcpu();
  console.log(
    `${cls} ${workers}w: ${(total / secs).toFixed(0)} calls/s; node cpu ${((c.user + c.system) / total).toFixed(1)} us/call; worker cpu ${(((w1 - w0) * 1e6) / total).toFixed(1)} us/call`,
  );
}
await host.dispose();
