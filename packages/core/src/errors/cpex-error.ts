import type { Phase, PipelineResult, PluginViolation } from '../types.js';
import type { CpexErrorCode } from './catalogue.js';

export interface CpexErrorFields {
  plugin?: string;
  hook?: string;
  phase?: Phase;
  /** Config file the error refers to. */
  file?: string;
  /** YAML path, e.g. `plugins[2].mode`. */
  path?: string;
  details?: Record<string, unknown>;
  cause?: unknown;
}

/**
 * Every error cpex-ts throws. `code` is a stable `CPEX_ERR_*` string; `plugin`, `hook`, `phase`,
 * `file` and `path` say where.
 */
export class CpexError extends Error {
  readonly code: CpexErrorCode;
  readonly plugin?: string;
  readonly hook?: string;
  readonly phase?: Phase;
  readonly file?: string;
  readonly path?: string;
  readonly details?: Record<string, unknown>;

  constructor(code: CpexErrorCode, message: string, fields: CpexErrorFields = {}) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.name = 'CpexError';
    this.code = code;
    if (fields.plugin !== undefined) this.plugin = fields.plugin;
    if (fields.hook !== undefined) this.hook = fields.hook;
    if (fields.phase !== undefined) this.phase = fields.phase;
    if (fields.file !== undefined) this.file = fields.file;
    if (fields.path !== undefined) this.path = fields.path;
    if (fields.details !== undefined) this.details = fields.details;
  }

  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { name: this.name, code: this.code, message: this.message };
    for (const k of ['plugin', 'hook', 'phase', 'file', 'path', 'details'] as const) {
      if (this[k] !== undefined) out[k] = this[k];
    }
    if (this.cause !== undefined) {
      out.cause = describeCause(this.cause);
      const at = errorLocation(this.cause);
      if (at) out.location = at;
    }
    return out;
  }
}

/** One problem of a config: its YAML path, what is wrong, and its own code when more specific. */
export interface ConfigIssue {
  path: string;
  message: string;
  /** e.g. CPEX_ERR_UNKNOWN_CAPABILITY; absent means CPEX_ERR_CONFIG_INVALID. */
  code?: CpexErrorCode;
}

/**
 * A config that failed validation; `issues` lists every problem found, each with its YAML path.
 * `code` is the issues' shared code (CPEX_ERR_UNKNOWN_CAPABILITY when every issue is an unknown
 * capability), else CPEX_ERR_CONFIG_INVALID.
 */
export class ConfigError extends CpexError {
  readonly issues: ReadonlyArray<ConfigIssue>;
  constructor(
    code: CpexErrorCode,
    message: string,
    fields: CpexErrorFields & { issues?: ReadonlyArray<ConfigIssue> } = {},
  ) {
    super(code, message, fields);
    this.name = 'ConfigError';
    this.issues = fields.issues ?? (fields.path ? [{ path: fields.path, message }] : []);
  }
}

/** Thrown by `invoke` under `violationsAsExceptions` for every halt. */
export class PluginViolationError extends CpexError {
  readonly violation: PluginViolation;
  readonly result: PipelineResult<unknown>;
  constructor(hook: string, violation: PluginViolation, result: PipelineResult<unknown>) {
    const who = violation.pluginName ? ` by plugin ${violation.pluginName}` : '';
    const desc = violation.description ? ` (${violation.description})` : '';
    super(
      'CPEX_ERR_PLUGIN_VIOLATION',
      `${hook} blocked${who}: ${violation.code} - ${violation.reason}${desc}`,
      {
        hook,
        ...(violation.pluginName !== undefined ? { plugin: violation.pluginName } : {}),
      },
    );
    this.name = 'PluginViolationError';
    this.violation = violation;
    this.result = result;
  }
}

export function isCpexError(e: unknown): e is CpexError {
  return e instanceof CpexError;
}

/** Longest text `describeCause` returns; longer texts end in `…`. */
export const MAX_CAUSE_CHARS = 2_000;

/**
 * A short, safe text for any thrown value (for error records and logs). Never throws: a revoked
 * Proxy, a Proxy whose traps throw, or an object whose toString/Symbol.toPrimitive/toJSON throws
 * is described by its type instead. Bounded: at most MAX_CAUSE_CHARS characters, at a cost
 * bounded by that too (a thrown 10 MB object or an array of length 2 ** 32 - 1 is not serialized
 * whole). Plain data reads as its JSON.
 */
export function describeCause(e: unknown): string {
  try {
    if (e instanceof Error) {
      const name = e.name;
      const message = e.message;
      if (typeof name === 'string' && typeof message === 'string')
        return clip(name && name !== 'Error' ? `${name}: ${message}` : message);
    }
  } catch {
    return uninspectable(e);
  }
  if (typeof e === 'string') return clip(e);
  if (typeof e === 'symbol' || typeof e === 'bigint' || typeof e === 'number' || typeof e === 'boolean')
    return String(e);
  if (e === undefined || e === null) return String(e);
  try {
    const out: string[] = [];
    const budget = { left: MAX_CAUSE_CHARS + 1 };
    if (writeJson(e, '', out, budget, new Set(), 0)) {
      const j = out.join('');
      return budget.left > 0 ? j : `${j.slice(0, MAX_CAUSE_CHARS)}…`;
    }
  } catch {}
  try {
    const s = String(e);
    if (typeof s === 'string') return clip(s);
  } catch {}
  return uninspectable(e);
}

function clip(s: string): string {
  return s.length > MAX_CAUSE_CHARS ? `${s.slice(0, MAX_CAUSE_CHARS)}…` : s;
}

/**
 * JSON.stringify's output for `v`, written into `out` until `budget` runs out (then it stops:
 * the caller marks the cut). Arrays are read up to the budget only, so their length costs
 * nothing. A cycle reads as "[Circular]". False when JSON.stringify would give undefined.
 */
function writeJson(
  v: unknown,
  key: string,
  out: string[],
  budget: { left: number },
  path: Set<object>,
  depth: number,
): boolean {
  const put = (s: string) => {
    out.push(s.length > budget.left ? s.slice(0, budget.left) : s);
    budget.left -= s.length;
  };
  if (v !== null && typeof v === 'object') {
    const toJSON = (v as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') v = toJSON.call(v, key);
  }
  switch (typeof v) {
    case 'string':
      put(JSON.stringify(v.length > budget.left ? v.slice(0, Math.max(budget.left, 0)) : v));
      return true;
    case 'number':
      put(Number.isFinite(v) ? String(v) : 'null');
      return true;
    case 'boolean':
      put(String(v));
      return true;
    case 'bigint':
      throw new TypeError('BigInt'); // as JSON.stringify: describe by String() instead
    case 'undefined':
    case 'function':
    case 'symbol':
      return false;
  }
  if (v === null) {
    put('null');
    return true;
  }
  const o = v as object;
  if (path.has(o) || depth > 64) {
    put(path.has(o) ? '"[Circular]"' : '"…"');
    return true;
  }
  path.add(o);
  if (Array.isArray(o)) {
    put('[');
    for (let i = 0; i < o.length && budget.left > 0; i++) {
      if (i > 0) put(',');
      if (!writeJson(o[i], String(i), out, budget, path, depth + 1)) put('null');
    }
    put(']');
  } else {
    put('{');
    let first = true;
    for (const k in o) {
      if (budget.left <= 0) break;
      if (!Object.hasOwn(o, k)) continue;
      const mark = out.length;
      const left = budget.left;
      if (!first) put(',');
      put(`${JSON.stringify(k)}:`);
      if (writeJson((o as Record<string, unknown>)[k], k, out, budget, path, depth + 1)) first = false;
      else {
        out.length = mark; // skipped member (undefined, function, symbol)
        budget.left = left;
      }
    }
    put('}');
  }
  path.delete(o);
  return true;
}

function uninspectable(e: unknown): string {
  return `an uninspectable thrown ${typeof e === 'function' ? 'function' : 'object'}`;
}

const FRAME = /^\s*at (?:.*? \()?(.+?):(\d+):(\d+)\)?$/;

/**
 * Where a thrown Error comes from: the first stack frame with a file location, as
 * `path:line:column` (file: URLs as paths; node: internals and native frames skipped). Undefined
 * for non-Errors, errors without a usable stack, or values that throw when inspected.
 * @example errorLocation(new Error('x')) // '/srv/plugins/guard.mjs:12:11'
 */
export function errorLocation(e: unknown): string | undefined {
  try {
    if (!(e instanceof Error)) return undefined;
    const stack: unknown = e.stack;
    if (typeof stack !== 'string') return undefined;
    for (const line of stack.split('\n', 40)) {
      const m = FRAME.exec(line);
      if (!m) continue;
      let file = m[1]!;
      if (file.startsWith('node:') || file === '<anonymous>' || file.startsWith('native')) continue;
      if (file.startsWith('file://')) {
        try {
          file = decodeURIComponent(new URL(file).pathname);
        } catch {
          // keep the URL as given
        }
      }
      return `${file}:${m[2]}:${m[3]}`;
    }
  } catch {
    // a hostile value (throwing getters, revoked proxy): no location
  }
  return undefined;
}
