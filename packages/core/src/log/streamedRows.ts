import type { JsonValue } from '../crypto/canonical.js';
import { indexEntries } from '../store/backend.js';
import { compareKeys } from '../store/keys.js';
import { PRIMARY_INDEX, type ProjectionWrite, type Store } from '../store/store.js';
import type { RebuiltRows } from './projectionRebuild.js';

// Rows written by the replay before they are compared with the stored rows and let go: a
// few batches of events' worth, so most rows are compared once, after their last write.
const SETTLE_ROWS = 4_096;
// Compared rows kept for the replay to read again without asking the store (artifact heads,
// grants, handoffs being worked on): enough for the rows a few thousand events touch.
const RECENT_ROWS = 4_096;
// Rows per page of the final scan (see storedRows.ts, SCAN_PAGE).
const SCAN_PAGE = 5_000;

/**
 * The rows a replay rebuilds, compared with the stored rows as it goes, so `verify()` holds
 * the rows written since the last comparison, the rows that differ from the stored ones so
 * far (a row the log writes again later, like an artifact's head, until its last write), a
 * few recently compared ones, and per row only what cannot be read back: a fingerprint of
 * its key and the keys of its secondary index entries.
 *
 * @remarks
 * A row compared equal to the stored one and not written since is read back from the store
 * (it holds exactly what the log made); a row never written reads as absent whatever the store
 * holds. {@link StreamedRows.finish} then says whether the stored rows are exactly the rebuilt
 * ones: every row written compared equal after its last write, as many live rows stored as
 * rebuilt (so none planted), and each secondary index listing the rebuilt rows' entries in
 * order. It does not say where they differ: `verify()` then replays again holding every row
 * ({@link ProjectionRebuild}), which names the row.
 */
export class StreamedRows implements RebuiltRows {
  readonly #store: Store;
  /** Rows written since the last comparison, by `collection\0key`. */
  #dirty = new Map<string, ProjectionWrite>();
  /** Rows that differed from the stored ones when last compared: their value as JSON. */
  readonly #differing = new Map<string, string>();
  /** Rows compared equal, most recently used last. */
  readonly #recent = new Map<string, JsonValue | null>();
  /** Fingerprints of the keys of every row written, and of those whose last write deleted it. */
  readonly #written = new FingerprintSet();
  readonly #deleted = new Set<number>();
  /** Each live row's secondary index entries (see {@link packEntries}), by `collection\0key`. */
  readonly #entries = new Map<string, string>();
  readonly #collections = new Set<string>();
  readonly #seed: [number, number];
  readonly #settleRows: number;
  readonly #recentRows: number;

  /**
   * @param options - `settleRows`: rows written before they are compared. Defaults to
   *   `4_096`. `recentRows`: compared rows kept to read again. Defaults to `4_096`.
   */
  constructor(store: Store, options: { settleRows?: number; recentRows?: number } = {}) {
    this.#store = store;
    this.#settleRows = options.settleRows ?? SETTLE_ROWS;
    this.#recentRows = options.recentRows ?? RECENT_ROWS;
    const seed = new Int32Array(2);
    globalThis.crypto.getRandomValues(seed);
    this.#seed = [seed[0]!, seed[1]!];
  }

  async get(collection: string, key: string): Promise<JsonValue | undefined> {
    const k = `${collection}\u0000${key}`;
    const d = this.#dirty.get(k);
    if (d) return d.value ?? undefined;
    const json = this.#differing.get(k);
    if (json !== undefined) return (JSON.parse(json) as JsonValue | null) ?? undefined;
    if (this.#recent.has(k)) {
      const v = this.#recent.get(k)!;
      this.#remember(k, v);
      return v ?? undefined;
    }
    if (!this.#written.has(this.#fingerprint(k))) return undefined;
    // Compared equal after its last write: the stored row is the rebuilt one.
    return this.#store.get(collection, key);
  }

  /**
   * A row as far as it is known without the store: its value (`null` when deleted), `'stored'`
   * when only the store holds it now ({@link StreamedRows.prefetch} brings it back), or
   * `undefined` when it was never written.
   */
  peek(collection: string, key: string): JsonValue | null | 'stored' | undefined {
    const k = `${collection}\u0000${key}`;
    const d = this.#dirty.get(k);
    if (d) return d.value;
    const json = this.#differing.get(k);
    if (json !== undefined) return JSON.parse(json) as JsonValue | null;
    if (this.#recent.has(k)) return this.#recent.get(k)!;
    return this.#written.has(this.#fingerprint(k)) ? 'stored' : undefined;
  }

  /** Brings a row only the store holds back among the recent ones, so {@link StreamedRows.peek} knows it. */
  async prefetch(collection: string, key: string): Promise<void> {
    if (this.peek(collection, key) !== 'stored') return;
    this.#remember(`${collection}\u0000${key}`, (await this.#store.get(collection, key)) ?? null);
  }

  #remember(k: string, value: JsonValue | null): void {
    this.#recent.delete(k);
    this.#recent.set(k, value);
    if (this.#recent.size > this.#recentRows)
      this.#recent.delete(this.#recent.keys().next().value!);
  }

  put(w: ProjectionWrite): void {
    this.#dirty.set(`${w.collection}\u0000${w.key}`, w);
  }

  /** Whether enough rows were written since the last comparison to compare them now. */
  get due(): boolean {
    return this.#dirty.size >= this.#settleRows;
  }

  /** Compares the rows written since the last comparison with the stored ones. */
  async settle(): Promise<void> {
    const dirty = this.#dirty;
    this.#dirty = new Map();
    for (const [k, w] of dirty) {
      const fp = this.#fingerprint(k);
      this.#written.add(fp);
      this.#collections.add(w.collection);
      const entries = indexEntries(w);
      if (w.value === null) this.#deleted.add(fp);
      else this.#deleted.delete(fp);
      if (entries.length > 0) this.#entries.set(k, packEntries(entries));
      else this.#entries.delete(k);
      const stored = await this.#store.get(w.collection, w.key);
      if (sameRow(stored, w.value)) {
        this.#differing.delete(k);
        this.#remember(k, w.value);
      } else {
        this.#differing.set(k, JSON.stringify(w.value));
        this.#recent.delete(k);
      }
    }
  }

  /**
   * Whether the stored rows of `collections` (and of every collection the replay wrote) and
   * their secondary indexes are exactly the rebuilt ones. Call once, after the last event.
   */
  async finish(collections: readonly string[]): Promise<boolean> {
    await this.settle();
    if (this.#differing.size > 0) return false;
    let stored = 0;
    for (const c of new Set([...collections, ...this.#collections])) {
      let after: string | undefined;
      do {
        const page = await this.#store.query(c, PRIMARY_INDEX, {}, { limit: SCAN_PAGE, after });
        stored += page.items.length;
        after = page.next;
      } while (after);
    }
    if (stored !== this.#written.size - this.#deleted.size) return false;
    // Each index the rebuilt rows have, its entries in the store's order (index key, then row key).
    const names = new Map<string, { collection: string; name: string }>();
    for (const [k, packed] of this.#entries) {
      const collection = k.slice(0, k.indexOf('\u0000'));
      for (const [name] of unpackEntries(packed))
        names.set(`${collection}\u0000${name}`, { collection, name });
    }
    for (const { collection, name } of names.values()) {
      const want: [string, string][] = [];
      const prefix = `${collection}\u0000`;
      for (const [k, packed] of this.#entries) {
        if (!k.startsWith(prefix)) continue;
        const key = k.slice(prefix.length);
        for (const [n, ikey] of unpackEntries(packed)) if (n === name) want.push([ikey, key]);
      }
      want.sort((x, y) => compareKeys(x[0], y[0]) || compareKeys(x[1], y[1]));
      let i = 0;
      let after: string | undefined;
      do {
        const page = await this.#store.query(collection, name, {}, { limit: SCAN_PAGE, after });
        for (const row of page.items) if (want[i++]?.[1] !== row.key) return false;
        after = page.next;
      } while (after);
      if (i !== want.length) return false;
    }
    return true;
  }

  /**
   * A 52-bit fingerprint of a row's key: two FNV-1a hashes of its UTF-16 code units from
   * random seeds, each mixed by MurmurHash3's finalizer. Keys are ids from signed events, so
   * two collide by chance only (about 2⁻⁵² a pair); a collision costs at most a false alarm,
   * since a planted or missing row still shows in the count of stored rows.
   */
  #fingerprint(k: string): number {
    let h1 = this.#seed[0];
    let h2 = this.#seed[1];
    for (let i = 0; i < k.length; i++) {
      const c = k.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    }
    return (fmix(h1) >>> 0) * 2 ** 20 + (fmix(h2 ^ k.length) >>> 12);
  }
}

/** MurmurHash3's 32-bit finalizer: every input bit moves every output bit. */
function fmix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** A set of fingerprints (integers below 2⁵³) in one typed array: 16 bytes a key, not a `Set`'s ~40. */
class FingerprintSet {
  #slots = new Float64Array(1 << 16);
  size = 0;

  has(fp: number): boolean {
    return this.#slots[this.#slot(fp + 1)] !== 0;
  }

  add(fp: number): void {
    const i = this.#slot(fp + 1);
    if (this.#slots[i] !== 0) return;
    this.#slots[i] = fp + 1;
    if (++this.size * 2 > this.#slots.length) this.#grow();
  }

  /** Where `v` (never 0, the empty slot) is, or the empty slot where it would go: linear probing. */
  #slot(v: number): number {
    const mask = this.#slots.length - 1;
    let i = (v % this.#slots.length) & mask;
    while (this.#slots[i] !== 0 && this.#slots[i] !== v) i = (i + 1) & mask;
    return i;
  }

  #grow(): void {
    const old = this.#slots;
    this.#slots = new Float64Array(old.length * 2);
    for (const v of old) if (v !== 0) this.#slots[this.#slot(v)] = v;
  }
}

/** A row's index entries as one string, each name and index key prefixed with its length: one string per row, not two per entry. */
function packEntries(entries: [string, string][]): string {
  let packed = '';
  for (const [name, ikey] of entries) packed += `${name.length}:${name}${ikey.length}:${ikey}`;
  return packed;
}

function* unpackEntries(packed: string): Generator<[string, string]> {
  const next = (at: number): [string, number] => {
    const colon = packed.indexOf(':', at);
    const end = colon + 1 + Number(packed.slice(at, colon));
    return [packed.slice(colon + 1, end), end];
  };
  for (let at = 0; at < packed.length; ) {
    const [name, afterName] = next(at);
    const [ikey, end] = next(afterName);
    yield [name, ikey];
    at = end;
  }
}

/** Whether a stored row (`undefined`: none) holds the rebuilt `value` (`null`: deleted). */
function sameRow(stored: JsonValue | undefined, value: JsonValue | null): boolean {
  if (value === null || stored === undefined) return value === null && stored === undefined;
  return sameJson(stored, value);
}

/**
 * Whether two plain JSON values are equal as their canonical JSON is (objects by their keys in
 * any order), without writing either out.
 */
function sameJson(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i]!, b[i]!)) return false;
    return true;
  }
  // A property set to `undefined` is absent, as in JSON.
  let n = 0;
  for (const [k, v] of Object.entries(a)) {
    if (v === undefined) continue;
    n++;
    const w = Object.hasOwn(b, k) ? b[k] : undefined;
    if (w === undefined || !sameJson(v, w)) return false;
  }
  for (const v of Object.values(b)) if (v !== undefined) n--;
  return n === 0;
}
