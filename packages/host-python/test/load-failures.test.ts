// Issue 11 item 16: a Python plugin that cannot load (missing class or module, initialize()
// raising, a hook the class does not have) is a coded error everywhere — the API rejects, the CLI
// prints the code and exits 1 — never a silent exit 0 or a pending promise (Node exit code 13).
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PluginManager } from '@cpex/core';
import { registerPythonHost } from '@cpex/host-python';
import { describe, expect, it } from 'vitest';
import { captureLogger, FIXTURES, realCpexPython, shimPython } from './helpers.js';

const py = shimPython() ?? realCpexPython();
const REPO = fileURLToPath(new URL('../../../', import.meta.url));

const entry = (kind: string, extra = '') =>
  `plugins:\n  - {name: p, kind: ${kind}, hooks: [tool_pre_invoke]${extra}}\n`;

/** Each way a Python plugin fails to load, with the code it must give. */
const CASES: Array<{ name: string; yaml: string; code: string; text: RegExp }> = [
  {
    name: 'missing class',
    yaml: entry('hp_plugins.lifecycle.NoSuchClass'),
    code: 'CPEX_ERR_PLUGIN_LOAD',
    text: /NoSuchClass/,
  },
  {
    name: 'missing module',
    yaml: entry('hp_plugins.no_such_module.Plugin'),
    code: 'CPEX_ERR_PLUGIN_LOAD',
    text: /no_such_module/,
  },
  {
    name: 'initialize() raises',
    yaml: entry('hp_plugins.lifecycle.Lifecycle', ', config: {fail_init: true, log: /dev/null}'),
    code: 'CPEX_ERR_PLUGIN_LOAD',
    text: /initialize refused/,
  },
  {
    name: 'hook typo',
    yaml: 'plugins:\n  - {name: p, kind: hp_plugins.lifecycle.Lifecycle, hooks: [tool_pre_invok], config: {log: /dev/null}}\n',
    code: 'CPEX_ERR_HOOK_NOT_IMPLEMENTED',
    text: /tool_pre_invok/,
  },
];

interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a Node script under the source condition; resolves when the process exits (bounded). */
function runNode(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=@cpex/source', '--import', 'tsx', ...args], {
      cwd: REPO,
      env: { ...process.env, ...env, FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    // Generous: a loaded 2-core machine starts tsx + Python slowly. A hang is what this catches.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out: ${args.join(' ')}\n${stdout}\n${stderr}`));
    }, 90_000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

describe.skipIf(!py)('a Python plugin that cannot load is a coded error (API)', () => {
  for (const fork of [true, false]) {
    for (const c of CASES) {
      it(`${c.name}: initialize() rejects with ${c.code} (${fork ? 'forked' : 'spawned'})`, async () => {
        const logger = captureLogger();
        const manager = new PluginManager({ logger });
        const host = registerPythonHost(manager, { python: py!, pythonPath: [FIXTURES], fork, logger });
        await manager.loadConfigText(c.yaml);
        const err = await manager.initialize().then(
          () => undefined,
          (e: unknown) => e as { code?: string; message?: string },
        );
        expect(err?.code).toBe(c.code);
        expect(err?.message).toMatch(c.text);
        await manager.shutdown();
        await host.dispose();
        // Nothing left running for the failed plugin.
        for (const p of host.plugins) expect(p.pids).toEqual([]);
      });
    }
  }
});

// Child processes mostly wait on Python start-up: run them side by side.
describe.skipIf(!py).concurrent('a gateway script awaiting initialize() in its own Node process', () => {
  for (const fork of ['fork', 'spawn']) {
    // The fork server's exit reports are what left the promise pending: every case forked, one spawned.
    for (const c of fork === 'fork' ? CASES : CASES.slice(0, 1)) {
      it(`${c.name} (${fork}): the await rejects with ${c.code}, node exits 1 (not 13)`, {
        timeout: 120_000,
      }, async () => {
        const r = await runNode([join(FIXTURES, 'load-failure-gateway.ts'), py!, FIXTURES, c.yaml, fork]);
        expect(r.signal).toBeNull();
        expect(r.code, r.stderr).toBe(1);
        const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { code: string; message: string };
        expect(out.code).toBe(c.code);
        expect(out.message).toMatch(c.text);
      });
    }
  }
});

describe.skipIf(!py).concurrent('the CLI and the demo print the coded error and exit 1', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cpex-load-fail-'));
  const configFor = (c: (typeof CASES)[number]) => {
    const file = join(dir, `${c.name.replace(/\W+/g, '-')}.yaml`);
    writeFileSync(file, `plugin_dirs: [${JSON.stringify(FIXTURES)}]\n${c.yaml}`);
    return file;
  };
  const env = { CPEX_PYTHON: py! };
  const cli = join(REPO, 'packages/cli/src/bin.ts');
  const payload = JSON.stringify({ name: 'x', args: {} });

  for (const c of CASES) {
    it(`cpex validate: ${c.name} → ${c.code}, exit 1`, { timeout: 120_000 }, async () => {
      const r = await runNode([cli, 'validate', configFor(c)], env);
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(r.stderr).toContain(c.code);
      expect(r.stderr).toMatch(c.text);
    });
  }

  const missing = CASES[0]!;
  it('cpex plugins: missing class → CPEX_ERR_PLUGIN_LOAD, exit 1', { timeout: 120_000 }, async () => {
    const r = await runNode([cli, 'plugins', configFor(missing)], env);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toContain('CPEX_ERR_PLUGIN_LOAD');
  });

  it('cpex invoke: missing class → CPEX_ERR_PLUGIN_LOAD, exit 1', { timeout: 120_000 }, async () => {
    const r = await runNode(
      [cli, 'invoke', configFor(missing), 'tool_pre_invoke', '--payload', payload],
      env,
    );
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toContain('CPEX_ERR_PLUGIN_LOAD');
  });

  it('pnpm demo --config: missing class → CPEX_ERR_PLUGIN_LOAD, exit 1', { timeout: 120_000 }, async () => {
    const r = await runNode(
      [join(REPO, 'examples/quickstart/src/main.ts'), '--config', configFor(missing)],
      env,
    );
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout + r.stderr).toContain('CPEX_ERR_PLUGIN_LOAD');
  });
});
