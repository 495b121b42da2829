/**
 * One invocation of one hook through the fixed 5-phase executor
 * (ARCHITECTURE.md sections 3–4: sequential → transform → audit → concurrent → fire_and_forget).
 *
 * Hot-path rules: no work for phases without plugins, stay synchronous until a handler returns a
 * thenable, allocate only what a passthrough call needs (one context object per plugin call; the
 * context-table entry, global-context copy and AbortSignal are lazy), and enforce timeouts with
 * the manager's single watchdog timer instead of a timer per call.
 */
import { CallContext } from '../context/call-context.js';
import { ContextTable } from '../context/context-table.js';
import { CpexError, describeCause, PluginViolationError } from '../errors/cpex-error.js';
import type { CpexErrorCode } from '../errors/catalogue.js';
import { extensionsView, mergeExtensions } from '../extensions/gate.js';
import type { Extensions } from '../extensions/types.js';
import {
  pluginEndChannel,
  pluginStartChannel,
  hookEndChannel,
  hookStartChannel,
  type PluginOutcome,
} from '../tracing/channels.js';
import type {
  BackgroundWork,
  GlobalContext,
  InvokeOptions,
  Logger,
  Phase,
  PipelineResult,
  PluginErrorRecord,
  PluginResult,
  PluginViolation,
  ResolvedSettings,
} from '../types.js';
import { matchesConditions } from './conditions.js';
import { applyPolicy } from './policies.js';
import { readonlyView, unwrapViews } from './readonly.js';
import type { Lineup, Registration } from './registration.js';
import type { Deadline, Watchdog } from './watchdog.js';

/** What the executor needs from its manager. */
export interface Engine {
  readonly owner: object;
  readonly settings: ResolvedSettings;
  readonly watchdog: Watchdog;
  readonly logger: Logger;
  /** hook -> writable fields (compiled from hook_policies). */
  readonly policies: ReadonlyMap<string, ReadonlySet<string>>;
  /** In-flight fire-and-forget work, drained by shutdown(). */
  readonly background: Set<Promise<unknown>>;
  nextInvocationId(): number;
  /** An invocation started / finished (shutdown() waits for in-flight invocations). */
  invocationStarted(): void;
  invocationFinished(): void;
  /** Called when a plugin trips on_error: disable. */
  onDisabled(reg: Registration, reason: string): void;
}

const DECISION_KEY = '_decision_plugin';
const DECISION_HOOK = 'http_auth_check_permission';

type Failure = { code: string; message: string; errorCode?: string; details?: Record<string, unknown> };

/** The settled outcome of one plugin call. */
interface Outcome {
  reg: Registration;
  ctx: CallContext;
  result?: PluginResult;
  failure?: Failure;
  /** The call was abandoned (sibling deny, caller abort): its result must not be used. */
  abandoned?: boolean;
}

const TIMEOUT = Symbol('cpex.timeout');
const ABANDONED = Symbol('cpex.abandoned');

/**
 * An async plugin call in flight (one object per call, no wrapper promise), racing its deadline in
 * the manager's watchdog. With `onOutcome` it belongs to the concurrent or fire_and_forget phase;
 * without, it is the current call of a serial phase and resumes the state machine.
 */
class InFlightCall implements Deadline {
  deadline: number;
  timeoutMs: number;
  done = false;
  constructor(
    private readonly inv: Invocation<unknown>,
    readonly reg: Registration,
    readonly ctx: CallContext,
    readonly phase: Phase,
    readonly start: number,
    readonly onOutcome?: (o: Outcome) => void,
  ) {
    this.timeoutMs = reg.timeoutMs;
    this.deadline = start + reg.timeoutMs;
  }
  expire(): void {
    this.ctx.abort(new CpexError('CPEX_ERR_PLUGIN_TIMEOUT', `plugin ${this.reg.name} timed out`));
    this.settle(undefined, TIMEOUT);
  }
  /** Stop waiting (sibling deny, caller abort) and abort the plugin's signal. */
  abandon(reason: unknown): void {
    if (this.done) return;
    this.ctx.abort(reason);
    this.settle(undefined, ABANDONED);
  }
  settle(value: unknown, error: unknown): void {
    if (this.onOutcome) this.inv.finishAsync(this, value, error);
    else this.inv.settleSerial(this, value, error);
  }
}

const EMPTY_BACKGROUND: BackgroundWork = Object.freeze({
  wait: () => Promise.resolve([] as PluginErrorRecord[]),
  pending: 0,
});

/** The result of a hook with no plugins: allow, nothing modified, no context table. */
export function emptyResult<P>(): PipelineResult<P> {
  return {
    continueProcessing: true,
    modifiedPayload: null,
    payloadModified: false,
    modifiedExtensions: null,
    violation: null,
    errors: [],
    metadata: {},
    retryDelayMs: 0,
    contextTable: null,
    background: EMPTY_BACKGROUND,
  };
}

/**
 * Read a handler's return value exactly once, into a plain snapshot, and validate it. Hostile
 * values (throwing getters, proxies) become an error message instead of escaping the executor.
 */
function readResult(r: unknown): PluginResult | string {
  if (typeof r !== 'object' || r === null || Array.isArray(r)) {
    return `expected a PluginResult object (or nothing), got ${Array.isArray(r) ? 'an array' : typeof r}`;
  }
  let out: PluginResult;
  try {
    const x = r as Record<string, unknown>;
    const cp = x.continueProcessing;
    if (cp !== undefined && typeof cp !== 'boolean')
      return `continueProcessing must be a boolean, got ${typeof cp}`;
    if (cp === undefined && ('continue_processing' in x || 'modified_payload' in x)) {
      return 'snake_case result fields (continue_processing, modified_payload) are not read in TypeScript: use continueProcessing / modifiedPayload';
    }
    const v = x.violation;
    if (
      v !== undefined &&
      v !== null &&
      (typeof v !== 'object' || typeof (v as { code?: unknown }).code !== 'string')
    ) {
      return 'violation must be an object with a string code';
    }
    const md = x.metadata;
    if (md !== undefined && md !== null && (typeof md !== 'object' || Array.isArray(md)))
      return 'metadata must be an object';
    const rd = x.retryDelayMs;
    if (rd !== undefined && !(typeof rd === 'number' && rd >= 0)) return 'retryDelayMs must be a number >= 0';
    const me = x.modifiedExtensions;
    if (me !== undefined && me !== null && typeof me !== 'object')
      return 'modifiedExtensions must be an object';
    out = {};
    if (cp !== undefined) out.continueProcessing = cp;
    if (x.modifiedPayload !== undefined) out.modifiedPayload = x.modifiedPayload;
    if (me != null) out.modifiedExtensions = me as Extensions;
    if (v != null) out.violation = { ...(v as PluginViolation) };
    if (md != null) out.metadata = { ...(md as Record<string, unknown>) };
    if (rd !== undefined) out.retryDelayMs = rd;
  } catch (e) {
    return `reading the result threw: ${describeCause(e)}`;
  }
  return out;
}

/** `then` of a thenable, read once; a throwing getter becomes the call's failure. */
function thenOf(v: unknown): { fn: PromiseLike<unknown>['then'] } | undefined | { error: unknown } {
  if (v === null || (typeof v !== 'object' && typeof v !== 'function')) return undefined;
  try {
    const t = (v as { then?: unknown }).then;
    return typeof t === 'function' ? { fn: t as PromiseLike<unknown>['then'] } : undefined;
  } catch (error) {
    return { error };
  }
}

const LOWER: Partial<Record<CpexErrorCode, string>> = {
  CPEX_ERR_PLUGIN_TIMEOUT: 'plugin_timeout',
  CPEX_ERR_PAYLOAD_MUTATION: 'payload_mutation',
  CPEX_ERR_EXTENSION_VIOLATION: 'extension_violation',
};

function failureOf(e: unknown, reg: Registration, timeoutMs: number): Failure {
  if (e === TIMEOUT) {
    return {
      code: 'plugin_timeout',
      message: `plugin ${reg.name} exceeded its ${timeoutMs / 1000}s timeout`,
      errorCode: 'CPEX_ERR_PLUGIN_TIMEOUT',
    };
  }
  if (e instanceof CpexError) {
    return {
      code: LOWER[e.code] ?? 'plugin_error',
      message: e.message,
      errorCode: e.code,
      ...(e.details ? { details: e.details } : {}),
    };
  }
  const f: Failure = {
    code: 'plugin_error',
    message: describeCause(e),
    errorCode: 'CPEX_ERR_PLUGIN_EXCEPTION',
  };
  if (e instanceof Error && e.name && e.name !== 'Error') f.details = { error_type: e.name };
  if (e instanceof Error && e.name === 'DataCloneError') {
    f.message +=
      ' (payload views are read-only proxies, which structuredClone cannot copy: use toMutable(payload) from @cpex/sdk, or spread the fields you change)';
  }
  return f;
}

const SERIAL_PHASES = ['sequential', 'transform', 'audit'] as const;
const NO_ERROR = Symbol('cpex.no-error');
const THREW = Symbol('cpex.threw');

export class Invocation<P = unknown> {
  private readonly engine: Engine;
  private readonly lineup: Lineup;
  private readonly hook: string;
  private readonly original: P;
  private readonly gc: GlobalContext;
  private readonly table: ContextTable;
  private readonly options: InvokeOptions;
  private readonly id: number;
  private readonly tracing: boolean;
  private readonly t0: number;
  /** Legacy conditions apply only when routing is off. */
  private readonly useConditions: boolean;

  private payload: unknown;
  /** Cached read-only view of `payload` (recomputed when the payload changes). */
  private viewSource: unknown;
  private view: unknown;
  private modified = false;
  private ext: Extensions | undefined;
  private extModified = false;
  private metadata: Record<string, unknown> = {};
  private errors: PluginErrorRecord[] = [];
  private retry = 0;
  private violation: PluginViolation | null = null;
  private halted = false;
  private executed = 0;
  private decisionPlugin: string | undefined;
  private pending: Set<InFlightCall> | undefined;
  private current: InFlightCall | undefined;
  /** Scratch fields of runHandler (start time of the last call, what it threw). */
  private callStart = 0;
  private finished = false;
  private thrown: unknown;
  private abortError: CpexError | undefined;
  private stopAbortListener: (() => void) | undefined;

  // state machine
  private phaseIdx = 0;
  private regIdx = 0;
  private inRun = true;
  private syncResult: { value?: PipelineResult<P>; error?: unknown } | undefined;
  private resolveFn: ((r: PipelineResult<P>) => void) | undefined;
  private rejectFn: ((e: unknown) => void) | undefined;

  constructor(engine: Engine, lineup: Lineup, hook: string, payload: P, options: InvokeOptions) {
    this.engine = engine;
    this.lineup = lineup;
    this.hook = hook;
    this.original = payload;
    this.payload = payload;
    this.options = options;
    this.ext = options.extensions;
    this.id = engine.nextInvocationId();
    this.gc = normalizeGlobalContext(options.globalContext, this.id);
    const prev = options.contextTable;
    if (prev != null && !(prev instanceof ContextTable)) {
      throw new CpexError(
        'CPEX_ERR_INVALID_ARGUMENT',
        `invoke(${hook}): options.contextTable must be the contextTable a previous invoke() returned (got ${Array.isArray(prev) ? 'an array' : typeof prev})`,
        { hook },
      );
    }
    this.table = new ContextTable(this.gc.requestId, options.contextTable);
    this.tracing =
      hookStartChannel.hasSubscribers ||
      pluginStartChannel.hasSubscribers ||
      hookEndChannel.hasSubscribers ||
      pluginEndChannel.hasSubscribers;
    this.t0 = this.tracing ? performance.now() : 0;
    this.useConditions = !engine.settings.routingEnabled;
  }

  /**
   * Run the pipeline. Serial phases are a continuation-passing state machine: handlers that return
   * plain values are applied synchronously, a thenable costs exactly one `.then`, and the whole
   * invocation resolves through one promise.
   */
  run(): Promise<PipelineResult<P>> {
    const signal = this.options.signal;
    if (signal) this.watchCaller(signal);
    if (this.tracing && hookStartChannel.hasSubscribers) {
      hookStartChannel.publish({
        manager: this.engine.owner,
        invocationId: this.id,
        hook: this.hook,
        requestId: this.gc.requestId,
        plugins: this.lineup.ordered.length,
      });
    }
    this.engine.invocationStarted();
    this.drive();
    this.inRun = false;
    const sr = this.syncResult;
    if (sr) return sr.error !== undefined ? Promise.reject(sr.error) : Promise.resolve(sr.value!);
    return new Promise<PipelineResult<P>>((resolve, reject) => {
      this.resolveFn = resolve;
      this.rejectFn = reject;
    });
  }

  /** Advance through the phases until a handler goes async or the pipeline is done. */
  private drive(): void {
    try {
      const phases = this.lineup.phases;
      while (!this.halted && this.abortError === undefined) {
        const pi = this.phaseIdx;
        if (pi < 3) {
          const phase = SERIAL_PHASES[pi]!;
          const regs = phases[phase];
          if (this.regIdx >= regs.length) {
            this.phaseIdx++;
            this.regIdx = 0;
            continue;
          }
          const reg = regs[this.regIdx++]!;
          if (!this.eligible(reg)) continue;
          if (this.startSerial(reg, phase)) return;
        } else if (pi === 3) {
          this.phaseIdx = 4;
          if (phases.concurrent.length && this.concurrent(phases.concurrent)) return;
        } else break;
      }
      this.complete();
    } catch (e) {
      this.finishWith(undefined, e);
    }
  }

  private finishWith(value: PipelineResult<P> | undefined, error: unknown): void {
    if (this.finished) return;
    this.finished = true;
    this.stopAbortListener?.();
    this.engine.invocationFinished();
    // Every hook:start gets its hook:end: success, halt, violationsAsExceptions, abort or error.
    if (this.tracing && hookEndChannel.hasSubscribers) {
      hookEndChannel.publish({
        manager: this.engine.owner,
        invocationId: this.id,
        hook: this.hook,
        requestId: this.gc.requestId,
        plugins: this.lineup.ordered.length,
        continueProcessing: value !== undefined ? value.continueProcessing : false,
        stoppedBy: this.violation?.pluginName ?? null,
        executed: this.executed,
        durationMs: performance.now() - this.t0,
      });
    }
    if (this.inRun) {
      this.syncResult = error !== undefined ? { error } : { value: value! };
    } else if (error !== undefined) this.rejectFn!(error);
    else this.resolveFn!(value!);
  }

  private complete(): void {
    if (this.abortError) return this.finishWith(undefined, this.abortError);
    const background = this.lineup.hasFireAndForget
      ? this.fireAndForget(this.lineup.phases.fire_and_forget)
      : EMPTY_BACKGROUND;
    const result = this.buildResult(background);
    if (this.halted && this.options.violationsAsExceptions) {
      return this.finishWith(
        undefined,
        new PluginViolationError(this.hook, result.violation!, result as PipelineResult<unknown>),
      );
    }
    this.finishWith(result, undefined);
  }

  private payloadView(reg: Registration, payload: unknown): unknown {
    if (!reg.protect) return payload;
    if (payload !== this.viewSource) {
      this.viewSource = payload;
      this.view = readonlyView(payload);
    }
    return this.view;
  }

  /**
   * Call a plugin's handler with its payload view and extensions view, publishing the start span.
   * Sets `callStart`; a thrown value comes back as THREW with the error in `thrown` (no allocation).
   */
  private runHandler(reg: Registration, phase: Phase, ctx: CallContext, payload: unknown): unknown {
    const handler = reg.handlers.get(this.hook)!;
    const view = this.payloadView(reg, payload);
    const ext = this.ext === undefined ? undefined : extensionsView(this.ext, reg.caps);
    this.executed++;
    if (this.tracing && pluginStartChannel.hasSubscribers) {
      pluginStartChannel.publish({
        manager: this.engine.owner,
        invocationId: this.id,
        hook: this.hook,
        plugin: reg.name,
        phase,
      });
    }
    reg.active++;
    this.callStart = performance.now();
    try {
      return handler(view, ctx, ext);
    } catch (e) {
      this.thrown = e;
      return THREW;
    }
  }

  /** Start one serial call; true when it went async (settleSerial resumes the machine). */
  private startSerial(reg: Registration, phase: Phase): boolean {
    this.table.participate(reg, false);
    const ctx = new CallContext(this.table, reg, this.gc, this.hook, phase);
    const r = this.runHandler(reg, phase, ctx, this.payload);
    const start = this.callStart;
    if (r === THREW) {
      this.applyOutcome(this.settle(reg, phase, ctx, start, undefined, this.thrown, true), phase);
      return false;
    }
    const t = thenOf(r);
    if (t !== undefined) {
      if ('error' in t) {
        this.applyOutcome(this.settle(reg, phase, ctx, start, undefined, t.error, true), phase);
        return false;
      }
      const call = new InFlightCall(this as Invocation<unknown>, reg, ctx, phase, start);
      this.current = call;
      this.engine.watchdog.track(call);
      try {
        t.fn.call(
          r,
          (v) => this.settleSerial(call, v, NO_ERROR),
          (e) => this.settleSerial(call, undefined, e),
        );
      } catch (e) {
        // A hostile then(): if it already settled the call, the machine has moved on.
        if (call.done) return true;
        call.done = true;
        this.current = undefined;
        this.engine.watchdog.untrack(call);
        this.applyOutcome(this.settle(reg, phase, ctx, start, undefined, e, true), phase);
        return false;
      }
      return true;
    }
    // A synchronous handler cannot be pre-empted: if it overran, its result is discarded as timed out.
    const o =
      performance.now() - start > reg.timeoutMs
        ? this.settle(reg, phase, ctx, start, undefined, TIMEOUT, true)
        : this.settle(reg, phase, ctx, start, r, undefined, false);
    this.applyOutcome(o, phase);
    return false;
  }

  /** @internal Resumes the machine when the current serial call settles, times out or is abandoned. */
  settleSerial(call: InFlightCall, value: unknown, error: unknown): void {
    if (call.done) return;
    call.done = true;
    this.current = undefined;
    this.engine.watchdog.untrack(call);
    try {
      const o =
        error === NO_ERROR
          ? this.settle(call.reg, call.phase, call.ctx, call.start, value, undefined, false)
          : this.settle(call.reg, call.phase, call.ctx, call.start, undefined, error, true);
      if (!o.abandoned && this.abortError === undefined) this.applyOutcome(o, call.phase);
    } catch (e) {
      return this.finishWith(undefined, e);
    }
    this.drive();
  }

  private applyOutcome(o: Outcome, phase: Phase): void {
    if (phase === 'audit') this.applyAudit(o);
    else this.applySerial(o, phase);
  }

  private watchCaller(signal: AbortSignal): void {
    const onAbort = () => {
      this.abortError ??= new CpexError(
        'CPEX_ERR_ABORTED',
        `invocation of ${this.hook} aborted by the caller`,
        {
          hook: this.hook,
          cause: signal.reason,
        },
      );
      this.halted = true;
      if (this.pending) for (const p of this.pending) p.abandon(this.abortError);
      this.current?.abandon(this.abortError);
    };
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    this.stopAbortListener = () => signal.removeEventListener('abort', onAbort);
  }

  private eligible(reg: Registration): boolean {
    return (
      !reg.disabled &&
      reg.closing !== true &&
      (reg.conditions.length === 0 ||
        !this.useConditions ||
        matchesConditions(reg.conditions, this.hook, this.original, this.gc))
    );
  }

  /** Start one concurrent/fire_and_forget call; `done` gets its outcome (synchronously if the handler was sync). */
  private call(
    reg: Registration,
    phase: Phase,
    ctx: CallContext,
    payload: unknown,
    done: (o: Outcome) => void,
  ): void {
    const r = this.runHandler(reg, phase, ctx, payload);
    const start = this.callStart;
    if (r === THREW) return done(this.settle(reg, phase, ctx, start, undefined, this.thrown));
    const t = thenOf(r);
    if (t !== undefined) {
      if ('error' in t) return done(this.settle(reg, phase, ctx, start, undefined, t.error, true));
      const ac = new InFlightCall(this as Invocation<unknown>, reg, ctx, phase, start, done);
      (this.pending ??= new Set()).add(ac);
      this.engine.watchdog.track(ac);
      try {
        t.fn.call(
          r,
          (v) => this.finishAsync(ac, v, NO_ERROR),
          (e) => this.finishAsync(ac, undefined, e),
        );
      } catch (e) {
        this.finishAsync(ac, undefined, e);
      }
      return;
    }
    // A synchronous handler cannot be pre-empted: if it overran, its result is discarded as timed out.
    if (performance.now() - start > reg.timeoutMs)
      return done(this.settle(reg, phase, ctx, start, undefined, TIMEOUT, true));
    done(this.settle(reg, phase, ctx, start, r, undefined, false));
  }

  /** @internal An async concurrent/fire_and_forget call settled, timed out or was abandoned. */
  finishAsync(ac: InFlightCall, value: unknown, error: unknown): void {
    if (ac.done) return;
    ac.done = true;
    this.engine.watchdog.untrack(ac);
    this.pending?.delete(ac);
    try {
      ac.onOutcome!(
        error === NO_ERROR
          ? this.settle(ac.reg, ac.phase, ac.ctx, ac.start, value, undefined, false)
          : this.settle(ac.reg, ac.phase, ac.ctx, ac.start, undefined, error, true),
      );
    } catch (e) {
      this.engine.logger.error(`executor error after plugin ${ac.reg.name}: ${describeCause(e)}`, {
        hook: this.hook,
      });
    }
  }

  private settle(
    reg: Registration,
    phase: Phase,
    ctx: CallContext,
    start: number,
    value: unknown,
    error: unknown,
    failed = true,
  ): Outcome {
    if (--reg.active === 0 && reg.onIdle !== undefined) reg.onIdle();
    let out: Outcome;
    if (error === ABANDONED) out = { reg, ctx, abandoned: true };
    else if (failed) out = { reg, ctx, failure: failureOf(error, reg, reg.timeoutMs) };
    else if (value === undefined || value === null) out = { reg, ctx, result: {} };
    else {
      const res = readResult(value);
      out =
        typeof res === 'string'
          ? {
              reg,
              ctx,
              failure: {
                code: 'plugin_error',
                message: `invalid result from plugin ${reg.name}: ${res}`,
                errorCode: 'CPEX_ERR_INVALID_RESULT',
              },
            }
          : { reg, ctx, result: res };
    }
    // Local-state writes of a call that timed out or was abandoned never reach the table.
    if (!out.abandoned && error !== TIMEOUT && !this.abortError) ctx.commit();
    if (this.tracing && pluginEndChannel.hasSubscribers) {
      let outcome: PluginOutcome;
      if (out.abandoned) outcome = 'aborted';
      else if (out.failure) outcome = out.failure.code === 'plugin_timeout' ? 'timeout' : 'error';
      else if (out.result?.continueProcessing === false) outcome = 'deny';
      else outcome = out.result?.modifiedPayload != null ? 'modify' : 'allow';
      pluginEndChannel.publish({
        manager: this.engine.owner,
        invocationId: this.id,
        hook: this.hook,
        plugin: reg.name,
        phase,
        outcome,
        durationMs: performance.now() - start,
        ...(out.failure ? { code: out.failure.code } : {}),
      });
    }
    return out;
  }

  private mergeMetadata(r: PluginResult): void {
    const m = r.metadata;
    if (!m) return;
    for (const k of Object.keys(m)) if (k !== DECISION_KEY) this.metadata[k] = m[k];
  }

  /** Record a failure (in the result's errors, or `into` for background work); apply on_error disable. */
  private recordFailure(o: Outcome, phase: Phase, into: PluginErrorRecord[] = this.errors): void {
    const f = o.failure!;
    const reg = o.reg;
    into.push({
      pluginName: reg.name,
      code: f.code,
      message: f.message,
      phase,
      ...(f.errorCode ? { errorCode: f.errorCode } : {}),
    });
    if (reg.entry.onError === 'disable' && !reg.disabled) {
      reg.disabled = true;
      this.engine.onDisabled(reg, f.message);
    }
  }

  /** Apply on_error for a failure in a phase that may halt. */
  private fail(o: Outcome, phase: Phase): void {
    this.recordFailure(o, phase);
    if (o.reg.entry.onError !== 'fail') return;
    const f = o.failure!;
    const details: Record<string, unknown> = { error: f.message, ...(f.details ?? {}) };
    if (f.errorCode) details.error_code = f.errorCode;
    // On a halt retryDelayMs is the halting plugin's: a failed plugin returned none.
    this.retry = 0;
    this.halt({
      code: f.code,
      reason: f.code === 'plugin_timeout' ? `plugin ${o.reg.name} timed out` : `plugin ${o.reg.name} failed`,
      description: f.message,
      details,
      pluginName: o.reg.name,
    });
  }

  private halt(v: PluginViolation): void {
    this.halted = true;
    this.violation = v;
  }

  private denyViolation(reg: Registration, r: PluginResult): PluginViolation {
    const v = r.violation;
    if (!v) return { code: 'denied', reason: `blocked by plugin ${reg.name}`, pluginName: reg.name };
    return {
      ...v,
      reason: typeof v.reason === 'string' ? v.reason : String(v.reason ?? v.code),
      pluginName: reg.name,
    };
  }

  /** sequential / transform: chained; sequential may halt, transform's deny is ignored (its edits kept). */
  private applySerial(o: Outcome, phase: 'sequential' | 'transform' | Phase): void {
    if (o.failure) return this.fail(o, phase);
    try {
      this.applyResult(o, phase);
    } catch (e) {
      // Applying the plugin's edits read its returned objects: a hostile value is that plugin's error.
      this.fail(
        {
          reg: o.reg,
          ctx: o.ctx,
          failure: {
            code: 'plugin_error',
            message: `invalid result from plugin ${o.reg.name}: reading its edits threw: ${describeCause(e)}`,
            errorCode: 'CPEX_ERR_INVALID_RESULT',
          },
        },
        phase,
      );
    }
  }

  private applyResult(o: Outcome, phase: Phase): void {
    const r = o.result!;
    const reg = o.reg;
    this.mergeMetadata(r);
    o.ctx.mergeGlobal();
    if (r.continueProcessing === false && phase === 'sequential') {
      this.retry = r.retryDelayMs ?? 0;
      return this.halt(this.denyViolation(reg, r));
    }
    if (r.retryDelayMs !== undefined && r.retryDelayMs > this.retry) this.retry = r.retryDelayMs;
    if (r.modifiedExtensions !== undefined && r.modifiedExtensions !== null) {
      const view = this.ext === undefined ? undefined : extensionsView(this.ext, reg.caps);
      const merged = mergeExtensions(this.ext, view, unwrapViews(r.modifiedExtensions), reg.caps);
      if (!merged.ok) {
        this.fail(
          {
            reg,
            ctx: o.ctx,
            failure: {
              code: 'extension_violation',
              message: `plugin ${reg.name}: ${merged.message}`,
              errorCode: 'CPEX_ERR_EXTENSION_VIOLATION',
              ...(merged.details ? { details: merged.details } : {}),
            },
          },
          phase,
        );
        if (this.halted) return;
      } else {
        this.ext = merged.value;
        this.extModified = true;
      }
    }
    if (r.modifiedPayload !== undefined && r.modifiedPayload !== null) {
      const returned = unwrapViews(r.modifiedPayload);
      const policy = this.engine.policies.get(this.hook);
      const outcome = applyPolicy(
        policy,
        this.engine.settings.defaultHookPolicy === 'deny',
        this.payload,
        returned,
      );
      if (outcome.dropped.length) {
        this.engine.logger.warn(`plugin ${reg.name} changed non-writable fields of ${this.hook}; dropped`, {
          plugin: reg.name,
          hook: this.hook,
          fields: outcome.dropped,
        });
      }
      if (outcome.accepted) {
        this.payload = outcome.payload;
        this.modified = true;
        this.decisionPlugin = reg.name;
      }
    }
  }

  /** audit: read-only; deny suppressed, edits and global writes dropped, metadata kept, errors never halt. */
  private applyAudit(o: Outcome): void {
    if (o.failure) return this.recordFailure(o, 'audit');
    const r = o.result!;
    this.mergeMetadata(r);
    if (r.retryDelayMs !== undefined && r.retryDelayMs > this.retry) this.retry = r.retryDelayMs;
  }

  /** concurrent: parallel on one snapshot; first deny (or on_error fail) to complete wins and aborts the rest. */
  /** Returns true when the phase went async (it resumes the state machine when done). */
  private concurrent(regs: readonly Registration[]): boolean {
    const eligible = regs.filter((r) => this.eligible(r));
    if (eligible.length === 0) return false;
    const pool = this.engine.settings.executionPool;
    const shortCircuit = this.engine.settings.shortCircuitOnDeny;
    const snapshot = this.payload;
    let launching = true;
    let finishedSync = false;
    {
      let next = 0;
      let inflight = 0;
      let done = false;
      let firstDeny: { o: Outcome } | undefined;
      const contexts: CallContext[] = [];
      const finish = () => {
        if (done) return;
        done = true;
        if (firstDeny && !this.halted) {
          const r = firstDeny.o.result!;
          this.retry = r.retryDelayMs ?? 0;
          this.halt(this.denyViolation(firstDeny.o.reg, r));
        }
        if (launching) finishedSync = true;
        else this.drive();
      };
      const stopOthers = (reason: unknown) => {
        for (const c of contexts) c.abort(reason);
        if (this.pending) for (const p of [...this.pending]) p.abandon(reason);
      };
      const onOutcome = (o: Outcome) => {
        inflight--;
        if (done || o.abandoned || this.abortError) {
          if (this.abortError) finish();
          else if (!done && inflight === 0 && next >= eligible.length) finish();
          return;
        }
        if (o.failure) {
          this.fail(o, 'concurrent');
          if (this.halted) {
            stopOthers(new CpexError('CPEX_ERR_ABORTED', `sibling plugin ${o.reg.name} failed`));
            return finish();
          }
        } else {
          const r = o.result!;
          this.mergeMetadata(r);
          o.ctx.mergeGlobal();
          if (r.continueProcessing === false) {
            if (!firstDeny) firstDeny = { o };
            if (shortCircuit) {
              stopOthers(new CpexError('CPEX_ERR_ABORTED', `sibling plugin ${o.reg.name} denied`));
              return finish();
            }
          } else if (r.retryDelayMs !== undefined && r.retryDelayMs > this.retry) this.retry = r.retryDelayMs;
        }
        launch();
      };
      const launch = () => {
        while (!done && next < eligible.length && (pool === 0 || inflight < pool)) {
          const reg = eligible[next++]!;
          this.table.participate(reg, false);
          const ctx = new CallContext(this.table, reg, this.gc, this.hook, 'concurrent');
          contexts.push(ctx);
          inflight++;
          this.call(reg, 'concurrent', ctx, snapshot, onOutcome);
        }
        if (!done && inflight === 0 && next >= eligible.length) finish();
      };
      launch();
    }
    launching = false;
    return !finishedSync;
  }

  /** fire_and_forget: after the other phases (also after a halt), on the final payload, isolated, tracked. */
  private fireAndForget(regs: readonly Registration[]): BackgroundWork {
    const eligible = regs.filter((r) => this.eligible(r));
    if (eligible.length === 0) return EMPTY_BACKGROUND;
    // The final payload itself (no per-invoke copy, ARCHITECTURE s3): background plugins start after
    // the caller has its result, so a caller that edits its objects before background.wait() is
    // visible to them (documented in docs/executor.md).
    const payload = this.payload;
    const errors: PluginErrorRecord[] = [];
    const pool = this.engine.settings.executionPool;
    const ctxs = eligible.map((reg) => {
      this.table.participate(reg, true);
      return new CallContext(this.table, reg, this.gc, this.hook, 'fire_and_forget');
    });
    let remaining = eligible.length;
    const work = new Promise<PluginErrorRecord[]>((resolve) => {
      let next = 0;
      let inflight = 0;
      const onOutcome = (o: Outcome) => {
        inflight--;
        remaining--;
        if (o.failure) {
          this.recordFailure(o, 'fire_and_forget', errors);
          this.engine.logger.warn(`fire_and_forget plugin ${o.reg.name} failed: ${o.failure.message}`, {
            plugin: o.reg.name,
            hook: this.hook,
          });
        }
        if (remaining === 0) resolve(errors);
        else launch();
      };
      const launch = () => {
        while (next < eligible.length && (pool === 0 || inflight < pool)) {
          const i = next++;
          inflight++;
          this.call(eligible[i]!, 'fire_and_forget', ctxs[i]!, payload, onOutcome);
        }
      };
      // Start after the caller has its result: background work never delays the pipeline.
      setImmediate(launch);
    });
    const tracked = this.engine.background;
    tracked.add(work);
    work.finally(() => tracked.delete(work));
    return {
      wait: () => work.then((e) => [...e]),
      get pending() {
        return remaining;
      },
    };
  }

  private buildResult(background: BackgroundWork): PipelineResult<P> {
    if (this.hook === DECISION_HOOK && this.decisionPlugin !== undefined)
      this.metadata[DECISION_KEY] = this.decisionPlugin;
    return {
      continueProcessing: !this.halted,
      modifiedPayload: this.modified ? (this.payload as P) : null,
      payloadModified: this.modified,
      modifiedExtensions: this.extModified ? (this.ext ?? null) : null,
      violation: this.violation,
      errors: this.errors,
      metadata: this.metadata,
      retryDelayMs: this.retry,
      contextTable: this.table,
      background,
    };
  }
}

let anonymousRequests = 0;

/** The caller's GlobalContext (the merge target), completed with empty state/metadata if missing. */
function normalizeGlobalContext(gc: GlobalContext | undefined, id: number): GlobalContext {
  if (gc === undefined) return { requestId: `cpex-${id}-${++anonymousRequests}`, state: {}, metadata: {} };
  if (typeof gc !== 'object' || gc === null) {
    throw new CpexError('CPEX_ERR_INVALID_ARGUMENT', 'globalContext must be an object');
  }
  if (typeof gc.requestId !== 'string') {
    throw new CpexError(
      'CPEX_ERR_INVALID_ARGUMENT',
      `globalContext.requestId must be a string, got ${typeof gc.requestId}`,
    );
  }
  if (gc.state === undefined || gc.state === null) gc.state = {};
  if (gc.metadata === undefined || gc.metadata === null) gc.metadata = {};
  return gc;
}
