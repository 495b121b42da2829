/**
 * Small readers and rewriters of WebAssembly binaries: the top-level import names of a component
 * (with their versions, which jco's transpile output drops) and the memory maximum of a core module.
 */

const COMPONENT_LAYER = 0x01;
const SECTION_IMPORT_COMPONENT = 10;
const SECTION_MEMORY_CORE = 5;
const PAGE = 65_536;

class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}
  byte(): number {
    if (this.pos >= this.buf.length) throw new Error('unexpected end of binary');
    return this.buf[this.pos++]!;
  }
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result >>> 0;
      shift += 7;
      if (shift > 35) throw new Error('LEB128 too long');
    }
  }
  u64(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 70n) throw new Error('LEB128 too long');
    }
  }
  name(): string {
    const len = this.u32();
    const s = new TextDecoder('utf-8', { fatal: true }).decode(this.buf.subarray(this.pos, this.pos + len));
    this.pos += len;
    return s;
  }
}

/** True when `bytes` is a component (layer 1), false for a core module. */
export function isComponent(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 8 &&
    bytes[0] === 0x00 &&
    bytes[1] === 0x61 &&
    bytes[2] === 0x73 &&
    bytes[3] === 0x6d &&
    bytes[6] === COMPONENT_LAYER &&
    bytes[7] === 0x00
  );
}

/**
 * The instances and functions a component imports at its top level, with versions
 * (`wasi:io/poll@0.2.6`); type imports are left out.
 * Only reads the import sections; throws on a malformed binary.
 */
export function componentImportNames(bytes: Uint8Array): string[] {
  const r = new Reader(bytes);
  r.pos = 8;
  const names: string[] = [];
  while (r.pos < bytes.length) {
    const id = r.byte();
    const size = r.u32();
    const end = r.pos + size;
    if (id === SECTION_IMPORT_COMPONENT) {
      const count = r.u32();
      for (let i = 0; i < count; i++) {
        const tag = r.byte();
        if (tag !== 0x00 && tag !== 0x01) throw new Error(`unknown import name form 0x${tag.toString(16)}`);
        const name = r.name();
        if (tag === 0x01) r.name(); // legacy version-suffix form
        // externdesc
        const sort = r.byte();
        // type imports (0x03: the record/variant names a world `use`s) are not capabilities
        if (sort !== 0x03) names.push(name);
        if (sort === 0x00) {
          r.byte(); // 0x11 core module
          r.u32();
        } else if (sort === 0x03) {
          const bound = r.byte();
          if (bound === 0x00) r.u32();
        } else if (sort === 0x02) {
          // value imports are not used by this world; stop at the first one, names so far suffice
          const kind = r.byte();
          if (kind === 0x00) r.u32();
          else break;
        } else r.u32();
      }
    }
    r.pos = end;
  }
  return names;
}

function encodeU32(n: number): number[] {
  const out: number[] = [];
  let v = n >>> 0;
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
}

/** What `capMemory` did to a core module. */
export interface MemoryCapResult {
  bytes: Uint8Array;
  /** Memories defined by the module: their minimum and new maximum, in bytes. */
  memories: Array<{ minBytes: number; maxBytes: number }>;
}

/**
 * Rewrites the maximum of every memory a core module defines to at most `maxBytes` (rounded down
 * to 64 KiB pages), so `memory.grow` past the cap returns -1 in the guest. Throws when a memory's
 * minimum is already above the cap (the module cannot run within it). Imported memories are left
 * alone: they are the defining module's. 64-bit memories are refused.
 */
export function capMemory(bytes: Uint8Array, maxBytes: number): MemoryCapResult {
  const capPages = Math.floor(maxBytes / PAGE);
  const r = new Reader(bytes);
  r.pos = 8;
  const memories: MemoryCapResult['memories'] = [];
  while (r.pos < bytes.length) {
    const sectionStart = r.pos;
    const id = r.byte();
    const size = r.u32();
    const bodyStart = r.pos;
    const end = bodyStart + size;
    if (id === SECTION_MEMORY_CORE) {
      const count = r.u32();
      const body: number[] = [...encodeU32(count)];
      for (let i = 0; i < count; i++) {
        const flags = r.byte();
        if (flags & 0x04) throw new Error('64-bit memories are not supported');
        const min = r.u32();
        const hasMax = (flags & 0x01) !== 0;
        const max = hasMax ? r.u32() : Number.POSITIVE_INFINITY;
        if (min > capPages) {
          throw new Error(`memory needs at least ${min * PAGE} bytes, above max_memory_bytes ${maxBytes}`);
        }
        const newMax = Math.min(max, capPages);
        memories.push({ minBytes: min * PAGE, maxBytes: newMax * PAGE });
        body.push(flags | 0x01, ...encodeU32(min), ...encodeU32(newMax));
      }
      const section = [SECTION_MEMORY_CORE, ...encodeU32(body.length), ...body];
      const out = new Uint8Array(bytes.length - (end - sectionStart) + section.length);
      out.set(bytes.subarray(0, sectionStart), 0);
      out.set(section, sectionStart);
      out.set(bytes.subarray(end), sectionStart + section.length);
      return { bytes: out, memories };
    }
    r.pos = end;
  }
  return { bytes, memories };
}

/** Splits `ns:pkg/iface@1.2.3` into its parts; the version may be absent. */
export function parseInterfaceName(
  name: string,
): { ns: string; pkg: string; iface: string; version?: string } | undefined {
  const m = /^([a-z][a-z0-9-]*):([a-z][a-z0-9-]*)\/([a-z][a-z0-9-]*)(?:@(.+))?$/.exec(name);
  if (!m) return undefined;
  return { ns: m[1]!, pkg: m[2]!, iface: m[3]!, ...(m[4] ? { version: m[4] } : {}) };
}
