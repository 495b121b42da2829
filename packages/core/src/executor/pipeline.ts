/**
 * One invocation of one hook through the fixed 5-phase executor
 * (ARCHITECTURE.md sections 3–4: sequential → transform → audit → concurrent → fire_and_forget).
 *
 * Where the rules live:
 * - each phase's rule: executor/phases/<phase>.ts, behind the closed `PHASE_RUNNERS` table;
 * - reading a result, the one result rule, failure shaping: executor/results.ts;
 * - calling a plugin (sync, throw, thenable, deadline): executor/call.ts;
 * - this file: the invocation's state, the walk through the phase table, and the operations the
 *   runners share (apply a result whole, fail per on_error, halt, build the result).
 *
 * Hot-path rules: no work for phases without plugins, stay synchronous until a handler returns a
 * thenable, allocate only what a passthrough call needs (one context object per plugin call; the
 * context-table entry, global-context copy and AbortSignal are lazy), and enforce timeouts with
 * the manager's single watchdog timer instead of a timer per call.
 */
import { CallContext, type CallerGlobal, mergeGlobalContext, wroteGlobal } from '../context/call-context.js';
import { setOwn } from '../context/copy.js';
import { ContextTable } from '../context/context-table.js';
import { CpexError, describeCause, PluginViolationError } from '../errors/cpex-error.js';
import { type CompiledCapabilities, extensionsView } from '../extensions/gate.js';
import type { Extensions } from '../extensions/types.js';
import {
  hookEndChannel,
  hookStartChannel,
  pluginEndChannel,
  pluginStartChannel,
} from '../tracing/channels.js';
import type {
  BackgroundWork,
  GlobalContext,
  Handler,
  InvokeOptions,
  Logger,
  Phase,
  PipelineResult,
  PluginErrorRecord,
  PluginResult,
  PluginViolation,
  ResolvedSettings,
} from '../types.js';
import { type CallPool, type Outcome, type PluginCall, recycle } from './call.js';
import { matchesConditions } from './conditions.js';
import type { BackgroundRun, BackgroundTracker } from './phases/fire-and-forget.js';
import { readonlyView } from './readonly.js';
import type { Lineup, PhaseStep, Registration } from './registration.js';
import { type Failure, isBareAllow, isFailure, type PayloadAcceptor, planEdits } from './results.js';
import type { Watchdog } from './watchdog.js';

/** What the executor needs from its manager. */
export interface Engine {
  readonly owner: object;
  readonly settings: ResolvedSettings;
  readonly watchdog: Watchdog;
  readonly logger: Logger;
  /** hook -> writable fields (compiled from hook_policies). */
  readonly policies: ReadonlyMap<string, ReadonlySet<string>>;
  /** The shapes each hook accepts as a modified payload (the one result rule). */
  readonly accept: PayloadAcceptor;
  /** In-flight fire-and-forget work, drained by shutdown(). */
  readonly background: BackgroundTracker;
  /** Free PluginCalls of finished calls, for the next ones (call.ts recycle, at most MAX_POOLED_CALLS). */
  readonly calls: CallPool;
  nextInvocationId(): number;
  /**
   * An invocation started / finished (shutdown() waits for in-flight invocations). The token
   * returned here is handed back to invocationFinished (hot reload: the lineup generation).
   */
  invocationStarted(): unknown;
  invocationFinished(token: unknown): void;
  /** Called when a plugin trips on_error: disable. */
  onDisabled(reg: Registration, reason: string): void;
}

const DECISION_KEY = '_decision_plugin';
const DECISION_HOOK = 'http_auth_check_permission';

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

/** Who stops a phase's calls in flight when the caller aborts (the concurrent runner). */
export interface CallerAbortListener {
  abort(reason: unknown): void;
}

const SETTLED: Promise<void> = Promise.resolve();

/**
 * Background runs waiting for their start, in the order they were scheduled. Every run schedules
 * a chain of two reactions of its own and every chain has the same length, so the chains end in
 * scheduling order and each takes the run at the head: no closure per run. The queue is the slots
 * `waitingHead` to `waitingTail` of an array that keeps its capacity (setting `length = 0` or
 * popping would free its backing store, and the next run would allocate it again).
 */
const waitingRuns: Array<BackgroundRun | undefined> = [];
let waitingHead = 0;
let waitingTail = 0;

function secondHop(): void {
  SETTLED.then(startNextRun);
}

function startNextRun(): void {
  const bg = waitingRuns[waitingHead]!;
  waitingRuns[waitingHead++] = undefined;
  if (waitingHead === waitingTail) waitingHead = waitingTail = 0;
  bg.start();
}

/** Start `bg` two microtasks from now: behind the continuation of a caller awaiting a settled promise. */
function afterCaller(bg: BackgroundRun): void {
  // Two promise reactions, not queueMicrotask: the same microtask queue and order, but Node's
  // queueMicrotask wraps every callback in an AsyncResource and a bound function (~0.1 µs each).
  waitingRuns[waitingTail++] = bg;
  SETTLED.then(secondHop);
}

export class Invocation implements CallerGlobal {
  readonly engine: Engine;
  readonly hook: string;
  id = 0;
  tracing = false;
  readonly #lineup: Lineup;
  /** From engine.invocationStarted(), back to engine.invocationFinished(). */
  #startToken: unknown;
  readonly #original: unknown;
  /** The caller's GlobalContext; when the caller gave none, made on first use (callerGlobal()). */
  #gc: GlobalContext | undefined;
  #table!: ContextTable;
  readonly #options: InvokeOptions;
  #t0 = 0;
  /** Legacy conditions apply only when routing is off. */
  #useConditions = false;

  // --- what the phases build up (read by the runners, changed only through the methods below)
  payload: unknown;
  #modified = false;
  #ext: Extensions | undefined;
  #extModified = false;
  #metadata: Record<string, unknown> = {};
  #errors: PluginErrorRecord[] = [];
  retry = 0;
  #violation: PluginViolation | null = null;
  halted = false;
  executed = 0;
  #decisionPlugin: string | undefined;
  /** Cached read-only view of `payload` (recomputed when the payload changes). */
  #viewSource: unknown;
  #view: unknown;
  /** Cached capability-filtered extensions view: of which extensions, for which (interned) capability set. */
  #extViewOf: Extensions | undefined;
  #extViewCaps: CompiledCapabilities | undefined;
  #extView: Extensions | undefined;

  // --- walking the phase table
  /** Index into the lineup's plan (`steps`). */
  #phase = 0;
  /** Position of the serial runner in its phase's lineup. */
  cursor = 0;
  /** The serial call in flight. */
  current: PluginCall | undefined;
  /** The PluginCall the serial calls of this invocation reuse once it is free (call.ts). */
  spareCall: PluginCall | undefined;
  /**
   * Set by the concurrent runner while it has calls in flight. An object, never a closure: a
   * per-invocation closure stored here kept each invocation's graph alive until a full GC.
   */
  abortListener: CallerAbortListener | undefined;
  abortError: CpexError | undefined;
  background: BackgroundWork = EMPTY_BACKGROUND;
  /** Set by the fire_and_forget runner: started once the caller has its result. */
  startAfterResult: BackgroundRun | undefined;

  // --- settling
  #inRun = true;
  #finished = false;
  #sync: { value?: PipelineResult<unknown>; error?: unknown } | undefined;
  #resolve: ((r: PipelineResult<unknown>) => void) | undefined;
  #reject: ((e: unknown) => void) | undefined;
  #stopAbortListener: (() => void) | undefined;

  constructor(engine: Engine, lineup: Lineup, hook: string, payload: unknown, options: InvokeOptions) {
    this.engine = engine;
    this.#lineup = lineup;
    this.hook = hook;
    this.#original = payload;
    this.payload = payload;
    this.#options = options;
    this.#ext = options.extensions;
  }

  /**
   * The rest of the set-up, done by run(): the constructor only stores its arguments, so it stays
   * small enough for the optimizer to inline `new Invocation(...)` into invoke().
   */
  #setUp(): void {
    const engine = this.engine;
    const options = this.#options;
    const hook = this.hook;
    this.id = engine.nextInvocationId();
    const gc = options.globalContext;
    this.#gc = gc === undefined ? undefined : normalizeGlobalContext(gc);
    const prev = options.contextTable;
    if (prev != null && !(prev instanceof ContextTable)) {
      throw new CpexError(
        'CPEX_ERR_INVALID_ARGUMENT',
        `invoke(${hook}): options.contextTable must be the contextTable a previous invoke() returned (got ${Array.isArray(prev) ? 'an array' : typeof prev})`,
        { hook },
      );
    }
    this.#table = new ContextTable(this.#gc?.requestId, options.contextTable, this.id);
    this.tracing =
      hookStartChannel.hasSubscribers ||
      pluginStartChannel.hasSubscribers ||
      hookEndChannel.hasSubscribers ||
      pluginEndChannel.hasSubscribers;
    this.#t0 = this.tracing ? performance.now() : 0;
    this.#useConditions = !engine.settings.routingEnabled;
  }

  /**
   * Run the pipeline: phases in their fixed order from the closed runner table; handlers that
   * return plain values are applied synchronously, and the invocation resolves through one promise.
   */
  run(): Promise<PipelineResult<unknown>> {
    this.#setUp();
    const signal = this.#options.signal;
    if (signal) this.#watchCaller(signal);
    if (this.tracing && hookStartChannel.hasSubscribers) {
      hookStartChannel.publish({
        manager: this.engine.owner,
        invocationId: this.id,
        hook: this.hook,
        requestId: this.#table.requestId,
        plugins: this.#lineup.ordered.length,
      });
    }
    this.#startToken = this.engine.invocationStarted();
    this.#drive();
    this.#inRun = false;
    const sr = this.#sync;
    if (sr) {
      const p = sr.error !== undefined ? Promise.reject(sr.error) : Promise.resolve(sr.value!);
      this.#startBackground();
      return p;
    }
    // An executor that stores into this (young) invocation: the optimizer inlines it into the
    // Promise constructor, and no store of a young function into an old object (module state) needs
    // the write barrier's slow path.
    return new Promise<PipelineResult<unknown>>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  /** A serial runner's async call settled: continue the same phase where it left off. */
  resume(): void {
    this.#drive();
  }

  /** A runner that went async (concurrent) is done: continue with the next phase. */
  phaseDone(): void {
    this.#phase++;
    this.#drive();
  }

  /** Walk the phase table until a runner goes async or the pipeline is done. */
  #drive(): void {
    try {
      // The lineup's plan lists only the phases that have plugins.
      const steps = this.#lineup.steps;
      while (this.#phase < steps.length) {
        if (this.abortError !== undefined) break;
        const step = steps[this.#phase]!;
        const runner = step.runner;
        if ((!this.halted || runner.afterHalt) && runner.run(this, step)) return;
        this.#phase++;
      }
      this.#complete();
    } catch (e) {
      // An executor bug must still settle the invocation, with a coded error.
      this.#finish(
        undefined,
        e instanceof CpexError
          ? e
          : new CpexError(
              'CPEX_ERR_PLUGIN_EXCEPTION',
              `executor error on ${this.hook}: ${describeCause(e)}`,
              {
                hook: this.hook,
                cause: e,
              },
            ),
      );
    }
  }

  #complete(): void {
    if (this.abortError) return this.#finish(undefined, this.abortError);
    const result = this.#buildResult();
    if (this.halted && this.#options.violationsAsExceptions) {
      return this.#finish(undefined, new PluginViolationError(this.hook, result.violation!, result));
    }
    this.#finish(result, undefined);
  }

  #finish(value: PipelineResult<unknown> | undefined, error: unknown): void {
    if (this.#finished) return;
    this.#finished = true;
    const spare = this.spareCall;
    if (spare !== undefined) {
      this.spareCall = undefined;
      recycle(spare);
    }
    this.#stopAbortListener?.();
    this.engine.invocationFinished(this.#startToken);
    // Every hook:start gets its hook:end: success, halt, violationsAsExceptions, abort or error.
    if (this.tracing && hookEndChannel.hasSubscribers) {
      hookEndChannel.publish({
        manager: this.engine.owner,
        invocationId: this.id,
        hook: this.hook,
        requestId: this.#table.requestId,
        plugins: this.#lineup.ordered.length,
        continueProcessing: value !== undefined ? value.continueProcessing : false,
        stoppedBy: this.#violation?.pluginName ?? null,
        executed: this.executed,
        durationMs: performance.now() - this.#t0,
      });
    }
    if (this.#inRun) {
      this.#sync = error !== undefined ? { error } : { value: value! };
      return;
    }
    if (error !== undefined) this.#reject!(error);
    else this.#resolve!(value!);
    this.#startBackground();
  }

  #startBackground(): void {
    const start = this.startAfterResult;
    if (start === undefined) return;
    this.startAfterResult = undefined;
    afterCaller(start);
  }

  // ------------------------------------------------------------------ what runners share

  /** True when `reg` runs in this invocation (not disabled or closing; its conditions match). */
  eligible(reg: Registration): boolean {
    return (
      !reg.disabled &&
      reg.closing !== true &&
      (reg.conditions.length === 0 ||
        !this.#useConditions ||
        matchesConditions(reg.conditions, this.hook, this.#original, this.callerGlobal()))
    );
  }

  /**
   * The plugins of a parallel phase's step that run in this invocation, with their handlers: the
   * step itself when all are eligible (the common case: nothing is allocated).
   */
  eligibleOf(step: PhaseStep): Pick<PhaseStep, 'regs' | 'handlers'> {
    const regs = step.regs;
    let i = 0;
    while (i < regs.length && this.eligible(regs[i]!)) i++;
    if (i === regs.length) return step;
    const eligible = regs.slice(0, i);
    const handlers = step.handlers.slice(0, i);
    for (i++; i < regs.length; i++) {
      if (!this.eligible(regs[i]!)) continue;
      eligible.push(regs[i]!);
      handlers.push(step.handlers[i]!);
    }
    return { regs: eligible, handlers };
  }

  /**
   * The context of one call of `reg` (it joins the context table; `fresh`: fire_and_forget).
   * `caller`: where its global context comes from and merges to (the concurrent phase's run).
   */
  contextFor(reg: Registration, phase: Phase, fresh: boolean, caller: CallerGlobal = this): CallContext {
    this.#table.participate(reg, fresh);
    return new CallContext(this.#table, reg, caller, this.hook, phase);
  }

  /** The caller's GlobalContext (the merge target); made, with the table's request id, when the caller gave none. */
  callerGlobal(): GlobalContext {
    return (this.#gc ??= { requestId: this.#table.requestId, state: {}, metadata: {} });
  }

  /** The invocation's GlobalContext if it has one yet (the caller's, or one made when a plugin looked). */
  currentGlobal(): GlobalContext | undefined {
    return this.#gc;
  }

  /** Serial phases copy the caller's GlobalContext as it is when the plugin looks. */
  globalSource(): GlobalContext {
    return this.callerGlobal();
  }

  /** The payload as `reg` sees it: a cached read-only view for protected (in-process) plugins. */
  viewFor(reg: Registration, payload: unknown): unknown {
    if (!reg.protect) return payload;
    if (payload !== this.#viewSource) {
      this.#viewSource = payload;
      this.#view = readonlyView(payload);
    }
    return this.#view;
  }

  /** The capability-filtered extensions `reg` sees (the last view is reused by plugins with the same capabilities). */
  extensionsFor(reg: Registration): Extensions | undefined {
    const ext = this.#ext;
    if (ext === undefined) return undefined;
    const caps = reg.caps;
    if (ext === this.#extViewOf && caps === this.#extViewCaps) return this.#extView;
    const view = extensionsView(ext, caps);
    this.#extViewOf = ext;
    this.#extViewCaps = caps;
    this.#extView = view;
    return view;
  }

  mergeMetadata(r: PluginResult): void {
    const m = r.metadata;
    if (!m) return;
    for (const k of Object.keys(m)) if (k !== DECISION_KEY) setOwn(this.#metadata, k, m[k]);
  }

  /**
   * Keep what a result carries besides its edits — its global-context writes, then its metadata
   * (the merge reads everything before writing, so a hostile write refuses both). False when the
   * merge was refused (then recorded as the plugin's failure, handled by its on_error).
   */
  keepSideEffects(o: Outcome, phase: Phase): boolean {
    try {
      mergeGlobalContext(o.ctx);
    } catch (e) {
      this.fail(
        {
          reg: o.reg,
          ctx: o.ctx,
          failure: {
            code: 'plugin_error',
            message: `plugin ${o.reg.name}: its global-context writes could not be read: ${describeCause(e)}`,
            errorCode: 'CPEX_ERR_INVALID_RESULT',
          },
        },
        phase,
      );
      return false;
    }
    this.mergeMetadata(o.result!);
    return true;
  }

  /**
   * Apply an allowing result of a chained phase WHOLE OR NOT AT ALL: its edits are judged first
   * (results.ts planEdits: extensions, policy, the hook's accepted shapes); a refused part refuses
   * the result — no payload, extension, metadata or global-context write of it is kept — and is
   * that plugin's failure under its on_error.
   */
  applyWhole(o: Outcome, phase: Phase): void {
    const r = o.result!;
    // A bare allow (the common passthrough): only global-context writes, if the plugin made any.
    if (isBareAllow(r)) {
      if (wroteGlobal(o.ctx)) this.keepSideEffects(o, phase);
      return;
    }
    if (r.modifiedPayload === undefined && r.modifiedExtensions === undefined) {
      // No edits to judge (a passthrough): only its side effects and retry hint.
      if (!this.keepSideEffects(o, phase)) return;
      if (r.retryDelayMs !== undefined && r.retryDelayMs > this.retry) this.retry = r.retryDelayMs;
      return;
    }
    this.#applyEdits(o, r, phase);
  }

  /** applyWhole for a result with edits (out of line: the passthrough paths stay small enough to inline). */
  #applyEdits(o: Outcome, r: PluginResult, phase: Phase): void {
    const reg = o.reg;
    const edits = planEdits(reg, r, {
      hook: this.hook,
      payload: this.payload,
      extensions: this.#ext,
      policy: this.engine.policies.get(this.hook),
      defaultDeny: this.engine.settings.defaultHookPolicy === 'deny',
      accept: this.engine.accept,
    });
    if (isFailure(edits)) return this.fail({ reg, ctx: o.ctx, failure: edits }, phase);
    if (!this.keepSideEffects(o, phase)) return;
    if (r.retryDelayMs !== undefined && r.retryDelayMs > this.retry) this.retry = r.retryDelayMs;
    if (edits.extensionsChanged) {
      this.#ext = edits.extensions;
      this.#extModified = true;
    }
    if (edits.dropped) {
      this.engine.logger.warn(`plugin ${reg.name} changed non-writable fields of ${this.hook}; dropped`, {
        plugin: reg.name,
        hook: this.hook,
        fields: edits.dropped,
      });
    }
    if ('payload' in edits) {
      this.payload = edits.payload;
      this.#modified = true;
      this.#decisionPlugin = reg.name;
    }
  }

  /** Record a failure (in the result's errors, or `into` for background work); apply on_error disable. */
  recordFailure(o: Outcome, phase: Phase, into: PluginErrorRecord[] = this.#errors): void {
    const f = o.failure!;
    const reg = o.reg;
    into.push({
      pluginName: reg.name,
      code: f.code,
      message: f.message,
      phase,
      ...(f.errorCode ? { errorCode: f.errorCode } : {}),
      ...(f.location ? { location: f.location } : {}),
    });
    if (reg.entry.onError === 'disable' && !reg.disabled) {
      reg.disabled = true;
      this.engine.onDisabled(reg, f.message);
    }
  }

  /** Apply on_error for a failure in a phase that may halt (`fail` halts). */
  fail(o: Outcome, phase: Phase): void {
    this.recordFailure(o, phase);
    if (o.reg.entry.onError !== 'fail') return;
    const f: Failure = o.failure!;
    const details: Record<string, unknown> = { error: f.message, ...(f.details ?? {}) };
    if (f.errorCode) details.error_code = f.errorCode;
    if (f.location) details.location = f.location;
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

  halt(v: PluginViolation): void {
    this.halted = true;
    this.#violation = v;
  }

  /** The violation of a deny (synthesized when the plugin gave none: fail closed). */
  denyViolation(reg: Registration, r: PluginResult): PluginViolation {
    const v = r.violation;
    if (!v) return { code: 'denied', reason: `blocked by plugin ${reg.name}`, pluginName: reg.name };
    return { ...v, pluginName: reg.name };
  }

  #watchCaller(signal: AbortSignal): void {
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
      this.current?.abandon(this.abortError);
      this.abortListener?.abort(this.abortError);
    };
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    this.#stopAbortListener = () => signal.removeEventListener('abort', onAbort);
  }

  #buildResult(): PipelineResult<unknown> {
    if (this.hook === DECISION_HOOK && this.#decisionPlugin !== undefined)
      this.#metadata[DECISION_KEY] = this.#decisionPlugin;
    return {
      continueProcessing: !this.halted,
      modifiedPayload: this.#modified ? this.payload : null,
      payloadModified: this.#modified,
      modifiedExtensions: this.#extModified ? (this.#ext ?? null) : null,
      violation: this.#violation,
      errors: this.#errors,
      metadata: this.#metadata,
      retryDelayMs: this.retry,
      contextTable: this.#table,
      background: this.background,
    };
  }
}

/** The caller's GlobalContext (the merge target), completed with empty state/metadata if missing. */
function normalizeGlobalContext(gc: GlobalContext): GlobalContext {
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
