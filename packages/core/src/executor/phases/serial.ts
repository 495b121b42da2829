/**
 * The driver the three serial phases share: one plugin at a time, in lineup order, each outcome
 * applied (by the phase's own `apply`) before the next plugin starts. Stays synchronous until a
 * handler returns a thenable; an async call resumes the invocation when it settles.
 */
import { callPlugin, type Outcome, PluginCall } from '../call.js';
import type { Invocation } from '../pipeline.js';
import type { Registration } from '../registration.js';
import type { Phase } from '../../types.js';

export function runSerial(
  inv: Invocation,
  phase: Phase,
  regs: readonly Registration[],
  apply: (inv: Invocation, o: Outcome) => void,
): boolean {
  while (inv.cursor < regs.length) {
    if (inv.halted || inv.abortError !== undefined) break;
    const reg = regs[inv.cursor++]!;
    if (!inv.eligible(reg)) continue;
    const ctx = inv.contextFor(reg, phase, false);
    const r = callPlugin(inv, reg, phase, ctx, inv.payload, (o) => {
      if (!o.abandoned && inv.abortError === undefined) apply(inv, o);
      inv.resume();
    });
    if (r instanceof PluginCall) {
      inv.current = r;
      return true;
    }
    apply(inv, r);
  }
  inv.cursor = 0;
  return false;
}
