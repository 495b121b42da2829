/**
 * `pnpm bench [--quick] [--only core|vs-python|soak|python]`: every benchmark, each against its baseline measured
 * in the same run. Results are ratios (the machine is noisy); absolute numbers are for orientation.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchCore } from './core.js';
import { benchVsPython } from './vs-python.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const onlyIdx = argv.indexOf('--only');
const only = onlyIdx >= 0 ? argv[onlyIdx + 1] : undefined;
let ok = true;

if (!only || only === 'core') {
  const r = await benchCore({ quick });
  console.log(r.ok ? '\ncore: all targets met' : '\ncore: some targets missed');
  ok &&= r.ok;
}
if (!only || only === 'core' || only === 'vs-python') {
  ok &&= await benchVsPython({ quick });
}
if (!only || only === 'soak') {
  // The memory soak needs --expose-gc: its own process.
  const r = spawnSync(
    process.execPath,
    [
      '--expose-gc',
      '--conditions=@cpex/source',
      '--import',
      'tsx',
      path.join(here, 'soak.ts'),
      ...(quick ? ['--quick'] : []),
    ],
    { stdio: 'inherit' },
  );
  ok &&= r.status === 0;
}
if (!only || only === 'python') {
  // The Python host bench runs in its own process (worker processes, pythonia's global bridge).
  const r = spawnSync(
    process.execPath,
    ['--conditions=@cpex/source', '--import', 'tsx', path.join(here, 'python-host.ts')],
    {
      stdio: 'inherit',
    },
  );
  ok &&= r.status === 0;
}
process.exitCode = ok ? 0 : 1;
