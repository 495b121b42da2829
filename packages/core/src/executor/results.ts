/**
 * Reading what a plugin call produced, and shaping failures — for every host alike.
 *
 * THE ONE RESULT RULE lives here (`readResult` + `planEdits`): whatever host ran the plugin
 * (in-process, Python, WASM, native, the sidecar), its PluginResult is read once into a plain
 * snapshot, its violation normalized, and its edits (payload, extensions) judged as a whole:
 * - the modified payload must have a shape the hook accepts (`acceptPayload`: for a built-in hook,
 *   its request payload or its result model, exactly as Python cpex accepts either; for a custom
 *   hook with schemas, either schema; otherwise any value), checked once per distinct object;
 * - the extension edit must be allowed by the plugin's tier and capabilities;
 * - hook payload policies decide which fields of the payload edit count.
 * A result is applied whole or not at all: `planEdits` computes everything before anything is
 * applied, so a refused part refuses the result (point 2 of the engine issue).
 * A passthrough result (no payload, no extensions) never reaches the payload or extension checks.
 *
 * Any thrown or returned value, however hostile (revoked Proxy, throwing traps, throwing
 * toString/Symbol.toPrimitive), becomes a coded failure here; nothing here throws.
 */
import { CpexError, describeCause, errorLocation } from '../errors/cpex-error.js';
import type { CpexErrorCode } from '../errors/catalogue.js';
import { extensionsView, mergeExtensions } from '../extensions/gate.js';
import type { Extensions } from '../extensions/types.js';
import type { HookRegistryReader, PluginResult, PluginViolation } from '../types.js';
import { applyPolicy } from './policies.js';
import { adoptReturned, unwrapViews } from './readonly.js';
import type { Registration } from './registration.js';

/** Why a plugin call did not produce a usable result. */
export interface Failure {
  /** The record's code: plugin_error, plugin_timeout, extension_violation, payload_mutation, ... */
  code: string;
  message: string;
  errorCode?: string;
  details?: Record<string, unknown>;
  /** Where the thrown error (or a coded error's cause) was raised: first stack frame, `path:line:column`. */
  location?: string;
}

/** A call that timed out (the executor's deadline, or the host's liveness backstop). */
export const TIMEOUT: unique symbol = Symbol('cpex.timeout');
export const BACKSTOP: unique symbol = Symbol('cpex.backstop');

const LOWER: Partial<Record<CpexErrorCode, string>> = {
  CPEX_ERR_PLUGIN_TIMEOUT: 'plugin_timeout',
  CPEX_ERR_PAYLOAD_MUTATION: 'payload_mutation',
  CPEX_ERR_EXTENSION_VIOLATION: 'extension_violation',
};

/** An invalid-result failure of `reg`. */
export function invalidResult(reg: Registration, why: string): Failure {
  return {
    code: 'plugin_error',
    message: `invalid result from plugin ${reg.name}: ${why}`,
    errorCode: 'CPEX_ERR_INVALID_RESULT',
  };
}

/** `instanceof` that never throws (a Proxy's getPrototypeOf trap may). */
function isInstance<T>(e: unknown, C: abstract new (...a: never[]) => T): e is T {
  try {
    return e instanceof C;
  } catch {
    return false;
  }
}

/** Shape any thrown/rejected value of `reg`'s call into a Failure. Never throws. */
export function failureOf(e: unknown, reg: Registration): Failure {
  if (e === TIMEOUT) {
    return {
      code: 'plugin_timeout',
      message: `plugin ${reg.name} exceeded its ${reg.timeoutMs / 1000}s timeout`,
      errorCode: 'CPEX_ERR_PLUGIN_TIMEOUT',
    };
  }
  if (e === BACKSTOP) {
    return {
      code: 'plugin_timeout',
      message: `plugin ${reg.name} exceeded its ${reg.timeoutMs / 1000}s timeout: its host (pre-emptive timeouts) did not answer, so the executor's liveness backstop of ${reg.deadlineMs / 1000}s ended the call`,
      errorCode: 'CPEX_ERR_PLUGIN_TIMEOUT',
      details: { note: 'liveness backstop: the host did not enforce its own timeout' },
    };
  }
  if (isInstance(e, CpexError)) {
    try {
      const f: Failure = { code: LOWER[e.code] ?? 'plugin_error', message: e.message, errorCode: e.code };
      if (e.details) f.details = e.details;
      const at = e.cause === undefined ? undefined : errorLocation(e.cause);
      if (at) f.location = at;
      return f;
    } catch {
      // a subclass with hostile getters: described below like any value
    }
  }
  const f: Failure = {
    code: 'plugin_error',
    message: describeCause(e),
    errorCode: 'CPEX_ERR_PLUGIN_EXCEPTION',
  };
  const at = errorLocation(e);
  if (at) f.location = at;
  if (isInstance(e, Error)) {
    try {
      const name = e.name;
      if (typeof name === 'string' && name && name !== 'Error') f.details = { error_type: name };
      if (name === 'DataCloneError') {
        f.message +=
          ' (payload views are read-only proxies, which structuredClone cannot copy: use toMutable(payload) from @cpex/sdk, or spread the fields you change)';
      }
    } catch {}
  }
  return f;
}

/** A string for a value a plugin put where a string belongs (never throws). */
function text(v: unknown, fallback: string): string {
  if (typeof v === 'string') return v;
  if (v === undefined || v === null) return fallback;
  return describeCause(v);
}

/** The snapshots of results that carry nothing but a decision (shared, frozen: read-only to every reader). */
export const EMPTY_RESULT: PluginResult = Object.freeze({});
export const ALLOW_RESULT: PluginResult = Object.freeze({ continueProcessing: true });
const DENY_RESULT: PluginResult = Object.freeze({ continueProcessing: false });

/**
 * True for the shared snapshot of a bare decision with no continueProcessing: false (readResult's
 * EMPTY_RESULT / ALLOW_RESULT): no edits, metadata or retry hint to apply.
 */
export function isBareAllow(r: PluginResult): boolean {
  return r === ALLOW_RESULT || r === EMPTY_RESULT;
}

/**
 * Read a handler's return value exactly once, into a plain snapshot, and validate its fields.
 * Returns the snapshot or why it is invalid. Hostile values (throwing getters, proxies) give a
 * reason instead of escaping.
 */
export function readResult(r: unknown): PluginResult | string {
  if (typeof r !== 'object' || r === null)
    return `expected a PluginResult object (or nothing), got ${typeof r}`;
  try {
    if (Array.isArray(r)) return 'expected a PluginResult object (or nothing), got an array';
    const x = r as Record<string, unknown>;
    const cp = x.continueProcessing;
    if (cp !== undefined && typeof cp !== 'boolean')
      return `continueProcessing must be a boolean, got ${typeof cp}`;
    if (cp === undefined && ('continue_processing' in x || 'modified_payload' in x)) {
      return 'snake_case result fields (continue_processing, modified_payload) are not read in TypeScript: use continueProcessing / modifiedPayload';
    }
    const v = x.violation;
    const md = x.metadata;
    const rd = x.retryDelayMs;
    const me = x.modifiedExtensions;
    const mp = x.modifiedPayload;
    // A bare decision (the common passthrough) needs no snapshot of its own.
    if (v == null && md == null && rd === undefined && me == null && mp == null)
      return cp === undefined ? EMPTY_RESULT : cp ? ALLOW_RESULT : DENY_RESULT;
    return snapshotOf(cp as boolean | undefined, v, md, rd, me, mp);
  } catch (e) {
    return `reading the result threw: ${describeCause(e)}`;
  }
}

/**
 * The snapshot of a result that carries more than a decision, from the fields readResult read
 * once (out of line: the bare decision stays small enough to inline). May throw on hostile
 * values; readResult turns that into a reason.
 */
function snapshotOf(
  cp: boolean | undefined,
  v: unknown,
  md: unknown,
  rd: unknown,
  me: unknown,
  mp: unknown,
): PluginResult | string {
  let violation: PluginViolation | undefined;
  if (v !== undefined && v !== null) {
    if (typeof v !== 'object') return 'violation must be an object with a string code';
    const vv = { ...(v as PluginViolation) };
    if (typeof vv.code !== 'string') return 'violation must be an object with a string code';
    vv.reason = text(vv.reason, vv.code);
    if (vv.description !== undefined) vv.description = text(vv.description, '');
    if (vv.details !== undefined && (typeof vv.details !== 'object' || vv.details === null))
      return 'violation.details must be an object';
    // A copy of what the plugin built: its later edits do not reach the caller's violation.
    if (vv.details !== undefined) vv.details = adoptReturned(vv.details);
    violation = vv;
  }
  if (md !== undefined && md !== null && (typeof md !== 'object' || Array.isArray(md)))
    return 'metadata must be an object';
  // Finite and bounded: Infinity or 1e300 would reach a gateway's setTimeout, which overflows to 1 ms.
  if (rd !== undefined && !(typeof rd === 'number' && rd >= 0 && rd <= Number.MAX_SAFE_INTEGER))
    return 'retryDelayMs must be a finite number of milliseconds, 0 to 2^53-1';
  if (me !== undefined && me !== null && typeof me !== 'object')
    return 'modifiedExtensions must be an object';
  const out: PluginResult = {};
  if (cp !== undefined) out.continueProcessing = cp;
  if (mp !== undefined && mp !== null) out.modifiedPayload = mp;
  if (me != null) out.modifiedExtensions = me as Extensions;
  if (violation) out.violation = violation;
  // A copy of what the plugin built (views swapped back): its later edits do not reach the result.
  if (md != null) out.metadata = adoptReturned(md as Record<string, unknown>);
  if (rd !== undefined) out.retryDelayMs = rd as number;
  return out;
}

/** The `then` of a thenable, read once: the function, undefined (not a thenable), or what reading it threw. */
export function thenOf(v: unknown): PromiseLike<unknown>['then'] | undefined | { error: unknown } {
  if (v === null || (typeof v !== 'object' && typeof v !== 'function')) return undefined;
  try {
    const t = (v as { then?: unknown }).then;
    return typeof t === 'function' ? (t as PromiseLike<unknown>['then']) : undefined;
  } catch (error) {
    return { error };
  }
}

/** What an accepted result changes, computed before anything is applied. */
export interface Edits {
  /** The new payload (set when a payload edit was accepted). */
  payload?: unknown;
  /** The new extensions (set when an extension edit was accepted). */
  extensions?: Extensions | undefined;
  extensionsChanged: boolean;
  /** Non-writable fields the policy dropped (warned about, not a failure). */
  dropped?: string[];
}

/** What `planEdits` needs about the invocation. */
export interface EditContext {
  readonly hook: string;
  readonly payload: unknown;
  readonly extensions: Extensions | undefined;
  readonly policy: ReadonlySet<string> | undefined;
  readonly defaultDeny: boolean;
  readonly accept: PayloadAcceptor;
}

/**
 * Judge a result's edits as a whole: the extension edit against tier and capabilities, the
 * payload edit against the hook policy and the shapes the hook accepts. Returns the edits, or the
 * failure that refuses the whole result. Never throws.
 */
export function planEdits(reg: Registration, r: PluginResult, c: EditContext): Edits | Failure {
  const edits: Edits = { extensionsChanged: false };
  try {
    if (r.modifiedExtensions !== undefined) {
      const view = c.extensions === undefined ? undefined : extensionsView(c.extensions, reg.caps);
      const merged = mergeExtensions(c.extensions, view, unwrapViews(r.modifiedExtensions), reg.caps);
      if (!merged.ok) {
        return {
          code: 'extension_violation',
          message: `plugin ${reg.name}: ${merged.message}`,
          errorCode: 'CPEX_ERR_EXTENSION_VIOLATION',
          ...(merged.details ? { details: merged.details } : {}),
        };
      }
      edits.extensions = merged.value;
      edits.extensionsChanged = true;
    }
    if (r.modifiedPayload !== undefined) {
      // A protected (in-process) plugin gets a copy taken of what it built: editing its own
      // objects after the return changes nothing (out-of-process hosts return fresh objects).
      const returned = reg.protect ? adoptReturned(r.modifiedPayload) : unwrapViews(r.modifiedPayload);
      const outcome = applyPolicy(c.policy, c.defaultDeny, c.payload, returned);
      if (outcome.dropped.length) edits.dropped = outcome.dropped;
      if (outcome.accepted) {
        const bad = c.accept.check(c.hook, outcome.payload, c.payload);
        if (bad !== undefined) return invalidResult(reg, bad);
        edits.payload = outcome.payload;
      }
    }
    return edits;
  } catch (e) {
    return invalidResult(reg, `reading its edits threw: ${describeCause(e)}`);
  }
}

export function isFailure(x: Edits | Failure): x is Failure {
  return (x as Failure).code !== undefined;
}

/**
 * The shapes a hook accepts as a modified payload: for a built-in hook its request payload or its
 * result model (Python cpex accepts either: a plugin may return a changed request, or the hook's
 * result object — e.g. `HttpAuthCheckPermissionResultPayload` — which drives `_decision_plugin`);
 * for a custom hook defined with schemas, either schema; for any other hook, any value. Every
 * returned value is checked, also one the plugin returned before: a plugin owns the objects it
 * returns and may have changed them since (an identity cache here accepted a payload mutated into
 * an invalid shape).
 */
export class PayloadAcceptor {
  readonly #hooks: HookRegistryReader;

  constructor(hooks: HookRegistryReader) {
    this.#hooks = hooks;
  }

  /**
   * undefined when `value` is acceptable for `hook`, else why not. A plugin may not turn a payload
   * of the hook's shape into one that is not: when the payload it was given (`input`) does not
   * have the hook's request shape either (an ad-hoc payload on a built-in hook, which in-process
   * callers may pass), there is no shape to keep and any value is accepted.
   */
  check(hook: string, value: unknown, input: unknown): string | undefined {
    const def = this.#hooks.get(hook);
    if (def === undefined) return undefined;
    const a = def.payloadSchema;
    const b = def.resultSchema;
    if (a === undefined && b === undefined) return undefined;
    const ra = a?.safeParse(value);
    if (ra?.success) return undefined;
    const rb = b === a ? undefined : b?.safeParse(value);
    if (rb?.success) return undefined;
    // Only on the refusal path: was there a shape to keep?
    if (a !== undefined && !a.safeParse(input).success) return undefined;
    const issue = (rb ?? ra)?.error?.issues[0];
    const where = issue && issue.path.length ? ` at ${issue.path.map(String).join('.')}` : '';
    const shapes =
      b !== undefined && b !== a ? 'neither its request payload nor its result model' : 'not its payload';
    return `modified payload for hook ${hook} is ${shapes}${where}: ${issue?.message ?? 'does not match'}`;
  }
}
