/**
 * The conformance run quoted by docs/storage.md as the shape of a new adapter's test file:
 * here, `SqliteStore` on connections the app opens and configures itself (`{ database }`),
 * which the package's own run (on `{ path }`) does not cover.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '@baton/core';
import { runStoreConformance } from '@baton/core/testing';
import { SqliteStore } from '@baton/sqlite';
import Database from 'better-sqlite3';
import { afterAll } from 'vitest';

const root = mkdtempSync(join(tmpdir(), 'baton-docs-conformance-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// #region conformance
const files = new WeakMap<Store, { file: string; db: Database.Database }>();
let count = 0;

/** A store on a connection the test opens itself, in WAL mode with a busy timeout. */
function connect(file: string): Store {
  const db = new Database(file, { timeout: 5_000 });
  db.pragma('journal_mode = WAL');
  const store = new SqliteStore({ database: db });
  files.set(store, { file, db });
  return store;
}

runStoreConformance({
  name: 'SqliteStore on an injected connection',
  create: async () => connect(join(root, `${++count}.db`)),
  openPeer: async (store) => connect(files.get(store)!.file), // a second "process"
  reopen: async (store) => {
    await store.close(); // leaves an injected connection open: closing it is ours
    files.get(store)!.db.close();
    return connect(files.get(store)!.file);
  },
  destroy: async (store) => {
    await store.close();
    const { file, db } = files.get(store)!;
    if (db.open) db.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
  },
});
// #endregion conformance
