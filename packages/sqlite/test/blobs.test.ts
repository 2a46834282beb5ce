import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, Workspace } from '@baton/core';
import { conformanceEvents } from '@baton/core/testing';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SCHEMA_VERSION, SqliteStore } from '../src/index.js';
import { asyncRefusal, schemaBackToVersionOne, tempDir } from './helpers.js';

/** A body as `append` takes it: its bytes and the hash of those bytes. */
function blobOf(body: string | Uint8Array) {
  const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
  return { hash: createHash('sha256').update(bytes).digest('base64url'), bytes };
}

/** Appends one event with `blobs` to a new store at `path`, closes it, and returns the blobs. */
async function storeWith(path: string, texts: (string | Uint8Array)[]) {
  const store = new SqliteStore({ path });
  const blobs = texts.map(blobOf);
  const head = await store.head();
  await store.append({ events: conformanceEvents(head, 1), expectedHead: head, blobs });
  await store.close();
  return blobs;
}

/** How each body is kept in the file: its encoding and the length of what is stored. */
function kept(path: string): Map<string, { encoding: string | null; length: number }> {
  const db = new Database(path, { readonly: true });
  try {
    const rows = db
      .prepare('SELECT hash, encoding, length(bytes) AS length FROM baton_blobs')
      .all() as { hash: string; encoding: string | null; length: number }[];
    return new Map(rows.map((r) => [r.hash, { encoding: r.encoding, length: r.length }]));
  } finally {
    db.close();
  }
}

const prose = 'the draft leads with pricing and a launch date, then the review notes\n'.repeat(60);

describe('SqliteStore bodies', () => {
  it('keeps a body that compresses well compressed, and gives back its own bytes under its own hash', async () => {
    const path = join(tempDir(), 'compress.db');
    const [big] = await storeWith(path, [prose]);
    const row = kept(path).get(big!.hash)!;
    expect(row.encoding).toBe('deflate-raw');
    expect(row.length).toBeLessThan(big!.bytes.length / 4);
    const store = new SqliteStore({ path });
    const got = await store.blobs.get(big!.hash);
    expect(got).toStrictEqual(big!.bytes);
    expect(createHash('sha256').update(got!).digest('base64url')).toBe(big!.hash);
    await store.close();
  });

  it('keeps short bodies and bodies that do not compress as they are', async () => {
    const path = join(tempDir(), 'plain.db');
    const random = crypto.getRandomValues(new Uint8Array(3_000));
    const blobs = await storeWith(path, ['short', random]);
    for (const b of blobs) expect(kept(path).get(b.hash)).toMatchObject({ encoding: null });
    const store = new SqliteStore({ path });
    for (const b of blobs) expect(await store.blobs.get(b.hash)).toStrictEqual(b.bytes);
    await store.close();
  });

  it('opens a file of schema version 1, whose bodies have no encoding, and reads them after migrating it', async () => {
    const path = join(tempDir(), 'v1.db');
    const blobs = await storeWith(path, [prose, 'short']);
    // Back to version 1: the bodies as version 1 kept them, and no encoding column.
    const raw = new Database(path);
    const plain = raw.prepare('UPDATE baton_blobs SET bytes = ?, encoding = NULL WHERE hash = ?');
    for (const b of blobs) plain.run(b.bytes, b.hash);
    schemaBackToVersionOne(raw);
    raw.close();
    const store = new SqliteStore({ path });
    for (const b of blobs) expect(await store.blobs.get(b.hash)).toStrictEqual(b.bytes);
    await store.close();
    const check = new Database(path, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    check.close();
    expect([...kept(path).values()].map((r) => r.encoding)).toEqual([null, null]);
  });

  it('leaves none of a compressed body’s stored bytes in the file or the WAL when it is erased', async () => {
    const dir = tempDir();
    const path = join(dir, 'erase.db');
    const secret = `secret ${crypto.randomUUID()} `.repeat(200);
    const [body] = await storeWith(path, [secret, 'keep']);
    const db = new Database(path, { readonly: true });
    const stored = (
      db.prepare('SELECT bytes FROM baton_blobs WHERE hash = ?').get(body!.hash) as {
        bytes: Buffer;
      }
    ).bytes;
    db.close();
    expect(kept(path).get(body!.hash)?.encoding).toBe('deflate-raw');
    // A stretch of the compressed bytes, long enough to be found nowhere by chance.
    const needle = stored.subarray(8, 40);
    const holding = () =>
      readdirSync(dir).filter((f) => readFileSync(join(dir, f)).includes(needle));
    expect(holding()).not.toEqual([]);
    const store = new SqliteStore({ path });
    await store.blobs.delete(body!.hash);
    expect(await store.blobs.get(body!.hash)).toBeUndefined();
    expect(holding()).toEqual([]);
    await store.close();
    expect(holding()).toEqual([]);
  });

  it('refuses with STORE a body kept in an encoding it does not know', async () => {
    const path = join(tempDir(), 'unknown.db');
    const [body] = await storeWith(path, [prose]);
    const raw = new Database(path);
    raw.prepare("UPDATE baton_blobs SET encoding = 'zstd' WHERE hash = ?").run(body!.hash);
    raw.close();
    const store = new SqliteStore({ path });
    const err = await asyncRefusal(() => store.blobs.get(body!.hash), ErrorCode.STORE);
    expect(err.message).toMatch(/encoding "zstd"/);
    await store.close();
  });

  it('stores an artifact’s history compressed and reads every version back', async () => {
    const path = join(tempDir(), 'history.db');
    const ws = await Workspace.open({ store: new SqliteStore({ path }), tickIntervalMs: 0 });
    const me = ws.as((await ws.bootstrap({ name: 'Ada' })).id);
    const versions = [prose];
    const doc = await me.artifacts.create({ kind: 'text', title: 'Doc', content: prose });
    for (let v = 2; v <= 40; v++) {
      const lines = versions.at(-1)!.split('\n');
      lines[(v * 7) % 60] = `line edited at version ${v}, with the review notes`;
      versions.push(lines.join('\n'));
      await me.artifacts.edit(doc.id, {
        content: versions.at(-1)!,
        baseVersion: v - 1,
        reason: `edit ${v}`,
      });
    }
    await ws.close();
    const again = await Workspace.open({ store: new SqliteStore({ path }), tickIntervalMs: 0 });
    const reader = again.as(me.id);
    for (let v = 1; v <= versions.length; v++)
      expect((await reader.artifacts.get(doc.id, { version: v })).content).toBe(versions[v - 1]);
    expect((await again.verify()).ok).toBe(true);
    await again.close();
    const encodings = [...kept(path).values()].map((r) => r.encoding);
    expect(encodings).toContain('deflate-raw');
  });
});
