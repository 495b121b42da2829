/**
 * THE call helper: every plugin call of every phase goes through `callPlugin` — handler
 * invocation, a thrown value, a synchronous result, a thenable (nested thenables adopted, a
 * hostile `then` contained), the deadline, the outcome. No phase has plumbing of its own.
 *
 * Cost on the hot path: no clock read for a handler known to be async unless tracing listens
 * (the watchdog's deadline uses its coarse clock); one PluginCall object (which is also the
 * call's Outcome) and one `.then` per async call; the watchdog links the call into an intrusive
 * list (no Set); a passthrough result is not copied (results.ts).
 */
import { CpexError } from '../errors/cpex-error.js';
import { abortContext, type CallContext, commitContext } from '../context/call-context.js';
import { pluginEndChannel, pluginStartChannel, type PluginOutcome } from '../tracing/channels.js';
import type { Handler, Phase, PluginResult } from '../types.js';
import type { Invocation } from './pipeline.js';
import type { Registration } from './registration.js';
import {
  BACKSTOP,
  EMPTY_RESULT,
  type Failure,
  failureOf,
  invalidResult,
  readResult,
  TIMEOUT,
  thenOf,
} from './results.js';
import type { Deadline } from './watchdog.js';

/** The settled outcome of one plugin call. */
export interface Outcome {
  reg: Registration;
  ctx: CallContext;
  result?: PluginResult | undefined;
  failure?: Failure | undefined;
  /** The call was abandoned (sibling deny, caller abort): its result must not be used. */
  abandoned?: boolean | undefined;
}

/**
 * Who receives the outcome of a call that settled after callPlugin returned. An object with a
 * method, not a closure: nothing is allocated per call to carry it (and a per-invocation closure
 * stored on a long-lived field keeps that invocation's whole graph reachable until a full GC).
 */
export interface OutcomeSink {
  /**
   * True when `outcome` is done with the Outcome once it returns (a serial phase): its calls may
   * then reuse one PluginCall per invocation. A sink that keeps outcomes (concurrent's first deny)
   * says false.
   */
  readonly consumesOutcome: boolean;
  outcome(o: Outcome, inv: Invocation): void;
}

/** How deep a chain of thenables resolving to thenables may go before it is refused. */
export const MAX_THENABLE_DEPTH = 32;

const NO_ERROR = Symbol('cpex.no-error');
const ABANDONED = Symbol('cpex.abandoned');

const NATIVE_THEN = Promise.prototype.then;

/**
 * An async plugin call in flight, timed by the manager's watchdog; once settled it is also the
 * call's Outcome (no second object). A native promise settles it through its own two callbacks.
 *
 * Reuse: the calls of a serial phase (whose sink consumes each outcome before the next call
 * starts) reuse one PluginCall per invocation, callbacks included, once it is free: settled AND
 * its thenable has called back (`bound` false). A promise calls back at most once, so a free
 * call has nothing left that could reach it. A call that settled another way (its deadline, an
 * abandon) stays bound until its promise settles — the late callback then finds it settled — and
 * the next call gets another object. Free calls go back to the engine's bounded pool (`recycle`):
 * the serial spare when its invocation finishes, a fire_and_forget call once its outcome is taken;
 * any call takes one from the pool before allocating. Concurrent calls are never recycled (the
 * phase keeps them to abandon them).
 */
export class PluginCall implements Deadline, Outcome {
  inv: Invocation;
  reg!: Registration;
  ctx!: CallContext;
  t0!: number;
  sink!: OutcomeSink;
  deadline = 0;
  prev: Deadline | undefined = undefined;
  next: Deadline | undefined = undefined;
  linked = false;
  done = false;
  /**
   * True while callPlugin is still on the stack: a call that settles then (a thenable that called
   * back at once) is handed back through callPlugin's return, not to the sink.
   */
  starting = true;
  result: PluginResult | undefined = undefined;
  failure: Failure | undefined = undefined;
  abandoned: boolean | undefined = undefined;
  /** A thenable's callbacks are outstanding: it has not called back yet. */
  bound = false;
  /** How deep the thenable listened to is nested (MAX_THENABLE_DEPTH). */
  depth = 0;
  readonly #fulfil = (v: unknown): void => {
    this.bound = false;
    this.adopt(v, this.depth);
  };
  readonly #reject = (e: unknown): void => {
    this.bound = false;
    this.settle(undefined, e);
  };

  constructor(inv: Invocation, reg: Registration, ctx: CallContext, t0: number, sink: OutcomeSink) {
    this.inv = inv;
    // Every field is already defined (class fields, in order): reuse() only assigns, one hidden class.
    this.reuse(reg, ctx, t0, sink);
  }

  /** Free: settled, and no thenable can call back into it any more. */
  get free(): boolean {
    return this.done && !this.bound;
  }

  /**
   * Back to the engine's pool once its invocation has finished (it is free): drop everything that
   * would keep that invocation's objects alive while it waits in the pool.
   */
  release(): void {
    this.inv = undefined as unknown as Invocation;
    this.ctx = undefined as unknown as CallContext;
    this.sink = undefined as unknown as OutcomeSink;
    this.result = undefined;
    this.failure = undefined;
  }

  /** Start a call on this object: a new one, or the next call of the same invocation on a free one. */
  reuse(reg: Registration, ctx: CallContext, t0: number, sink: OutcomeSink): void {
    this.reg = reg;
    this.ctx = ctx;
    this.t0 = t0;
    this.sink = sink;
    this.done = false;
    this.starting = true;
    this.result = undefined;
    this.failure = undefined;
    this.abandoned = undefined;
  }

  // Derived, not stored: every field is 8 bytes on each call in flight.
  get spanMs(): number {
    return this.reg.deadlineMs;
  }

  get phase(): Phase {
    return this.ctx.phase;
  }

  expire(): void {
    if (this.done) return;
    const backstop = this.reg.deadlineMs !== this.reg.timeoutMs;
    abortContext(this.ctx, new CpexError('CPEX_ERR_PLUGIN_TIMEOUT', `plugin ${this.reg.name} timed out`));
    this.settle(undefined, backstop ? BACKSTOP : TIMEOUT);
  }

  /** Stop waiting (sibling deny, caller abort) and abort the plugin's signal. */
  abandon(reason: unknown): void {
    if (this.done) return;
    abortContext(this.ctx, reason);
    this.settle(undefined, ABANDONED);
  }

  /** Listen to a thenable (`then` already read once), adopting nested thenables. */
  listen(then: PromiseLike<unknown>['then'], target: unknown, depth: number): void {
    this.bound = true;
    this.depth = depth;
    if (then === NATIVE_THEN) {
      // The engine's own then calls at most one of the two, at most once: no guard needed.
      try {
        then.call(target, this.#fulfil, this.#reject);
      } catch (e) {
        // not a promise after all (the native then refuses any other receiver)
        this.bound = false;
        this.settle(undefined, e);
      }
      return;
    }
    listenGuarded(this, then, target, depth);
  }

  /** A thenable fulfilled with `v`: a further thenable is followed (bounded), anything else settles. */
  adopt(v: unknown, depth: number): void {
    const t = thenOf(v);
    if (t === undefined) return this.settle(v, NO_ERROR);
    if (typeof t !== 'function') return this.settle(undefined, t.error);
    if (depth >= MAX_THENABLE_DEPTH) {
      return this.settle(
        undefined,
        new CpexError(
          'CPEX_ERR_INVALID_RESULT',
          `plugin ${this.reg.name} returned thenables nested more than ${MAX_THENABLE_DEPTH} deep`,
        ),
      );
    }
    this.listen(t, v, depth + 1);
  }

  settle(value: unknown, error: unknown): void {
    if (this.done) return;
    this.done = true;
    const inv = this.inv;
    // A serial phase's call stays linked for the invocation's next call (watchdog.ts); its
    // invocation unlinks it when it finishes.
    if (!this.sink.consumesOutcome) inv.engine.watchdog.untrack(this);
    if (inv.current === this) inv.current = undefined;
    settleOutcome(this, inv, this.ctx.phase, this.t0, value, error);
    // Settled before callPlugin returned (a thenable that called back at once): callPlugin hands it back.
    if (!this.starting) this.sink.outcome(this, inv);
  }
}

/** How many free PluginCalls an engine keeps (one per call in flight is what reuse needs). */
export const MAX_POOLED_CALLS = 256;

/**
 * An engine's free PluginCalls: a stack in an array made once at its full size. Taking and
 * putting never resize it (Array.prototype.pop trims a mostly empty backing store, so a pool of
 * one call freed and reallocated its backing store on every invocation).
 */
export class CallPool {
  readonly #items: Array<PluginCall | undefined> = new Array<PluginCall | undefined>(MAX_POOLED_CALLS).fill(
    undefined,
  );
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** A free call, or undefined when the pool is empty. */
  take(): PluginCall | undefined {
    if (this.#size === 0) return undefined;
    const call = this.#items[--this.#size];
    this.#items[this.#size] = undefined;
    return call;
  }

  /** Keep `call` for reuse; false when the pool is full. */
  put(call: PluginCall): boolean {
    if (this.#size === MAX_POOLED_CALLS) return false;
    this.#items[this.#size++] = call;
    return true;
  }
}

/**
 * Back to the engine's pool, if `call` is free (settled, and its thenable has called back): the
 * serial spare when its invocation finishes (pipeline.ts #finish), a fire_and_forget call once its
 * outcome is taken. Only a sink that holds no reference to the call after that may recycle it.
 */
export function recycle(call: PluginCall): void {
  const engine = call.inv.engine;
  if (call.done) engine.watchdog.untrack(call);
  if (call.free) {
    call.release();
    engine.calls.put(call);
  }
}

/**
 * A foreign thenable's callbacks, guarded: it may call both, or twice, or call back and then
 * throw. (A function of its own, so listen() allocates no closure context on the native path.)
 */
function listenGuarded(
  call: PluginCall,
  then: PromiseLike<unknown>['then'],
  target: unknown,
  depth: number,
): void {
  let called = false;
  try {
    then.call(
      target,
      (v) => {
        if (called) return;
        called = true;
        call.bound = false;
        call.adopt(v, depth);
      },
      (e) => {
        if (called) return;
        called = true;
        call.bound = false;
        call.settle(undefined, e);
      },
    );
  } catch (e) {
    // A hostile then(): what it threw is the call's failure, unless it already settled the call.
    if (!called) {
      called = true;
      call.bound = false;
      call.settle(undefined, e);
    }
  }
}

/**
 * Call `handler` (`reg`'s handler for the invocation's hook, from the lineup's step) with `payload`. Returns the Outcome when the call
 * settled before returning (a synchronous handler, a throw, a thenable that settled at once), or
 * the PluginCall in flight, which hands its Outcome to `sink` later (never synchronously).
 */
export function callPlugin(
  inv: Invocation,
  reg: Registration,
  handler: Handler,
  phase: Phase,
  ctx: CallContext,
  payload: unknown,
  sink: OutcomeSink,
): Outcome | PluginCall {
  const view = inv.viewFor(reg, payload);
  const ext = inv.extensionsFor(reg);
  inv.executed++;
  const tracing = inv.tracing;
  if (tracing && pluginStartChannel.hasSubscribers) publishStart(inv, reg, phase);
  reg.active++;
  // A handler known to be async is not timed here: its deadline is the watchdog's.
  const timed = tracing || reg.async !== true;
  const t0 = timed ? performance.now() : 0;
  let r: unknown;
  try {
    r = handler(view, ctx, ext);
  } catch (e) {
    return outcomeOf(inv, reg, phase, ctx, t0, undefined, e);
  }
  const then = thenOf(r);
  if (then === undefined) {
    // A synchronous handler cannot be pre-empted: if it overran, its result is discarded as timed out.
    if (!timed) reg.async = false;
    else if (performance.now() - t0 > reg.timeoutMs)
      return outcomeOf(inv, reg, phase, ctx, t0, undefined, TIMEOUT);
    return outcomeOf(inv, reg, phase, ctx, t0, r, NO_ERROR);
  }
  if (typeof then !== 'function') return outcomeOf(inv, reg, phase, ctx, t0, undefined, then.error);
  reg.async = true;
  let call = inv.spareCall;
  if (sink.consumesOutcome && call !== undefined && call.free) call.reuse(reg, ctx, t0, sink);
  else call = acquireCall(inv, reg, ctx, t0, sink);
  inv.engine.watchdog.track(call);
  call.listen(then, r, 0);
  call.starting = false;
  if (!call.done) return call;
  // Settled already: a plain Outcome (the caller tells a call in flight by `instanceof PluginCall`).
  return { reg, ctx, result: call.result, failure: call.failure, abandoned: call.abandoned };
}

/** A PluginCall for a call that cannot reuse its invocation's spare: a free one from the pool (recycle), else a new one. */
function acquireCall(
  inv: Invocation,
  reg: Registration,
  ctx: CallContext,
  t0: number,
  sink: OutcomeSink,
): PluginCall {
  let call = inv.engine.calls.take();
  if (call !== undefined) {
    call.inv = inv;
    call.reuse(reg, ctx, t0, sink);
  } else call = new PluginCall(inv, reg, ctx, t0, sink);
  if (sink.consumesOutcome) inv.spareCall = call;
  return call;
}

/** A synchronous call's Outcome (same fields, in the same order, as a settled PluginCall's). */
function outcomeOf(
  inv: Invocation,
  reg: Registration,
  phase: Phase,
  ctx: CallContext,
  t0: number,
  value: unknown,
  error: unknown,
): Outcome {
  const out: Outcome = { reg, ctx, result: undefined, failure: undefined, abandoned: undefined };
  settleOutcome(out, inv, phase, t0, value, error);
  return out;
}

/** Settle one call into its Outcome `out`: result read once, failure shaped, local state committed. */
function settleOutcome(
  out: Outcome,
  inv: Invocation,
  phase: Phase,
  t0: number,
  value: unknown,
  error: unknown,
): void {
  const reg = out.reg;
  if (--reg.active === 0 && reg.onIdle !== undefined) reg.onIdle();
  if (error === ABANDONED) out.abandoned = true;
  else if (error !== NO_ERROR) out.failure = failureOf(error, reg);
  else if (value === undefined || value === null) out.result = EMPTY_RESULT;
  else {
    const res = readResult(value);
    if (typeof res === 'string') out.failure = invalidResult(reg, res);
    else out.result = res;
  }
  // Local-state writes of a call that timed out or was abandoned never reach the table.
  if (!out.abandoned && error !== TIMEOUT && error !== BACKSTOP && inv.abortError === undefined)
    commitContext(out.ctx);
  if (inv.tracing && pluginEndChannel.hasSubscribers) publishEnd(out, inv, phase, t0);
}

// Tracing (cold: only with a subscriber), out of line so the hot functions stay small enough to inline.
function publishStart(inv: Invocation, reg: Registration, phase: Phase): void {
  pluginStartChannel.publish({
    manager: inv.engine.owner,
    invocationId: inv.id,
    hook: inv.hook,
    plugin: reg.name,
    phase,
  });
}

function publishEnd(out: Outcome, inv: Invocation, phase: Phase, t0: number): void {
  let outcome: PluginOutcome;
  if (out.abandoned) outcome = 'aborted';
  else if (out.failure) outcome = out.failure.code === 'plugin_timeout' ? 'timeout' : 'error';
  else if (out.result?.continueProcessing === false) outcome = 'deny';
  else outcome = out.result?.modifiedPayload != null ? 'modify' : 'allow';
  pluginEndChannel.publish({
    manager: inv.engine.owner,
    invocationId: inv.id,
    hook: inv.hook,
    plugin: out.reg.name,
    phase,
    outcome,
    durationMs: performance.now() - t0,
    ...(out.failure ? { code: out.failure.code } : {}),
  });
}
