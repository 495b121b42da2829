/**
 * The cpex ffi wire layer (docs/ffi/protocol.md): length-prefixed frames, a MessagePack body (JSON
 * for debugging), return codes and the result envelope with the Rust cpex-ffi field names.
 */
import { Decoder, Encoder } from '@msgpack/msgpack';
import type { PipelineResult } from '@cpex/core';
import {
  PAYLOAD_TYPE_CMF_MESSAGE,
  PAYLOAD_TYPE_GENERIC,
  PAYLOAD_TYPE_IDENTITY,
  errorToWire,
  extensionsToJSON,
  stringifyExact,
  violationToWire,
} from '@cpex/core/host';
import { fastDecode, fastEncodeFrame, lastFastDepth, NOT_FAST } from './msgpack.js';

// The wire shape of violations and plugin errors is core's (one mapping for every wire).
export { errorToWire, violationToWire };

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

/** `msgpack` (default) or `json` (debug): a frame whose body starts with `{` is JSON. */
export type Encoding = 'msgpack' | 'json';

// One encoder and decoder for the process (encoding is synchronous, so they are never shared by two
// calls at once). maxDepth: the deepest max_payload_depth a config may set (1000) plus the envelope;
// the payload's own limit is checked at ingress.
// useBigInt64: a BigInt (an exact 64-bit integer a plugin keeps, e.g. a WASM guest's u64 in its
// local state) goes out as int64/uint64, never refused as an unknown object.
const encoder = new Encoder({ ignoreUndefined: true, maxDepth: 1024, useBigInt64: true });
const decoder = new Decoder();

/** Encode one value as MessagePack (undefined fields left out). */
export function packValue(value: unknown): Uint8Array {
  const fast = fastEncodeFrame(value, 0);
  return fast === undefined
    ? encoder.encode(value)
    : new Uint8Array(fast.buffer, fast.byteOffset, fast.length);
}

/** Decode one MessagePack value; throws on malformed bytes or trailing data. */
export function unpackValue(bytes: Uint8Array): unknown {
  const fast = fastDecode(bytes);
  return fast === NOT_FAST ? decoder.decode(bytes) : fast;
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

/**
 * Decode a frame body in its own encoding. Throws on malformed input, and on a map key `__proto__`
 * anywhere in it (MessagePack's decoder refuses it; JSON is held to the same rule). `top` makes
 * the object a MessagePack body's top-level map is decoded into on the fast path (see fastDecode).
 */
export function decodeBody(
  body: Uint8Array,
  encoding: Encoding,
  top?: () => Record<string, unknown>,
): unknown {
  bodyDepth = -1;
  if (encoding === 'json') {
    const value: unknown = JSON.parse(
      Buffer.from(body.buffer, body.byteOffset, body.length).toString('utf8'),
    );
    refuseProtoKeys(value);
    return value;
  }
  const fast = fastDecode(body, top);
  if (fast === NOT_FAST) return decoder.decode(body);
  bodyDepth = lastFastDepth();
  return fast;
}

let bodyDepth = -1;

/**
 * The nesting depth (a scalar 0, `{}` 1) of the body the last {@link decodeBody} returned, when
 * the decoder measured it on the way (MessagePack on the fast path), else -1. Lets the sidecar
 * skip a depth walk that provably passes; read it straight after decodeBody.
 */
export function lastBodyDepth(): number {
  return bodyDepth;
}

/** Throws when a map anywhere in a decoded JSON value has the key `__proto__` (iterative). */
function refuseProtoKeys(value: unknown): void {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) {
      for (const c of v) if (c !== null && typeof c === 'object') stack.push(c);
      continue;
    }
    if (Object.hasOwn(v, '__proto__')) throw new Error('The key __proto__ is not allowed');
    for (const c of Object.values(v)) if (c !== null && typeof c === 'object') stack.push(c);
  }
}

/** Encode a message body. */
export function encodeBody(message: unknown, encoding: Encoding): Uint8Array {
  if (encoding === 'json') return Buffer.from(stringifyExact(message), 'utf8');
  return packValue(message);
}

/**
 * Encode a message straight into a frame (header + body): one copy of the encoder's buffer, no
 * intermediate body. Throws when the message cannot be encoded.
 */
export function encodeFrame(message: unknown, encoding: Encoding): Buffer {
  if (encoding === 'json') return frame(encodeBody(message, encoding));
  const fast = fastEncodeFrame(message, FRAME_HEADER_BYTES);
  if (fast !== undefined) return fast;
  const body = encoder.encodeSharedRef(message);
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.length);
  out.writeUInt32BE(body.length, 0);
  out.set(body, FRAME_HEADER_BYTES);
  return out;
}

/**
 * The request id of a frame body that failed to decode, when it can still be read: a MessagePack
 * map (or JSON object) whose first key is `id` with a non-negative integer (the order the Go
 * client writes). Otherwise 0. Lets the sidecar answer a malformed request on its own id, so the
 * caller waiting for it gets the error instead of nothing.
 */
export function peekId(body: Uint8Array, encoding: Encoding): number {
  if (encoding === 'json') {
    const head = Buffer.from(body.buffer, body.byteOffset, Math.min(body.length, 64)).toString('latin1');
    const m = /^\{\s*"id"\s*:\s*(\d{1,15})\s*[,}]/.exec(head);
    return m ? Number(m[1]) : 0;
  }
  let i = 0;
  const b0 = body[i++];
  if (b0 === undefined) return 0;
  if (b0 === 0xde) i += 2;
  else if (b0 === 0xdf) i += 4;
  else if (b0 < 0x81 || b0 > 0x8f) return 0;
  if (body[i] !== 0xa2 || body[i + 1] !== 0x69 || body[i + 2] !== 0x64) return 0;
  i += 3;
  const t = body[i];
  if (t === undefined) return 0;
  const view = new DataView(body.buffer, body.byteOffset, body.length);
  const has = (n: number) => body.length >= i + 1 + n;
  if (t <= 0x7f) return t;
  if (t === 0xcc && has(1)) return view.getUint8(i + 1);
  if (t === 0xcd && has(2)) return view.getUint16(i + 1);
  if (t === 0xce && has(4)) return view.getUint32(i + 1);
  if (t === 0xcf && has(8)) {
    const v = view.getBigUint64(i + 1);
    return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : 0;
  }
  return 0;
}

/**
 * An upper bound of the JSON size (UTF-8 bytes) of any value decoded from `bytes` bytes of this
 * encoding: a MessagePack byte becomes at most ~15 JSON bytes (a `bin` byte is `"1234567":255,`),
 * a JSON byte at most ~5.5 (`1e20` is `100000000000000000000`). When the bound is within
 * `max_payload_bytes`, measuring the payload (core's checkPayloadBounds with `maxBytes`) cannot
 * fail and is skipped; the rule is the same, only provably passing work is left out.
 */
export function jsonSizeBound(bytes: number, encoding: Encoding): number {
  return (encoding === 'json' ? 6 : 16) * bytes + 64;
}

/** What a FrameReader found in the byte stream. */
export type FrameEvent = { kind: 'frame'; body: Uint8Array } | { kind: 'oversize'; length: number };

/** Receives what a FrameReader finds, as it finds it (no event objects). */
export interface FrameSink {
  /** A complete frame body: a view of the received bytes, valid as long as the caller keeps it. */
  frame(body: Uint8Array): void;
  /** A frame whose length exceeds the limit: reported once, its body skipped. */
  oversize(length: number): void;
}

/**
 * Splits a byte stream into frames. Frames are cut out of the received chunk itself; bytes are
 * copied only for a frame that spans chunks, once, when all of it has arrived. An oversize frame
 * is reported once and its body skipped, so the stream stays in sync and later frames are read
 * normally.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Bytes the held chunks must reach before a frame can complete. */
  private need = FRAME_HEADER_BYTES;
  private skip = 0;

  constructor(private readonly maxFrameBytes = DEFAULT_MAX_FRAME_BYTES) {}

  /** Feed bytes; returns the complete frames (and oversize notices) they finish. */
  push(chunk: Buffer): FrameEvent[] {
    const events: FrameEvent[] = [];
    this.feed(chunk, {
      frame: (body) => events.push({ kind: 'frame', body }),
      oversize: (length) => events.push({ kind: 'oversize', length }),
    });
    return events;
  }

  /** Feed bytes; the frames (and oversize notices) they finish go to `sink`, in order. */
  feed(chunk: Buffer, sink: FrameSink): void {
    if (this.skip > 0) {
      const n = Math.min(this.skip, chunk.length);
      this.skip -= n;
      chunk = chunk.subarray(n);
      if (chunk.length === 0) return;
    }
    if (this.buffered > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      if (this.buffered < this.need) return;
      chunk = Buffer.concat(this.chunks, this.buffered);
      this.chunks = [];
      this.buffered = 0;
    }
    let off = 0;
    while (chunk.length - off >= FRAME_HEADER_BYTES) {
      const len = chunk.readUInt32BE(off);
      if (len > this.maxFrameBytes) {
        sink.oversize(len);
        const available = chunk.length - off - FRAME_HEADER_BYTES;
        if (available >= len) {
          off += FRAME_HEADER_BYTES + len;
          continue;
        }
        this.skip = len - available;
        off = chunk.length;
        break;
      }
      if (chunk.length - off - FRAME_HEADER_BYTES < len) break;
      sink.frame(chunk.subarray(off + FRAME_HEADER_BYTES, off + FRAME_HEADER_BYTES + len));
      off += FRAME_HEADER_BYTES + len;
    }
    if (off < chunk.length) {
      const rest = chunk.subarray(off);
      this.chunks = [rest];
      this.buffered = rest.length;
      this.need =
        rest.length >= FRAME_HEADER_BYTES ? FRAME_HEADER_BYTES + rest.readUInt32BE(0) : FRAME_HEADER_BYTES;
    } else {
      this.need = FRAME_HEADER_BYTES;
    }
  }

  /** Bytes held for an incomplete frame. */
  get pending(): number {
    return this.buffered;
  }
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
