import { MemoryStore, type SignedFields, Workspace } from '@baton/core';
import { describe, expect, it } from 'vitest';
import { signedBy } from './signedBy.js';

/** A workspace where Bob works on an artifact and Mallory holds `comment` on `workspace` only. */
async function team() {
  const clock = { now: Date.parse('2026-11-21T12:00:00.000Z') };
  const store = new MemoryStore();
  const ws = await Workspace.open({ store, clock: () => clock.now });
  const ada = await ws.bootstrap({ name: 'Ada' });
  const owner = ws.as(ada.id);
  const bobId = (await owner.identities.create({ kind: 'agent', name: 'bob' })).id;
  const malloryId = (await owner.identities.create({ kind: 'agent', name: 'mallory' })).id;
  await owner.capabilities.grant({
    to: bobId,
    resource: 'artifact:*',
    actions: ['read', 'create', 'write', 'comment'],
  });
  await owner.capabilities.grant({
    to: malloryId,
    resource: 'workspace',
    actions: ['read', 'comment'],
  });
  const bob = ws.as(bobId);
  const mallory = ws.as(malloryId);
  const doc = await bob.artifacts.create({ kind: 'text', title: 'Plan', content: 'a\n' });
  const note = await bob.context.record({ type: 'learned', about: [doc.id], text: 'b works' });
  const question = await bob.context.record({
    type: 'question',
    about: [doc.id],
    text: 'Ship on Friday?',
  });
  /** Signs `data` as a `context.recorded` event by `actor`, as an outside party would submit it. */
  const signed = async (actor: string, id: string, data: Record<string, unknown>) => {
    const d = await ws.as(actor).can('comment', 'workspace');
    const fields: SignedFields = {
      ws: ws.id!,
      id: `ev_${id}`,
      stream: `context/${id}`,
      type: 'context.recorded@1',
      actor,
      auth: d.allowed ? d.grant.id : '',
      at: new Date(clock.now).toISOString(),
      data: { id, type: 'note', about: [], fields: {}, ...data } as never,
      refs: [],
    };
    return signedBy(ws.keyring, fields);
  };
  return { ws, store, ada, owner, bob, bobId, mallory, malloryId, doc, note, question, signed };
}

async function refusal(p: Promise<unknown>): Promise<{ code?: string; message: string }> {
  return p.then(
    () => ({ message: 'it succeeded' }),
    (err: { code?: string; message: string }) => err,
  );
}

describe('#6 replacing and answering other people’s context entries', () => {
  it('#6 refuses a summary by someone with comment on workspace only that replaces another identity’s entry about an artifact', async () => {
    const w = await team();
    const head = await w.store.head();
    const err = await refusal(
      w.mallory.context.record({ type: 'summary', text: 'nothing to see', replaces: [w.note.id] }),
    );
    expect(err.code).toBe('FORBIDDEN');
    expect(err.message).toContain(`artifact:${w.doc.id}`);
    expect(err.message).toContain('comment');
    expect(await w.store.head()).toEqual(head);
    // The entry still shows.
    const items = (await w.bob.context.query({ about: w.doc.id })).items;
    expect(items.map((e) => e.id)).toContain(w.note.id);
  });

  it('#6 refuses an answer by someone with comment on workspace only to a question about an artifact', async () => {
    const w = await team();
    const head = await w.store.head();
    const err = await refusal(
      w.mallory.context.record({ type: 'answer', answers: w.question.id, text: 'no' }),
    );
    expect(err.code).toBe('FORBIDDEN');
    expect(err.message).toContain(`question ${w.question.id}`);
    expect(await w.store.head()).toEqual(head);
    expect((await w.bob.context.openQuestions(w.doc.id)).map((q) => q.id)).toEqual([w.question.id]);
  });

  it('#6 refuses the same replacement and answer submitted as signed events, writing nothing', async () => {
    const w = await team();
    const head = await w.store.head();
    const replace = await w.signed(w.malloryId, 'ctx_forged_summary', {
      type: 'summary',
      replaces: [w.note.id],
    });
    expect((await refusal(w.ws.submit([replace]))).code).toBe('FORBIDDEN');
    const answer = await w.signed(w.malloryId, 'ctx_forged_answer', {
      type: 'answer',
      answers: w.question.id,
    });
    expect((await refusal(w.ws.submit([answer]))).code).toBe('FORBIDDEN');
    expect(await w.store.head()).toEqual(head);
    expect((await w.bob.context.get(w.question.id)).open).toBe(true);
    expect((await w.bob.context.get(w.note.id)).summarizedBy).toBeUndefined();
  });

  it('#6 refuses replacing another identity’s entry without admin, even with comment on the artifact', async () => {
    const w = await team();
    const carol = (await w.owner.identities.create({ kind: 'agent', name: 'carol' })).id;
    await w.owner.capabilities.grant({
      to: carol,
      resource: `artifact:${w.doc.id}`,
      actions: ['read', 'comment'],
    });
    const head = await w.store.head();
    const err = await refusal(
      w.ws.as(carol).context.record({
        type: 'summary',
        about: [w.doc.id],
        text: 'summary',
        replaces: [w.note.id],
      }),
    );
    expect(err.code).toBe('FORBIDDEN');
    expect(err.message).toMatch(/recorded by bob.*admin/);
    expect(await w.store.head()).toEqual(head);
    // Answering needs comment only: carol may answer bob's question.
    await expect(
      w.ws.as(carol).context.record({
        type: 'answer',
        about: [w.doc.id],
        answers: w.question.id,
        text: 'yes',
      }),
    ).resolves.toMatchObject({ type: 'answer' });
  });

  it('#6 lets an entry’s author replace it, and an admin replace anyone’s', async () => {
    const w = await team();
    const own = await w.bob.context.record({
      type: 'summary',
      about: [w.doc.id],
      text: 'b works, in short',
      replaces: [w.note.id],
    });
    expect(own.replaces).toEqual([w.note.id]);
    const other = await w.mallory.context.record({ type: 'note', text: 'a workspace note' });
    const byOwner = await w.owner.context.record({
      type: 'summary',
      text: 'notes, in short',
      replaces: [other.id],
    });
    expect(byOwner.replaces).toEqual([other.id]);
    expect((await w.ws.verify()).ok).toBe(true);
  });

  it('#6 refuses replacing or answering an entry that does not exist with NOT_FOUND', async () => {
    const w = await team();
    const head = await w.store.head();
    for (const input of [
      { type: 'summary' as const, text: 's', replaces: ['ctx_nope'] },
      { type: 'answer' as const, text: 'a', answers: 'ctx_nope' },
    ]) {
      const err = await refusal(w.bob.context.record({ ...input, about: [w.doc.id] }));
      expect(err.code).toBe('NOT_FOUND');
      expect(err.message).toContain('ctx_nope');
    }
    const forged = await w.signed(w.malloryId, 'ctx_forged', { replaces: ['ctx_nope'] });
    expect((await refusal(w.ws.submit([forged]))).code).toBe('NOT_FOUND');
    expect(await w.store.head()).toEqual(head);
  });

  it('#6 compacts only the entries its actor may replace', async () => {
    const w = await team();
    const carol = (await w.owner.identities.create({ kind: 'agent', name: 'carol' })).id;
    await w.owner.capabilities.grant({
      to: carol,
      resource: `artifact:${w.doc.id}`,
      actions: ['read', 'comment'],
    });
    await w.ws.as(carol).context.record({ type: 'note', about: [w.doc.id], text: 'mine' });
    const seen: string[] = [];
    const summary = await w.ws.as(carol).context.compact({
      about: w.doc.id,
      summarize: (entries) => {
        seen.push(...entries.map((e) => e.text));
        return 'in short';
      },
    });
    expect(seen).toEqual(['mine']);
    expect(summary?.replaces).toHaveLength(1);
  });
});

describe('#15 context bodies', () => {
  it('#15 refuses a submitted entry whose body is not an entry’s words, so no read throws', async () => {
    const w = await team();
    // A stored body that is not JSON words: the text of the artifact's first version.
    const version = (await w.store.get(
      'artifact-versions',
      `${w.doc.id}/${'1'.padStart(10, '0')}`,
    )) as { snapshot: string };
    const body = version.snapshot;
    const head = await w.store.head();
    const forged = await w.signed(w.malloryId, 'ctx_bad_body', { body });
    const err = await refusal(w.ws.submit([forged]));
    expect(err.code).toBe('VALIDATION');
    expect(await w.store.head()).toEqual(head);
    await expect(w.mallory.context.query({})).resolves.toBeDefined();
  });

  it('#15 refuses a submitted entry whose body is not stored', async () => {
    const w = await team();
    const forged = await w.signed(w.malloryId, 'ctx_no_body', {
      body: 'A'.repeat(43),
    });
    expect((await refusal(w.ws.submit([forged]))).code).toBe('NOT_FOUND');
  });
});
