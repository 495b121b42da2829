/** Introspection rows for `manager.lineup(hook)` / `cpex plugins`. */
import type { Lineup } from '../executor/registration.js';
import { PHASES, type Phase, type PluginEntry } from '../types.js';

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
