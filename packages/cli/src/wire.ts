/**
 * API records → the snake_case wire shape (as Python/Rust/Go see them). Payloads, metadata, state
 * and extensions are data and keep their own keys.
 */
import type { PipelineResult, PluginErrorRecord, PluginViolation } from '@cpex/core';
import { errorToWire, violationToWire as coreViolationToWire } from '@cpex/core/host';

export { errorToWire };

/** A `PluginViolation` with wire field names (core's mapping; `null` stays `null`). */
export function violationToWire(v: PluginViolation | null): Record<string, unknown> | null {
  return v === null ? null : coreViolationToWire(v);
}

/** A `PipelineResult` (plus the background errors it reported) as printed by `cpex invoke`. */
export function resultToWire(
  r: PipelineResult<unknown>,
  backgroundErrors: PluginErrorRecord[],
): Record<string, unknown> {
  return {
    continue_processing: r.continueProcessing,
    modified_payload: r.modifiedPayload ?? null,
    payload_modified: r.payloadModified,
    modified_extensions: r.modifiedExtensions ?? null,
    violation: violationToWire(r.violation),
    errors: r.errors.map(errorToWire),
    metadata: r.metadata,
    retry_delay_ms: r.retryDelayMs,
    context_table: r.contextTable ? r.contextTable.toJSON() : null,
    background_errors: backgroundErrors.map(errorToWire),
  };
}
