import { type BatonEvent, eventHash, MemoryStore, type SignedFields, Workspace } from '@baton/core';
import { describe, expect, it } from 'vitest';
import { signedBy } from './signedBy.js';

const SECRET = 'the-launch-code-is-4711';

/**
 * Ada (owner) writes an artifact whose changes and context carry a secret; W may only hand it
 * off (`handoff` on it, nothing else); Bob and Cy start with no grants at all.
 */
async function story() {
  const store = new MemoryStore();
  const ws = await Workspace.open({ store, tickIntervalMs: 0 });
  const ada = await ws.bootstrap({ name: 'Ada' });
  const me = ws.as(ada.id);
  const w = await me.identities.create({ kind: 'agent', name: 'W' });
  const bob = await me.identities.create({ kind: 'human', name: 'Bob' });
  const cy = await me.identities.create({ kind: 'human', name: 'Cy' });
  let doc = await me.artifacts.create({
    kind: 'text',
    title: 'Launch plan',
    content: 'Launch plan\n\nTBD\n',
    reason: 'start',
  });
  doc = await me.artifacts.edit(doc.id, {
    content: `Launch plan\n\nCode: ${SECRET}\n`,
    baseVersion: doc.version,
    reason: 'add the code',
  });
  await me.context.record({
    type: 'decision',
    about: [doc.id],
    text: `Use ${SECRET} at noon`,
    why: 'it is agreed',
  });
  await me.capabilities.grant({ to: w.id, resource: `artifact:${doc.id}`, actions: ['handoff'] });
  return { store, ws, ada, me, w, bob, cy, doc, agent: ws.as(w.id) };
}

describe('reads', () => {
  it('#5 refuses to offer work to someone who may not read it — through the API, submit() and verify() — naming the grant to give', async () => {
    const s = await story();
    const head = await s.ws.head();
    const err = await s.agent.handoffs
      .offer({ to: s.bob.id, artifacts: [s.doc.id], note: 'yours' })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toMatchObject({
      code: 'FORBIDDEN',
      details: { recipient: s.bob.id, artifact: s.doc.id },
    });
    const message = (err as Error).message;
    expect(message).toContain(s.bob.id);
    expect(message).toContain(`artifact:${s.doc.id}`);
    expect(message).toContain(
      `actor.capabilities.grant({ to: '${s.bob.id}', resource: 'artifact:${s.doc.id}', actions: ['read'] })`,
    );
    expect(await s.ws.head()).toEqual(head);

    // The same offer, signed by W and submitted as an event, is refused by the same rule.
    const may = await s.agent.can('handoff', `artifact:${s.doc.id}`);
    const fields: SignedFields = {
      ws: s.ws.id!,
      id: 'ev_offer_to_bob',
      stream: 'handoff/ho_to_bob',
      type: 'handoff.offered@1',
      actor: s.w.id,
      auth: may.allowed ? may.grant.id : '',
      at: new Date().toISOString(),
      data: {
        id: 'ho_to_bob',
        kind: 'work',
        to: [s.bob.id],
        priority: 'normal',
        artifacts: [{ id: s.doc.id, seen: 0, head: s.doc.version }],
        questions: [],
      },
      refs: ['ho_to_bob', s.bob.id, s.doc.id],
    };
    const signed = await signedBy(s.ws.keyring, fields);
    await expect(s.ws.submit([signed])).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await s.ws.head()).toEqual(head);

    // Written into the store behind Baton's back, verify() reports it.
    const forged = { ...signed, version: 1, seq: head.seq + 1, prev: head.hash };
    const event: BatonEvent = { ...forged, hash: eventHash(forged) };
    await s.store.append({ events: [event], expectedHead: head, projections: [] });
    const report = await s.ws.verify();
    expect(report.ok).toBe(false);
    expect(report.problem).toMatchObject({ seq: head.seq + 1 });
    expect(report.problem?.reason).toMatch(/may not read/);

    // With read granted, the offer goes through.
    const fresh = await story();
    await fresh.me.capabilities.grant({
      to: fresh.bob.id,
      resource: `artifact:${fresh.doc.id}`,
      actions: ['read'],
    });
    await expect(
      fresh.agent.handoffs.offer({ to: fresh.bob.id, artifacts: [fresh.doc.id] }),
    ).resolves.toMatchObject({ status: 'offered' });
    expect((await fresh.ws.verify()).ok).toBe(true);
  });

  it('#5 gives briefings, inbox items and handoffs only what the reader may read, and says what it withheld', async () => {
    const s = await story();
    const read = await s.me.capabilities.grant({
      to: s.bob.id,
      resource: `artifact:${s.doc.id}`,
      actions: ['read'],
    });
    // W may also comment (to ask its question), still not read.
    await s.me.capabilities.grant({
      to: s.w.id,
      resource: `artifact:${s.doc.id}`,
      actions: ['comment'],
    });
    const h = await s.agent.handoffs.offer({
      to: s.bob.id,
      artifacts: [s.doc.id],
      note: 'Please take the launch plan',
      questions: ['Is noon right?'],
    });

    // W holds no `read`: its own offer's briefing leaves the artifact out, and says so.
    const wb = await s.agent.handoffs.briefing(h.id);
    expect(wb.artifacts).toEqual([]);
    expect(wb.decisions).toEqual([]);
    expect(wb.withheld).toEqual([
      {
        resource: `artifact:${s.doc.id}`,
        reason: expect.stringContaining('read'),
        changes: 2,
        entries: 1,
      },
    ]);
    // Its own question it may read.
    expect(wb.questions.map((q) => q.text)).toEqual(['Is noon right?']);
    const wText = wb.toMarkdown();
    expect(JSON.stringify(wb)).not.toContain(SECRET);
    expect(wText).not.toContain(SECRET);
    expect(wText).not.toContain('Launch plan');
    expect(wText).toContain(`artifact:${s.doc.id}: 2 changes and 1 context entry left out`);

    // Bob may read it: the note, the diffs and the decision are his on accept.
    expect((await s.ws.as(s.bob.id).inbox()).items.map((i) => i.noteText)).toEqual([
      'Please take the launch plan',
    ]);
    const bb = await s.ws.as(s.bob.id).handoffs.accept(h.id);
    expect(bb.withheld).toEqual([]);
    expect(bb.artifacts[0]!.changes.map((c) => c.diff).join('\n')).toContain(SECRET);
    expect(bb.decisions.map((d) => d.text)).toEqual([`Use ${SECRET} at noon`]);
    expect(bb.toMarkdown()).not.toContain('Withheld');

    // Once his read is revoked, the same briefing withholds it from him too.
    await s.me.capabilities.revoke(read.id, { reason: 'moved off the project' });
    const later = await s.ws.as(s.bob.id).handoffs.briefing(h.id);
    expect(later.artifacts).toEqual([]);
    expect(later.withheld).toMatchObject([{ resource: `artifact:${s.doc.id}`, changes: 2 }]);
    expect(later.toMarkdown()).not.toContain(SECRET);

    // Inbox items and handoffs carry ids and the note, never artifact content.
    const items = (await s.ws.as(s.bob.id).inbox()).items;
    expect(JSON.stringify(items)).not.toContain(SECRET);
    expect(JSON.stringify(await s.agent.handoffs.get(h.id))).not.toContain(SECRET);
    // Someone who is no party and holds no grant reads nothing of it.
    await expect(s.ws.as(s.cy.id).handoffs.get(h.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(s.ws.as(s.cy.id).handoffs.briefing(h.id)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    expect((await s.ws.as(s.cy.id).inbox()).items).toEqual([]);

    // A question handed to Cy, about the artifact: Cy reads the question, not the artifact.
    const q = await s.me.handoffs.ask({
      to: s.cy.id,
      question: 'Can you run it?',
      about: [s.doc.id],
    });
    expect((await s.ws.as(s.cy.id).handoffs.get(q.id)).questionText).toBe('Can you run it?');
    const cb = await s.ws.as(s.cy.id).handoffs.briefing(q.id);
    expect(JSON.stringify(cb)).not.toContain(SECRET);
  });

  it('#5 shows the answer to a question only to whoever may read the answer', async () => {
    const s = await story();
    const other = await s.me.artifacts.create({
      kind: 'text',
      title: 'Private',
      content: 'x\n',
      reason: 'start',
    });
    await s.me.capabilities.grant({
      to: s.bob.id,
      resource: `artifact:${s.doc.id}`,
      actions: ['read', 'comment'],
    });
    const bob = s.ws.as(s.bob.id);
    const q = await bob.context.record({ type: 'question', about: [s.doc.id], text: 'When?' });
    // Ada answers it in an entry about an artifact Bob may not read.
    await s.me.context.record({
      type: 'answer',
      about: [other.id],
      answers: q.id,
      text: 'At noon, with the private key',
    });
    const seen = await bob.context.get(q.id);
    expect(seen.answer).toBeUndefined();
    expect(JSON.stringify((await bob.context.query({ about: s.doc.id })).items)).not.toContain(
      'private key',
    );
    expect((await s.me.context.get(q.id)).answer?.text).toBe('At noon, with the private key');
  });
});
