/**
 * A pure function of a string, remembered for its most recent distinct inputs (a bounded Map; the
 * oldest entry goes first once `max` is reached). For per-invoke hashing on the session path: a
 * gateway sees the same few sessions again and again, and a SHA-256 costs microseconds while a
 * Map hit costs nanoseconds. The bound keeps memory flat however many sessions pass.
 */
export function boundedMemo<T>(fn: (input: string) => T, max = 4096): (input: string) => T {
  const seen = new Map<string, T>();
  return (input) => {
    let out = seen.get(input);
    if (out === undefined) {
      out = fn(input);
      if (seen.size >= max) seen.delete(seen.keys().next().value as string);
      seen.set(input, out);
    }
    return out;
  };
}
