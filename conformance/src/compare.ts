/**
 * Differences between two runs of one scenario (cpex-ts vs the Python reference, or host vs host),
 * on a canonical view that ignores timing-only fields (durations, execution records, chain counters)
 * and treats null like a missing key. Each difference against Python is classified as documented
 * (an entry of conformance/deviations.yaml) or not.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { deepEqual } from './match.js';
import type { ScenarioOutput } from './output.js';
import type { ReferenceOutput } from './reference.js';
import type { Scenario } from './scenario.js';

type Rec = Record<string, unknown>;

function isRec(v: unknown): v is Rec {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

const SET_KEYS = new Set(['labels', 'roles', 'teams', 'permissions', 'scopes']);

/**
 * Recursively drops null/undefined dict values (null matches a missing key) and sorts the
 * set-valued lists (labels, roles, teams, permissions, scopes).
 */
export function stripNulls(v: unknown, key = ''): unknown {
  if (Array.isArray(v)) {
    const items = v.map((x) => stripNulls(x));
    return SET_KEYS.has(key)
      ? items.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))
      : items;
  }
  if (isRec(v)) {
    const out: Rec = {};
    for (const [k, x] of Object.entries(v)) if (x !== null && x !== undefined) out[k] = stripNulls(x, k);
    return out;
  }
  return v;
}

function pick(obj: unknown, key: string): unknown {
  return isRec(obj) ? obj[key] : undefined;
}

/** Violation codes the manager itself produces; their description/details are host diagnostics. */
const MANAGER_CODES = new Set(['plugin_error', 'plugin_timeout', 'extension_violation', 'payload_mutation']);

export interface ViewOptions {
  /** Plugins whose call outcome may legitimately differ by host (in-place payload writes). */
  hostDependentPlugins?: ReadonlySet<string>;
  /** Keep only code and plugin_name of manager-made violations (their text is host-specific). */
  managerViolationCoreOnly?: boolean;
}

/** The host-independent, timing-free view of one run that differences are computed on. */
export function canonicalView(out: Rec, opts: ViewOptions = {}): Rec {
  const load = isRec(out.load) ? out.load : {};
  const steps = Array.isArray(out.steps) ? out.steps : [];
  const view: Rec = {
    init_error: out.init_error !== null && out.init_error !== undefined,
    load: { registered: load.registered ?? [], hook_order: load.hook_order ?? {} },
    runtime_disabled: [...((out.runtime_disabled as string[] | undefined) ?? [])].sort(),
    steps: steps.map((s: unknown) => {
      const st = isRec(s) ? s : {};
      const result = isRec(st.result) ? st.result : null;
      const error = isRec(st.error) ? st.error : null;
      const violation = (result?.violation ?? error?.violation ?? null) as unknown;
      const executed = Array.isArray(st.executed) ? st.executed : [];
      const bg = Array.isArray(st.background_errors) ? st.background_errors : [];
      return stripNulls({
        continue_processing: result ? result.continue_processing : null,
        error: error !== null,
        violation: isRec(violation)
          ? opts.managerViolationCoreOnly && MANAGER_CODES.has(String(violation.code))
            ? { code: violation.code, plugin_name: violation.plugin_name }
            : {
                code: violation.code,
                reason: violation.reason,
                description: violation.description,
                details: violation.details,
                plugin_name: violation.plugin_name,
              }
          : null,
        modified_payload: result?.modified_payload ?? null,
        modified_extensions: result?.modified_extensions ?? null,
        metadata: result?.metadata ?? null,
        retry_delay_ms: result?.retry_delay_ms ?? null,
        executed: executed.map((e: unknown) => {
          const name = String(pick(e, 'plugin'));
          const end = opts.hostDependentPlugins?.has(name) ? '*' : pick(e, 'end');
          return `${name}:${pick(e, 'mode')}:${end}`;
        }),
        contexts: st.contexts ?? null,
        global_context: st.global_context ?? null,
        payload_after: st.payload_after ?? null,
        background_errors: bg.map((e: unknown) => String(pick(e, 'plugin_name'))).sort(),
      });
    }),
  };
  return view;
}

export interface Difference {
  path: string;
  left: unknown;
  right: unknown;
}

/** Leaf-level differences between two canonical views; lists and scalars compare whole. */
export function diffViews(a: unknown, b: unknown, at = ''): Difference[] {
  if (isRec(a) && isRec(b)) {
    const out: Difference[] = [];
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const k of keys) out.push(...diffViews(a[k], b[k], at ? `${at}/${k}` : k));
    return out;
  }
  if (at === 'steps' && Array.isArray(a) && Array.isArray(b)) {
    const out: Difference[] = [];
    for (let i = 0; i < Math.max(a.length, b.length); i++) out.push(...diffViews(a[i], b[i], `${at}/${i}`));
    return out;
  }
  return deepEqual(a, b) ? [] : [{ path: at, left: a ?? null, right: b ?? null }];
}

const deviationSchema = z.strictObject({
  scenario: z.string().min(1),
  paths: z.array(z.string().min(1)).min(1),
  reason: z.string().min(1),
});
const hostExemptionSchema = z.strictObject({
  host: z.enum(['ts', 'python', 'wasm']),
  scenario: z.string().min(1),
  /** expect keys whose mismatches are exempt on this host */
  expect: z.array(z.string().min(1)).min(1),
  reason: z.string().min(1),
});
const deviationsFileSchema = z.strictObject({
  deviations: z.array(deviationSchema),
  host_exemptions: z.array(hostExemptionSchema).default([]),
});
/** An expectation a host cannot meet by design (e.g. a WIT world without retry_delay_ms). */
export type HostExemption = z.infer<typeof hostExemptionSchema>;

/** The documented host exemptions (conformance/deviations.yaml `host_exemptions`). */
export function loadHostExemptions(file = DEVIATIONS_FILE): HostExemption[] {
  const parsed = deviationsFileSchema.safeParse(parseYaml(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`${file}: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  return parsed.data.host_exemptions;
}
/** One documented deviation: differences at any of `paths` (prefixes) of `scenario` are expected. */
export type Deviation = z.infer<typeof deviationSchema>;

const DEVIATIONS_FILE = path.resolve(import.meta.dirname, '..', 'deviations.yaml');

let cached: Deviation[] | undefined;
/** The machine-readable list of documented deviations from Python cpex (conformance/deviations.yaml). */
export function loadDeviations(file = DEVIATIONS_FILE): Deviation[] {
  if (file === DEVIATIONS_FILE && cached) return cached;
  const parsed = deviationsFileSchema.safeParse(parseYaml(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    throw new Error(
      `${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  if (file === DEVIATIONS_FILE) cached = parsed.data.deviations;
  return parsed.data.deviations;
}

/** True when `pattern` (segments, `*` = any one segment) is a prefix of `p`. */
export function pathMatches(pattern: string, p: string): boolean {
  const ps = pattern.split('/');
  const segs = p.split('/');
  if (ps.length > segs.length) return false;
  return ps.every((s, i) => s === '*' || s === segs[i]);
}

export function findDeviation(
  devs: readonly Deviation[],
  scenario: string,
  p: string,
): Deviation | undefined {
  return devs.find(
    (d) => (d.scenario === '*' || d.scenario === scenario) && d.paths.some((x) => pathMatches(x, p)),
  );
}

export interface ReferenceDifference {
  path: string;
  cpex_ts: unknown;
  python: unknown;
  documented: boolean;
  reason?: string;
}

export interface ReferenceReport {
  scenario: string;
  file: string;
  host: string;
  ok: boolean;
  cpex_ts_expect_ok: boolean;
  reference_error?: string;
  differences: ReferenceDifference[];
  /** deviations.yaml paths of this scenario that no difference matched (stale documentation). */
  unused_deviations: string[];
}

/** Compares a cpex-ts run with the Python reference run of the same scenario. */
export function compareWithReference(
  sc: Scenario,
  ts: ScenarioOutput,
  ref: ReferenceOutput,
  devs: readonly Deviation[] = loadDeviations(),
): ReferenceReport {
  const report: ReferenceReport = {
    scenario: sc.name,
    file: sc.file,
    host: ts.host,
    ok: ts.expect_ok,
    cpex_ts_expect_ok: ts.expect_ok,
    differences: [],
    unused_deviations: [],
  };
  if (!ref.ok || !ref.output) {
    report.reference_error = ref.error ?? 'no output';
    report.ok = false;
    return report;
  }
  const diffs = diffViews(canonicalView(ts as unknown as Rec), canonicalView(ref.output));
  for (const d of diffs) {
    const dev = findDeviation(devs, sc.name, d.path);
    report.differences.push({
      path: d.path,
      cpex_ts: d.left,
      python: d.right,
      documented: dev !== undefined,
      ...(dev ? { reason: dev.reason } : {}),
    });
    if (!dev) report.ok = false;
  }
  for (const d of devs) {
    if (d.scenario !== sc.name) continue;
    for (const p of d.paths) {
      if (!diffs.some((x) => pathMatches(p, x.path))) report.unused_deviations.push(p);
    }
  }
  return report;
}
