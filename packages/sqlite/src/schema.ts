import { BatonError, ErrorCode } from '@baton/core';
import type BetterSqlite3 from 'better-sqlite3';

/** Marks a Baton store in its header (`PRAGMA application_id`): the ASCII of "Btn1". */
export const APPLICATION_ID = 0x4274_6e31;

/** The schema version this library writes, kept in `PRAGMA user_version`. */
export const SCHEMA_VERSION = 2;

/**
 * `MIGRATIONS[v]` brings a store from schema version `v` to `v + 1`; a shipped one is never
 * edited. Keys are TEXT in the BINARY collation: code point order, as the Store contract asks.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE baton_events (
    seq    INTEGER PRIMARY KEY,
    id     TEXT NOT NULL UNIQUE,
    stream TEXT NOT NULL,
    type   TEXT NOT NULL,
    hash   TEXT NOT NULL,
    body   TEXT NOT NULL
  );
  CREATE INDEX baton_events_by_stream ON baton_events (stream, seq);
  CREATE TABLE baton_event_refs (
    ref TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (ref, seq)
  ) WITHOUT ROWID;
  CREATE TABLE baton_rows (
    collection TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    PRIMARY KEY (collection, key)
  ) WITHOUT ROWID;
  CREATE TABLE baton_row_index (
    collection TEXT NOT NULL,
    name       TEXT NOT NULL,
    ikey       TEXT NOT NULL,
    key        TEXT NOT NULL,
    PRIMARY KEY (collection, name, ikey, key)
  ) WITHOUT ROWID;
  CREATE INDEX baton_row_index_by_row ON baton_row_index (collection, key);
  CREATE TABLE baton_blobs (
    hash  TEXT PRIMARY KEY,
    bytes BLOB NOT NULL
  );
  -- No declared type: JSON stays TEXT and bytes stay BLOB, so kv.get returns what was put.
  CREATE TABLE baton_kv (
    key   TEXT PRIMARY KEY,
    value NOT NULL
  );
  `,
  // Version 2: (1) reads by type (`log({ types })`, `subscribe({ types })`) walk one type's
  // events in seq order instead of the whole log; (2) rows' search texts
  // (ProjectionWrite.text), folded by core's foldText, and an FTS5 trigram index over them, so
  // Store.search finds any substring of 3 or more characters through the index (trigrams are
  // case-sensitive here: the text is folded already). Shorter needles use instr() over the
  // collection's texts. Rows written before keep no text until
  // workspace.rebuildProjections() writes them again; (3) how a body is kept: `encoding`
  // NULL as it is, 'deflate-raw' compressed (blobEncoding.ts).
  `
  CREATE INDEX baton_events_by_type ON baton_events (type, seq);
  CREATE TABLE baton_texts (
    id         INTEGER PRIMARY KEY,
    collection TEXT NOT NULL,
    key        TEXT NOT NULL,
    text       TEXT NOT NULL,
    UNIQUE (collection, key)
  );
  CREATE VIRTUAL TABLE baton_text_index USING fts5(
    text, content = 'baton_texts', content_rowid = 'id', tokenize = 'trigram case_sensitive 1'
  );
  CREATE TRIGGER baton_texts_put AFTER INSERT ON baton_texts BEGIN
    INSERT INTO baton_text_index (rowid, text) VALUES (new.id, new.text);
  END;
  CREATE TRIGGER baton_texts_drop AFTER DELETE ON baton_texts BEGIN
    INSERT INTO baton_text_index (baton_text_index, rowid, text) VALUES ('delete', old.id, old.text);
  END;
  ALTER TABLE baton_blobs ADD COLUMN encoding TEXT;
  `,
];

/**
 * Checks the file is empty or a Baton store this library can read (reading only until it is
 * known to be ours), sets the connection up — WAL and `synchronous` when given, for files
 * opened by path — and brings the schema up to {@link SCHEMA_VERSION}.
 */
export function prepareSchema(
  db: BetterSqlite3.Database,
  file: string,
  synchronous?: 'normal' | 'full',
): void {
  const status = check(db, file);
  if (synchronous) {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${synchronous.toUpperCase()}`);
  }
  // Zeroes deleted content, so an erased body leaves no bytes behind (on a given connection too).
  db.pragma('secure_delete = ON');
  if (status === 'current') return;
  db.transaction(() => {
    // Read again under the write lock: another process may have created or migrated it.
    const from = check(db, file);
    if (from === 'current') return;
    for (let v = from; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
    db.pragma(`application_id = ${APPLICATION_ID}`);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

/** The version to migrate from, or `'current'`; refuses someone else's file or a newer schema. */
function check(db: BetterSqlite3.Database, file: string): number | 'current' {
  const applicationId = db.pragma('application_id', { simple: true }) as number;
  const version = db.pragma('user_version', { simple: true }) as number;
  if (applicationId === APPLICATION_ID) {
    if (version <= SCHEMA_VERSION) return version === SCHEMA_VERSION ? 'current' : version;
    const message = `${file} holds a Baton store of schema version ${version}, written by a newer @baton/sqlite; this one knows versions up to ${SCHEMA_VERSION}. Upgrade @baton/sqlite to open it. The file was not changed.`;
    throw new BatonError(ErrorCode.STORE, message, {
      details: { file, version, supported: SCHEMA_VERSION },
    });
  }
  const objects = (db.prepare('SELECT count(*) AS n FROM sqlite_master').get() as { n: number }).n;
  if (applicationId === 0 && version === 0 && objects === 0) return 0;
  const message = `${file} is a SQLite database but not a Baton store (application_id ${applicationId}, ${objects} schema objects). Give Baton a file of its own. The file was not changed.`;
  throw new BatonError(ErrorCode.STORE, message, { details: { file, applicationId } });
}
