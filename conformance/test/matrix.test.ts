import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { canonicalView, diffViews } from '../src/compare.js';
import { replaceBlock } from '../src/gen-docs.js';
import { availableHosts, inPlaceWriters, renderTable, runMatrix } from '../src/matrix.js';
import { defaultPython } from '../src/cli.js';
import { disposeWasmProbes } from '../src/probes/wasm-probe.js';
import { loadScenarioFile } from '../src/scenario.js';

afterAll(() => disposeWasmProbes());

const CORPUS = path.resolve(import.meta.dirname, '..', 'scenarios');

describe('cross-host matrix', () => {
  it('renders one row per scenario and one column per host', () => {
    const t = renderTable(
      [
        { scenario: 'a', file: '/x/01-a.yaml', hosts: { ts: 'pass', python: 'fail' }, identical: false },
        { scenario: 'b', file: '/x/02-b.yaml', hosts: { ts: 'pass', python: 'n/a' }, identical: null },
      ],
      ['ts', 'python'],
    );
    expect(t.split('\n')).toEqual([
      '| scenario | ts | python | identical across hosts |',
      '|---|---|---|---|',
      '| 01-a | ✓ | ✗ | NO |',
      '| 02-b | ✓ | – | – |',
    ]);
  });

  it('treats the outcome of in-place payload writers and manager violation texts as host-dependent', async () => {
    const sc = await loadScenarioFile(path.join(CORPUS, '112-mutate-in-place-refused-strict.yaml'));
    expect([...inPlaceWriters(sc)].sort()).toEqual(['aud_mutator', 'mutator']);
    const run = (end: string, description: string) => ({
      steps: [
        {
          executed: [{ plugin: 'mutator', mode: 'sequential', end }],
          result: { violation: { code: 'plugin_error', plugin_name: 'mutator', description } },
        },
      ],
    });
    const opts = { hostDependentPlugins: inPlaceWriters(sc), managerViolationCoreOnly: true };
    expect(
      diffViews(canonicalView(run('error', 'js text'), opts), canonicalView(run('ok', 'py text'), opts)),
    ).toEqual([]);
    expect(
      diffViews(canonicalView(run('error', 'js text')), canonicalView(run('ok', 'py text'))).map(
        (d) => d.path,
      ),
    ).toEqual(['steps/0/executed', 'steps/0/violation/description']);
  });

  it('replaces only the generated block of the docs page', () => {
    const doc = 'intro\n<!-- matrix:start -->\nold\n<!-- matrix:end -->\noutro\n';
    expect(replaceBlock(doc, 'matrix', 'new')).toBe(
      'intro\n<!-- matrix:start -->\nnew\n<!-- matrix:end -->\noutro\n',
    );
    expect(() => replaceBlock(doc, 'other', 'x')).toThrow(/no <!-- other:start -->/);
  });

  it('runs scenarios on every available host and finds them identical', async () => {
    const { hosts } = await availableHosts();
    expect(hosts).toContain('ts');
    const scenarios = [await loadScenarioFile(path.join(CORPUS, '112-mutate-in-place-refused-strict.yaml'))];
    const m = await runMatrix(scenarios, { host: 'ts', pythonPath: [], python: defaultPython() });
    expect(m.differences).toEqual([]);
    expect(m.ok).toBe(true);
    for (const row of m.rows) {
      for (const h of hosts) expect(row.hosts[h], `${row.scenario} on ${h}`).toBe('pass');
      expect(row.identical).toBe(hosts.length > 1 ? true : null);
    }
  }, 120_000);
});
