/**
 * concurrent — blocks: yes · modifies: no · writes global context: yes. All eligible plugins run
 * in parallel on one snapshot of the payload (at most `execution_pool` in flight). The first deny
 * to complete wins and, with `short_circuit_on_deny` (default), aborts the rest; an on_error
 * `fail` failure halts and aborts the rest too. Metadata and global-context writes merge in
 * completion order, from plugins that completed before the halt. Payload and extension edits are
 * ignored.
 */
import { CpexError } from '../../errors/cpex-error.js';
import { abortContext, type CallContext } from '../../context/call-context.js';
import { callPlugin, type Outcome, PluginCall } from '../call.js';
import type { Invocation } from '../pipeline.js';
import type { Registration } from '../registration.js';
import type { PhaseRunner } from './runner.js';

function run(inv: Invocation, regs: readonly Registration[]): boolean {
  const eligible = regs.filter((r) => inv.eligible(r));
  if (eligible.length === 0) return false;
  const pool = inv.engine.settings.executionPool;
  const shortCircuit = inv.engine.settings.shortCircuitOnDeny;
  const snapshot = inv.payload;
  const contexts: CallContext[] = [];
  const calls: PluginCall[] = [];
  let next = 0;
  let inflight = 0;
  let done = false;
  let launching = true;
  let firstDeny: Outcome | undefined;

  const finish = () => {
    if (done) return;
    done = true;
    inv.onCallerAbort = undefined;
    if (firstDeny && !inv.halted) {
      const r = firstDeny.result!;
      inv.retry = r.retryDelayMs ?? 0;
      inv.halt(inv.denyViolation(firstDeny.reg, r));
    }
    if (!launching) inv.phaseDone();
  };
  const stopOthers = (reason: unknown) => {
    for (const c of contexts) abortContext(c, reason);
    for (const c of calls.splice(0)) c.abandon(reason);
  };
  const apply = (o: Outcome) => {
    if (o.failure) {
      inv.fail(o, 'concurrent');
      if (inv.halted) {
        stopOthers(new CpexError('CPEX_ERR_ABORTED', `sibling plugin ${o.reg.name} failed`));
        finish();
      }
      return;
    }
    const r = o.result!;
    if (!inv.keepSideEffects(o, 'concurrent')) {
      if (inv.halted) {
        stopOthers(new CpexError('CPEX_ERR_ABORTED', `sibling plugin ${o.reg.name} failed`));
        finish();
      }
      return;
    }
    if (r.continueProcessing === false) {
      firstDeny ??= o;
      if (shortCircuit) {
        stopOthers(new CpexError('CPEX_ERR_ABORTED', `sibling plugin ${o.reg.name} denied`));
        finish();
      }
    } else if (r.retryDelayMs !== undefined && r.retryDelayMs > inv.retry) inv.retry = r.retryDelayMs;
  };
  const onOutcome = (o: Outcome) => {
    inflight--;
    if (done) return;
    if (o.abandoned || inv.abortError !== undefined) {
      if (inv.abortError !== undefined) finish();
      else if (inflight === 0 && next >= eligible.length) finish();
      return;
    }
    apply(o);
    launch();
  };
  const launch = () => {
    while (!done && next < eligible.length && (pool === 0 || inflight < pool)) {
      const reg = eligible[next++]!;
      const ctx = inv.contextFor(reg, 'concurrent', false);
      contexts.push(ctx);
      inflight++;
      const r = callPlugin(inv, reg, 'concurrent', ctx, snapshot, onOutcome);
      if (r instanceof PluginCall) calls.push(r);
      else onOutcome(r);
    }
    if (!done && inflight === 0 && next >= eligible.length) finish();
  };
  // The caller's abort abandons every call in flight.
  inv.onCallerAbort = (reason) => {
    stopOthers(reason);
    finish();
  };
  launch();
  launching = false;
  return !done;
}

export const concurrent: PhaseRunner = {
  contract:
    'blocks: yes (first deny to complete wins, aborts the rest) · modifies: no · writes global context: yes (calls completed before the halt)',
  afterHalt: false,
  run,
};
