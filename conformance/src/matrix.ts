/**
 * Cross-host matrix: the corpus once per available host. Outcomes must be identical except
 * timing-only fields (never compared) and `payload_after` (in-place payload mutation is refused
 * in-process under strict and invisible across a boundary).
 */
import path from 'node:path';
import { canonicalView, diffViews } from './compare.js';
import type { ScenarioOutput } from './output.js';
import { applyExpectations, type HostName, loadPythonHost, type RunOptions, runScenario } from './runner.js';
import { nativeUnavailableReason } from './probes/native-probe.js';
import type { Scenario } from './scenario.js';

export const MATRIX_HOSTS: readonly HostName[] = ['ts', 'python', 'native', 'wasm'];

/** Paths allowed to differ between hosts (in-place writes land on the caller's object only in-process). */
const HOST_DEPENDENT = [/^steps\/\d+\/payload_after(\/|$)/];

export interface MatrixRow {
  scenario: string;
  file: string;
  /** Per host: 'pass' | 'fail' | 'n/a'. */
  hosts: Record<string, 'pass' | 'fail' | 'n/a'>;
  identical: boolean | null;
}

export interface MatrixDifference {
  scenario: string;
  path: string;
  hosts: Array<{ host: string; value: unknown }>;
}

export interface MatrixReport {
  ok: boolean;
  hosts: string[];
  unavailable: Record<string, string>;
  rows: MatrixRow[];
  differences: MatrixDifference[];
  /** The markdown table (docs/conformance.md embeds it). */
  table: string;
}

async function wasmAvailable(): Promise<boolean> {
  try {
    const fixtures = await import('../../packages/host-wasm/test/fixtures.js');
    fixtures.rustFixtures();
    return true;
  } catch {
    return false;
  }
}

/** Which hosts can run here, and why the others cannot. */
export async function availableHosts(): Promise<{ hosts: HostName[]; unavailable: Record<string, string> }> {
  const hosts: HostName[] = ['ts'];
  const unavailable: Record<string, string> = {};
  if (await loadPythonHost()) hosts.push('python');
  else unavailable.python = '@cpex/host-python does not export registerPythonHost';
  if (await wasmAvailable()) hosts.push('wasm');
  else unavailable.wasm = 'the WASM probe component could not be built (cargo +1.96.0 with wasm32-wasip2)';
  const nativeWhy = await nativeUnavailableReason();
  if (nativeWhy === undefined) hosts.push('native');
  else unavailable.native = nativeWhy;
  return { hosts, unavailable };
}

export function renderTable(rows: readonly MatrixRow[], hosts: readonly string[]): string {
  const head = `| scenario | ${hosts.join(' | ')} | identical across hosts |`;
  const sep = `|---|${hosts.map(() => '---').join('|')}|---|`;
  const mark = (v: string) => (v === 'pass' ? '✓' : v === 'fail' ? '✗' : '–');
  const lines = rows.map(
    (r) =>
      `| ${path.basename(r.file, path.extname(r.file))} | ${hosts.map((h) => mark(r.hosts[h] ?? 'n/a')).join(' | ')} | ${
        r.identical === null ? '–' : r.identical ? 'yes' : 'NO'
      } |`,
  );
  return [head, sep, ...lines].join('\n');
}

/**
 * Plugins configured to write into their payload in place: refused in-process under strict
 * (an error), invisible on a copy across a boundary (ok) -- their call outcome is host-dependent.
 */
export function inPlaceWriters(sc: Scenario): Set<string> {
  const plugins = Array.isArray(sc.config.plugins)
    ? (sc.config.plugins as Array<Record<string, unknown>>)
    : [];
  const names = new Set<string>();
  for (const p of plugins) {
    const cfg = p.config;
    if (cfg && typeof cfg === 'object' && (cfg as Record<string, unknown>).mutate_in_place)
      names.add(String(p.name));
  }
  return names;
}

/** Runs every scenario on every available host and compares the hosts' canonical views. */
export async function runMatrix(scenarios: readonly Scenario[], base: RunOptions): Promise<MatrixReport> {
  const { hosts, unavailable } = await availableHosts();
  const rows: MatrixRow[] = [];
  const differences: MatrixDifference[] = [];
  let ok = true;
  for (const sc of scenarios) {
    const outs: Partial<Record<HostName, ScenarioOutput>> = {};
    const row: MatrixRow = { scenario: sc.name, file: sc.file, hosts: {}, identical: null };
    for (const h of MATRIX_HOSTS) {
      if (!hosts.includes(h)) {
        row.hosts[h] = 'n/a';
        continue;
      }
      const o = applyExpectations(sc, await runScenario(sc, { ...base, host: h }));
      outs[h] = o;
      row.hosts[h] = o.expect_ok ? 'pass' : 'fail';
      if (!o.expect_ok) ok = false;
    }
    const ran = hosts.filter((h) => outs[h]);
    if (ran.length > 1) {
      const [first, ...rest] = ran as [HostName, ...HostName[]];
      const opts = { hostDependentPlugins: inPlaceWriters(sc), managerViolationCoreOnly: true };
      const v0 = canonicalView(outs[first] as unknown as Record<string, unknown>, opts);
      row.identical = true;
      for (const h of rest) {
        const vh = canonicalView(outs[h] as unknown as Record<string, unknown>, opts);
        for (const d of diffViews(v0, vh)) {
          if (HOST_DEPENDENT.some((re) => re.test(d.path))) continue;
          row.identical = false;
          ok = false;
          differences.push({
            scenario: sc.name,
            path: d.path,
            hosts: [
              { host: first, value: d.left },
              { host: h, value: d.right },
            ],
          });
        }
      }
    }
    rows.push(row);
  }
  return {
    ok,
    hosts: [...MATRIX_HOSTS],
    unavailable,
    rows,
    differences,
    table: renderTable(rows, MATRIX_HOSTS),
  };
}
