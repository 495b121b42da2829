/**
 * JSON text for data that may hold BigInts: the exact integers a wire brought in (a WIT u64, a
 * guest's u64 in its own state) that a JavaScript number would round. JSON.stringify throws on a
 * BigInt; `stringifyExact` writes it as its integer literal, digit for digit. And JSON has no NaN
 * or Infinity: `refuseNonFinite` keeps them from crossing as a silent null.
 */
import { CpexError } from '../errors/cpex-error.js';

/** A marker no caller string can carry: random per process, never shown. */
let marker: string | undefined;

function markerText(): string {
  if (marker === undefined) {
    const bytes = new Uint8Array(12);
    globalThis.crypto.getRandomValues(bytes);
    marker = `cpex-exact-int-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}:`;
  }
  return marker;
}

/**
 * `JSON.stringify(value, null, space)`, except that a BigInt is written as its exact integer
 * literal instead of throwing. Plain data pays nothing extra: the replacer only runs when the plain
 * call met a BigInt.
 *
 * @example
 * stringifyExact({ hash: 14695981039346656037n }); // '{"hash":14695981039346656037}'
 */
export function stringifyExact(value: unknown, space?: number): string {
  try {
    return JSON.stringify(value, null, space);
  } catch (e) {
    if (!(e instanceof TypeError) || !/BigInt/i.test(e.message)) throw e;
  }
  const m = markerText();
  const text = JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? `${m}${v}` : v), space);
  return text.replace(new RegExp(`"${m}(-?\\d+)"`, 'g'), '$1');
}

/** The path of the first NaN or ±Infinity in `value` (iterative, cycle-safe), or undefined. */
function nonFinitePath(value: unknown, where: string): [string, number] | undefined {
  const stack: Array<[unknown, string]> = [[value, where]];
  const seen = new Set<object>();
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [v, at] = top;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) return [at, v];
    } else if (v !== null && typeof v === 'object' && !seen.has(v)) {
      seen.add(v);
      if (Array.isArray(v)) for (let i = 0; i < v.length; i++) stack.push([v[i], `${at}[${i}]`]);
      else for (const k of Object.keys(v)) stack.push([(v as Record<string, unknown>)[k], `${at}.${k}`]);
    }
  }
  return undefined;
}

/**
 * For a host that sends `value` to another language as JSON text `text` (its own
 * `JSON.stringify(value)`): JSON has no NaN or Infinity, and JSON.stringify writes them as `null`
 * silently. When `text` has a `null`, `value` is searched once; a non-finite number is a
 * CPEX_ERR_INVALID_PAYLOAD naming its path, never a null the plugin would read. Returns `text`.
 *
 * @example
 * const body = refuseNonFinite(JSON.stringify(payload), payload, 'payload');
 */
export function refuseNonFinite(text: string, value: unknown, where: string): string {
  if (!text.includes('null')) return text;
  const bad = nonFinitePath(value, where);
  if (bad === undefined) return text;
  throw new CpexError(
    'CPEX_ERR_INVALID_PAYLOAD',
    `${bad[0]}: ${bad[1]} cannot cross to another language as JSON (it would arrive as null)`,
    { path: bad[0] },
  );
}
