import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli.js';
import type { ScenarioOutput } from '../src/output.js';
import { applyExpectations, runScenario } from '../src/runner.js';
import { collectScenarioFiles, loadScenarioFile } from '../src/scenario.js';

const CORPUS = path.resolve(import.meta.dirname, '..', 'scenarios');
const SHARED = path.resolve(import.meta.dirname, '../../../shared/conformance/scenarios');

describe('the whole corpus, --host ts', () => {
  it('every scenario meets its expectations through a real PluginManager with the TS probes', async () => {
    const files = await collectScenarioFiles([CORPUS]);
    expect(files.length).toBeGreaterThanOrEqual(30);
    const failures: string[] = [];
    const outputs: ScenarioOutput[] = [];
    for (const f of files) {
      const sc = await loadScenarioFile(f);
      const out = applyExpectations(
        sc,
        await runScenario(sc, { host: 'ts', pythonPath: [], python: 'python3' }),
      );
      outputs.push(out);
      if (!out.expect_ok) {
        failures.push(
          `${path.basename(f)}: ${JSON.stringify(out.runner_error ?? out.steps.map((s) => s.expect_mismatches ?? []))}`,
        );
      }
    }
    expect(failures).toEqual([]);
    // `executed` comes from the manager's tracing: every step that ran plugins has records with a phase.
    const modes = new Set(outputs.flatMap((o) => o.steps.flatMap((s) => s.executed.map((e) => e.mode))));
    expect([...modes].sort()).toEqual(['audit', 'concurrent', 'fire_and_forget', 'sequential', 'transform']);
  });

  it('the published scenarios are copied unchanged', async () => {
    const { readFile } = await import('node:fs/promises');
    const published = (await collectScenarioFiles([SHARED])).filter((f) => f.endsWith('.yaml'));
    expect(published.length).toBeGreaterThan(0);
    for (const f of published) {
      const mine = path.join(CORPUS, path.basename(f));
      expect(await readFile(mine, 'utf8'), path.basename(f)).toBe(await readFile(f, 'utf8'));
    }
  });

  it('main() returns 0 for a passing run', async () => {
    const write = process.stdout.write;
    let printed = '';
    process.stdout.write = ((s: string) => {
      printed += s;
      return true;
    }) as typeof process.stdout.write;
    try {
      expect(await main([path.join(CORPUS, '02-priority-ties.yaml'), '--host', 'ts'])).toBe(0);
    } finally {
      process.stdout.write = write;
    }
    expect(printed).toContain('✓ priority-ties [ts]');
  });
});
