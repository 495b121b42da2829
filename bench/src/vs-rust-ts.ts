/**
 * The cpex-ts side of `pnpm bench --only vs-rust`: the same workloads as bench/rust (Rust
 * cpex-core 0.2.2), one process per repetition, one JSON object per line on stdout
 * (`{workload, p50_us, p99_us, mean_us, n}`). Every plugin is a no-op `async` handler returning
 * allow(); hook `tool_pre_invoke`, a ~200-byte payload and one extensions object (a request
 * extension); default settings, so every hardening check is on. Each invoke is timed on its own
 * with process.hrtime.bigint, after a warm-up, as the Rust side times with Instant.
 *
 * Usage: node bench/dist/vs-rust-ts.js [--quick] [--only WORKLOAD]
 */
import { type Mode, type PluginResult, PluginManager } from '@cpex/core';
import { nested } from './core.js';
import { stats } from './harness.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const ALLOW: PluginResult = { continueProcessing: true };
const EXT = { request: { request_id: 'r-1', environment: 'prod' } };
const MIXED: Mode[] = ['sequential', 'transform', 'audit', 'concurrent', 'fire_and_forget'];

async function manager(modes: Mode[]): Promise<PluginManager> {
  const m = new PluginManager({ logger: quiet });
  for (const [i, mode] of modes.entries()) {
    m.registerHook('tool_pre_invoke', async () => ALLOW, { name: `p${i}`, mode, priority: 10 + i });
  }
  await m.initialize();
  return m;
}

const small = {
  name: 'calc',
  args: {
    x: 1,
    y: 2,
    note: 'a short tool call payload of about two hundred bytes',
    user: 'alice@example.com',
    flags: [1, 2, 3],
  },
};

function flat(bytes: number) {
  const args: Record<string, string> = {};
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const v = String(i).padStart(100, '0');
    size += v.length + 12;
    args[`k${i}`] = v;
  }
  return { name: 'upload', args };
}

function report(workload: string, ns: number[]): void {
  const s = stats(ns);
  console.log(JSON.stringify({ workload, p50_us: s.p50, p99_us: s.p99, mean_us: s.mean, n: s.n }));
}

async function timed(fn: () => Promise<unknown>, warmup: number, n: number): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const ns: number[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await fn();
    ns[i] = Number(process.hrtime.bigint() - t);
  }
  return ns;
}

/**
 * Times `await manager.invoke(...)` itself, as the Rust side times `mgr.invoke(..).await`: the
 * result is checked outside the timed region (no wrapper async function inside it). The options
 * object is built per call, as Rust builds its extensions per call.
 */
async function serial(workload: string, modes: Mode[], payload: unknown, warmup: number, n: number) {
  const m = await manager(modes);
  const p = payload as typeof small;
  for (let i = 0; i < warmup; i++) {
    const r = await m.invoke('tool_pre_invoke', p, { extensions: EXT });
    if (!r.continueProcessing) throw new Error(`${workload}: unexpected deny`);
  }
  const ns: number[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    const r = await m.invoke('tool_pre_invoke', p, { extensions: EXT });
    ns[i] = Number(process.hrtime.bigint() - t);
    if (!r.continueProcessing) throw new Error(`${workload}: unexpected deny`);
  }
  report(workload, ns);
  await m.shutdown();
}

/** A sustained loop: the mean over `n` back-to-back calls (GC pressure included), one sample. */
async function sustained(workload: string, modes: Mode[], n: number) {
  const m = await manager(modes);
  for (let i = 0; i < 10_000; i++) await m.invoke('tool_pre_invoke', small, { extensions: EXT });
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await m.invoke('tool_pre_invoke', small, { extensions: EXT });
  const mean = Number(process.hrtime.bigint() - t) / n / 1000;
  console.log(JSON.stringify({ workload, p50_us: mean, p99_us: mean, mean_us: mean, n }));
  await m.shutdown();
}

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const onlyIdx = argv.indexOf('--only');
const only = onlyIdx >= 0 ? argv[onlyIdx + 1] : undefined;
const want = (w: string) => !only || only === w;
const [warm, n, bigN, batches, soakN] = quick
  ? [2_000, 5_000, 20, 50, 100_000]
  : [20_000, 100_000, 300, 2_000, 1_000_000];

if (want('empty async call')) {
  const empty = async () => {};
  report('empty async call', await timed(empty, warm, n));
}
if (want('0 plugins')) await serial('0 plugins', [], small, warm, n);
if (want('1 sequential')) await serial('1 sequential', ['sequential'], small, warm, n);
if (want('5 sequential')) await serial('5 sequential', Array(5).fill('sequential'), small, warm, n);
if (want('20 sequential')) await serial('20 sequential', Array(20).fill('sequential'), small, warm, n / 4);
if (want('5 mixed')) await serial('5 mixed', MIXED, small, warm, n);
// The 1 MB rows get the full warm-up too: an invoke never copies the payload, so it is cheap, and
// in a fresh process (one per workload) 20 invokes would leave the executor unoptimized (Rust,
// compiled ahead of time, needs none: it keeps 20).
if (want('1 MB flat, 5 sequential'))
  await serial('1 MB flat, 5 sequential', Array(5).fill('sequential'), flat(1_000_000), warm, bigN);
if (want('1 MB nested, 5 sequential'))
  await serial('1 MB nested, 5 sequential', Array(5).fill('sequential'), nested(1_000_000), warm, bigN);
if (want('100 concurrent invokes')) {
  const m = await manager(Array(5).fill('sequential'));
  const batch = () =>
    Promise.all(Array.from({ length: 100 }, () => m.invoke('tool_pre_invoke', small, { extensions: EXT })));
  report('100 concurrent invokes', await timed(batch, batches / 5, batches));
  await m.shutdown();
}
if (want('sustained 5 sequential'))
  await sustained('sustained 5 sequential', Array(5).fill('sequential'), soakN);
if (want('sustained 5 mixed')) await sustained('sustained 5 mixed', MIXED, soakN);
