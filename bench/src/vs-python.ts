/**
 * cpex-ts vs the Python reference (cpex 0.1.4, pip-installed in .venv): the same hook with the same
 * number of sequential passthrough plugins, measured in the same run, per call.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PluginManager, type PluginResult } from '@cpex/core';
import { compare, type Stats } from './harness.js';
import { isCI } from '../../scripts/lib/ci.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const python = process.env.CPEX_PYTHON ?? path.resolve(here, '../../.venv/bin/python');

function pythonStats(plugins: number, calls: number): Stats {
  const r = spawnSync(
    python,
    [path.join(here, '../python/reference_invoke.py'), String(plugins), String(calls)],
    {
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(`python reference bench failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

export async function benchVsPython(opts: { quick?: boolean } = {}): Promise<boolean> {
  if (!existsSync(python)) {
    console.log(`\n(skipping cpex-ts vs Python cpex: no interpreter at ${python}; run scripts/setup.sh)`);
    return !isCI();
  }
  const calls = opts.quick ? 5000 : 20000;
  const rows: string[] = [];
  for (const n of [1, 5, 20]) {
    const m = new PluginManager();
    const ALLOW: PluginResult = { continueProcessing: true };
    for (let i = 0; i < n; i++) m.registerHook('tool_pre_invoke', async () => ALLOW, { name: `p${i}` });
    await m.initialize();
    const payload = { name: 'calc', args: { x: 1, y: 2, note: 'a short tool call payload' } };
    const ts = (
      await compare(
        () => m.invoke('tool_pre_invoke', payload),
        async () => {},
        { rounds: 4, perRound: calls / 4, warmup: 2000 },
      )
    ).subject;
    const py = pythonStats(n, calls);
    rows.push(
      `| ${n} | ${ts.p50.toFixed(2)} | ${ts.p99.toFixed(2)} | ${py.p50.toFixed(1)} | ${py.p99.toFixed(1)} | ${(py.p50 / ts.p50).toFixed(0)}× |`,
    );
    await m.shutdown();
  }
  console.log(
    '\n## invoke(): cpex-ts vs Python cpex 0.1.4 (sequential passthrough plugins, µs per call, same run)\n',
  );
  console.log('| plugins | cpex-ts p50 | cpex-ts p99 | Python p50 | Python p99 | Python / cpex-ts (p50) |');
  console.log('|---|---|---|---|---|---|');
  console.log(rows.join('\n'));
  return true;
}

if (import.meta.url === `file://${process.argv[1]}`)
  await benchVsPython({ quick: process.argv.includes('--quick') });
