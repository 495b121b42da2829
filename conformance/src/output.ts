/**
 * The runner's output records (conformance README "Output format"): snake_case structural fields,
 * data (payloads, metadata, state, extensions, violation details) left as it is.
 */
import type { Mismatch } from './match.js';

export interface ViolationOut {
  code: string;
  reason: string;
  description: string | null;
  details: Record<string, unknown>;
  plugin_name: string | null;
  mcp_error_code?: number;
  http_status_code?: number;
  http_headers?: Record<string, string>;
}

export interface ErrorRecordOut {
  plugin_name: string;
  code: string;
  message: string;
}

export interface ResultOut {
  continue_processing: boolean;
  modified_payload: unknown;
  payload_modified: boolean;
  modified_extensions: unknown;
  violation: ViolationOut | null;
  metadata: Record<string, unknown>;
  retry_delay_ms: number;
  errors: ErrorRecordOut[];
}

export interface StepErrorOut {
  type: string;
  message: string;
  code?: string;
  plugin_name?: string;
  violation?: ViolationOut;
}

export interface ExecutedOut {
  plugin: string;
  mode: string;
  end: 'ok' | 'error' | 'unfinished';
}

export interface ChainOut {
  executed_count: number;
  stopped_by: string | null;
}

export interface StepOutput {
  step: number;
  hook: string;
  result: ResultOut | null;
  error: StepErrorOut | null;
  background_errors: ErrorRecordOut[];
  executed: ExecutedOut[];
  chain: ChainOut | 'unfinished' | null;
  contexts: Record<string, { state: Record<string, unknown>; metadata: Record<string, unknown> }> | null;
  global_context: { state: Record<string, unknown>; metadata: Record<string, unknown> };
  payload_after: unknown;
  expect_ok?: boolean;
  expect_mismatches?: Mismatch[];
  /** Mismatches this host is exempt from (conformance/deviations.yaml host_exemptions). */
  expect_exempt?: Mismatch[];
  expect_unknown?: string[];
}

export interface LoadOut {
  initialized: boolean;
  plugin_count: number;
  registered: string[];
  hook_order: Record<string, string[]>;
  has_hooks_for: Record<string, boolean>;
}

export interface ScenarioOutput {
  scenario: string;
  file: string;
  /** Which host ran the probe plugins (ts, python) or `reference:python`. */
  host: string;
  init_error: null | { type: string; message: string; code?: string };
  load: LoadOut;
  steps: StepOutput[];
  runtime_disabled: string[];
  expect_ok: boolean;
  /** Set when the scenario could not be run at all (bad file, missing host). */
  runner_error?: { code: string; message: string };
}

/** JSON with keys sorted at every level (deterministic output). */
export function sortKeysDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeysDeep);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = sortKeysDeep(v);
    }
    return out;
  }
  return value;
}

/** A deep, plain-JSON copy (drops functions/undefined, unwraps proxies). */
export function plainCopy<T>(value: T): T {
  if (value === undefined) return null as T;
  return JSON.parse(JSON.stringify(value)) as T;
}
