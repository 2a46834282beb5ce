import type { JsonValue } from '../crypto/canonical.js';
import type { BatonEvent, Head } from '../log/event.js';

/**
 * A write to a projection collection, made in the same transaction as the events.
 * `value: null` deletes the row.
 */
export interface ProjectionWrite {
  collection: string;
  key: string;
  value: JsonValue | null;
  /**
   * Secondary index keys of the row: index name → one key or several (a row listed under
   * each of its tags, say). Replaces the row's previous index keys. Defaults to none.
   */
  indexes?: Record<string, string | string[]>;
  /**
   * The words to find the row by with {@link Store.search}. Replaced with the row (a write
   * without `text` leaves the row with none) and removed with it. Defaults to none.
   */
  text?: string;
}

/** A content-addressed body: `hash` is `sha256b64(bytes)`. */
export interface BlobWrite {
  hash: string;
  bytes: Uint8Array;
}

/** What {@link Store.append} writes, all together or not at all. */
export interface AppendBatch {
  /** Fully formed events, `seq` contiguous from `expectedHead.seq + 1`, the first one's `prev` the head's hash. */
  events: BatonEvent[];
  /** The head the batch was built against. A different head makes the append throw `ConflictError`. */
  expectedHead: Head;
  /** Projection rows to put or delete. */
  projections?: ProjectionWrite[];
  /** Bodies the events refer to by hash. Writing a blob that exists is a no-op. */
  blobs?: BlobWrite[];
}

/** A filter over the log for {@link Store.read}. All given conditions must hold. */
export interface ReadQuery {
  /** Only events with `seq > after`. Defaults to `0` (from the start). */
  after?: number;
  /** Only events with `seq <= until`. */
  until?: number;
  /** Only events of this stream. */
  stream?: string;
  /** Only events whose `refs` contain this id. */
  ref?: string;
  /** Only events of these types (full `name@version` strings). */
  types?: string[];
  /** At most this many events. Defaults to all. */
  limit?: number;
}

/**
 * A range over one index's keys (strings, compared by Unicode code point — the order of their
 * UTF-8 bytes). All given bounds must hold; `{}` is every key. These are the bounds core asks
 * for; a store maps each to one comparison (`prefix` to `>= prefix AND < prefixEnd(prefix)`).
 */
export interface IndexRange {
  eq?: string;
  prefix?: string;
  gt?: string;
  gte?: string;
  lt?: string;
}

/** Paging options for {@link Store.query} and `kv.list`. */
export interface PageOptions {
  /** Page size. Defaults to `100`. */
  limit?: number;
  /** The `next` cursor of the previous page. */
  after?: string;
  /** Newest (highest key) first. Defaults to `false`. */
  reverse?: boolean;
}

/** One page of results; `next` is present when there may be more. */
export interface Page<T> {
  items: T[];
  next?: string;
}

/** A projection row. */
export interface ProjectionRow {
  key: string;
  value: JsonValue;
}

/** Values the `kv` area holds: JSON or raw bytes, returned as stored. */
export type KvValue = JsonValue | Uint8Array;

/**
 * The unsigned, mutable scratch area for state that is a framework's, not the
 * collaboration's (LangGraph checkpoints, agent sessions). Not in the audit log; can be
 * deleted.
 */
export interface KvArea {
  get(key: string): Promise<KvValue | undefined>;
  /**
   * The values of several keys in one call: `result[i]` is the value of `keys[i]`, or
   * `undefined` when it has none — what `Promise.all(keys.map(get))` returns, in one round
   * trip to the backend (on SQLite, one statement per 512 keys).
   *
   * @remarks
   * The values are read at one moment: another process's {@link KvArea.batch} is seen whole
   * or not at all. A key given twice gets its value twice; as with `get`, changing a returned
   * value changes neither the stored one nor the other copies. An empty `keys` gives `[]`.
   * Validate with `checkKvKeys` from `@baton/core/store`: a `keys` that is not an array of
   * strings is a `BatonError` `VALIDATION` naming `keys` or `keys[i]`, and nothing is read.
   *
   * @example
   * ```ts
   * const [draft, missing] = await store.kv.getMany(['draft', 'never-put']);
   * ```
   */
  getMany(keys: readonly string[]): Promise<(KvValue | undefined)[]>;
  put(key: string, value: KvValue): Promise<void>;
  delete(key: string): Promise<void>;
  /** Entries whose key starts with `prefix`, in key order. */
  list(prefix: string, page?: PageOptions): Promise<Page<{ key: string; value: KvValue }>>;
  /**
   * Puts and deletes several keys atomically — all or nothing — and, with `expect`, only when
   * each expected key still holds the expected value (compare-and-set).
   *
   * @remarks
   * An expectation without `value` (or with `value: undefined`) means "the key is absent".
   * JSON values compare by canonical JSON, bytes byte by byte. When any expectation fails it
   * throws a `BatonError` with code `CONFLICT` (details: the `key`) and writes nothing; another
   * process's batch on the same storage is seen whole or not at all. Validate with
   * {@link checkKvBatch}.
   */
  batch(writes: readonly KvWrite[], options?: KvBatchOptions): Promise<void>;
}

/** One write of {@link KvArea.batch}: a put when it has a `value`, a delete when it has none. */
export interface KvWrite {
  key: string;
  /** The value to put. Defaults to none: the key is deleted. */
  value?: KvValue;
}

/** What {@link KvArea.batch} requires of the current values before it writes. */
export interface KvExpectation {
  key: string;
  /** The value the key must hold. Defaults to none: the key must be absent. */
  value?: KvValue;
}

/** Options of {@link KvArea.batch}. */
export interface KvBatchOptions {
  /** Conditions checked in the same transaction as the writes. Defaults to none. */
  expect?: readonly KvExpectation[];
}

/** The content-addressed body area (artifact content, context text). */
export interface BlobArea {
  get(hash: string): Promise<Uint8Array | undefined>;
  has(hash: string): Promise<boolean>;
  /** Deletes a body for good (erasure). Deleting a missing blob is a no-op. */
  delete(hash: string): Promise<void>;
}

/** The name of the implicit index over projection row keys. */
export const PRIMARY_INDEX = '$key';

/**
 * What a storage adapter implements: an append-only log with a head, projection rows with
 * secondary index keys, content-addressed blobs and a kv area — bytes in, bytes out,
 * atomically, plus a wake-up hint.
 *
 * @remarks
 * Core validates, authorizes, signs, hashes and computes the projections; a store trusts the
 * batches core hands it and guards only its own invariants: the head check and the chain
 * (`checkAppend` from `@baton/core/store`: the expected head, seqs contiguous, each `prev` the
 * hash before, no id twice) and atomicity (a batch lands whole or not at all, also across
 * processes sharing the storage). `kv` is the exception: adapters call it directly, so a
 * store checks its arguments (`kvArea` does, around the store's own part). Its `getMany`
 * reads many keys in one round trip (one statement on SQLite), so an adapter that needs
 * several records (a checkpoint and the ones holding its values) asks once.
 *
 * The smallest correct store is `MemoryStore` (about 360 lines): arrays, maps and sorted
 * indexes, a `checkAppend` first, copies in and out. Every implementation passes
 * `runStoreConformance` from `@baton/core/testing`. "Not found" is `undefined`; backend
 * failures are `BatonError`s with code `STORE` and the backend's error as `cause`.
 */
export interface Store {
  /**
   * Appends events, projection writes and blobs atomically and moves the head to the last
   * event. Throws `ConflictError` (writing nothing) when the head is not `expectedHead`, and
   * `VALIDATION` (writing nothing) when an event id exists already or the batch does not
   * continue the head (seq gap, wrong `prev`).
   *
   * A batch with no events but projection writes (and no blobs) rewrites projections alone,
   * under the same head check, and leaves the head where it is — what
   * `workspace.rebuildProjections()` uses.
   */
  append(batch: AppendBatch): Promise<Head>;
  /** Events in commit order, streamed in pages so memory stays flat. */
  read(query?: ReadQuery): AsyncIterable<BatonEvent>;
  /** The committed event with this id. */
  event(id: string): Promise<BatonEvent | undefined>;
  /** The current head. */
  head(): Promise<Head>;
  /** One projection row's value. */
  get(collection: string, key: string): Promise<JsonValue | undefined>;
  /**
   * Projection rows whose key in `index` falls in `range`, ordered by that key then by row
   * key. Use {@link PRIMARY_INDEX} to range over row keys.
   */
  query(
    collection: string,
    index: string,
    range: IndexRange,
    page?: PageOptions,
  ): Promise<Page<ProjectionRow>>;
  /**
   * Projection rows of `collection` whose {@link ProjectionWrite.text} contains `needle`,
   * case-insensitively, ordered and paged as {@link Store.query} orders and pages them: by
   * their key in `index` (within `range`), then by row key — one item per index key in range,
   * the same cursor form.
   *
   * @remarks
   * Case-insensitive means both sides folded by `foldText` from `@baton/core/store`
   * (`String.prototype.toLowerCase`, so `É` finds `é`, `Ж` finds `ж`). Cost follows the rows whose text holds the needle's
   * trigrams, not the collection: `MemoryStore` keeps trigram postings, `SqliteStore` an FTS5
   * trigram index. A needle shorter than 3 characters has no trigram: stores then check the
   * collection's texts one by one, which costs as many rows as hold text.
   */
  search(
    collection: string,
    needle: string,
    index: string,
    range: IndexRange,
    page?: PageOptions,
  ): Promise<Page<ProjectionRow>>;
  readonly blobs: BlobArea;
  readonly kv: KvArea;
  /**
   * Calls `onCommit` with the new head seq after commits — this instance's and, where the
   * backend allows, other processes'. A hint only: core also polls. Returns an unsubscribe.
   */
  watch(onCommit: (seq: number) => void): () => void;
  /** Releases the backend. Idempotent. */
  close(): Promise<void>;
}
