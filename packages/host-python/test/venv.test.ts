import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { PluginManager } from '@cpex/core';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES, gc, managerWith, realCpexPython, shimPython } from './helpers.js';

// Cached venvs live in the package's .cpex-cache (git-ignored), keyed by a hash of the
// base interpreter and the requirements, so reruns reuse them.
const CACHE = fileURLToPath(new URL('../.cpex-cache/venvs/', import.meta.url));
const py = shimPython();
const venvPy = realCpexPython();
const managers: PluginManager[] = [];
afterAll(async () => {
  await Promise.allSettled(managers.map((m) => m.shutdown()));
});

describe.skipIf(!py)('isolated_venv (per-plugin cached virtualenv)', () => {
  mkdirSync(CACHE, { recursive: true });

  it('installs requirements_file from PyPI into a cached venv and runs the plugin with it', async () => {
    const { manager, host } = await managerWith(
      `plugins:
  - name: iso
    kind: isolated_venv
    hooks: [tool_pre_invoke]
    config: {class_name: venv_probe.VenvProbe, requirements_file: venv_plugin/requirements.txt, plugin_dir: venv_plugin}`,
      { python: py!, venvCacheDir: CACHE, startTimeoutMs: 60_000 },
    );
    managers.push(manager);
    const r = await manager.invoke('tool_pre_invoke', { name: 'calc', args: {} }, { globalContext: gc() });
    expect(r.errors).toEqual([]);
    expect(r.metadata.toml).toBe('tool = "calc"\n');
    expect(r.metadata.prefix as string).toContain(CACHE.replace(/\/$/, ''));
    const runtime = [...host.plugins][0]!.runtime!;
    expect(runtime.executable).toContain(CACHE.replace(/\/$/, ''));
    expect(runtime.cpex?.origin).toBe('bundled');
  }, 240_000);

  it('without requirements it needs no network: --system-site-packages gives pydantic', async () => {
    const { manager } = await managerWith(
      `plugins:
  - {name: iso2, kind: isolated_venv, hooks: [tool_pre_invoke], config: {class_name: venv_probe.VenvProbe, plugin_dir: venv_plugin}}`,
      { python: py!, venvCacheDir: CACHE, env: { PIP_NO_INDEX: '1' } },
    );
    managers.push(manager);
    const r = await manager.invoke('tool_pre_invoke', { name: 'calc', args: {} }, { globalContext: gc() });
    expect(r.errors).toEqual([]);
    expect(r.metadata.missing).toMatch(/tomli_w/);
    expect(r.metadata.prefix as string).toContain(CACHE.replace(/\/$/, ''));
  }, 120_000);

  it('a requirement that cannot be installed is a coded CPEX_ERR_VENV_BUILD naming the plugin', async () => {
    const err = await managerWith(
      `plugins:
  - {name: broken_reqs, kind: isolated_venv, hooks: [tool_pre_invoke], config: {class_name: venv_probe.VenvProbe, requirements_file: does/not/exist.txt}}`,
      { python: py!, venvCacheDir: CACHE },
    ).catch((e: unknown) => e as { code: string; message: string });
    expect((err as { code: string }).code).toBe('CPEX_ERR_VENV_BUILD');
    expect((err as { message: string }).message).toContain('broken_reqs');
    expect((err as { message: string }).message).toContain('requirements_file');
  });
});
describe.skipIf(!venvPy)('isolated_venv from an interpreter that is itself a venv', () => {
  mkdirSync(CACHE, { recursive: true });

  it("sees the parent venv's packages: a requirement they satisfy (cpex) installs offline", async () => {
    const { manager, host } = await managerWith(
      `plugins:
  - {name: iso3, kind: isolated_venv, hooks: [tool_pre_invoke],
     config: {class_name: venv_probe.VenvProbe, requirements_file: venv_plugin/requirements-cpex.txt, plugin_dir: venv_plugin}}`,
      // No index: pip may only find what is already there (the parent venv's cpex 0.1.4).
      { python: venvPy!, venvCacheDir: CACHE, env: { PIP_NO_INDEX: '1' }, startTimeoutMs: 60_000 },
    );
    managers.push(manager);
    const r = await manager.invoke('tool_pre_invoke', { name: 'calc', args: {} }, { globalContext: gc() });
    expect(r.errors).toEqual([]);
    expect(r.metadata.prefix as string).toContain(CACHE.replace(/\/$/, ''));
    const runtime = [...host.plugins][0]!.runtime!;
    expect(runtime.cpex?.origin).toBe('installed');
    expect(runtime.cpex?.version).toBe('0.1.4');
  }, 240_000);

  it('a requirements_file found nowhere names every place it looked (CPEX_ERR_VENV_BUILD)', async () => {
    const err = (await managerWith(
      `plugin_dirs: [venv_plugin]
plugins:
  - {name: lost, kind: isolated_venv, hooks: [tool_pre_invoke], config: {class_name: venv_probe.VenvProbe, requirements_file: nowhere.txt}}`,
      { python: venvPy!, venvCacheDir: CACHE },
    ).catch((e: unknown) => e)) as {
      code: string;
      message: string;
      cause?: { details?: { tried?: string[] } };
    };
    expect(err.code).toBe('CPEX_ERR_VENV_BUILD');
    expect(err.message).toContain('"nowhere.txt" not found');
    // The config's directory first, then beside the plugin package under each import root (Python cpex's rule).
    expect(err.cause?.details?.tried).toEqual([
      `${FIXTURES}nowhere.txt`,
      `${FIXTURES}venv_plugin/venv_probe/nowhere.txt`,
    ]);
  });
});

export { FIXTURES };
