/**
 * Hook payload policies (Python cpex semantics): with a policy for the hook only changes to its
 * writable top-level fields are applied (others dropped with a warning; no writable change means
 * "not modified"); with `default_hook_policy: deny`, modifications on hooks without a policy are
 * ignored.
 */
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
      if (Object.hasOwn(returned, k)) out[k] = returned[k];
      else delete out[k];
    } else dropped.push(k);
  }
  if (!out) return { accepted: false, reason: 'no writable field changed', dropped };
  return { accepted: true, payload: out, dropped };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Structural equality for JSON-like data. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') {
    return typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b);
  }
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.hasOwn(b as object, k)) return false;
    if (!deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}
