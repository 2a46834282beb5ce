import { describe, expect, it } from 'vitest';
import { isBatonError } from '../src/index.js';
import { world } from './world.js';

/** Ada and a drafter that may draft, ask (comment) and hand off — on artifacts and the workspace. */
async function cast() {
  const w = await world();
  await w.me.capabilities.grant({
    to: w.drafter.id,
    resource: 'artifact:*',
    actions: ['read', 'create', 'write', 'comment', 'handoff'],
  });
  await w.me.capabilities.grant({
    to: w.drafter.id,
    resource: 'workspace',
    actions: ['comment', 'handoff'],
  });
  const doc = await w.agent.artifacts.create({ kind: 'text', title: 'Post', content: 'a\n' });
  return { ...w, doc };
}

async function refusal(p: Promise<unknown>) {
  return p.then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: unknown) => {
      if (!isBatonError(e)) throw e;
      return e;
    },
  );
}

describe('answering questions', () => {
  it('answers a work handoff’s questions by their entry ids, so the asker’s next briefing shows the answers and no open question', async () => {
    const w = await cast();
    const h = await w.agent.handoffs.offer({
      to: w.ada.id,
      artifacts: [w.doc.id],
      questions: ['Tone right?', 'Ship when?'],
    });
    expect(h.openQuestions).toEqual(h.questions);
    const [q1, q2] = h.questions as [string, string];
    const a1 = await w.me.context.answer(q1, 'Yes');
    expect(a1).toMatchObject({ type: 'answer', answers: q1, text: 'Yes', actor: w.ada.id });
    await w.me.context.answer(q2, 'Friday');
    expect((await w.me.handoffs.get(h.id)).openQuestions).toEqual([]);
    expect(await w.me.context.openQuestions()).toEqual([]);

    // Handed back with a note only, or with the draft: the briefing holds both answers.
    for (const artifacts of [[], [w.doc.id]]) {
      const back = await w.me.handoffs.offer({ to: w.drafter.id, artifacts, note: 'Done' });
      const b = await w.agent.handoffs.briefing(back.id);
      expect(b.questions).toEqual([]);
      expect(b.answered.map((x) => [x.question.id, x.answer.text])).toEqual([
        [q1, 'Yes'],
        [q2, 'Friday'],
      ]);
      expect(b.toMarkdown()).toContain('Q (drafter): Tone right?\n  A (Ada): Yes');
      expect(b.toMarkdown()).not.toContain('Open questions');
    }
  });

  it('lists open questions in a briefing with their ids', async () => {
    const w = await cast();
    const h = await w.agent.handoffs.offer({
      to: w.ada.id,
      artifacts: [w.doc.id],
      questions: ['Tone right?'],
    });
    const md = (await w.me.handoffs.briefing(h.id)).toMarkdown();
    expect(md).toContain(`- ${h.questions[0]}: Tone right? (asked by drafter)`);
  });

  it('gives the questions of one offer ids that differ within their first eleven characters', async () => {
    const w = await cast();
    const h = await w.agent.handoffs.offer({
      to: w.ada.id,
      questions: ['a?', 'b?', 'c?', 'd?'],
    });
    const prefixes = new Set(h.questions.map((q) => q.slice(0, 11)));
    expect(prefixes.size).toBe(4);
    for (const [i, q] of h.questions.entries())
      expect(await w.me.resolveId(q.slice(0, 11))).toBe(h.questions[i]);
  });

  it('answers a question recorded in the ContextLog once: a second answer is refused, writing nothing', async () => {
    const w = await cast();
    const q = await w.agent.context.record({ type: 'question', text: 'Who signs?' });
    await w.me.context.answer(q.id, 'Ada');
    const head = await w.store.head();
    const again = await refusal(w.me.context.answer(q.id, 'Bob'));
    expect(again.code).toBe('INVALID_STATE');
    expect(again.message).toMatch(/answered already/);
    expect(await w.store.head()).toEqual(head);
    expect(await w.agent.context.get(q.id)).toMatchObject({
      open: false,
      answer: { text: 'Ada', by: w.ada.id },
    });
  });

  it('keeps an answer within the options a question offers', async () => {
    const w = await cast();
    const q = await w.agent.context.record({
      type: 'question',
      text: 'Tone?',
      options: ['warm', 'formal'],
    });
    const head = await w.store.head();
    const bad = await refusal(w.me.context.answer(q.id, 'loud'));
    expect(bad.code).toBe('VALIDATION');
    expect(bad.message).toMatch(/"warm", "formal"/);
    expect(await w.store.head()).toEqual(head);
    expect(await w.me.context.answer(q.id, 'warm')).toMatchObject({ text: 'warm' });
  });

  it('answers a question handoff by its id or by its entry’s id, marking the handoff answered', async () => {
    const w = await cast();
    const byHandoff = await w.agent.handoffs.ask({ to: w.ada.id, question: 'Ship?' });
    const a = await w.me.context.answer(byHandoff.id, 'yes');
    expect(a).toMatchObject({ type: 'answer', answers: byHandoff.questions[0], text: 'yes' });
    expect(await w.agent.handoffs.get(byHandoff.id)).toMatchObject({
      status: 'answered',
      answer: { value: 'yes' },
    });
    const byEntry = await w.agent.handoffs.ask({ to: w.ada.id, question: 'Today?' });
    await w.me.context.answer(byEntry.questions[0]!, 'no');
    expect((await w.agent.handoffs.get(byEntry.id)).status).toBe('answered');
    const third = await w.agent.handoffs.ask({ to: w.ada.id, question: 'Tomorrow?' });
    expect((await w.me.handoffs.answer(third.questions[0]!, 'maybe')).status).toBe('answered');
  });

  it('answers a work handoff’s only open question by the handoff’s id, and names the questions when there are several', async () => {
    const w = await cast();
    const one = await w.agent.handoffs.offer({ to: w.ada.id, questions: ['Only one?'] });
    expect(await w.me.context.answer(one.id, 'yes')).toMatchObject({
      answers: one.questions[0],
    });
    const two = await w.agent.handoffs.offer({ to: w.ada.id, questions: ['A?', 'B?'] });
    const err = await refusal(w.me.context.answer(two.id, 'yes'));
    expect(err.code).toBe('VALIDATION');
    for (const q of two.questions) expect(err.message).toContain(q);
  });

  it('refuses an answer from an identity without comment on what the question is about, writing nothing', async () => {
    const w = await cast();
    const reader = await w.me.identities.create({ kind: 'agent', name: 'reader' });
    await w.me.capabilities.grant({ to: reader.id, resource: 'artifact:*', actions: ['read'] });
    const q = await w.agent.context.record({ type: 'question', about: [w.doc.id], text: 'Ok?' });
    const head = await w.store.head();
    const err = await refusal(w.ws.as(reader.id).context.answer(q.id, 'fine'));
    expect(err.code).toBe('FORBIDDEN');
    expect(err.message).toMatch(/comment/);
    expect(await w.store.head()).toEqual(head);
  });

  it('refuses to answer what is not a question', async () => {
    const w = await cast();
    const note = await w.agent.context.record({ type: 'note', text: 'just a note' });
    expect((await refusal(w.me.context.answer(note.id, 'x'))).code).toBe('VALIDATION');
    expect((await refusal(w.me.context.answer('ctx_nope', 'x'))).code).toBe('NOT_FOUND');
    expect((await refusal(w.me.context.answer('', 'x'))).code).toBe('VALIDATION');
  });
});
