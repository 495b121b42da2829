/**
 * Evaluation of `expect:` blocks against one step's output, with the matching rules of the
 * conformance README: dicts match as subsets (an expected null also matches a missing key), lists
 * by length and order (multisets under labels/roles/teams/permissions/scopes), everything else by
 * strict equality (true is not 1).
 */
import type { ScenarioOutput, StepOutput } from './output.js';

export interface Mismatch {
  key: string;
  expected: unknown;
  actual: unknown;
  reason: string;
}

export interface ExpectOutcome {
  ok: boolean;
  mismatches: Mismatch[];
  unknown: string[];
}

const MULTISET_KEYS = new Set(['labels', 'roles', 'teams', 'permissions', 'scopes']);
const MISSING = Symbol('missing');
type Actual = unknown | typeof MISSING;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Exact structural equality (no subset rule). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isPlainObject(a)) {
    if (!isPlainObject(b)) return false;
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

/** README matching rules; returns a reason string on mismatch, null on match. */
export function matchValue(expected: unknown, actual: Actual, key = ''): string | null {
  if (expected === null) {
    return actual === MISSING || actual === null || actual === undefined ? null : 'expected null';
  }
  if (actual === MISSING || actual === undefined) return 'missing';
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return 'expected a list';
    if (actual.length !== expected.length) return `expected ${expected.length} items, got ${actual.length}`;
    if (MULTISET_KEYS.has(key)) {
      const pool = [...actual];
      for (const e of expected) {
        const idx = pool.findIndex((a) => matchValue(e, a, key) === null);
        if (idx < 0) return `multiset item ${JSON.stringify(e)} not found`;
        pool.splice(idx, 1);
      }
      return null;
    }
    for (let i = 0; i < expected.length; i++) {
      const r = matchValue(expected[i], actual[i], key);
      if (r !== null) return `[${i}]: ${r}`;
    }
    return null;
  }
  if (isPlainObject(expected)) {
    if (!isPlainObject(actual)) return 'expected a mapping';
    for (const [k, v] of Object.entries(expected)) {
      const r = matchValue(v, Object.hasOwn(actual, k) ? actual[k] : MISSING, k);
      if (r !== null) return `${k}: ${r}`;
    }
    return null;
  }
  return expected === actual ? null : 'not equal';
}

function viaPath(root: unknown, segs: readonly string[]): Actual {
  let cur: unknown = root;
  for (const s of segs) {
    if (Array.isArray(cur)) {
      const i = Number(s);
      if (!Number.isInteger(i) || i < 0 || i >= cur.length) return MISSING;
      cur = cur[i];
    } else if (isPlainObject(cur)) {
      if (!Object.hasOwn(cur, s)) return MISSING;
      cur = cur[s];
    } else {
      return MISSING;
    }
  }
  return cur;
}

function violationOf(step: StepOutput): Record<string, unknown> | null {
  const rv = step.result?.violation;
  if (isPlainObject(rv)) return rv;
  const ev = step.error?.violation;
  return isPlainObject(ev) ? ev : null;
}

function executedNames(step: StepOutput): string[] {
  return step.executed.map((e) => e.plugin);
}

/** The actual value an expect key (or the first segment of a path) refers to. */
function fieldValue(key: string, step: StepOutput): Actual {
  const r = step.result;
  const fromResult = (k: string): Actual =>
    r && Object.hasOwn(r, k) ? (r as unknown as Record<string, unknown>)[k] : MISSING;
  switch (key) {
    case 'continue_processing':
    case 'modified_payload':
    case 'modified_extensions':
    case 'metadata':
    case 'retry_delay_ms':
    case 'payload_modified':
    case 'errors':
    case 'executions':
    case 'violation':
      return fromResult(key);
    case 'violation_code':
      return violationOf(step)?.code ?? MISSING;
    case 'violation_plugin':
      return violationOf(step)?.plugin_name ?? MISSING;
    case 'error_type':
      return step.error?.type ?? MISSING;
    case 'error_message':
      return step.error?.message ?? MISSING;
    case 'executed':
      return executedNames(step);
    case 'global_state':
      return step.global_context.state;
    case 'global_metadata':
      return step.global_context.metadata;
    default:
      return Object.hasOwn(step, key) ? (step as unknown as Record<string, unknown>)[key] : MISSING;
  }
}

function resolvePath(p: string, step: StepOutput): Actual {
  const [first, ...rest] = p.split('/');
  const base = fieldValue(first ?? '', step);
  return base === MISSING ? MISSING : viaPath(base, rest);
}

function lowerText(v: unknown): string {
  return (typeof v === 'string' ? v : JSON.stringify(v ?? null)).toLowerCase();
}

function asList(v: unknown): unknown[] | null {
  return Array.isArray(v) ? v : null;
}

const STANDARD_KEYS = new Set([
  'continue_processing',
  'violation',
  'violation_code',
  'violation_plugin',
  'modified_payload',
  'modified_extensions',
  'metadata',
  'retry_delay_ms',
  'error',
  'error_type',
  'error_message',
  'executed',
  'executions',
  'contexts',
  'global_state',
  'global_metadata',
  'payload_after',
  'background_errors',
  'payload_modified',
  'errors',
]);

/** Every expect key this runner evaluates. */
export const EVALUATED_KEYS: readonly string[] = [
  ...STANDARD_KEYS,
  'absent_global_state',
  'error_present',
  'init_error_present',
  'init_error_mentions',
  'executed_set',
  'executed_prefix',
  'not_executed',
  'violation_code_in',
  'violation_mentions',
  'errors_include',
  'rejected',
  'absent',
  'absent_or_empty',
  'exact',
  'any_of',
];

/** Evaluates one expect block. `step` may be null for keys that need no step output (init_error_*). */
export function evaluateExpect(
  expect: Record<string, unknown>,
  step: StepOutput | null,
  scenario: Pick<ScenarioOutput, 'init_error'>,
): ExpectOutcome {
  const mismatches: Mismatch[] = [];
  const unknown: string[] = [];
  const miss = (key: string, expected: unknown, actual: unknown, reason: string) =>
    mismatches.push({ key, expected, actual: actual === MISSING ? '<missing>' : actual, reason });
  const NO_STEP_NEEDED = new Set(['init_error_present', 'init_error_mentions', 'any_of']);

  for (const [key, exp] of Object.entries(expect)) {
    if (!step && !NO_STEP_NEEDED.has(key) && (STANDARD_KEYS.has(key) || EVALUATED_KEYS.includes(key))) {
      miss(key, exp, MISSING, 'no step output');
      continue;
    }
    const st = step as StepOutput;
    if (STANDARD_KEYS.has(key)) {
      const act = fieldValue(key, st);
      const r = matchValue(exp, act, key);
      if (r !== null) miss(key, exp, act, r);
      continue;
    }
    switch (key) {
      case 'init_error_present': {
        const present = scenario.init_error !== null && scenario.init_error !== undefined;
        if (present !== exp) miss(key, exp, present, 'init_error presence differs');
        break;
      }
      case 'init_error_mentions': {
        const text = lowerText(scenario.init_error);
        for (const s of asList(exp) ?? [exp]) {
          if (scenario.init_error == null || !text.includes(String(s).toLowerCase())) {
            miss(key, s, scenario.init_error ?? null, 'not mentioned in init_error');
          }
        }
        break;
      }
      case 'error_present': {
        const present = st.error !== null;
        if (present !== exp) miss(key, exp, present, 'error presence differs');
        break;
      }
      case 'absent_global_state': {
        for (const k of asList(exp) ?? []) {
          if (Object.hasOwn(st.global_context.state, String(k))) {
            miss(key, k, st.global_context.state[String(k)], 'key present in global state');
          }
        }
        break;
      }
      case 'executed_set': {
        const r = matchValue(exp, executedNames(st), 'labels');
        if (r !== null) miss(key, exp, executedNames(st), r);
        break;
      }
      case 'executed_prefix': {
        const names = executedNames(st);
        const want = asList(exp) ?? [];
        if (!want.every((n, i) => names[i] === n))
          miss(key, exp, names, 'executed does not start with these');
        break;
      }
      case 'not_executed': {
        const names = executedNames(st);
        for (const n of asList(exp) ?? []) {
          if (names.includes(String(n))) miss(key, n, names, 'was executed');
        }
        break;
      }
      case 'violation_code_in': {
        const code = violationOf(st)?.code;
        if (!(asList(exp) ?? []).includes(code))
          miss(key, exp, code ?? '<missing>', 'violation code not in list');
        break;
      }
      case 'violation_mentions': {
        const v = violationOf(st);
        const src = v ?? st.error;
        const text = src ? lowerText(src) : '';
        for (const s of asList(exp) ?? [exp]) {
          if (!src || !text.includes(String(s).toLowerCase())) miss(key, s, src ?? null, 'not mentioned');
        }
        break;
      }
      case 'errors_include': {
        const errs = asList(st.result?.errors) ?? [];
        const names = errs.map((e) => (isPlainObject(e) ? e.plugin_name : undefined));
        for (const n of asList(exp) ?? []) {
          if (!names.includes(n)) miss(key, n, errs, 'no result.errors entry for plugin');
        }
        break;
      }
      case 'rejected': {
        const rejected = st.error !== null || st.result?.continue_processing === false;
        if (rejected !== exp) miss(key, exp, rejected, 'rejection differs');
        break;
      }
      case 'absent':
      case 'absent_or_empty': {
        for (const p of asList(exp) ?? []) {
          const v = resolvePath(String(p), st);
          const empty =
            v === MISSING ||
            v === null ||
            (key === 'absent_or_empty' &&
              (v === '' ||
                (Array.isArray(v) && v.length === 0) ||
                (isPlainObject(v) && Object.keys(v).length === 0)));
          if (!empty) miss(`${key}:${String(p)}`, null, v, 'path resolves');
        }
        break;
      }
      case 'exact': {
        if (!isPlainObject(exp)) {
          miss(key, exp, null, 'exact takes a mapping of path -> value');
          break;
        }
        for (const [p, want] of Object.entries(exp)) {
          const v = resolvePath(p, st);
          if (v === MISSING || !deepEqual(want, v)) miss(`exact:${p}`, want, v, 'not exactly equal');
        }
        break;
      }
      case 'any_of': {
        const alts = asList(exp) ?? [];
        const outcomes = alts.map((b) =>
          isPlainObject(b)
            ? evaluateExpect(b, step, scenario)
            : { ok: false, mismatches: [], unknown: [] as string[] },
        );
        for (const o of outcomes) unknown.push(...o.unknown.map((u) => `any_of.${u}`));
        if (!outcomes.some((o) => o.ok)) {
          miss(
            key,
            exp,
            null,
            `no alternative matched (${outcomes.map((o) => o.mismatches.length).join('/')})`,
          );
        }
        break;
      }
      default:
        unknown.push(key);
    }
  }
  return { ok: mismatches.length === 0, mismatches, unknown };
}
