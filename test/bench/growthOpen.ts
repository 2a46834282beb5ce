// One open of the growth bench (test/bench/growth.ts), in a fresh process: how long
// `Workspace.open` on a SQLite fixture takes (until `head()` answers) and the process's RSS
// before and after it. The native addon is loaded first (it costs the same for any file).
// Prints one JSON line.
import { performance } from 'node:perf_hooks';
import { Workspace } from '@baton/core';
import { SqliteStore } from '@baton/sqlite';
import Database from 'better-sqlite3';

const path = process.argv[2];
if (!path) throw new Error('usage: growthOpen.ts <db>');

new Database(':memory:').close();
const rssBefore = process.memoryUsage().rss;
const started = performance.now();
const ws = await Workspace.open({ store: new SqliteStore({ path }), tickIntervalMs: 0 });
const { seq } = await ws.head();
const ms = performance.now() - started;
const rssAfter = process.memoryUsage().rss;
await ws.close();
console.log(JSON.stringify({ ms, rssBefore, rssAfter, seq }));
