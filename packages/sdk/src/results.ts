/**
 * Result builders: the three answers a handler gives (`allow`, `deny`, `modify`).
 * They build plain `PluginResult` records; the manager decides what a result means in each phase.
 */
import type { Extensions, PluginResult, PluginViolation } from '@cpex/core';

/** Optional parts of a result besides its decision. */
export interface ResultExtras {
  /** Merged into the pipeline result's metadata (audit metadata included). */
  metadata?: Record<string, unknown>;
  /** Extension edits; the manager applies only what the plugin's tier and capabilities allow. */
  modifiedExtensions?: Extensions;
  /** Ask the caller to retry after this many milliseconds (e.g. a rate limiter). */
  retryDelayMs?: number;
}

/** Violation fields besides `code` and `reason` (`pluginName` is set by the manager, never by a plugin). */
export type ViolationExtras = Omit<PluginViolation, 'code' | 'reason' | 'pluginName'>;

function withExtras<R extends PluginResult<unknown>>(result: R, extra: ResultExtras | undefined): R {
  if (extra === undefined) return result;
  if (extra.metadata !== undefined) result.metadata = extra.metadata;
  if (extra.modifiedExtensions !== undefined) result.modifiedExtensions = extra.modifiedExtensions;
  if (extra.retryDelayMs !== undefined) result.retryDelayMs = extra.retryDelayMs;
  return result;
}

/**
 * Let the call continue unchanged, optionally attaching metadata.
 *
 * @example
 * tool_pre_invoke: () => allow({ checked_by: 'allow-list' })
 */
export function allow(
  metadata?: Record<string, unknown>,
  extra?: Omit<ResultExtras, 'metadata'>,
): PluginResult<never> {
  const result: PluginResult<never> = { continueProcessing: true };
  if (metadata !== undefined) result.metadata = metadata;
  return withExtras(result, extra);
}

/**
 * Block the call with a violation: `deny(code, reason, extras?)` or `deny(violation, extras?)`.
 * Halts in `sequential` and `concurrent`; ignored (recorded) in `transform`, `audit` and `fire_and_forget`.
 *
 * @example
 * if (!allowed.has(String(payload.name))) return deny('tool_not_allowed', `tool ${payload.name} is not on the allow-list`);
 */
export function deny(violation: PluginViolation, extra?: ResultExtras): PluginResult<never>;
export function deny(
  code: string,
  reason: string,
  extra?: ViolationExtras & ResultExtras,
): PluginResult<never>;
export function deny(
  codeOrViolation: string | PluginViolation,
  reasonOrExtra?: string | ResultExtras,
  extra?: ViolationExtras & ResultExtras,
): PluginResult<never> {
  let violation: PluginViolation;
  let extras: (ViolationExtras & ResultExtras) | undefined;
  if (typeof codeOrViolation === 'string') {
    violation = {
      code: codeOrViolation,
      reason: typeof reasonOrExtra === 'string' ? reasonOrExtra : codeOrViolation,
    };
    extras = extra;
    if (extras !== undefined) {
      const { metadata: _m, modifiedExtensions: _e, retryDelayMs: _r, ...violationExtras } = extras;
      Object.assign(violation, violationExtras);
    }
  } else {
    const { pluginName: _ignored, ...rest } = codeOrViolation;
    violation = rest;
    extras = typeof reasonOrExtra === 'object' ? reasonOrExtra : undefined;
  }
  return withExtras({ continueProcessing: false, violation }, extras);
}

/**
 * Continue with a changed payload (build a new object; the payload you were given is read-only).
 *
 * @example
 * return modify({ ...payload, name: 'search_v2' }, { metadata: { rerouted: true } });
 */
export function modify<P>(payload: P, extra?: ResultExtras): PluginResult<P> {
  return withExtras({ continueProcessing: true, modifiedPayload: payload }, extra);
}
