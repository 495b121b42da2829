/**
 * The MessagePack wire of cpex_plugin.h (schema version 1): the request map a library's
 * `cpex_plugin_invoke` receives and the decoding of its result map into a PluginResult.
 * Shape checks here are only what decoding needs; the manager validates the decoded result
 * (payload schema, extension tiers, violation) with the one rule every host shares.
 */
import { DecodeError, Decoder, Encoder, ExtensionCodec } from '@msgpack/msgpack';
import {
  CpexError,
  checkPayloadBounds,
  type Extensions,
  extensionsToJSON,
  type PluginContext,
  type PluginResult,
  type PluginViolation,
  setOwn,
  unwrapViews,
} from '@cpex/core/host';

type Json = Record<string, unknown>;

/** Where a wire problem happened, for coded errors. */
export interface Where {
  plugin: string;
  hook: string;
}

/** An encoder whose nesting limit is the boundary's `max_payload_depth` (+2 for the request's own levels). */
export function makeEncoder(maxDepth: number): Encoder {
  return new Encoder({ ignoreUndefined: true, maxDepth: maxDepth + 2 });
}
const encoder = makeEncoder(128);

/**
 * A fresh decoder per nesting budget is cheap to keep: @msgpack/msgpack bounds lengths, not
 * depth, so depth is checked after decoding (see `checkDepth`).
 */
export function makeDecoder(maxBytes: number): Decoder {
  const decoder = new Decoder({
    maxStrLength: maxBytes,
    maxBinLength: maxBytes,
    maxArrayLength: maxBytes,
    maxMapLength: maxBytes,
    maxExtLength: maxBytes,
    // int64/uint64 as BigInt, so one beyond 2^53 is refused (resultFromWire), never rounded.
    useBigInt64: true,
    extensionCodec: NO_EXTENSIONS,
  });
  strictUtf8(decoder);
  return decoder;
}

/**
 * Extension types are not part of the wire (cpex_plugin.h): every one, the timestamp (-1)
 * included, is refused instead of arriving as an ExtData object or a Date inside a payload.
 */
const NO_EXTENSIONS = (() => {
  const codec = new ExtensionCodec();
  for (let type = -128; type <= 127; type++) {
    codec.register({
      type,
      encode: () => null,
      decode: () => {
        throw new DecodeError(`extension type ${type} is not part of the cpex wire`);
      },
    });
  }
  return codec;
})();

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * @msgpack/msgpack decodes a str that is not UTF-8 into other text silently (0xff 0xfe reads as
 * "ÿþ") and a CESU-encoded surrogate into a lone surrogate. Each str is checked with a fatal
 * decoder first; the library's own decoding (its key cache) then runs as before. Relies on the
 * Decoder's `decodeUtf8String(byteLength, headerOffset)`, `bytes` and `pos` (@msgpack/msgpack 3.x,
 * pinned in package.json; wire.test.ts fails if they change).
 */
function strictUtf8(decoder: Decoder): void {
  const d = decoder as unknown as {
    bytes: Uint8Array;
    pos: number;
    decodeUtf8String(byteLength: number, headerOffset: number): unknown;
  };
  const original = d.decodeUtf8String;
  if (typeof original !== 'function')
    throw new Error('@msgpack/msgpack: Decoder.decodeUtf8String is missing');
  d.decodeUtf8String = function (this: typeof d, byteLength: number, headerOffset: number) {
    const start = this.pos + headerOffset;
    const end = start + byteLength;
    const bytes = this.bytes;
    if (bytes.byteLength >= end) {
      // ASCII is always UTF-8: only a str with a byte >= 0x80 pays for the check.
      let i = start;
      while (i < end && bytes[i]! < 0x80) i++;
      if (i < end) {
        try {
          fatalUtf8.decode(bytes.subarray(i, end));
        } catch {
          throw new DecodeError(`a str at byte ${start} is not valid UTF-8`);
        }
      }
    }
    return original.call(this, byteLength, headerOffset);
  };
}

/**
 * Integers the decoder read as BigInt (int64/uint64): numbers when they fit ±(2^53−1), else
 * CPEX_ERR_INVALID_RESULT naming where (JavaScript would round them). In place, iterative.
 */
function exactIntegers(root: Json, where: Where): void {
  const stack: Array<{ o: Record<string, unknown> | unknown[]; at: string }> = [{ o: root, at: 'result' }];
  const seen = new Set<object>();
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const { o, at } = top;
    if (seen.has(o)) continue;
    seen.add(o);
    const keys = Array.isArray(o) ? o.keys() : Object.keys(o);
    for (const k of keys) {
      const v = (o as Record<string | number, unknown>)[k];
      const here = typeof k === 'number' ? `${at}[${k}]` : `${at}.${k}`;
      if (typeof v === 'bigint') {
        if (v < -BigInt(Number.MAX_SAFE_INTEGER) || v > BigInt(Number.MAX_SAFE_INTEGER)) {
          throw invalid(
            `${here}: the integer ${v} is beyond ±(2^53−1): JavaScript cannot hold it exactly (send it as a string)`,
            where,
          );
        }
        (o as Record<string | number, unknown>)[k] = Number(v);
      } else if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) {
        stack.push({ o: v as Record<string, unknown>, at: here });
      }
    }
  }
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function globalContextToWire(context: PluginContext): Json {
  const g = context.globalContext;
  const gc: Json = { request_id: g.requestId, state: g.state, metadata: g.metadata };
  if (g.user !== undefined) gc.user = g.user;
  if (g.userContext !== undefined) gc.user_context = g.userContext;
  if (g.tenantId !== undefined) gc.tenant_id = g.tenantId;
  if (g.serverId !== undefined) gc.server_id = g.serverId;
  if (g.contentType !== undefined) gc.content_type = g.contentType;
  return gc;
}

/** The request map as plain data (also what `isolation: process` frames carry). */
export function requestObject(
  hook: string,
  pluginName: string,
  payloadType: number,
  payload: unknown,
  context: PluginContext,
  extensions: Extensions | undefined | null,
): Json {
  return {
    hook,
    plugin_name: pluginName,
    payload_type: payloadType,
    payload: unwrapViews(payload) ?? null,
    extensions: extensions ? extensionsToJSON(extensions) : null,
    context: {
      state: context.state,
      metadata: context.metadata,
      global_context: globalContextToWire(context),
    },
  };
}

/** Encodes a value to MessagePack (a copy of the encoder's buffer). */
export function encodeMsgpack(value: unknown, with_: Encoder = encoder): Uint8Array {
  return with_.encode(value);
}

function invalid(
  message: string,
  where: Where,
  code: 'CPEX_ERR_INVALID_RESULT' | 'CPEX_ERR_PROTOCOL' = 'CPEX_ERR_INVALID_RESULT',
) {
  return new CpexError(code, `native plugin "${where.plugin}" on ${where.hook}: ${message}`, { ...where });
}

/** Nesting deeper than `max` is refused with CPEX_ERR_PAYLOAD_TOO_DEEP (core's one bounds helper). */
export function checkDepth(v: unknown, max: number, where: Where): void {
  checkPayloadBounds(v, { maxDepth: max }, `native plugin "${where.plugin}" on ${where.hook}: result`);
}

function replaceContents(target: Json, source: unknown, what: string, where: Where): void {
  if (source === undefined || source === null) return;
  if (!isObject(source)) throw invalid(`context.${what} is not a map`, where);
  if (target === source) return;
  for (const k of Object.keys(target)) if (!Object.hasOwn(source, k)) delete target[k];
  // Own data keys only: a key named "__proto__" stays data (Object.assign would re-parent).
  for (const k of Object.keys(source)) setOwn(target, k, source[k]);
}

/** Writes the result's `context` (local and global state/metadata) back into the handler's context. */
export function applyContext(context: PluginContext, wire: unknown, where: Where): void {
  if (wire === undefined || wire === null) return;
  if (!isObject(wire)) throw invalid('context is not a map', where);
  replaceContents(context.state, wire.state, 'state', where);
  replaceContents(context.metadata, wire.metadata, 'metadata', where);
  replaceContents(context.globalContext.state, wire.global_state, 'global_state', where);
  replaceContents(context.globalContext.metadata, wire.global_metadata, 'global_metadata', where);
}

/**
 * Decodes a result map (already known to be within max_payload_bytes) into a PluginResult,
 * applying its `context` to the handler's context. Undecodable bytes → CPEX_ERR_INVALID_RESULT.
 */
export function decodeResult(
  bytes: Uint8Array,
  decoder: Decoder,
  maxDepth: number,
  context: PluginContext,
  where: Where,
): PluginResult {
  let wire: unknown;
  try {
    wire = decoder.decode(bytes);
  } catch (e) {
    throw new CpexError(
      'CPEX_ERR_INVALID_RESULT',
      `native plugin "${where.plugin}" on ${where.hook}: result is not valid MessagePack (${(e as Error).message})`,
      { ...where, cause: e },
    );
  }
  // int64/uint64 (the only BigInts the decoder makes) are tokens 0xcf/0xd3: without either byte
  // anywhere, there is nothing to convert (a native byte search, not a walk).
  return resultFromWire(wire, maxDepth, context, where, bytes.includes(0xcf) || bytes.includes(0xd3));
}

/** A decoded result map → PluginResult (snake_case → camelCase). */
export function resultFromWire(
  wire: unknown,
  maxDepth: number,
  context: PluginContext,
  where: Where,
  /** false when the bytes held no int64/uint64 token (decodeResult knows). */
  mayHoldBigInt = true,
): PluginResult {
  if (!isObject(wire)) throw invalid('result is not a MessagePack map', where);
  checkDepth(wire, maxDepth, where);
  if (mayHoldBigInt) exactIntegers(wire, where);
  const out: PluginResult = {};
  const cp = wire.continue_processing;
  if (cp !== undefined && cp !== null) {
    if (typeof cp !== 'boolean') throw invalid('continue_processing must be a bool', where);
    out.continueProcessing = cp;
  }
  if (wire.modified_payload !== undefined && wire.modified_payload !== null)
    out.modifiedPayload = wire.modified_payload;
  if (wire.modified_extensions !== undefined && wire.modified_extensions !== null)
    out.modifiedExtensions = wire.modified_extensions as Extensions;
  const v = wire.violation;
  if (v !== undefined && v !== null) {
    if (!isObject(v)) throw invalid('violation must be a map', where);
    const violation = { code: v.code, reason: v.reason } as PluginViolation;
    if (v.description !== undefined && v.description !== null)
      violation.description = v.description as string;
    if (v.details !== undefined && v.details !== null) violation.details = v.details as Json;
    if (v.mcp_error_code !== undefined && v.mcp_error_code !== null)
      violation.mcpErrorCode = v.mcp_error_code as number;
    if (v.http_status_code !== undefined && v.http_status_code !== null)
      violation.httpStatusCode = v.http_status_code as number;
    if (v.http_headers !== undefined && v.http_headers !== null)
      violation.httpHeaders = v.http_headers as Record<string, string>;
    out.violation = violation;
  }
  if (wire.metadata !== undefined && wire.metadata !== null) out.metadata = wire.metadata as Json;
  const rd = wire.retry_delay_ms;
  if (rd !== undefined && rd !== null) out.retryDelayMs = rd as number;
  applyContext(context, wire.context, where);
  return out;
}
