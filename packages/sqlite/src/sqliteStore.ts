import { accessSync, constants, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type * as B from '@baton/core';
import { BatonError, EMPTY_HEAD, ErrorCode, parseInput } from '@baton/core';
import * as S from '@baton/core/store';
import Database from 'better-sqlite3';
import { decodeBlob, encodeBlob } from './blobEncoding.js';
import { optionsSchema, type SqliteStoreOptions } from './options.js';
import { prepareSchema } from './schema.js';

/** A body as `baton_blobs` keeps it ({@link decodeBlob}). */
type BlobRow = { bytes: Uint8Array; encoding: string | null };

/** A row of a page: its position (index key, row key) and its value (JSON text, or bytes in kv). */
type PageRow = { ik: string; key: string; value: string | Uint8Array };

/**
 * A Baton `Store` in one SQLite file, shared by every connection and process that opens it.
 * Appends run in `BEGIN IMMEDIATE` transactions (atomic across processes); `watch` wakes on
 * this store's commits at once and on other connections' within `pollIntervalMs`.
 *
 * @example
 * ```ts
 * const ws = await Workspace.open({ store: new SqliteStore({ path: 'baton.db' }) });
 * ```
 */
export class SqliteStore implements B.Store {
  readonly #db: Database.Database;
  readonly #file: string;
  readonly #owned: boolean;
  readonly #busyMs: number | undefined;
  readonly #watchers: S.CommitWatchers;
  /** Prepared statements by SQL text: each shape of query is prepared once. */
  readonly #statements = new Map<string, Database.Statement>();
  readonly #handle: S.StoreHandle;

  /**
   * Opens the store, creating the file when needed. Throws `VALIDATION` for bad options, and
   * `STORE` for a file it cannot use: not a database, someone else's, a newer schema,
   * read-only, or locked past the busy timeout.
   */
  constructor(options: SqliteStoreOptions) {
    const o = parseInput(optionsSchema, options, 'new SqliteStore(options)');
    let db = o.database as Database.Database | undefined;
    this.#owned = db === undefined;
    this.#file = o.path ?? db?.name ?? 'the database';
    this.#busyMs = this.#owned ? (o.busyTimeoutMs ?? 5_000) : undefined;
    try {
      // A read-only file would open (SQLite falls back to reading) and fail at the first write.
      if (o.path !== undefined) checkWritable(o.path);
      db ??= new Database(o.path!, { timeout: this.#busyMs });
      prepareSchema(db, this.#file, this.#owned ? (o.synchronous ?? 'normal') : undefined);
    } catch (err) {
      if (this.#owned && db?.open) db.close();
      throw this.#fail('open', err);
    }
    this.#db = db;
    const closed = `This SqliteStore (${this.#file}) is closed. Open a new one on the same file.`;
    this.#handle = new S.StoreHandle(closed, (what, err) => this.#fail(what, err));
    // Another connection's commit changes `data_version`, a counter in shared memory.
    let version: unknown;
    const poll = () => {
      const last = version;
      version = this.#db.pragma('data_version', { simple: true });
      return version === last ? undefined : this.#headNow().seq;
    };
    this.#watchers = new S.CommitWatchers({ poll, intervalMs: o.pollIntervalMs, seq: poll() });
  }

  async append(batch: B.AppendBatch): Promise<B.Head> {
    // Compressed before the write lock is taken.
    const blobs = (batch.blobs ?? []).map((b) => ({ hash: b.hash, ...encodeBlob(b.bytes) }));
    const head = this.#tx('append', () => {
      const next = S.checkAppend(this.#headNow(), batch, (id) => !!this.#sql(SQL.hasEvent).get(id));
      for (const e of batch.events) {
        this.#sql(SQL.putEvent).run(e.seq, e.id, e.stream, e.type, e.hash, JSON.stringify(e));
        for (const ref of e.refs) this.#sql(SQL.putRef).run(ref, e.seq);
      }
      for (const w of batch.projections ?? []) {
        this.#sql(SQL.dropIndex).run(w.collection, w.key);
        this.#sql(SQL.dropText).run(w.collection, w.key);
        if (w.value !== null && w.text !== undefined)
          this.#sql(SQL.putText).run(w.collection, w.key, S.foldText(w.text));
        if (w.value === null) this.#sql(SQL.dropRow).run(w.collection, w.key);
        else this.#sql(SQL.putRow).run(w.collection, w.key, JSON.stringify(w.value));
        for (const [name, k] of S.indexEntries(w))
          this.#sql(SQL.putIndex).run(w.collection, name, k, w.key);
      }
      for (const b of blobs) this.#sql(SQL.putBlob).run(b.hash, b.stored, b.encoding);
      return next;
    });
    if (batch.events.length > 0) this.#watchers.committed(head.seq);
    return head;
  }

  async *read(q: B.ReadQuery = {}): AsyncIterable<B.BatonEvent> {
    this.#handle.live();
    const types = q.types && [...new Set(q.types)];
    if (types?.length === 0) return;
    // A read walks one index in seq order: the ref's (so a rare ref reads only its own events),
    // else the stream's, else each type's — one (type, seq) range per type, merged page by
    // page here, since `type IN (…) ORDER BY seq` would sort every match first. With a ref or a
    // stream, `+e.type` keeps the types a filter (a stream is narrower than a type).
    const alone = q.ref === undefined && q.stream === undefined;
    const [seq, from] = q.ref === undefined ? ['e.seq', ''] : ['r.seq', SQL.byRef];
    const pageBy = (type: S.SqlCondition) => {
      const [conds, params] = S.sqlConditions([
        [q.ref, 'r.ref = ?'],
        [q.until, `${seq} <= ?`],
        [q.stream, 'e.stream = ?'],
        type,
      ]);
      const sql = `SELECT ${seq} AS seq, e.body FROM baton_events e${from} WHERE ${seq} > ?${conds} ORDER BY ${seq} LIMIT ?`;
      return (after: number, n: number) =>
        this.#all<{ seq: number; body: string }>('read', sql, after, ...params, n);
    };
    const pages =
      alone && types
        ? types.map((t) => pageBy([t, 'e.type = ?']))
        : [pageBy([types, `+e.type IN (${types?.map(() => '?').join(', ')})`])];
    yield* S.readPages(q, (after, n) =>
      pages
        .flatMap((page) => page(after, n))
        .sort((a, b) => a.seq - b.seq)
        .slice(0, n)
        .map((r) => JSON.parse(r.body)),
    );
  }

  async event(id: string): Promise<B.BatonEvent | undefined> {
    const [row] = this.#all<{ body: string }>('event', SQL.event, id);
    return row && (JSON.parse(row.body) as B.BatonEvent);
  }

  async head(): Promise<B.Head> {
    return this.#handle.run('head', () => this.#headNow());
  }

  #headNow(): B.Head {
    const h = this.#sql(SQL.head).get() as B.Head | undefined;
    return h ? Object.freeze({ seq: h.seq, hash: h.hash }) : EMPTY_HEAD;
  }

  async get(collection: string, key: string): Promise<B.JsonValue | undefined> {
    const [row] = this.#all<{ value: string }>('get', SQL.row, collection, key);
    return row && (JSON.parse(row.value) as B.JsonValue);
  }

  async query(
    collection: string,
    index: string,
    range: B.IndexRange,
    page: B.PageOptions = {},
  ): Promise<B.Page<B.ProjectionRow>> {
    // The primary index is the row key itself; a secondary index lists (index key, row key) pairs.
    const primary = index === S.PRIMARY_INDEX;
    const select = primary ? [SQL.rows, collection] : [SQL.indexed, collection, index];
    const cols = primary ? ['r.key', 'r.key'] : ['i.ikey', 'i.key'];
    return this.#page('query', select, cols, range, page) as B.Page<B.ProjectionRow>;
  }

  async search(
    collection: string,
    needle: string,
    index: string,
    range: B.IndexRange,
    page: B.PageOptions = {},
  ): Promise<B.Page<B.ProjectionRow>> {
    const n = S.foldText(needle);
    // Needles of 3 characters (code points, as FTS5 counts them) or more go through the
    // trigram index; shorter ones have no trigram, so instr() checks the collection's texts.
    const indexed = Array.from(n).length >= S.MIN_INDEXED_NEEDLE;
    const [from, where] = indexed ? [SQL.textFts, SQL.textMatch] : [SQL.texts, SQL.textHas];
    const match = indexed ? `"${n.replaceAll('"', '""')}"` : n;
    const primary = index === S.PRIMARY_INDEX;
    const select = primary
      ? [`SELECT r.key AS ik, r.key, r.value${from}${SQL.textRow}${where}`, match, collection]
      : [
          `SELECT i.ikey AS ik, r.key, r.value${from}${SQL.textIndexed}${where} AND i.name = ?`,
          match,
          collection,
          index,
        ];
    const cols = primary ? ['r.key', 'r.key'] : ['i.ikey', 'i.key'];
    return this.#page('search', select, cols, range, page) as B.Page<B.ProjectionRow>;
  }

  readonly blobs: B.Store['blobs'] = {
    get: async (hash) => {
      const [row] = this.#all<BlobRow>('blobs.get', SQL.blob, hash);
      return row && this.#handle.run('blobs.get', () => decodeBlob(row.bytes, row.encoding, hash));
    },
    has: async (hash) => this.#all('blobs.has', SQL.hasBlob, hash).length > 0,
    /**
     * Erasure: `secure_delete` zeroes freed pages and a `TRUNCATE` checkpoint empties the WAL.
     * A read outlasting the busy timeout makes it throw `STORE`; deleting again finishes.
     */
    delete: async (hash) => {
      const [result] = this.#handle.run('blobs.delete', () => {
        this.#sql(SQL.dropBlob).run(hash);
        // Deleted texts linger in the FTS index's segments until they merge: merge them now,
        // so the erased words leave the index too (secure_delete zeroes the freed pages).
        this.#sql(SQL.textOptimize).run();
        return this.#db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
      });
      if (!result || result.busy === 0) return;
      const message = `SqliteStore blobs.delete on ${this.#file}: the body is deleted, but another connection kept reading past the busy timeout, so ${this.#file}-wal may still hold its old pages. Delete it again (actor.erase with the same hash) once that reader is done.`;
      throw new BatonError(ErrorCode.STORE, message, { details: { file: this.#file, hash } });
    },
  };

  readonly kv: B.KvArea = S.kvArea({
    get: (key) => this.#handle.run('kv.get', () => this.#kvRows.get(key)),
    getMany: (keys) =>
      this.#handle.run('kv.getMany', () =>
        // More than one statement: in one read transaction, so they all see the same moment.
        keys.length > KV_CHUNK
          ? this.#db.transaction(() => this.#kvMany(keys))()
          : this.#kvMany(keys),
      ),
    put: (key, value) => this.#handle.run('kv.put', () => this.#kvRows.set(key, value)),
    delete: (key) => this.#handle.run('kv.delete', () => this.#kvRows.set(key, undefined)),
    list: (prefix, page) =>
      this.#page('kv.list', [SQL.kvList, prefix], ['key'], { lt: S.prefixEnd(prefix) }, page),
    batch: (writes, expect) =>
      this.#tx('kv.batch', () => S.applyKvBatch(writes, expect, this.#kvRows)),
  });

  /** The kv table, read and written in transactions and out. */
  readonly #kvRows = {
    get: (key: string): B.KvValue | undefined => {
      const row = this.#sql(SQL.kvGet).get(key) as Pick<PageRow, 'value'> | undefined;
      return row && fromColumn(row.value);
    },
    set: (key: string, v: B.KvValue | undefined): void => {
      if (v === undefined) this.#sql(SQL.kvDelete).run(key);
      // Bytes go in as a BLOB, JSON as TEXT: the untyped column keeps each as it came.
      else this.#sql(SQL.kvPut).run(key, v instanceof Uint8Array ? v : JSON.stringify(v));
    },
  };

  /** The values of `keys` in their order, read `KV_CHUNK` keys per statement. */
  #kvMany(keys: readonly string[]): (B.KvValue | undefined)[] {
    const out = Array<B.KvValue | undefined>(keys.length).fill(undefined);
    for (let at = 0; at < keys.length; at += KV_CHUNK) {
      const chunk = keys.slice(at, at + KV_CHUNK);
      // Padded to a power of two with its first key: a few statement shapes, prepared once.
      let n = 1;
      while (n < chunk.length) n *= 2;
      const params = [...chunk, ...Array<string>(n - chunk.length).fill(chunk[0]!)];
      const rows = this.#sql(SQL.kvGetMany(n)).all(...params) as {
        i: number;
        value: PageRow['value'];
      }[];
      // Each position parsed on its own: a key asked twice gets two copies.
      for (const r of rows) if (r.i < chunk.length) out[at + r.i] = fromColumn(r.value);
    }
    return out;
  }

  /** A page of `select`'s rows ordered by `cols` (index key, row key), the first in `range`. */
  #page(
    what: string,
    [select, ...fixed]: readonly unknown[],
    cols: string[],
    range: B.IndexRange,
    page: B.PageOptions,
  ): B.Page<{ key: string; value: B.KvValue }> {
    const k = S.keysetSql(cols, range, page);
    const rows = this.#all<PageRow>(what, `${select}${k.sql}`, ...fixed, ...k.params);
    const item = (x: PageRow) => ({ key: x.key, value: fromColumn(x.value) });
    return S.pageOf(rows, k.limit, item, (x) => [x.ik, x.key].slice(0, cols.length));
  }

  watch(onCommit: (seq: number) => void): () => void {
    return this.#handle.run('watch', () => this.#watchers.add(onCommit));
  }

  async close(): Promise<void> {
    await this.#handle.close(() => {
      this.#watchers.close();
      this.#statements.clear();
      if (this.#owned) this.#db.close();
    });
  }

  #sql(sql: string): Database.Statement {
    const s = this.#statements.get(sql) ?? this.#db.prepare(sql);
    this.#statements.set(sql, s);
    return s;
  }

  /** Runs `fn` in a `BEGIN IMMEDIATE` transaction: whole or not at all, across processes. */
  #tx<T>(what: string, fn: () => T): T {
    return this.#handle.run(what, () => this.#db.transaction(fn).immediate());
  }

  #all<R>(what: string, sql: string, ...params: unknown[]): R[] {
    return this.#handle.run(what, () => this.#sql(sql).all(...params) as R[]);
  }

  /** A SQLite failure as a `STORE` error that says what to do. */
  #fail(what: string, err: unknown): BatonError {
    const c = String((err as { code?: unknown } | undefined)?.code ?? '');
    const [f, ms] = [this.#file, this.#busyMs === undefined ? '' : ` (${this.#busyMs} ms)`];
    const hint = /^SQLITE_BUSY/.test(c)
      ? `Another connection held the database locked for longer than the busy timeout${ms}. Retry, or raise busyTimeoutMs.`
      : /^SQLITE_(READONLY|CANTOPEN)/.test(c)
        ? `Baton needs to read and write ${f} and create its -wal and -shm files beside it: check the permissions of the file and its directory.`
        : /^SQLITE_(NOTADB|CORRUPT)/.test(c)
          ? `${f} is not a SQLite database or is damaged. Nothing was written; restore it from a backup or point \`path\` at a new file.`
          : c === 'SQLITE_FULL'
            ? 'The disk is full.'
            : undefined;
    return S.storeFailure(err, `SqliteStore ${what}`, f, hint, { file: f, sqlite: c || undefined });
  }
}

/** The fixed statements, each prepared once per store. */
const SQL = {
  putEvent:
    'INSERT INTO baton_events (seq, id, stream, type, hash, body) VALUES (?, ?, ?, ?, ?, ?)',
  putRef: 'INSERT OR IGNORE INTO baton_event_refs (ref, seq) VALUES (?, ?)',
  dropIndex: 'DELETE FROM baton_row_index WHERE collection = ? AND key = ?',
  dropRow: 'DELETE FROM baton_rows WHERE collection = ? AND key = ?',
  putRow: 'INSERT OR REPLACE INTO baton_rows (collection, key, value) VALUES (?, ?, ?)',
  putIndex:
    'INSERT OR IGNORE INTO baton_row_index (collection, name, ikey, key) VALUES (?, ?, ?, ?)',
  dropText: 'DELETE FROM baton_texts WHERE collection = ? AND key = ?',
  putText: 'INSERT INTO baton_texts (collection, key, text) VALUES (?, ?, ?)',
  texts: ' FROM baton_texts t',
  // CROSS JOIN fixes the order: the text index first, so a search reads its matches only (left
  // free, the planner walks the row index in ORDER BY order and probes the text index per row).
  textFts: ' FROM baton_text_index CROSS JOIN baton_texts t ON t.id = baton_text_index.rowid',
  textRow: ' CROSS JOIN baton_rows r ON r.collection = t.collection AND r.key = t.key',
  textIndexed:
    ' CROSS JOIN baton_row_index i ON i.collection = t.collection AND i.key = t.key CROSS JOIN baton_rows r ON r.collection = i.collection AND r.key = i.key',
  textMatch: ' WHERE baton_text_index MATCH ? AND t.collection = ?',
  textHas: ' WHERE instr(t.text, ?) > 0 AND t.collection = ?',
  textOptimize: "INSERT INTO baton_text_index (baton_text_index) VALUES ('optimize')",
  putBlob: 'INSERT OR IGNORE INTO baton_blobs (hash, bytes, encoding) VALUES (?, ?, ?)',
  byRef: ' JOIN baton_event_refs r ON r.seq = e.seq',
  event: 'SELECT body FROM baton_events WHERE id = ?',
  hasEvent: 'SELECT 1 FROM baton_events WHERE id = ?',
  head: 'SELECT seq, hash FROM baton_events ORDER BY seq DESC LIMIT 1',
  row: 'SELECT value FROM baton_rows WHERE collection = ? AND key = ?',
  rows: 'SELECT r.key AS ik, r.key, r.value FROM baton_rows r WHERE r.collection = ?',
  indexed:
    'SELECT i.ikey AS ik, r.key, r.value FROM baton_row_index i JOIN baton_rows r ON r.collection = i.collection AND r.key = i.key WHERE i.collection = ? AND i.name = ?',
  blob: 'SELECT bytes, encoding FROM baton_blobs WHERE hash = ?',
  hasBlob: 'SELECT 1 FROM baton_blobs WHERE hash = ?',
  dropBlob: 'DELETE FROM baton_blobs WHERE hash = ?',
  kvGet: 'SELECT value FROM baton_kv WHERE key = ?',
  kvPut: 'INSERT OR REPLACE INTO baton_kv (key, value) VALUES (?, ?)',
  kvDelete: 'DELETE FROM baton_kv WHERE key = ?',
  kvList: 'SELECT key AS ik, key, value FROM baton_kv WHERE key >= ?',
  /**
   * `n` point lookups, each numbered by its position, as one statement (one snapshot). Not
   * `key IN (…)`, which builds a temporary index of the keys on every run: the saver's latest
   * getTuple on bench L1, as a multiple of the official saver's in the same run (medians of 3
   * runs, in rotation, load ≈ 15 on 2 cores): with IN 1.39×, with this 1.30×. Against one
   * `kv.get` per key (1.33–1.37× in the same runs) the difference stayed within run-to-run
   * noise (±0.1×).
   */
  kvGetMany: (n: number): string =>
    (manySql[n] ??= Array.from(
      { length: n },
      (_, i) => `SELECT ${i} AS i, value FROM baton_kv WHERE key = ?`,
    ).join(' UNION ALL ')),
};

/** The text of {@link SQL.kvGetMany} by size, made once. */
const manySql: string[] = [];

/**
 * Most keys one statement of `kv.getMany` reads: a power of two (the largest padded shape)
 * below SQLite's default limits of 500 terms in a compound SELECT and 999 variables.
 */
const KV_CHUNK = 256;

/** A stored value: JSON from TEXT, bytes from a BLOB as a plain Uint8Array, not a Buffer. */
function fromColumn(stored: string | Uint8Array): B.KvValue {
  return typeof stored === 'string' ? (JSON.parse(stored) as B.JsonValue) : new Uint8Array(stored);
}

/** Throws `STORE` unless the process may write the file (when it exists) and its directory. */
function checkWritable(path: string): void {
  if (path === ':memory:' || !existsSync(path)) return;
  for (const target of [path, dirname(path)]) {
    try {
      accessSync(target, constants.R_OK | constants.W_OK);
    } catch (cause) {
      const what = target === path ? 'the file' : 'its directory, for the -wal and -shm files';
      const message = `${path} is read-only to this process (${(cause as Error).message}). Baton needs to write ${what}: check the permissions. Nothing was written.`;
      throw new BatonError(ErrorCode.STORE, message, { cause, details: { file: path } });
    }
  }
}
