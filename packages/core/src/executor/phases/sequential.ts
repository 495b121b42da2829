/**
 * sequential — blocks: yes · modifies: yes · writes global context: yes. Serial and chained: each
 * plugin sees the payload as the previous ones left it; a deny (or an on_error `fail` failure)
 * halts the pipeline. On a deny the plugin's payload and extension edits are dropped; its
 * metadata, global-context writes, retryDelayMs and violation are kept.
 */
import type { Outcome } from '../call.js';
import type { Invocation } from '../pipeline.js';
import type { PhaseRunner } from './runner.js';
import { serialRun } from './serial.js';

function apply(inv: Invocation, o: Outcome): void {
  if (o.failure) return inv.fail(o, 'sequential');
  const r = o.result!;
  if (r.continueProcessing === false) {
    if (!inv.keepSideEffects(o, 'sequential')) return;
    inv.retry = r.retryDelayMs ?? 0;
    return inv.halt(inv.denyViolation(o.reg, r));
  }
  inv.applyWhole(o, 'sequential');
}

export const sequential: PhaseRunner = {
  contract: 'blocks: yes · modifies: yes · writes global context: yes (serial, chained)',
  afterHalt: false,
  run: serialRun('sequential', apply),
};
