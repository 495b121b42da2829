/**
 * JSON text for data that may hold BigInts: the exact integers a wire brought in (a WIT u64, a
 * guest's u64 in its own state) that a JavaScript number would round. JSON.stringify throws on a
 * BigInt; `stringifyExact` writes it as its integer literal, digit for digit.
 */

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
