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
import type { Extensions } from '../extensions/types.js';
import type { InvokeOptions, Logger, PipelineResult, PluginViolation } from '../types.js';
import type { ResolvedSession } from './resolve.js';
import { type SessionStore, SessionStoreError } from './store.js';

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
    details: { operation: err.operation, session_source: session.source },
  };
}

function asStoreError(operation: 'load' | 'append', e: unknown): SessionStoreError {
  return e instanceof SessionStoreError ? e : new SessionStoreError(operation, describe(e), e);
}

async function load(store: SessionStore, id: string): Promise<readonly string[]> {
  let labels: unknown;
  try {
    labels = await store.load(id);
  } catch (e) {
    throw asStoreError('load', e);
  }
  // A store is a boundary: what it returns is checked before it becomes security labels.
  if (!Array.isArray(labels) || !labels.every((l) => typeof l === 'string')) {
    throw new SessionStoreError('load', 'the store returned something other than a list of strings');
  }
  return labels;
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
  let stored: readonly string[];
  try {
    stored = await load(store, session.id);
  } catch (e) {
    const err = asStoreError('load', e);
    logger.error(`session store load failed, ${hook} halted: ${err.message}`, {
      hook,
      session_source: session.source,
    });
    const result = emptyResult<P>();
    result.continueProcessing = false;
    result.violation = storeViolation(hook, err, session);
    return finish(hook, result, options);
  }

  const given = toLabelSet(ext.security?.labels) ?? MonotonicSet.EMPTY;
  const hydrated = stored.length === 0 ? given : given.union(stored);
  const start: Extensions =
    hydrated === ext.security?.labels ? ext : { ...ext, security: { ...ext.security, labels: hydrated } };
  const result = await run(
    start === ext && !options.violationsAsExceptions
      ? options
      : { ...options, extensions: start, violationsAsExceptions: false },
  );

  const final = result.modifiedExtensions
    ? (toLabelSet(result.modifiedExtensions.security?.labels) ?? hydrated)
    : hydrated;
  const grown = final === hydrated ? [] : final.missingFrom(hydrated);
  if (grown.length > 0) {
    try {
      await store.append(session.id, grown);
    } catch (e) {
      const err = asStoreError('append', e);
      logger.error(`session store append failed, ${hook} halted: ${err.message}`, {
        hook,
        session_source: session.source,
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
