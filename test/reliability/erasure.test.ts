import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalJson, PRIMARY_INDEX, Workspace } from '@baton/core';
import { KeyDirectory } from '@baton/core/node';
import { SqliteStore } from '@baton/sqlite';
import { afterEach, describe, expect, it } from 'vitest';

const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

/** The files under `dir` whose bytes contain `needle`'s UTF-8 bytes. */
function filesHolding(dir: string, needle: string): string[] {
  const bytes = Buffer.from(needle, 'utf8');
  return filesUnder(dir).filter((f) => readFileSync(f).includes(bytes));
}

describe('erasure', () => {
  it('#14 leaves no byte of an erased secret in any file of a SQLite workspace (db, WAL, shm, keys), and the log still verifies', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-erasure-'));
    temps.push(dir);
    const path = join(dir, 'workspace.db');
    const keyring = new KeyDirectory({ path: join(dir, 'keys') });
    // Unique, and long enough that it cannot occur by chance.
    const secret = `sk-live-${crypto.randomUUID()}-do-not-leak`;
    const ws = await Workspace.open({
      store: new SqliteStore({ path }),
      keyring,
      tickIntervalMs: 0,
    });
    const ada = await ws.bootstrap({ name: 'Ada' });
    const me = ws.as(ada.id);
    const bob = await me.identities.create({ kind: 'human', name: 'Bob', generateKey: true });
    const request = {
      kind: 'text' as const,
      title: 'Deploy notes',
      content: `Deploy with the key ${secret}\n`,
      reason: 'first draft',
      idempotencyKey: 'deploy-notes',
    };
    const doc = await me.artifacts.create(request);
    const entry = await me.context.record({
      type: 'note',
      about: [doc.id],
      text: `The staging key is ${secret}`,
      idempotencyKey: 'staging-note',
    });
    await me.capabilities.grant({ to: bob.id, resource: `artifact:${doc.id}`, actions: ['read'] });
    const handoff = await me.handoffs.offer({
      to: bob.id,
      artifacts: [doc.id],
      note: `Use ${secret} to deploy`,
      idempotencyKey: 'to-bob',
    });
    // Before erasure the secret is in the files (so the check below can see it).
    expect(filesHolding(dir, secret)).not.toEqual([]);

    const created = (await me.log({ types: ['artifact.created'] })).items[0]!;
    const content = (created.data as { content: string }).content;
    const offered = (await me.log({ types: ['handoff.offered'] })).items[0]!;
    const note = (offered.data as { note: string }).note;
    for (const hash of [content, entry.body!, note]) await me.erase(hash, 'leaked deploy key');
    // Gone from the files at once, while the store is still open (its WAL included).
    expect(filesUnder(dir).map((f) => f.slice(dir.length + 1))).toContain('workspace.db-wal');
    expect(filesHolding(dir, secret)).toEqual([]);

    // A retry with the same key and request still returns the first commit; another request
    // under the key is still refused.
    const again = await me.artifacts.create(request);
    expect(again.id).toBe(doc.id);
    expect(again.content).toBe('[erased by Ada: leaked deploy key]');
    await expect(me.artifacts.create({ ...request, title: 'Other' })).rejects.toMatchObject({
      code: 'VALIDATION',
    });
    expect((await me.context.get(entry.id)).text).toBe('[erased by Ada: leaked deploy key]');
    expect((await me.handoffs.get(handoff.id)).noteText).toBe('[erased by Ada: leaked deploy key]');
    await ws.rebuildProjections();
    const report = await ws.verify();
    expect(report.ok).toBe(true);
    expect(report.erased.map((e) => e.hash).sort()).toEqual([content, entry.body!, note].sort());
    await ws.close();

    const files = filesUnder(dir).map((f) => f.slice(dir.length + 1));
    expect(files).toContain('workspace.db');
    expect(filesHolding(dir, secret)).toEqual([]);
    // Not even a part of it.
    expect(filesHolding(dir, secret.slice(8, 44))).toEqual([]);

    const reopened = await Workspace.open({
      store: new SqliteStore({ path }),
      keyring,
      tickIntervalMs: 0,
    });
    expect((await reopened.verify()).ok).toBe(true);
    expect(filesHolding(dir, secret)).toEqual([]);
    await reopened.close();
  });

  it('#14 turns idempotency rows written before digests into digests on erase, and retries still match them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-erasure-'));
    temps.push(dir);
    const path = join(dir, 'workspace.db');
    const secret = `sk-old-${crypto.randomUUID()}`;
    const ws = await Workspace.open({ store: new SqliteStore({ path }), tickIntervalMs: 0 });
    const ada = await ws.bootstrap({ name: 'Ada' });
    const me = ws.as(ada.id);
    const input = { kind: 'text' as const, title: 'Old', content: `${secret}\n`, reason: 'r' };
    const doc = await me.artifacts.create({ ...input, idempotencyKey: 'old-row' });
    // The row as an earlier version wrote it: the whole canonical request, in plain text.
    const [row] = (await ws.store.query('idempotency', PRIMARY_INDEX, {})).items;
    const { events } = row!.value as { events: string[] };
    const legacy = canonicalJson({ op: 'artifacts.create', input });
    await ws.store.append({
      events: [],
      expectedHead: await ws.store.head(),
      projections: [
        { collection: 'idempotency', key: row!.key, value: { digest: legacy, events } },
      ],
    });
    expect((await me.artifacts.create({ ...input, idempotencyKey: 'old-row' })).id).toBe(doc.id);

    const created = (await me.log({ types: ['artifact.created'] })).items[0]!;
    await me.erase((created.data as { content: string }).content, 'leaked');
    const after = (await ws.store.get('idempotency', row!.key)) as { digest: string };
    expect(after.digest).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(filesHolding(dir, secret)).toEqual([]);
    expect((await me.artifacts.create({ ...input, idempotencyKey: 'old-row' })).id).toBe(doc.id);
    await expect(
      me.artifacts.create({ ...input, title: 'New', idempotencyKey: 'old-row' }),
    ).rejects.toMatchObject({ code: 'VALIDATION' });
    await ws.close();
    expect(filesHolding(dir, secret)).toEqual([]);
  });
});
