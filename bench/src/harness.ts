/**
 * A small benchmark harness: each case times a subject and its baseline call by call
 * (process.hrtime.bigint), interleaved in rounds so machine noise hits both alike, and reports
 * p50/p99/mean and the subject/baseline ratio measured in the same run.
 */
import {
  DEFAULT_SETTINGS,
  type GlobalContext,
  HookRegistry,
  type Logger,
  type PluginContext,
  type PluginEntry,
} from '@cpex/core';
export interface Stats {
  p50: number;
  p99: number;
  mean: number;
  n: number;
}

export type AsyncFn = () => Promise<unknown>;

async function sample(fn: AsyncFn, n: number, out: number[]): Promise<void> {
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await fn();
    out.push(Number(process.hrtime.bigint() - t));
  }
}

export function stats(ns: number[]): Stats {
  const s = [...ns].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]! / 1000;
  const mean = s.reduce((a, b) => a + b, 0) / s.length / 1000;
  return { p50: q(0.5), p99: q(0.99), mean, n: s.length };
}

/** Time `subject` and `baseline` in alternating rounds; values in microseconds. */
export async function compare(
  subject: AsyncFn,
  baseline: AsyncFn,
  { rounds = 20, perRound = 2000, warmup = 5000 } = {},
): Promise<{ subject: Stats; baseline: Stats }> {
  const trash: number[] = [];
  await sample(subject, warmup, trash);
  await sample(baseline, warmup, trash);
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      await sample(subject, perRound, a);
      await sample(baseline, perRound, b);
    } else {
      await sample(baseline, perRound, b);
      await sample(subject, perRound, a);
    }
  }
  return { subject: stats(a), baseline: stats(b) };
}

export interface Row {
  name: string;
  subject: Stats;
  baseline: Stats;
  baselineName: string;
  target?: { ratio: number; on: 'p50' | 'mean'; text: string };
}

const f = (x: number) => (x < 10 ? x.toFixed(3) : x < 100 ? x.toFixed(2) : x.toFixed(1));

export function printTable(title: string, rows: Row[]): boolean {
  let ok = true;
  const lines: string[] = [];
  lines.push(`\n## ${title}\n`);
  lines.push(
    '| case | p50 µs | p99 µs | mean µs | baseline | base p50 µs | base p99 µs | base mean µs | ratio p50 | target | |',
  );
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const ratio = r.subject.p50 / r.baseline.p50;
    let verdict = '';
    if (r.target) {
      const v = r.target.on === 'p50' ? ratio : r.subject.mean / r.baseline.mean;
      const pass = v <= r.target.ratio;
      ok &&= pass;
      verdict = pass ? 'PASS' : 'FAIL';
    }
    lines.push(
      `| ${r.name} | ${f(r.subject.p50)} | ${f(r.subject.p99)} | ${f(r.subject.mean)} | ${r.baselineName} | ${f(r.baseline.p50)} | ${f(r.baseline.p99)} | ${f(r.baseline.mean)} | ${ratio.toFixed(2)}× | ${r.target?.text ?? ''} | ${verdict} |`,
    );
  }
  console.log(lines.join('\n'));
  return ok;
}

/** A quiet logger for host benches. */
export const quietLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** A PluginContext for calling a host's handler directly (no manager). */
export function benchContext(pluginName: string, hook: string): PluginContext {
  const state: Record<string, unknown> = {};
  const globalContext: GlobalContext = { requestId: 'bench', state: {}, metadata: {} };
  return {
    state,
    metadata: {},
    globalContext,
    signal: new AbortController().signal,
    onAbort: () => true,
    offAbort: () => {},
    pluginName,
    timeoutMs: 30_000,
    hook,
    phase: 'sequential',
    getState: <T>(k: string, f?: T) => (k in state ? (state[k] as T) : f),
    setState: (k: string, v: unknown) => {
      state[k] = v;
    },
  };
}

/** A normalized config entry for calling a host's factory directly; `isolation` goes to `extra`. */
export function benchEntry(
  name: string,
  kind: string,
  hook: string,
  config: unknown,
  isolation: string,
): PluginEntry {
  return {
    name,
    kind,
    hooks: [hook],
    mode: 'sequential',
    priority: 100,
    onError: 'fail',
    capabilities: [],
    conditions: [],
    config: config as PluginEntry['config'],
    tags: [],
    extra: { isolation },
  };
}

/** The FactoryContext a host factory gets from a manager, with default settings. */
export function benchFactoryContext(baseDir: string) {
  return {
    baseDir,
    pluginDirs: [],
    settings: { ...DEFAULT_SETTINGS },
    logger: quietLogger,
    hooks: new HookRegistry(),
  };
}
