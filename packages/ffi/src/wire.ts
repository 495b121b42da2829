/**
 * The cpex ffi wire layer (docs/ffi/protocol.md): length-prefixed frames, a MessagePack body (JSON
 * for debugging), return codes and the result envelope with the Rust cpex-ffi field names.
 */
import { Decoder, Encoder } from '@msgpack/msgpack';
import {
  type PipelineResult,
  type PluginErrorRecord,
  type PluginViolation,
  PAYLOAD_TYPE_CMF_MESSAGE,
  PAYLOAD_TYPE_GENERIC,
  PAYLOAD_TYPE_IDENTITY,
  extensionsToJSON,
} from '@cpex/core';

/** Version of this protocol; a client refuses a sidecar whose `version` answer has another major. */
export const PROTOCOL_VERSION = 1;

/** The Rust cpex C ABI version (`FFI_ABI_VERSION`) whose return codes and envelope this mirrors. */
export const RUST_FFI_ABI_VERSION = 2;

/** Return codes (Rust cpex `RC_*`): append-only, never renumbered. */
export const RC = {
  OK: 0,
  INVALID_HANDLE: -1,
  INVALID_INPUT: -2,
  PARSE_ERROR: -3,
  PIPELINE_ERROR: -4,
  SERIALIZE_ERROR: -5,
  TIMEOUT: -6,
  INTERNAL: -7,
} as const;
export type ReturnCode = (typeof RC)[keyof typeof RC];

/** Payload-type registry (Rust cpex-ffi): 0 generic, 1 CMF `MessagePayload`, 2 `IdentityPayload`. */
export const PAYLOAD_TYPES = {
  generic: PAYLOAD_TYPE_GENERIC,
  cmf: PAYLOAD_TYPE_CMF_MESSAGE,
  identity: PAYLOAD_TYPE_IDENTITY,
} as const;

/** Bytes of the frame header: a 4-byte big-endian unsigned body length. */
export const FRAME_HEADER_BYTES = 4;
/** Default largest frame body the sidecar accepts (and sends). */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;
/** Default deepest nesting of a payload or extensions value. */
export const DEFAULT_MAX_DEPTH = 64;

/** `msgpack` (default) or `json` (debug): a frame whose body starts with `{` is JSON. */
export type Encoding = 'msgpack' | 'json';

const encoder = new Encoder({ ignoreUndefined: true });
const decoder = new Decoder();

/** Encode one value as MessagePack (undefined fields left out). */
export function packValue(value: unknown): Uint8Array {
  return encoder.encode(value);
}

/** Decode one MessagePack value; throws on malformed bytes or trailing data. */
export function unpackValue(bytes: Uint8Array): unknown {
  return decoder.decode(bytes);
}

/** A frame: header + body. */
export function frame(body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.length);
  out.writeUInt32BE(body.length, 0);
  out.set(body, FRAME_HEADER_BYTES);
  return out;
}

/** The encoding of a frame body: JSON when it starts with `{` (0x7b, never a valid MessagePack request). */
export function encodingOf(body: Uint8Array): Encoding {
  return body.length > 0 && body[0] === 0x7b ? 'json' : 'msgpack';
}

/** Decode a frame body in its own encoding. Throws on malformed input. */
export function decodeBody(body: Uint8Array, encoding: Encoding): unknown {
  if (encoding === 'json')
    return JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.length).toString('utf8'));
  return decoder.decode(body);
}

/** Encode a message body. */
export function encodeBody(message: unknown, encoding: Encoding): Uint8Array {
  if (encoding === 'json') return Buffer.from(JSON.stringify(message), 'utf8');
  return encoder.encode(message);
}

/** What a FrameReader found in the byte stream. */
export type FrameEvent = { kind: 'frame'; body: Uint8Array } | { kind: 'oversize'; length: number };

/**
 * Splits a byte stream into frames. An oversize frame is reported once and its body skipped, so the
 * stream stays in sync and later frames are read normally.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private skip = 0;

  constructor(private readonly maxFrameBytes = DEFAULT_MAX_FRAME_BYTES) {}

  /** Feed bytes; returns the complete frames (and oversize notices) they finish. */
  push(chunk: Buffer): FrameEvent[] {
    const events: FrameEvent[] = [];
    if (this.skip > 0) {
      const n = Math.min(this.skip, chunk.length);
      this.skip -= n;
      chunk = chunk.subarray(n);
      if (chunk.length === 0) return events;
    }
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    let buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
    let off = 0;
    while (buf.length - off >= FRAME_HEADER_BYTES) {
      const len = buf.readUInt32BE(off);
      if (len > this.maxFrameBytes) {
        events.push({ kind: 'oversize', length: len });
        const available = buf.length - off - FRAME_HEADER_BYTES;
        if (available >= len) {
          off += FRAME_HEADER_BYTES + len;
          continue;
        }
        this.skip = len - available;
        off = buf.length;
        break;
      }
      if (buf.length - off - FRAME_HEADER_BYTES < len) break;
      events.push({
        kind: 'frame',
        body: buf.subarray(off + FRAME_HEADER_BYTES, off + FRAME_HEADER_BYTES + len),
      });
      off += FRAME_HEADER_BYTES + len;
    }
    if (off >= buf.length) {
      this.chunks = [];
      this.buffered = 0;
    } else {
      buf = buf.subarray(off);
      this.chunks = [buf];
      this.buffered = buf.length;
    }
    return events;
  }

  /** Bytes held for an incomplete frame. */
  get pending(): number {
    return this.buffered;
  }
}

/** Nesting depth of a decoded value (iterative: deep input cannot overflow the stack here). */
export function exceedsDepth(value: unknown, maxDepth: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object' || v instanceof Uint8Array) continue;
    if (d > maxDepth) return true;
    const children = Array.isArray(v) ? v : Object.values(v as Record<string, unknown>);
    for (const c of children) if (c !== null && typeof c === 'object') stack.push([c, d + 1]);
  }
  return false;
}

/** A violation with wire field names. */
export function violationToWire(v: PluginViolation): Record<string, unknown> {
  return {
    code: v.code,
    reason: v.reason,
    description: v.description,
    details: v.details,
    plugin_name: v.pluginName,
    mcp_error_code: v.mcpErrorCode,
    http_status_code: v.httpStatusCode,
    http_headers: v.httpHeaders,
  };
}

/** A plugin error record with wire field names. */
export function errorToWire(e: PluginErrorRecord): Record<string, unknown> {
  return {
    plugin_name: e.pluginName,
    code: e.code,
    message: e.message,
    phase: e.phase,
    error_code: e.errorCode,
  };
}

/**
 * The result envelope (Rust cpex-ffi field names). In MessagePack `modified_payload` and
 * `modified_extensions` are `bin` holding a MessagePack document (as Rust sends them); in JSON they
 * are inline values.
 */
export function resultEnvelope(
  r: PipelineResult<unknown>,
  payloadType: number,
  encoding: Encoding,
): Record<string, unknown> {
  const nested = (v: unknown) => (encoding === 'msgpack' ? packValue(v) : v);
  const env: Record<string, unknown> = {
    continue_processing: r.continueProcessing,
    payload_type: payloadType,
    payload_modified: r.payloadModified,
  };
  if (r.violation) env.violation = violationToWire(r.violation);
  if (r.errors.length > 0) env.errors = r.errors.map(errorToWire);
  if (Object.keys(r.metadata).length > 0) env.metadata = r.metadata;
  if (r.payloadModified && r.modifiedPayload !== null && r.modifiedPayload !== undefined)
    env.modified_payload = nested(r.modifiedPayload);
  if (r.modifiedExtensions) env.modified_extensions = nested(extensionsToJSON(r.modifiedExtensions));
  if (r.retryDelayMs > 0) env.retry_delay_ms = r.retryDelayMs;
  return env;
}
