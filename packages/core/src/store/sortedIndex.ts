import { compareKeys } from './keys.js';
import type { IndexRange } from './store.js';

/**
 * The first position in `items[lo..hi)` whose item is not `before` it: `before` must hold for
 * a leading run of the items and for none after it (true of "comes before x" for any x, when
 * `items` is sorted). `hi` when it holds for all. A binary search.
 */
export function partition<T>(
  items: readonly T[],
  before: (item: T) => boolean,
  lo = 0,
  hi = items.length,
): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (before(items[mid]!)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// Items per chunk before it splits in two. Measured (test/bench/storeReads.ts, "update" rows):
// one sorted array of 10⁵ tuples took ~380 µs per insert in the middle — V8 moves object
// elements one by one, with a write barrier each — against ~2 µs with chunks of this size.
const CHUNK = 512;

/**
 * A set of items kept in order, found by binary search: the ordered index of
 * {@link MemoryStore}'s rows and kv keys.
 *
 * @remarks
 * The items sit in a list of sorted chunks (each of at most `2 × 512`, every item of one
 * chunk before every item of the next), so an insert or delete moves the items of one chunk,
 * not of the whole index. Positions count from the first item over all chunks. Items equal
 * under `compare` are one item: inserting it again is a no-op.
 */
export class SortedIndex<T> {
  #chunks: T[][] = [];
  #size = 0;
  readonly #compare: (a: T, b: T) => number;

  /** @param compare - The order: negative when `a` comes first, `0` for the same item. */
  constructor(compare: (a: T, b: T) => number) {
    this.#compare = compare;
  }

  /** How many items it holds. */
  get size(): number {
    return this.#size;
  }

  /**
   * The first position whose item is not `before` it: `before` must hold for a leading run
   * of the items and for none after it (true of "comes before x" for any x). `size` when it
   * holds for all.
   */
  partition(before: (item: T) => boolean): number {
    const c = partition(this.#chunks, (chunk) => before(chunk.at(-1)!));
    let position = 0;
    for (let i = 0; i < c; i++) position += this.#chunks[i]!.length;
    const chunk = this.#chunks[c];
    return chunk ? position + partition(chunk, before) : position;
  }

  /** The items at positions `[from, to)`, in order. */
  slice(from: number, to: number): T[] {
    const out: T[] = [];
    let start = 0;
    for (const chunk of this.#chunks) {
      if (start >= to) break;
      const end = start + chunk.length;
      if (end > from) out.push(...chunk.slice(Math.max(0, from - start), to - start));
      start = end;
    }
    return out;
  }

  /** Whether it holds `item`. */
  has(item: T): boolean {
    const [chunk, i] = this.#find(item);
    return chunk !== undefined && i < chunk.length && this.#compare(chunk[i]!, item) === 0;
  }

  /** Adds `item` in its place; returns `false` (changing nothing) when it is held already. */
  insert(item: T): boolean {
    const [chunk, i, c] = this.#find(item);
    // Past the last item: it goes at the end of the last chunk (a first one when there is none).
    if (this.#chunks.length === 0) this.#chunks.push([]);
    const into = chunk ?? this.#chunks.at(-1)!;
    const at = chunk ? i : into.length;
    if (chunk && i < chunk.length && this.#compare(chunk[i]!, item) === 0) return false;
    into.splice(at, 0, item);
    this.#size++;
    if (into.length > 2 * CHUNK) {
      const index = chunk ? c : this.#chunks.length - 1;
      this.#chunks.splice(index + 1, 0, into.splice(CHUNK));
    }
    return true;
  }

  /** Removes `item`; returns `false` when it was not held. */
  delete(item: T): boolean {
    const [chunk, i, c] = this.#find(item);
    if (!chunk || i >= chunk.length || this.#compare(chunk[i]!, item) !== 0) return false;
    chunk.splice(i, 1);
    this.#size--;
    if (chunk.length === 0) this.#chunks.splice(c, 1);
    return true;
  }

  /** The chunk `item` belongs in (none when it is past the last item), its place there, the chunk's number. */
  #find(item: T): [chunk: T[] | undefined, i: number, c: number] {
    const c = partition(this.#chunks, (chunk) => this.#compare(chunk.at(-1)!, item) < 0);
    const chunk = this.#chunks[c];
    return [chunk, chunk ? partition(chunk, (x) => this.#compare(x, item) < 0) : 0, c];
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
