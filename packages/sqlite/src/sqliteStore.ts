import { accessSync, constants, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type * as B from '@baton/core';
import {
  BatonError,
  ConflictError,
  EMPTY_HEAD,
  ErrorCode,
  isBatonError,
  parseInput,
} from '@baton/core';
import {
  CommitWatchers,
  checkBatch,
  checkKvBatch,
  checkKvKey,
  checkKvList,
  checkKvPut,
  DEFAULT_PAGE_SIZE,
  decodeCursor,
  kvConflict,
  kvValueEquals,
  PRIMARY_INDEX,
  pageOf,
  prefixEnd,
} from '@baton/core/store';
import Database from 'better-sqlite3';
import { optionsSchema, type SqliteStoreOptions } from './options.js';
import { prepareSchema } from './schema.js';

/** Rows read per query while streaming the log, so memory stays flat. */
const READ_PAGE = 256;

type Stored = string | Uint8Array;
type QueryRow = { ik: string; key: string; value: string };
type KvRow = { key: string; value: Stored };

/**
 * A Baton `Store` in one SQLite file (better-sqlite3): events, projections, blobs and kv
 * together, shared by every connection and process that opens the file. Appends run in
 * `BEGIN IMMEDIATE` transactions, so the head check and the inserts are one atomic step across
 * processes; `watch` wakes on this store's commits at once and on other connections' within
 * `pollIntervalMs`.
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
  readonly #watchers: CommitWatchers;
  /** Prepared statements by SQL text: each shape of query is prepared once. */
  readonly #statements = new Map<string, Database.Statement>();
  readonly #appendTx: Database.Transaction<(batch: B.AppendBatch) => B.Head>;
  readonly #kvBatchTx: Database.Transaction<(b: ReturnType<typeof checkKvBatch>) => void>;
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
    try {
      // A read-only file would open (SQLite falls back to reading) and fail at the first write.
      if (o.path !== undefined) checkWritable(o.path);
      db ??= new Database(o.path!, { timeout: this.#busyMs });
      const opened = db;
      prepareSchema(opened, this.#file, () => {
        if (!this.#owned) return;
        opened.pragma('journal_mode = WAL');
        opened.pragma(`synchronous = ${o.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
      });
      // Deleted content is overwritten with zeros, so an erased body leaves no bytes behind
      // (see `blobs.delete`). Set on the caller's connection too: erasure depends on it.
      opened.pragma('secure_delete = ON');
    } catch (err) {
      if (this.#owned && db?.open) db.close();
      throw this.#fail('open', err);
    }
    this.#db = db;
    // Another connection's commit changes `data_version`, a counter in shared memory.
    let version = db.pragma('data_version', { simple: true });
    const poll = () => {
      const now = this.#db.pragma('data_version', { simple: true });
      if (now === version) return undefined;
      version = now;
      return this.#headNow().seq;
    };
    const seq = this.#headNow().seq;
    this.#watchers = new CommitWatchers({ poll, intervalMs: o.pollIntervalMs, seq });
    this.#appendTx = db.transaction((batch: B.AppendBatch) => this.#write(batch));
    this.#kvBatchTx = db.transaction((b: ReturnType<typeof checkKvBatch>) => this.#kvBatch(b));
  }

  async append(batch: B.AppendBatch): Promise<B.Head> {
    const head = this.#run('append', () => this.#appendTx.immediate(batch));
    if (batch.events.length > 0) this.#watchers.committed(head.seq);
    return head;
  }

  /**
   * The body of one append, in its `BEGIN IMMEDIATE` transaction: the head check, the chain
   * check, then one INSERT per row (the multi-row INSERTs this once had saved under 3% of a
   * signed append).
   */
  #write(batch: B.AppendBatch): B.Head {
    const head = this.#headNow();
    const { expectedHead: want, events, projections = [], blobs = [] } = batch;
    if (head.seq !== want.seq || head.hash !== want.hash) throw new ConflictError(want, head);
    // Ids already committed are caught by the UNIQUE constraint below.
    const next = checkBatch(head, batch);
    for (const e of events) {
      try {
        this.#sql(SQL.putEvent).run(e.seq, e.id, e.stream, e.type, e.hash, JSON.stringify(e));
      } catch (err) {
        if ((err as { code?: string }).code !== 'SQLITE_CONSTRAINT_UNIQUE') throw err;
        const message = `Event id "${e.id}" exists already in this workspace.`;
        throw new BatonError(ErrorCode.VALIDATION, message);
      }
      for (const ref of e.refs) this.#sql(SQL.putRef).run(ref, e.seq);
    }
    for (const { collection: c, key, value, indexes = {} } of projections) {
      this.#sql(SQL.dropIndex).run(c, key);
      if (value === null) {
        this.#sql(SQL.dropRow).run(c, key);
        continue;
      }
      this.#sql(SQL.putRow).run(c, key, JSON.stringify(value));
      for (const [name, keys] of Object.entries(indexes))
        for (const k of Array.isArray(keys) ? keys : [keys])
          this.#sql(SQL.putIndex).run(c, name, k, key);
    }
    for (const b of blobs) this.#sql(SQL.putBlob).run(b.hash, b.bytes);
    return Object.freeze({ seq: next.seq, hash: next.hash });
  }

  async *read(q: B.ReadQuery = {}): AsyncIterable<B.BatonEvent> {
    this.#live();
    let left = q.limit ?? Number.POSITIVE_INFINITY;
    if (left <= 0 || q.types?.length === 0) return;
    // With a ref the scan runs along the ref index, so a rare ref reads only its own events.
    const [seq, from] = q.ref === undefined ? ['e.seq', ''] : ['r.seq', SQL.byRef];
    const where = new Where(`SELECT e.seq, e.body FROM baton_events e${from} WHERE ${seq} > ?`);
    where.add(q.ref, 'r.ref = ?').add(q.until, `${seq} <= ?`).add(q.stream, 'e.stream = ?');
    if (q.types) where.add(q.types, `e.type IN (${q.types.map(() => '?').join(', ')})`);
    const sql = `${where.sql} ORDER BY ${seq} LIMIT ?`;
    for (let after = q.after ?? 0; left > 0; ) {
      const limit = Math.min(READ_PAGE, left);
      const rows = this.#all<{ seq: number; body: string }>(
        'read',
        sql,
        after,
        ...where.params,
        limit,
      );
      for (const row of rows) yield JSON.parse(row.body) as B.BatonEvent;
      if (rows.length < limit) return;
      left -= rows.length;
      after = rows.at(-1)!.seq;
    }
  }

  async event(id: string): Promise<B.BatonEvent | undefined> {
    const row = this.#one<{ body: string }>('event', SQL.event, id);
    return row && (JSON.parse(row.body) as B.BatonEvent);
  }

  async head(): Promise<B.Head> {
    return this.#run('head', () => this.#headNow());
  }

  #headNow(): B.Head {
    const h = this.#sql(SQL.head).get() as B.Head | undefined;
    return h ? Object.freeze({ seq: h.seq, hash: h.hash }) : EMPTY_HEAD;
  }

  async get(collection: string, key: string): Promise<B.JsonValue | undefined> {
    const row = this.#one<{ value: string }>('get', SQL.row, collection, key);
    return row && (JSON.parse(row.value) as B.JsonValue);
  }

  async query(
    collection: string,
    index: string,
    range: B.IndexRange,
    page: B.PageOptions = {},
  ): Promise<B.Page<B.ProjectionRow>> {
    const limit = page.limit ?? DEFAULT_PAGE_SIZE;
    const [dir, cmp] = page.reverse ? ['DESC', '<'] : ['ASC', '>'];
    // The primary index is the row key itself; a secondary index lists (index key, row key)
    // pairs, ordered by both.
    const primary = index === PRIMARY_INDEX;
    const ik = primary ? 'r.key' : 'i.ikey';
    const where = primary
      ? new Where(SQL.rows, collection)
      : new Where(SQL.indexed, collection, index);
    where
      .add(range.eq, `${ik} = ?`)
      .add(range.gt, `${ik} > ?`)
      .add(range.gte, `${ik} >= ?`)
      .add(range.lt, `${ik} < ?`);
    // Everything that starts with the prefix, and nothing else, sorts in [prefix, prefixEnd).
    if (range.prefix)
      where.add(range.prefix, `${ik} >= ?`).add(prefixEnd(range.prefix), `${ik} < ?`);
    const [a, k] = page.after === undefined ? [] : decodeCursor(page.after, 2);
    if (primary) where.add(k, `r.key ${cmp} ?`);
    else if (k !== undefined) where.add([a, k], `(i.ikey, i.key) ${cmp} (?, ?)`);
    const sql = `${where.sql} ORDER BY ${ik} ${dir}${primary ? '' : `, i.key ${dir}`} LIMIT ?`;
    const rows = this.#all<QueryRow>('query', sql, ...where.params, limit + 1);
    return pageOf(rows, limit, rowOf, (x) => [x.ik, x.key]);
  }

  readonly blobs: B.Store['blobs'] = {
    get: async (hash) => {
      const row = this.#one<{ bytes: Uint8Array }>('blobs.get', SQL.blob, hash);
      // A plain Uint8Array, not the Buffer better-sqlite3 hands back.
      return row && new Uint8Array(row.bytes);
    },
    has: async (hash) => !!this.#one('blobs.has', SQL.blob, hash),
    /**
     * Deletes the body (erasure) and its bytes from the files: `secure_delete` zeroes the
     * freed cells and pages, and a `TRUNCATE` checkpoint copies the WAL into the database and
     * empties it. The checkpoint waits (up to the busy timeout) for other connections' reads;
     * when one outlasts it, this throws `STORE` after the row is deleted — deleting again
     * (`actor.erase` again) finishes the job.
     */
    delete: async (hash) => {
      const [result] = this.#run('blobs.delete', () => {
        this.#sql(SQL.dropBlob).run(hash);
        return this.#db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
      });
      if (!result || result.busy === 0) return;
      throw new BatonError(
        ErrorCode.STORE,
        `SqliteStore blobs.delete on ${this.#file}: the body is deleted, but another connection kept reading past the busy timeout, so ${this.#file}-wal may still hold its old pages. Delete it again (actor.erase with the same hash) once that reader is done.`,
        { details: { file: this.#file, hash } },
      );
    },
  };

  readonly kv: B.KvArea = {
    get: async (key) => {
      checkKvKey('get', key);
      const row = this.#one<{ value: Stored }>('kv.get', SQL.kvGet, key);
      return row && kvValue(row.value);
    },
    put: async (key, value) => {
      checkKvPut(key, value);
      this.#run('kv.put', () => this.#sql(SQL.kvPut).run(key, stored(value)));
    },
    delete: async (key) => {
      checkKvKey('delete', key);
      this.#run('kv.delete', () => this.#sql(SQL.kvDelete).run(key));
    },
    list: async (prefix, page = {}) => {
      checkKvList(prefix, page);
      const limit = page.limit ?? DEFAULT_PAGE_SIZE;
      const end = prefixEnd(prefix);
      const after = page.after === undefined ? undefined : decodeCursor(page.after, 1)[0];
      const shape = (end === undefined ? 0 : 4) | (after === undefined ? 0 : 2) | +!!page.reverse;
      const params = [prefix, end, after, limit + 1].filter((p) => p !== undefined);
      const rows = this.#all<KvRow>('kv.list', KV_LIST[shape]!, ...params);
      return pageOf(rows, limit, entryOf, (x) => [x.key]);
    },
    batch: async (writes, options) => {
      const b = checkKvBatch(writes, options);
      this.#run('kv.batch', () => this.#kvBatchTx.immediate(b));
    },
  };

  /** The body of one `kv.batch`, inside its `BEGIN IMMEDIATE` transaction. */
  #kvBatch({ writes, options }: ReturnType<typeof checkKvBatch>): void {
    for (const e of options.expect ?? []) {
      const row = this.#sql(SQL.kvGet).get(e.key) as { value: Stored } | undefined;
      if (!kvValueEquals(row && kvValue(row.value), e.value)) throw kvConflict(e.key);
    }
    for (const w of writes) {
      if (w.value === undefined) this.#sql(SQL.kvDelete).run(w.key);
      else this.#sql(SQL.kvPut).run(w.key, stored(w.value));
    }
  }

  watch(onCommit: (seq: number) => void): () => void {
    this.#live();
    return this.#watchers.add(onCommit);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#watchers.close();
    this.#statements.clear();
    if (!this.#owned) return;
    try {
      this.#db.close();
    } catch (err) {
      throw this.#fail('close', err);
    }
  }

  #live(): void {
    if (!this.#closed) return;
    const message = `This SqliteStore (${this.#file}) is closed. Open a new one on the same file.`;
    throw new BatonError(ErrorCode.STORE, message);
  }

  #sql(sql: string): Database.Statement {
    let s = this.#statements.get(sql);
    if (s) return s;
    s = this.#db.prepare(sql);
    this.#statements.set(sql, s);
    return s;
  }

  /** Runs `fn` on the open database; a SQLite failure becomes a `STORE` error. */
  #run<T>(what: string, fn: () => T): T {
    this.#live();
    try {
      return fn();
    } catch (err) {
      throw this.#fail(what, err);
    }
  }

  #one<R>(what: string, sql: string, ...params: unknown[]): R | undefined {
    return this.#run(what, () => this.#sql(sql).get(...params) as R | undefined);
  }

  #all<R>(what: string, sql: string, ...params: unknown[]): R[] {
    return this.#run(what, () => this.#sql(sql).all(...params) as R[]);
  }

  /** Wraps a SQLite failure as a `STORE` error that says what to do; BatonErrors pass through. */
  #fail(what: string, err: unknown): BatonError {
    if (isBatonError(err)) return err;
    const code = (err as { code?: unknown }).code;
    const sqlite = typeof code === 'string' ? code : undefined;
    const reason = (err instanceof Error ? err.message : String(err)).replace(/\.$/, '');
    const f = this.#file;
    const busy = this.#busyMs === undefined ? '' : ` (${this.#busyMs} ms)`;
    const hint = /^SQLITE_BUSY/.test(sqlite ?? '')
      ? ` Another connection held the database locked for longer than the busy timeout${busy}. Retry, or raise busyTimeoutMs.`
      : /^SQLITE_(READONLY|CANTOPEN)/.test(sqlite ?? '')
        ? ` Baton needs to read and write ${f} and create its -wal and -shm files beside it: check the permissions of the file and its directory.`
        : /^SQLITE_(NOTADB|CORRUPT)/.test(sqlite ?? '')
          ? ` ${f} is not a SQLite database or is damaged. Nothing was written; restore it from a backup or point \`path\` at a new file.`
          : sqlite === 'SQLITE_FULL'
            ? ' The disk is full.'
            : '';
    const message = `SqliteStore ${what} failed on ${f}: ${reason}.${hint}`;
    return new BatonError(ErrorCode.STORE, message, { cause: err, details: { file: f, sqlite } });
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
  putBlob: 'INSERT OR IGNORE INTO baton_blobs (hash, bytes) VALUES (?, ?)',
  byRef: ' JOIN baton_event_refs r ON r.seq = e.seq',
  event: 'SELECT body FROM baton_events WHERE id = ?',
  head: 'SELECT seq, hash FROM baton_events ORDER BY seq DESC LIMIT 1',
  row: 'SELECT value FROM baton_rows WHERE collection = ? AND key = ?',
  rows: 'SELECT r.key AS ik, r.key, r.value FROM baton_rows r WHERE r.collection = ?',
  indexed:
    'SELECT i.ikey AS ik, r.key, r.value FROM baton_row_index i JOIN baton_rows r ON r.collection = i.collection AND r.key = i.key WHERE i.collection = ? AND i.name = ?',
  blob: 'SELECT bytes FROM baton_blobs WHERE hash = ?',
  dropBlob: 'DELETE FROM baton_blobs WHERE hash = ?',
  kvGet: 'SELECT value FROM baton_kv WHERE key = ?',
  kvPut: 'INSERT OR REPLACE INTO baton_kv (key, value) VALUES (?, ?)',
  kvDelete: 'DELETE FROM baton_kv WHERE key = ?',
};

/**
 * The SQL of `kv.list` by shape — bit 4: the prefix has an end, 2: a cursor, 1: reverse —
 * built once: `kv.list` is on the hot path of LangGraph's checkpoint saver.
 */
const KV_LIST = Array.from({ length: 8 }, (_, shape) => {
  const [end, after, desc] = [shape & 4, shape & 2, shape & 1];
  const cond = `key >= ?${end ? ' AND key < ?' : ''}${after ? ` AND key ${desc ? '<' : '>'} ?` : ''}`;
  return `SELECT key, value FROM baton_kv WHERE ${cond} ORDER BY key ${desc ? 'DESC' : 'ASC'} LIMIT ?`;
});

/** A SELECT and its parameters, to which each given condition adds `AND cond`. */
class Where {
  sql: string;
  readonly params: unknown[];
  constructor(select: string, ...params: unknown[]) {
    this.sql = select;
    this.params = params;
  }
  /** Adds `cond` with `value` (several for an array) unless `value` is undefined. */
  add(value: unknown, cond: string): this {
    if (value === undefined) return this;
    this.sql += ` AND ${cond}`;
    this.params.push(...(Array.isArray(value) ? value : [value]));
    return this;
  }
}

/** Bytes go in as a BLOB, JSON as TEXT: the untyped column keeps each as it came. */
function stored(value: B.KvValue): Stored {
  return value instanceof Uint8Array ? value : JSON.stringify(value);
}

function kvValue(stored: Stored): B.KvValue {
  return typeof stored === 'string' ? (JSON.parse(stored) as B.JsonValue) : new Uint8Array(stored);
}

const rowOf = (x: QueryRow): B.ProjectionRow => ({ key: x.key, value: JSON.parse(x.value) });
const entryOf = (x: KvRow) => ({ key: x.key, value: kvValue(x.value) });

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
