/**
 * Python cpex's own fixture plugins (from the cpex 0.1.4 sdist, fetched by scripts/cpex-fixtures.sh),
 * unchanged, through a real cpex-ts PluginManager + host-python, on two interpreters:
 * - the repo's .venv, where the real cpex 0.1.4 is installed and takes precedence;
 * - python3 without cpex, where the package bundled with host-python must be enough.
 * Plus the live Python cpex reference on part of the corpus (the whole corpus runs in
 * scripts/test-extra.sh). Under CI=true a missing sdist, PyPI or interpreter is a failure.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PluginManager } from '@cpex/core';
import { registerPythonHost } from '@cpex/host-python';
import { parse as parseYaml } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { compareWithReference } from '../src/compare.js';
import type { ScenarioOutput } from '../src/output.js';
import { runPythonReference } from '../src/reference.js';
import { applyExpectations, loadPythonHost, runScenario } from '../src/runner.js';
import { collectScenarioFiles, loadScenarioFile, type Scenario } from '../src/scenario.js';
import { isCI } from '../../scripts/lib/ci.mjs';

const REPO = path.resolve(import.meta.dirname, '..', '..');
const SCENARIOS = path.join(REPO, 'conformance', 'scenarios-cpex-fixtures');
const VENV_PYTHON = path.join(REPO, '.venv', 'bin', 'python');
const SYSTEM_PYTHON = 'python3';
const IN_CI = isCI();

const fetched = spawnSync('bash', [path.join(REPO, 'scripts', 'cpex-fixtures.sh')], { encoding: 'utf8' });
const FIXTURES = fetched.status === 0 ? fetched.stdout.trim() : '';
const canImport = (python: string, code: string) =>
  spawnSync(python, ['-c', code], { encoding: 'utf8' }).status === 0;
const HAVE_VENV = existsSync(VENV_PYTHON) && canImport(VENV_PYTHON, 'import cpex, pydantic, yaml');
const HAVE_SYSTEM = canImport(SYSTEM_PYTHON, 'import pydantic');
const RUNNABLE = FIXTURES !== '' && HAVE_VENV && HAVE_SYSTEM;

async function runAll(scenarios: Scenario[], python: string): Promise<ScenarioOutput[]> {
  const out: ScenarioOutput[] = [];
  for (const sc of scenarios) {
    out.push(
      applyExpectations(sc, await runScenario(sc, { host: 'python', pythonPath: [FIXTURES], python })),
    );
  }
  return out;
}

function failures(outputs: ScenarioOutput[]): string[] {
  return outputs
    .filter((o) => !o.expect_ok)
    .map(
      (o) =>
        `${o.scenario}: ${o.runner_error ? `${o.runner_error.code} ${o.runner_error.message}` : ''}` +
        o.steps
          .flatMap((s) => (s.expect_mismatches ?? []).map((m) => ` step ${s.step} ${m.key}: ${m.reason}`))
          .join(';'),
    );
}

describe('Python cpex fixture plugins: prerequisites', () => {
  it.runIf(IN_CI)('the fixtures, both interpreters and host-python are available (CI)', async () => {
    expect(fetched.status, `scripts/cpex-fixtures.sh failed: ${fetched.stderr}`).toBe(0);
    expect(HAVE_VENV, `${VENV_PYTHON} cannot import cpex, pydantic and yaml`).toBe(true);
    expect(HAVE_SYSTEM, `${SYSTEM_PYTHON} cannot import pydantic`).toBe(true);
    expect(await loadPythonHost()).not.toBeNull();
  });
});

describe.runIf(RUNNABLE || IN_CI)('Python cpex fixture plugins through host-python', () => {
  const scenarios: Scenario[] = [];
  beforeAll(async () => {
    for (const f of await collectScenarioFiles([SCENARIOS])) scenarios.push(await loadScenarioFile(f));
  });

  it('system python3 has no cpex, so that run exercises the bundled package', () => {
    expect(canImport(SYSTEM_PYTHON, 'import cpex')).toBe(false);
    expect(canImport(VENV_PYTHON, 'import cpex.framework.manager')).toBe(true);
  });

  it('every fixture plugin class is used by some scenario', () => {
    const kinds = scenarios
      .flatMap(
        (sc) =>
          (sc.config as { plugins?: Array<{ kind?: string; config?: Record<string, unknown> }> }).plugins ??
          [],
      )
      .flatMap((p) => [p.kind, p.config?.class_name])
      .filter((k): k is string => typeof k === 'string');
    const pluginsDir = path.join(FIXTURES, 'plugins');
    const modules: string[] = [];
    const walk = (dir: string, prefix: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (e.isDirectory()) walk(path.join(dir, e.name), `${prefix}${e.name}.`);
        else if (e.name.endsWith('.py') && e.name !== '__init__.py')
          modules.push(`${prefix}${e.name.slice(0, -3)}|${path.join(dir, e.name)}`);
      }
    };
    walk(pluginsDir, 'plugins.');
    const classes = modules.flatMap((m) => {
      const [mod, file] = m.split('|') as [string, string];
      return [...readFileSync(file, 'utf8').matchAll(/^class (\w+)\(Plugin\):/gm)].map(
        (c) => `${mod}.${c[1]}`,
      );
    });
    expect(classes.length).toBeGreaterThanOrEqual(20);
    // isolated_venv entries name the class relative to plugins/isolated.
    const unused = classes.filter((c) => !kinds.some((k) => c === k || c.endsWith(`.isolated.${k}`)));
    expect(unused).toEqual([]);
  });

  it('every scenario meets its expectations with the real cpex 0.1.4 (.venv) and with the bundled package (python3)', async () => {
    // The two interpreters run side by side (one worker pool each).
    const [withCpex, bundled] = await Promise.all([
      runAll(scenarios, VENV_PYTHON),
      runAll(scenarios, SYSTEM_PYTHON),
    ]);
    expect(scenarios.length).toBeGreaterThanOrEqual(20);
    expect(failures(withCpex)).toEqual([]);
    expect(failures(bundled)).toEqual([]);
    for (const o of [...withCpex, ...bundled]) expect(o.steps.length, o.scenario).toBeGreaterThan(0);
  }, 240_000);

  it('matches the live Python cpex 0.1.4 apart from documented deviations', async () => {
    for (const name of [
      '202-search-replace-chain.yaml',
      '207-error-plugin-on-error.yaml',
      '220-every-hook-sweep.yaml',
    ]) {
      const sc = await loadScenarioFile(path.join(SCENARIOS, name));
      const ours = applyExpectations(
        sc,
        await runScenario(sc, { host: 'python', pythonPath: [FIXTURES], python: VENV_PYTHON }),
      );
      const ref = await runPythonReference(sc, { python: VENV_PYTHON, pythonPath: [FIXTURES] });
      expect(ref.error).toBeUndefined();
      const report = compareWithReference(sc, ours, ref);
      expect(
        report.differences.filter((d) => !d.documented),
        name,
      ).toEqual([]);
      expect(report.ok, name).toBe(true);
      if (name.startsWith('207')) {
        // Python raises PluginError where cpex-ts halts with plugin_error: seen, and documented.
        expect(report.differences.map((d) => d.path)).toContain('steps/0/violation');
      }
    }
  }, 120_000);
});

/** Python cpex's own fixture configs, read as they are from the sdist (relative paths resolve from
 * its root, as in Python cpex's test runs). */
describe.runIf(RUNNABLE || IN_CI)('Python cpex fixture configs, verbatim', () => {
  const SDIST_ROOT = path.resolve(FIXTURES, '..', '..', '..', '..');
  const CONFIGS = path.join(FIXTURES, 'configs');
  type Entry = { name: string; kind: string; hooks?: string[] };
  const entries = (file: string): Entry[] =>
    ((parseYaml(readFileSync(path.join(CONFIGS, file), 'utf8')) as { plugins?: Entry[] | null }).plugins ??
      []) as Entry[];
  const files = FIXTURES ? readdirSync(CONFIGS).filter((f) => f.endsWith('.yaml')) : [];
  const external = (f: string) => entries(f).some((e) => e.kind === 'external');
  // Names a module that is not among the fixtures (a pytest module of Python cpex's suite).
  const NOT_SHIPPED = new Set(['test_hook_patterns_config.yaml']);
  const BROKEN_KINDS = new Set([
    'some.fake.nonexistentPlugin', // invalid_single_plugin.yaml
    'plugins.resource_filter.resource_filter.ResourceFilterPlugin', // init_hooks_plugins_test.yaml: not a package
  ]);

  async function load(
    file: string,
    python = VENV_PYTHON,
  ): Promise<{ manager: PluginManager; error: Error | null }> {
    const manager = new PluginManager();
    registerPythonHost(manager, { pythonPath: [FIXTURES], python });
    let error: Error | null = null;
    try {
      await manager.loadConfigText(readFileSync(path.join(CONFIGS, file), 'utf8'), { baseDir: SDIST_ROOT });
      await manager.initialize();
    } catch (e) {
      error = e as Error;
    }
    return { manager, error };
  }

  it('every in-process config loads unchanged, on both interpreters: the plugins it names, on the hooks it lists', async () => {
    const loadable = files.filter((f) => !external(f) && !NOT_SHIPPED.has(f));
    expect(loadable.length).toBeGreaterThanOrEqual(20);
    const runs = loadable.flatMap(
      (f): Array<[string, string]> => [
        [f, VENV_PYTHON],
        [f, SYSTEM_PYTHON],
      ],
    );
    for (const [f, python] of runs) {
      const { manager, error } = await load(f, python);
      try {
        expect(error, f).toBeNull();
        // Kinds that do not import in Python cpex either; their configs set fail_on_plugin_error:
        // false, so the plugin is skipped and the others load.
        const expected = entries(f)
          .filter((e) => !BROKEN_KINDS.has(e.kind))
          .map((e) => e.name);
        expect(manager.pluginNames(), f).toEqual(expected);
        for (const e of entries(f)) {
          if (!expected.includes(e.name)) continue;
          for (const h of e.hooks ?? []) expect(manager.hasHooksFor(h), `${f} ${e.name} ${h}`).toBe(true);
        }
      } finally {
        await manager.shutdown();
      }
    }
  }, 120_000);

  it('external (MCP, gRPC, unix socket) configs are refused: not supported yet, naming the plugin', async () => {
    const ext = files.filter(external);
    expect(ext.length).toBeGreaterThanOrEqual(10);
    for (const f of ext) {
      const { manager, error } = await load(f);
      await manager.shutdown();
      expect(error, f).not.toBeNull();
      expect((error as { code?: string }).code, f).toBe('CPEX_ERR_CONFIG_UNSUPPORTED');
      expect(error?.message, f).toMatch(/not supported yet/);
      expect(error?.message, f).toContain(entries(f).find((e) => e.kind === 'external')?.name);
    }
  });

  it('a config naming a module outside the fixtures fails to load, naming the plugin', async () => {
    const { manager, error } = await load('test_hook_patterns_config.yaml');
    await manager.shutdown();
    expect((error as { code?: string } | null)?.code).toBe('CPEX_ERR_PLUGIN_LOAD');
    expect(error?.message).toContain('DemoPlugin');
  });

  it('isolated_plugin.yaml: the isolated_venv plugin answers its hooks, requirements.txt found beside the plugin package', async () => {
    const { manager, error } = await load('isolated_plugin.yaml');
    try {
      expect(error).toBeNull();
      const r = await manager.invoke('tool_pre_invoke', { name: 'calc', args: {} });
      expect(r.continueProcessing).toBe(true);
      expect(r.errors).toEqual([]);
    } finally {
      await manager.shutdown();
    }
  }, 120_000);
});
