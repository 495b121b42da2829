/**
 * Registrations and per-hook lineups. Ordering (priority ascending, ties in registration order,
 * split by phase) is computed once when plugins are registered, never per call.
 */
import type { TableKey } from '../context/context-table.js';
import type { CompiledCapabilities } from '../extensions/gate.js';
import { PHASE_RUNNERS, type PhaseRunner } from './phases/index.js';
import {
  PHASES,
  type Handler,
  type Phase,
  type PluginCondition,
  type PluginEntry,
  type PluginInstance,
} from '../types.js';

/** One registered plugin (from config or code). */
export interface Registration extends TableKey {
  readonly name: string;
  readonly entry: PluginEntry;
  readonly instance: PluginInstance;
  readonly handlers: ReadonlyMap<string, Handler>;
  readonly caps: CompiledCapabilities;
  readonly phase: Phase;
  /** The plugin's effective timeout (ms), handed to it as `context.timeoutMs`. */
  readonly timeoutMs: number;
  /**
   * How long the executor waits for a call (ms): `timeoutMs` for hosts with cooperative timeouts;
   * for a pre-emptive host (which enforces `timeoutMs` itself) a liveness backstop of
   * timeoutMs + max(1 s, timeoutMs), so a buggy host can never hang an invoke.
   */
  readonly deadlineMs: number;
  /** Registration order, for priority ties. */
  readonly order: number;
  /** Give this plugin read-only payload views (in-process host under cow_validation strict). */
  readonly protect: boolean;
  readonly conditions: readonly PluginCondition[];
  /** Switched off for the manager's lifetime by on_error: disable. */
  disabled: boolean;
  /** Being disposed or shut down: no new calls start. */
  closing: boolean;
  /** Calls of this plugin in flight (handler started, outcome not yet settled). */
  active: number;
  /**
   * Whether the handler returned a thenable last time (undefined: not called yet). A handler known
   * to be async is not timed per call (its deadline is the watchdog's); a synchronous one is, to
   * discard a result that overran its timeout.
   */
  async: boolean | undefined;
  /** Called when `active` drops to 0 (set by whoever waits to shut the plugin down). */
  onIdle: (() => void) | undefined;
}

export type PhaseTable<T> = Record<Phase, T>;

export interface Lineup {
  readonly hook: string;
  /** All plugins for the hook by priority (ties in registration order), regardless of phase. */
  readonly ordered: readonly Registration[];
  readonly phases: PhaseTable<readonly Registration[]>;
  readonly hasFireAndForget: boolean;
  /**
   * The executor's plan: the phases that have plugins, in phase order (a phase without plugins
   * costs an invocation nothing). Computed with the lineup, never per call.
   */
  readonly steps: readonly PhaseStep[];
}

/** One non-empty phase of a lineup. */
export interface PhaseStep {
  readonly phase: Phase;
  readonly regs: readonly Registration[];
  /**
   * The phase's runner (PHASE_RUNNERS[phase]), resolved once here: the executor reads a named
   * field of one hidden class instead of a keyed lookup by phase name, which went polymorphic
   * (and deoptimized) as soon as lineups with different phases ran in one process.
   */
  readonly runner: PhaseRunner;
  /**
   * The handler of each plugin of `regs` for this lineup's hook, in the same order: resolved once
   * here, so a call does no Map lookup by hook name.
   */
  readonly handlers: readonly Handler[];
}

export function comparePriority(a: Registration, b: Registration): number {
  return a.entry.priority - b.entry.priority || a.order - b.order;
}

/** The handler `reg` registered for `hook` (a lineup only lists plugins that have one). */
export function handlerFor(reg: Registration, hook: string): Handler {
  const h = reg.handlers.get(hook);
  if (h === undefined) throw new Error(`plugin ${reg.name} has no handler for ${hook}`);
  return h;
}

/** Build the lineup of every hook from the registrations (registration order given). */
export function buildLineups(regs: readonly Registration[]): Map<string, Lineup> {
  const byHook = new Map<string, Registration[]>();
  for (const r of regs) {
    for (const hook of r.handlers.keys()) {
      let list = byHook.get(hook);
      if (!list) byHook.set(hook, (list = []));
      list.push(r);
    }
  }
  const out = new Map<string, Lineup>();
  for (const [hook, list] of byHook) out.set(hook, makeLineup(hook, [...list].sort(comparePriority)));
  return out;
}

/** The lineup of `hook` from its plugins in priority order (split by phase, with its plan). */
export function makeLineup(hook: string, ordered: readonly Registration[]): Lineup {
  const phases = Object.fromEntries(
    PHASES.map((p) => [p, ordered.filter((r) => r.phase === p)]),
  ) as PhaseTable<Registration[]>;
  const steps = PHASES.filter((p) => phases[p].length > 0).map(
    (phase): PhaseStep => ({
      phase,
      regs: phases[phase],
      runner: PHASE_RUNNERS[phase],
      handlers: phases[phase].map((r) => handlerFor(r, hook)),
    }),
  );
  return { hook, ordered, phases, hasFireAndForget: phases.fire_and_forget.length > 0, steps };
}
