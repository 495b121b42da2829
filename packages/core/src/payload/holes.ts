/**
 * Arrays whose length is not backed by elements. `a.length = 2 ** 32 - 1` costs a plugin or a
 * caller nothing, but an index loop over it costs the engine minutes. Every engine walker over
 * caller or plugin data (views, copies, equality, freezing, bounds, extension merges) goes
 * through `forEachHeld`, whose work is bounded by what the array really holds: an index loop up
 * to DIRECT_SCAN_MAX elements, the array's own keys beyond that.
 *
 * Where data is validated or encoded (extension ingress and merges, every boundary), the rule is:
 * an array with holes is data as JSON sees it (each hole is null) up to DIRECT_SCAN_MAX elements;
 * a longer one is refused with its path (`findSparse`), because schemas and encoders visit every
 * index of it.
 */

/** Up to this length an index loop is used; beyond it, the array's own keys (O(what it holds)). */
export const DIRECT_SCAN_MAX = 65_536;

/** The array index a property key names, or -1 (`"01"`, `"1.5"`, `"4294967295"` name none). */
function indexOf(key: string): number {
  const n = Number(key);
  return n >= 0 && n < 4_294_967_295 && Number.isInteger(n) && String(n) === key ? n : -1;
}

/**
 * Calls `fn(value, index)` for each element `arr` holds, in index order, skipping holes. Costs
 * O(min(length, DIRECT_SCAN_MAX) + elements held).
 * @example forEachHeld(list, (v) => stack.push(v));
 */
export function forEachHeld<T>(arr: readonly T[], fn: (value: T, index: number) => void): void {
  const n = arr.length;
  if (n <= DIRECT_SCAN_MAX) {
    for (let i = 0; i < n; i++) if (i in arr) fn(arr[i] as T, i);
    return;
  }
  for (const k of Object.keys(arr)) {
    const i = indexOf(k);
    if (i >= 0 && i < n) fn(arr[i] as T, i);
  }
}

/** How many elements `arr` holds (its length minus its holes), at the cost of `forEachHeld`. */
export function heldCount(arr: readonly unknown[]): number {
  let held = 0;
  forEachHeld(arr, () => {
    held++;
  });
  return held;
}

export interface SparseArray {
  /** Where it is, e.g. `security.labels` or `args.rows.3` (relative to the walked value). */
  path: string;
  length: number;
  held: number;
}

/**
 * The record of `arr` at `path` when it is longer than DIRECT_SCAN_MAX and has holes (what
 * validation refuses), else undefined. O(what it holds).
 */
export function tooSparse(arr: readonly unknown[], path = ''): SparseArray | undefined {
  if (arr.length <= DIRECT_SCAN_MAX) return undefined;
  const held = heldCount(arr);
  return held === arr.length ? undefined : { path, length: arr.length, held };
}

/**
 * The first array inside `value` that is longer than DIRECT_SCAN_MAX and has holes (plain objects
 * and arrays are walked, iteratively and cycle-safe; other objects are not entered), or undefined.
 * O(the data held).
 * @example const s = findSparse(ext); if (s) refuse(s.path, describeSparse(s));
 */
export function findSparse(value: unknown): SparseArray | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const seen = new Set<object>();
  const stack: Array<[object, string]> = [[value, '']];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [node, path] = top;
    if (seen.has(node)) continue;
    seen.add(node);
    const at = (k: string | number) => (path === '' ? String(k) : `${path}.${k}`);
    if (Array.isArray(node)) {
      const sparse = tooSparse(node, path);
      if (sparse) return sparse;
      forEachHeld(node as unknown[], (v, i) => {
        if (v !== null && typeof v === 'object') stack.push([v, at(i)]);
      });
      continue;
    }
    const proto = Object.getPrototypeOf(node);
    if (proto !== Object.prototype && proto !== null) continue;
    for (const k of Object.keys(node)) {
      const v = (node as Record<string, unknown>)[k];
      if (v !== null && typeof v === 'object') stack.push([v, at(k)]);
    }
  }
  return undefined;
}

/** `a sparse array (length 4294967295, 1 element held)` — the reason given when refusing one. */
export function describeSparse(s: SparseArray): string {
  return `a sparse array (length ${s.length}, ${s.held} element${s.held === 1 ? '' : 's'} held): arrays longer than ${DIRECT_SCAN_MAX} must have no holes`;
}
