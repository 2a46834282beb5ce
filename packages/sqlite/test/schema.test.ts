import { closeSync, copyFileSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, type Store } from '@baton/core';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SCHEMA_VERSION, SqliteStore } from '../src/index.js';
import { appendSome, diskState, refusal, tempDir } from './helpers.js';

/** A Baton store file with a few events in it, closed (its WAL folded back into the file). */
async function storeFile(dir: string): Promise<string> {
  const path = join(dir, 'baton.db');
  const store = new SqliteStore({ path });
  await appendSome(store, 5);
  await store.close();
  return path;
}

/**
 * A store file written by @baton/sqlite at schema version 1 (commit 00762fb): 12 events of
 * three types over three streams, every fourth one referring to `r/a`; rows `notes/n1` (tags
 * x, y) and `notes/n2` (tag y); one body; kv `k/1` (JSON) and `k/2` (bytes). Tests open copies.
 */
const SCHEMA_V1 = join(import.meta.dirname, 'fixtures', 'schema-v1.db');

async function readAll(store: Store, q = {}) {
  const out = [];
  for await (const e of store.read(q)) out.push(e);
  return out;
}

describe('SqliteStore files', () => {
  it('creates a new file in WAL mode, marked as a Baton store of the current schema version', async () => {
    const path = join(tempDir(), 'new.db');
    const store = new SqliteStore({ path });
    await appendSome(store, 2);
    const raw = new Database(path, { readonly: true });
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      expect(raw.pragma('application_id', { simple: true })).not.toBe(0);
    } finally {
      raw.close();
      await store.close();
    }
  });

  it('takes an existing empty file as a new store', async () => {
    const path = join(tempDir(), 'empty.db');
    writeFileSync(path, '');
    const store = new SqliteStore({ path });
    await appendSome(store, 1);
    expect((await store.head()).seq).toBe(1);
    await store.close();
  });

  it('opens its own file again without changing it', async () => {
    const dir = tempDir();
    await storeFile(dir);
    const before = diskState(dir);
    const store = new SqliteStore({ path: join(dir, 'baton.db') });
    expect((await store.head()).seq).toBe(5);
    await store.close();
    expect(diskState(dir)).toEqual(before);
  });

  it('migrates a version-1 file on open, keeping its events, rows, bodies and kv entries', async () => {
    const path = join(tempDir(), 'v1.db');
    copyFileSync(SCHEMA_V1, path);
    const raw = new Database(path, { readonly: true });
    expect(raw.pragma('user_version', { simple: true })).toBe(1);
    const bodies = raw.prepare('SELECT body FROM baton_events ORDER BY seq').all() as {
      body: string;
    }[];
    const [blob] = raw.prepare('SELECT hash, bytes FROM baton_blobs').all() as {
      hash: string;
      bytes: Uint8Array;
    }[];
    raw.close();
    const events = bodies.map((b) => JSON.parse(b.body));
    expect(events).toHaveLength(12);

    const store = new SqliteStore({ path });
    expect(await readAll(store)).toEqual(events);
    expect(await store.head()).toEqual({ seq: 12, hash: events[11].hash });
    expect(await readAll(store, { types: ['note.edited@1', 'tag.set@1'] })).toEqual(
      events.filter((e) => e.type !== 'note.added@1'),
    );
    expect(await readAll(store, { ref: 'r/a' })).toEqual(events.filter((e) => e.refs.length));
    expect((await store.query('notes', 'tag', { eq: 'y' })).items).toEqual([
      { key: 'n1', value: { title: 'one' } },
      { key: 'n2', value: { title: 'two' } },
    ]);
    expect(await store.blobs.get(blob!.hash)).toEqual(new Uint8Array(blob!.bytes));
    expect(await store.kv.get('k/1')).toEqual({ v: 1 });
    expect(await store.kv.get('k/2')).toEqual(new Uint8Array([1, 2, 3]));
    // It goes on from the migrated head.
    await appendSome(store, 1);
    expect((await store.head()).seq).toBe(13);
    await store.close();

    const after = new Database(path, { readonly: true });
    expect(after.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    const index = after
      .prepare("SELECT sql FROM sqlite_master WHERE name = 'baton_events_by_type'")
      .get() as { sql: string } | undefined;
    after.close();
    expect(index?.sql).toMatch(/\(type, seq\)/);
  });

  it('refuses a file of a newer schema version with STORE, leaving it untouched', async () => {
    const dir = tempDir();
    const path = await storeFile(dir);
    const raw = new Database(path);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    const before = diskState(dir);
    const err = refusal(() => new SqliteStore({ path }), ErrorCode.STORE);
    expect(err.message).toMatch(/newer @baton\/sqlite/);
    expect(err.message).toMatch(/Upgrade @baton\/sqlite/);
    expect(err.details).toMatchObject({ version: SCHEMA_VERSION + 1, supported: SCHEMA_VERSION });
    expect(diskState(dir)).toEqual(before);
  });

  it('refuses another application’s SQLite database with STORE, leaving it untouched', () => {
    const dir = tempDir();
    const path = join(dir, 'app.db');
    const raw = new Database(path);
    raw.exec(
      "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users VALUES (1, 'ada')",
    );
    raw.close();
    const before = diskState(dir);
    const err = refusal(() => new SqliteStore({ path }), ErrorCode.STORE);
    expect(err.message).toMatch(/not a Baton store/);
    expect(diskState(dir)).toEqual(before);
  });

  it('refuses a database marked with another application id even when it has no tables', () => {
    const dir = tempDir();
    const path = join(dir, 'other.db');
    const raw = new Database(path);
    raw.pragma('application_id = 1234');
    raw.close();
    const before = diskState(dir);
    refusal(() => new SqliteStore({ path }), ErrorCode.STORE);
    expect(diskState(dir)).toEqual(before);
  });

  it('refuses a file that is not a database with STORE, writing nothing', () => {
    const dir = tempDir();
    const path = join(dir, 'notes.db');
    writeFileSync(path, 'These are my notes, not a database.\n'.repeat(200));
    const before = diskState(dir);
    const err = refusal(() => new SqliteStore({ path }), ErrorCode.STORE);
    expect(err.message).toMatch(/not a SQLite database or is damaged/);
    expect(err.cause).toBeInstanceOf(Error);
    expect(diskState(dir)).toEqual(before);
    expect(readFileSync(path, 'utf8')).toMatch(/^These are my notes/);
  });

  it('refuses a Baton store whose schema page is damaged with STORE, writing nothing', async () => {
    const dir = tempDir();
    const path = await storeFile(dir);
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.alloc(400, 0x41), 0, 400, 3_000);
    closeSync(fd);
    const before = diskState(dir);
    const err = refusal(() => new SqliteStore({ path }), ErrorCode.STORE);
    expect(err.message).toMatch(/damaged/);
    expect(diskState(dir)).toEqual(before);
  });

  it('fails with STORE when the file’s directory does not exist', () => {
    const path = join(tempDir(), 'missing', 'baton.db');
    const err = refusal(() => new SqliteStore({ path }), ErrorCode.STORE);
    expect(err.message).toMatch(/directory does not exist\.$/);
  });

  it('opens a store while another connection holds its write lock: WAL readers never wait', async () => {
    const dir = tempDir();
    const path = await storeFile(dir);
    const holder = new Database(path);
    holder.prepare('BEGIN IMMEDIATE').run();
    try {
      const store = new SqliteStore({ path, busyTimeoutMs: 100 });
      expect((await store.head()).seq).toBe(5);
      await store.close();
    } finally {
      holder.prepare('ROLLBACK').run();
      holder.close();
    }
  });

  it('refuses with STORE when a new file stays locked past the busy timeout, writing nothing', () => {
    const dir = tempDir();
    const path = join(dir, 'locked.db');
    writeFileSync(path, '');
    const holder = new Database(path);
    holder.prepare('BEGIN EXCLUSIVE').run();
    try {
      const started = Date.now();
      const err = refusal(() => new SqliteStore({ path, busyTimeoutMs: 100 }), ErrorCode.STORE);
      expect(Date.now() - started).toBeGreaterThanOrEqual(90);
      expect(err.message).toMatch(/busy timeout \(100 ms\)/);
    } finally {
      holder.prepare('ROLLBACK').run();
      holder.close();
    }
    expect(readFileSync(path).length).toBe(0);
  });

  it('lets two connections create the same new file, setting the schema up once', async () => {
    const path = join(tempDir(), 'shared.db');
    const a = new SqliteStore({ path });
    const b = new SqliteStore({ path });
    await appendSome(a, 1);
    await appendSome(b, 1);
    expect((await a.head()).seq).toBe(2);
    await a.close();
    await b.close();
  });
});
