import type { JsonValue } from '../crypto/canonical.js';
import { BatonError, ErrorCode } from '../errors.js';
import { type BatonEvent, EMPTY_HEAD, type Head } from '../log/event.js';
import { checkAppend, indexEntries } from './backend.js';
import {
  checkRange,
  compareKeys,
  DEFAULT_PAGE_SIZE,
  decodeCursor,
  inRange,
  pageOf,
} from './keys.js';
import { applyKvBatch, kvArea } from './kvBatch.js';
import { partition, rangeOf, SortedIndex } from './sortedIndex.js';
import {
  type AppendBatch,
  type BlobArea,
  type IndexRange,
  type KvArea,
  type KvValue,
  type Page,
  type PageOptions,
  PRIMARY_INDEX,
  type ProjectionRow,
  type ReadQuery,
  type Store,
} from './store.js';
import { TextIndex } from './textIndex.js';
import { CommitWatchers } from './watchers.js';

/** The value `map` holds for `key`, first setting it to `make()` when it holds none. */
function entryOf<V>(map: Map<string, V>, key: string, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}

/** A row's place in an index: its index key, then its row key (the order of a query). */
type Entry = [ikey: string, key: string];

const byEntry = (a: Entry, b: Entry) => compareKeys(a[0], b[0]) || compareKeys(a[1], b[1]);

interface Row {
  value: JsonValue;
  /** `[index name, index key]` of each secondary index entry. */
  indexes: [string, string][];
}

/** One projection collection: its rows, and for each index the rows' entries in order. */
class Collection {
  readonly rows = new Map<string, Row>();
  /** {@link PRIMARY_INDEX}: every row as `[key, key]`. */
  readonly primary = new SortedIndex<Entry>(byEntry);
  readonly indexes = new Map<string, SortedIndex<Entry>>();

  /** Puts a row, replacing its index entries, or deletes it (`row` undefined). */
  put(key: string, row: Row | undefined): void {
    const old = this.rows.get(key);
    for (const [name, ik] of old?.indexes ?? []) this.indexes.get(name)!.delete([ik, key]);
    if (row === undefined) {
      if (this.rows.delete(key)) this.primary.delete([key, key]);
      return;
    }
    if (!old) this.primary.insert([key, key]);
    this.rows.set(key, row);
    for (const [name, ik] of row.indexes) {
      entryOf(this.indexes, name, () => new SortedIndex(byEntry)).insert([ik, key]);
    }
  }
}

/** The state several {@link MemoryStore} handles share. */
class Backing {
  events: BatonEvent[] = [];
  byId = new Map<string, BatonEvent>();
  /** The seqs of each stream's, ref's and type's events, ascending: what `read` walks instead of the log. */
  readonly seqs = { stream: new Map(), ref: new Map(), type: new Map() } satisfies Record<
    string,
    Map<string, number[]>
  >;
  head: Head = EMPTY_HEAD;
  collections = new Map<string, Collection>();
  blobs = new Map<string, Uint8Array>();
  kv = new Map<string, KvValue>();
  /** The rows' search texts. */
  text = new TextIndex();
  /** The keys of `kv`, in order, for `kv.list`. */
  readonly kvKeys = new SortedIndex<string>(compareKeys);
  /** The watchers of every open handle. */
  handles = new Set<CommitWatchers>();

  /** Lists a committed event's seq under its stream, each of its refs and its type. */
  indexEvent(e: BatonEvent): void {
    const add = (map: Map<string, number[]>, key: string) => {
      const seqs = entryOf(map, key, () => []);
      // Seqs only grow; a ref listed twice on one event is listed once.
      if (seqs.at(-1) !== e.seq) seqs.push(e.seq);
    };
    add(this.seqs.stream, e.stream);
    for (const ref of e.refs) add(this.seqs.ref, ref);
    add(this.seqs.type, e.type);
  }

  collection(name: string): Collection {
    return entryOf(this.collections, name, () => new Collection());
  }

  /** Puts a kv value (stored as given), or deletes the key when `value` is `undefined`. */
  setKv(key: string, value: KvValue | undefined): void {
    if (value === undefined) {
      if (this.kv.delete(key)) this.kvKeys.delete(key);
    } else {
      this.kv.set(key, value);
      this.kvKeys.insert(key);
    }
  }
}

/**
 * The seqs after `after` in `lists` (each ascending, no seq in two of them), merged into one
 * ascending walk. Reads the lists as it goes, so it sees events appended meanwhile.
 */
function* mergeSeqs(lists: number[][], after: number): Generator<number> {
  const at = lists.map((l) => partition(l, (seq) => seq <= after));
  for (;;) {
    let best = -1;
    let min = Number.POSITIVE_INFINITY;
    for (const [i, l] of lists.entries()) {
      const seq = l[at[i]!];
      if (seq !== undefined && seq < min) [best, min] = [i, seq];
    }
    if (best < 0) return;
    at[best]!++;
    yield min;
  }
}

/**
 * Up to `n` items of `index` at positions `[from, to)` — from the top down when `reverse` —
 * that lie past the cursor: `vsCursor(item)` compares an item with the cursor's item.
 */
function pageItems<T>(
  index: SortedIndex<T>,
  [from, to]: [number, number],
  n: number,
  reverse: boolean,
  vsCursor?: (item: T) => number,
): T[] {
  if (vsCursor && reverse)
    to = Math.min(
      to,
      index.partition((x) => vsCursor(x) < 0),
    );
  else if (vsCursor)
    from = Math.max(
      from,
      index.partition((x) => vsCursor(x) <= 0),
    );
  return index.take(from, to, n, reverse);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function copyJson<T>(value: T): T {
  return deepFreeze(structuredClone(value));
}

/** A kv value as the store keeps it: bytes copied, JSON copied and frozen. */
function kvIn(v: KvValue): KvValue {
  return v instanceof Uint8Array ? v.slice() : copyJson(v);
}

/** A kv value as the store hands it out: bytes copied (JSON is frozen already). */
function kvOut(v: KvValue): KvValue {
  return v instanceof Uint8Array ? v.slice() : v;
}

/** One page of `(index key, row key, value)` entries: sorted, then the page after `page.after`. */
function sortedPage(
  entries: [string, string, JsonValue][],
  page: PageOptions,
): Page<ProjectionRow> {
  const limit = page.limit ?? DEFAULT_PAGE_SIZE;
  const dir = page.reverse ? -1 : 1;
  entries.sort((x, y) => dir * (compareKeys(x[0], y[0]) || compareKeys(x[1], y[1])));
  let start = 0;
  if (page.after !== undefined) {
    const [ak, key] = decodeCursor(page.after, 2) as [string, string];
    start = entries.findIndex((x) => dir * (compareKeys(x[0], ak) || compareKeys(x[1], key)) > 0);
    if (start < 0) start = entries.length;
  }
  return pageOf(
    entries.slice(start, start + limit + 1),
    limit,
    ([, key, value]) => ({ key, value }),
    ([ik, key]) => [ik, key],
  );
}

/** Seqs `after + 1` up to the last, read as the log grows. */
function* allSeqs(events: readonly BatonEvent[], after: number): Generator<number> {
  for (let seq = after + 1; seq <= events.length; seq++) yield seq;
}

/**
 * The in-memory {@link Store}: the default when no store is given, and the reference every
 * other store is measured against. Nothing survives the process.
 *
 * @remarks
 * {@link MemoryStore.peer} opens a second handle onto the same memory — what two Workspace
 * instances in one process, or the conformance suite's racing appends, need.
 */
export class MemoryStore implements Store {
  #b: Backing = new Backing();
  #closed = false;
  readonly #watchers = new CommitWatchers();

  /** Another handle onto the same memory; closing one does not close the other. */
  peer(): MemoryStore {
    const other = new MemoryStore();
    other.#b = this.#b;
    return other;
  }

  #open(): Backing {
    if (this.#closed) {
      throw new BatonError(
        ErrorCode.STORE,
        'This MemoryStore handle is closed. Open a new handle (store.peer()).',
      );
    }
    return this.#b;
  }

  async append(batch: AppendBatch): Promise<Head> {
    const b = this.#open();
    // Frozen: callers get this head back from append() and head().
    const head = checkAppend(b.head, batch, (id) => b.byId.has(id));
    // Copy everything before touching the backing: a value that cannot be copied fails here,
    // while nothing is written yet. From here on nothing can fail, so the batch lands whole.
    const frozen = batch.events.map(copyJson);
    const writes = (batch.projections ?? []).map((w) => {
      if (w.value === null)
        return { collection: w.collection, key: w.key, row: undefined, text: undefined };
      const row: Row = { value: copyJson(w.value), indexes: indexEntries(w) };
      return { collection: w.collection, key: w.key, row, text: w.text };
    });
    const blobs = (batch.blobs ?? []).map((blob) => ({
      hash: blob.hash,
      bytes: blob.bytes.slice(),
    }));
    for (const e of frozen) {
      b.events.push(e);
      b.byId.set(e.id, e);
      b.indexEvent(e);
    }
    for (const w of writes) {
      const col = b.collection(w.collection);
      col.put(w.key, w.row);
      b.text.put(w.collection, w.key, w.text);
    }
    for (const blob of blobs) {
      if (!b.blobs.has(blob.hash)) b.blobs.set(blob.hash, blob.bytes);
    }
    b.head = head;
    for (const h of b.handles) h.committed(head.seq);
    return head;
  }

  async *read(query: ReadQuery = {}): AsyncIterable<BatonEvent> {
    const b = this.#open();
    const { stream, ref, until } = query;
    const types = query.types ? new Set(query.types) : undefined;
    const after = Math.max(0, query.after ?? 0);
    // Walk the shortest seq list a filter has (a type filter: its types' lists merged);
    // with no filter, the log from `after` on (seq n is events[n - 1]).
    const none: number[] = [];
    const candidates: number[][][] = [];
    if (stream !== undefined) candidates.push([b.seqs.stream.get(stream) ?? none]);
    if (ref !== undefined) candidates.push([b.seqs.ref.get(ref) ?? none]);
    if (types) candidates.push([...types].map((t) => b.seqs.type.get(t) ?? none));
    const sizeOf = (ls: number[][]) => ls.reduce((n, l) => n + l.length, 0);
    const shortest = candidates.sort((x, y) => sizeOf(x) - sizeOf(y))[0];
    const seqs = shortest ? mergeSeqs(shortest, after) : allSeqs(b.events, after);
    let left = query.limit ?? Number.POSITIVE_INFINITY;
    for (const seq of seqs) {
      if (left <= 0 || (until !== undefined && seq > until)) return;
      const e = b.events[seq - 1]!;
      if (stream !== undefined && e.stream !== stream) continue;
      if (ref !== undefined && !e.refs.includes(ref)) continue;
      if (types && !types.has(e.type)) continue;
      left--;
      yield e;
    }
  }

  async event(id: string): Promise<BatonEvent | undefined> {
    return this.#open().byId.get(id);
  }

  async head(): Promise<Head> {
    return this.#open().head;
  }

  async get(collection: string, key: string): Promise<JsonValue | undefined> {
    return this.#open().collections.get(collection)?.rows.get(key)?.value;
  }

  async query(
    collection: string,
    index: string,
    range: IndexRange,
    page: PageOptions = {},
  ): Promise<Page<ProjectionRow>> {
    const col = this.#open().collections.get(collection);
    checkRange('query', range);
    const limit = page.limit ?? DEFAULT_PAGE_SIZE;
    const after = page.after === undefined ? undefined : (decodeCursor(page.after, 2) as Entry);
    const sorted = index === PRIMARY_INDEX ? col?.primary : col?.indexes.get(index);
    if (!col || !sorted) return { items: [] };
    const span = rangeOf(sorted, ([ik]) => ik, range);
    const vsCursor = after && ((x: Entry) => byEntry(x, after));
    return pageOf(
      pageItems(sorted, span, limit + 1, page.reverse === true, vsCursor),
      limit,
      ([, key]) => ({ key, value: col.rows.get(key)!.value }),
      ([ik, key]) => [ik, key],
    );
  }

  async search(
    collection: string,
    needle: string,
    index: string,
    range: IndexRange,
    page: PageOptions = {},
  ): Promise<Page<ProjectionRow>> {
    const b = this.#open();
    const col = b.collections.get(collection);
    const entries: [string, string, JsonValue][] = [];
    for (const key of b.text.matches(collection, needle)) {
      const row = col!.rows.get(key)!;
      const ikeys =
        index === PRIMARY_INDEX
          ? [key]
          : row.indexes.filter(([name]) => name === index).map(([, ik]) => ik);
      for (const ik of ikeys) if (inRange(ik, range)) entries.push([ik, key, row.value]);
    }
    return sortedPage(entries, page);
  }

  readonly blobs: BlobArea = {
    get: async (hash) => {
      const bytes = this.#open().blobs.get(hash);
      return bytes ? bytes.slice() : undefined;
    },
    has: async (hash) => this.#open().blobs.has(hash),
    delete: async (hash) => {
      this.#open().blobs.delete(hash);
    },
  };

  readonly kv: KvArea = kvArea({
    get: (key) => {
      const v = this.#open().kv.get(key);
      return v === undefined ? undefined : kvOut(v);
    },
    getMany: (keys) => {
      const kv = this.#open().kv;
      return keys.map((key) => {
        const v = kv.get(key);
        return v === undefined ? undefined : kvOut(v);
      });
    },
    put: (key, value) => {
      this.#open().setKv(key, kvIn(value));
    },
    delete: (key) => {
      this.#open().setKv(key, undefined);
    },
    list: (prefix, page) => {
      const limit = page.limit ?? DEFAULT_PAGE_SIZE;
      const after = page.after === undefined ? undefined : decodeCursor(page.after, 1)[0]!;
      const b = this.#open();
      const span = rangeOf(b.kvKeys, (k) => k, { prefix });
      const vsCursor = after === undefined ? undefined : (k: string) => compareKeys(k, after);
      return pageOf(
        pageItems(b.kvKeys, span, limit + 1, page.reverse === true, vsCursor),
        limit,
        (key) => ({ key, value: kvOut(b.kv.get(key)!) }),
        (key) => [key],
      );
    },
    batch: (writes, expect) => {
      const b = this.#open();
      applyKvBatch(writes, expect, {
        get: (key) => b.kv.get(key),
        set: (key, v) => b.setKv(key, v === undefined ? undefined : kvIn(v)),
      });
    },
  });

  watch(onCommit: (seq: number) => void): () => void {
    this.#open().handles.add(this.#watchers);
    return this.#watchers.add(onCommit);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#watchers.close();
    this.#b.handles.delete(this.#watchers);
  }
}
