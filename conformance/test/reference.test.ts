import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultPython } from '../src/cli.js';
import {
  canonicalView,
  compareWithReference,
  diffViews,
  findDeviation,
  loadDeviations,
  pathMatches,
} from '../src/compare.js';
import { runPythonReference } from '../src/reference.js';
import { applyExpectations, runScenario } from '../src/runner.js';
import { loadScenarioFile, parseScenario } from '../src/scenario.js';
import { isCI } from '../../scripts/lib/ci.mjs';

const CORPUS = path.resolve(import.meta.dirname, '..', 'scenarios');
/** Scenarios with Python cpex's own fixture plugins (their deviations live in the same file). */
const FIXTURE_CORPUS = path.resolve(import.meta.dirname, '..', 'scenarios-cpex-fixtures');
const PYTHON = defaultPython();
const probe = spawnSync(PYTHON, ['-c', 'import cpex.framework, yaml'], { encoding: 'utf8' });
const HAVE_REFERENCE = probe.status === 0;
const IN_CI = isCI();

describe('deviation bookkeeping', () => {
  it('matches path prefixes segment by segment, * for one segment', () => {
    expect(pathMatches('steps/*/violation', 'steps/3/violation/code')).toBe(true);
    expect(pathMatches('steps/0/contexts', 'steps/1/contexts')).toBe(false);
    expect(pathMatches('steps/0/contexts/faf', 'steps/0/contexts/fafx')).toBe(false);
  });

  it('every deviations.yaml entry names a scenario of the corpus', async () => {
    const { collectScenarioFiles } = await import('../src/scenario.js');
    const names = new Set<string>();
    for (const f of await collectScenarioFiles([CORPUS, FIXTURE_CORPUS]))
      names.add((await loadScenarioFile(f)).name);
    for (const d of loadDeviations()) expect(names, d.scenario).toContain(d.scenario);
    expect(findDeviation(loadDeviations(), 'timeout-fail', 'steps/0/violation/code')).toBeDefined();
    expect(findDeviation(loadDeviations(), 'priority-ties', 'steps/0/executed')).toBeUndefined();
  });

  it('the canonical view ignores timing-only fields and nulls, and sorts set-valued lists', () => {
    const a = canonicalView({
      steps: [{ chain: { executed_count: 1 }, result: { metadata: { x: null, labels: ['b', 'a'] } } }],
    });
    const b = canonicalView({
      steps: [{ chain: 'unfinished', result: { metadata: { labels: ['a', 'b'] }, executions: [1] } }],
    });
    expect(diffViews(a, b)).toEqual([]);
  });
});

describe.runIf(HAVE_REFERENCE || IN_CI)('the Python reference, live (real cpex 0.1.4)', () => {
  it('has the reference installed (a missing toolchain fails under CI)', () => {
    expect(probe.status, `${PYTHON} cannot import cpex/yaml: ${probe.stderr}`).toBe(0);
  });

  it('runs a scenario through Python cpex and finds only documented differences', async () => {
    for (const name of ['03-sequential-deny-halts.yaml', '17-context-across-pre-post.yaml']) {
      const sc = await loadScenarioFile(path.join(CORPUS, name));
      const ts = applyExpectations(sc, await runScenario(sc, { host: 'ts', pythonPath: [], python: PYTHON }));
      const ref = await runPythonReference(sc, { python: PYTHON, pythonPath: [] });
      expect(ref.error).toBeUndefined();
      const report = compareWithReference(sc, ts, ref);
      expect(report.differences.filter((d) => !d.documented)).toEqual([]);
      expect(report.ok).toBe(true);
      if (name.startsWith('03')) {
        // The known deviation shows up, classified as documented.
        expect(report.differences.map((d) => d.path)).toContain('steps/0/contexts/faf/state/saw/args/trail');
        // Python's own view of the same run: fire_and_forget saw the ORIGINAL payload.
        type Ctx = Record<string, { state: { saw?: { args?: unknown } } }>;
        const pySteps = (ref.output as { steps: Array<{ contexts: Ctx }> }).steps;
        expect(pySteps[0]?.contexts.faf?.state.saw?.args).toEqual({ q: 1 });
      }
    }
  });

  it('flags a difference that no deviation documents', async () => {
    const text = (await import('node:fs/promises')).readFile(
      path.join(CORPUS, '106-block-silently-synthesizes-denied.yaml'),
      'utf8',
    );
    const sc = parseScenario(
      (await text).replace('name: block-silently-synthesizes-denied', 'name: undocumented-copy'),
      '/tmp/u.yaml',
    );
    const ts = applyExpectations(sc, await runScenario(sc, { host: 'ts', pythonPath: [], python: PYTHON }));
    const report = compareWithReference(
      sc,
      ts,
      await runPythonReference(sc, { python: PYTHON, pythonPath: [] }),
    );
    expect(report.ok).toBe(false);
    const undocumented = report.differences.filter((d) => !d.documented);
    expect(undocumented.map((d) => d.path)).toContain('steps/0/violation');
    expect(undocumented.find((d) => d.path === 'steps/0/violation')).toMatchObject({
      cpex_ts: { code: 'denied', plugin_name: 'quiet_gate' },
      python: null,
    });
  });
});
