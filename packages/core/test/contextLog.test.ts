import { describe, expect, it } from 'vitest';
import { world } from './world.js';

async function ctxWorld() {
  const w = await world();
  await w.me.capabilities.grant({
    to: w.drafter.id,
    resource: 'artifact:*',
    actions: ['read', 'create', 'write', 'comment'],
  });
  const doc = await w.agent.artifacts.create({
    kind: 'text',
    title: 'Launch post',
    content: 'draft',
  });
  return { ...w, doc };
}

describe('the ContextLog', () => {
  it('records every kind of entry about an artifact and reads them back in order', async () => {
    const w = await ctxWorld();
    const run = w.ws.as(w.drafter.id, { session: 'run-1' });
    await run.context.record({ type: 'note', about: [w.doc.id], text: 'Started from the brief' });
    await run.context.record({
      type: 'attempt',
      about: [w.doc.id],
      text: 'Tried a listicle',
      outcome: 'failed',
    });
    await run.context.record({
      type: 'learned',
      about: [w.doc.id],
      text: 'Readers skim the first line',
    });
    await run.context.record({
      type: 'decision',
      about: [w.doc.id],
      text: 'Lead with pricing',
      why: 'it is the news',
      alternatives: ['lead with the team'],
    });
    await run.context.record({ type: 'todo', about: [w.doc.id], text: 'Check the numbers' });
    await run.context.record({
      type: 'tool',
      about: [w.doc.id],
      text: 'web.search',
      tool: { name: 'web.search', argsDigest: 'a1', resultDigest: 'r1', durationMs: 120 },
    });
    await run.context.record({
      type: 'usage',
      about: [w.doc.id],
      text: 'draft pass',
      usage: { model: 'm', inputTokens: 1200, outputTokens: 300, costUsd: 0.02 },
    });
    const all = await w.me.context.query({ about: w.doc.id });
    expect(all.items.map((e) => e.type)).toEqual([
      'note',
      'attempt',
      'learned',
      'decision',
      'todo',
      'tool',
      'usage',
    ]);
    expect(all.items.every((e) => e.session === 'run-1' && e.actor === w.drafter.id)).toBe(true);
    expect(all.items[3]).toMatchObject({
      text: 'Lead with pricing',
      why: 'it is the news',
      alternatives: ['lead with the team'],
    });
    expect(all.items[5]!.tool).toMatchObject({ name: 'web.search', durationMs: 120 });
    expect(
      (await w.me.context.query({ types: ['decision', 'learned'] })).items.map((e) => e.type),
    ).toEqual(['learned', 'decision']);
    expect((await w.me.context.query({ text: 'PRICING' })).items.map((e) => e.type)).toEqual([
      'decision',
    ]);
    expect((await w.me.context.query({ session: 'run-1', limit: 3 })).items).toHaveLength(3);
  });

  it('keeps a question open until an answer names it, and shows the answer', async () => {
    const w = await ctxWorld();
    const q = await w.agent.context.record({
      type: 'question',
      about: [w.doc.id],
      text: 'Is the tone right?',
      options: ['yes', 'warmer'],
    });
    expect((await w.me.context.openQuestions(w.doc.id)).map((e) => e.id)).toEqual([q.id]);
    await w.me.context.record({
      type: 'answer',
      about: [w.doc.id],
      answers: q.id,
      text: 'Warmer, please',
    });
    expect(await w.me.context.openQuestions(w.doc.id)).toEqual([]);
    expect(await w.agent.context.get(q.id)).toMatchObject({
      open: false,
      answer: { by: w.ada.id, text: 'Warmer, please' },
    });
    await expect(w.me.context.record({ type: 'answer', text: 'x' })).rejects.toMatchObject({
      code: 'VALIDATION',
    });
    await expect(
      w.me.context.record({ type: 'answer', answers: 'ctx_nope', text: 'x' }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('pages through entries with a cursor, missing and repeating none', async () => {
    const w = await ctxWorld();
    for (let i = 0; i < 25; i++)
      await w.agent.context.record({ type: 'note', about: [w.doc.id], text: `n${i}` });
    const seen: string[] = [];
    let after: string | undefined;
    do {
      const page = await w.me.context.query({ about: w.doc.id, limit: 7, after });
      seen.push(...page.items.map((e) => e.text));
      after = page.next;
    } while (after);
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => `n${i}`));
  });

  it('needs comment on the artifact to record and read on it to see', async () => {
    const w = await ctxWorld();
    const other = await w.me.identities.create({ kind: 'agent', name: 'other' });
    const o = w.ws.as(other.id);
    const head = await w.store.head();
    await expect(
      o.context.record({ type: 'note', about: [w.doc.id], text: 'x' }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await w.store.head()).toEqual(head);
    await w.agent.context.record({ type: 'note', about: [w.doc.id], text: 'private' });
    expect((await o.context.query({ about: w.doc.id })).items).toEqual([]);
  });

  it('keeps bodies erasable: an erased entry reads as erased and the log verifies', async () => {
    const w = await ctxWorld();
    const e = await w.agent.context.record({
      type: 'note',
      about: [w.doc.id],
      text: 'api key sk-123',
    });
    await w.me.erase(e.body!, 'a secret was pasted');
    expect((await w.me.context.get(e.id)).text).toBe('[erased by Ada: a secret was pasted]');
    expect((await w.me.context.query({ text: 'sk-123' })).items).toEqual([]);
    expect(await w.ws.verify()).toMatchObject({ ok: true, erased: [{ hash: e.body }] });
  });
});
