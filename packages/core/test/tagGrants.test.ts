import { describe, expect, it } from 'vitest';
import { snapshotOf, type ViewSnapshot, viewFromSnapshot } from '../src/auth/view.js';
import {
  type Checkpoint,
  canonicalJson,
  coversResource,
  type MemoryStore,
  rootGrantId,
  type SignedEvent,
  type SignedFields,
  sha256b64,
  signingBytes,
  toBase64url,
  Workspace,
} from '../src/index.js';
import { checkpointText } from '../src/log/checkpoint.js';
import { world } from './world.js';

/** Ada's workspace with a tagged and an untagged artifact, and a grant on the tag alone. */
async function tagged() {
  const w = await world();
  const launch = await w.me.artifacts.create({
    kind: 'text',
    title: 'Launch post',
    content: 'a\n',
    tags: ['launch'],
  });
  const other = await w.me.artifacts.create({ kind: 'text', title: 'Payroll', content: 'b\n' });
  const grant = await w.me.capabilities.grant({
    to: w.drafter.id,
    resource: 'artifact:tag/launch',
    actions: ['read', 'write', 'grant'],
    depth: 1,
  });
  return { ...w, launch, other, grant };
}

describe('artifact:tag/<tag> grants', () => {
  it('cover the artifacts made with the tag, and no others', async () => {
    const w = await tagged();
    expect(await w.agent.can('write', `artifact:${w.launch.id}`)).toMatchObject({ allowed: true });
    const refused = await w.agent.can('write', `artifact:${w.other.id}`);
    expect(refused).toMatchObject({ allowed: false });
    const edited = await w.agent.artifacts.edit(w.launch.id, {
      content: 'a!\n',
      baseVersion: 1,
      reason: 'louder',
    });
    expect(edited.version).toBe(2);
    await expect(
      w.agent.artifacts.edit(w.other.id, { content: 'c\n', baseVersion: 1, reason: 'x' }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(w.agent.artifacts.get(w.other.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await w.agent.artifacts.list()).items.map((a) => a.id)).toEqual([w.launch.id]);
    // An artifact made later with the tag is covered too.
    const later = await w.me.artifacts.create({
      kind: 'text',
      title: 'Launch FAQ',
      content: 'q\n',
      tags: ['press', 'launch'],
    });
    expect(await w.agent.can('read', `artifact:${later.id}`)).toMatchObject({ allowed: true });
    // A pattern is not an artifact: the tag grant does not cover other patterns.
    expect(await w.agent.can('read', 'artifact:*')).toMatchObject({ allowed: false });
  });

  it('decide the same in an instance opened later and in one that catches up', async () => {
    const w = await tagged();
    const before = await w.peer(); // opened now, will catch up on what follows
    const late = await w.me.artifacts.create({
      kind: 'text',
      title: 'Launch FAQ',
      content: 'q\n',
      tags: ['launch'],
    });
    const after = await w.peer(); // loads the tags from the projections
    for (const ws of [before, after]) {
      const agent = ws.as(w.drafter.id);
      for (const [id, allowed] of [
        [w.launch.id, true],
        [late.id, true],
        [w.other.id, false],
      ] as const) {
        expect((await agent.can('write', `artifact:${id}`)).allowed).toBe(allowed);
      }
    }
  });

  it('let the holder delegate a tagged artifact, never an untagged one', async () => {
    const w = await tagged();
    const helper = await w.me.identities.create({ kind: 'agent', name: 'helper' });
    const sub = await w.agent.capabilities.grant({
      to: helper.id,
      resource: `artifact:${w.launch.id}`,
      actions: ['read'],
    });
    expect(sub.parent).toBe(w.grant.id);
    await expect(
      w.agent.capabilities.grant({
        to: helper.id,
        resource: `artifact:${w.other.id}`,
        actions: ['read'],
      }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect((await w.ws.as(helper.id).can('read', `artifact:${w.launch.id}`)).allowed).toBe(true);
  });

  it('keep `artifact:tag/*` a prefix pattern over tag patterns, and never match pattern-like ids', () => {
    const tagsOf = (id: string) => (id === 'a1' ? ['launch', '*'] : undefined);
    expect(coversResource('artifact:tag/*', 'artifact:tag/launch', tagsOf)).toBe(true);
    expect(coversResource('artifact:tag/*', 'artifact:a1', tagsOf)).toBe(false);
    expect(coversResource('artifact:tag/launch', 'artifact:a1', tagsOf)).toBe(true);
    expect(coversResource('artifact:tag/launch', 'artifact:a2', tagsOf)).toBe(false);
    expect(coversResource('artifact:tag/launch', 'artifact:*', tagsOf)).toBe(false);
    expect(coversResource('artifact:tag/launch', 'artifact:tag/x', tagsOf)).toBe(false);
  });

  it('verify, in full and from a checkpoint whose snapshot holds the tags', async () => {
    const w = await tagged();
    const cp = await w.ws.checkpoint();
    await w.agent.artifacts.edit(w.launch.id, { content: 'z\n', baseVersion: 1, reason: 'r' });
    expect((await w.ws.verify()).ok).toBe(true);
    const report = await w.ws.verify({ from: cp });
    expect(report).toMatchObject({ ok: true, from: cp.seq, events: 1 });
  });
});

/** A snapshot kept with the newest checkpoint, as the store holds it. */
async function keptSnapshot(store: MemoryStore): Promise<ViewSnapshot> {
  const cp = (await store.kv.get('baton/checkpoints/latest')) as { seq: number };
  const key = `baton/checkpoints/${String(cp.seq).padStart(12, '0')}`;
  return JSON.parse((await store.kv.get(key)) as string) as ViewSnapshot;
}

/** The tagged world, plus an artifact tagged `press` (no grant names it yet) and a checkpoint. */
async function checkpointed() {
  const w = await tagged();
  const press = await w.me.artifacts.create({
    kind: 'text',
    title: 'Press kit',
    content: 'p\n',
    tags: ['press'],
  });
  const cp = await w.ws.checkpoint();
  return { ...w, press, cp };
}

describe('artifact:tag/<tag> grants from a checkpoint', () => {
  it('keep in the checkpoint snapshot no tagged artifact: the tags grants name, unloaded, and a count of every tag', async () => {
    const w = await checkpointed();
    const snap = await keptSnapshot(w.store);
    expect(snap.tags).toBeUndefined();
    expect(snap.unloadedTags).toEqual(['launch']);
    expect(Object.fromEntries(snap.tagCounts ?? [])).toEqual({ launch: 1, press: 1 });
    // The process's own view, too, holds only the named tags.
    expect([...w.ws._view.tags.keys()]).toEqual([w.launch.id]);
  });

  it('decide the same in an instance opened from the checkpoint', async () => {
    const w = await checkpointed();
    const ws = await w.peer();
    const agent = ws.as(w.drafter.id);
    for (const [id, allowed] of [
      [w.launch.id, true],
      [w.press.id, false],
      [w.other.id, false],
    ] as const) {
      expect((await agent.can('write', `artifact:${id}`)).allowed).toBe(allowed);
    }
    expect((await agent.artifacts.list()).items.map((a) => a.id)).toEqual([w.launch.id]);
    expect([...ws._view.tags.keys()]).toEqual([w.launch.id]);
  });

  it('cover the artifacts made before the checkpoint when a grant names their tag later, here and in an instance catching up', async () => {
    const w = await checkpointed();
    const here = await w.peer(); // opened from the checkpoint; it issues the grant
    const there = await w.peer(); // opened from the checkpoint; it catches up on the grant
    await here.as(w.ada.id).capabilities.grant({
      to: w.drafter.id,
      resource: 'artifact:tag/press',
      actions: ['read', 'write'],
    });
    const after = await w.peer(); // opened from the checkpoint, replays the grant
    for (const ws of [here, there, after, w.ws]) {
      const agent = ws.as(w.drafter.id);
      expect((await agent.can('write', `artifact:${w.press.id}`)).allowed).toBe(true);
      expect((await agent.can('write', `artifact:${w.other.id}`)).allowed).toBe(false);
      expect((await agent.artifacts.list()).items.map((a) => a.id).sort()).toEqual(
        [w.launch.id, w.press.id].sort(),
      );
    }
    // The holder uses it; the log verifies in full and from the checkpoint.
    await there
      .as(w.drafter.id)
      .artifacts.edit(w.press.id, { content: 'p2\n', baseVersion: 1, reason: 'update' });
    expect((await w.ws.verify()).ok).toBe(true);
    expect(await w.ws.verify({ from: w.cp })).toMatchObject({ ok: true, from: w.cp.seq });
    // A newer checkpoint names the newly named tag, and holds the artifacts of neither.
    await here.checkpoint();
    const newer = await keptSnapshot(w.store);
    expect(newer.tags).toBeUndefined();
    expect(newer.unloadedTags).toEqual(['launch', 'press']);
  });

  it('authorize nothing more or less when the store’s rows were edited without keys', async () => {
    const w = await checkpointed();
    // Someone who can write the store hides the press kit's row and gives the untagged
    // artifact a forged row that claims the tag.
    const payroll = (await w.store.get('artifacts', w.other.id)) as Record<string, unknown>;
    await w.store.append({
      events: [],
      expectedHead: await w.store.head(),
      projections: [
        { collection: 'artifacts', key: w.press.id, value: null },
        {
          collection: 'artifacts',
          key: w.other.id,
          value: { ...payroll, tags: ['press'] },
          indexes: { tag: ['press'] },
        },
      ],
    });
    const ws = await w.peer();
    await ws.as(w.ada.id).capabilities.grant({
      to: w.drafter.id,
      resource: 'artifact:tag/press',
      actions: ['write'],
    });
    const agent = ws.as(w.drafter.id);
    expect((await agent.can('write', `artifact:${w.press.id}`)).allowed).toBe(true);
    expect((await agent.can('write', `artifact:${w.other.id}`)).allowed).toBe(false);
    // A forged snapshot changes nothing either: it no longer matches the checkpoint's digest.
    const cp = (await w.store.kv.get('baton/checkpoints/latest')) as { seq: number };
    const key = `baton/checkpoints/${String(cp.seq).padStart(12, '0')}`;
    const snap = await keptSnapshot(w.store);
    await w.store.kv.put(
      key,
      JSON.stringify({ ...snap, tags: [...(snap.tags ?? []), [w.other.id, ['launch']]] }),
    );
    const forged = (await w.peer()).as(w.drafter.id);
    expect((await forged.can('write', `artifact:${w.other.id}`)).allowed).toBe(false);
    expect((await forged.can('write', `artifact:${w.launch.id}`)).allowed).toBe(true);
  });

  it('open from a snapshot made before the view kept only named tags', async () => {
    const w = await checkpointed();
    const now = snapshotOf(w.ws._view);
    // The old shape: every tagged artifact's tags, no counts.
    const old: ViewSnapshot = {
      ...now,
      tags: [
        [w.launch.id, ['launch']],
        [w.press.id, ['press']],
      ],
    };
    delete old.tagCounts;
    const view = viewFromSnapshot(old);
    expect([...view.tags]).toEqual([[w.launch.id, ['launch']]]);
    expect(Object.fromEntries(view.tagCounts)).toEqual({ launch: 1, press: 1 });
  });
});

describe('opening from a checkpoint', () => {
  /** A workspace of `n` artifacts tagged from a small vocabulary, one tag grant, a checkpoint. */
  async function history(n: number) {
    const w = await world();
    await w.me.capabilities.grant({
      to: w.drafter.id,
      resource: 'artifact:tag/t0',
      actions: ['read'],
    });
    for (let i = 0; i < n; i++) {
      await w.me.artifacts.create({
        kind: 'text',
        title: `doc ${i}`,
        content: `${i}\n`,
        tags: [`t${1 + (i % 3)}`],
      });
    }
    await w.ws.checkpoint();
    const { countingStore } = await import('./countingStore.js');
    const counted = countingStore(w.store.peer());
    await Workspace.open({ store: counted.store, keyring: w.ws.keyring, tickIntervalMs: 0 });
    return { snapshot: JSON.stringify(await keptSnapshot(w.store)), reads: { ...counted.counts } };
  }

  it('reads as much after 60 tagged artifacts as after 6, when no grant names their tags', async () => {
    const small = await history(6);
    const large = await history(60);
    expect(large.reads).toEqual(small.reads);
    // Only numbers grow, by their digits (the per-tag counts, seqs).
    expect(large.snapshot.length - small.snapshot.length).toBeLessThanOrEqual(8);
  });
});

describe('opening from a checkpoint with a tag grant', () => {
  /** `n` artifacts tagged `t0`, which a grant of the drafter names, then a checkpoint. */
  async function named(n: number) {
    const w = await world();
    const grant = await w.me.capabilities.grant({
      to: w.drafter.id,
      resource: 'artifact:tag/t0',
      actions: ['read', 'write'],
    });
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const a = await w.me.artifacts.create({
        kind: 'text',
        title: `doc ${i}`,
        content: `${i}\n`,
        tags: ['t0'],
      });
      ids.push(a.id);
    }
    const other = await w.me.artifacts.create({ kind: 'text', title: 'other', content: 'o\n' });
    await w.ws.checkpoint();
    const { countingStore } = await import('./countingStore.js');
    const counted = countingStore(w.store.peer());
    const ws = await Workspace.open({
      store: counted.store,
      keyring: w.ws.keyring,
      tickIntervalMs: 0,
    });
    await ws.head();
    return { ...w, grant, ids, other, counted, opened: ws, atOpen: { ...counted.counts } };
  }

  it('reads as much after 60 artifacts with a tag a grant names as after 6, and holds none of them', async () => {
    const small = await named(6);
    const large = await named(60);
    expect(large.atOpen).toEqual(small.atOpen);
    expect(large.opened._view.tags.size).toBe(0);
    expect([...large.opened._view.unloadedTags]).toEqual(['t0']);
    expect((await keptSnapshot(large.store)).tags).toBeUndefined();
  });

  it('loads the tag’s artifacts on the first call of the grant’s holder, not on the owner’s reads', async () => {
    const w = await named(6);
    const owner = w.opened.as(w.ada.id);
    expect((await owner.artifacts.get(w.ids[0]!)).id).toBe(w.ids[0]);
    expect(w.opened._view.unloadedTags.has('t0')).toBe(true);
    // Before the holder's first call, canNow does not see the tag's artifacts …
    const agent = w.opened.as(w.drafter.id);
    expect(agent.canNow('write', `artifact:${w.ids[1]}`).allowed).toBe(false);
    // … its first call loads them, each checked against its signed event.
    expect((await agent.can('write', `artifact:${w.ids[1]}`)).allowed).toBe(true);
    expect(w.opened._view.unloadedTags.size).toBe(0);
    expect(agent.canNow('write', `artifact:${w.ids[2]}`).allowed).toBe(true);
    expect(agent.canNow('write', `artifact:${w.other.id}`).allowed).toBe(false);
    expect((await agent.artifacts.list()).items.map((a) => a.id).sort()).toEqual([...w.ids].sort());
  });

  it('loads them on the first call of a delegate whose grant the tag grant’s holder issued', async () => {
    const w = await named(2);
    const helper = await w.me.identities.create({ kind: 'agent', name: 'helper' });
    // Issued in an instance that loaded the tag; decided in one opened from the checkpoint.
    const here = await w.peer({ tickIntervalMs: 0 });
    await here.as(w.ada.id).capabilities.grant({
      to: w.drafter.id,
      resource: 'artifact:tag/t0',
      actions: ['read', 'grant'],
    });
    const sub = await here.as(w.drafter.id).capabilities.grant({
      to: helper.id,
      resource: `artifact:${w.ids[1]}`,
      actions: ['read'],
    });
    expect(sub.parent).toBeDefined();
    await w.ws.checkpoint();
    const later = await w.peer({ tickIntervalMs: 0 });
    expect([...later._view.unloadedTags]).toEqual(['t0']);
    expect(later._view.tagsNeededBy(helper.id)).toEqual(['t0']);
    expect(later._view.tagsNeededBy(w.ada.id)).toEqual([]);
    const d = await later.as(helper.id).can('read', `artifact:${w.ids[1]}`);
    expect(d.allowed).toBe(true);
    expect((await later.as(helper.id).can('read', `artifact:${w.ids[0]}`)).allowed).toBe(false);
  });

  it('loads none for a write that decides for no holder of a tag grant', async () => {
    const w = await named(3);
    const owner = w.opened.as(w.ada.id);
    const a = await owner.artifacts.get(w.ids[0]!);
    await owner.artifacts.edit(a.id, { content: 'y\n', baseVersion: a.version, reason: 'r' });
    await owner.context.record({ type: 'note', about: [a.id], text: 'noted' });
    expect([...w.opened._view.unloadedTags]).toEqual(['t0']);
    // The holder's own write loads its tag first.
    const agent = w.opened.as(w.drafter.id);
    const b = await agent.artifacts.edit(w.ids[1]!, {
      content: 'z\n',
      baseVersion: 1,
      reason: 'r',
    });
    expect(b.version).toBe(2);
    expect(w.opened._view.unloadedTags.size).toBe(0);
  });

  it('loads them for `can({ for })`, for a watch of the holder, and for a write that decides for the holder', async () => {
    const w = await named(3);
    const owner = w.opened.as(w.ada.id);
    const d = await owner.can('write', `artifact:${w.ids[0]}`, { for: w.drafter.id });
    expect(d.allowed).toBe(true);

    const watched = await w.peer({ tickIntervalMs: 0 });
    const seen: string[] = [];
    const controller = new AbortController();
    const stop = watched
      .as(w.drafter.id)
      .subscribe({ after: 0, types: ['artifact.created'], signal: controller.signal }, (e) => {
        seen.push((e.data as { id: string }).id);
      });
    await expect.poll(() => seen.length).toBe(3);
    expect(seen.sort()).toEqual([...w.ids].sort());
    stop();

    // A write by the owner that decides for the holder: a handoff of a tagged artifact to it.
    const writer = await w.peer({ tickIntervalMs: 0 });
    const h = await writer
      .as(w.ada.id)
      .handoffs.offer({ to: w.drafter.id, artifacts: [w.ids[0]!], note: 'yours' });
    expect(h.id).toBeDefined();
    expect(writer._view.unloadedTags.size).toBe(0);
  });

  it('replays, in an instance that has not loaded the tag, the holder’s edits another instance made', async () => {
    const w = await named(3);
    // The owner's instance opened from the checkpoint; the holder edits through another.
    const holder = (await w.peer({ tickIntervalMs: 0 })).as(w.drafter.id);
    await holder.artifacts.edit(w.ids[0]!, { content: 'x\n', baseVersion: 1, reason: 'edit' });
    expect(w.opened._view.unloadedTags.has('t0')).toBe(true);
    // Catching up on the edit needs the tag's artifacts: they are loaded, and the edit applies.
    const owner = w.opened.as(w.ada.id);
    expect((await owner.artifacts.get(w.ids[0]!)).content).toBe('x\n');
    expect(w.opened._view.unloadedTags.size).toBe(0);
    // verify() from the checkpoint loads them too.
    const cp = (await w.store.kv.get('baton/checkpoints/latest')) as unknown as Checkpoint;
    expect(await w.opened.verify({ from: cp })).toMatchObject({ ok: true, events: 1 });
  });

  it('refuses, loading a tag, an artifact whose signed event the rows point to but which lacks the tag', async () => {
    const w = await named(2);
    // Someone who can write the store gives the untagged artifact a row claiming the tag, and
    // hides a tagged one's row: the load finds the counts do not add up in the rows, reads
    // the signed log instead, and authorizes exactly what it says.
    const row = (await w.store.get('artifacts', w.other.id)) as Record<string, unknown>;
    await w.store.append({
      events: [],
      expectedHead: await w.store.head(),
      projections: [
        { collection: 'artifacts', key: w.ids[0]!, value: null },
        {
          collection: 'artifacts',
          key: w.other.id,
          value: { ...row, tags: ['t0'] },
          indexes: { tag: ['t0'] },
        },
      ],
    });
    const agent = w.opened.as(w.drafter.id);
    expect((await agent.can('write', `artifact:${w.ids[0]}`)).allowed).toBe(true);
    expect((await agent.can('write', `artifact:${w.other.id}`)).allowed).toBe(false);
  });
});

describe('artifact:tag/<tag> grants in one submitted batch', () => {
  it('authorize a use right after the grant that first names the tag, in an instance opened from a checkpoint', async () => {
    const w = await checkpointed();
    const ws = await w.peer();
    const sign = async (fields: Omit<SignedFields, 'ws'>): Promise<SignedEvent> => {
      const full = { ws: ws.id!, ...fields } as SignedFields;
      const signer = (await ws.keyring.signer(fields.actor))!;
      return { ...full, sig: toBase64url(await signer.sign(signingBytes(full))) };
    };
    const grant = 'gr_press_review';
    const issued = await sign({
      id: 'ev_grant_press',
      stream: `grant/${grant}`,
      type: 'grant.issued@1',
      actor: w.ada.id,
      auth: rootGrantId(w.ada.id),
      at: w.iso(0),
      data: {
        id: grant,
        audience: w.drafter.id,
        resource: 'artifact:tag/press',
        actions: ['review'],
        constraints: {},
      },
      refs: [w.drafter.id],
    });
    const use = (id: string, artifact: string) =>
      sign({
        id,
        stream: `grant/${grant}`,
        type: 'grant.exercised@1',
        actor: w.drafter.id,
        auth: grant,
        at: w.iso(0),
        data: { grant, action: 'review', resource: `artifact:${artifact}` },
        refs: [`artifact:${artifact}`],
      });
    const committed = await ws.submit([issued, await use('ev_review_press', w.press.id)]);
    expect(committed.map((e) => e.seq)).toHaveLength(2);
    await expect(ws.submit([await use('ev_review_other', w.other.id)])).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    expect(await w.ws.verify({ from: w.cp })).toMatchObject({ ok: true });
  });
});

describe('a checkpoint made before the view kept only named tags', () => {
  it('is opened from, authorizes the same, and is replaced by the first tick’s checkpoint', async () => {
    const w = await checkpointed();
    // Rewrite the kept checkpoint as an older library made it: every artifact's tags, no counts.
    const latest = (await w.store.kv.get('baton/checkpoints/latest')) as unknown as Checkpoint;
    const { tagCounts: _, ...now } = await keptSnapshot(w.store);
    const old = canonicalJson({
      ...now,
      tags: [
        [w.launch.id, ['launch']],
        [w.press.id, ['press']],
      ].sort((a, b) => (a[0]! < b[0]! ? -1 : 1)),
    } as never);
    const { sig: __, ...body } = { ...latest, view: sha256b64(old) };
    const signer = (await w.ws.keyring.signer(w.ada.id))!;
    const sig = toBase64url(await signer.sign(new TextEncoder().encode(checkpointText(body))));
    await w.store.kv.put(`baton/checkpoints/${String(latest.seq).padStart(12, '0')}`, old);
    await w.store.kv.put('baton/checkpoints/latest', { ...body, sig } as never);
    for (let i = 0; i < 3; i++) {
      await w.me.artifacts.create({ kind: 'text', title: `n${i}`, content: 'n\n' });
    }
    const ws = await w.peer({ tickIntervalMs: 60_000 });
    expect((await ws.as(w.drafter.id).can('write', `artifact:${w.launch.id}`)).allowed).toBe(true);
    expect((await ws.as(w.drafter.id).can('write', `artifact:${w.press.id}`)).allowed).toBe(false);
    // The tick on open replaced it, though far fewer than CHECKPOINT_EVERY events followed it.
    const snap = await keptSnapshot(w.store);
    expect(snap.seq).toBeGreaterThan(latest.seq);
    expect(snap.tagCounts).toBeDefined();
    expect(snap.tags).toBeUndefined();
    expect(snap.unloadedTags).toEqual(['launch']);
    await ws.close();
  });
});
