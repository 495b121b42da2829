import { fileURLToPath } from 'node:url';
import type { Logger } from '@cpex/core';

/** Options of the Python host (`createPythonHost` / `registerPythonHost`). */
export interface PythonHostOptions {
  /** Interpreter for plugin workers. Default: `$CPEX_PYTHON`, else `python3` on PATH. */
  python?: string;
  /** Extra import roots (prepended to `sys.path` in every worker), after the config's `plugin_dirs`. */
  pythonPath?: string[];
  /** Worker processes per plugin entry (default 1); a plugin entry's top-level `workers:` key overrides it. */
  workers?: number;
  /** Boundary limit in bytes for requests and responses; default: the manager's `max_payload_bytes`. */
  maxPayloadBytes?: number;
  /** How long a worker may take to start and answer its handshake (ms). Default 30 000. */
  startTimeoutMs?: number;
  /** After a cancel (timeout or abort), how long the worker has to answer before it is killed and restarted (ms). Default 1 000. */
  cancelGraceMs?: number;
  /** How long `shutdown()` waits for a plugin's own `shutdown()` before killing its worker (ms). Default 5 000. */
  shutdownTimeoutMs?: number;
  /** Restarts allowed per worker slot within `restartWindowMs` before the slot is given up. Default 5. */
  maxRestarts?: number;
  /** Window for `maxRestarts` (ms). Default 60 000. */
  restartWindowMs?: number;
  /** Where `isolated_venv` plugins get their cached virtualenvs. Default `$CPEX_VENV_CACHE`, else `~/.cache/cpex/venvs`. */
  venvCacheDir?: string;
  /** Timeout of one `pip install` for an `isolated_venv` plugin (ms). Default 600 000. */
  pipTimeoutMs?: number;
  /**
   * Start workers by forking a shared fork server that has already imported pydantic and cpex
   * (milliseconds per worker instead of a Python start plus imports). Default true except on
   * Windows; falls back to starting a process when the fork server is unavailable.
   */
  fork?: boolean;
  /**
   * After a worker runs out of frames it polls for the next one for up to this many microseconds
   * before its event loop sleeps: a frame arriving in that window skips a sleep and wake-up (tens
   * of µs on a VM), which roughly halves the latency of back-to-back calls. Adaptive: a worker
   * stops polling while its waits run longer than the window (re-probing after 32 waits), so a
   * quiet plugin burns no CPU. Default 100; 0 turns it off.
   */
  spinUs?: number;
  /** Logger for worker stderr and lifecycle; default: the manager's logger. */
  logger?: Logger;
  /** Extra environment for workers (merged over `process.env`). */
  env?: Record<string, string>;
}

/** The Python package shipped with this host (the `cpex` compatibility package and `cpex_host`). */
export const PYTHON_PACKAGE_DIR = fileURLToPath(new URL('../python/', import.meta.url));
/** The worker script every plugin process runs. */
export const WORKER_SCRIPT = fileURLToPath(new URL('../python/cpex_host/worker.py', import.meta.url));

export function defaultPython(): string {
  return process.env.CPEX_PYTHON || 'python3';
}
