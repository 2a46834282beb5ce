import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EMPTY_HEAD, ErrorCode, MemoryKeyring, type Store, Workspace } from '@baton/core';
import { conformanceEvents, runStoreConformance } from '@baton/core/testing';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore, type SqliteStoreOptions } from '../src/index.js';
import { appendSome, asyncRefusal, refusal, tempDir } from './helpers.js';

/** A body as `append` takes it: its bytes and their hash. */
function blobOf(bytes: Uint8Array) {
  return { hash: createHash('sha256').update(bytes).digest('base64url'), bytes };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it holds or 2 s pass; returns whether it held. */
async function eventually(check: () => boolean): Promise<boolean> {
  const until = Date.now() + 2_000;
  while (!check()) {
    if (Date.now() > until) return false;
    await sleep(2);
  }
  return true;
}

const root = mkdtempSync(join(tmpdir(), 'baton-sqlite-conformance-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const paths = new WeakMap<Store, string>();
let n = 0;

function open(path: string): SqliteStore {
  const store = new SqliteStore({ path });
  paths.set(store, path);
  return store;
}

runStoreConformance({
  name: 'SqliteStore',
  create: async () => open(join(root, `store-${++n}.db`)),
  // A second connection to the same file, as another process would have.
  openPeer: async (store) => open(paths.get(store)!),
  reopen: async (store) => {
    await store.close();
    return open(paths.get(store)!);
  },
  destroy: async (store) => {
    await store.close();
    const path = paths.get(store)!;
    for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
  },
});

describe('SqliteStore', () => {
  it('refuses bad options with VALIDATION naming the field', () => {
    const path = join(tempDir(), 'x.db');
    const cases: [unknown, string][] = [
      [{}, 'path'],
      [{ path: '' }, 'path'],
      [{ path: 42 }, 'path'],
      [{ path, database: new Database(':memory:') }, 'database'],
      [{ database: {} }, 'database'],
      [{ path, busyTimeoutMs: -1 }, 'busyTimeoutMs'],
      [{ path, busyTimeoutMs: 1.5 }, 'busyTimeoutMs'],
      [{ path, pollIntervalMs: 0 }, 'pollIntervalMs'],
      [{ path, synchronous: 'off' }, 'synchronous'],
      [{ path, poll: 10 }, ''],
      [{ database: new Database(':memory:'), busyTimeoutMs: 10 }, 'busyTimeoutMs'],
    ];
    for (const [options, field] of cases) {
      const err = refusal(
        () => new SqliteStore(options as SqliteStoreOptions),
        ErrorCode.VALIDATION,
      );
      expect(err.message, JSON.stringify(options)).toMatch(/^new SqliteStore\(options\): /);
      expect(err.details.field, JSON.stringify(options)).toBe(field);
    }
    expect(existsSync(path)).toBe(false);
  });

  // Reads are core's to validate (the store trusts them); kv is an adapter's input surface and
  // an append is checked against the chain, so those still refuse bad input.
  it('refuses bad kv arguments and a malformed append with VALIDATION', async () => {
    const store = new SqliteStore({ path: join(tempDir(), 'x.db') });
    try {
      await asyncRefusal(() => store.kv.put('k', undefined as never), ErrorCode.VALIDATION);
      await asyncRefusal(() => store.kv.put('k', { n: Number.NaN }), ErrorCode.VALIDATION);
      await asyncRefusal(
        () => store.append({ events: [{ id: 'x' }], expectedHead: EMPTY_HEAD } as never),
        ErrorCode.VALIDATION,
      );
      expect(await store.head()).toEqual(EMPTY_HEAD);
      expect(await store.kv.get('k')).toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it('fails an append with STORE when another connection holds the write lock past the busy timeout, writing nothing', async () => {
    const path = join(tempDir(), 'locked.db');
    const store = new SqliteStore({ path, busyTimeoutMs: 100 });
    await appendSome(store, 2);
    const head = await store.head();
    const holder = new Database(path);
    holder.prepare('BEGIN IMMEDIATE').run();
    const events = conformanceEvents(head, 3);
    try {
      const err = await asyncRefusal(
        () => store.append({ events, expectedHead: head }),
        ErrorCode.STORE,
      );
      expect(err.message).toMatch(/busy timeout \(100 ms\)\. Retry, or raise busyTimeoutMs\.$/);
      expect(err.details.sqlite).toMatch(/^SQLITE_BUSY/);
      // Readers are not blocked in WAL mode while a writer waits.
      expect(await store.head()).toEqual(head);
    } finally {
      holder.prepare('ROLLBACK').run();
      holder.close();
    }
    expect(await store.event(events[0]!.id)).toBeUndefined();
    await store.append({ events, expectedHead: head });
    expect((await store.head()).seq).toBe(5);
    await store.close();
  });

  it('deletes a body’s bytes from the file and empties the WAL when the body is erased', async () => {
    const dir = tempDir();
    const path = join(dir, 'erase.db');
    const store = new SqliteStore({ path });
    const marker = `secret-${crypto.randomUUID()}`;
    // Large enough to spill into overflow pages, and a small one sharing a page with others.
    const big = new TextEncoder().encode(`${marker}\n`.repeat(2_000));
    const small = new TextEncoder().encode(marker);
    const blobs = [big, small, new TextEncoder().encode('keep')].map(blobOf);
    const head = await store.head();
    await store.append({ events: conformanceEvents(head, 1), expectedHead: head, blobs });
    const holding = () =>
      readdirSync(dir).filter((f) => readFileSync(join(dir, f)).includes(Buffer.from(marker)));
    expect(holding()).not.toEqual([]);
    await store.blobs.delete(blobs[0]!.hash);
    await store.blobs.delete(blobs[1]!.hash);
    expect(holding()).toEqual([]);
    expect(readFileSync(`${path}-wal`).length).toBe(0);
    expect(await store.blobs.get(blobs[2]!.hash)).toStrictEqual(blobs[2]!.bytes);
    await store.close();
    expect(holding()).toEqual([]);
  });

  it('fails an erasure with STORE while another connection keeps reading, and finishes it when deleted again', async () => {
    const dir = tempDir();
    const path = join(dir, 'busy.db');
    const store = new SqliteStore({ path, busyTimeoutMs: 50 });
    const secret = blobOf(new TextEncoder().encode(`secret-${crypto.randomUUID()}`));
    const head = await store.head();
    await store.append({ events: conformanceEvents(head, 1), expectedHead: head, blobs: [secret] });
    const reader = new Database(path);
    reader.prepare('BEGIN').run();
    reader.prepare('SELECT count(*) FROM baton_events').get();
    const err = await asyncRefusal(() => store.blobs.delete(secret.hash), ErrorCode.STORE);
    expect(err.message).toMatch(/Delete it again/);
    expect(await store.blobs.has(secret.hash)).toBe(false);
    reader.prepare('COMMIT').run();
    await store.blobs.delete(secret.hash);
    expect(readFileSync(`${path}-wal`).length).toBe(0);
    reader.close();
    await store.close();
  });

  it('turns secure_delete on, on a connection it was given too', async () => {
    const database = new Database(':memory:');
    expect(database.pragma('secure_delete', { simple: true })).toBe(0);
    const store = new SqliteStore({ database });
    expect(database.pragma('secure_delete', { simple: true })).toBe(1);
    await store.close();
    database.close();
  });

  it('uses a given connection as it is and leaves it open on close', async () => {
    const database = new Database(':memory:');
    const store = new SqliteStore({ database });
    await appendSome(store, 3);
    await store.kv.put('k', new Uint8Array([1, 2]));
    expect((await store.head()).seq).toBe(3);
    await store.close();
    expect(database.open).toBe(true);
    const again = new SqliteStore({ database });
    expect((await again.head()).seq).toBe(3);
    expect(await again.kv.get('k')).toStrictEqual(new Uint8Array([1, 2]));
    await again.close();
    database.close();
  });

  it('reads through a read-only connection and refuses its appends with STORE, writing nothing', async () => {
    const path = join(tempDir(), 'ro.db');
    const writer = new SqliteStore({ path });
    await appendSome(writer, 2);
    const head = await writer.head();
    const database = new Database(path, { readonly: true });
    const reader = new SqliteStore({ database });
    try {
      expect(await reader.head()).toEqual(head);
      const err = await asyncRefusal(
        () => reader.append({ events: conformanceEvents(head, 1), expectedHead: head }),
        ErrorCode.STORE,
      );
      expect(err.message).toMatch(/readonly/);
      await asyncRefusal(() => reader.kv.put('k', 1), ErrorCode.STORE);
      expect(await writer.head()).toEqual(head);
      expect(await writer.kv.get('k')).toBeUndefined();
    } finally {
      await reader.close();
      database.close();
      await writer.close();
    }
  });

  it('refuses a read-only connection to a new file with STORE: it cannot set up the schema', () => {
    const dir = tempDir();
    const path = join(dir, 'blank.db');
    writeFileSync(path, '');
    const database = new Database(path, { readonly: true });
    try {
      refusal(() => new SqliteStore({ database }), ErrorCode.STORE);
    } finally {
      database.close();
    }
    expect(readFileSync(path).length).toBe(0);
  });

  it('fails with STORE, not a TypeError, when its given connection was closed under it', async () => {
    const database = new Database(':memory:');
    const store = new SqliteStore({ database });
    database.close();
    const err = await asyncRefusal(() => store.head(), ErrorCode.STORE);
    expect(err.cause).toBeInstanceOf(Error);
    await store.close();
  });

  it('polls for other connections’ commits only while someone watches, and never after close', async () => {
    const path = join(tempDir(), 'poll.db');
    const database = new Database(path);
    let polls = 0;
    const pragma = database.pragma.bind(database);
    database.pragma = ((source: string, options?: Database.PragmaOptions) => {
      if (source === 'data_version') polls++;
      return pragma(source, options);
    }) as typeof database.pragma;
    const store = new SqliteStore({ database, pollIntervalMs: 5 });
    await sleep(60);
    expect(polls).toBeLessThanOrEqual(1);
    const stopA = store.watch(() => {});
    const stopB = store.watch(() => {});
    expect(await eventually(() => polls > 3)).toBe(true);
    stopA();
    const whileB = polls;
    expect(await eventually(() => polls > whileB + 3)).toBe(true);
    stopB();
    const stopped = polls;
    await sleep(60);
    expect(polls).toBe(stopped);
    store.watch(() => {});
    const watching = polls;
    expect(await eventually(() => polls > watching)).toBe(true);
    await store.close();
    const closed = polls;
    await sleep(60);
    expect(polls).toBe(closed);
    database.close();
  });

  it('wakes a watcher when another connection to the file commits', async () => {
    const path = join(tempDir(), 'wake.db');
    const store = new SqliteStore({ path, pollIntervalMs: 5 });
    const other = new SqliteStore({ path });
    const seen: number[] = [];
    const stop = store.watch((seq) => seen.push(seq));
    try {
      await appendSome(other, 2);
      expect(await eventually(() => seen.includes(2))).toBe(true);
      expect(seen).toEqual([2]);
      await other.kv.put('not a commit', 1);
      await sleep(30);
      expect(seen).toEqual([2]);
    } finally {
      stop();
      await other.close();
      await store.close();
    }
  });

  it('keeps a workspace across close and reopen: identities, grants and a log that verifies', async () => {
    const path = join(tempDir(), 'workspace.db');
    const keyring = new MemoryKeyring();
    const first = await Workspace.open({ store: new SqliteStore({ path }), keyring });
    const ada = await first.bootstrap({ name: 'Ada' });
    const drafter = await first.as(ada.id).identities.create({ kind: 'agent', name: 'drafter' });
    await first
      .as(ada.id)
      .capabilities.grant({ to: drafter.id, resource: 'email:*', actions: ['email.send'] });
    await first.as(drafter.id).authorize('email.send', 'email:launch');
    const head = await first.head();
    await first.close();

    const second = await Workspace.open({ store: new SqliteStore({ path }), keyring });
    try {
      expect(await second.head()).toEqual(head);
      expect((await second.as(drafter.id).can('email.send', 'email:x')).allowed).toBe(true);
      await second.as(drafter.id).authorize('email.send', 'email:again');
      const report = await second.verify();
      expect(report.ok).toBe(true);
      expect(report.events).toBe(head.seq + 1);
    } finally {
      await second.close();
    }
  });
});
