/**
 * A phase runner: one per phase, in a closed `Record<Phase, PhaseRunner>` (./index.ts), so a
 * phase without a runner does not compile. Each runner file states its contract in one line —
 * may it block? modify? write the global context? — and holds that phase's whole rule.
 */
import type { Invocation } from '../pipeline.js';
import type { PhaseStep } from '../registration.js';

export interface PhaseRunner {
  /** The one-line contract (also shown in docs/executor.md). */
  readonly contract: string;
  /** Runs after a halt too (only fire_and_forget). */
  readonly afterHalt: boolean;
  /**
   * Run the phase's plugins (`step.regs`, with their handlers in `step.handlers`) on `inv`. Returns true when it went async: a serial runner then has
   * `inv.resume()` called after each async call (it is run again and continues at `inv.cursor`);
   * any other runner calls `inv.phaseDone()` exactly once, when the phase is done.
   */
  run(inv: Invocation, step: PhaseStep): boolean;
}
