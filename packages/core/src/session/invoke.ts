/**
 * One invoke with a session: load the session's labels into `security.labels` before any plugin
 * runs (one store round trip), run the pipeline, and append the labels the plugins added (one
 * more round trip, only when labels grew). Any store failure halts the invoke with the violation
 * `session_store_error` — fail closed, as Rust cpex: an outage never reads as "no labels", and
 * taint that could not be recorded never lets the request through.
 */
import { PluginViolationError } from '../errors/cpex-error.js';
import { emptyResult } from '../executor/pipeline.js';
import { MonotonicSet, toLabelSet } from '../extensions/monotonic-set.js';
import { deepFreeze } from '../extensions/equality.js';
import { summarizeZodError } from '../errors/issue-path.js';
import { StoredLabelsSchema } from '../extensions/schemas.js';
import type { Extensions } from '../extensions/types.js';
import type { InvokeOptions, Logger, PipelineResult, PluginViolation } from '../types.js';
import { type ResolvedSession, rememberSession } from './resolve.js';
import { DEFAULT_SESSION_MAX_LABELS, type SessionStore, SessionStoreError } from './store.js';

/** `pluginName` of the `errors[]` records the session store adds (never a plugin). */
export const SESSION_STORE_RECORD = 'session_store';

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function storeViolation(hook: string, err: SessionStoreError, session: ResolvedSession): PluginViolation {
  return {
    code: 'session_store_error',
    reason:
      err.operation === 'load'
        ? `${hook} blocked: the session's security labels could not be loaded (fail closed)`
        : `${hook} blocked: the labels this request added could not be saved to its session (fail closed)`,
    description: err.message,
    details: { operation: err.operation, session_source: session.source, error_code: err.code },
  };
}

function asStoreError(operation: 'load' | 'append', e: unknown): SessionStoreError {
  return e instanceof SessionStoreError ? e : new SessionStoreError(operation, describe(e), e);
}

function labelsError(operation: 'load' | 'append', message: string): SessionStoreError {
  return new SessionStoreError(operation, message, undefined, 'CPEX_ERR_SESSION_LABELS');
}

/**
 * A store is a boundary: what it answers (or what is about to be written to it) is checked with
 * core's stored-label schema and the store's cap before it becomes security labels. `count` is
 * the session's size to hold against the cap; `known` skips the schema for a list already checked.
 */
function checkLabels(
  operation: 'load' | 'append',
  labels: unknown,
  count: number,
  max: number,
  known = false,
): void {
  if (!Array.isArray(labels)) {
    throw new SessionStoreError(operation, 'the store returned something other than a list of labels');
  }
  if (count > max) {
    throw labelsError(
      operation,
      operation === 'load'
        ? `the session holds ${count} labels, over the store's cap of ${max}`
        : `the session would hold ${count} labels, over the store's cap of ${max} (nothing was written)`,
    );
  }
  if (labels.length === 0 || known) return;
  const parsed = StoredLabelsSchema.safeParse(labels);
  if (!parsed.success) {
    const { message } = summarizeZodError(parsed.error, 'labels');
    throw labelsError(operation, `invalid session label: ${message}`);
  }
}

/**
 * The hydrated extensions last built for a caller's extensions object, with the stored labels
 * they were built from. A caller that reuses its extensions object (ingress caches by identity
 * too) gets the same hydrated, already frozen and viewed object while its session is unchanged,
 * instead of a new object, a new label set and a new freeze on every invoke. The caller's object
 * is frozen when it is remembered (as it would be when a plugin first sees it without a session),
 * so what was hydrated from it cannot go stale.
 */
const hydratedFor = new WeakMap<Extensions, Hydrated>();

interface Hydrated {
  /** The stored labels this was built from. */
  readonly stored: readonly string[];
  /** The extensions the pipeline starts from. */
  readonly start: Extensions;
  /** Their `security.labels`. */
  readonly labels: MonotonicSet;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** `ext` with the session's stored labels added to `security.labels` (`ext` itself when none are new). */
function hydrate(
  ext: Extensions,
  stored: readonly string[],
  max: number,
  session: ResolvedSession,
): Hydrated {
  const hit = hydratedFor.get(ext);
  const known = hit !== undefined && (hit.stored === stored || sameList(hit.stored, stored));
  checkLabels('load', stored, stored.length, max, known);
  if (known) return hit;
  const given = toLabelSet(ext.security?.labels) ?? MonotonicSet.EMPTY;
  const labels = given.union(stored);
  const start = labels === given ? ext : { ...ext, security: { ...ext.security, labels } };
  // A frozen list (a store's remembered answer) is kept as is; anything else is copied.
  const entry: Hydrated = { stored: Object.isFrozen(stored) ? stored : [...stored], start, labels };
  hydratedFor.set(deepFreeze(ext), entry);
  // Frozen now: the next invoke with this object resolves its session with one lookup.
  rememberSession(ext, session);
  return entry;
}

/**
 * Run `run` (the pipeline) for a request that belongs to `session`.
 * `run` receives the options with the hydrated extensions and `violationsAsExceptions` off (the
 * append must happen before a halt is thrown).
 */
export async function invokeWithSession<P>(
  store: SessionStore,
  session: ResolvedSession,
  hook: string,
  options: InvokeOptions,
  run: (options: InvokeOptions) => Promise<PipelineResult<P>>,
  logger: Logger,
): Promise<PipelineResult<P>> {
  const ext = options.extensions as Extensions;
  const max = store.maxLabels ?? DEFAULT_SESSION_MAX_LABELS;
  let stored: readonly string[];
  let start: Extensions;
  let hydrated: MonotonicSet;
  try {
    stored = await store.load(session.id);
    if (!Array.isArray(stored)) checkLabels('load', stored, 0, max);
    if (stored.length === 0) {
      start = ext;
      hydrated = toLabelSet(ext.security?.labels) ?? MonotonicSet.EMPTY;
    } else {
      const h = hydrate(ext, stored, max, session);
      start = h.start;
      hydrated = h.labels;
    }
  } catch (e) {
    const err = asStoreError('load', e);
    logger.error(`session store load failed, ${hook} halted: ${err.message}`, {
      hook,
      session_source: session.source,
      code: err.code,
    });
    const result = emptyResult<P>();
    result.continueProcessing = false;
    result.violation = storeViolation(hook, err, session);
    return finish(hook, result, options);
  }
  let runOptions = options;
  if (start !== ext || options.violationsAsExceptions) {
    // Spread, then assign: measured against `{ ...options, extensions, violationsAsExceptions: false }`
    // (a literal adding a property the clone lacks), that literal made each session invoke ~8 µs
    // slower at p50 after an I/O wait (bench/src/fleet.ts); the clone-then-assign form does not.
    runOptions = { ...options };
    runOptions.extensions = start;
    if (runOptions.violationsAsExceptions) runOptions.violationsAsExceptions = false;
  }
  const result = await run(runOptions);

  const final = result.modifiedExtensions
    ? (toLabelSet(result.modifiedExtensions.security?.labels) ?? hydrated)
    : hydrated;
  const grown = final === hydrated ? undefined : final.missingFrom(hydrated);
  if (grown !== undefined && grown.length > 0) {
    try {
      checkLabels('append', grown, stored.length + grown.length, max);
      await store.append(session.id, grown);
    } catch (e) {
      const err = asStoreError('append', e);
      logger.error(`session store append failed, ${hook} halted: ${err.message}`, {
        hook,
        session_source: session.source,
        code: err.code,
      });
      result.errors.push({
        pluginName: SESSION_STORE_RECORD,
        code: 'session_store_error',
        message: err.message,
      });
      if (result.continueProcessing) {
        result.continueProcessing = false;
        result.violation = storeViolation(hook, err, session);
      }
    }
  }
  // The caller sees the session's labels even when no plugin changed the extensions.
  if (result.modifiedExtensions === null && start !== ext) result.modifiedExtensions = start;
  return finish(hook, result, options);
}

function finish<P>(hook: string, result: PipelineResult<P>, options: InvokeOptions): PipelineResult<P> {
  if (!result.continueProcessing && options.violationsAsExceptions && result.violation) {
    throw new PluginViolationError(hook, result.violation, result as PipelineResult<unknown>);
  }
  return result;
}
