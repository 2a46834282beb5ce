import {
  type BatonEvent,
  eventHash,
  isBatonError,
  type MemoryKeyring,
  rootGrantId,
  type SignedFields,
  signingBytes,
  toBase64url,
  Workspace,
} from '@baton/core';
import { SqliteStore } from '@baton/sqlite';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { sqliteFile } from './sqliteFile.js';

/** A workspace on a new SQLite file: Ada (owner), Bob (a member) and Mallory (an agent with no grants, whose key the attacker holds). */
async function sqliteWorld() {
  const { dir, path, keyring, open } = sqliteFile('applied');
  const ws = await open();
  const ada = await ws.bootstrap({ name: 'Ada' });
  const me = ws.as(ada.id);
  const bob = await me.identities.create({ kind: 'human', name: 'Bob' });
  await me.capabilities.grant({ to: bob.id, resource: 'workspace', actions: ['comment'] });
  const mallory = await me.identities.create({ kind: 'agent', name: 'mallory' });
  await me.context.record({ type: 'note', text: 'first' });
  await me.context.record({ type: 'note', text: 'second' });
  return { dir, path, keyring, ws, ada, me, bob, mallory, open };
}

type World = Awaited<ReturnType<typeof sqliteWorld>>;

function lastEvents(path: string, n: number): BatonEvent[] {
  const db = new Database(path, { readonly: true });
  const rows = db.prepare('SELECT body FROM baton_events ORDER BY seq DESC LIMIT ?').all(n) as {
    body: string;
  }[];
  db.close();
  return rows.map((r) => JSON.parse(r.body) as BatonEvent).reverse();
}

/** Writes `e` (seq, prev, hash already set) into the file as a row, as anyone with write access to it can. */
function insertRow(path: string, e: BatonEvent): void {
  const db = new Database(path);
  db.prepare(
    'INSERT INTO baton_events (seq, id, stream, type, hash, body) VALUES (?, ?, ?, ?, ?, ?)',
  ).run(e.seq, e.id, e.stream, e.type, e.hash, JSON.stringify(e));
  for (const ref of e.refs)
    db.prepare('INSERT INTO baton_event_refs (ref, seq) VALUES (?, ?)').run(ref, e.seq);
  db.close();
}

/** Re-signs `e` with its actor's key from `keyring` (a replacement signed by someone holding that key) and re-hashes it. */
async function resigned(keyring: MemoryKeyring, e: BatonEvent): Promise<BatonEvent> {
  const signer = (await keyring.signer(e.actor))!;
  const sig = toBase64url(await signer.sign(signingBytes(e)));
  const body = { ...e, sig };
  return { ...body, hash: eventHash(body) };
}

function replaceRow(path: string, e: BatonEvent): void {
  const db = new Database(path);
  db.prepare('UPDATE baton_events SET id = ?, hash = ?, body = ? WHERE seq = ?').run(
    e.id,
    e.hash,
    JSON.stringify(e),
    e.seq,
  );
  db.close();
}

/** A `grant.issued` by Ada giving Mallory admin on everything, with a bogus signature, chained onto the file's head. */
function forgedAdminGrant(w: World): BatonEvent {
  const [last] = lastEvents(w.path, 1);
  const grant = 'gr_forged_admin';
  const fields: SignedFields = {
    ws: last!.ws,
    id: 'ev_forged_admin',
    stream: `grant/${grant}`,
    type: 'grant.issued@1',
    actor: w.ada.id,
    auth: rootGrantId(w.ada.id),
    at: last!.at,
    data: {
      id: grant,
      audience: w.mallory.id,
      resource: '*',
      actions: ['admin'],
      constraints: {},
    },
    refs: [grant, w.mallory.id],
  };
  const body = {
    ...fields,
    sig: 'A'.repeat(86),
    version: 1,
    seq: last!.seq + 1,
    prev: last!.hash,
  };
  return { ...body, hash: eventHash(body) };
}

async function integrity(p: Promise<unknown>): Promise<{ seq?: number; message: string }> {
  try {
    await p;
  } catch (err) {
    if (isBatonError(err) && err.code === 'INTEGRITY')
      return { seq: err.details.seq as number | undefined, message: err.message };
    throw err;
  }
  throw new Error('expected INTEGRITY, but the call succeeded');
}

describe('nothing applied unverified', () => {
  it('#8 a running instance refuses a forged grant.issued row inserted into the SQLite file, naming its seq, and chains nothing onto it', async () => {
    const w = await sqliteWorld();
    const forged = forgedAdminGrant(w);
    insertRow(w.path, forged);
    // The running instance's next call (an honest write) stops at the forged event.
    const honest = await integrity(w.me.context.record({ type: 'note', text: 'honest' }));
    expect(honest.seq).toBe(forged.seq);
    expect(honest.message).toMatch(new RegExp(`seq ${forged.seq}.*signature`));
    // The outsider's admin does not exist for it: suspending Bob, exporting are refused too.
    const mallory = w.ws.as(w.mallory.id);
    await integrity(mallory.identities.suspend(w.bob.id, { reason: 'mine now' }));
    await integrity(
      (async () => {
        for await (const _ of mallory.export()) break;
      })(),
    );
    // Later calls keep refusing, and no honest event was chained onto the forged one.
    expect((await integrity(w.me.context.record({ type: 'note', text: 'again' }))).seq).toBe(
      forged.seq,
    );
    expect(lastEvents(w.path, 1)[0]!.id).toBe(forged.id);
    // A process opened afterwards refuses the same way (open succeeds, so verify() can report).
    const fresh = await w.open();
    expect(
      (await integrity(fresh.as(w.ada.id).context.record({ type: 'note', text: 'x' }))).seq,
    ).toBe(forged.seq);
    expect((await integrity(fresh.as(w.mallory.id).can('admin', 'workspace'))).seq).toBe(
      forged.seq,
    );
    expect((await fresh.verify()).problem).toMatchObject({ seq: forged.seq });
    expect(lastEvents(w.path, 1)[0]!.id).toBe(forged.id);
  });

  it('#8 stops at a forged event in the middle of a catch-up and applies nothing of its batch', async () => {
    const w = await sqliteWorld();
    const follower = await w.open();
    const before = follower._view.seq;
    // An honest writer elsewhere commits, then the forged row lands after its events.
    const writer = await w.open();
    for (let i = 0; i < 3; i++)
      await writer.as(w.ada.id).context.record({ type: 'note', text: `n${i}` });
    const forged = forgedAdminGrant(w);
    insertRow(w.path, forged);
    expect((await integrity(follower.head())).seq).toBe(forged.seq);
    // The honest events in the same batch were not applied either: the view is where it was.
    expect(follower._view.seq).toBe(before);
    expect(follower._view.grant('gr_forged_admin')).toBeUndefined();
  });

  it('#8 a watcher is never handed a forged event: its watch ends with INTEGRITY', async () => {
    const w = await sqliteWorld();
    const watcher = await Workspace.open({
      store: new SqliteStore({ path: w.path }),
      keyring: w.keyring,
      tickIntervalMs: 0,
      pollIntervalMs: 20,
    });
    const received: BatonEvent[] = [];
    const watching = (async () => {
      for await (const e of watcher.watch()) received.push(e);
    })();
    const forged = forgedAdminGrant(w);
    insertRow(w.path, forged);
    expect((await integrity(watching)).seq).toBe(forged.seq);
    expect(received).toEqual([]);
    await watcher.close();
  });

  it('#9 rebuildProjections() refuses a forged event row and writes nothing', async () => {
    const w = await sqliteWorld();
    const forged = forgedAdminGrant(w);
    insertRow(w.path, forged);
    const fresh = await w.open();
    const before = await fresh.store.get('grants', 'gr_forged_admin');
    expect((await integrity(fresh.rebuildProjections())).seq).toBe(forged.seq);
    expect(await fresh.store.get('grants', 'gr_forged_admin')).toEqual(before);
    expect(before).toBeUndefined();
  });

  it('#10 a running instance notices the last two events were replaced by others with the same seqs', async () => {
    const w = await sqliteWorld();
    await w.ws.head();
    const [a, b] = lastEvents(w.path, 2);
    // Re-chained replacements: Ada's two notes, as if she had written something else.
    // (Signed with Ada's key: every signature, hash and link checks out; only the hashes differ from what the instance saw.)
    const a2 = await resigned(w.keyring, { ...a!, id: 'ev_replaced_1' });
    const b2 = await resigned(w.keyring, { ...b!, id: 'ev_replaced_2', prev: a2.hash });
    replaceRow(w.path, a2);
    replaceRow(w.path, b2);
    expect((await (await w.open()).verify()).ok).toBe(true);
    const seen = await integrity(w.me.context.record({ type: 'note', text: 'on top?' }));
    expect(seen.seq).toBe(b!.seq);
    expect(seen.message).toMatch(/replaced/);
    expect(lastEvents(w.path, 1)[0]!.id).toBe('ev_replaced_2');
  });

  it('#10 a running instance refuses events that continue a replaced head instead of the one it saw', async () => {
    const w = await sqliteWorld();
    await w.ws.head();
    const [last] = lastEvents(w.path, 1);
    replaceRow(w.path, await resigned(w.keyring, { ...last!, id: 'ev_other_head' }));
    // Another instance (which never saw the original) appends validly on the replaced head.
    const writer = await w.open();
    await writer.as(w.ada.id).context.record({ type: 'note', text: 'on the replacement' });
    const seen = await integrity(w.ws.head());
    expect(seen.seq).toBe(last!.seq + 1);
    expect(seen.message).toMatch(/prev .* is not the hash of the event before/);
  });

  it('#12 import() refuses a truncated export, one whose header names another workspace, and one that does not extend a given checkpoint', async () => {
    const w = await sqliteWorld();
    const cp = await w.ws.checkpoint();
    await w.me.context.record({ type: 'note', text: 'after the checkpoint' });
    const lines: string[] = [];
    for await (const l of w.me.export()) lines.push(l);
    const header = JSON.parse(lines[0]!) as { ws: string };
    const target = () => Workspace.open({ tickIntervalMs: 0 });
    const empty = { seq: 0, hash: '' };

    const truncated = await target();
    await expect(truncated.import(lines.slice(0, -1))).rejects.toMatchObject({
      code: 'INTEGRITY',
      message: expect.stringMatching(/truncated/),
    });
    expect(await truncated.store.head()).toEqual(empty);

    const foreign = await target();
    const renamed = [JSON.stringify({ ...header, ws: 'ws_someone_else' }), ...lines.slice(1)];
    await expect(foreign.import(renamed)).rejects.toMatchObject({ code: 'INTEGRITY' });
    expect(await foreign.store.head()).toEqual(empty);

    // A checkpoint of another workspace, and a log cut before the checkpoint, are refused.
    const elsewhere = await Workspace.open({ tickIntervalMs: 0 });
    await elsewhere.bootstrap({ name: 'Eve' });
    const otherCp = await elsewhere.checkpoint();
    const a = await target();
    await expect(a.import(lines, { checkpoint: otherCp })).rejects.toMatchObject({
      code: 'INTEGRITY',
    });
    expect(await a.store.head()).toEqual(empty);
    const early: string[] = [];
    for await (const l of w.me.export()) early.push(l);
    const cut = early.filter((l) => {
      const e = (JSON.parse(l) as { event?: BatonEvent }).event;
      return !e || e.seq < cp.seq;
    });
    while (!cut.at(-1)!.startsWith('{"event"')) cut.pop();
    const cutHead = JSON.parse(cut.at(-1)!) as { event: BatonEvent };
    cut[0] = JSON.stringify({
      ...header,
      head: { seq: cutHead.event.seq, hash: cutHead.event.hash },
    });
    const b = await target();
    await expect(b.import(cut, { checkpoint: cp })).rejects.toMatchObject({ code: 'INTEGRITY' });
    expect(await b.store.head()).toEqual(empty);
    // The whole export extends it.
    const c = await target();
    expect(await c.import(lines, { checkpoint: cp })).toEqual(await w.ws.store.head());
  });

  it('#12 #15 import() refuses malformed lines with VALIDATION, never a TypeError', async () => {
    const w = await sqliteWorld();
    const lines: string[] = [];
    for await (const l of w.me.export()) lines.push(l);
    const blob = (data: unknown) =>
      JSON.stringify({ blob: { hash: 'x'.repeat(43), data } }) as string;
    const cases: unknown[] = [
      [null],
      [42],
      'null',
      '42',
      [lines[0], 'null'],
      [lines[0], '[]'],
      [lines[0], blob(7)],
      [lines[0], blob('AB')],
      [lines[0], blob('not base64!')],
      [JSON.stringify({ baton: 'export', version: 1 })],
    ];
    for (const source of cases) {
      const target = await Workspace.open({ tickIntervalMs: 0 });
      const err = await target.import(source as string[]).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isBatonError(err), `${JSON.stringify(source)}: ${String(err)}`).toBe(true);
      expect((err as { code: string }).code, JSON.stringify(source)).toBe('VALIDATION');
      expect(await target.store.head()).toEqual({ seq: 0, hash: '' });
    }
  });

  it('#20 verify() says the hash differs when the head has the last event’s seq but another hash', async () => {
    const w = await sqliteWorld();
    const [last] = lastEvents(w.path, 1);
    const db = new Database(w.path);
    db.prepare('UPDATE baton_events SET hash = ? WHERE seq = ?').run('h_other', last!.seq);
    db.close();
    const fresh = await w.open();
    const report = await fresh.verify();
    expect(report.ok).toBe(false);
    expect(report.problem?.reason).toMatch(/hash/);
    expect(report.problem?.reason).not.toMatch(/is not the last event read \(seq \d+\)$/);
    expect(report.problem?.reason).toContain('h_other');
    expect(report.problem?.reason).toContain(last!.hash);
  });

  it('#20 every verify() message says what differs', async () => {
    const w = await sqliteWorld();
    const events = lastEvents(w.path, 100);
    // A stream version that does not count on, and a prev that does not link.
    const bad = { ...events.at(-1)!, version: 7 };
    bad.hash = eventHash(bad);
    replaceRow(w.path, bad);
    const report = await (await w.open()).verify();
    expect(report.problem?.reason).toMatch(/version 7 is not the next of stream .* \(\d+\)/);
    const linked = { ...events.at(-1)!, prev: 'h_nowhere' };
    linked.hash = eventHash(linked);
    replaceRow(w.path, linked);
    const again = await (await w.open()).verify();
    expect(again.problem?.reason).toMatch(
      /prev h_nowhere is not the hash of the event before \(seq \d+, hash \S+\)/,
    );
  });

  it('applies honest foreign events on catch-up as before, signatures and all', async () => {
    const w = await sqliteWorld();
    const follower = await w.open();
    const writer = await w.open();
    const agent = await writer.as(w.ada.id).identities.create({ kind: 'agent', name: 'late' });
    await writer
      .as(w.ada.id)
      .capabilities.grant({ to: agent.id, resource: 'workspace', actions: ['comment'] });
    expect((await follower.as(agent.id).can('comment', 'workspace')).allowed).toBe(true);
    // A rotated key signs the events after the rotation; the follower checks each against the key in force.
    await writer.as(agent.id).identities.rotateKey();
    await writer.as(agent.id).context.record({ type: 'note', text: 'with the new key' });
    expect(await follower.head()).toEqual(await writer.head());
    expect((await follower.verify()).ok).toBe(true);
  });
});
