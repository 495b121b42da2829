import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Logger, PluginManager } from '@cpex/core';
import { type PythonHost, type PythonHostOptions, registerPythonHost } from '@cpex/host-python';
import { isCI } from '../../../scripts/lib/ci.mjs';

export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
export const CONFORMANCE_PY = fileURLToPath(
  new URL('../../../../shared/conformance/python', import.meta.url),
);
const REPO = fileURLToPath(new URL('../../../', import.meta.url));

function probe(python: string, code: string): string | undefined {
  try {
    return execFileSync(python, ['-c', code], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return undefined;
  }
}

/**
 * The interpreter with the real cpex 0.1.4 installed (the repo's .venv, or $CPEX_TEST_REAL_PYTHON).
 * Under CI a missing one is a failure, never a skip.
 */
export function realCpexPython(): string | undefined {
  const cand = process.env.CPEX_TEST_REAL_PYTHON ?? `${REPO}.venv/bin/python`;
  const ok = existsSync(cand) && probe(cand, 'import cpex.framework, pydantic; print("ok")') === 'ok';
  if (!ok && isCI()) throw new Error(`CI: no interpreter with cpex 0.1.4 at ${cand} (run scripts/setup.sh)`);
  return ok ? cand : undefined;
}

/** An interpreter with pydantic 2 but WITHOUT cpex, so the bundled compatibility package is used. */
export function shimPython(): string | undefined {
  const cand = process.env.CPEX_TEST_SHIM_PYTHON ?? 'python3';
  const out = probe(
    cand,
    'import importlib.util as u, pydantic; print("ok" if u.find_spec("cpex") is None and pydantic.VERSION.startswith("2.") else "no")',
  );
  if (out !== 'ok' && isCI()) {
    throw new Error(`CI: ${cand} must have pydantic 2 and no cpex package (set CPEX_TEST_SHIM_PYTHON)`);
  }
  return out === 'ok' ? cand : undefined;
}

export interface LogLine {
  level: string;
  msg: string;
  fields?: Record<string, unknown>;
}

export function captureLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at =
    (level: string) =>
    (msg: string, fields?: Record<string, unknown>): void => {
      lines.push(fields ? { level, msg, fields } : { level, msg });
    };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A manager with the Python host registered and a YAML config loaded and initialized. */
export async function managerWith(
  yaml: string,
  hostOptions: PythonHostOptions,
  managerOptions: ConstructorParameters<typeof PluginManager>[0] = {},
): Promise<{ manager: PluginManager; host: PythonHost; logger: ReturnType<typeof captureLogger> }> {
  const logger = captureLogger();
  const manager = new PluginManager({ logger, ...managerOptions });
  const host = registerPythonHost(manager, { logger, ...hostOptions });
  await manager.loadConfigText(yaml, { baseDir: FIXTURES });
  await manager.initialize();
  return { manager, host, logger };
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Waits for a condition (an event we cannot subscribe to: a pid gone, a counter reached), polling
 * every 20 ms. The bound only limits a failing test; a passing one returns as soon as it holds,
 * so it is generous enough for a loaded 2-core CI machine.
 */
export async function until(cond: () => boolean, ms = 20_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/** Waits (bounded, generously: see `until`) until every pid is gone; returns those still alive. */
export async function waitGone(pids: number[], ms = 20_000): Promise<number[]> {
  const end = Date.now() + ms;
  let alive = pids.filter(pidAlive);
  while (alive.length && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 25));
    alive = alive.filter(pidAlive);
  }
  return alive;
}

export const gc = (requestId = 'r1') => ({ requestId, state: {}, metadata: {} });
