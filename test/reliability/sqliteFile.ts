import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryKeyring, Workspace } from '@baton/core';
import { SqliteStore } from '@baton/sqlite';
import { onTestFinished } from 'vitest';

/**
 * A new SQLite file in a temp folder (removed when the test ends), a keyring, and a way to
 * open a workspace on the file — as often as a test wants another process's view of it.
 */
export function sqliteFile(prefix: string) {
  const dir = mkdtempSync(join(tmpdir(), `baton-${prefix}-`));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'ws.db');
  const keyring = new MemoryKeyring();
  const open = () =>
    Workspace.open({ store: new SqliteStore({ path }), keyring, tickIntervalMs: 0 });
  return { dir, path, keyring, open };
}
