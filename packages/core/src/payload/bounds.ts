/**
 * Payload bounds at a boundary: nesting depth (`max_payload_depth`) and encoded size
 * (`max_payload_bytes`). One iterative walk — no recursion, so a 100,000-deep payload gets a coded
 * error instead of a stack overflow — used wherever a payload is parsed or serialized (the CLI,
 * every host's wire, the sidecar). Never on the in-process hot path (ARCHITECTURE §3).
 */
import { CpexError } from '../errors/cpex-error.js';
import { describeSparse, tooSparse } from './holes.js';

/** Default `plugin_settings.max_payload_depth` (serde_json's recursion limit). */
export const DEFAULT_MAX_PAYLOAD_DEPTH = 128;

export interface PayloadBounds {
  /** Maximum nesting of arrays/objects; a scalar has depth 0, `{}` and `[]` depth 1. */
  maxDepth: number;
  /** Maximum size of the payload's JSON encoding in UTF-8 bytes; omitted = not measured. */
  maxBytes?: number;
}

export interface PayloadMeasure {
  /** Nesting depth of the value (0 for a scalar). */
  depth: number;
  /** UTF-8 bytes of its JSON encoding; only measured when `maxBytes` was given. */
  bytes?: number;
}

type Frame = {
  /** The container (after toJSON). */
  node: object;
  keys: string[] | null;
  i: number;
  bytes: number;
  height: number;
  /** Members written so far (for commas). */
  n: number;
  /** The key/index the parent is waiting to account for. */
  keyBytes: number;
};

const utf8 = (s: string): number => Buffer.byteLength(s, 'utf8');

/**
 * Check `value` against `bounds` where it crosses a boundary (`where` names the boundary in the
 * message, e.g. `cpex invoke --payload` or `python plugin "pii" request on tool_pre_invoke`).
 * Throws `CPEX_ERR_PAYLOAD_TOO_DEEP`, `CPEX_ERR_PAYLOAD_TOO_LARGE`, or `CPEX_ERR_INVALID_PAYLOAD`
 * (a cycle, or a value whose getters/proxy traps/toJSON throw). Shared sub-objects are measured
 * once (a DAG of repeated references costs its distinct objects, not its expansion).
 *
 * @example
 * const { bytes } = checkPayloadBounds(payload, { maxDepth: settings.maxPayloadDepth,
 *   maxBytes: settings.maxPayloadBytes }, `wasm plugin "${name}" on ${hook}`);
 */
export function checkPayloadBounds(value: unknown, bounds: PayloadBounds, where: string): PayloadMeasure {
  const { maxDepth } = bounds;
  const maxBytes = bounds.maxBytes;
  const measureBytes = maxBytes !== undefined;
  try {
    return walk(value, maxDepth, measureBytes ? maxBytes : Number.POSITIVE_INFINITY, measureBytes, where);
  } catch (e) {
    if (isCpexError(e)) throw e;
    throw new CpexError(
      'CPEX_ERR_INVALID_PAYLOAD',
      `${where}: the payload cannot be inspected (${describeThrown(e)})`,
      { details: { where } },
    );
  }
}

/**
 * Parse JSON text from a boundary and check it: the text's size against `maxBytes` (before
 * parsing), its syntax, and the parsed value's depth. Coded errors only.
 */
export function parsePayloadJson(text: string, bounds: PayloadBounds, where: string): unknown {
  if (bounds.maxBytes !== undefined && text.length > bounds.maxBytes / 3 && utf8(text) > bounds.maxBytes) {
    throw tooLarge(where, utf8(text), bounds.maxBytes);
  }
  let value: unknown;
  try {
    value = JSON.parse(text); // V8's JSON.parse is iterative: deep text does not overflow here
  } catch (e) {
    throw new CpexError('CPEX_ERR_INVALID_PAYLOAD', `${where}: invalid JSON (${describeThrown(e)})`, {
      details: { where },
    });
  }
  checkPayloadBounds(value, { maxDepth: bounds.maxDepth }, where);
  return value;
}

/**
 * Serialize a payload to JSON after checking it (depth first, so JSON.stringify cannot overflow
 * the stack), then check the encoded size. Returns the text.
 */
export function serializePayloadJson(value: unknown, bounds: PayloadBounds, where: string): string {
  checkPayloadBounds(value, { maxDepth: bounds.maxDepth }, where);
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (e) {
    throw new CpexError(
      'CPEX_ERR_INVALID_PAYLOAD',
      `${where}: the payload cannot be serialized (${describeThrown(e)})`,
      { details: { where } },
    );
  }
  text ??= 'null';
  if (bounds.maxBytes !== undefined && text.length > bounds.maxBytes / 3) {
    const n = utf8(text);
    if (n > bounds.maxBytes) throw tooLarge(where, n, bounds.maxBytes);
  }
  return text;
}

function tooLarge(where: string, bytes: number, max: number, partial = false): CpexError {
  const size = partial ? `more than ${max} bytes (measuring stopped at ${bytes})` : `${bytes} bytes`;
  return new CpexError(
    'CPEX_ERR_PAYLOAD_TOO_LARGE',
    `${where}: payload of ${size} exceeds max_payload_bytes ${max}`,
    {
      details: { where, maxBytes: max },
    },
  );
}

function tooDeep(where: string, max: number): CpexError {
  return new CpexError(
    'CPEX_ERR_PAYLOAD_TOO_DEEP',
    `${where}: payload nests deeper than max_payload_depth ${max}`,
    { details: { where, maxDepth: max } },
  );
}

/** `instanceof` without trusting the value: a Proxy's getPrototypeOf trap may throw. */
function isCpexError(e: unknown): boolean {
  try {
    return e instanceof CpexError;
  } catch {
    return false;
  }
}

/** A thrown value described without trusting it (it may be a hostile Proxy). */
function describeThrown(e: unknown): string {
  try {
    if (e instanceof Error) return String(e.message).slice(0, 200);
  } catch {
    /* fall through */
  }
  try {
    return typeof e;
  } catch {
    return 'unknown';
  }
}

function scalarBytes(v: unknown, inArray: boolean): number {
  switch (typeof v) {
    case 'string':
      return utf8(JSON.stringify(v));
    case 'number':
      return Number.isFinite(v) ? String(v).length : 4;
    case 'boolean':
      return v ? 4 : 5;
    case 'bigint':
      return String(v).length;
    default:
      // null; undefined/function/symbol are dropped from objects and become null in arrays
      return v === null || inArray ? 4 : -1;
  }
}

/** Resolve toJSON as JSON.stringify does (Date and friends). */
function jsonValue(v: unknown, key: string): unknown {
  if (v !== null && typeof v === 'object') {
    const toJSON = (v as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return toJSON.call(v, key);
  }
  return v;
}

function walk(
  root: unknown,
  maxDepth: number,
  maxBytes: number,
  measure: boolean,
  where: string,
): PayloadMeasure {
  const top = jsonValue(root, '');
  if (top === null || typeof top !== 'object') {
    if (!measure) return { depth: 0 };
    const b = Math.max(scalarBytes(top, true), 0);
    if (b > maxBytes) throw tooLarge(where, b, maxBytes);
    return { depth: 0, bytes: b };
  }
  if (maxDepth < 1) throw tooDeep(where, maxDepth);
  // Per distinct container: its subtree height and encoded bytes (post-order, memoized).
  const done = new Map<object, { height: number; bytes: number }>();
  const onPath = new Set<object>();
  const stack: Frame[] = [];
  const open = (node: object, keyBytes: number): void => {
    if (onPath.has(node)) {
      throw new CpexError('CPEX_ERR_INVALID_PAYLOAD', `${where}: the payload contains a cycle`, {
        details: { where },
      });
    }
    if (stack.length >= maxDepth) throw tooDeep(where, maxDepth);
    // Short arrays with holes are measured as JSON encodes them (each hole is null); a long one
    // is refused before the index walk below (and any encoder) visits every index of it.
    const sparse = Array.isArray(node) ? tooSparse(node) : undefined;
    if (sparse) {
      throw new CpexError(
        'CPEX_ERR_INVALID_PAYLOAD',
        `${where}: the payload contains ${describeSparse(sparse)}`,
        {
          details: { where },
        },
      );
    }
    onPath.add(node);
    stack.push({
      node,
      keys: Array.isArray(node) ? null : Object.keys(node),
      i: 0,
      bytes: 2,
      height: 1,
      n: 0,
      keyBytes,
    });
  };
  open(top, 0);
  let result = { height: 0, bytes: 0 };
  while (stack.length > 0) {
    const f = stack[stack.length - 1]!;
    const arr = f.keys === null ? (f.node as unknown[]) : null;
    const len = arr ? arr.length : f.keys!.length;
    if (f.i >= len) {
      stack.pop();
      onPath.delete(f.node);
      const r = { height: f.height, bytes: f.bytes };
      done.set(f.node, r);
      if (stack.length === 0) {
        result = r;
        break;
      }
      const parent = stack[stack.length - 1]!;
      addChild(parent, r.height, f.keyBytes + r.bytes, maxBytes, where);
      continue;
    }
    const idx = f.i++;
    const key = arr ? String(idx) : f.keys![idx]!;
    const raw = arr ? arr[idx] : (f.node as Record<string, unknown>)[key];
    const child = jsonValue(raw, key);
    const keyBytes = arr ? 0 : measure ? utf8(JSON.stringify(key)) + 1 : 0;
    if (child !== null && typeof child === 'object') {
      const memo = done.get(child);
      if (memo) {
        if (stack.length + memo.height > maxDepth) throw tooDeep(where, maxDepth);
        addChild(f, memo.height, keyBytes + memo.bytes, maxBytes, where);
      } else open(child, keyBytes);
    } else if (measure) {
      const b = scalarBytes(child, arr !== null);
      if (b >= 0) addChild(f, 0, keyBytes + b, maxBytes, where);
    }
  }
  return measure ? { depth: result.height, bytes: result.bytes } : { depth: result.height };
}

function addChild(f: Frame, height: number, bytes: number, maxBytes: number, where: string): void {
  if (height + 1 > f.height) f.height = height + 1;
  f.bytes += bytes + (f.n > 0 ? 1 : 0);
  f.n++;
  if (f.bytes > maxBytes) throw tooLarge(where, f.bytes, maxBytes, true);
}
