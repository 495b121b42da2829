/**
 * API records → their snake_case wire shape, as Python, Rust and Go see them (Rust cpex
 * `PluginViolation` / `PluginError` field names). One mapping for every wire that sends them:
 * `cpex invoke` output and the `cpex serve` result envelope. Fields that are undefined are left
 * out (so an encoder never has to skip them); `details` and `http_headers` are data and keep their
 * own keys.
 */
import type { PluginErrorRecord, PluginViolation } from '../types.js';

/**
 * A {@link PluginViolation} with wire field names.
 * @example violationToWire({ code: 'PII', reason: 'ssn', pluginName: 'pii' }) // { code, reason, plugin_name }
 */
export function violationToWire(v: PluginViolation): Record<string, unknown> {
  const out: Record<string, unknown> = { code: v.code, reason: v.reason };
  if (v.description !== undefined) out.description = v.description;
  if (v.details !== undefined) out.details = v.details;
  if (v.pluginName !== undefined) out.plugin_name = v.pluginName;
  if (v.mcpErrorCode !== undefined) out.mcp_error_code = v.mcpErrorCode;
  if (v.httpStatusCode !== undefined) out.http_status_code = v.httpStatusCode;
  if (v.httpHeaders !== undefined) out.http_headers = v.httpHeaders;
  return out;
}

/**
 * A {@link PluginErrorRecord} with wire field names.
 * @example errorToWire({ pluginName: 'p', code: 'x', message: 'm' }) // { plugin_name, code, message }
 */
export function errorToWire(e: PluginErrorRecord): Record<string, unknown> {
  const out: Record<string, unknown> = { plugin_name: e.pluginName, code: e.code, message: e.message };
  if (e.phase !== undefined) out.phase = e.phase;
  if (e.errorCode !== undefined) out.error_code = e.errorCode;
  if (e.location !== undefined) out.location = e.location;
  return out;
}
