/**
 * `pnpm bench [--quick]`: every benchmark, each measured against its baseline in the same run.
 * Results are ratios (the machine is noisy); absolute numbers are for orientation only.
 */
import { benchCore } from './core.js';

const quick = process.argv.includes('--quick');
const { ok } = await benchCore({ quick });
console.log(ok ? '\ncore: all targets met' : '\ncore: some targets missed');
process.exitCode = ok ? 0 : 1;
