/**
 * fire_and_forget — blocks: no · modifies: no · writes global context: no. Runs after the other
 * phases (also after a halt), on the final payload, with a fresh local context per call, in the
 * background: started right after the caller has its result (on the microtask queue, behind the
 * caller's continuation — never a macrotask, so nothing piles up while a caller keeps the event
 * loop busy), tracked so `shutdown()` drains it;
 * its failures are reported by `background.wait()`.
 */
import { type CallContext, type CallerGlobal, copyGlobalContext } from '../../context/call-context.js';
import type { BackgroundWork, GlobalContext, Handler, PluginErrorRecord } from '../../types.js';
import { callPlugin, type Outcome, type OutcomeSink, PluginCall, recycle } from '../call.js';
import type { Invocation } from '../pipeline.js';
import type { PhaseStep, Registration } from '../registration.js';
import type { PhaseRunner } from './runner.js';

/**
 * How much fire_and_forget work is in flight, for `shutdown()` / `drain()`: a count and the
 * waiters for it to reach zero. Not a Set of the runs: a Set churned by one add and one delete
 * per invocation rehashes into new backing tables, and the chain of obsolete tables kept the
 * young runs alive past every scavenge (the second half of the fire_and_forget cliff).
 */
export class BackgroundTracker {
  #inflight = 0;
  readonly #waiters: Array<() => void> = [];

  get size(): number {
    return this.#inflight;
  }

  started(): void {
    this.#inflight++;
  }

  finished(): void {
    if (--this.#inflight === 0 && this.#waiters.length > 0) for (const w of this.#waiters.splice(0)) w();
  }

  /** Resolves once no work is in flight (work started meanwhile is waited for too). */
  idle(): Promise<void> {
    if (this.#inflight === 0) return Promise.resolve();
    return new Promise<void>((r) => this.#waiters.push(r));
  }
}

/**
 * The background work of one invocation: the `background` handle of its result, the sink of its
 * calls, and the entry `shutdown()` drains. A class with `pending` on its prototype, never an
 * object literal with a getter: a literal's getter is a fresh closure per invocation, which gives
 * every handle its own hidden class, and those (old-space) classes kept each invocation's whole
 * graph alive until the next full GC — the fire_and_forget throughput cliff.
 * The promise behind `wait()` exists only once someone waits.
 */
export class BackgroundRun implements BackgroundWork, OutcomeSink, CallerGlobal {
  readonly #inv: Invocation;
  readonly #eligible: readonly Registration[];
  readonly #handlers: readonly Handler[];
  readonly #ctxs: CallContext[];
  /** The final payload itself (no per-invoke copy, ARCHITECTURE s3): see docs/executor.md. */
  readonly #payload: unknown;
  readonly #pool: number;
  readonly #errors: PluginErrorRecord[] = [];
  #remaining: number;
  #next = 0;
  #inflight = 0;
  #waiting: Promise<PluginErrorRecord[]> | undefined;
  #resolve: ((e: PluginErrorRecord[]) => void) | undefined;
  readonly consumesOutcome = false;
  /**
   * The caller's global context when the work was scheduled (before the caller has its result):
   * the plugins run later, and must not see what the caller changes afterwards (Python prepares
   * their contexts when it schedules them). Taken at once when the invocation has a global context
   * (the caller's, or one a plugin made); else none exists that anyone could change, and the copy
   * is made if a plugin looks (no cost for an invocation without one).
   */
  #global: GlobalContext | undefined;

  constructor(inv: Invocation, eligible: readonly Registration[], handlers: readonly Handler[]) {
    this.#inv = inv;
    this.#eligible = eligible;
    this.#handlers = handlers;
    const g = inv.currentGlobal();
    this.#global = g === undefined ? undefined : copyGlobalContext(g);
    this.#ctxs = eligible.map((reg) => inv.contextFor(reg, 'fire_and_forget', true, this));
    this.#payload = inv.payload;
    this.#pool = inv.engine.settings.executionPool;
    this.#remaining = eligible.length;
    inv.engine.background.started();
  }

  get pending(): number {
    return this.#remaining;
  }

  /** fire_and_forget writes are never merged; a plugin's own copy stays its own. */
  callerGlobal(): GlobalContext {
    return (this.#global ??= copyGlobalContext(this.#inv.callerGlobal()));
  }

  globalSource(): GlobalContext {
    return this.callerGlobal();
  }

  wait(): Promise<PluginErrorRecord[]> {
    if (this.#remaining === 0) return Promise.resolve([...this.#errors]);
    this.#waiting ??= new Promise<PluginErrorRecord[]>((r) => {
      this.#resolve = r;
    });
    return this.#waiting.then((e) => [...e]);
  }

  outcome(o: Outcome): void {
    this.#inflight--;
    this.#remaining--;
    if (o.failure) {
      const inv = this.#inv;
      inv.recordFailure(o, 'fire_and_forget', this.#errors);
      inv.engine.logger.warn(`fire_and_forget plugin ${o.reg.name} failed: ${o.failure.message}`, {
        plugin: o.reg.name,
        hook: inv.hook,
      });
    }
    // Nothing here keeps the call: back to the pool for the next call (this run's, or another's).
    if (o instanceof PluginCall) recycle(o);
    if (this.#remaining === 0) {
      // Failures in schedule order (priority, then registration order), as Python's
      // wait_for_background_tasks() gathers its tasks: the same list whatever order they failed in,
      // on every host.
      if (this.#errors.length > 1) {
        const order = this.#eligible;
        const at = (name: string) => order.findIndex((r) => r.name === name);
        this.#errors.sort((a, b) => at(a.pluginName) - at(b.pluginName));
      }
      this.#inv.engine.background.finished();
      this.#resolve?.(this.#errors);
    } else this.start();
  }

  /** Start calls (up to `execution_pool` in flight); called once the caller has its result. */
  start(): void {
    const eligible = this.#eligible;
    const pool = this.#pool;
    while (this.#next < eligible.length && (pool === 0 || this.#inflight < pool)) {
      const i = this.#next++;
      this.#inflight++;
      const r = callPlugin(
        this.#inv,
        eligible[i]!,
        this.#handlers[i]!,
        'fire_and_forget',
        this.#ctxs[i]!,
        this.#payload,
        this,
      );
      if (!(r instanceof PluginCall)) this.outcome(r);
    }
  }
}

function run(inv: Invocation, step: PhaseStep): boolean {
  const { regs: eligible, handlers } = inv.eligibleOf(step);
  if (eligible.length === 0) return false;
  // Started by the invocation once the caller has its result.
  const bg = new BackgroundRun(inv, eligible, handlers);
  inv.background = bg;
  inv.startAfterResult = bg;
  return false;
}

export const fireAndForget: PhaseRunner = {
  contract:
    'blocks: no · modifies: no · writes global context: no (background, after a halt too, final payload)',
  afterHalt: true,
  run,
};
