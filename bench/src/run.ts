/**
 * `pnpm bench [--quick] [--only core|vs-python|vs-rust|soak|python|ffi|fleet|wasm]`: every benchmark, each against its baseline measured
 * in the same run. Results are ratios (the machine is noisy); absolute numbers are for orientation.
 *
 * `pnpm bench` builds the packages and this directory and runs plain `node bench/dist/run.js`: it
 * measures what ships. Loading tsx (`pnpm bench:source`, handy while editing) changes the
 * numbers: with its loader in the process an invoke with 100 in flight often costs ~4.5 µs of
 * CPU instead of ~0.6 µs (V8 promotes the short-lived objects; see docs/executor.md).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchConfigLoad } from './config-load.js';
import { benchCore } from './core.js';
import { benchVsPython } from './vs-python.js';
import { benchFleet } from './fleet.js';
import { benchVsRust } from './vs-rust.js';
import { benchWasm } from './wasm.js';

const self = fileURLToPath(import.meta.url);
const here = path.dirname(self);
// Compiled (bench/dist, what `pnpm bench` runs): children are plain `node file.js` on the built
// packages. From source (.ts): children get the same tsx + source-condition setup as this process.
const ext = path.extname(self);
const nodeArgs = ext === '.ts' ? ['--conditions=@cpex/source', '--import', 'tsx'] : [];
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
if (!only || only === 'config') {
  ok &&= benchConfigLoad({ quick });
}
if (!only || only === 'core' || only === 'vs-python') {
  ok &&= await benchVsPython({ quick });
}
if (only === 'vs-rust' || (!only && !quick)) {
  // Rust cpex-core 0.2.2 (bench/rust, built on first use: minutes when cold) and the ts child,
  // interleaved in fresh processes.
  ok &&= await benchVsRust({ quick, here, ext, nodeArgs, sharedProcess: argv.includes('--shared-process') });
}
if (only === 'wasm' || (!only && !quick)) {
  // host-wasm vs a bare jco call of the same component (needs the Rust noop fixture).
  ok &&= await benchWasm({ quick });
}
if (!only || only === 'soak') {
  // The memory soak needs --expose-gc: its own process.
  const r = spawnSync(
    process.execPath,
    ['--expose-gc', ...nodeArgs, path.join(here, `soak${ext}`), ...(quick ? ['--quick'] : [])],
    { stdio: 'inherit' },
  );
  ok &&= r.status === 0;
}
if (!only || only === 'ffi') {
  // Go → cpex serve against a bare echo server over the same socket (needs Go), plus in-process.
  const { benchFfi } = await import('./ffi.js');
  ok &&= await benchFfi();
}
if (!only || only === 'fleet') {
  // Sessions on Redis (a loopback redis-server started for the run), routing at 10,000 routes, reload.
  ok &&= await benchFleet({ quick });
}
if (!only || only === 'python') {
  // The Python host bench runs in its own process (worker processes, pythonia's global bridge).
  const r = spawnSync(process.execPath, [...nodeArgs, path.join(here, `python-host${ext}`)], {
    stdio: 'inherit',
  });
  ok &&= r.status === 0;
}
if (!only || only === 'native') {
  // The native host bench (koffi baseline, in-process, process isolation) in its own process.
  const r = spawnSync(
    process.execPath,
    [...nodeArgs, path.join(here, `native${ext}`), ...(quick ? ['--calls', '1000'] : [])],
    {
      stdio: 'inherit',
      env: { ...process.env, UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? '4' },
    },
  );
  ok &&= r.status === 0;
}
process.exitCode = ok ? 0 : 1;
