/**
 * audit — blocks: no · modifies: no · writes global context: no. Serial and read-only: a deny is
 * suppressed, payload and extension edits and global-context writes are dropped; its result
 * metadata and retryDelayMs are kept. Errors are recorded and never halt (on_error `disable`
 * still switches the plugin off).
 */
import type { Outcome } from '../call.js';
import type { Invocation } from '../pipeline.js';
import type { PhaseRunner } from './runner.js';
import { serialRun } from './serial.js';

function apply(inv: Invocation, o: Outcome): void {
  if (o.failure) return inv.recordFailure(o, 'audit');
  const r = o.result!;
  inv.mergeMetadata(r);
  if (r.retryDelayMs !== undefined && r.retryDelayMs > inv.retry) inv.retry = r.retryDelayMs;
}

export const audit: PhaseRunner = {
  contract: 'blocks: no · modifies: no · writes global context: no (result metadata kept; errors never halt)',
  afterHalt: false,
  run: serialRun('audit', apply),
};
