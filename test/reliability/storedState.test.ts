// Issue 12, "Stored state checked": an attacker who can write the store but holds no key
// cannot make a Baton process authorize anything the signed log does not authorize, and
// everything else they change in the stored rows is reported by verify().
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  canonicalJson,
  cryptoKeySigner,
  didKeyOf,
  generateEd25519,
  isBatonError,
  type Logger,
  sha256b64,
  toBase64url,
  Workspace,
} from '@baton/core';
import { SqliteStore } from '@baton/sqlite';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { sqliteFile } from './sqliteFile.js';

/**
 * A workspace on a SQLite file holding one of every kind of row: an artifact with two
 * versions, a work handoff from Ada to Bob, a pending approval request by the drafter, a
 * note with a body, an idempotent record, a revoked grant, and Mallory (no grants).
 */
async function richFile() {
  const { dir, path, keyring, open } = sqliteFile('stored');
  const ws = await open();
  const ada = await ws.bootstrap({ name: 'Ada' });
  const me = ws.as(ada.id);
  const bob = await me.identities.create({ kind: 'human', name: 'Bob' });
  const drafter = await me.identities.create({ kind: 'agent', name: 'drafter' });
  const mallory = await me.identities.create({ kind: 'agent', name: 'mallory' });
  await me.capabilities.grant({
    to: bob.id,
    resource: 'artifact:*',
    actions: ['read', 'write', 'comment'],
  });
  const revoked = await me.capabilities.grant({
    to: mallory.id,
    resource: 'workspace',
    actions: ['comment'],
  });
  await me.capabilities.revoke(revoked.id, { reason: 'left' });
  await me.capabilities.grant({
    to: drafter.id,
    resource: 'artifact:*',
    actions: ['read', 'publish'],
    requiresApproval: [{ action: 'publish' }],
  });
  const doc = await me.artifacts.create({ kind: 'text', title: 'Post', content: 'Hi\n' });
  await me.artifacts.edit(doc.id, { content: 'Hello\n', baseVersion: 1, reason: 'warmer' });
  const handoff = await me.handoffs.offer({ to: bob.id, artifacts: [doc.id], note: 'Yours' });
  const publish = { summary: 'Publish', payload: { artifact: doc.id } };
  let approval = '';
  try {
    await ws.as(drafter.id).authorize('publish', `artifact:${doc.id}`, publish);
  } catch (err) {
    if (!isBatonError(err, 'APPROVAL_REQUIRED')) throw err;
    approval = err.details.approvalId as string;
  }
  const note = await me.context.record({ type: 'note', text: 'a secret', idempotencyKey: 'k1' });
  await ws.close();
  return {
    dir,
    path,
    keyring,
    ada,
    bob,
    drafter,
    mallory,
    doc,
    handoff,
    approval,
    publish,
    note,
    revoked,
  };
}

type Rich = Awaited<ReturnType<typeof richFile>>;

/** A copy of the rich file to tamper with, and a way to open fresh workspaces on it. */
function copyOf(r: Rich, name: string) {
  const path = join(r.dir, `${name}.db`);
  copyFileSync(r.path, path);
  const warnings: string[] = [];
  const logger: Logger = {
    debug() {},
    info() {},
    warn(message, fields) {
      warnings.push(`${message} ${JSON.stringify(fields ?? {})}`);
    },
    error(message, fields) {
      warnings.push(`${message} ${JSON.stringify(fields ?? {})}`);
    },
  };
  return {
    path,
    warnings,
    sql(text: string, ...params: unknown[]) {
      const db = new Database(path);
      db.prepare(text).run(...params);
      db.close();
    },
    open() {
      return Workspace.open({
        store: new SqliteStore({ path }),
        keyring: r.keyring,
        logger,
        tickIntervalMs: 0,
      });
    },
  };
}

const setField = (collection: string, key: string, field: string, json: string) =>
  [
    `UPDATE baton_rows SET value = json_set(value, '$.${field}', json(?)) WHERE collection = ? AND key = ?`,
    json,
    collection,
    key,
  ] as const;

describe('stored state checked', () => {
  it('#11 verify() reports each projection row edited in the file, naming the row and what differs', async () => {
    const r = await richFile();
    const versionKey = `${r.doc.id}/${String(1).padStart(10, '0')}`;
    const otherBody = sha256b64('another body');
    const cases: { name: string; edit: readonly unknown[]; row: string; says: RegExp }[] = [
      {
        name: 'an approval request set to approved',
        edit: setField('handoffs', r.approval, 'status', '"approved"'),
        row: `handoffs/${r.approval}`,
        says: /status is "approved" in the store, "offered" by the log/,
      },
      {
        name: 'a handoff’s recipient changed',
        edit: setField('handoffs', r.handoff.id, 'to', JSON.stringify([r.mallory.id])),
        row: `handoffs/${r.handoff.id}`,
        says: new RegExp(`to\\[0\\] is "${r.mallory.id}" in the store`),
      },
      {
        name: 'an artifact version pointed at another body',
        edit: setField('artifact-versions', versionKey, 'contentHash', JSON.stringify(otherBody)),
        row: `artifact-versions/${versionKey}`,
        says: /contentHash is/,
      },
      {
        name: 'a planted erasure',
        edit: [
          `INSERT INTO baton_rows (collection, key, value) VALUES ('erasures', ?, ?)`,
          r.note.body,
          JSON.stringify({ by: r.ada.id, reason: 'gone', at: '2026-01-01T00:00:00.000Z' }),
        ],
        row: `erasures/${r.note.body}`,
        says: /not made by any event/,
      },
      {
        name: 'a planted idempotency row',
        edit: [
          `INSERT INTO baton_rows (collection, key, value) VALUES ('idempotency', 'idem_planted', ?)`,
          JSON.stringify({ digest: sha256b64('x'), events: ['ev_nowhere'] }),
        ],
        row: 'idempotency/idem_planted',
        says: /ev_nowhere, which is not in the log/,
      },
      {
        name: 'an inbox entry planted for Mallory',
        edit: [
          `INSERT INTO baton_row_index (collection, name, ikey, key) VALUES ('handoffs', 'inbox', ?, ?)`,
          `${r.mallory.id}\u00002\u0000~\u0000000000000001`,
          r.handoff.id,
        ],
        row: `handoffs/${r.handoff.id}`,
        says: /index "inbox" of handoffs does not match/,
      },
      {
        name: 'a grant widened',
        edit: setField('grants', `gr_root_${r.ada.id}`, 'audience', JSON.stringify(r.mallory.id)),
        row: `grants/gr_root_${r.ada.id}`,
        says: /audience/,
      },
      {
        name: 'a revocation undone',
        edit: [
          `UPDATE baton_rows SET value = json_remove(value, '$.revoked') WHERE collection = 'grants' AND key = ?`,
          r.revoked.id,
        ],
        row: `grants/${r.revoked.id}`,
        says: /revoked is absent in the store/,
      },
      {
        name: 'an owner added',
        edit: setField('identities', r.mallory.id, 'isOwner', 'true'),
        row: `identities/${r.mallory.id}`,
        says: /isOwner is true in the store, false by the log/,
      },
      {
        name: 'a key added',
        edit: [
          `UPDATE baton_rows SET value = json_insert(value, '$.keys[#]', json(?)) WHERE collection = 'identities' AND key = ?`,
          JSON.stringify({ key: 'did:key:z6MkAttacker', since: 1 }),
          r.ada.id,
        ],
        row: `identities/${r.ada.id}`,
        says: /keys\[1\] is .* in the store, absent by the log/,
      },
    ];
    const clean = copyOf(r, 'clean');
    expect((await (await clean.open()).verify()).ok).toBe(true);
    for (const [i, c] of cases.entries()) {
      const f = copyOf(r, `case${i}`);
      f.sql(...(c.edit as [string, ...unknown[]]));
      const report = await (await f.open()).verify();
      expect(report.ok, c.name).toBe(false);
      expect(report.problem?.row, c.name).toBe(c.row);
      expect(report.problem?.reason, c.name).toMatch(c.says);
    }
  });

  it('#11 authority rows edited in the file change nothing a fresh open decides (grant widened, revocation undone, owner added, key added)', async () => {
    const r = await richFile();
    const f = copyOf(r, 'authority');
    // Every authority row the attacker can reach, at once: Ada's root grant handed to Mallory,
    // Mallory's revoked grant restored and widened, Mallory made an owner, and a key of the
    // attacker's registered for Ada.
    const pair = await generateEd25519();
    const attackerKey = await didKeyOf(pair.publicKey);
    f.sql(...setField('grants', r.revoked.id, 'actions', '["admin"]'));
    f.sql(...setField('grants', r.revoked.id, 'resource', '"*"'));
    f.sql(
      `UPDATE baton_rows SET value = json_remove(value, '$.revoked') WHERE collection = 'grants' AND key = ?`,
      r.revoked.id,
    );
    f.sql(...setField('identities', r.mallory.id, 'isOwner', 'true'));
    f.sql(
      `UPDATE baton_rows SET value = json_set(value, '$.owners', json(?)) WHERE collection = 'meta' AND key = 'workspace'`,
      JSON.stringify([r.ada.id, r.mallory.id]),
    );
    f.sql(
      `UPDATE baton_rows SET value = json_insert(value, '$.keys[#]', json(?)) WHERE collection = 'identities' AND key = ?`,
      JSON.stringify({ key: attackerKey, since: 1 }),
      r.ada.id,
    );
    const ws = await f.open();
    const mallory = ws.as(r.mallory.id);
    expect((await mallory.can('admin', 'workspace')).allowed).toBe(false);
    expect((await mallory.can('comment', 'workspace')).allowed).toBe(false);
    expect(ws.info?.owners).toEqual([r.ada.id]);
    await expect(mallory.identities.suspend(r.bob.id)).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    const asAda = ws.as(r.ada.id, { signer: cryptoKeySigner(pair.privateKey, attackerKey) });
    await expect(asAda.context.record({ type: 'note', text: 'forged' })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    // The same with a trusted checkpoint in the store: open starts from its snapshot, not the rows.
    const honest = await f.open();
    await honest.checkpoint();
    const again = await f.open();
    expect((await again.as(r.mallory.id).can('admin', 'workspace')).allowed).toBe(false);
    expect(again.info?.owners).toEqual([r.ada.id]);
  });

  it('#11 an approval request set to approved in the file is not consumed by an honest authorize()', async () => {
    const r = await richFile();
    const f = copyOf(r, 'approval');
    f.sql(...setField('handoffs', r.approval, 'status', '"approved"'));
    f.sql(
      ...setField(
        'handoffs',
        r.approval,
        'decision',
        JSON.stringify({ by: r.ada.id, at: '2026-01-01T00:00:00.000Z' }),
      ),
    );
    const ws = await f.open();
    const err = await ws
      .as(r.drafter.id)
      .authorize('publish', `artifact:${r.doc.id}`, r.publish)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(isBatonError(err, 'APPROVAL_REQUIRED')).toBe(true);
  });

  it('#11 a checkpoint or snapshot forged in the store’s kv is ignored with a warning, never believed', async () => {
    const r = await richFile();
    const f = copyOf(r, 'kv');
    const ws = await f.open();
    const cp = await ws.checkpoint();
    await ws.close();
    const db = new Database(f.path);
    // (The kv keeps JSON as its text: the snapshot, a string, as a JSON string.)
    const kv = (key: string) =>
      JSON.parse(
        (db.prepare('SELECT value FROM baton_kv WHERE key = ?').get(key) as { value: string })
          .value,
      ) as string;
    const snapKey = `baton/checkpoints/${String(cp.seq).padStart(12, '0')}`;
    const snapshot = JSON.parse(kv(snapKey)) as {
      identities: { id: string; isOwner: boolean }[];
      workspace: { owners: string[] };
    };
    // Mallory made an owner in the snapshot, and a checkpoint over it signed with a key the
    // log never registered (the attacker's own) — and, separately, one signed by Mallory's
    // real key (an agent's: not an owner's or a service's).
    for (const i of snapshot.identities) if (i.id === r.mallory.id) i.isOwner = true;
    snapshot.workspace.owners.push(r.mallory.id);
    const text = canonicalJson(snapshot as never);
    const pair = await generateEd25519();
    const attacker = cryptoKeySigner(pair.privateKey, await didKeyOf(pair.publicKey));
    const malloryKey = (await r.keyring.signer(r.mallory.id))!;
    for (const signer of [attacker, malloryKey]) {
      const body = { ...cp, key: signer.publicKey, view: sha256b64(text), by: r.mallory.id };
      const { sig: _, ...unsigned } = body;
      const signed = canonicalJson({ kind: 'baton.checkpoint@1', ...unsigned } as never);
      const sig = toBase64url(await signer.sign(new TextEncoder().encode(signed)));
      db.prepare('UPDATE baton_kv SET value = ? WHERE key = ?').run(JSON.stringify(text), snapKey);
      db.prepare('UPDATE baton_kv SET value = ? WHERE key = ?').run(
        JSON.stringify({ ...body, sig }),
        'baton/checkpoints/latest',
      );
      f.warnings.length = 0;
      const opened = await f.open();
      expect(opened.info?.owners).toEqual([r.ada.id]);
      expect((await opened.as(r.mallory.id).can('admin', 'workspace')).allowed).toBe(false);
      expect(f.warnings.join('\n')).toMatch(/ignoring the checkpoint/);
      await opened.close();
    }
    // A snapshot edited under the honest checkpoint no longer matches its digest (the edited one is still there).
    db.prepare('UPDATE baton_kv SET value = ? WHERE key = ?').run(
      JSON.stringify(cp),
      'baton/checkpoints/latest',
    );
    db.close();
    f.warnings.length = 0;
    const opened = await f.open();
    expect((await opened.as(r.mallory.id).can('admin', 'workspace')).allowed).toBe(false);
    expect(f.warnings.join('\n')).toMatch(/digest/);
  });
});
