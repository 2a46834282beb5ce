import { describe, expect, it } from 'vitest';
import { world } from './world.js';

describe('verify() against stored rows', () => {
  it('accepts a handoff escalated to one of its own recipients, whose inbox lists that recipient twice', async () => {
    const w = await world();
    await w.me.capabilities.grant({
      to: w.drafter.id,
      resource: 'artifact:*',
      actions: ['read', 'create', 'write', 'handoff'],
    });
    await w.me.identities.create({ kind: 'service', name: 'scheduler' });
    const doc = await w.agent.artifacts.create({ kind: 'text', title: 'T', content: 'x' });
    const h = await w.agent.handoffs.offer({
      to: w.ada.id,
      artifacts: [doc.id],
      due: w.iso(60_000),
      escalateTo: w.ada.id,
    });
    w.tick(61_000);
    expect((await w.ws.tick()).escalated).toEqual([h.id]);
    const report = await w.ws.verify();
    expect(report.problem).toBeUndefined();
    expect(report.ok).toBe(true);
  });
});
