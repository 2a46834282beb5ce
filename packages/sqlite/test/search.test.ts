import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryKeyring, PRIMARY_INDEX, Workspace } from '@baton/core';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SCHEMA_VERSION, SqliteStore } from '../src/index.js';
import { schemaBackToVersionOne, tempDir } from './helpers.js';

/** A workspace on a SqliteStore file with a few context entries, closed. */
async function workspaceFile(path: string, keyring: MemoryKeyring) {
  const ws = await Workspace.open({ store: new SqliteStore({ path }), keyring });
  const ada = await ws.bootstrap({ name: 'Ada' });
  const me = ws.as(ada.id);
  const doc = await me.artifacts.create({ kind: 'text', title: 'Plan', content: 'x' });
  const ids: string[] = [];
  for (const text of ['Launch at NOON', 'Pricing is Ünïcode-safe', 'plain words', 'no'])
    ids.push((await me.context.record({ type: 'note', about: [doc.id], text })).id);
  await ws.close();
  return { ada, doc, ids };
}

/**
 * Turns a file of this version back into what version 1 wrote: no text tables, the context
 * rows with the indexes version 1 gave them, none of the rows it did not keep.
 */
function asVersionOne(path: string): void {
  const raw = new Database(path);
  schemaBackToVersionOne(raw);
  raw.exec(`
    DELETE FROM baton_rows WHERE collection = 'meta' AND key = 'context';
    DELETE FROM baton_rows WHERE collection IN ('context-costs', 'context-bodies', 'handoff-spans');
    DELETE FROM baton_row_index WHERE collection = 'context'
      AND name NOT IN ('about', 'type', 'actor', 'at', 'session');
  `);
  raw.close();
}

describe('SqliteStore text search', () => {
  it('opens a version-1 file, adds the text index, and rebuilds the projections once, on the first open', async () => {
    const path = join(tempDir(), 'v1.db');
    const keyring = new MemoryKeyring();
    const { ada, doc, ids } = await workspaceFile(path, keyring);
    asVersionOne(path);

    const store = new SqliteStore({ path });
    const raw = new Database(path, { readonly: true });
    expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    raw.close();
    // The store alone has migrated its schema, but the rows an older version wrote have no text.
    expect(await store.search('context', 'noon', PRIMARY_INDEX, {})).toEqual({ items: [] });
    const said: string[] = [];
    const logger = {
      debug: () => {},
      info: (m: string) => said.push(m),
      warn: (m: string) => said.push(m),
      error: (m: string) => said.push(m),
    };
    const ws = await Workspace.open({ store, keyring, logger });
    expect(said.filter((m) => m.startsWith('Rebuilding the projections'))).toHaveLength(1);
    const me = ws.as(ada.id);
    expect(
      (await store.search('context', 'NOON', PRIMARY_INDEX, {})).items.map((r) => r.key),
    ).toEqual([ids[0]]);
    expect((await me.context.query({ text: 'noon' })).items.map((e) => e.id)).toEqual([ids[0]]);
    expect((await me.context.query({ about: doc.id, limit: 2 })).items.map((e) => e.id)).toEqual(
      ids.slice(0, 2),
    );
    expect((await me.context.query({ text: 'ünï' })).items.map((e) => e.id)).toEqual([ids[1]]);
    expect((await me.context.query({ text: 'o' })).items.map((e) => e.id)).toEqual([
      ids[0],
      ids[1],
      ids[2],
      ids[3],
    ]);
    expect(await ws.verify()).toMatchObject({ ok: true });
    await ws.close();

    said.length = 0;
    const again = await Workspace.open({ store: new SqliteStore({ path }), keyring, logger });
    expect(said.filter((m) => m.startsWith('Rebuilding the projections'))).toEqual([]);
    expect((await again.as(ada.id).context.query({ text: 'noon' })).items).toHaveLength(1);
    await again.close();
  });

  it('leaves no copy of erased words in the file or its text index', async () => {
    const dir = tempDir();
    const path = join(dir, 'erase.db');
    const keyring = new MemoryKeyring();
    const ws = await Workspace.open({ store: new SqliteStore({ path }), keyring });
    const me = ws.as((await ws.bootstrap({ name: 'Ada' })).id);
    const e = await me.context.record({ type: 'note', text: 'the key is zq-hunter2-secret' });
    await me.context.record({ type: 'note', text: 'an unrelated note' });
    expect((await me.context.query({ text: 'hunter2' })).items.map((x) => x.id)).toEqual([e.id]);
    await me.erase(e.body!, 'pasted a secret');
    expect((await me.context.query({ text: 'hunter2' })).items).toEqual([]);
    expect((await me.context.query({ text: 'unrelated' })).items).toHaveLength(1);
    await ws.close();
    for (const file of [path, `${path}-wal`])
      if (existsSync(file)) expect(readFileSync(file).includes('hunter2')).toBe(false);
  });
});
