import { describe, expect, it } from 'vitest';
import type { ContextEntry, CostLine } from '../src/index.js';
import { makeRowsOld } from './oldRows.js';
import { world } from './world.js';

type By = 'actor' | 'artifact' | 'session' | 'handoff';
const BYS: By[] = ['actor', 'artifact', 'session', 'handoff'];
const HOUR = 3_600_000;

/**
 * Usage entries by two agents in three sessions over four days, about one, two or no
 * artifacts (one the agent `other` may not read), while work handoffs are offered, accepted,
 * returned and completed between them — with the seqs each handoff was accepted over.
 */
async function usageLog() {
  const w = await world();
  for (const to of [w.drafter.id]) {
    await w.me.capabilities.grant({
      to,
      resource: 'artifact:*',
      actions: ['read', 'create', 'write', 'comment'],
    });
    await w.me.capabilities.grant({ to, resource: 'workspace', actions: ['read', 'comment'] });
  }
  const other = await w.me.identities.create({ kind: 'agent', name: 'other' });
  const a = await w.agent.artifacts.create({ kind: 'text', title: 'A', content: 'a' });
  const b = await w.agent.artifacts.create({ kind: 'text', title: 'B', content: 'b' });
  const c = await w.me.artifacts.create({ kind: 'text', title: 'C', content: 'c' });
  await w.me.capabilities.grant({
    to: other.id,
    resource: `artifact:${a.id}`,
    actions: ['read', 'comment', 'write'],
  });
  const o = w.ws.as(other.id, { session: 'o-1' });
  const runs = [
    w.ws.as(w.drafter.id, { session: 'd-1' }),
    w.ws.as(w.drafter.id, { session: 'd-2' }),
  ];
  const spans: {
    id: string;
    recipient: string;
    artifacts: string[];
    from: number;
    until: number;
  }[] = [];
  let n = 0;
  const use = async (who: (typeof runs)[number], about: string[]) => {
    n++;
    await who.context.record({
      type: 'usage',
      about,
      text: `call ${n}`,
      usage: {
        model: 'm',
        inputTokens: 100 + n,
        ...(n % 3 ? { outputTokens: 7 * n } : {}),
        ...(n % 4 ? { costUsd: (n % 7) * 0.013 + 0.001 } : {}),
      },
    });
    w.tick(n % 5 === 0 ? 20 * HOUR : 17 * 60_000);
  };
  const abouts = [[a.id], [b.id], [a.id, b.id], [], [c.id], [a.id, c.id], [b.id, b.id]];
  for (let round = 0; round < 3; round++) {
    const h = await w.me.handoffs.offer({ to: w.drafter.id, artifacts: [a.id, c.id], note: 'go' });
    for (let i = 0; i < 3; i++) await use(runs[i % 2]!, abouts[(round + i) % abouts.length]!);
    await w.agent.handoffs.accept(h.id);
    const from = (await w.store.head()).seq;
    for (let i = 0; i < 6; i++)
      await use(runs[(round + i) % 2]!, abouts[(i * 3 + round) % abouts.length]!);
    await use(w.me as never, [a.id]);
    await use(o as never, [a.id]);
    if (round === 1) await w.agent.handoffs.return(h.id, { note: 'back' });
    else await w.agent.handoffs.complete(h.id);
    spans.push({
      id: h.id,
      recipient: w.drafter.id,
      artifacts: [a.id, c.id],
      from,
      until: (await w.store.head()).seq,
    });
    for (let i = 0; i < 2; i++) await use(runs[i % 2]!, abouts[(i + 2 * round) % abouts.length]!);
  }
  // Still accepted at the end of the log.
  const open = await w.me.handoffs.offer({ to: w.drafter.id, artifacts: [b.id], note: 'more' });
  await w.agent.handoffs.accept(open.id);
  spans.push({
    id: open.id,
    recipient: w.drafter.id,
    artifacts: [b.id],
    from: (await w.store.head()).seq,
    until: Number.MAX_SAFE_INTEGER,
  });
  for (let i = 0; i < 4; i++) await use(runs[i % 2]!, abouts[i % abouts.length]!);
  // A summary replaces some usage entries: costs still count them.
  const some = (await w.me.context.query({ about: b.id, types: ['usage'], limit: 3 })).items;
  await w.me.context.record({
    type: 'summary',
    about: [b.id],
    text: 'calls',
    replaces: some.map((e) => e.id),
  });
  return { ...w, other, o, spans };
}

/** The costs a reader may see, added up plainly from the usage entries it may read. */
function recomputed(
  usage: ContextEntry[],
  by: By,
  spans: Awaited<ReturnType<typeof usageLog>>['spans'],
  since?: string,
): CostLine[] {
  const lines = new Map<string, CostLine>();
  for (const e of usage) {
    if (since !== undefined && e.at < since) continue;
    const keys =
      by === 'actor'
        ? [e.actor]
        : by === 'session'
          ? [e.session ?? '-']
          : by === 'artifact'
            ? e.about.length
              ? e.about
              : ['-']
            : spans
                .filter(
                  (s) =>
                    s.recipient === e.actor &&
                    e.seq > s.from &&
                    e.seq <= s.until &&
                    e.about.some((x) => s.artifacts.includes(x)),
                )
                .map((s) => s.id);
    for (const key of keys) {
      const l = lines.get(key) ?? { key, entries: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };
      l.entries++;
      l.inputTokens += e.usage?.inputTokens ?? 0;
      l.outputTokens += e.usage?.outputTokens ?? 0;
      l.costUsd += e.usage?.costUsd ?? 0;
      lines.set(key, l);
    }
  }
  return [...lines.values()].sort((x, y) => y.costUsd - x.costUsd || x.key.localeCompare(y.key));
}

/** Lines with cost rounded, so sums added in another order compare equal. */
function rounded(lines: CostLine[]) {
  return lines.map((l) => ({ ...l, costUsd: Math.round(l.costUsd * 1e9) / 1e9 }));
}

async function readableUsage(w: Awaited<ReturnType<typeof usageLog>>, reader: typeof w.me) {
  const out: ContextEntry[] = [];
  for await (const ev of w.store.read({ types: ['context.recorded@1'] })) {
    const id = (ev.data as { id: string; type: string }).id;
    if ((ev.data as { type: string }).type !== 'usage') continue;
    const e = await reader.context.get(id).catch(() => undefined);
    if (e) out.push(e);
  }
  return out;
}

describe('context.costs from kept totals', () => {
  it('equals a plain recomputation over the usage entries, for every by, with and without since, for every reader', async () => {
    const w = await usageLog();
    const start = Date.parse('2026-11-21T12:00:00.000Z');
    const sinces = [
      undefined,
      new Date(start + 26 * HOUR).toISOString(),
      new Date(start + 47 * HOUR + 5 * 60_000).toISOString(),
      new Date(start + 400 * HOUR).toISOString(),
    ];
    for (const reader of [w.me, w.agent, w.ws.as(w.other.id)]) {
      const usage = await readableUsage(w, reader);
      for (const by of BYS)
        for (const since of sinces) {
          const got = await reader.context.costs({ by, since });
          expect(rounded(got), `${by} ${since}`).toEqual(
            rounded(recomputed(usage, by, w.spans, since)),
          );
        }
    }
    expect((await w.me.context.costs({ by: 'handoff' })).map((l) => l.key).sort()).toEqual(
      w.spans.map((s) => s.id).sort(),
    );
  });

  it('gives the same lines on a store whose rows predate the cost totals, and after rebuildProjections', async () => {
    const w = await usageLog();
    const now = async () => Promise.all(BYS.map((by) => w.me.context.costs({ by })));
    const before = await now();
    await makeRowsOld(w.store);
    expect(rounded((await now()).flat())).toEqual(rounded(before.flat()));
    await w.ws.rebuildProjections();
    expect(rounded((await now()).flat())).toEqual(rounded(before.flat()));
    const v = await w.ws.verify();
    expect(v, JSON.stringify(v)).toMatchObject({ ok: true });
  });

  it('refuses an unknown by or a bad since with VALIDATION naming the field', async () => {
    const w = await world();
    await expect(w.me.context.costs({ by: 'model' as never })).rejects.toMatchObject({
      code: 'VALIDATION',
    });
    await expect(w.me.context.costs({ by: 'actor', since: 'yesterday' })).rejects.toMatchObject({
      code: 'VALIDATION',
      message: expect.stringContaining('since'),
    });
  });
});
