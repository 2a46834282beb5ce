import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  type BatonEvent,
  type Checkpoint,
  defineEventType,
  eventHash,
  MemoryStore,
  PRIMARY_INDEX,
  type SignedFields,
  type Store,
  signingBytes,
  toBase64url,
  Workspace,
} from '../src/index.js';
import { countingStore } from './countingStore.js';
import { noteWorld, noteWritten } from './notes.js';
import { world } from './world.js';

async function write(w: Awaited<ReturnType<typeof noteWorld>>, note: string, text: string) {
  const { sha256b64 } = await import('../src/index.js');
  return w.agent.emit('note.written', { note, body: sha256b64(text) }, { blobs: [text] });
}

async function allEvents(store: Store): Promise<BatonEvent[]> {
  const out: BatonEvent[] = [];
  for await (const e of store.read()) out.push(structuredClone(e));
  return out;
}

/** A new store holding exactly `events` (appended one by one, as an attacker with the storage could). */
async function storeWith(events: BatonEvent[], from?: Store): Promise<MemoryStore> {
  const store = new MemoryStore();
  let head = { seq: 0, hash: '' };
  for (const e of events) {
    const blobs = [];
    if (from) {
      for (const h of [(e.data as { body?: string }).body].filter((x): x is string => !!x)) {
        const bytes = await from.blobs.get(h);
        if (bytes) blobs.push({ hash: h, bytes });
      }
    }
    head = await store.append({ events: [e], expectedHead: head, blobs });
  }
  // The rows the log makes, as the attacker would write them too (verify() compares them);
  // a log that does not verify keeps none.
  const ws = await Workspace.open({
    store: store.peer(),
    eventTypes: [noteWritten as never],
    tickIntervalMs: 0,
  });
  await ws.rebuildProjections().catch(() => {});
  return store;
}

async function rows(store: Store, collection: string) {
  return (await store.query(collection, PRIMARY_INDEX, {}, { limit: 10_000 })).items;
}

describe('verify progress', () => {
  it('reports its progress batch by batch, ending at the head, and a throwing listener does not stop it', async () => {
    const ws = await Workspace.open();
    const ada = await ws.bootstrap({ name: 'Ada' });
    const me = ws.as(ada.id);
    for (let i = 0; i < 600; i++) await me.context.record({ type: 'note', text: `note ${i}` });
    const head = await ws.store.head();
    const seen: { seq: number; head: number; events: number }[] = [];
    const report = await ws.verify({ onProgress: (p) => seen.push(p) });
    expect(report.ok).toBe(true);
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(seen.every((p, i) => i === 0 || p.seq >= seen[i - 1]!.seq)).toBe(true);
    expect(seen.every((p) => p.head === head.seq)).toBe(true);
    expect(seen.at(-1)).toEqual({ seq: head.seq, head: head.seq, events: head.seq });
    const still = await ws.verify({
      onProgress: () => {
        throw new Error('a broken progress bar');
      },
    });
    expect(still.ok).toBe(true);
    await expect(ws.verify({ onProgress: 'yes' as never })).rejects.toMatchObject({
      code: 'VALIDATION',
      message: expect.stringMatching(/onProgress/),
    });
  });
});

describe('checkpoints', () => {
  it('proves a log that extends a kept checkpoint, checking only the events after it', async () => {
    const w = await world();
    for (let i = 0; i < 20; i++) await w.me.identities.create({ kind: 'agent', name: `a${i}` });
    const cp = await w.ws.checkpoint();
    expect(cp).toMatchObject({ seq: 22, by: w.ada.id, ws: w.ws.id });
    for (let i = 0; i < 3; i++) await w.me.identities.create({ kind: 'agent', name: `b${i}` });
    const report = await w.ws.verify({ from: cp });
    expect(report).toMatchObject({ ok: true, from: 22, events: 3, head: { seq: 25 } });
  });

  it('detects a truncation behind a kept checkpoint', async () => {
    const w = await world();
    for (let i = 0; i < 5; i++) await w.me.identities.create({ kind: 'agent', name: `a${i}` });
    const cp = await w.ws.checkpoint();
    const events = await allEvents(w.store);
    const truncated = await Workspace.open({ store: await storeWith(events.slice(0, 4)) });
    expect((await truncated.verify()).ok).toBe(true); // the chain alone cannot tell
    const report = await truncated.verify({ from: cp });
    expect(report).toMatchObject({
      ok: false,
      problem: { seq: 5, reason: expect.stringMatching(/truncated/) },
    });
  });

  it('detects a rewrite behind a kept checkpoint even when every signature is valid', async () => {
    const w = await world();
    const eve = await w.me.identities.create({ kind: 'agent', name: 'eve' });
    await w.me.capabilities.grant({ to: eve.id, resource: 'email:*', actions: ['email.send'] });
    await w.me.identities.create({ kind: 'agent', name: 'later' });
    const cp = await w.ws.checkpoint();
    // Someone holding the owner's key re-signs history without eve's grant and re-chains it.
    const events = await allEvents(w.store);
    const rewritten: BatonEvent[] = [];
    let prev = '';
    for (const e of events.filter((x) => x.type !== 'grant.issued@1')) {
      const seq = rewritten.length + 1;
      const fields = { ...e } as SignedFields & Partial<BatonEvent>;
      const signer = (await w.ws.keyring.signer(e.actor))!;
      const sig = toBase64url(await signer.sign(signingBytes(fields)));
      const body = {
        ...fields,
        sig,
        seq,
        version: e.version,
        prev: seq === 1 ? e.ws : prev,
      } as BatonEvent;
      body.hash = eventHash(body);
      prev = body.hash;
      rewritten.push(body);
    }
    while (rewritten.length < events.length) {
      // pad with a fresh event so the head reaches the checkpoint's seq
      const seq = rewritten.length + 1;
      const last = rewritten.at(-1)!;
      const fields: SignedFields = {
        ...last,
        id: `ev_pad_${seq}`,
        data: { ...(last.data as object), name: 'pad' } as never,
      };
      const signer = (await w.ws.keyring.signer(last.actor))!;
      const sig = toBase64url(await signer.sign(signingBytes(fields)));
      const body = { ...fields, sig, seq, version: 1, prev } as BatonEvent;
      body.hash = eventHash(body);
      prev = body.hash;
      rewritten.push(body);
    }
    const forged = await Workspace.open({ store: await storeWith(rewritten) });
    const report = await forged.verify({ from: cp });
    expect(report).toMatchObject({
      ok: false,
      problem: { seq: cp.seq, reason: expect.stringMatching(/rewritten/) },
    });
  });

  it('refuses a checkpoint whose signature does not check out', async () => {
    const w = await world();
    const cp = await w.ws.checkpoint();
    const forged: Checkpoint = { ...cp, seq: cp.seq - 1 };
    expect((await w.ws.verify({ from: forged })).problem?.reason).toMatch(/signature/);
  });

  it('signs only as an owner or a service identity', async () => {
    const w = await world();
    await expect(w.ws.checkpoint({ as: w.drafter.id })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    const svc = await w.me.identities.create({ kind: 'service', name: 'notary' });
    await expect(w.ws.checkpoint({ as: svc.id })).resolves.toMatchObject({ by: svc.id });
  });

  it('keeps a checkpoint every 1,000 events from tick(), and opens from it reading only the events after it', async () => {
    const w = await world();
    const g = await w.me.capabilities.grant({
      to: w.drafter.id,
      resource: 'email:*',
      actions: ['email.send'],
    });
    const exercise = (n: number) =>
      w.ws._commit({
        actor: w.drafter.id,
        plan: () => ({
          drafts: Array.from({ length: n }, (_, i) => ({
            type: 'grant.exercised',
            data: { grant: g.id, action: 'email.send', resource: `email:${i}` },
          })),
        }),
      });
    for (let i = 0; i < 9; i++) await exercise(100);
    await w.ws.tick();
    expect(await w.store.kv.get('baton/checkpoints/latest')).toBeUndefined();
    await exercise(100);
    await w.ws.tick();
    const head = await w.store.head();
    const kept = (await w.store.kv.get('baton/checkpoints/latest')) as unknown as Checkpoint;
    expect(kept).toMatchObject({ seq: head.seq, hash: head.hash, by: w.ada.id });
    expect((await w.ws.verify({ from: kept })).ok).toBe(true);
    await w.agent.authorize('email.send', 'email:last');
    const { store, counts } = countingStore(w.store.peer());
    const ws2 = await Workspace.open({ store, keyring: w.ws.keyring, tickIntervalMs: 0 });
    // The checkpointed event, the bootstrap event (the signer's key) and the one after it.
    expect(counts.events).toBeLessThanOrEqual(3);
    expect(ws2._view.grant(g.id)?.uses).toBe(1_001);
    expect((await ws2.verify()).ok).toBe(true);
  });

  it('falls back to a full verification when the snapshot kept with a checkpoint is gone', async () => {
    const w = await world();
    const cp = await w.ws.checkpoint();
    await w.me.identities.create({ kind: 'agent', name: 'x' });
    const fresh = await Workspace.open({ store: await storeWith(await allEvents(w.store)) });
    expect(await fresh.verify({ from: cp })).toMatchObject({
      ok: true,
      events: (await w.store.head()).seq,
    });
  });
});

describe('export and import', () => {
  it('moves a log to a fresh store unchanged: same head, verify passes, checkpoints stay valid', async () => {
    const w = await noteWorld();
    await write(w, 'n1', 'first body');
    await write(w, 'n2', 'second body');
    const cp = await w.ws.checkpoint();
    const lines: string[] = [];
    for await (const line of w.me.export()) lines.push(line);
    const target = await Workspace.open({
      eventTypes: [noteWritten as never],
      clock: () => w.clock.now,
    });
    const head = await target.import(lines.join('\n'));
    expect(head).toEqual(await w.store.head());
    expect(await target.verify()).toMatchObject({ ok: true, erased: [] });
    expect((await target.verify({ from: cp })).ok).toBe(true);
    const e = (await target.as(w.ada.id).log({ types: ['note.written@1'] })).items[0]!;
    expect(await target.text((e.data as { body: string }).body)).toBe('first body');
  });

  it('imports only into an empty store', async () => {
    const w = await noteWorld();
    const lines: string[] = [];
    for await (const line of w.ws.export()) lines.push(line);
    const before = await w.ws.store.head();
    await expect(w.ws.import(lines)).rejects.toMatchObject({
      code: 'INVALID_STATE',
      message: expect.stringMatching(/holds a workspace already/),
    });
    expect(await w.ws.store.head()).toEqual(before);
  });

  it('refuses a tampered export and writes nothing', async () => {
    const w = await noteWorld();
    await write(w, 'n1', 'body');
    const lines: string[] = [];
    for await (const line of w.ws.export()) lines.push(line);
    const cases = [
      lines.map((l) => l.replace('"name":"drafter"', '"name":"mallory"')),
      lines.map((l) =>
        l.startsWith('{"blob"') ? l.replace(/"data":"[^"]+"/, '"data":"Ym9ndXM"') : l,
      ),
      lines.filter((_, i) => i !== 3),
    ];
    for (const bad of cases) {
      const target = await Workspace.open({
        eventTypes: [noteWritten as never],
        clock: () => w.clock.now,
      });
      await expect(target.import(bad)).rejects.toMatchObject({
        code: expect.stringMatching(/^(INTEGRITY|VALIDATION|FORBIDDEN)$/),
      });
      expect(await target.store.head()).toEqual({ seq: 0, hash: '' });
    }
  });

  it('lets only an identity with admin on the workspace export', async () => {
    const w = await world();
    await expect(async () => {
      for await (const _ of w.agent.export()) break;
    }).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
});

describe('erasure', () => {
  it('removes a secret body for good while the log still verifies', async () => {
    const w = await noteWorld();
    const secret = 'the launch code is 0000';
    const e = await write(w, 'n1', secret);
    const hash = (e.data as { body: string }).body;
    expect(await w.ws.text(hash)).toBe(secret);
    await expect(w.agent.erase(hash, 'leaked')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await w.me.erase(hash, 'leaked by mistake');
    expect(await w.ws.text(hash)).toBe('[erased by Ada: leaked by mistake]');
    expect(await w.store.blobs.get(hash)).toBeUndefined();
    const everything: string[] = [];
    for await (const line of w.ws.export()) everything.push(line);
    everything.push(JSON.stringify((await w.me.log({ limit: 1000 })).items));
    everything.push(JSON.stringify(await rows(w.store, 'erasures')));
    expect(everything.join('\n')).not.toContain(secret);
    expect(everything.join('\n')).not.toContain(toBase64url(new TextEncoder().encode(secret)));
    const report = await w.ws.verify();
    expect(report).toMatchObject({
      ok: true,
      erased: [{ hash, seq: e.seq, by: w.ada.id, reason: 'leaked by mistake' }],
    });
    // The erased log moves like any other.
    const target = await Workspace.open({
      eventTypes: [noteWritten as never],
      clock: () => w.clock.now,
    });
    await target.import(everything.slice(0, -2));
    expect((await target.verify()).erased).toHaveLength(1);
  });

  it('reports a body that vanished without an erasure, at the event that refers to it', async () => {
    const w = await noteWorld();
    const e = await write(w, 'n1', 'body');
    await write(w, 'n2', 'other');
    const events = await allEvents(w.store);
    const copy = await storeWith(events); // bodies not copied
    const report = await (
      await Workspace.open({ store: copy, eventTypes: [noteWritten as never] })
    ).verify();
    expect(report).toMatchObject({
      ok: false,
      problem: { seq: e.seq, reason: expect.stringMatching(/missing/) },
    });
  });
});

describe('schema evolution', () => {
  it('reads and verifies a log written with an old event version under a newer one', async () => {
    const v1 = defineEventType({
      name: 'app.deployed',
      schema: z.object({ env: z.string() }),
      stream: (d) => `deploy/${d.env}`,
    });
    const w = await world({ eventTypes: [v1 as never] });
    await w.me.emit('app.deployed', { env: 'prod' });
    const v2 = defineEventType({
      name: 'app.deployed',
      version: 2,
      schema: z.object({ env: z.string(), region: z.string() }),
      stream: (d) => `deploy/${d.env}`,
      upcast: { 1: (d) => ({ ...(d as object), region: 'eu' }) },
    });
    const ws2 = await Workspace.open({
      store: w.store.peer(),
      keyring: w.ws.keyring,
      eventTypes: [v2 as never],
      clock: () => w.clock.now,
    });
    expect((await ws2.verify()).ok).toBe(true);
    const me2 = ws2.as(w.ada.id);
    const [old] = (await me2.log({ types: ['app.deployed@1'] })).items;
    expect(old).toMatchObject({
      type: 'app.deployed@2',
      data: { env: 'prod', region: 'eu' },
      upcastFrom: 'app.deployed@1',
    });
    const [stored] = (await me2.log({ types: ['app.deployed@1'], raw: true })).items;
    expect(stored).toMatchObject({ type: 'app.deployed@1', data: { env: 'prod' } });
    await me2.emit('app.deployed', { env: 'prod', region: 'us' });
    expect((await ws2.verify()).ok).toBe(true);
    await expect(w.me.emit('app.deployed', { env: 'x' })).resolves.toBeDefined();
    // The older library meets a newer event and says so instead of guessing.
    await expect(w.ws.verify()).resolves.toMatchObject({
      ok: false,
      problem: { reason: expect.stringMatching(/newer than this library/) },
    });
  });

  it('rebuilds every projection from the log to the same rows as the incremental path', async () => {
    const w = await noteWorld();
    const other = await w.me.identities.create({ kind: 'agent', name: 'other' });
    const g = await w.me.capabilities.grant({
      to: other.id,
      resource: 'email:*',
      actions: ['email.send'],
      maxUses: 5,
    });
    await w.ws.as(other.id).authorize('email.send', 'email:1');
    await w.me.capabilities.revoke(g.id);
    await w.me.identities.suspend(other.id);
    const e = await write(w, 'n1', 'secret');
    await w.me.erase((e.data as { body: string }).body, 'test');
    await w.agent.identities.rotateKey();
    const collections = ['meta', 'identities', 'grants', 'streams', 'erasures'];
    const before = await Promise.all(collections.map((c) => rows(w.store, c)));
    // Damage the projections behind core's back, then rebuild.
    await w.store.append({
      events: [],
      expectedHead: await w.store.head(),
      projections: [
        { collection: 'grants', key: g.id, value: null },
        { collection: 'identities', key: 'id_ghost', value: { id: 'id_ghost' } },
        { collection: 'streams', key: 'note/n1', value: { version: 99 } },
      ],
    });
    expect(await Promise.all(collections.map((c) => rows(w.store, c)))).not.toEqual(before);
    await w.ws.rebuildProjections();
    expect(await Promise.all(collections.map((c) => rows(w.store, c)))).toEqual(before);
    const reopened = await w.peer({ eventTypes: [noteWritten as never] });
    expect(reopened._view.grant(g.id)).toEqual(w.ws._view.grant(g.id));
  });
});
