/**
 * API records → the snake_case wire shape (as Python/Rust/Go see them). Payloads, metadata, state
 * and extensions are data and keep their own keys.
 */
import type { PipelineResult, PluginErrorRecord, PluginViolation } from '@cpex/core';

function defined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/** A `PluginViolation` with wire field names. */
export function violationToWire(v: PluginViolation | null): Record<string, unknown> | null {
  if (v === null) return null;
  return defined({
    code: v.code,
    reason: v.reason,
    description: v.description,
    details: v.details,
    plugin_name: v.pluginName,
    mcp_error_code: v.mcpErrorCode,
    http_status_code: v.httpStatusCode,
    http_headers: v.httpHeaders,
  });
}

/** A `PluginErrorRecord` with wire field names. */
export function errorToWire(e: PluginErrorRecord): Record<string, unknown> {
  return defined({
    plugin_name: e.pluginName,
    code: e.code,
    message: e.message,
    phase: e.phase,
    error_code: e.errorCode,
    location: e.location,
  });
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
