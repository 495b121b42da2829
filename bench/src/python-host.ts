// Python host vs pythonia, same run, same interpreter, same plugin (examples/python-plugin's
// PiiGuard: a pydantic ToolPreInvokePayload in, a PluginResult with a modified payload out).
//
//   node --conditions=@cpex/source --import tsx bench/src/python-host.ts [--python PATH] [--json]
//
// Prints per-call p50/p99 (one call at a time) and pipelined throughput (many calls in flight)
// for: @cpex/host-python called through its handler, the same through PluginManager.invoke, and
// pythonia (the bridge the original plan named). Targets (docs/adr/0001-python-host.md):
// host p50 <= 1/2 of pythonia's, pipelined throughput >= 5x pythonia's.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  type Logger,
  type PluginContext,
  type PluginEntry,
  PluginManager,
  type ResolvedSettings,
} from '@cpex/core';
import { createPythonHost, registerPythonHost } from '@cpex/host-python';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const pluginDir = path.join(repo, 'examples/python-plugin/plugins');

const { values: args } = parseArgs({
  options: {
    python: { type: 'string' },
    json: { type: 'boolean', default: false },
    calls: { type: 'string', default: '2000' },
    inflight: { type: 'string', default: '100' },
    rounds: { type: 'string', default: '3' },
  },
});
const venv = path.join(repo, '.venv/bin/python');
const python = args.python ?? process.env.CPEX_PYTHON ?? (existsSync(venv) ? venv : 'python3');
const CALLS = Number(args.calls);
const INFLIGHT = Number(args.inflight);
const ROUNDS = Number(args.rounds);
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const payload = () => ({
  name: 'send_email',
  args: { to: 'bob@example.com', body: 'call 555-123-4567', n: 1 },
});

interface Row {
  name: string;
  p50_us: number;
  p99_us: number;
  pipelined_calls_per_s: number;
  inflight: number;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

async function measure(
  name: string,
  once: () => Promise<unknown>,
  calls: number,
  inflight: number,
): Promise<Row> {
  for (let i = 0; i < Math.min(300, calls / 5); i++) await once();
  const times: number[] = [];
  for (let i = 0; i < calls; i++) {
    const t = performance.now();
    await once();
    times.push((performance.now() - t) * 1000);
  }
  times.sort((a, b) => a - b);
  const total = calls;
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: inflight }, async () => {
      while (next < total) {
        next++;
        await once();
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  return {
    name,
    p50_us: pct(times, 50),
    p99_us: pct(times, 99),
    pipelined_calls_per_s: total / secs,
    inflight,
  };
}

function directContext(): PluginContext {
  const state: Record<string, unknown> = {};
  // A fresh signal per call, as the executor hands each plugin call its own.
  const signal = new AbortController().signal;
  return {
    state,
    metadata: {},
    globalContext: { requestId: 'bench', state: {}, metadata: {} },
    signal,
    pluginName: 'pii',
    hook: 'tool_pre_invoke',
    phase: 'transform',
    getState: <T>(k: string, f?: T) => (k in state ? (state[k] as T) : f),
    setState: (k: string, v: unknown) => {
      state[k] = v;
    },
  };
}

type Once = () => Promise<unknown>;
interface Subject {
  name: string;
  once: Once;
  calls: number;
  close(): Promise<void> | void;
}

async function hostSubject(workers: number): Promise<Subject> {
  const host = createPythonHost({ python, logger: quiet, workers });
  const entry: PluginEntry = {
    name: 'pii',
    kind: 'pii_guard.PiiGuard',
    hooks: ['tool_pre_invoke'],
    mode: 'transform',
    priority: 100,
    onError: 'fail',
    capabilities: [],
    conditions: [],
    config: { detect: ['email', 'phone'] },
    tags: [],
    extra: {},
  };
  const settings = { pluginTimeout: 30, maxPayloadBytes: 10_000_000 } as ResolvedSettings;
  const inst = await host.factory.create(entry, {
    baseDir: repo,
    pluginDirs: [pluginDir],
    settings,
    logger: quiet,
  });
  await inst.initialize?.();
  const h = inst.handler('tool_pre_invoke')!;
  const once = () => Promise.resolve(h(payload(), directContext(), undefined));
  const check = (await once()) as { modifiedPayload?: { args?: { to?: string } } };
  if (check.modifiedPayload?.args?.to !== '[EMAIL]')
    throw new Error(`host returned ${JSON.stringify(check)}`);
  const name =
    workers === 1
      ? '@cpex/host-python (handler, 1 worker)'
      : `@cpex/host-python (handler, ${workers} workers)`;
  return { name, once, calls: CALLS, close: () => host.dispose() };
}

async function managerSubject(): Promise<Subject> {
  const manager = new PluginManager({ logger: quiet });
  registerPythonHost(manager, { python, logger: quiet });
  await manager.loadConfig({
    plugin_dirs: [pluginDir],
    plugins: [{ name: 'pii', kind: 'pii_guard.PiiGuard', hooks: ['tool_pre_invoke'], mode: 'transform' }],
  } as never);
  await manager.initialize();
  const once = () =>
    manager.invoke('tool_pre_invoke', payload(), {
      globalContext: { requestId: 'b', state: {}, metadata: {} },
    });
  return {
    name: '@cpex/host-python (PluginManager.invoke)',
    once,
    calls: CALLS,
    close: () => manager.shutdown(),
  };
}

async function pythoniaSubject(): Promise<Subject> {
  const dir = mkdtempSync(path.join(tmpdir(), 'cpex-bench-'));
  const bridge = path.join(dir, 'bridge.py');
  writeFileSync(
    bridge,
    `import asyncio, sys
sys.path.insert(0, ${JSON.stringify(pluginDir)})
from cpex.framework import GlobalContext, PluginConfig, PluginContext
from cpex.framework.hooks.tools import ToolPreInvokePayload
from pii_guard import PiiGuard
_loop = asyncio.new_event_loop()
_plugin = PiiGuard(PluginConfig(name="pii", kind="pii_guard.PiiGuard", hooks=["tool_pre_invoke"], config={"detect": ["email", "phone"]}))
def run(payload):
    ctx = PluginContext(global_context=GlobalContext(request_id="bench"))
    result = _loop.run_until_complete(_plugin.tool_pre_invoke(ToolPreInvokePayload.model_validate(payload), ctx))
    return result.model_dump(mode="json", exclude_none=True, exclude={"executions"})
`,
  );
  process.env.PYTHON_BIN = python; // pythonia spawns $PYTHON_BIN
  const { python: py } = (await import('pythonia')) as unknown as {
    python: ((
      file: string,
    ) => Promise<Record<string, (...a: unknown[]) => Promise<{ valueOf(): Promise<unknown> }>>>) & {
      exit(): void;
    };
  };
  const mod = await py(bridge);
  // A dict comes back as a proxy: valueOf() fetches the JSON (a second round trip), as a gateway must.
  const once = async () => (await mod.run!(payload())).valueOf();
  const check = (await once()) as { modified_payload?: { args?: { to?: string } } };
  if (check.modified_payload?.args?.to !== '[EMAIL]')
    throw new Error(`pythonia bridge returned ${JSON.stringify(check)}`);
  return {
    name: 'pythonia 1.2.6 (call + valueOf)',
    once,
    calls: Math.min(CALLS, 1000),
    close: () => py.exit(),
  };
}

// The machine may be busy: every subject is measured ROUNDS times, interleaved, and the best
// round (lowest p50, highest throughput) is reported for each.
const subjects = [
  await hostSubject(1),
  await hostSubject(2),
  await managerSubject(),
  await pythoniaSubject(),
];
const best = new Map<string, Row>();
for (let round = 0; round < ROUNDS; round++) {
  for (const s of subjects) {
    const r = await measure(s.name, s.once, s.calls, INFLIGHT);
    const b = best.get(s.name);
    best.set(
      s.name,
      b
        ? {
            ...b,
            p50_us: Math.min(b.p50_us, r.p50_us),
            p99_us: Math.min(b.p99_us, r.p99_us),
            pipelined_calls_per_s: Math.max(b.pipelined_calls_per_s, r.pipelined_calls_per_s),
          }
        : r,
    );
  }
}
for (const s of subjects) await s.close();
const rows = subjects.map((s) => best.get(s.name)!);
const base = rows[rows.length - 1]!;
const host = rows[0]!;
const p50Ratio = host.p50_us / base.p50_us;
// Throughput: the host as configured for it (a pool of 2 workers when that is faster).
const hostTput = Math.max(rows[0]!.pipelined_calls_per_s, rows[1]!.pipelined_calls_per_s);
const tputRatio = hostTput / base.pipelined_calls_per_s;
const summary = {
  python,
  rows,
  targets: {
    p50_vs_pythonia: { ratio: p50Ratio, target: '<= 0.5', met: p50Ratio <= 0.5 },
    pipelined_throughput_vs_pythonia: { ratio: tputRatio, target: '>= 5', met: tputRatio >= 5 },
  },
};
if (args.json) {
  process.stdout.write(`${JSON.stringify(summary)}\n`);
} else {
  const f = (n: number) => n.toFixed(1).padStart(9);
  console.log(
    `python host vs pythonia — ${python}; ${CALLS} sequential calls, ${INFLIGHT} in flight for throughput; best of ${ROUNDS} rounds`,
  );
  console.log(
    `${'mechanism'.padEnd(42)} ${'p50 µs'.padStart(9)} ${'p99 µs'.padStart(9)} ${'calls/s'.padStart(9)}`,
  );
  for (const r of rows)
    console.log(
      `${r.name.padEnd(42)} ${f(r.p50_us)} ${f(r.p99_us)} ${r.pipelined_calls_per_s.toFixed(0).padStart(9)}`,
    );
  console.log(
    `p50 ratio host/pythonia = ${p50Ratio.toFixed(2)} (target <= 0.50: ${p50Ratio <= 0.5 ? 'met' : 'MISSED'}); ` +
      `throughput ratio = ${tputRatio.toFixed(1)}x (target >= 5x: ${tputRatio >= 5 ? 'met' : 'MISSED'})`,
  );
}
