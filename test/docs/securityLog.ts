/**
 * The example program quoted by docs/security.md on what `verify()` proves: a clean log
 * verifies; an event edited in the SQLite file is caught; a checkpoint kept outside the
 * store catches a truncation that the hash chain alone does not. Works in a temporary
 * directory and removes it. test/docs.test.ts runs it and checks what it prints.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Checkpoint, Workspace } from '@baton/core';
import { SqliteStore } from '@baton/sqlite';
import Database from 'better-sqlite3';

const dir = mkdtempSync(join(tmpdir(), 'baton-docs-security-'));
const path = join(dir, 'baton.db');
try {
  const ws = await Workspace.open({ store: new SqliteStore({ path }), tickIntervalMs: 0 });
  const ada = await ws.bootstrap({ name: 'Ada' });
  const me = ws.as(ada.id);
  const doc = await me.artifacts.create({ kind: 'text', title: 'Post', content: 'Hello\n' });
  await me.artifacts.edit(doc.id, { content: 'Hello, world\n', baseVersion: 1, reason: 'fuller' });

  // #region verify
  const report = await ws.verify();
  console.log(`verify: ok=${report.ok}, ${report.events} events, head seq ${report.head.seq}`);
  // #endregion verify

  // #region checkpoint
  const checkpoint = await ws.checkpoint(); // the head, signed by an owner's key
  writeFileSync(join(dir, 'checkpoint.json'), JSON.stringify(checkpoint)); // keep it elsewhere
  // … the log grows; later, anyone holding the checkpoint checks the log still extends it:
  await me.artifacts.edit(doc.id, { content: 'Hi, world\n', baseVersion: 2, reason: 'shorter' });
  const kept = JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8')) as Checkpoint;
  const since = await ws.verify({ from: kept });
  console.log(`from checkpoint ${since.from}: ok=${since.ok}, ${since.events} events checked`);
  // #endregion checkpoint
  await ws.close();

  // #region tamper
  // Someone with write access to the file changes the reason of the last edit.
  const file = new Database(path);
  file
    .prepare(
      `UPDATE baton_events SET body = json_set(body, '$.data.reason', 'approved by legal')
       WHERE seq = (SELECT max(seq) FROM baton_events)`,
    )
    .run();
  const check = await Workspace.open({ store: new SqliteStore({ path }), tickIntervalMs: 0 });
  const tampered = await check.verify();
  console.log(
    `tampered: ok=${tampered.ok}, seq ${tampered.problem?.seq}: ${tampered.problem?.reason}`,
  );
  // #endregion tamper
  await check.close();

  // #region truncate
  // Dropping events from the end leaves a chain that is intact as far as it goes, and the
  // projection rows can be rebuilt to match what is left:
  file.prepare('DELETE FROM baton_events WHERE seq >= ?').run(kept.seq);
  file.close();
  const cut = await Workspace.open({ store: new SqliteStore({ path }), tickIntervalMs: 0 });
  await cut.rebuildProjections();
  console.log(`truncated, no checkpoint: ok=${(await cut.verify()).ok}`);
  const against = await cut.verify({ from: kept });
  console.log(`truncated, with checkpoint: ok=${against.ok}: ${against.problem?.reason}`);
  // #endregion truncate
  await cut.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
