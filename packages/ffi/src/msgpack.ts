/**
 * The sidecar's MessagePack fast path. Every frame is decoded and every answer encoded here; the
 * generic @msgpack/msgpack codec stays the reference. The fast path handles JSON-shaped data (nil,
 * booleans, numbers, strings, `bin`, arrays, maps with string keys) and gives exactly the values
 * and bytes @msgpack/msgpack gives for it (property-tested in test/msgpack.test.ts). Anything else
 * — extension types, integers beyond ±2^53, invalid UTF-8, number keys, a `__proto__` key, deep
 * nesting, malformed or truncated input, non-plain objects — makes it give up, and the caller
 * hands the whole value to @msgpack/msgpack: its results and its errors are unchanged.
 *
 * Why it is faster: strings are cut out of the frame with Buffer's native slicers (ASCII is
 * checked with simdutf's `isAscii`, then copied as latin1, about ten times cheaper than UTF-8
 * decoding a 1 KB string on Node 20), short keys come from a cache, and there is no per-call
 * decoder state or stack of its own.
 */
import { isAscii, isUtf8 } from 'node:buffer';

/** Thrown inside the fast path to give up (not an Error: no stack trace is captured). */
const GIVE_UP = Symbol('msgpack fast path gave up');

/** Nesting the fast path follows (recursively); deeper values go to the generic, iterative codec. */
const MAX_FAST_DEPTH = 256;

/** Whether `e` is the fast path giving up (thrown by {@link frameValue}). */
export function isGiveUp(e: unknown): boolean {
  return e === GIVE_UP;
}

/** What {@link fastDecode} returns when it gave up. */
export const NOT_FAST: unique symbol = Symbol('not decoded by the fast path');

// ---- decoding -------------------------------------------------------------------------------

let src: Buffer = Buffer.alloc(0);
/** The caller's array: `bin` values are its subarrays, as @msgpack/msgpack returns them. */
let orig: Uint8Array = src;
let pos = 0;
let end = 0;
/** Deepest container level reached by the current decode (the top map is level 1). */
let deepest = 0;

/**
 * Strings up to KEY_MAX bytes (map keys, mostly) come from a direct-mapped cache: the same string
 * object for the same bytes, found by a hash of the bytes and one comparison. A slot holds the
 * last ASCII string that hashed to it.
 */
const KEY_MAX = 24;
const KEY_SLOTS = 1024;
const slotBytes: Array<Uint8Array | undefined> = new Array<Uint8Array | undefined>(KEY_SLOTS).fill(undefined);
const slotValue: string[] = new Array<string>(KEY_SLOTS).fill('');

/** Buffer's latin1 slicer, called directly (what toString('latin1') ends in), where Node has it. */
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice?: (s: number, e: number) => string })
  .latin1Slice;
const latin1 = (start: number, stop: number): string =>
  latin1Slice !== undefined ? latin1Slice.call(src, start, stop) : src.toString('latin1', start, stop);

let fastDecodedDepth = -1;

/**
 * Nesting depth of the value the last {@link fastDecode} returned (0 for a scalar, 1 for `{}`:
 * core's checkPayloadBounds measure), or -1 when that decode gave up.
 */
export function lastFastDepth(): number {
  return fastDecodedDepth;
}

/** Makes the object a top-level map is decoded into (instead of `{}`). */
let topMap: (() => Record<string, unknown>) | undefined;

/**
 * Decode one MessagePack value occupying all of `bytes`, or return {@link NOT_FAST} when the fast
 * path does not cover it (the caller then decodes with @msgpack/msgpack, which also reports any
 * error). `top`, when given, makes the object a top-level map's entries are stored into: a fixed
 * shape whose known keys are already fields, so storing them changes no hidden class. Its result
 * must behave as a plain object (the entries as own properties; absent keys may be undefined).
 */
export function fastDecode(bytes: Uint8Array, top?: () => Record<string, unknown>): unknown {
  // Not re-entrant by design; the saved state only guards against a caller that nests anyway.
  const prevSrc = src;
  const prevOrig = orig;
  const prevPos = pos;
  const prevEnd = end;
  const prevDeepest = deepest;
  const prevTop = topMap;
  topMap = top;
  orig = bytes;
  src = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  pos = 0;
  end = bytes.byteLength;
  deepest = 0;
  fastDecodedDepth = -1;
  try {
    const v = value(0);
    if (pos !== end) return NOT_FAST;
    fastDecodedDepth = deepest;
    return v;
  } catch (e) {
    if (e === GIVE_UP) return NOT_FAST;
    throw e;
  } finally {
    src = prevSrc;
    orig = prevOrig;
    pos = prevPos;
    end = prevEnd;
    deepest = prevDeepest;
    topMap = prevTop;
  }
}

/** Reserve the next `n` input bytes; returns where they start. */
function take(n: number): number {
  if (pos + n > end) throw GIVE_UP;
  pos += n;
  return pos - n;
}

const u8 = (): number => src[take(1)]!;
const u16 = (): number => src.readUInt16BE(take(2));
const u32 = (): number => src.readUInt32BE(take(4));

function value(depth: number): unknown {
  if (pos >= end) throw GIVE_UP;
  const b = src[pos++]!;
  if (b < 0x80) return b;
  if (b >= 0xe0) return b - 0x100;
  if (b >= 0xa0 && b <= 0xbf) return string(b & 0x1f);
  if (b <= 0x8f) return map(b & 0x0f, depth);
  if (b <= 0x9f) return array(b & 0x0f, depth);
  switch (b) {
    case 0xc0:
      return null;
    case 0xc2:
      return false;
    case 0xc3:
      return true;
    case 0xc4:
      return bin(u8());
    case 0xc5:
      return bin(u16());
    case 0xc6:
      return bin(u32());
    case 0xca:
      return src.readFloatBE(take(4));
    case 0xcb:
      return src.readDoubleBE(take(8));
    case 0xcc:
      return u8();
    case 0xcd:
      return u16();
    case 0xce:
      return u32();
    case 0xcf:
    case 0xd3:
      return int64(b === 0xd3);
    case 0xd0:
      return src.readInt8(take(1));
    case 0xd1:
      return src.readInt16BE(take(2));
    case 0xd2:
      return src.readInt32BE(take(4));
    case 0xd9:
      return string(u8());
    case 0xda:
      return string(u16());
    case 0xdb:
      return string(u32());
    case 0xdc:
      return array(u16(), depth);
    case 0xdd:
      return array(u32(), depth);
    case 0xde:
      return map(u16(), depth);
    case 0xdf:
      return map(u32(), depth);
    default:
      throw GIVE_UP; // 0xc1 (never used) and the extension types
  }
}

/** A 64-bit integer within ±(2^53 − 1); beyond, @msgpack/msgpack's rounding applies (give up). */
function int64(signed: boolean): number {
  const at = take(8);
  const hi = signed ? src.readInt32BE(at) : src.readUInt32BE(at);
  const v = hi * 0x1_0000_0000 + src.readUInt32BE(at + 4);
  if (!Number.isSafeInteger(v)) throw GIVE_UP;
  return v;
}

function string(n: number): string {
  const start = take(n);
  if (n <= KEY_MAX) return shortString(start, n);
  return longString(start, pos);
}

/** Short strings (keys, mostly): cached by their bytes. */
function shortString(start: number, n: number): string {
  if (n === 0) return '';
  const stop = start + n;
  // the slot: a hash of the length and three bytes (the comparison below decides)
  const h = Math.imul(
    n ^ (src[start]! << 7) ^ (src[stop - 1]! << 14) ^ (src[start + (n >> 1)]! << 21),
    0x01000193,
  );
  const slot = h >>> 22; // the top 10 bits: KEY_SLOTS
  const kb = slotBytes[slot];
  if (kb !== undefined && kb.length === n) {
    let j = 0;
    while (j < n && kb[j] === src[start + j]) j++;
    if (j === n) return slotValue[slot]!;
  }
  for (let j = start; j < stop; j++) if (src[j]! >= 0x80) return longString(start, stop);
  const value = latin1(start, stop);
  slotBytes[slot] = Uint8Array.prototype.slice.call(src, start, stop);
  slotValue[slot] = value;
  return value;
}

function longString(start: number, stop: number): string {
  const view = new Uint8Array(src.buffer, src.byteOffset + start, stop - start);
  if (isAscii(view)) return latin1(start, stop);
  if (!isUtf8(view)) throw GIVE_UP; // @msgpack/msgpack's replacement rules apply
  return src.toString('utf8', start, stop);
}

function bin(n: number): Uint8Array {
  const at = take(n);
  return orig.subarray(at, at + n);
}

function array(n: number, depth: number): unknown[] {
  if (depth >= MAX_FAST_DEPTH || n > end - pos) throw GIVE_UP;
  if (depth >= deepest) deepest = depth + 1;
  const out = new Array<unknown>(n);
  for (let i = 0; i < n; i++) out[i] = value(depth + 1);
  return out;
}

function map(n: number, depth: number): Record<string, unknown> {
  if (depth >= MAX_FAST_DEPTH || n * 2 > end - pos) throw GIVE_UP;
  if (depth >= deepest) deepest = depth + 1;
  const out: Record<string, unknown> = depth === 0 && topMap !== undefined ? topMap() : {};
  for (let i = 0; i < n; i++) {
    if (pos >= end) throw GIVE_UP;
    const b = src[pos++]!;
    let k: string;
    if (b >= 0xa0 && b <= 0xbf) k = string(b & 0x1f);
    else if (b === 0xd9) k = string(u8());
    else if (b === 0xda) k = string(u16());
    else if (b === 0xdb) k = string(u32());
    else throw GIVE_UP; // number keys and others: @msgpack/msgpack's key rules
    if (k === '__proto__') throw GIVE_UP; // @msgpack/msgpack refuses it, with its message
    out[k] = value(depth + 1);
  }
  return out;
}

// ---- encoding -------------------------------------------------------------------------------

// Frames are written into a slab and handed out as views of it (no copy); a slab is never written
// twice, so a frame stays valid while a socket holds it. A frame that outgrows the slab moves to a
// bigger one.
const SLAB_BYTES = 64 * 1024;
let out: Buffer = Buffer.allocUnsafeSlow(SLAB_BYTES);
/** Where the next frame starts in `out`. */
let slabPos = 0;
/** Where the frame being written starts in `out`. */
let start = 0;
let wpos = 0;
let encoding = false;

/**
 * Encode `message` as MessagePack after a `headerBytes` gap (4: a frame, its big-endian body length
 * written there; 0: the bare value), with @msgpack/msgpack's bytes (`ignoreUndefined`: undefined
 * map values are left out, undefined elsewhere is nil). Returns undefined when the fast path does
 * not cover a value in it (then encode with @msgpack/msgpack).
 */
export function fastEncodeFrame(message: unknown, headerBytes: 0 | 4): Buffer | undefined {
  if (!frameBegin(headerBytes)) return undefined;
  try {
    encodeValue(message, 1);
  } catch (e) {
    frameAbort();
    if (e === GIVE_UP) return undefined;
    throw e;
  }
  return frameEnd(headerBytes);
}

/**
 * Start a frame written piece by piece ({@link frameRaw}, {@link frameNumber}, {@link frameValue}),
 * finished by {@link frameEnd} or dropped by {@link frameAbort}. False when a frame is already
 * being written (the caller then uses @msgpack/msgpack).
 */
export function frameBegin(headerBytes: 0 | 4): boolean {
  if (encoding) return false;
  encoding = true;
  if (out.length - slabPos < 512) {
    out = Buffer.allocUnsafeSlow(SLAB_BYTES);
    slabPos = 0;
  }
  start = slabPos;
  wpos = start + headerBytes;
  return true;
}

/** Append bytes that are already MessagePack (a precomputed part of a message). */
export function frameRaw(bytes: Uint8Array): void {
  const n = bytes.length;
  room(n);
  if (n <= 24) {
    // a small part: a loop is cheaper than TypedArray#set's call
    for (let i = 0; i < n; i++) out[wpos + i] = bytes[i]!;
  } else {
    out.set(bytes, wpos);
  }
  wpos += n;
}

/** Append a number (@msgpack/msgpack's choice of format). */
export function frameNumber(v: number): void {
  encodeNumber(v);
}

/**
 * Append any value through the fast path. Throws the internal give-up signal for a value it does
 * not cover: the caller aborts the frame (frameAbort) and encodes the message another way.
 */
export function frameValue(v: unknown): void {
  encodeValue(v, 2);
}

/** Finish the frame: its bytes, as a view of the slab. */
export function frameEnd(headerBytes: 0 | 4): Buffer {
  const frame = out.subarray(start, wpos);
  if (headerBytes === 4) frame.writeUInt32BE(wpos - start - 4, 0);
  slabPos = wpos;
  encoding = false;
  if (out.length > SLAB_BYTES * 16) {
    // a frame grew the slab: do not keep a huge one for the small frames that follow
    out = Buffer.allocUnsafeSlow(SLAB_BYTES);
    slabPos = 0;
  }
  return frame;
}

/** Drop the frame being written. */
export function frameAbort(): void {
  wpos = slabPos;
  encoding = false;
}

function room(n: number): void {
  if (wpos + n <= out.length) return;
  const size = Math.max(SLAB_BYTES, (wpos - start + n) * 2);
  const next = Buffer.allocUnsafeSlow(size);
  out.copy(next, 0, start, wpos);
  wpos -= start;
  start = 0;
  slabPos = 0;
  out = next;
}

function encodeValue(v: unknown, depth: number): void {
  if (v === null || v === undefined) {
    room(1);
    out[wpos++] = 0xc0;
    return;
  }
  switch (typeof v) {
    case 'boolean':
      room(1);
      out[wpos++] = v ? 0xc3 : 0xc2;
      return;
    case 'number':
      encodeNumber(v);
      return;
    case 'string':
      encodeString(v);
      return;
    case 'object':
      break;
    default:
      throw GIVE_UP; // bigint, function, symbol
  }
  if (depth >= MAX_FAST_DEPTH) throw GIVE_UP;
  if (Array.isArray(v)) {
    const n = v.length;
    lengthHeader(n, 0x90, 16, 0, 0xdc, 0xdd);
    for (let i = 0; i < n; i++) encodeValue(v[i], depth + 1);
    return;
  }
  if (v instanceof Uint8Array) {
    const n = v.byteLength;
    lengthHeader(n, 0, 0, 0xc4, 0xc5, 0xc6);
    room(n);
    out.set(v, wpos);
    wpos += n;
    return;
  }
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) throw GIVE_UP; // Date, Map, class instances...
  const obj = v as Record<string, unknown>;
  const keys = Object.keys(obj);
  let size = 0;
  for (let i = 0; i < keys.length; i++) if (obj[keys[i]!] !== undefined) size++;
  lengthHeader(size, 0x80, 16, 0, 0xde, 0xdf);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const item = obj[k];
    if (item === undefined) continue;
    encodeString(k);
    encodeValue(item, depth + 1);
  }
}

/** Write a type byte and reserve `size` bytes after it; returns where they start. */
function tag(type: number, size: number): number {
  out[wpos] = type;
  const at = wpos + 1;
  wpos = at + size;
  return at;
}

/**
 * A length header: the fix form `fix + n` below `fixMax` (0: none), else the 8-bit form when
 * there is one (`t8` ≠ 0), else the 16- or 32-bit form.
 */
function lengthHeader(n: number, fix: number, fixMax: number, t8: number, t16: number, t32: number): void {
  room(5);
  if (n < fixMax) out[wpos++] = fix + n;
  else if (t8 !== 0 && n < 0x100) out[tag(t8, 1)] = n;
  else if (n < 0x10000) out.writeUInt16BE(n, tag(t16, 2));
  else out.writeUInt32BE(n, tag(t32, 4));
}

function encodeNumber(v: number): void {
  room(9);
  if (!Number.isSafeInteger(v)) out.writeDoubleBE(v, tag(0xcb, 8));
  else if (v >= 0) {
    if (v < 0x80) out[wpos++] = v;
    else if (v < 0x100) out[tag(0xcc, 1)] = v;
    else if (v < 0x10000) out.writeUInt16BE(v, tag(0xcd, 2));
    else if (v < 0x1_0000_0000) out.writeUInt32BE(v, tag(0xce, 4));
    else write64(tag(0xcf, 8), v);
  } else if (v >= -0x20) out[wpos++] = 0xe0 | (v + 0x20);
  else if (v >= -0x80) out.writeInt8(v, tag(0xd0, 1));
  else if (v >= -0x8000) out.writeInt16BE(v, tag(0xd1, 2));
  else if (v >= -0x8000_0000) out.writeInt32BE(v, tag(0xd2, 4));
  else write64(tag(0xd3, 8), v);
}

/** A safe integer as 64-bit big-endian two's complement (the high word floored, as @msgpack/msgpack). */
function write64(at: number, v: number): void {
  out.writeInt32BE(Math.floor(v / 0x1_0000_0000) | 0, at);
  out.writeUInt32BE(v >>> 0, at + 4);
}

function encodeString(s: string): void {
  const n = s.length;
  if (n < 32) {
    // Short: ASCII is written in place (the common case for keys and codes).
    room(1 + n);
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      out[wpos + 1 + i] = c;
    }
    if (i === n) {
      out[wpos] = 0xa0 + n;
      wpos += 1 + n;
      return;
    }
  }
  const bytes = Buffer.byteLength(s, 'utf8');
  const ascii = bytes === n;
  // A lone surrogate: @msgpack/msgpack's own encoders disagree on it; keep its bytes.
  if (!ascii && !(s as string & { isWellFormed(): boolean }).isWellFormed()) throw GIVE_UP;
  lengthHeader(bytes, 0xa0, 32, 0xd9, 0xda, 0xdb);
  room(bytes);
  wpos += out.write(s, wpos, bytes, ascii ? 'latin1' : 'utf8');
}
