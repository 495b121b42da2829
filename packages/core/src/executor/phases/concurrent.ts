/**
 * concurrent — blocks: yes · modifies: no · writes global context: yes. All eligible plugins run
 * in parallel on one snapshot of the payload (at most `execution_pool` in flight). The first deny
 * to complete wins and, with `short_circuit_on_deny` (default), aborts the rest; an on_error
 * `fail` failure halts and aborts the rest too. Metadata and global-context writes merge in
 * completion order, from plugins that completed before the halt. Payload and extension edits are
 * ignored.
 */
import { CpexError } from '../../errors/cpex-error.js';
import {
  abortContext,
  type CallContext,
  type CallerGlobal,
  copyGlobalContext,
} from '../../context/call-context.js';
import { callPlugin, type Outcome, type OutcomeSink, PluginCall } from '../call.js';
import type { CallerAbortListener, Invocation } from '../pipeline.js';
import type { PhaseStep, Registration } from '../registration.js';
import type { GlobalContext, Handler } from '../../types.js';
import type { PhaseRunner } from './runner.js';

/**
 * One run of the phase: its state lives on this object (the sink of its calls and the listener of
 * the caller's abort), so a run allocates no closures.
 */
class ConcurrentRun implements OutcomeSink, CallerAbortListener, CallerGlobal {
  readonly #inv: Invocation;
  readonly #eligible: readonly Registration[];
  readonly #handlers: readonly Handler[];
  readonly #pool: number;
  readonly #shortCircuit: boolean;
  readonly #snapshot: unknown;
  /** Contexts and calls started (a halt or the caller's abort stops them). */
  readonly #contexts: CallContext[] = [];
  readonly #calls: PluginCall[] = [];
  #next = 0;
  #inflight = 0;
  #done = false;
  launching = true;
  #firstDeny: Outcome | undefined;
  /**
   * The caller's global context as the phase found it: every concurrent plugin's copy is made from
   * it ("parallel on one snapshot"), so a sibling that completed and merged earlier is never seen,
   * whatever the pool size or the moment a plugin looks. Taken when a plugin first looks, or just
   * before the first merge while a sibling may still look.
   */
  #global: GlobalContext | undefined;
  /** The first deny is kept until the phase ends: outcomes are not consumed at once. */
  readonly consumesOutcome = false;

  constructor(inv: Invocation, eligible: readonly Registration[], handlers: readonly Handler[]) {
    this.#inv = inv;
    this.#eligible = eligible;
    this.#handlers = handlers;
    this.#pool = inv.engine.settings.executionPool;
    this.#shortCircuit = inv.engine.settings.shortCircuitOnDeny;
    this.#snapshot = inv.payload;
  }

  /** Merges go to the caller's GlobalContext itself. */
  callerGlobal(): GlobalContext {
    return this.#inv.callerGlobal();
  }

  /** Copies are made from the phase's snapshot. */
  globalSource(): GlobalContext {
    return (this.#global ??= copyGlobalContext(this.#inv.callerGlobal()));
  }

  get done(): boolean {
    return this.#done;
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    const inv = this.#inv;
    inv.abortListener = undefined;
    const deny = this.#firstDeny;
    this.#firstDeny = undefined;
    if (deny && !inv.halted) {
      const r = deny.result!;
      inv.retry = r.retryDelayMs ?? 0;
      inv.halt(inv.denyViolation(deny.reg, r));
    }
    if (!this.launching) inv.phaseDone();
  }

  #stopOthers(reason: unknown): void {
    for (const c of this.#contexts) abortContext(c, reason);
    for (const c of this.#calls.splice(0)) c.abandon(reason);
  }

  #halted(o: Outcome, why: string): void {
    this.#stopOthers(new CpexError('CPEX_ERR_ABORTED', `sibling plugin ${o.reg.name} ${why}`));
    this.#finish();
  }

  #apply(o: Outcome): void {
    const inv = this.#inv;
    if (o.failure) {
      inv.fail(o, 'concurrent');
      if (inv.halted) this.#halted(o, 'failed');
      return;
    }
    const r = o.result!;
    // A sibling may still look: take the snapshot before this merge changes the caller's state.
    if (this.#global === undefined && (this.#inflight > 0 || this.#next < this.#eligible.length))
      this.globalSource();
    if (!inv.keepSideEffects(o, 'concurrent')) {
      if (inv.halted) this.#halted(o, 'failed');
      return;
    }
    if (r.continueProcessing === false) {
      this.#firstDeny ??= o;
      if (this.#shortCircuit) this.#halted(o, 'denied');
    } else if (r.retryDelayMs !== undefined && r.retryDelayMs > inv.retry) inv.retry = r.retryDelayMs;
  }

  outcome(o: Outcome): void {
    this.#inflight--;
    if (this.#done) return;
    if (o.abandoned || this.#inv.abortError !== undefined) {
      if (this.#inv.abortError !== undefined) this.#finish();
      else if (this.#inflight === 0 && this.#next >= this.#eligible.length) this.#finish();
      return;
    }
    this.#apply(o);
    this.launch();
  }

  /** The caller's abort abandons every call in flight. */
  abort(reason: unknown): void {
    this.#stopOthers(reason);
    this.#finish();
  }

  launch(): void {
    const inv = this.#inv;
    const eligible = this.#eligible;
    const pool = this.#pool;
    while (!this.#done && this.#next < eligible.length && (pool === 0 || this.#inflight < pool)) {
      const i = this.#next++;
      const reg = eligible[i]!;
      const ctx = inv.contextFor(reg, 'concurrent', false, this);
      this.#contexts.push(ctx);
      this.#inflight++;
      const r = callPlugin(inv, reg, this.#handlers[i]!, 'concurrent', ctx, this.#snapshot, this);
      if (r instanceof PluginCall) this.#calls.push(r);
      else this.outcome(r);
    }
    if (!this.#done && this.#inflight === 0 && this.#next >= eligible.length) this.#finish();
  }
}

function run(inv: Invocation, step: PhaseStep): boolean {
  const { regs: eligible, handlers } = inv.eligibleOf(step);
  if (eligible.length === 0) return false;
  const c = new ConcurrentRun(inv, eligible, handlers);
  inv.abortListener = c;
  c.launch();
  c.launching = false;
  return !c.done;
}

export const concurrent: PhaseRunner = {
  contract:
    'blocks: yes (first deny to complete wins, aborts the rest) · modifies: no · writes global context: yes (calls completed before the halt)',
  afterHalt: false,
  run,
};
