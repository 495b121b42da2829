/**
 * fire_and_forget — blocks: no · modifies: no · writes global context: no. Runs after the other
 * phases (also after a halt), on the final payload, with a fresh local context per call, in the
 * background: started right after the caller has its result (on the microtask queue, behind the
 * caller's continuation — never a macrotask, so nothing piles up while a caller keeps the event
 * loop busy), tracked so `shutdown()` drains it;
 * its failures are reported by `background.wait()`.
 */
import type { BackgroundWork, PluginErrorRecord } from '../../types.js';
import { callPlugin, type Outcome, PluginCall } from '../call.js';
import type { Invocation } from '../pipeline.js';
import type { Registration } from '../registration.js';
import type { PhaseRunner } from './runner.js';

function run(inv: Invocation, regs: readonly Registration[]): boolean {
  const eligible = regs.filter((r) => inv.eligible(r));
  if (eligible.length === 0) return false;
  // The final payload itself (no per-invoke copy, ARCHITECTURE s3): a caller that edits its objects
  // before background.wait() is visible to them (documented in docs/executor.md).
  const payload = inv.payload;
  const errors: PluginErrorRecord[] = [];
  const pool = inv.engine.settings.executionPool;
  const ctxs = eligible.map((reg) => inv.contextFor(reg, 'fire_and_forget', true));
  let remaining = eligible.length;
  let next = 0;
  let inflight = 0;
  let resolve!: (e: PluginErrorRecord[]) => void;
  const work = new Promise<PluginErrorRecord[]>((r) => {
    resolve = r;
  });
  const onOutcome = (o: Outcome) => {
    inflight--;
    remaining--;
    if (o.failure) {
      inv.recordFailure(o, 'fire_and_forget', errors);
      inv.engine.logger.warn(`fire_and_forget plugin ${o.reg.name} failed: ${o.failure.message}`, {
        plugin: o.reg.name,
        hook: inv.hook,
      });
    }
    if (remaining === 0) resolve(errors);
    else launch();
  };
  const launch = () => {
    while (next < eligible.length && (pool === 0 || inflight < pool)) {
      const i = next++;
      inflight++;
      const r = callPlugin(inv, eligible[i]!, 'fire_and_forget', ctxs[i]!, payload, onOutcome);
      if (!(r instanceof PluginCall)) onOutcome(r);
    }
  };
  // Started by the invocation once the caller has its result.
  inv.startAfterResult = launch;
  const tracked = inv.engine.background;
  tracked.add(work);
  work.then(() => tracked.delete(work));
  const handle: BackgroundWork = {
    wait: () => work.then((e) => [...e]),
    get pending() {
      return remaining;
    },
  };
  inv.background = handle;
  return false;
}

export const fireAndForget: PhaseRunner = {
  contract:
    'blocks: no · modifies: no · writes global context: no (background, after a halt too, final payload)',
  afterHalt: true,
  run,
};
