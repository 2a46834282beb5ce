import { compareKeys } from './keys.js';
import type { IndexRange } from './store.js';

/**
 * A set of items kept in order in one array: found by binary search, inserted and removed by
 * splicing. The ordered index of {@link MemoryStore}'s rows and kv keys.
 *
 * @remarks
 * A sorted array is the plainest structure with logarithmic lookups. Its insert moves the
 * items after the new one; at 10⁵ items that is one `memmove` of under a megabyte, a few
 * microseconds — cheaper, at the sizes a memory store holds, than the node allocations of a
 * tree. Items equal under `compare` are one item: inserting it again is a no-op.
 */
export class SortedIndex<T> {
  readonly #items: T[] = [];
  readonly #compare: (a: T, b: T) => number;

  /** @param compare - The order: negative when `a` comes first, `0` for the same item. */
  constructor(compare: (a: T, b: T) => number) {
    this.#compare = compare;
  }

  /** How many items it holds. */
  get size(): number {
    return this.#items.length;
  }

  /** The item at position `i` (`0` is the first), or `undefined` past either end. */
  at(i: number): T | undefined {
    return i >= 0 ? this.#items[i] : undefined;
  }

  /**
   * The first position whose item is not `before` it: `before` must hold for a leading run
   * of the items and for none after it (true of "comes before x" for any x). `size` when it
   * holds for all.
   */
  partition(before: (item: T) => boolean): number {
    let lo = 0;
    let hi = this.#items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (before(this.#items[mid]!)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The position of `item` when held, else `-1`. */
  indexOf(item: T): number {
    const i = this.partition((x) => this.#compare(x, item) < 0);
    return i < this.#items.length && this.#compare(this.#items[i]!, item) === 0 ? i : -1;
  }

  /** Adds `item` in its place; returns `false` (changing nothing) when it is held already. */
  insert(item: T): boolean {
    const i = this.partition((x) => this.#compare(x, item) < 0);
    if (i < this.#items.length && this.#compare(this.#items[i]!, item) === 0) return false;
    this.#items.splice(i, 0, item);
    return true;
  }

  /** Removes `item`; returns `false` when it was not held. */
  delete(item: T): boolean {
    const i = this.indexOf(item);
    if (i < 0) return false;
    this.#items.splice(i, 1);
    return true;
  }
}

/**
 * The positions `[from, to)` of the items of `index` whose key, `keyOf(item)`, falls in
 * `range` — two binary searches, as `index` is ordered by that key first (by
 * {@link compareKeys}). Every item between the two positions is in the range, and no other is.
 */
export function rangeOf<T>(
  index: SortedIndex<T>,
  keyOf: (item: T) => string,
  range: IndexRange,
): [from: number, to: number] {
  const { eq, prefix, gt, gte, lt } = range;
  // Each bound alone cuts the order in two; a range is what every bound keeps.
  const from = index.partition((item) => {
    const k = keyOf(item);
    return (
      (eq !== undefined && compareKeys(k, eq) < 0) ||
      (gte !== undefined && compareKeys(k, gte) < 0) ||
      (gt !== undefined && compareKeys(k, gt) <= 0) ||
      (prefix !== undefined && compareKeys(k, prefix) < 0)
    );
  });
  const to = index.partition((item) => {
    const k = keyOf(item);
    return (
      (eq === undefined || compareKeys(k, eq) <= 0) &&
      (lt === undefined || compareKeys(k, lt) < 0) &&
      // Keys that start with the prefix follow it directly, before any other key above it.
      (prefix === undefined || compareKeys(k, prefix) <= 0 || k.startsWith(prefix))
    );
  });
  return [from, Math.max(from, to)];
}
