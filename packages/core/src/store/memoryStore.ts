import type { JsonValue } from '../crypto/canonical.js';
import { BatonError, ErrorCode } from '../errors.js';
import { type BatonEvent, EMPTY_HEAD, type Head } from '../log/event.js';
import { checkAppend, indexEntries } from './backend.js';
import { compareKeys, DEFAULT_PAGE_SIZE, decodeCursor, inRange, pageOf } from './keys.js';
import { applyKvBatch, kvArea } from './kvBatch.js';
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

interface Row {
  value: JsonValue;
  indexes: Record<string, string[]>;
}

/** The state several {@link MemoryStore} handles share. */
class Backing {
  events: BatonEvent[] = [];
  byId = new Map<string, BatonEvent>();
  head: Head = EMPTY_HEAD;
  collections = new Map<string, Map<string, Row>>();
  blobs = new Map<string, Uint8Array>();
  kv = new Map<string, KvValue>();
  /** The rows' search texts. */
  text = new TextIndex();
  /** The watchers of every open handle. */
  handles = new Set<CommitWatchers>();
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
      const indexes: Record<string, string[]> = {};
      for (const [name, key] of indexEntries(w)) indexes[name] = [...(indexes[name] ?? []), key];
      const row: Row = { value: copyJson(w.value), indexes };
      return { collection: w.collection, key: w.key, row, text: w.text };
    });
    const blobs = (batch.blobs ?? []).map((blob) => ({
      hash: blob.hash,
      bytes: blob.bytes.slice(),
    }));
    for (const e of frozen) {
      b.events.push(e);
      b.byId.set(e.id, e);
    }
    for (const w of writes) {
      let col = b.collections.get(w.collection);
      if (!col) {
        col = new Map();
        b.collections.set(w.collection, col);
      }
      if (w.row === undefined) col.delete(w.key);
      else col.set(w.key, w.row);
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
    const types = query.types ? new Set(query.types) : undefined;
    let left = query.limit ?? Number.POSITIVE_INFINITY;
    for (let i = Math.max(0, query.after ?? 0); i < b.events.length && left > 0; i++) {
      const e = b.events[i]!;
      if (query.until !== undefined && e.seq > query.until) return;
      if (query.stream !== undefined && e.stream !== query.stream) continue;
      if (query.ref !== undefined && !e.refs.includes(query.ref)) continue;
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
    return this.#open().collections.get(collection)?.get(key)?.value;
  }

  async query(
    collection: string,
    index: string,
    range: IndexRange,
    page: PageOptions = {},
  ): Promise<Page<ProjectionRow>> {
    const col = this.#open().collections.get(collection);
    const limit = page.limit ?? DEFAULT_PAGE_SIZE;
    const entries: [string, string, JsonValue][] = [];
    for (const [key, row] of col ?? []) {
      const ikeys = index === PRIMARY_INDEX ? [key] : (row.indexes[index] ?? []);
      for (const ik of ikeys) if (inRange(ik, range)) entries.push([ik, key, row.value]);
    }
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
      const row = col!.get(key)!;
      const ikeys = index === PRIMARY_INDEX ? [key] : (row.indexes[index] ?? []);
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
      this.#open().kv.set(key, kvIn(value));
    },
    delete: (key) => {
      this.#open().kv.delete(key);
    },
    list: (prefix, page) => {
      const limit = page.limit ?? DEFAULT_PAGE_SIZE;
      const after = page.after === undefined ? undefined : decodeCursor(page.after, 1)[0]!;
      const dir = page.reverse ? -1 : 1;
      const kv = this.#open().kv;
      const keys = [...kv.keys()]
        .filter(
          (k) => k.startsWith(prefix) && (after === undefined || dir * compareKeys(k, after) > 0),
        )
        .sort((x, y) => dir * compareKeys(x, y));
      return pageOf(
        keys.slice(0, limit + 1),
        limit,
        (key) => ({ key, value: kvOut(kv.get(key)!) }),
        (key) => [key],
      );
    },
    batch: (writes, expect) => {
      const kv = this.#open().kv;
      applyKvBatch(writes, expect, {
        get: (key) => kv.get(key),
        set: (key, v) => (v === undefined ? kv.delete(key) : kv.set(key, kvIn(v))),
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
