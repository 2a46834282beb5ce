import { describe, expect, it } from 'vitest';
import { Workspace } from '../src/index.js';

describe('smoke', () => {
  it('bootstraps, creates an agent, grants, authorizes and verifies', async () => {
    const ws = await Workspace.open();
    const ada = await ws.bootstrap({ name: 'Ada' });
    const me = ws.as(ada.id);
    const drafter = await me.identities.create({ kind: 'agent', name: 'drafter' });
    const g = await me.capabilities.grant({
      to: drafter.id,
      resource: 'email:*',
      actions: ['email.send'],
    });
    const agent = ws.as(drafter.id);
    const ok = await agent.authorize('email.send', 'email:1', { summary: 'hi' });
    expect(ok.grant.id).toBe(g.id);
    await expect(agent.authorize('email.send', 'sms:1')).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    const report = await ws.verify();
    expect(report).toMatchObject({ ok: true, events: 4 });
    const log = await me.log();
    expect(log.items.map((e) => e.type)).toEqual([
      'workspace.bootstrapped@1',
      'identity.created@1',
      'grant.issued@1',
      'grant.exercised@1',
    ]);
  });
});
