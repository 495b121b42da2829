/**
 * `pnpm bench --only vs-rust`: cpex-ts against Rust cpex-core 0.2.2 (crates.io, `=0.2.2`,
 * `--locked`, toolchain 1.96.0, opt-level 3, tokio current_thread) on the same workloads.
 *
 * Each repetition runs the Rust binary (bench/rust) and the ts child (vs-rust-ts) in fresh
 * processes, alternating which goes first: the machine settles in a fast or a slow mode per
 * process, so one process per side per repetition and the median over repetitions is what counts.
 * By default every workload of a repetition gets a fresh process of its own on both sides (the
 * same warm-up and sample counts), so no workload runs in a heap or JIT state the previous ones
 * left (the 1 MB rows fill the old generation before 100 concurrent invokes, for instance);
 * `--shared-process` runs all workloads of a side in one process per repetition, as before.
 * Prints one table: workload | Rust p50 | ts p50 | ratio, with the spread (min–max over reps).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export interface Sample {
  workload: string;
  p50_us: number;
  p99_us: number;
  mean_us: number;
  n: number;
}

const RUST_TOOLCHAIN = '1.96.0';

/** The workloads, in table order; `rust: false` rows are ts-only (a baseline or the sustained loops). */
export const WORKLOADS: ReadonlyArray<{ name: string; rust: boolean }> = [
  { name: 'empty async call', rust: false },
  { name: '0 plugins', rust: true },
  { name: '1 sequential', rust: true },
  { name: '5 sequential', rust: true },
  { name: '20 sequential', rust: true },
  { name: '5 mixed', rust: true },
  { name: '1 MB flat, 5 sequential', rust: true },
  { name: '1 MB nested, 5 sequential', rust: true },
  { name: '100 concurrent invokes', rust: true },
  { name: 'sustained 5 sequential', rust: false },
  { name: 'sustained 5 mixed', rust: false },
];

function parseLines(out: string, who: string): Sample[] {
  const rows: Sample[] = [];
  for (const line of out.split('\n')) {
    if (!line.startsWith('{')) continue;
    const r = JSON.parse(line) as Sample;
    if (typeof r.workload !== 'string' || typeof r.p50_us !== 'number')
      throw new Error(`${who}: bad line ${line}`);
    rows.push(r);
  }
  return rows;
}

/** Builds bench/rust when its binary is missing (a cold build takes minutes). */
export function rustBinary(rustDir: string): string {
  // CPEX_RUST_BENCH names a binary built elsewhere (another worktree), to skip a cold build.
  const bin = process.env.CPEX_RUST_BENCH ?? path.join(rustDir, 'target', 'release', 'cpex-rust-bench');
  if (existsSync(bin) && !process.argv.includes('--rebuild')) return bin;
  console.log(`building bench/rust (cargo +${RUST_TOOLCHAIN} build --release --locked; minutes when cold)…`);
  const r = spawnSync('cargo', [`+${RUST_TOOLCHAIN}`, 'build', '--release', '--locked'], {
    cwd: rustDir,
    stdio: 'inherit',
  });
  if (r.status !== 0 || !existsSync(bin)) {
    throw new Error(
      `could not build bench/rust: install the toolchain with \`rustup toolchain install ${RUST_TOOLCHAIN}\` (cpex-core 0.2.2 declares rust-version 1.96)`,
    );
  }
  return bin;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const f = (x: number) => (x < 10 ? x.toFixed(3) : x < 100 ? x.toFixed(2) : x.toFixed(1));

interface Target {
  workload: string;
  text: string;
  /** ratio to check, from the medians; undefined when a side is missing */
  value(ts: Map<string, number>, rust: Map<string, number>): number | undefined;
  max: number;
}

const vsRust =
  (w: string) =>
  (ts: Map<string, number>, rust: Map<string, number>): number | undefined => {
    const a = ts.get(w);
    const b = rust.get(w);
    return a !== undefined && b !== undefined ? a / b : undefined;
  };

const TARGETS: Target[] = [
  { workload: '5 sequential', text: '≤ 0.6× Rust', value: vsRust('5 sequential'), max: 0.6 },
  { workload: '5 mixed', text: '≤ 0.6× Rust', value: vsRust('5 mixed'), max: 0.6 },
  { workload: '20 sequential', text: '≤ 0.6× Rust', value: vsRust('20 sequential'), max: 0.6 },
  { workload: '0 plugins', text: '≤ 1.25× Rust', value: vsRust('0 plugins'), max: 1.25 },
  {
    workload: '0 plugins',
    text: '≤ 2× empty async call (ts)',
    value: (ts) => {
      const a = ts.get('0 plugins');
      const b = ts.get('empty async call');
      return a !== undefined && b !== undefined ? a / b : undefined;
    },
    max: 2,
  },
  {
    workload: '100 concurrent invokes',
    text: '≤ 0.5× Rust (per batch)',
    value: vsRust('100 concurrent invokes'),
    max: 0.5,
  },
  {
    workload: 'sustained 5 mixed',
    text: '≤ 2× sustained 5 sequential (ts, mean of 1M)',
    value: (ts) => {
      const a = ts.get('sustained 5 mixed');
      const b = ts.get('sustained 5 sequential');
      return a !== undefined && b !== undefined ? a / b : undefined;
    },
    max: 2,
  },
];

export async function benchVsRust(opts: {
  quick?: boolean;
  here: string;
  ext: string;
  nodeArgs: string[];
  reps?: number;
  /** All workloads of a side in one process per repetition (the method before per-workload processes). */
  sharedProcess?: boolean;
}): Promise<boolean> {
  const rustDir = path.resolve(opts.here, '..', 'rust');
  const bin = rustBinary(rustDir);
  const reps = opts.reps ?? (opts.quick ? 2 : 5);
  const flags = opts.quick ? ['--quick'] : [];
  const ts: Sample[][] = [];
  const rust: Sample[][] = [];
  // One entry per process to run: undefined = every workload in one process.
  const groups = opts.sharedProcess ? [undefined] : WORKLOADS;
  for (let i = 0; i < reps; i++) {
    const tsRun: Sample[] = [];
    const rustRun: Sample[] = [];
    for (const [k, w] of groups.entries()) {
      const only = w === undefined ? [] : ['--only', w.name];
      const runRust = () => {
        if (w !== undefined && !w.rust) return;
        const r = spawnSync(bin, [...flags, ...only], { encoding: 'utf8', maxBuffer: 1 << 24 });
        if (r.status !== 0) throw new Error(`bench/rust failed: ${r.stderr}`);
        rustRun.push(...parseLines(r.stdout, 'rust'));
      };
      const runTs = () => {
        const r = spawnSync(
          process.execPath,
          [...opts.nodeArgs, path.join(opts.here, `vs-rust-ts${opts.ext}`), ...flags, ...only],
          { encoding: 'utf8', maxBuffer: 1 << 24 },
        );
        if (r.status !== 0) throw new Error(`vs-rust-ts failed: ${r.stderr}`);
        tsRun.push(...parseLines(r.stdout, 'ts'));
      };
      // Alternate which side goes first, across repetitions and workloads.
      if ((i + k) % 2 === 0) {
        runRust();
        runTs();
      } else {
        runTs();
        runRust();
      }
    }
    rust.push(rustRun);
    ts.push(tsRun);
    process.stdout.write(`  repetition ${i + 1}/${reps} done\n`);
  }
  const collect = (runs: Sample[][]) => {
    const by = new Map<string, number[]>();
    for (const run of runs)
      for (const s of run) by.set(s.workload, [...(by.get(s.workload) ?? []), s.p50_us]);
    return by;
  };
  const tsBy = collect(ts);
  const rustBy = collect(rust);
  const tsMed = new Map([...tsBy].map(([k, v]) => [k, median(v)]));
  const rustMed = new Map([...rustBy].map(([k, v]) => [k, median(v)]));
  const spread = (v: number[] | undefined) => (v ? `${f(Math.min(...v))}–${f(Math.max(...v))}` : '');

  const lines = [
    `\n## cpex-ts vs Rust cpex-core 0.2.2 (p50 µs per invoke, median of ${reps} fresh-process repetitions each${opts.sharedProcess ? ', all workloads of a side in one process' : ', one process per workload'}; spread = min–max)\n`,
    '| workload | Rust p50 | Rust spread | ts p50 | ts spread | ts / Rust |',
    '|---|---|---|---|---|---|',
  ];
  const order = [...new Set([...rustBy.keys(), ...tsBy.keys()])];
  for (const w of order) {
    const r = rustMed.get(w);
    const t = tsMed.get(w);
    lines.push(
      `| ${w}${w.startsWith('sustained') ? ' (mean)' : ''} | ${r !== undefined ? f(r) : '—'} | ${spread(rustBy.get(w))} | ${t !== undefined ? f(t) : '—'} | ${spread(tsBy.get(w))} | ${r !== undefined && t !== undefined ? `${(t / r).toFixed(2)}×` : ''} |`,
    );
  }
  let ok = true;
  lines.push('', '| target | workload | measured | |', '|---|---|---|---|');
  for (const tg of TARGETS) {
    const v = tg.value(tsMed, rustMed);
    const pass = v !== undefined && v <= tg.max;
    ok &&= pass;
    lines.push(
      `| ${tg.text} | ${tg.workload} | ${v === undefined ? 'missing' : `${v.toFixed(2)}×`} | ${pass ? 'PASS' : 'FAIL'} |`,
    );
  }
  console.log(lines.join('\n'));
  console.log(ok ? '\nvs-rust: all targets met' : '\nvs-rust: some targets missed');
  return ok;
}
