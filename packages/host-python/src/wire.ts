/**
 * Conversion between the cpex-ts API records (camelCase) and the worker's wire frames
 * (snake_case, Python cpex 0.1.x field names), with ingress validation of what comes back.
 */
import {
  CpexError,
  type CpexErrorCode,
  type Extensions,
  type PluginContext,
  type PluginEntry,
  type PluginResult,
} from '@cpex/core';
import { setOwn } from '@cpex/core/host';

type Json = Record<string, unknown>;

/** The PluginConfig dict a Python plugin is constructed with. */
export function entryToPluginConfig(entry: PluginEntry): Json {
  const out: Json = {
    name: entry.name,
    kind: entry.kind,
    hooks: entry.hooks,
    tags: entry.tags,
    mode: entry.mode,
    on_error: entry.onError,
    priority: entry.priority,
    capabilities: entry.capabilities,
    conditions: entry.conditions.map((c) => {
      const o: Json = {};
      if (c.serverIds) o.server_ids = c.serverIds;
      if (c.tenantIds) o.tenant_ids = c.tenantIds;
      if (c.tools) o.tools = c.tools;
      if (c.prompts) o.prompts = c.prompts;
      if (c.resources) o.resources = c.resources;
      if (c.agents) o.agents = c.agents;
      if (c.userPatterns) o.user_patterns = c.userPatterns;
      if (c.contentTypes) o.content_types = c.contentTypes;
      return o;
    }),
    config: entry.config,
  };
  if (entry.description !== undefined) out.description = entry.description;
  if (entry.author !== undefined) out.author = entry.author;
  if (entry.version !== undefined) out.version = entry.version;
  if (entry.namespace !== undefined) out.namespace = entry.namespace;
  return out;
}

/**
 * The handler's context as the worker's `context` frame field, serialized: snake_case, keys
 * with undefined values left out (as JSON.stringify does).
 */
export function contextToWireJson(context: PluginContext): string {
  const g = context.globalContext;
  const gc: Json = { request_id: g.requestId, state: g.state, metadata: g.metadata };
  if (g.user !== undefined) gc.user = g.user;
  if (g.userContext !== undefined) gc.user_context = g.userContext;
  if (g.tenantId !== undefined) gc.tenant_id = g.tenantId;
  if (g.serverId !== undefined) gc.server_id = g.serverId;
  if (g.contentType !== undefined) gc.content_type = g.contentType;
  return JSON.stringify({ state: context.state, metadata: context.metadata, global_context: gc });
}

function replaceContents(target: Record<string, unknown>, source: unknown, what: string, where: Where): void {
  if (source === undefined) return;
  if (!isObject(source)) throw invalid(`${what} is not an object`, where);
  if (target === source) return;
  for (const k of Object.keys(target)) if (!(k in source)) delete target[k];
  for (const k of Object.keys(source)) setOwn(target, k, source[k]); // a "__proto__" key stays data
}

export interface Where {
  plugin: string;
  hook: string;
}

function invalid(message: string, where: Where, code: CpexErrorCode = 'CPEX_ERR_INVALID_RESULT'): CpexError {
  return new CpexError(code, `Python plugin "${where.plugin}" on ${where.hook}: ${message}`, where);
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Writes the plugin's local and global state/metadata back into the handler's context (in place). */
export function applyContext(context: PluginContext, wire: unknown, where: Where): void {
  if (wire === undefined || wire === null) return;
  if (!isObject(wire)) throw invalid('context is not an object', where, 'CPEX_ERR_PROTOCOL');
  replaceContents(context.state, wire.state, 'context.state', where);
  replaceContents(context.metadata, wire.metadata, 'context.metadata', where);
  replaceContents(context.globalContext.state, wire.global_state, 'global_context.state', where);
  replaceContents(context.globalContext.metadata, wire.global_metadata, 'global_context.metadata', where);
}

function optString(v: Json, key: string, where: Where): string | undefined {
  const x = v[key];
  if (x === undefined || x === null) return undefined;
  if (typeof x !== 'string') throw invalid(`violation.${key} must be a string, got ${typeof x}`, where);
  return x;
}

function optInt(v: Json, key: string, where: Where): number | undefined {
  const x = v[key];
  if (x === undefined || x === null) return undefined;
  if (typeof x !== 'number' || !Number.isFinite(x)) throw invalid(`violation.${key} must be a number`, where);
  return x;
}

/** A wire `PluginResult` (snake_case) → the camelCase PluginResult, validated. */
export function resultFromWire(
  wire: unknown,
  where: Where,
  convertExtensions: (ext: unknown, sent: Extensions | undefined) => unknown,
  sent?: Extensions,
): PluginResult {
  if (!isObject(wire)) throw invalid('result is not an object', where);
  const out: PluginResult = {};
  const cp = wire.continue_processing;
  if (cp !== undefined) {
    if (typeof cp !== 'boolean') throw invalid('continue_processing must be a boolean', where);
    out.continueProcessing = cp;
  }
  if (wire.modified_payload !== undefined && wire.modified_payload !== null)
    out.modifiedPayload = wire.modified_payload;
  if (wire.modified_extensions !== undefined && wire.modified_extensions !== null) {
    if (!isObject(wire.modified_extensions)) throw invalid('modified_extensions must be an object', where);
    out.modifiedExtensions = convertExtensions(wire.modified_extensions, sent) as NonNullable<
      PluginResult['modifiedExtensions']
    >;
  }
  const v = wire.violation;
  if (v !== undefined && v !== null) {
    if (!isObject(v)) throw invalid('violation must be an object', where);
    const code = optString(v, 'code', where);
    const reason = optString(v, 'reason', where);
    if (code === undefined || reason === undefined)
      throw invalid('violation needs a code and a reason', where);
    const violation: NonNullable<PluginResult['violation']> = { code, reason };
    const description = optString(v, 'description', where);
    if (description !== undefined) violation.description = description;
    if (v.details !== undefined && v.details !== null) {
      if (!isObject(v.details)) throw invalid('violation.details must be an object', where);
      violation.details = v.details;
    }
    const mcp = optInt(v, 'mcp_error_code', where);
    if (mcp !== undefined) violation.mcpErrorCode = mcp;
    const http = optInt(v, 'http_status_code', where);
    if (http !== undefined) violation.httpStatusCode = http;
    if (v.http_headers !== undefined && v.http_headers !== null) {
      if (!isObject(v.http_headers) || !Object.values(v.http_headers).every((h) => typeof h === 'string'))
        throw invalid('violation.http_headers must be a string map', where);
      violation.httpHeaders = v.http_headers as Record<string, string>;
    }
    out.violation = violation;
  }
  if (wire.metadata !== undefined && wire.metadata !== null) {
    if (!isObject(wire.metadata)) throw invalid('metadata must be an object', where);
    out.metadata = wire.metadata;
  }
  const rd = wire.retry_delay_ms;
  if (rd !== undefined && rd !== null) {
    if (typeof rd !== 'number' || !Number.isFinite(rd) || rd < 0)
      throw invalid('retry_delay_ms must be a non-negative number', where);
    if (rd > 0) out.retryDelayMs = rd;
  }
  return out;
}

/** Worker error codes → catalogue codes. */
export const WORKER_ERROR_CODES: Record<string, CpexErrorCode> = {
  plugin_exception: 'CPEX_ERR_PLUGIN_EXCEPTION',
  invalid_payload: 'CPEX_ERR_INVALID_PAYLOAD',
  invalid_result: 'CPEX_ERR_INVALID_RESULT',
  response_too_large: 'CPEX_ERR_RESPONSE_TOO_LARGE',
  hook_not_implemented: 'CPEX_ERR_HOOK_NOT_IMPLEMENTED',
  cancelled: 'CPEX_ERR_ABORTED',
  protocol: 'CPEX_ERR_PROTOCOL',
  plugin_load: 'CPEX_ERR_PLUGIN_LOAD',
  module_not_found: 'CPEX_ERR_PLUGIN_LOAD',
  plugin_shutdown: 'CPEX_ERR_PLUGIN_EXCEPTION',
  pydantic_missing: 'CPEX_ERR_HOST_UNAVAILABLE',
  pydantic_version: 'CPEX_ERR_HOST_UNAVAILABLE',
  python_too_old: 'CPEX_ERR_HOST_UNAVAILABLE',
  cpex_import: 'CPEX_ERR_HOST_UNAVAILABLE',
  memory_limit: 'CPEX_ERR_WORKER_MEMORY',
};

/** A worker error frame → a coded CpexError naming plugin and hook. */
export function errorFromWire(err: unknown, where: Partial<Where> & { plugin: string }): CpexError {
  const e = isObject(err) ? err : {};
  const wcode = typeof e.code === 'string' ? e.code : 'protocol';
  const code = WORKER_ERROR_CODES[wcode] ?? 'CPEX_ERR_PLUGIN_EXCEPTION';
  const message = typeof e.message === 'string' ? e.message : 'unknown error';
  const at = where.hook ? ` on ${where.hook}` : '';
  const details: Json = { workerCode: wcode };
  if (typeof e.type === 'string') details.pythonType = e.type;
  if (typeof e.traceback === 'string') details.traceback = e.traceback;
  if (typeof e.plugin_code === 'string') details.pluginCode = e.plugin_code;
  const fields: { plugin: string; hook?: string; details: Json } = { plugin: where.plugin, details };
  if (where.hook) fields.hook = where.hook;
  return new CpexError(code, `Python plugin "${where.plugin}"${at}: ${message}`, fields);
}
