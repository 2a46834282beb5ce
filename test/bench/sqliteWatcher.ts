// The other process of the cross-process latency bench (test/bench/sqlite.ts): opens the
// SQLite file as a workspace, subscribes from the current head and prints `seen <id>` as
// each event is delivered.
import { Workspace } from '@baton/core';
import { SqliteStore } from '@baton/sqlite';

const path = process.argv[2];
if (!path) throw new Error('usage: sqliteWatcher.ts <db>');
const ws = await Workspace.open({ store: new SqliteStore({ path }) });
const after = (await ws.head()).seq;
ws.subscribe({ after }, (e) => {
  process.stdout.write(`seen ${e.id}\n`);
});
console.log('ready');
// Runs until the bench kills it.
setInterval(() => {}, 60_000);
