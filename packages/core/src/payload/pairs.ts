/**
 * The pair walker the structural equalities share (`dataEqual` in extensions/equality.ts,
 * `deepEqual` in executor/policies.ts): two values walked in step, iteratively (a value of any
 * depth is compared without recursion) and cycle-safe (a pair of objects met again is not walked
 * again). Each equality supplies only its rule for one pair.
 */

/**
 * Decide one pair that is not identical (`===`), and not a pair of objects already met: false when
 * it differs; true when it is equal so far, after scheduling the pairs under it with `push`.
 */
export type PairRule = (x: unknown, y: unknown, push: (x: unknown, y: unknown) => void) => boolean;

/** True when `rule` finds every pair of `a` and `b` equal. */
export function walkPairs(a: unknown, b: unknown, rule: PairRule): boolean {
  const stack: unknown[] = [a, b];
  const push = (x: unknown, y: unknown): void => {
    stack.push(x, y);
  };
  let seen: Map<object, object> | undefined;
  while (stack.length > 0) {
    const y = stack.pop();
    const x = stack.pop();
    if (x === y) continue;
    if (typeof x === 'object' && typeof y === 'object' && x !== null && y !== null) {
      seen ??= new Map();
      if (seen.get(x) === y) continue;
      seen.set(x, y);
    }
    if (!rule(x, y, push)) return false;
  }
  return true;
}
