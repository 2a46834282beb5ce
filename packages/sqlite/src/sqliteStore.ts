import { accessSync, constants, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  type AppendBatch,
  BatonError,
  type BatonEvent,
  type BlobArea,
  ConflictError,
  checkKvBatch,
  EMPTY_HEAD,
  ErrorCode,
  findNonJson,
  type Head,
  type IndexRange,
  isBatonError,
  type JsonValue,
  type KvArea,
  type KvExpectation,
  type KvValue,
  type KvWrite,
  kvConflict,
  kvValueEquals,
  type Page,
  type PageOptions,
  PRIMARY_INDEX,
  type ProjectionRow,
  type ReadQuery,
  type Store,
} from '@baton/core';
import Database from 'better-sqlite3';
import { prepareSchema } from './schema.js';
import {
  checkAppendInput,
  checkBatch,
  decodeCursor,
  encodeCursor,
  optionsSchema,
  pageSchema,
  parseInput,
  prefixEnd,
  rangeSchema,
  readSchema,
  text,
} from './validation.js';

/** Options for {@link SqliteStore}: give `path` or `database`, not both. */
export interface SqliteStoreOptions {
  /**
   * The database file, created when missing. The store opens it in WAL mode with the
   * settings below and closes it on `close()`.
   */
  path?: string;
  /**
   * An open better-sqlite3 connection to use instead of `path`, as it is configured (journal
   * mode, `synchronous`, busy timeout are the caller's; the store only turns
   * `secure_delete` on, which erasure needs). `close()` leaves it open.
   */
  database?: Database.Database;
  /**
   * How long a write waits for another connection's write lock before failing with a
   * `STORE` error, in ms. Only with `path`. Defaults to `5_000`.
   */
  busyTimeoutMs?: number;
  /**
   * `'normal'`: a commit survives the process crashing (what SQLite's WAL guarantees);
   * after a power loss or OS crash the file is intact but may lack the last commits.
   * `'full'`: a commit also survives power loss, at the cost of an fsync per append
   * (about 1.5 ms on a typical SSD). Only with `path`. Defaults to `'normal'`.
   */
  synchronous?: 'normal' | 'full';
  /**
   * How often watchers check for commits made by other connections and processes
   * (`PRAGMA data_version`, a read of a counter in shared memory), in ms. Runs only while
   * someone watches. Defaults to `25`.
   */
  pollIntervalMs?: number;
}

/** Rows read per query while streaming the log, so memory stays flat. */
const READ_PAGE = 256;
/** Rows per multi-row INSERT (6 parameters each for events: far under SQLite's limit). */
const ROWS_PER_STATEMENT = 50;
/** Page size of `query` and `kv.list` when none is given (the Store contract's default). */
const DEFAULT_PAGE_SIZE = 100;

type Statement = Database.Statement<unknown[], unknown>;
type SqlParams = Record<string, string | number | Uint8Array>;

/**
 * A {@link Store} in one SQLite file (better-sqlite3): events, projections, blobs and kv
 * together, shared by every connection and process that opens the file.
 *
 * @remarks
 * Appends run in `BEGIN IMMEDIATE` transactions, so the head check and the inserts are one
 * atomic step across processes. `watch` wakes on this store's own commits at once and on
 * other connections' within `pollIntervalMs`. The schema version lives in
 * `PRAGMA user_version`; a file written by a newer version, or not a Baton store at all, is
 * refused with a `STORE` error and left untouched.
 *
 * @example
 * ```ts
 * const ws = await Workspace.open({ store: new SqliteStore({ path: 'baton.db' }) });
 * ```
 */
export class SqliteStore implements Store {
  readonly #db: Database.Database;
  readonly #file: string;
  readonly #owned: boolean;
  readonly #busyMs: number | undefined;
  readonly #pollMs: number;
  readonly #statements = new Map<string, Statement>();
  readonly #watchers = new Set<(seq: number) => void>();
  readonly #appendTx: Database.Transaction<(batch: AppendBatch) => Head>;
  readonly #kvBatchTx: Database.Transaction<
    (writes: readonly KvWrite[], expect: readonly KvExpectation[]) => void
  >;
  #timer: ReturnType<typeof setInterval> | undefined;
  #dataVersion = 0;
  #seenSeq = 0;
  #closed = false;

  /**
   * Opens (creating when needed) the store. Throws `VALIDATION` for bad options and
   * `STORE` when the file cannot be used: not a database, someone else's database, a newer
   * schema, not writable, or locked for longer than the busy timeout.
   */
  constructor(options: SqliteStoreOptions) {
    const o = parseInput(optionsSchema, options, 'new SqliteStore(options)');
    let db = o.database as Database.Database | undefined;
    this.#owned = db === undefined;
    this.#file = o.path ?? db?.name ?? 'the database';
    this.#busyMs = this.#owned ? (o.busyTimeoutMs ?? 5_000) : undefined;
    this.#pollMs = o.pollIntervalMs ?? 25;
    try {
      // A read-only file would open (SQLite falls back to reading) and fail at the first
      // write; say so now. (No write lock is taken to find out: WAL readers never wait.)
      if (o.path !== undefined) checkWritable(o.path);
      db ??= new Database(o.path!, { timeout: this.#busyMs });
      const opened = db;
      prepareSchema(opened, this.#file, () => {
        if (!this.#owned) return;
        opened.pragma('journal_mode = WAL');
        opened.pragma(`synchronous = ${o.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
      });
      // Deleted content is overwritten with zeros, so an erased body leaves no bytes behind
      // in freed pages or cells (see `blobs.delete`). Set on every connection, the caller's too:
      // erasure depends on it.
      opened.pragma('secure_delete = ON');
      this.#dataVersion = opened.pragma('data_version', { simple: true }) as number;
    } catch (err) {
      if (this.#owned && db?.open) db.close();
      throw this.#fail('open', err);
    }
    this.#db = db;
    this.#seenSeq = this.#headNow().seq;
    this.#appendTx = db.transaction((batch: AppendBatch) => this.#write(batch));
    this.#kvBatchTx = db.transaction((w: readonly KvWrite[], e: readonly KvExpectation[]) =>
      this.#kvBatch(w, e),
    );
  }

  async append(batch: AppendBatch): Promise<Head> {
    this.#live();
    checkAppendInput(batch);
    let head: Head;
    try {
      head = this.#appendTx.immediate(batch);
    } catch (err) {
      throw this.#fail('append', err);
    }
    if (batch.events.length > 0) {
      this.#seenSeq = head.seq;
      for (const w of this.#watchers) queueMicrotask(() => w(head.seq));
    }
    return head;
  }

  /** The body of one append, inside its `BEGIN IMMEDIATE` transaction. */
  #write({ events, expectedHead, projections = [], blobs = [] }: AppendBatch): Head {
    const head = this.#headNow();
    if (head.seq !== expectedHead.seq || head.hash !== expectedHead.hash) {
      throw new ConflictError(expectedHead, head);
    }
    checkBatch(head, events, projections, blobs);
    // Rows go in by statements of up to ROWS_PER_STATEMENT rows each: one call into SQLite
    // per chunk instead of one per row.
    for (let i = 0; i < events.length; i += ROWS_PER_STATEMENT) {
      const chunk = events.slice(i, i + ROWS_PER_STATEMENT);
      const params: unknown[] = [];
      for (const e of chunk) params.push(e.seq, e.id, e.stream, e.type, e.hash, JSON.stringify(e));
      try {
        this.#rowsSql(
          'INSERT INTO baton_events (seq, id, stream, type, hash, body) VALUES',
          '(?, ?, ?, ?, ?, ?)',
          chunk.length,
        ).run(params);
      } catch (err) {
        if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
          const taken = chunk.find((e) => this.#eventSeq(e.id) !== undefined) ?? chunk[0]!;
          throw new BatonError(
            ErrorCode.VALIDATION,
            `Event id "${taken.id}" exists already in this workspace.`,
          );
        }
        throw err;
      }
    }
    const refs: unknown[] = [];
    for (const e of events) for (const ref of e.refs) refs.push(ref, e.seq);
    for (let i = 0; i < refs.length; i += 2 * ROWS_PER_STATEMENT) {
      const part = refs.slice(i, i + 2 * ROWS_PER_STATEMENT);
      this.#rowsSql(
        'INSERT OR IGNORE INTO baton_event_refs (ref, seq) VALUES',
        '(?, ?)',
        part.length / 2,
      ).run(part);
    }
    const dropIndex = this.#sql('DELETE FROM baton_row_index WHERE collection = ? AND key = ?');
    const dropRow = this.#sql('DELETE FROM baton_rows WHERE collection = ? AND key = ?');
    const putRow = this.#sql(
      'INSERT OR REPLACE INTO baton_rows (collection, key, value) VALUES (?, ?, ?)',
    );
    const putIndex = this.#sql(
      'INSERT OR IGNORE INTO baton_row_index (collection, name, ikey, key) VALUES (?, ?, ?, ?)',
    );
    for (const w of projections) {
      dropIndex.run(w.collection, w.key);
      if (w.value === null) {
        dropRow.run(w.collection, w.key);
        continue;
      }
      putRow.run(w.collection, w.key, JSON.stringify(w.value));
      for (const [name, keys] of Object.entries(w.indexes ?? {})) {
        for (const k of Array.isArray(keys) ? keys : [keys])
          putIndex.run(w.collection, name, k, w.key);
      }
    }
    const putBlob = this.#sql('INSERT OR IGNORE INTO baton_blobs (hash, bytes) VALUES (?, ?)');
    for (const b of blobs) putBlob.run(b.hash, b.bytes);
    const last = events.at(-1);
    return last ? Object.freeze({ seq: last.seq, hash: last.hash }) : head;
  }

  async *read(query: ReadQuery = {}): AsyncIterable<BatonEvent> {
    this.#live();
    const q = parseInput(readSchema, query, 'store.read(query)');
    let left = q.limit ?? Number.POSITIVE_INFINITY;
    if (left === 0 || q.types?.length === 0) return;
    // With a ref the scan runs along the ref index, so a rare ref in a long log reads only
    // its own events.
    const seq = q.ref === undefined ? 'e.seq' : 'r.seq';
    const from =
      q.ref === undefined
        ? 'baton_events e'
        : 'baton_event_refs r JOIN baton_events e ON e.seq = r.seq';
    const params: SqlParams = { after: q.after ?? 0 };
    const where = [`${seq} > @after`];
    const add = (name: string, value: string | number | undefined, cond: string) => {
      if (value === undefined) return;
      where.push(cond);
      params[name] = value;
    };
    add('ref', q.ref, 'r.ref = @ref');
    add('until', q.until, `${seq} <= @until`);
    add('stream', q.stream, 'e.stream = @stream');
    if (q.types) {
      q.types.forEach((t, i) => {
        params[`t${i}`] = t;
      });
      where.push(`e.type IN (${q.types.map((_, i) => `@t${i}`).join(', ')})`);
    }
    const sql = `SELECT e.seq, e.body FROM ${from} WHERE ${where.join(' AND ')} ORDER BY ${seq} LIMIT @limit`;
    while (left > 0) {
      params.limit = Math.min(READ_PAGE, left);
      const rows = this.#all<{ seq: number; body: string }>('read', sql, params);
      for (const row of rows) yield JSON.parse(row.body) as BatonEvent;
      if (rows.length < params.limit) return;
      left -= rows.length;
      params.after = rows.at(-1)!.seq;
    }
  }

  async event(id: string): Promise<BatonEvent | undefined> {
    text(id, 'store.event(id)');
    const row = this.#get<{ body: string }>(
      'event',
      'SELECT body FROM baton_events WHERE id = ?',
      id,
    );
    return row && (JSON.parse(row.body) as BatonEvent);
  }

  async head(): Promise<Head> {
    this.#live();
    return this.#run('head', () => this.#headNow());
  }

  #headNow(): Head {
    const row = this.#sql('SELECT seq, hash FROM baton_events ORDER BY seq DESC LIMIT 1').get();
    const h = row as Head | undefined;
    return h ? Object.freeze({ seq: h.seq, hash: h.hash }) : EMPTY_HEAD;
  }

  async get(collection: string, key: string): Promise<JsonValue | undefined> {
    text(collection, 'store.get(collection)');
    text(key, 'store.get(key)');
    const sql = 'SELECT value FROM baton_rows WHERE collection = ? AND key = ?';
    const row = this.#get<{ value: string }>('get', sql, collection, key);
    return row && (JSON.parse(row.value) as JsonValue);
  }

  async query(
    collection: string,
    index: string,
    range: IndexRange,
    page: PageOptions = {},
  ): Promise<Page<ProjectionRow>> {
    text(collection, 'store.query(collection)');
    text(index, 'store.query(index)');
    const r = parseInput(rangeSchema, range, 'store.query(range)');
    const p = parseInput(pageSchema, page, 'store.query(page)');
    const limit = p.limit ?? DEFAULT_PAGE_SIZE;
    const params: SqlParams = { collection, index, limit: limit + 1 };
    const [dir, cmp] = p.reverse ? ['DESC', '<'] : ['ASC', '>'];
    // The primary index is the row key itself; a secondary index lists (index key, row key)
    // pairs, ordered by both.
    let sql: string;
    if (index === PRIMARY_INDEX) {
      const where = ['r.collection = @collection', ...rangeWhere('r.key', r, params)];
      if (p.after !== undefined) {
        params.rk = decodeCursor(p.after, 2)[1]!;
        where.push(`r.key ${cmp} @rk`);
      }
      sql = `SELECT r.key AS ik, r.key, r.value FROM baton_rows r WHERE ${where.join(' AND ')} ORDER BY r.key ${dir} LIMIT @limit`;
    } else {
      const where = [
        'i.collection = @collection AND i.name = @index',
        ...rangeWhere('i.ikey', r, params),
      ];
      if (p.after !== undefined) {
        [params.ik, params.rk] = decodeCursor(p.after, 2) as [string, string];
        where.push(`(i.ikey, i.key) ${cmp} (@ik, @rk)`);
      }
      sql = `SELECT i.ikey AS ik, r.key, r.value FROM baton_row_index i JOIN baton_rows r ON r.collection = i.collection AND r.key = i.key WHERE ${where.join(' AND ')} ORDER BY i.ikey ${dir}, i.key ${dir} LIMIT @limit`;
    }
    const rows = this.#all<{ ik: string; key: string; value: string }>('query', sql, params);
    return pageOf(rows, limit, (x) => ({
      item: { key: x.key, value: JSON.parse(x.value) as JsonValue },
      cursor: [x.ik, x.key],
    }));
  }

  readonly blobs: BlobArea = {
    get: async (hash) => {
      text(hash, 'store.blobs.get(hash)');
      const sql = 'SELECT bytes FROM baton_blobs WHERE hash = ?';
      const row = this.#get<{ bytes: Uint8Array }>('blobs.get', sql, hash);
      // A plain Uint8Array, not the Buffer better-sqlite3 hands back.
      return row && new Uint8Array(row.bytes);
    },
    has: async (hash) => {
      text(hash, 'store.blobs.has(hash)');
      return !!this.#get('blobs.has', 'SELECT 1 AS x FROM baton_blobs WHERE hash = ?', hash);
    },
    /**
     * Deletes the body (erasure) and its bytes from the files: `secure_delete` zeroes the
     * freed cells and pages, and a `TRUNCATE` checkpoint copies the WAL into the database and
     * empties it, so no frame holding the old pages is left. The checkpoint waits (up to the
     * busy timeout) for other connections' reads to finish; when one outlasts it, this throws
     * `STORE` after the row is deleted — deleting again (`actor.erase` again) finishes the job.
     */
    delete: async (hash) => {
      text(hash, 'store.blobs.delete(hash)');
      this.#exec('blobs.delete', 'DELETE FROM baton_blobs WHERE hash = ?', hash);
      const [result] = this.#run(
        'blobs.delete',
        () => this.#db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[],
      );
      if (result && result.busy !== 0) {
        throw new BatonError(
          ErrorCode.STORE,
          `SqliteStore blobs.delete on ${this.#file}: the body is deleted, but another connection kept reading past the busy timeout, so ${this.#file}-wal may still hold its old pages. Delete it again (actor.erase with the same hash) once that reader is done.`,
          { details: { file: this.#file, hash } },
        );
      }
    },
  };

  readonly kv: KvArea = {
    get: async (key) => {
      text(key, 'store.kv.get(key)');
      const sql = 'SELECT value FROM baton_kv WHERE key = ?';
      const row = this.#get<{ value: string | Uint8Array }>('kv.get', sql, key);
      return row && kvValue(row.value);
    },
    put: async (key, value) => {
      text(key, 'store.kv.put(key)');
      const bad = value === undefined ? '(value) is undefined' : findNonJson(value);
      if (!(value instanceof Uint8Array) && bad) {
        throw new BatonError(
          ErrorCode.VALIDATION,
          `store.kv.put: \`value\` must be plain JSON or a Uint8Array: ${bad}.`,
          { details: { field: 'value' } },
        );
      }
      // Bytes go in as a BLOB, JSON as TEXT: the untyped column keeps each as it came.
      const stored = value instanceof Uint8Array ? value : JSON.stringify(value);
      this.#exec(
        'kv.put',
        'INSERT OR REPLACE INTO baton_kv (key, value) VALUES (?, ?)',
        key,
        stored,
      );
    },
    delete: async (key) => {
      text(key, 'store.kv.delete(key)');
      this.#exec('kv.delete', 'DELETE FROM baton_kv WHERE key = ?', key);
    },
    list: async (prefix, page = {}) => {
      text(prefix, 'store.kv.list(prefix)');
      const p = parseInput(pageSchema, page, 'store.kv.list(page)');
      const limit = p.limit ?? DEFAULT_PAGE_SIZE;
      const params: SqlParams = { limit: limit + 1 };
      const where = ['1', ...rangeWhere('key', { prefix }, params)];
      if (p.after !== undefined) {
        params.after = decodeCursor(p.after, 1)[0]!;
        where.push(`key ${p.reverse ? '<' : '>'} @after`);
      }
      const sql = `SELECT key, value FROM baton_kv WHERE ${where.join(' AND ')} ORDER BY key ${p.reverse ? 'DESC' : 'ASC'} LIMIT @limit`;
      const rows = this.#all<{ key: string; value: string | Uint8Array }>('kv.list', sql, params);
      return pageOf(rows, limit, (x) => ({
        item: { key: x.key, value: kvValue(x.value) },
        cursor: [x.key],
      }));
    },
    batch: async (writes, options) => {
      const b = checkKvBatch(writes, options);
      this.#run('kv.batch', () => this.#kvBatchTx.immediate(b.writes, b.options.expect ?? []));
    },
  };

  /** The body of one `kv.batch`, inside its `BEGIN IMMEDIATE` transaction. */
  #kvBatch(writes: readonly KvWrite[], expect: readonly KvExpectation[]): void {
    const read = this.#sql('SELECT value FROM baton_kv WHERE key = ?');
    for (const e of expect) {
      const row = read.get(e.key) as { value: string | Uint8Array } | undefined;
      if (!kvValueEquals(row && kvValue(row.value), e.value)) throw kvConflict(e.key);
    }
    const put = this.#sql('INSERT OR REPLACE INTO baton_kv (key, value) VALUES (?, ?)');
    const del = this.#sql('DELETE FROM baton_kv WHERE key = ?');
    for (const w of writes) {
      if (w.value === undefined) del.run(w.key);
      else put.run(w.key, w.value instanceof Uint8Array ? w.value : JSON.stringify(w.value));
    }
  }

  watch(onCommit: (seq: number) => void): () => void {
    this.#live();
    const w = (seq: number) => {
      if (!this.#closed && this.#watchers.has(w)) onCommit(seq);
    };
    this.#watchers.add(w);
    if (!this.#timer) {
      this.#timer = setInterval(() => this.#poll(), this.#pollMs);
      // A watcher must never be what keeps a process running.
      this.#timer.unref();
    }
    return () => {
      this.#watchers.delete(w);
      if (this.#watchers.size === 0) this.#stopPolling();
    };
  }

  /** Wakes watchers when another connection committed since the last check. */
  #poll(): void {
    try {
      const version = this.#db.pragma('data_version', { simple: true }) as number;
      if (version === this.#dataVersion) return;
      this.#dataVersion = version;
      const { seq } = this.#headNow();
      if (seq === this.#seenSeq) return;
      this.#seenSeq = seq;
      for (const w of [...this.#watchers]) {
        try {
          w(seq);
        } catch {
          // A watcher's failure is its own; the others still hear of the commit.
        }
      }
    } catch {
      // The database is busy or gone; the next tick tries again, and core polls as well.
    }
  }

  #stopPolling(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopPolling();
    this.#watchers.clear();
    this.#statements.clear();
    if (!this.#owned) return;
    try {
      this.#db.close();
    } catch (err) {
      throw this.#fail('close', err);
    }
  }

  // ---------------------------------------------------------------- internals

  #live(): void {
    if (this.#closed) {
      throw new BatonError(
        ErrorCode.STORE,
        `This SqliteStore (${this.#file}) is closed. Open a new one on the same file.`,
      );
    }
  }

  /** A prepared statement, made once per SQL text. */
  /** The seq of the event with `id`, if the log holds one. */
  #eventSeq(id: string): number | undefined {
    const row = this.#sql('SELECT seq FROM baton_events WHERE id = ?').get(id) as
      | { seq: number }
      | undefined;
    return row?.seq;
  }

  /** `head` followed by `rows` copies of `row`, prepared once per row count. */
  #rowsSql(head: string, row: string, rows: number): Statement {
    const key = `${rows}\u0000${head}\u0000${row}`;
    let s = this.#statements.get(key);
    if (!s) {
      s = this.#db.prepare(`${head} ${Array.from({ length: rows }, () => row).join(', ')}`);
      this.#statements.set(key, s);
    }
    return s;
  }

  #sql(sql: string): Statement {
    let s = this.#statements.get(sql);
    if (!s) {
      s = this.#db.prepare(sql);
      this.#statements.set(sql, s);
    }
    return s;
  }

  #run<T>(what: string, fn: () => T): T {
    this.#live();
    try {
      return fn();
    } catch (err) {
      throw this.#fail(what, err);
    }
  }

  #get<R>(what: string, sql: string, ...params: unknown[]): R | undefined {
    return this.#run(what, () => this.#sql(sql).get(...params) as R | undefined);
  }

  #all<R>(what: string, sql: string, params: SqlParams): R[] {
    return this.#run(what, () => this.#sql(sql).all(params) as R[]);
  }

  #exec(what: string, sql: string, ...params: unknown[]): void {
    this.#run(what, () => this.#sql(sql).run(...params));
  }

  /** Wraps a SQLite failure as a `STORE` error that says what to do; BatonErrors pass through. */
  #fail(what: string, err: unknown): BatonError {
    if (isBatonError(err)) return err;
    const code = (err as { code?: unknown }).code;
    const sqlite = typeof code === 'string' ? code : undefined;
    const reason = (err instanceof Error ? err.message : String(err)).replace(/\.$/, '');
    let hint = '';
    if (sqlite?.startsWith('SQLITE_BUSY')) {
      hint = ` Another connection held the database locked for longer than the busy timeout${this.#busyMs === undefined ? '' : ` (${this.#busyMs} ms)`}. Retry, or raise busyTimeoutMs.`;
    } else if (sqlite?.startsWith('SQLITE_READONLY') || sqlite?.startsWith('SQLITE_CANTOPEN')) {
      hint = ` Baton needs to read and write ${this.#file} and create its -wal and -shm files beside it: check the permissions of the file and its directory.`;
    } else if (sqlite === 'SQLITE_NOTADB' || sqlite?.startsWith('SQLITE_CORRUPT')) {
      hint = ` ${this.#file} is not a SQLite database or is damaged. Nothing was written; restore it from a backup or point \`path\` at a new file.`;
    } else if (sqlite === 'SQLITE_FULL') {
      hint = ' The disk is full.';
    }
    return new BatonError(
      ErrorCode.STORE,
      `SqliteStore ${what} failed on ${this.#file}: ${reason}.${hint}`,
      { cause: err, details: { file: this.#file, sqlite } },
    );
  }
}

/** SQL conditions for `range` over the column `col`; parameters go into `params`. */
function rangeWhere(col: string, range: IndexRange, params: SqlParams): string[] {
  const where: string[] = [];
  const ops = [
    ['eq', '='],
    ['gt', '>'],
    ['gte', '>='],
    ['lt', '<'],
    ['lte', '<='],
  ] as const;
  for (const [name, op] of ops) {
    const v = range[name];
    if (v === undefined) continue;
    where.push(`${col} ${op} @${name}`);
    params[name] = v;
  }
  if (range.prefix !== undefined && range.prefix !== '') {
    // Everything that starts with the prefix, and nothing else, sorts in [prefix, prefixEnd).
    where.push(`${col} >= @prefix`);
    params.prefix = range.prefix;
    const end = prefixEnd(range.prefix);
    if (end !== undefined) {
      where.push(`${col} < @prefixEnd`);
      params.prefixEnd = end;
    }
  }
  return where;
}

/** One page from `limit + 1` fetched rows: the extra row only says there is a next page. */
function pageOf<R, T>(
  rows: R[],
  limit: number,
  map: (row: R) => { item: T; cursor: string[] },
): Page<T> {
  const mapped = rows.slice(0, limit).map(map);
  const out: Page<T> = { items: mapped.map((m) => m.item) };
  if (rows.length > limit) out.next = encodeCursor(mapped.at(-1)!.cursor);
  return out;
}

function kvValue(stored: string | Uint8Array): KvValue {
  return typeof stored === 'string' ? (JSON.parse(stored) as JsonValue) : new Uint8Array(stored);
}

/**
 * Throws `STORE` when the process may not write the file or, for the `-wal` and `-shm` files
 * SQLite keeps beside it, its directory. A missing file is fine (SQLite creates it).
 */
function checkWritable(path: string): void {
  if (path === ':memory:' || path === '') return;
  for (const target of existsSync(path) ? [path, dirname(path)] : []) {
    try {
      accessSync(target, constants.R_OK | constants.W_OK);
    } catch (cause) {
      throw new BatonError(
        ErrorCode.STORE,
        `${path} is read-only to this process (${(cause as Error).message}). Baton needs to write ${target === path ? 'the file' : 'its directory, for the -wal and -shm files'}: check the permissions. Nothing was written.`,
        { cause, details: { file: path } },
      );
    }
  }
}
