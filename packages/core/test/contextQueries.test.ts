import { describe, expect, it } from 'vitest';
import {
  CONTEXT_TYPES,
  type ContextEntry,
  type ContextQuery,
  PRIMARY_INDEX,
  Workspace,
} from '../src/index.js';
import { countingStore } from './countingStore.js';
import { makeRowsOld } from './oldRows.js';
import { world } from './world.js';

type Actor = Awaited<ReturnType<typeof world>>['me'];

/** Every entry a query returns, page by page (`limit` a page). */
async function queryAll(actor: Actor, q: ContextQuery, limit = 1_000): Promise<ContextEntry[]> {
  const out: ContextEntry[] = [];
  let after: string | undefined;
  do {
    const page = await actor.context.query({ ...q, limit, after });
    expect(page.items.length).toBeLessThanOrEqual(limit);
    out.push(...page.items);
    after = page.next;
  } while (after);
  return out;
}

/**
 * A varied ContextLog: three artifacts (one the reader `drafter` may not read), entries of
 * every type by three identities in two sessions, over several days, questions open and
 * answered, a summary over older notes, and entries about several artifacts or none.
 */
async function variedLog() {
  const w = await world();
  await w.me.capabilities.grant({
    to: w.drafter.id,
    resource: 'artifact:*',
    actions: ['read', 'create', 'write', 'comment'],
  });
  await w.me.capabilities.grant({
    to: w.drafter.id,
    resource: 'workspace',
    actions: ['read', 'comment'],
  });
  const a = await w.agent.artifacts.create({ kind: 'text', title: 'A', content: 'a' });
  const b = await w.agent.artifacts.create({ kind: 'text', title: 'B', content: 'b' });
  const secret = await w.me.artifacts.create({ kind: 'text', title: 'S', content: 's' });
  const other = await w.me.identities.create({ kind: 'agent', name: 'other' });
  await w.me.capabilities.grant({
    to: other.id,
    resource: `artifact:${a.id}`,
    actions: ['read', 'comment'],
  });
  const run1 = w.ws.as(w.drafter.id, { session: 'run-1' });
  const run2 = w.ws.as(w.drafter.id, { session: 'run-2' });
  const o = w.ws.as(other.id, { session: 'run-o' });
  const abouts = [[a.id], [b.id], [a.id, b.id], [], [secret.id], [a.id, secret.id]];
  const kinds = ['note', 'attempt', 'learned', 'decision', 'todo', 'tool', 'usage'] as const;
  const questions: string[] = [];
  for (let i = 0; i < 60; i++) {
    const about = abouts[i % abouts.length]!;
    const who = about.includes(secret.id) ? w.me : [run1, run2, o, w.agent][i % 4]!;
    if (who === o && !(about.length === 1 && about[0] === a.id)) continue;
    const type = i % 9 === 0 ? 'question' : kinds[i % kinds.length]!;
    const e = await who.context.record({
      type,
      about,
      text: `${type} ${i} ${i % 5 === 0 ? 'Pricing Ünïcode' : 'plain'}`,
      ...(type === 'decision' ? { why: `because ${i % 2 ? 'CHEAP' : 'fast'}` } : {}),
      ...(type === 'usage'
        ? { usage: { inputTokens: i, outputTokens: 2 * i, costUsd: i / 100 } }
        : {}),
    });
    if (type === 'question') questions.push(e.id);
    if (i % 17 === 0) w.tick(26 * 3_600_000);
    else w.tick(60_000);
  }
  for (const q of questions.slice(0, 2)) await w.me.context.answer(q, 'yes');
  const older = await queryAll(w.me, { about: b.id, types: ['note', 'todo'] });
  await w.me.context.compact({
    about: [b.id],
    before: older[1]!.at,
    summarize: (xs) => `summary of ${xs.length}`,
  });
  return { ...w, a, b, secret, other, o, started: Date.parse('2026-11-21T12:00:00.000Z') };
}

/** What a query must return, by the rules spelled out plainly over every entry `actor` may get. */
function expected(all: ContextEntry[], q: ContextQuery): string[] {
  const about = q.about === undefined ? undefined : [q.about].flat();
  const since = q.since === undefined ? undefined : new Date(q.since).toISOString();
  return all
    .filter(
      (e) =>
        (!about || e.about.some((x) => about.includes(x))) &&
        (!q.types || q.types.includes(e.type)) &&
        (!q.actor || e.actor === q.actor) &&
        (!q.session || e.session === q.session) &&
        (!since || e.at >= since) &&
        (q.open === undefined || (e.type === 'question' && e.open === q.open)) &&
        (q.includeSummarized || !e.summarizedBy) &&
        (!q.text || `${e.text}\n${e.why ?? ''}`.toLowerCase().includes(q.text.toLowerCase())),
    )
    .map((e) => e.id);
}

/** Every entry `actor` may read, oldest first: each id of the log, read one by one. */
async function everyEntry(w: Awaited<ReturnType<typeof variedLog>>, actor: Actor) {
  const out: ContextEntry[] = [];
  for await (const ev of w.store.read({ types: ['context.recorded@1'] })) {
    const id = (ev.data as { id: string }).id;
    const e = await actor.context.get(id).catch(() => undefined);
    if (e) out.push(e);
  }
  return out;
}

function queries(w: Awaited<ReturnType<typeof variedLog>>): ContextQuery[] {
  const { a, b, secret } = w;
  const since = new Date(w.started + 3 * 24 * 3_600_000).toISOString();
  return [
    {},
    { about: a.id },
    { about: [a.id, b.id] },
    { about: [b.id, a.id, secret.id] },
    { about: [a.id, b.id], types: ['note', 'decision'] },
    // More about × type pairs than are merged: read by about alone.
    {
      about: [a.id, b.id, secret.id, 'art_none'],
      types: CONTEXT_TYPES.filter((t) => t !== 'usage'),
    },
    { types: ['question'] },
    { types: ['usage', 'note', 'summary'] },
    { types: ['question'], open: true },
    { open: true },
    { open: false },
    { open: true, about: [a.id, b.id] },
    { open: true, types: ['note'] },
    { actor: w.drafter.id },
    { actor: w.drafter.id, types: ['todo', 'tool'] },
    { session: 'run-1' },
    { session: 'run-2', types: ['usage'] },
    { session: 'run-1', actor: w.drafter.id, about: a.id },
    { since },
    { since, types: ['note'] },
    { since, about: [a.id, secret.id] },
    { text: 'pricing' },
    { text: 'ÜNÏ' },
    { text: 'cheap', types: ['decision'] },
    { text: 'plain', about: [a.id, b.id], since },
    { text: 'ri' },
    { about: b.id, includeSummarized: true },
    { includeSummarized: true, types: ['note', 'todo'] },
  ];
}

describe('context.query answers from its indexes', () => {
  it('returns for any combination of about, types, actor, session, since, open and text what the rules say, oldest first', async () => {
    const w = await variedLog();
    for (const reader of [w.me, w.agent, w.ws.as(w.other.id)]) {
      const all = await everyEntry(w, reader);
      for (const q of queries(w)) {
        const got = (await queryAll(reader, q)).map((e) => e.id);
        expect(got, JSON.stringify(q)).toEqual(expected(all, q));
      }
    }
  });

  it('pages with cursors that resume exactly, for merged and single sources alike', async () => {
    const w = await variedLog();
    for (const q of queries(w)) {
      const whole = (await queryAll(w.agent, q)).map((e) => e.id);
      for (const limit of [1, 2, 5])
        expect(
          (await queryAll(w.agent, q, limit)).map((e) => e.id),
          JSON.stringify(q),
        ).toEqual(whole);
    }
  });

  it('refuses a cursor from a query of another shape with VALIDATION naming after', async () => {
    const w = await variedLog();
    const page = await w.me.context.query({ types: ['note'], limit: 1 });
    await expect(w.me.context.query({ limit: 1, after: page.next })).rejects.toMatchObject({
      code: 'VALIDATION',
      details: { field: 'after' },
    });
    await expect(w.me.context.query({ after: 'not a cursor' })).rejects.toMatchObject({
      code: 'VALIDATION',
    });
  });

  it('reads rows in proportion to what it returns, not to the log', async () => {
    const w = await world();
    await w.me.artifacts.create({ kind: 'text', title: 'A', content: 'a' });
    for (let i = 0; i < 400; i++) await w.me.context.record({ type: 'note', text: `note ${i}` });
    for (let i = 0; i < 3; i++)
      await w.me.context.record({ type: 'question', text: `needle question ${i}?` });
    const counted = countingStore(w.store);
    const ws = await Workspace.open({
      store: counted.store,
      keyring: w.ws.keyring,
    });
    const me = ws.as(w.ada.id);
    await me.context.query({ limit: 1 });
    const before = counted.counts.calls;
    const rowsSeen = async (q: ContextQuery) => {
      const start = counted.counts.calls;
      const page = await me.context.query(q);
      return { n: page.items.length, calls: counted.counts.calls - start };
    };
    for (const q of [
      { types: ['question'] },
      { open: true },
      { text: 'needle' },
    ] as ContextQuery[]) {
      const r = await rowsSeen(q);
      expect(r.n).toBe(3);
      // A handful of index pages and the three entries' bodies, not 400 rows.
      expect(r.calls, JSON.stringify(q)).toBeLessThan(12);
    }
    expect(before).toBeGreaterThan(0);
  });

  it('keeps answering right on a store whose rows predate the indexes, and fast again after rebuildProjections', async () => {
    const w = await variedLog();
    const all = await everyEntry(w, w.agent);
    await makeRowsOld(w.store);
    for (const q of queries(w)) {
      const got = (await queryAll(w.agent, q)).map((e) => e.id);
      expect(got, JSON.stringify(q)).toEqual(expected(all, q));
    }
    expect((await w.store.search('context', 'pricing', PRIMARY_INDEX, {})).items).toEqual([]);
    await w.ws.rebuildProjections();
    expect(await w.store.get('meta', 'context')).toEqual({ version: 2 });
    expect((await w.store.search('context', 'pricing', PRIMARY_INDEX, {})).items.length).toBe(
      expected(all, { text: 'pricing', includeSummarized: true }).length,
    );
    for (const q of queries(w)) {
      const got = (await queryAll(w.agent, q)).map((e) => e.id);
      expect(got, JSON.stringify(q)).toEqual(expected(all, q));
    }
    expect(await w.ws.verify()).toMatchObject({ ok: true });
  });

  it('no longer finds the words of an erased entry, also after rebuildProjections', async () => {
    const w = await variedLog();
    const e = await w.agent.context.record({
      type: 'decision',
      about: [w.a.id],
      text: 'the password is hunter2',
      why: 'leaked ZEBRA',
    });
    expect((await w.me.context.query({ text: 'hunter2' })).items.map((x) => x.id)).toEqual([e.id]);
    await w.me.erase(e.body!, 'a secret was pasted');
    for (let round = 0; round < 2; round++) {
      expect((await w.me.context.query({ text: 'hunter2' })).items).toEqual([]);
      expect((await w.me.context.query({ text: 'zebra' })).items).toEqual([]);
      expect((await w.store.search('context', 'hunter', PRIMARY_INDEX, {})).items).toEqual([]);
      expect(
        (await w.me.context.query({ about: w.a.id, types: ['decision'] })).items.at(-1),
      ).toMatchObject({
        id: e.id,
        text: '[erased by Ada: a secret was pasted]',
      });
      await w.ws.rebuildProjections();
    }
    expect(await w.ws.verify()).toMatchObject({ ok: true });
  });
});
