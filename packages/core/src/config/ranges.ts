/**
 * The documented range of every numeric setting — one table used by the zod schema (and so
 * docs/config.schema.json), PluginManager option checks and PLUGINS_* environment parsing. A value
 * outside its range is a config error, never clamped (STYLE 7: reject what cannot be honoured).
 * Hosts adding numeric settings add a row here.
 */
import { z } from 'zod';

export interface NumericRange {
  /** Lower bound; exclusive when `minExclusive`. */
  min: number;
  minExclusive?: boolean;
  max: number;
  integer: boolean;
  /** Unit for messages and docs: 'seconds', 'bytes', 'entries', ... */
  unit: string;
}

/** The largest Node.js timer delay: 2^31-1 ms. A longer timeout would fire at once (or every ms). */
export const MAX_TIMER_MS = 2 ** 31 - 1;
/** Timeouts in seconds: > 0 and at most 2^31-1 ms (≈ 24.8 days). */
export const TIMEOUT_SECONDS: NumericRange = {
  min: 0,
  minExclusive: true,
  max: MAX_TIMER_MS / 1000,
  integer: false,
  unit: 'seconds',
};

/** snake_case setting (YAML key, or `plugins[].key` for entry keys) → range. */
export const NUMERIC_RANGES = {
  plugin_timeout: TIMEOUT_SECONDS,
  plugin_init_timeout: TIMEOUT_SECONDS,
  plugin_shutdown_timeout: TIMEOUT_SECONDS,
  execution_pool: { min: 0, max: 10_000, integer: true, unit: 'plugins; 0 = unbounded' },
  max_payload_bytes: { min: 1, max: 1_073_741_824, integer: true, unit: 'bytes' },
  // Deeper than ~1000 overflows Python's json module and (at ~10^4) JSON.stringify.
  max_payload_depth: { min: 1, max: 1000, integer: true, unit: 'levels of nesting' },
  route_cache_max_entries: { min: 1, max: 10_000_000, integer: true, unit: 'entries' },
  'plugins[].timeout': TIMEOUT_SECONDS,
  'plugins[].priority': {
    min: -2_147_483_648,
    max: 2_147_483_647,
    integer: true,
    unit: 'lower runs first',
  },
  'plugins[].max_content_size': { min: 1, max: 1_073_741_824, integer: true, unit: 'bytes' },
  // An address-space rlimit: a Python worker with pydantic and cpex imported already maps ~100 MiB.
  'plugins[].max_memory_mb': { min: 64, max: 1_048_576, integer: true, unit: 'MiB of address space' },
} as const satisfies Record<string, NumericRange>;

const fmt = (n: number): string => (Number.isInteger(n) ? n.toString() : String(n));

/** "an integer in 0..10000" / "a number > 0 and <= 2147483.647 (seconds)". */
export function describeRange(r: NumericRange): string {
  const kind = r.integer ? 'an integer' : 'a number';
  const lo = r.minExclusive ? `> ${fmt(r.min)} and <= ${fmt(r.max)}` : `in ${fmt(r.min)}..${fmt(r.max)}`;
  return `${kind} ${lo} (${r.unit})`;
}

/** Whether `v` is inside `r`. */
export function inRange(r: NumericRange, v: unknown): v is number {
  if (typeof v !== 'number' || !Number.isFinite(v)) return false;
  if (r.integer && !Number.isInteger(v)) return false;
  if (r.minExclusive ? v <= r.min : v < r.min) return false;
  return v <= r.max;
}

const got = (input: unknown): string => {
  if (input === undefined) return 'nothing';
  if (typeof input === 'number') return String(input);
  try {
    const s = JSON.stringify(input);
    return s === undefined ? String(input) : s.length > 80 ? `${s.slice(0, 77)}...` : s;
  } catch {
    return typeof input;
  }
};

/** "expected an integer in 0..10000 (plugins), got 1e9". */
export function rangeMessage(r: NumericRange, v: unknown): string {
  return `expected ${describeRange(r)}, got ${got(v)}`;
}

/** A zod number schema enforcing `r` (bounds show up in the generated JSON Schema). */
export function numberIn(r: NumericRange) {
  const error = (iss: { input?: unknown }) => rangeMessage(r, iss.input);
  const base = r.integer ? z.int({ error }) : z.number({ error });
  const low = r.minExclusive ? base.gt(r.min, { error }) : base.gte(r.min, { error });
  return low.lte(r.max, { error });
}
