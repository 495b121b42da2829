import { CpexError } from '../errors/cpex-error.js';

/**
 * A set of security labels that can only grow.
 *
 * Labels compare case-insensitively (`'PII'` and `'pii'` are the same label); the first spelling
 * seen is kept. Instances are immutable: `add()` returns a new set that shares nothing mutable
 * with the old one. There is deliberately no `delete`, `remove` or `clear` — a label removal does
 * not compile (see `monotonic-set.test-d.ts`) and the executor rejects a returned set that is not
 * a superset of the canonical one.
 */
export class MonotonicSet implements Iterable<string> {
  readonly #items: readonly string[];
  readonly #keys: ReadonlySet<string>;

  private constructor(items: readonly string[], keys: ReadonlySet<string>) {
    this.#items = items;
    this.#keys = keys;
    Object.freeze(this);
  }

  /** The empty set. */
  static readonly EMPTY: MonotonicSet = new MonotonicSet([], new Set());

  /**
   * Builds a set from labels (duplicates, compared case-insensitively, are dropped).
   * @example MonotonicSet.of('PII', 'confidential').has('pii') // true
   */
  static of(...labels: string[]): MonotonicSet {
    return MonotonicSet.EMPTY.add(...labels);
  }

  /** Builds a set from any iterable of labels (an array, another MonotonicSet, a Set). */
  static from(labels: Iterable<string> | null | undefined): MonotonicSet {
    if (labels instanceof MonotonicSet) return labels;
    if (labels == null) return MonotonicSet.EMPTY;
    return MonotonicSet.EMPTY.add(...labels);
  }

  /** True when `label` is in the set (case-insensitive). */
  has(label: string): boolean {
    return this.#keys.has(label.toLowerCase());
  }

  /**
   * Returns a set holding this set's labels plus `labels`; `this` when nothing is new.
   * The receiver never changes.
   * @example const more = labels.add('PII'); // labels itself is unchanged
   */
  add(...labels: string[]): MonotonicSet {
    let items: string[] | undefined;
    let keys: Set<string> | undefined;
    for (const label of labels) {
      if (typeof label !== 'string')
        throw new CpexError(
          'CPEX_ERR_INVALID_ARGUMENT',
          `a security label must be a string, got ${typeof label}`,
        );
      const key = label.toLowerCase();
      if ((keys ?? this.#keys).has(key)) continue;
      items ??= [...this.#items];
      keys ??= new Set(this.#keys);
      items.push(label);
      keys.add(key);
    }
    return items && keys ? new MonotonicSet(Object.freeze(items), keys) : this;
  }

  /** This set plus every label of `other`. */
  union(other: Iterable<string>): MonotonicSet {
    return this.add(...other);
  }

  /** True when every label of `other` is in this set (case-insensitive). */
  isSupersetOf(other: Iterable<string>): boolean {
    for (const label of other) if (!this.has(label)) return false;
    return true;
  }

  /** Labels of `other` (or of this set, compared to `other`) that the other side lacks. */
  missingFrom(other: MonotonicSet): string[] {
    return this.#items.filter((l) => !other.has(l));
  }

  get size(): number {
    return this.#items.length;
  }

  [Symbol.iterator](): Iterator<string> {
    return this.#items[Symbol.iterator]();
  }

  values(): IterableIterator<string> {
    return this.#items.values();
  }

  /** The labels in insertion order (a fresh array). */
  toArray(): string[] {
    return [...this.#items];
  }

  /** `MonotonicSet(2) [ 'PII', 'internal' ]` in console.log / util.inspect. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `MonotonicSet(${this.#items.length}) ${JSON.stringify(this.#items)}`;
  }

  /** Labels serialize as a JSON array, as in Rust and Python cpex. */
  toJSON(): string[] {
    return [...this.#items];
  }
}

/** A label set from whatever a slot holds (a MonotonicSet, an array from JSON, or nothing). */
export function toLabelSet(value: unknown): MonotonicSet | null {
  if (value instanceof MonotonicSet) return value;
  if (value == null) return MonotonicSet.EMPTY;
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return MonotonicSet.from(value);
  if (value instanceof Set && [...value].every((v) => typeof v === 'string')) return MonotonicSet.from(value);
  return null;
}
