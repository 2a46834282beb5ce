import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore, type Store } from '@baton/core';
import { SqliteStore } from '@baton/sqlite';
import { afterEach } from 'vitest';

/**
 * The stores a test runs on, by name: a MemoryStore and a SqliteStore on a file of its own.
 * Every store made is closed, and its file removed, after each test.
 */
export function backends(): [string, () => Store][] {
  const opened: Store[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const track = (store: Store) => {
    opened.push(store);
    return store;
  };
  return [
    ['MemoryStore', () => track(new MemoryStore())],
    [
      'SqliteStore',
      () => {
        const dir = mkdtempSync(join(tmpdir(), 'baton-lg-test-'));
        dirs.push(dir);
        return track(new SqliteStore({ path: join(dir, 'store.db') }));
      },
    ],
  ];
}
