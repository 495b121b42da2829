import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { PluginManager } from '@cpex/core';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES, gc, managerWith, shimPython } from './helpers.js';

// Cached venvs live in the package's .cpex-cache (git-ignored), keyed by a hash of the
// base interpreter and the requirements, so reruns reuse them.
const CACHE = fileURLToPath(new URL('../.cpex-cache/venvs/', import.meta.url));
const py = shimPython();
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
export { FIXTURES };
