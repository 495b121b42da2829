/**
 * Config loading (issue 11 item 15): `parseConfigText` (parse + templates + alias check + schema +
 * normalization) on 1,000 and 10,000 plugins, against a bare `yaml.parse` of the same text in the
 * same run. Targets: the 10,000/1,000 load ratio ≤ 12 (linear) and load ≤ 2× yaml.parse.
 * Medians of interleaved repetitions; absolute times are noisy on a shared machine.
 */
import { createRequire } from 'node:module';
import { parseConfigText } from '@cpex/core';

// yaml is @cpex/core's dependency: resolve it from there (the bench does not depend on it itself).
const { parse } = createRequire(import.meta.resolve('@cpex/core'))('yaml') as { parse(t: string): unknown };

function configText(n: number): string {
  let s = 'plugin_settings:\n  plugin_timeout: 30\nplugins:\n';
  for (let i = 0; i < n; i++) {
    s += `  - name: plugin-${i}\n    kind: node://./p.mjs\n    hooks: [tool_pre_invoke, tool_post_invoke]\n    mode: sequential\n    priority: ${i % 200}\n    capabilities: [read_headers]\n    conditions:\n      - tools: [search, fetch]\n    config:\n      limit: ${i}\n      label: "x-${i}"\n`;
  }
  return s;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const time = (f: () => unknown) => {
  const t = performance.now();
  f();
  return performance.now() - t;
};

export function benchConfigLoad(opts: { quick?: boolean } = {}): boolean {
  const reps = opts.quick ? 3 : 5;
  const res: Record<number, { parse: number; load: number }> = {};
  for (const n of [1000, 10_000]) {
    const text = configText(n);
    time(() => parseConfigText(text, { env: {} })); // warm-up
    const p: number[] = [];
    const l: number[] = [];
    for (let r = 0; r < reps; r++) {
      if (r % 2) {
        p.push(time(() => parse(text)));
        l.push(time(() => parseConfigText(text, { env: {} })));
      } else {
        l.push(time(() => parseConfigText(text, { env: {} })));
        p.push(time(() => parse(text)));
      }
    }
    res[n] = { parse: median(p), load: median(l) };
  }
  const a = res[1000]!;
  const b = res[10_000]!;
  const scale = b.load / a.load;
  const r1 = a.load / a.parse;
  const r2 = b.load / b.parse;
  console.log('\nconfig load (median ms; ratios in the same run)');
  console.log('| plugins | yaml.parse | parseConfigText | load / parse (≤ 2) |');
  console.log('|---|---|---|---|');
  console.log(`| 1,000 | ${a.parse.toFixed(0)} | ${a.load.toFixed(0)} | ${r1.toFixed(2)} |`);
  console.log(`| 10,000 | ${b.parse.toFixed(0)} | ${b.load.toFixed(0)} | ${r2.toFixed(2)} |`);
  console.log(`10,000 / 1,000 load: ${scale.toFixed(1)}× (target ≤ 12×)`);
  const ok = scale <= 12 && r1 <= 2 && r2 <= 2;
  console.log(ok ? 'config: all targets met' : 'config: some targets missed');
  return ok;
}
