/**
 * The driver the three serial phases share: one plugin at a time, in lineup order, each outcome
 * applied (by the phase's own `apply`) before the next plugin starts. Stays synchronous until a
 * handler returns a thenable; an async call resumes the invocation when it settles.
 */
import { callPlugin, type Outcome, type OutcomeSink, PluginCall } from '../call.js';
import type { Invocation } from '../pipeline.js';
import type { PhaseStep } from '../registration.js';
import type { Phase } from '../../types.js';
import type { PhaseRunner } from './runner.js';

/**
 * The sink of a serial phase's async calls: apply the outcome (unless abandoned), then continue
 * where the phase left off. A class, so the three serial phases' sinks share one hidden class.
 */
class SerialSink implements OutcomeSink {
  /** apply() is done with the outcome when it returns: the next call may reuse its PluginCall. */
  readonly consumesOutcome = true;
  readonly #apply: (inv: Invocation, o: Outcome) => void;

  constructor(apply: (inv: Invocation, o: Outcome) => void) {
    this.#apply = apply;
  }

  outcome(o: Outcome, inv: Invocation): void {
    if (!o.abandoned && inv.abortError === undefined) this.#apply(inv, o);
    inv.resume();
  }
}

/** The `run` of a serial phase whose rule is `apply` (one sink per phase, shared by every call). */
export function serialRun(phase: Phase, apply: (inv: Invocation, o: Outcome) => void): PhaseRunner['run'] {
  const sink = new SerialSink(apply);
  return (inv: Invocation, step: PhaseStep): boolean => {
    const regs = step.regs;
    while (inv.cursor < regs.length) {
      if (inv.halted || inv.abortError !== undefined) break;
      const i = inv.cursor++;
      const reg = regs[i]!;
      if (!inv.eligible(reg)) continue;
      const ctx = inv.contextFor(reg, phase, false);
      const r = callPlugin(inv, reg, step.handlers[i]!, phase, ctx, inv.payload, sink);
      if (r instanceof PluginCall) {
        inv.current = r;
        return true;
      }
      apply(inv, r);
    }
    inv.cursor = 0;
    return false;
  };
}
