import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MergeConflictError, SNAPSHOT_EVERY } from '../src/index.js';
import { world } from './world.js';

async function artWorld(options = {}) {
  const w = await world(options);
  await w.me.capabilities.grant({
    to: w.drafter.id,
    resource: 'artifact:*',
    actions: ['read', 'create', 'write'],
  });
  return w;
}

describe('artifacts', () => {
  it('creates, edits with reasons, and reads every version back', async () => {
    const w = await artWorld();
    const doc = await w.agent.artifacts.create({
      kind: 'text',
      title: 'Launch post',
      content: 'v1\n',
      tags: ['draft'],
      reason: 'first draft',
    });
    expect(doc).toMatchObject({
      version: 1,
      head: 1,
      content: 'v1\n',
      createdBy: w.drafter.id,
      tags: ['draft'],
    });
    const written = ['v1\n'];
    let head = doc.version;
    for (let i = 2; i <= SNAPSHOT_EVERY * 2 + 3; i++) {
      const text = `${written.at(-1)}line ${i}\n`;
      const next = await w.agent.artifacts.edit(doc.id, {
        content: text,
        baseVersion: head,
        reason: `add line ${i}`,
      });
      written.push(text);
      head = next.version;
    }
    for (let v = 1; v <= written.length; v++) {
      expect((await w.agent.artifacts.get(doc.id, { version: v })).content).toBe(written[v - 1]);
    }
    const history = await w.agent.artifacts.history(doc.id, { limit: 5 });
    expect(history.items.map((h) => h.reason)).toEqual([
      'first draft',
      'add line 2',
      'add line 3',
      'add line 4',
      'add line 5',
    ]);
    expect(history.next).toBeDefined();
    expect(await w.agent.artifacts.diff(doc.id, 1, 2)).toMatch(/\+line 2/);
    expect((await w.ws.verify()).ok).toBe(true);
  });

  it('merges an edit made from an old version with the changes since, and records mergedFrom', async () => {
    const w = await artWorld();
    const doc = await w.agent.artifacts.create({
      kind: 'text',
      title: 'T',
      content: 'a\nb\nc\nd\ne\n',
    });
    await w.me.artifacts.edit(doc.id, {
      content: 'A\nb\nc\nd\ne\n',
      baseVersion: 1,
      reason: 'capitalise a',
    });
    const merged = await w.agent.artifacts.edit(doc.id, {
      content: 'a\nb\nc\nd\nE\n',
      baseVersion: 1,
      reason: 'capitalise e',
    });
    expect(merged.content).toBe('A\nb\nc\nd\nE\n');
    expect((await w.agent.artifacts.history(doc.id)).items.at(-1)).toMatchObject({
      version: 3,
      baseVersion: 1,
      mergedFrom: 2,
    });
    // A merged edit saw only its base: the version it merged over is still news to its author.
    expect(await w.agent.artifacts.seen(doc.id)).toBe(1);
    expect((await w.agent.artifacts.changesSince(doc.id)).map((c) => c.version)).toEqual([2]);
  });

  it('raises a conflict with base, theirs, yours and the regions, writing nothing', async () => {
    const w = await artWorld();
    const doc = await w.agent.artifacts.create({ kind: 'text', title: 'T', content: 'a\nb\nc\n' });
    await w.me.artifacts.edit(doc.id, {
      content: 'a\nB by ada\nc\n',
      baseVersion: 1,
      reason: 'ada',
    });
    const head = await w.store.head();
    const err = await w.agent.artifacts
      .edit(doc.id, { content: 'a\nB by drafter\nc\n', baseVersion: 1, reason: 'drafter' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MergeConflictError);
    expect(err).toMatchObject({
      code: 'MERGE_CONFLICT',
      base: 'a\nb\nc\n',
      theirs: 'a\nB by ada\nc\n',
      yours: 'a\nB by drafter\nc\n',
      theirsVersion: 2,
      regions: [{ at: 1, base: 'b', theirs: 'B by ada', yours: 'B by drafter' }],
    });
    expect(await w.store.head()).toEqual(head);
  });

  it('merges json edits to different fields and conflicts on the same field', async () => {
    const w = await artWorld({
      schemas: {
        plan: z.object({
          title: z.string(),
          steps: z.array(z.string()),
          owner: z.string().optional(),
        }),
      },
    });
    const doc = await w.agent.artifacts.create({
      kind: 'json',
      title: 'Plan',
      schema: 'plan',
      content: { title: 'x', steps: ['a'] },
    });
    await w.me.artifacts.edit(doc.id, {
      patch: [{ op: 'replace', path: '/title', value: 'y' }],
      baseVersion: 1,
      reason: 'rename',
    });
    const m = await w.agent.artifacts.edit(doc.id, {
      content: { title: 'x', steps: ['a', 'b'] },
      baseVersion: 1,
      reason: 'add a step',
    });
    expect(m.content).toEqual({ title: 'y', steps: ['a', 'b'] });
    await w.me.artifacts.edit(doc.id, {
      patch: [{ op: 'replace', path: '/title', value: 'w' }],
      baseVersion: 3,
      reason: 'ada renames',
    });
    await expect(
      w.agent.artifacts.edit(doc.id, {
        content: { title: 'z', steps: ['a', 'b'] },
        baseVersion: 3,
        reason: 'clash',
      }),
    ).rejects.toMatchObject({
      code: 'MERGE_CONFLICT',
      regions: [{ at: '/title', theirs: '"w"', yours: '"z"' }],
    });
    await expect(
      w.agent.artifacts.edit(doc.id, {
        content: { title: 1 } as never,
        baseVersion: 4,
        reason: 'bad',
      }),
    ).rejects.toMatchObject({ code: 'VALIDATION' });
  });

  it('lists changes since the reader last looked: others’ versions with authors, reasons and diffs', async () => {
    const w = await artWorld();
    const bob = await w.me.identities.create({ kind: 'agent', name: 'bob' });
    await w.me.capabilities.grant({
      to: bob.id,
      resource: 'artifact:*',
      actions: ['read', 'write'],
    });
    const b = w.ws.as(bob.id);
    const doc = await w.agent.artifacts.create({ kind: 'text', title: 'T', content: 'one\n' });
    let v = 1;
    const edit = async (who: typeof b, text: string, reason: string) => {
      v = (await who.artifacts.edit(doc.id, { content: text, baseVersion: v, reason })).version;
    };
    await edit(w.me, 'one\ntwo\n', 'ada adds two');
    await edit(b, 'one\ntwo\nthree\n', 'bob adds three');
    await edit(w.agent, 'ONE\ntwo\nthree\n', 'drafter shouts');
    await edit(w.me, 'ONE\ntwo\nthree\nfour\n', 'ada adds four');
    const changes = await w.agent.artifacts.changesSince(doc.id);
    expect(changes.map((c) => [c.version, c.authorName, c.reason])).toEqual([
      [5, 'Ada', 'ada adds four'],
    ]);
    const bobs = await b.artifacts.changesSince(doc.id);
    expect(bobs.map((c) => [c.version, c.authorName, c.reason])).toEqual([
      [4, 'drafter', 'drafter shouts'],
      [5, 'Ada', 'ada adds four'],
    ]);
    expect(bobs[0]!.diff).toMatch(/-one\n\+ONE/);
    await b.artifacts.markSeen(doc.id);
    expect(await b.artifacts.changesSince(doc.id)).toEqual([]);
    const fresh = await w.me.identities.create({ kind: 'human', name: 'Cy' });
    await w.me.capabilities.grant({ to: fresh.id, resource: 'artifact:*', actions: ['read'] });
    expect((await w.ws.as(fresh.id).artifacts.changesSince(doc.id)).map((c) => c.version)).toEqual([
      1, 2, 3, 4, 5,
    ]);
  });

  it('shows who holds the baton until the hold expires', async () => {
    const w = await artWorld();
    const doc = await w.agent.artifacts.create({ kind: 'text', title: 'T', content: 'x' });
    expect((await w.agent.artifacts.claim(doc.id, { ttl: 60_000 })).holder).toMatchObject({
      id: w.drafter.id,
    });
    await expect(w.me.artifacts.claim(doc.id, { ttl: 60_000 })).rejects.toMatchObject({
      code: 'INVALID_STATE',
    });
    expect((await w.me.artifacts.list({ holder: w.drafter.id })).items.map((a) => a.id)).toEqual([
      doc.id,
    ]);
    w.tick(61_000);
    expect((await w.me.artifacts.get(doc.id)).holder).toBeUndefined();
    await w.me.artifacts.claim(doc.id, { ttl: 60_000 });
    await expect(w.agent.artifacts.release(doc.id)).rejects.toMatchObject({
      code: 'INVALID_STATE',
    });
    expect((await w.me.artifacts.release(doc.id)).holder).toBeUndefined();
  });

  it('hides artifacts from an identity without read, and refuses its writes', async () => {
    const w = await artWorld();
    const doc = await w.me.artifacts.create({
      kind: 'text',
      title: 'Secret',
      content: 's',
      tags: ['x'],
    });
    const other = await w.me.identities.create({ kind: 'agent', name: 'other' });
    const o = w.ws.as(other.id);
    await expect(o.artifacts.get(doc.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await o.artifacts.list()).items).toEqual([]);
    expect((await o.artifacts.list({ tag: 'x' })).items).toEqual([]);
    const head = await w.store.head();
    await expect(
      o.artifacts.edit(doc.id, { content: 'mine', baseVersion: 1, reason: 'r' }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(
      o.artifacts.create({ kind: 'text', title: 'T', content: '' }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await w.store.head()).toEqual(head);
  });

  it('archives: still readable, no longer editable', async () => {
    const w = await artWorld();
    const doc = await w.agent.artifacts.create({ kind: 'text', title: 'T', content: 'x' });
    await w.agent.artifacts.archive(doc.id, { reason: 'done' });
    expect((await w.agent.artifacts.get(doc.id)).archived).toBe(true);
    await expect(
      w.agent.artifacts.edit(doc.id, { content: 'y', baseVersion: 1, reason: 'r' }),
    ).rejects.toMatchObject({ code: 'INVALID_STATE' });
    expect((await w.agent.artifacts.list()).items).toEqual([]);
    expect((await w.agent.artifacts.list({ includeArchived: true })).items).toHaveLength(1);
  });

  it('rebuilds artifact projections to the same rows', async () => {
    const w = await artWorld();
    const doc = await w.agent.artifacts.create({ kind: 'text', title: 'T', content: 'a\n' });
    await w.me.artifacts.edit(doc.id, { content: 'a\nb\n', baseVersion: 1, reason: 'r' });
    await w.agent.artifacts.edit(doc.id, { content: 'z\na\n', baseVersion: 1, reason: 'merge' });
    await w.agent.artifacts.claim(doc.id, { ttl: 10_000 });
    const { PRIMARY_INDEX } = await import('../src/index.js');
    const snap = async () =>
      Promise.all(
        ['artifacts', 'artifact-versions', 'seen'].map(
          async (c) => (await w.store.query(c, PRIMARY_INDEX, {}, { limit: 1000 })).items,
        ),
      );
    const before = await snap();
    await w.ws.rebuildProjections();
    expect(await snap()).toEqual(before);
  });
});
