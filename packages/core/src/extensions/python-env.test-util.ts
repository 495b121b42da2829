/**
 * Locates the Python interpreter with cpex 0.1.x installed, for tests that check shapes against
 * the real Python models. Missing under CI=true is a failure, never a skip.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isCI } from '../../../../scripts/lib/ci.mjs';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

export function findCpexPython(): string | null {
  const candidates = [process.env.CPEX_PYTHON, `${repoRoot}.venv/bin/python`].filter(Boolean) as string[];
  for (const c of candidates) if (existsSync(c)) return c;
  return null;
}

/** Runs a Python snippet with `input` on stdin (JSON) and returns its stdout parsed as JSON. */
export function runPython(python: string, code: string, input: unknown): unknown {
  const out = execFileSync(python, ['-c', code], {
    input: JSON.stringify(input),
    encoding: 'utf8',
    timeout: 60_000,
  });
  return JSON.parse(out);
}

export const requirePython = (): string => {
  const py = findCpexPython();
  if (!py) {
    throw new Error('python with cpex==0.1.4 not found (run scripts/setup.sh or set CPEX_PYTHON)');
  }
  return py;
};

export const pythonAvailable = findCpexPython() !== null || isCI();
