// One measurement of the open bench (test/bench/sqlite.ts), in a fresh process: how long
// `Workspace.open` on a SQLite file takes and the process's RSS before and after the first
// open. The native addon is loaded first (it costs the same ~20 ms for any file), and after
// the first open the workspace is opened and closed again `REPEAT` times. Prints one JSON line.
import { performance } from 'node:perf_hooks';
import { Workspace } from '@baton/core';
import { SqliteStore } from '@baton/sqlite';
import Database from 'better-sqlite3';

const REPEAT = 10;
const path = process.argv[2];
if (!path) throw new Error('usage: sqliteOpen.ts <db>');

new Database(':memory:').close();

async function openOnce(): Promise<{ ws: Workspace; ms: number; seq: number }> {
  const started = performance.now();
  const ws = await Workspace.open({ store: new SqliteStore({ path: path! }) });
  const { seq } = await ws.head();
  return { ws, ms: performance.now() - started, seq };
}

const rssBefore = process.memoryUsage().rss;
const first = await openOnce();
const rssAfter = process.memoryUsage().rss;
await first.ws.close();
const again: number[] = [];
for (let i = 0; i < REPEAT; i++) {
  const o = await openOnce();
  again.push(o.ms);
  await o.ws.close();
}
again.sort((a, b) => a - b);
const ms = again[Math.floor(REPEAT / 2)]!;
console.log(JSON.stringify({ firstMs: first.ms, ms, rssBefore, rssAfter, seq: first.seq }));
