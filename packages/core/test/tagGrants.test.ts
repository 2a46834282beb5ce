import { describe, expect, it } from 'vitest';
import { coversResource } from '../src/index.js';
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
