/**
 * Hook payload policies (Python cpex semantics): with a policy for the hook only changes to its
 * writable top-level fields are applied (others dropped with a warning; no writable change means
 * "not modified"); with `default_hook_policy: deny`, modifications on hooks without a policy are
 * ignored.
 */
import { setOwn } from '../context/copy.js';
import { pushElementPairs } from '../extensions/equality.js';
import { walkPairs } from '../payload/pairs.js';

export type PolicyOutcome =
  | { accepted: true; payload: unknown; dropped: string[] }
  | { accepted: false; reason: string; dropped: string[] };

export function applyPolicy(
  writable: ReadonlySet<string> | undefined,
  defaultDeny: boolean,
  input: unknown,
  returned: unknown,
): PolicyOutcome {
  if (!writable) {
    if (defaultDeny)
      return {
        accepted: false,
        reason: 'default_hook_policy is deny and the hook has no policy',
        dropped: [],
      };
    return { accepted: true, payload: returned, dropped: [] };
  }
  if (!isRecord(input) || !isRecord(returned)) {
    // A different payload shape: accepted as-is when it is an object (Python accepts a dict).
    return isRecord(returned)
      ? { accepted: true, payload: returned, dropped: [] }
      : { accepted: false, reason: 'modified payload is not an object', dropped: [] };
  }
  let out: Record<string, unknown> | undefined;
  const dropped: string[] = [];
  const keys = new Set([...Object.keys(input), ...Object.keys(returned)]);
  for (const k of keys) {
    if (deepEqual(input[k], returned[k])) continue;
    if (writable.has(k)) {
      out ??= { ...input };
      if (Object.hasOwn(returned, k)) setOwn(out, k, returned[k]);
      else delete out[k];
    } else dropped.push(k);
  }
  if (!out) return { accepted: false, reason: 'no writable field changed', dropped };
  return { accepted: true, payload: out, dropped };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Structural equality for JSON-like data. Iterative (a payload of any depth is compared without
 * recursion) and cycle-safe (a pair of objects already being compared is not compared again).
 */
export function deepEqual(a: unknown, b: unknown): boolean {
  return walkPairs(a, b, jsonPair);
}

/** One pair of deepEqual (payload/pairs.ts walks them): same type, arrays by index, own keys. */
function jsonPair(x: unknown, y: unknown, push: (x: unknown, y: unknown) => void): boolean {
  if (typeof x !== typeof y || x === null || y === null || typeof x !== 'object')
    return typeof x === 'number' && typeof y === 'number' && Number.isNaN(x) && Number.isNaN(y);
  const ox = x as Record<string, unknown>;
  const oy = y as Record<string, unknown>;
  if (Array.isArray(ox)) {
    if (!Array.isArray(oy) || ox.length !== oy.length) return false;
    pushElementPairs(push, ox as unknown as unknown[], oy as unknown as unknown[]);
    return true;
  }
  if (Array.isArray(oy)) return false;
  const kx = Object.keys(ox);
  if (kx.length !== Object.keys(oy).length) return false;
  for (const k of kx) {
    if (!Object.hasOwn(oy, k)) return false;
    push(ox[k], oy[k]);
  }
  return true;
}
