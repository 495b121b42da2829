/**
 * transform — blocks: no · modifies: yes · writes global context: yes. Serial and chained like
 * sequential, but a deny is ignored: `continueProcessing: false` does not halt, and the plugin's
 * edits are applied as if it had allowed (its violation is dropped). Failures follow on_error
 * (`fail` halts: a failure is not a deny).
 */
import type { Outcome } from '../call.js';
import type { Invocation } from '../pipeline.js';
import type { PhaseRunner } from './runner.js';
import { serialRun } from './serial.js';

function apply(inv: Invocation, o: Outcome): void {
  if (o.failure) return inv.fail(o, 'transform');
  // The deny is ignored by design: no branch on continueProcessing here.
  inv.applyWhole(o, 'transform');
}

export const transform: PhaseRunner = {
  contract: 'blocks: no (a deny is ignored, its edits kept) · modifies: yes · writes global context: yes',
  afterHalt: false,
  run: serialRun('transform', apply),
};
