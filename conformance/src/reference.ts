/**
 * The Python reference, live: runs a scenario through the real Python cpex 0.1.x PluginManager
 * (conformance/python-harness/harness.py, one fresh interpreter per scenario so `env:` applies
 * cleanly) and returns its README-format output.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { extraPythonRoots, OWN_PYTHON_ROOT } from './runner.js';
import type { Scenario } from './scenario.js';

const HARNESS = path.join(OWN_PYTHON_ROOT, 'harness.py');

export interface ReferenceOptions {
  python: string;
  pythonPath: string[];
  timeoutMs?: number;
}

/** What the harness prints (README output format), or why it could not run. */
export interface ReferenceOutput {
  ok: boolean;
  output: Record<string, unknown> | null;
  error?: string;
}

function scenarioJson(sc: Scenario): Record<string, unknown> {
  return {
    name: sc.name,
    config: sc.config,
    manager: sc.manager,
    steps: sc.steps.map((st) => ({
      hook: st.hook,
      payload: st.payload,
      global_context: st.globalContext ?? null,
      local_contexts: st.localContexts ?? null,
      extensions: st.extensions ?? null,
      violations_as_exceptions: st.violationsAsExceptions,
    })),
  };
}

/** Runs `harness.py` for one scenario with the scenario's `env:` (and no inherited PLUGINS_*). */
export function runPythonReference(sc: Scenario, opts: ReferenceOptions): Promise<ReferenceOutput> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PLUGINS_')) env[k] = v;
  Object.assign(env, sc.env, { PYTHONDONTWRITEBYTECODE: '1' });
  const pythonPath = [...opts.pythonPath, ...extraPythonRoots()];
  return new Promise((resolve) => {
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(opts.python, [HARNESS], {
        env,
        stdio: ['pipe', 'pipe', 'pipe'],
        cwd: path.dirname(sc.file),
      });
    } catch (e) {
      resolve({ ok: false, output: null, error: `cannot start ${opts.python}: ${(e as Error).message}` });
      return;
    }
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ ok: false, output: null, error: `cannot start ${opts.python}: ${e.message}` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) {
        const tail = stderr.trim().split('\n').slice(-5).join('\n');
        resolve({ ok: false, output: null, error: `harness exited ${code ?? signal}: ${tail}` });
        return;
      }
      try {
        resolve({ ok: true, output: JSON.parse(stdout) as Record<string, unknown> });
      } catch (e) {
        resolve({ ok: false, output: null, error: `harness printed invalid JSON: ${(e as Error).message}` });
      }
    });
    child.stdin?.end(JSON.stringify({ scenario: scenarioJson(sc), python_path: pythonPath }));
  });
}
