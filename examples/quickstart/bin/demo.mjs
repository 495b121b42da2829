#!/usr/bin/env node
// `pnpm demo [--json] [--config <file>]` runs this bin (pnpm falls back to `pnpm exec` when the
// root package.json has no `demo` script). A package.json script would make pnpm print its
// "> cpex-ts@ demo ..." banner on stdout, and `pnpm demo --json` would not be parseable JSON.
// It starts the quickstart gateway from source (tsx, @cpex/source condition).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const tsx = import.meta.resolve('tsx');
const r = spawnSync(
  process.execPath,
  ['--conditions=@cpex/source', '--import', tsx, main, ...process.argv.slice(2)],
  { stdio: 'inherit', env: { ...process.env, INIT_CWD: process.env.INIT_CWD ?? process.cwd() } },
);
if (r.error) {
  process.stderr.write(`pnpm demo: cannot start node: ${r.error.message}\n`);
  process.exit(1);
}
if (r.signal) process.kill(process.pid, r.signal);
process.exit(r.status ?? 1);
