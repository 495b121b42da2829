/** Introspection rows for `manager.lineup(hook)` / `cpex plugins`. */
import { describeCause } from '../errors/cpex-error.js';
import type { Lineup, Registration } from '../executor/registration.js';
import { PHASES, type Phase, type PluginDescription, type PluginEntry } from '../types.js';

/** One row of `lineup(hook)`: how a plugin is scheduled for a hook. */
export interface LineupEntry {
  name: string;
  kind: string;
  mode: Phase;
  priority: number;
  /** Seconds. */
  timeout: number;
  onError: PluginEntry['onError'];
  capabilities: string[];
  disabled: boolean;
}

export function lineupRows(l: Lineup | undefined): Record<Phase, LineupEntry[]> {
  const out = {} as Record<Phase, LineupEntry[]>;
  for (const phase of PHASES) {
    out[phase] = (l?.phases[phase] ?? []).map((r) => ({
      name: r.name,
      kind: r.entry.kind,
      mode: r.phase,
      priority: r.entry.priority,
      timeout: r.timeoutMs / 1000,
      onError: r.entry.onError,
      capabilities: [...r.entry.capabilities],
      disabled: r.disabled,
    }));
  }
  return out;
}

/**
 * A plugin's description as its host gives it (`PluginInstance.describe()`), checked for the
 * shape `cpex plugins` relies on. A host without `describe()`, or one whose `describe()` throws or
 * returns a malformed record, gets a description inferred from its capabilities, with a note.
 */
export function describeRegistration(reg: Registration): PluginDescription {
  const caps = reg.instance.host;
  const inferred: PluginDescription = {
    host: 'unknown',
    isolation: caps.isolated ? 'process' : 'none',
    timeouts: caps.supportsTimeouts,
  };
  if (typeof reg.instance.describe !== 'function') {
    return {
      ...inferred,
      notes: ['the host gives no describe(); isolation and timeouts inferred from its capabilities'],
    };
  }
  let d: unknown;
  try {
    d = reg.instance.describe();
  } catch (e) {
    return { ...inferred, notes: [`describe() failed: ${describeCause(e)}`] };
  }
  const problem = descriptionProblem(d);
  if (problem) return { ...inferred, notes: [`describe() returned an invalid description: ${problem}`] };
  return d as PluginDescription;
}

const ISOLATIONS = new Set(['none', 'worker', 'process', 'sandbox']);
const TIMEOUTS = new Set(['cooperative', 'preemptive']);
const SIGNATURE_STATES = new Set(['verified', 'unsigned', 'not-required', 'invalid']);
const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** What is wrong with a PluginDescription, or undefined (the contract's shape, docs/hosts/contract.md). */
export function descriptionProblem(d: unknown): string | undefined {
  if (!isRecord(d)) return 'not an object';
  if (typeof d.host !== 'string' || d.host === '') return 'host must be a non-empty string';
  if (!ISOLATIONS.has(d.isolation as string)) return `isolation must be one of ${[...ISOLATIONS].join('|')}`;
  if (!TIMEOUTS.has(d.timeouts as string)) return 'timeouts must be cooperative|preemptive';
  if (d.grants !== undefined && !isRecord(d.grants)) return 'grants must be an object';
  if (d.details !== undefined && !isRecord(d.details)) return 'details must be an object';
  if (d.notes !== undefined && !(Array.isArray(d.notes) && d.notes.every((n) => typeof n === 'string')))
    return 'notes must be a list of strings';
  if (d.signature !== undefined) {
    if (!isRecord(d.signature) || !SIGNATURE_STATES.has(d.signature.state as string))
      return `signature.state must be one of ${[...SIGNATURE_STATES].join('|')}`;
  }
  try {
    JSON.stringify(d);
  } catch {
    return 'not JSON-serializable';
  }
  return undefined;
}
