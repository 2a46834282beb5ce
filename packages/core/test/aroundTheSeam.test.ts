import { describe, expect, it } from 'vitest';
import { world } from './world.js';

async function team() {
  const w = await world();
  await w.me.capabilities.grant({
    to: w.drafter.id,
    resource: 'artifact:*',
    actions: ['read', 'create', 'write', 'comment', 'handoff', 'publish'],
    requiresApproval: [{ action: 'publish' }],
  });
  const doc = await w.agent.artifacts.create({ kind: 'text', title: 'Post', content: 'a\n' });
  return { ...w, doc };
}

describe('compaction', () => {
  it('replaces old entries with the app’s summary in views and briefings, within the budget; originals stay in the log', async () => {
    const w = await team();
    for (let i = 0; i < 8; i++)
      await w.agent.context.record({
        type: 'learned',
        about: [w.doc.id],
        text: `lesson ${i} ${'x'.repeat(200)}`,
      });
    await w.agent.context.record({ type: 'decision', about: [w.doc.id], text: 'keep it short' });
    w.tick(1_000);
    const cutoff = w.iso(0);
    w.tick(1_000);
    await w.agent.context.record({ type: 'learned', about: [w.doc.id], text: 'fresh lesson' });
    const seen: number[] = [];
    const summary = await w.agent.context.compact({
      about: w.doc.id,
      before: cutoff,
      summarize: (entries) => {
        seen.push(entries.length);
        return `Eight lessons, one decision: keep it short (${entries.length} entries)`;
      },
    });
    expect(seen).toEqual([9]);
    expect(summary).toMatchObject({ type: 'summary' });
    expect(summary!.replaces).toHaveLength(9);
    const view = await w.me.context.query({ about: w.doc.id });
    expect(view.items.map((e) => e.type)).toEqual(['learned', 'summary']);
    expect(
      (await w.me.context.query({ about: w.doc.id, includeSummarized: true })).items,
    ).toHaveLength(11);
    const h = await w.agent.handoffs.offer({
      to: w.ada.id,
      artifacts: [w.doc.id],
      note: 'over to you',
    });
    const brief = await w.me.handoffs.briefing(h.id);
    expect(brief.summaries.map((s) => s.text)).toEqual([summary!.text]);
    expect(brief.learnings.map((l) => l.text)).toEqual(['fresh lesson']);
    const md = brief.toMarkdown({ maxTokens: 200 });
    expect(md.length).toBeLessThanOrEqual(800);
    expect(md).toContain('Eight lessons');
    const report = await w.ws.verify();
    expect(report.ok).toBe(true);
    const { items } = await w.me.log({ types: ['context.recorded@1'], limit: 100 });
    expect(items.length).toBe(11);
  });

  it('has nothing to compact when nothing is old enough', async () => {
    const w = await team();
    await w.agent.context.record({ type: 'note', about: [w.doc.id], text: 'n' });
    expect(
      await w.agent.context.compact({
        about: w.doc.id,
        before: w.iso(-60_000),
        summarize: () => 'x',
      }),
    ).toBeUndefined();
  });
});

describe('costs and track records', () => {
  it('attributes usage by actor, artifact, session and handoff, and keeps track records, on a scripted history', async () => {
    const w = await team();
    const other = await w.me.artifacts.create({ kind: 'text', title: 'Other', content: 'o\n' });
    const run1 = w.ws.as(w.drafter.id, { session: 'run-1' });
    const run2 = w.ws.as(w.drafter.id, { session: 'run-2' });
    const usage = (inputTokens: number, outputTokens: number, costUsd: number) => ({
      inputTokens,
      outputTokens,
      costUsd,
    });
    // Before any handoff: drafter works in run-1.
    await run1.context.record({
      type: 'usage',
      about: [w.doc.id],
      text: 'draft',
      usage: usage(1000, 200, 0.01),
    });
    await run1.context.record({
      type: 'usage',
      about: [other.id],
      text: 'side',
      usage: usage(500, 100, 0.005),
    });
    // Drafter → Ada; Ada accepts and works (her usage counts for this handoff).
    const h1 = await w.agent.handoffs.offer({ to: w.ada.id, artifacts: [w.doc.id] });
    await w.me.handoffs.accept(h1.id);
    await w.me.context.record({
      type: 'usage',
      about: [w.doc.id],
      text: 'ada review',
      usage: usage(300, 50, 0.002),
    });
    await w.me.artifacts.edit(w.doc.id, { content: 'b\n', baseVersion: 1, reason: 'ada rewrites' });
    // Ada → drafter; drafter accepts in run-2 and works.
    const h2 = await w.me.handoffs.offer({ to: w.drafter.id, artifacts: [w.doc.id] });
    await w.me.handoffs.complete(h1.id);
    await run2.handoffs.accept(h2.id);
    await run2.context.record({
      type: 'usage',
      about: [w.doc.id],
      text: 'polish',
      usage: usage(2000, 400, 0.02),
    });
    // The drafter reverts Ada's edit (back to v1's content), then edits again.
    await run2.artifacts.edit(w.doc.id, { content: 'a\n', baseVersion: 2, reason: 'undo' });
    await run2.artifacts.edit(w.doc.id, { content: 'c\n', baseVersion: 3, reason: 'new take' });
    await run2.handoffs.return(h2.id, { note: 'needs a decision' });
    // An approval asked and denied, one asked and granted.
    const a1 = await w.agent.handoffs.requestApproval({
      action: 'publish',
      resource: `artifact:${w.doc.id}`,
      payload: { v: 1 },
    });
    await w.me.handoffs.deny(a1.id);
    const a2 = await w.agent.handoffs.requestApproval({
      action: 'publish',
      resource: `artifact:${w.doc.id}`,
      payload: { v: 2 },
    });
    await w.me.handoffs.approve(a2.id);

    const by = async (k: 'actor' | 'artifact' | 'session' | 'handoff') =>
      Object.fromEntries(
        (await w.me.context.costs({ by: k })).map((l) => [
          l.key,
          [l.inputTokens, l.outputTokens, Number(l.costUsd.toFixed(6))],
        ]),
      );
    expect(await by('actor')).toEqual({
      [w.drafter.id]: [3500, 700, 0.035],
      [w.ada.id]: [300, 50, 0.002],
    });
    expect(await by('artifact')).toEqual({
      [w.doc.id]: [3300, 650, 0.032],
      [other.id]: [500, 100, 0.005],
    });
    expect(await by('session')).toEqual({
      'run-1': [1500, 300, 0.015],
      'run-2': [2000, 400, 0.02],
      '-': [300, 50, 0.002],
    });
    expect(await by('handoff')).toEqual({ [h1.id]: [300, 50, 0.002], [h2.id]: [2000, 400, 0.02] });

    expect(await w.me.identities.record(w.drafter.id)).toEqual({
      id: w.drafter.id,
      name: 'drafter',
      handoffs: { offered: 1, accepted: 1, completed: 0, returned: 1, declined: 0 },
      approvals: { requested: 2, granted: 1, denied: 1, approvedForOthers: 0, deniedForOthers: 0 },
      edits: { total: 2, reverted: 0 },
      cost: { entries: 3, inputTokens: 3500, outputTokens: 700, costUsd: expect.closeTo(0.035, 9) },
    });
    const ada = await w.me.identities.record(w.ada.id);
    expect(ada).toMatchObject({
      handoffs: { offered: 1, accepted: 1, completed: 1, returned: 0, declined: 0 },
      approvals: { requested: 0, approvedForOthers: 1, deniedForOthers: 1 },
      // Ada's edit (v2) was reverted: v3 has v1's content.
      edits: { total: 1, reverted: 1 },
      cost: { entries: 1, costUsd: 0.002 },
    });
    await expect(w.agent.identities.record(w.ada.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
