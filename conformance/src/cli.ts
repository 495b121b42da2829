/**
 * `pnpm conformance [FILES|DIRS] [options]` — runs behaviour scenarios through a real cpex-ts
 * PluginManager (and, on request, through the real Python cpex 0.1.4 reference) and prints the
 * README output. Exit code: 0 all expectations met, 1 a mismatch / undocumented difference,
 * 2 bad usage or an unreadable/invalid scenario.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { disposeWasmProbes } from './probes/wasm-probe.js';
import { compareWithReference, type ReferenceReport } from './compare.js';
import { type MatrixReport, runMatrix } from './matrix.js';
import { sortKeysDeep, type ScenarioOutput } from './output.js';
import { runPythonReference } from './reference.js';
import { applyExpectations, type HostName, loadPythonHost, type RunOptions, runScenario } from './runner.js';
import { collectScenarioFiles, loadScenarioFile, type Scenario } from './scenario.js';

const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

export interface CliArgs {
  inputs: string[];
  pythonPath: string[];
  python: string;
  json: boolean;
  host: HostName | undefined;
  reference: 'python' | undefined;
  matrix: boolean;
  help: boolean;
}

/** Default interpreter: $CPEX_PYTHON, else the repo's .venv, else python3 on PATH. */
export function defaultPython(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CPEX_PYTHON) return env.CPEX_PYTHON;
  const venv = path.join(REPO_ROOT, '.venv', 'bin', 'python');
  return existsSync(venv) ? venv : 'python3';
}

export class UsageError extends Error {
  override name = 'UsageError';
}

export function parseArgs(argv: readonly string[]): CliArgs {
  const a: CliArgs = {
    inputs: [],
    pythonPath: [],
    python: defaultPython(),
    json: false,
    host: undefined,
    reference: undefined,
    matrix: false,
    help: false,
  };
  const value = (i: number, flag: string): string => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const eq = arg.indexOf('=');
    const [flag, inline] =
      arg.startsWith('--') && eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    const take = () => {
      if (inline !== undefined) return inline;
      const v = value(i, flag);
      i++;
      return v;
    };
    switch (flag) {
      case '--json':
        a.json = true;
        break;
      case '--matrix':
        a.matrix = true;
        break;
      case '--help':
      case '-h':
        a.help = true;
        break;
      case '--python-path':
        a.pythonPath.push(path.resolve(take()));
        break;
      case '--python':
        a.python = take();
        break;
      case '--host': {
        const h = take();
        if (h !== 'ts' && h !== 'python' && h !== 'native' && h !== 'wasm')
          throw new UsageError(`--host must be ts, python, native or wasm, got "${h}"`);
        a.host = h;
        break;
      }
      case '--reference': {
        const r = take();
        if (r !== 'python') throw new UsageError(`--reference must be python, got "${r}"`);
        a.reference = r;
        break;
      }
      default:
        if (flag.startsWith('-')) throw new UsageError(`unknown option ${flag}`);
        a.inputs.push(arg);
    }
  }
  return a;
}

export const HELP = `usage: pnpm conformance [FILES|DIRS] [options]

Runs behaviour scenarios (format: ../shared/conformance/README.md) through a real cpex-ts
PluginManager and checks every step's expect: block. Default input: conformance/scenarios.

options:
  --host ts|python|native|wasm
                       which host runs the probe plugins. Default: python when @cpex/host-python
                       exports registerPythonHost, else ts. native: the C build of the probe
                       (@cpex/host-native/testing, built with the machine's cc) in-process.
                       wasm: the Rust probe component on @cpex/host-wasm (built from
                       source on first use, cached under .cache/).
  --python-path DIR    import root for Python plugins (repeatable), e.g. ../shared/conformance/python
  --python PATH        interpreter for the Python host and the reference
                       (default: $CPEX_PYTHON, else <repo>/.venv/bin/python, else python3)
  --reference python   also run each scenario through the real Python cpex 0.1.4 PluginManager and
                       report differences; undocumented ones (not in conformance/deviations.yaml)
                       fail the run
  --matrix             run the corpus once per available host (ts, python, native, wasm) and report differences
  --json               print one JSON array (one object per scenario) on stdout
  -h, --help           this text
exit: 0 all good, 1 a mismatch or undocumented difference, 2 bad usage or invalid scenario`;

async function loadAll(inputs: readonly string[]): Promise<Scenario[]> {
  const files = await collectScenarioFiles(
    inputs.length > 0 ? inputs : [path.join(REPO_ROOT, 'conformance', 'scenarios')],
  );
  const out: Scenario[] = [];
  for (const f of files) out.push(await loadScenarioFile(f));
  return out;
}

function summaryLine(o: ScenarioOutput): string {
  const mark = o.expect_ok ? '✓' : '✗';
  return `${mark} ${o.scenario} [${o.host}] (${path.basename(o.file)})`;
}

function printSummary(outputs: readonly ScenarioOutput[]): void {
  for (const o of outputs) {
    process.stdout.write(`${summaryLine(o)}\n`);
    if (o.runner_error)
      process.stdout.write(`    runner error ${o.runner_error.code}: ${o.runner_error.message}\n`);
    for (const s of o.steps) {
      for (const m of s.expect_mismatches ?? []) {
        process.stdout.write(
          `    step ${s.step} ${m.key}: ${m.reason}; expected ${JSON.stringify(m.expected)}, got ${JSON.stringify(m.actual)}\n`,
        );
      }
      if (s.expect_unknown?.length)
        process.stdout.write(`    step ${s.step} not evaluated: ${s.expect_unknown.join(', ')}\n`);
    }
  }
  const failed = outputs.filter((o) => !o.expect_ok).length;
  process.stdout.write(`${outputs.length - failed} passed, ${failed} failed\n`);
}

function printReference(reports: readonly ReferenceReport[]): void {
  for (const r of reports) {
    const undocumented = r.differences.filter((d) => !d.documented);
    const documented = r.differences.filter((d) => d.documented);
    const mark = r.ok ? '✓' : '✗';
    process.stdout.write(
      `${mark} ${r.scenario}: ${r.differences.length} difference(s) from Python cpex, ${undocumented.length} undocumented` +
        `${r.cpex_ts_expect_ok ? '' : '; cpex-ts expectations FAILED'}${r.reference_error ? `; reference error: ${r.reference_error}` : ''}\n`,
    );
    if (documented.length > 0) {
      const reasons = [...new Set(documented.map((d) => d.reason))];
      process.stdout.write(`    documented: ${documented.map((d) => d.path).join(', ')}\n`);
      for (const why of reasons) process.stdout.write(`      why: ${why}\n`);
    }
    for (const d of undocumented) {
      process.stdout.write(
        `    UNDOCUMENTED ${d.path}: cpex-ts ${JSON.stringify(d.cpex_ts)} vs python ${JSON.stringify(d.python)}\n`,
      );
    }
    if (r.unused_deviations.length > 0) {
      process.stdout.write(`    note: documented but not observed: ${r.unused_deviations.join(', ')}\n`);
    }
  }
  const bad = reports.filter((r) => !r.ok).length;
  process.stdout.write(
    `${reports.length - bad} consistent, ${bad} with undocumented differences or failures\n`,
  );
}

function printMatrix(m: MatrixReport): void {
  process.stdout.write(`${m.table}\n`);
  for (const d of m.differences) {
    process.stdout.write(
      `  ✗ ${d.scenario} ${d.path}: ${d.hosts.map((h) => `${h.host}=${JSON.stringify(h.value)}`).join(' ')}\n`,
    );
  }
  for (const [h, why] of Object.entries(m.unavailable))
    process.stdout.write(`  (host ${h} unavailable: ${why})\n`);
}

function emitJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(sortKeysDeep(value), null, 2)}\n`);
}

/** The command; returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let args: CliArgs;
  try {
    args = parseArgs(argv);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${HELP}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  let scenarios: Scenario[];
  try {
    scenarios = await loadAll(args.inputs);
  } catch (e) {
    const code = (e as { code?: string }).code ?? 'ERROR';
    process.stderr.write(`conformance: ${code}: ${(e as Error).message}\n`);
    return 2;
  }
  const host: HostName = args.host ?? ((await loadPythonHost()) ? 'python' : 'ts');
  const base: RunOptions = { host, pythonPath: args.pythonPath, python: args.python };
  process.stderr.write(`conformance: ${scenarios.length} scenario(s), host ${host}\n`);

  if (args.matrix) {
    const m = await runMatrix(scenarios, base);
    if (args.json) emitJson(m);
    else printMatrix(m);
    return m.ok ? 0 : 1;
  }

  const outputs: ScenarioOutput[] = [];
  for (const sc of scenarios) outputs.push(applyExpectations(sc, await runScenario(sc, base)));

  if (args.reference === 'python') {
    const reports: ReferenceReport[] = [];
    for (const [i, sc] of scenarios.entries()) {
      const ref = await runPythonReference(sc, { python: args.python, pythonPath: args.pythonPath });
      reports.push(compareWithReference(sc, outputs[i] as ScenarioOutput, ref));
    }
    if (args.json) emitJson(reports);
    else printReference(reports);
    return reports.every((r) => r.ok) ? 0 : 1;
  }

  if (args.json) emitJson(outputs);
  else printSummary(outputs);
  return outputs.every((o) => o.expect_ok) ? 0 : 1;
}

const isEntry =
  process.argv[1] !== undefined && path.resolve(process.argv[1]) === path.resolve(import.meta.filename);
if (isEntry) {
  const finish = (code: number) => {
    process.exitCode = code;
    // Hosts are shut down per scenario; if a stray handle (a child process, a timer) still keeps
    // the loop alive, do not hang CI: leave after a grace period.
    setTimeout(() => process.exit(code), 3000).unref();
  };
  const run = async (argv: string[]) => {
    try {
      return await main(argv);
    } finally {
      await disposeWasmProbes();
    }
  };
  run(process.argv.slice(2)).then(finish, (e) => {
    process.stderr.write(`conformance: internal error: ${(e as Error).stack ?? String(e)}\n`);
    finish(2);
  });
}
