/**
 * The example program quoted by docs/storage.md: one SQLite file shared by two connections
 * (as two processes would), projections rebuilt from the log after damage, export and
 * import into a memory store, and a file from a newer schema refused. Works in a temporary
 * directory and removes it. test/docs.test.ts runs it and checks what it prints.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isBatonError, MemoryKeyring, Workspace } from '@baton/core';
import { SqliteStore } from '@baton/sqlite';
import Database from 'better-sqlite3';

const dir = mkdtempSync(join(tmpdir(), 'baton-docs-storage-'));
try {
  // #region open
  const path = join(dir, 'baton.db'); // log, projections, bodies and kv: one file
  const keyring = new MemoryKeyring();
  const ws = await Workspace.open({ store: new SqliteStore({ path }), keyring });
  const ada = await ws.bootstrap({ name: 'Ada' });
  // #endregion open

  // #region watch
  // A second connection to the file, as another process would open it.
  const other = await Workspace.open({ store: new SqliteStore({ path }), keyring });
  const created = other.watch({ after: (await other.head()).seq, types: ['artifact.created'] });
  const doc = await ws
    .as(ada.id)
    .artifacts.create({ kind: 'text', title: 'Notes', content: 'a\n' });
  const { value } = await created.next(); // woken by polling PRAGMA data_version
  console.log(`the other connection saw: ${value?.type} at seq ${value?.seq}`);
  await created.return?.(undefined);
  // #endregion watch
  await other.close();

  // #region rebuild
  const raw = new Database(path);
  raw.prepare(`DELETE FROM baton_rows WHERE collection = 'artifacts'`).run(); // projections lost
  try {
    await ws.as(ada.id).artifacts.get(doc.id);
  } catch (err) {
    if (!isBatonError(err)) throw err;
    console.log(`before rebuild: ${err.code}`);
  }
  await ws.rebuildProjections(); // replays the log once, rewrites every projection row
  console.log(`after rebuild: ${(await ws.as(ada.id).artifacts.get(doc.id)).title}`);
  // #endregion rebuild

  // #region export
  const lines: string[] = [];
  for await (const line of ws.export()) lines.push(line); // JSONL: a header, bodies, events
  const copy = await Workspace.open(); // an empty in-memory workspace
  await copy.import(lines); // verified first, then appended unchanged
  const same = (await copy.head()).hash === (await ws.head()).hash;
  console.log(
    `imported ${lines.length} lines: same head ${same}, verify ok=${(await copy.verify()).ok}`,
  );
  // #endregion export
  await copy.close();
  await ws.close();

  // #region newer
  raw.pragma('user_version = 99'); // as a newer @baton/sqlite would leave it
  raw.close();
  try {
    new SqliteStore({ path });
  } catch (err) {
    if (!isBatonError(err)) throw err;
    console.log(`newer file: ${err.code}: ${err.message}`);
  }
  // #endregion newer
} finally {
  rmSync(dir, { recursive: true, force: true });
}
