import { describe, expect, it } from 'vitest';
import {
  type ApprovalRequest,
  AuthorityView,
  snapshotOf,
  viewFromSnapshot,
} from '../src/auth/view.js';
import { type GrantInput, LOG_SCAN_MIN, MemoryStore, OPERATIONS } from '../src/index.js';
import { countingStore } from './countingStore.js';
import { world } from './world.js';

type World = Awaited<ReturnType<typeof world>>;

/**
 * Every built-in write, with the grant that allows it and a call that makes it. `prepare`
 * makes what the call acts on (fresh per attempt, so a maxUses test can call twice).
 */
// Each prepared target gets its own name: names are unique in a workspace.
let targets = 0;
const writes: {
  name: string;
  grant: Omit<GrantInput, 'to'>;
  prepare: (w: World) => Promise<string>;
  call: (w: World, target: string) => Promise<unknown>;
}[] = [
  {
    name: 'identities.create',
    grant: { resource: 'identity:*', actions: ['create'] },
    prepare: async () => '',
    call: (w) => w.agent.identities.create({ kind: 'agent', name: 'helper' }),
  },
  {
    name: 'identities.suspend',
    grant: { resource: 'identity:*', actions: ['admin'] },
    prepare: async (w) =>
      (await w.me.identities.create({ kind: 'agent', name: `target-${++targets}` })).id,
    call: (w, id) => w.agent.identities.suspend(id),
  },
  {
    name: 'identities.reinstate',
    grant: { resource: 'identity:*', actions: ['admin'] },
    prepare: async (w) => {
      const t = await w.me.identities.create({ kind: 'agent', name: `target-${++targets}` });
      await w.me.identities.suspend(t.id);
      return t.id;
    },
    call: (w, id) => w.agent.identities.reinstate(id),
  },
  {
    name: 'identities.rotateKey (of another identity)',
    grant: { resource: 'identity:*', actions: ['admin'] },
    prepare: async (w) =>
      (await w.me.identities.create({ kind: 'agent', name: `target-${++targets}` })).id,
    call: (w, id) => w.agent.identities.rotateKey(id),
  },
  {
    name: 'capabilities.grant',
    grant: { resource: 'doc:*', actions: ['grant', 'read'] },
    prepare: async (w) =>
      (await w.me.identities.create({ kind: 'agent', name: `target-${++targets}` })).id,
    call: (w, id) => w.agent.capabilities.grant({ to: id, resource: 'doc:1', actions: ['read'] }),
  },
  {
    name: 'capabilities.revoke (a grant issued by someone else)',
    grant: { resource: 'doc:*', actions: ['admin'] },
    prepare: async (w) => {
      const t = await w.me.identities.create({ kind: 'agent', name: `target-${++targets}` });
      return (await w.me.capabilities.grant({ to: t.id, resource: 'doc:1', actions: ['read'] })).id;
    },
    call: (w, id) => w.agent.capabilities.revoke(id),
  },
  {
    name: 'authorize (an app-defined action)',
    grant: { resource: 'email:*', actions: ['email.send'] },
    prepare: async () => '',
    call: (w) =>
      w.agent.authorize('email.send', 'email:launch', { summary: 'send the launch mail' }),
  },
  {
    name: 'artifacts.create',
    grant: { resource: 'artifact:*', actions: ['create'] },
    prepare: async () => '',
    call: (w) => w.agent.artifacts.create({ kind: 'text', title: 'Draft', content: 'a\n' }),
  },
  {
    name: 'artifacts.edit',
    grant: { resource: 'artifact:*', actions: ['write'] },
    prepare: readableDoc,
    call: (w, id) => w.agent.artifacts.edit(id, { content: 'b\n', baseVersion: 1, reason: 'r' }),
  },
  {
    name: 'artifacts.archive',
    grant: { resource: 'artifact:*', actions: ['write'] },
    prepare: readableDoc,
    call: (w, id) => w.agent.artifacts.archive(id),
  },
  {
    name: 'artifacts.claim / release',
    grant: { resource: 'artifact:*', actions: ['write'] },
    prepare: readableDoc,
    call: (w, id) => w.agent.artifacts.claim(id, { ttl: 60_000 }),
  },
  {
    name: 'artifacts.markSeen',
    grant: { resource: 'artifact:*', actions: ['read'] },
    prepare: doc,
    call: async (w, id) => {
      await w.agent.artifacts.markSeen(id);
      return w.agent.artifacts.seen(id);
    },
  },
  {
    name: 'context.record',
    grant: { resource: 'artifact:*', actions: ['read', 'comment'] },
    prepare: doc,
    call: (w, id) => w.agent.context.record({ type: 'note', about: [id], text: 'seen it' }),
  },
  {
    name: 'handoffs.offer',
    grant: { resource: 'artifact:*', actions: ['read', 'handoff'] },
    prepare: doc,
    call: (w, id) => w.agent.handoffs.offer({ to: w.ada.id, artifacts: [id], note: 'yours' }),
  },
  {
    name: 'handoffs.ask',
    // The question it records needs `comment`, granted apart from the grant under test.
    grant: { resource: 'workspace', actions: ['handoff'] },
    prepare: async (w) => {
      await w.me.capabilities.grant({
        to: w.drafter.id,
        resource: 'workspace',
        actions: ['comment'],
      });
      return '';
    },
    call: (w) => w.agent.handoffs.ask({ to: w.ada.id, question: 'Ship it?' }),
  },
  {
    name: 'handoffs.requestApproval',
    grant: {
      resource: 'email:*',
      actions: ['email.send'],
      requiresApproval: [{ action: 'email.send' }],
    },
    prepare: async () => '',
    call: (w) =>
      w.agent.handoffs.requestApproval({
        action: 'email.send',
        resource: `email:${Math.random()}`,
      }),
  },
];

/** An artifact Ada made, for the calls that act on one. */
async function doc(w: World): Promise<string> {
  return (await w.me.artifacts.create({ kind: 'text', title: 'Doc', content: 'a\n' })).id;
}

/**
 * {@link doc}, plus a separate grant to read it: the grant under test (its bounds, its
 * revocation) is then the one that allows the write, not the read before it.
 */
async function readableDoc(w: World): Promise<string> {
  const id = await doc(w);
  await w.me.capabilities.grant({
    to: w.drafter.id,
    resource: `artifact:${id}`,
    actions: ['read'],
  });
  return id;
}

/** Ways a grant can fail to allow the call; each returns the grant to issue and what to do after. */
const refusals: {
  name: string;
  reason: RegExp;
  setup: (w: World, grant: Omit<GrantInput, 'to'>) => Promise<void>;
}[] = [
  { name: 'no grant at all', reason: /no grant held by drafter/, setup: async () => {} },
  {
    name: 'an expired grant',
    reason: /expired/,
    setup: async (w, g) => {
      await w.me.capabilities.grant({ ...g, to: w.drafter.id, expiresAt: w.iso(60_000) });
      w.tick(61_000);
    },
  },
  {
    name: 'a grant not yet valid',
    reason: /not valid before/,
    setup: async (w, g) => {
      await w.me.capabilities.grant({ ...g, to: w.drafter.id, notBefore: w.iso(3_600_000) });
    },
  },
  {
    name: 'a used-up grant',
    reason: /used up/,
    setup: async (w, g) => {
      await w.me.capabilities.grant({ ...g, to: w.drafter.id, maxUses: 1 });
    },
  },
  {
    name: 'a revoked grant',
    reason: /revoked/,
    setup: async (w, g) => {
      const grant = await w.me.capabilities.grant({ ...g, to: w.drafter.id });
      await w.me.capabilities.revoke(grant.id, { reason: 'test' });
    },
  },
  {
    name: 'a grant for another resource',
    reason: /no grant held by drafter/,
    setup: async (w, g) => {
      await w.me.capabilities.grant({ ...g, to: w.drafter.id, resource: 'elsewhere:*' });
    },
  },
  {
    name: 'a suspended identity',
    reason: /suspended/,
    setup: async (w, g) => {
      await w.me.capabilities.grant({ ...g, to: w.drafter.id });
      await w.me.identities.suspend(w.drafter.id, { reason: 'test' });
    },
  },
];

describe('authorization of every built-in write', () => {
  for (const op of writes) {
    it(`lets ${op.name} through with a covering grant`, async () => {
      const w = await world();
      await w.me.capabilities.grant({ ...op.grant, to: w.drafter.id });
      const target = await op.prepare(w);
      await expect(op.call(w, target)).resolves.toBeDefined();
    });

    for (const r of refusals) {
      it(`refuses ${op.name} with FORBIDDEN under ${r.name}, writing nothing`, async () => {
        const w = await world();
        await r.setup(w, op.grant);
        if (r.name === 'a used-up grant') await op.call(w, await op.prepare(w));
        const target = await op.prepare(w);
        const before = await w.store.head();
        const err = await op.call(w, target).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toMatchObject({ name: 'BatonError', code: 'FORBIDDEN' });
        expect((err as Error).message).toMatch(r.reason);
        expect(await w.store.head()).toEqual(before);
      });
    }
  }

  it('covers every write in the exported operation table', () => {
    const tested = new Set(writes.map((w) => w.name.replace(/ \(.*\)$/, '')));
    // Writes that need no grant, or more than one (their own tests cover them): bootstrap;
    // acts on a handoff by its recipient or offerer; approve / deny (an approver the rule
    // names); answer; erase (owners only); emit (an app type's own rule).
    const special = new Set([
      'workspace.bootstrap',
      'handoffs.accept / decline / return / complete',
      'handoffs.cancel',
      'handoffs.approve / deny',
      'handoffs.answer',
      'erase',
      'emit',
    ]);
    const tableWrites = OPERATIONS.filter((o) => o.event && !special.has(o.operation));
    for (const o of tableWrites) expect(tested).toContain(o.operation);
  });
});

describe('grant chains', () => {
  it('refuses a delegated grant once its parent is revoked, and says which link', async () => {
    const w = await world();
    const parent = await w.me.capabilities.grant({
      to: w.drafter.id,
      resource: 'doc:*',
      actions: ['grant', 'read'],
    });
    const helper = await w.me.identities.create({ kind: 'agent', name: 'helper' });
    const child = await w.agent.capabilities.grant({
      to: helper.id,
      resource: 'doc:1',
      actions: ['read'],
    });
    expect(child.parent).toBe(parent.id);
    const h = w.ws.as(helper.id);
    const ok = await h.can('read', 'doc:1');
    expect(ok.allowed && ok.chain.map((g) => g.id)).toEqual([
      child.id,
      parent.id,
      `gr_root_${w.ada.id}`,
    ]);
    await w.me.capabilities.revoke(parent.id);
    const no = await h.can('read', 'doc:1');
    expect(no.allowed).toBe(false);
    expect(!no.allowed && no.reason).toMatch(
      new RegExp(`grant ${parent.id} \\(in the chain of ${child.id}\\) was revoked`),
    );
  });

  it('refuses to delegate more than the issuer holds', async () => {
    const w = await world();
    await w.me.capabilities.grant({
      to: w.drafter.id,
      resource: 'doc:*',
      actions: ['grant', 'read'],
    });
    const helper = await w.me.identities.create({ kind: 'agent', name: 'helper' });
    const before = await w.store.head();
    await expect(
      w.agent.capabilities.grant({ to: helper.id, resource: 'doc:1', actions: ['read', 'write'] }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(
      w.agent.capabilities.grant({ to: helper.id, resource: '*', actions: ['read'] }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await w.store.head()).toEqual(before);
  });

  it('refuses APPROVAL_REQUIRED (not FORBIDDEN) for an action that needs approval', async () => {
    const w = await world();
    await w.me.capabilities.grant({
      to: w.drafter.id,
      resource: 'artifact:*',
      actions: ['write', 'publish'],
      requiresApproval: [{ action: 'publish' }],
    });
    const before = await w.store.head();
    const err = await w.agent.authorize('publish', 'artifact:post').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'APPROVAL_REQUIRED', details: { approvers: [w.ada.id] } });
    // The only write is the approval request itself; asking again reuses it.
    const raised = await w.store.head();
    expect(raised.seq).toBe(before.seq + 1);
    const again = await w.agent.authorize('publish', 'artifact:post').catch((e: unknown) => e);
    expect(again).toMatchObject({
      details: { approvalId: (err as { details: { approvalId: string } }).details.approvalId },
    });
    expect(await w.store.head()).toEqual(raised);
    const d = await w.agent.can('publish', 'artifact:post');
    expect(d.allowed).toBe(false);
    expect(!d.allowed && d.approval?.approvers).toEqual([w.ada.id]);
    await expect(w.agent.authorize('write', 'artifact:post')).resolves.toBeDefined();
  });
});

describe('reads are authorized', () => {
  it('shows an actor without read grants only itself and what concerns it', async () => {
    const w = await world();
    const other = await w.me.identities.create({ kind: 'agent', name: 'other' });
    const g = await w.me.capabilities.grant({ to: other.id, resource: 'doc:*', actions: ['read'] });
    expect(await w.agent.identities.get(other.id)).toBeUndefined();
    expect(await w.agent.identities.get(w.ada.id)).toBeUndefined();
    expect((await w.agent.identities.get(w.drafter.id))?.name).toBe('drafter');
    expect((await w.agent.identities.list()).items.map((i) => i.id)).toEqual([w.drafter.id]);
    expect(await w.agent.capabilities.get(g.id)).toBeUndefined();
    expect((await w.agent.capabilities.list()).items).toEqual([]);
    const log = await w.agent.log();
    expect(log.items.map((e) => e.type)).toEqual(['identity.created@1']);
    expect(log.items[0]!.stream).toBe(`identity/${w.drafter.id}`);
  });

  it('bounds one log call by its page, not the history, and pages on to every readable event', async () => {
    const counting = countingStore(new MemoryStore());
    const w = await world({ store: counting.store });
    const hidden = LOG_SCAN_MIN + 200;
    for (let i = 0; i < hidden; i++) {
      await w.me.identities.create({ kind: 'agent', name: `hidden-${i}` });
    }
    const seen = await w.me.identities.create({ kind: 'agent', name: 'seen' });
    const g = await w.me.capabilities.grant({
      to: w.drafter.id,
      resource: `identity:${seen.id}`,
      actions: ['read'],
    });
    await w.agent.log({ limit: 1 }); // catches the actor's view up before counting
    counting.reset();
    const first = await w.agent.log({ limit: 5 });
    expect(counting.counts.events).toBeLessThanOrEqual(LOG_SCAN_MIN);
    expect(first.next).toBeDefined();
    const streams = first.items.map((e) => e.stream);
    let after = first.next;
    while (after !== undefined) {
      counting.reset();
      const page = await w.agent.log({ limit: 5, after: Number(after) });
      expect(counting.counts.events).toBeLessThanOrEqual(LOG_SCAN_MIN);
      streams.push(...page.items.map((e) => e.stream));
      after = page.next;
    }
    // Its own identity, the one it was granted, and the grant itself (which concerns it).
    expect(streams).toEqual([`identity/${w.drafter.id}`, `identity/${seen.id}`, `grant/${g.id}`]);
  });

  it('shows what a read grant covers and nothing more', async () => {
    const w = await world();
    const other = await w.me.identities.create({ kind: 'agent', name: 'other' });
    await w.me.capabilities.grant({
      to: w.drafter.id,
      resource: `identity:${other.id}`,
      actions: ['read'],
    });
    expect((await w.agent.identities.get(other.id))?.name).toBe('other');
    expect(await w.agent.identities.get(w.ada.id)).toBeUndefined();
    const streams = (await w.agent.log()).items.map((e) => e.stream);
    expect(streams).toContain(`identity/${other.id}`);
    expect(streams).not.toContain('workspace');
  });

  it('delivers to an actor’s watch only the events it may read', async () => {
    const w = await world({ pollIntervalMs: 20 });
    const seen: string[] = [];
    const stop = w.agent.subscribe({ after: 0 }, (e) => {
      seen.push(e.type);
    });
    await w.me.identities.create({ kind: 'agent', name: 'secret' });
    await w.me.capabilities.grant({ to: w.drafter.id, resource: 'doc:*', actions: ['read'] });
    await expect.poll(() => seen.length).toBe(2);
    await new Promise((r) => setTimeout(r, 60));
    stop();
    expect(seen).toEqual(['identity.created@1', 'grant.issued@1']);
  });

  it('delivers to an actor’s subscription the events of a handoff it is a party to, and not to others', async () => {
    const w = await world({ pollIntervalMs: 20 });
    const other = await w.me.identities.create({ kind: 'agent', name: 'other' });
    const doc = await w.me.artifacts.create({ kind: 'text', title: 'Doc', content: 'a\n' });
    // The drafter may read the doc (to be handed it), and nothing about handoffs.
    await w.me.capabilities.grant({
      to: w.drafter.id,
      resource: `artifact:${doc.id}`,
      actions: ['read'],
    });
    const heard = (actor: typeof w.agent) => {
      const seen: string[] = [];
      const stop = actor.subscribe({ after: 0 }, (e) => {
        if (e.stream.startsWith('handoff/')) seen.push(e.type);
      });
      return { seen, stop };
    };
    const drafter = heard(w.agent);
    const outsider = heard(w.ws.as(other.id));
    const h = await w.me.handoffs.offer({ to: w.drafter.id, artifacts: [doc.id], note: 'Yours' });
    await w.me.handoffs.cancel(h.id);
    await expect.poll(() => drafter.seen.length).toBe(2);
    await new Promise((r) => setTimeout(r, 60));
    drafter.stop();
    outsider.stop();
    expect(drafter.seen).toEqual(['handoff.offered@1', 'handoff.cancelled@1']);
    expect(outsider.seen).toEqual([]);
  });
});

describe('two Workspace instances on one store', () => {
  it('answers canNow from the last catch-up without reading the store, and workspace.head() catches up to the head it returns', async () => {
    const w = await world();
    const ws2 = await w.peer();
    const agent2 = ws2.as(w.drafter.id);
    expect(agent2.canNow('email.send', 'email:1').allowed).toBe(false);
    await w.me.capabilities.grant({
      to: w.drafter.id,
      resource: 'email:*',
      actions: ['email.send'],
      expiresAt: w.iso(60_000),
    });
    // Granted through the other instance: not seen until this one catches up.
    expect(agent2.canNow('email.send', 'email:1').allowed).toBe(false);
    const head = await ws2.head();
    expect(head).toEqual(await w.store.head());
    expect(agent2.canNow('email.send', 'email:1')).toMatchObject({ allowed: true });
    expect(agent2.canNow('email.send', 'email:1')).toEqual(
      await agent2.can('email.send', 'email:1'),
    );
    // Expiry needs no commit: it is checked at the current time.
    w.tick(61_000);
    expect(agent2.canNow('email.send', 'email:1').allowed).toBe(false);
    expect(() => agent2.canNow('', 'email:1')).toThrow(
      expect.objectContaining({ code: 'VALIDATION' }),
    );
  });

  it('honours a grant revoked through one on the other’s very next call', async () => {
    const w = await world();
    const ws2 = await w.peer();
    const g = await w.me.capabilities.grant({
      to: w.drafter.id,
      resource: 'email:*',
      actions: ['email.send'],
    });
    const agent2 = ws2.as(w.drafter.id);
    await expect(agent2.authorize('email.send', 'email:1')).resolves.toBeDefined();
    await w.me.capabilities.revoke(g.id);
    expect((await agent2.can('email.send', 'email:1')).allowed).toBe(false);
    await expect(agent2.authorize('email.send', 'email:2')).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    const me2 = ws2.as(w.ada.id);
    const g2 = await me2.capabilities.grant({
      to: w.drafter.id,
      resource: 'email:*',
      actions: ['email.send'],
    });
    expect((await w.agent.can('email.send', 'email:3')).allowed).toBe(true);
    await me2.capabilities.revoke(g2.id);
    await expect(w.agent.authorize('email.send', 'email:3')).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    expect((await w.ws.verify()).ok).toBe(true);
  });

  it('counts maxUses across instances', async () => {
    const w = await world();
    const ws2 = await w.peer();
    await w.me.capabilities.grant({
      to: w.drafter.id,
      resource: 'email:*',
      actions: ['email.send'],
      maxUses: 2,
    });
    await w.agent.authorize('email.send', 'email:1');
    await ws2.as(w.drafter.id).authorize('email.send', 'email:2');
    await expect(w.agent.authorize('email.send', 'email:3')).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await expect(ws2.as(w.drafter.id).authorize('email.send', 'email:3')).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
  });

  it('never lets concurrent calls in two instances exceed maxUses', async () => {
    const w = await world();
    const ws2 = await w.peer();
    await w.me.capabilities.grant({
      to: w.drafter.id,
      resource: 'email:*',
      actions: ['email.send'],
      maxUses: 20,
    });
    const agents = [w.agent, ws2.as(w.drafter.id)];
    const results = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) => agents[i % 2]!.authorize('email.send', `email:${i}`)),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(20);
    for (const r of results.filter((r) => r.status === 'rejected')) {
      expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'FORBIDDEN' });
    }
    expect((await w.agent.can('email.send', 'email:x')).allowed).toBe(false);
    expect((await w.ws.verify()).ok).toBe(true);
  });

  it('serializes racing writers: both commit, the log stays a chain, and verify passes', async () => {
    const w = await world();
    const ws2 = await w.peer();
    let retries = 0;
    const ws3 = await w.peer({ hooks: { onConflictRetry: () => retries++ } });
    const me2 = ws2.as(w.ada.id);
    const me3 = ws3.as(w.ada.id);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? me2 : me3).identities.create({ kind: 'agent', name: `a${i}` }),
      ),
    );
    const report = await w.ws.verify();
    expect(report).toMatchObject({ ok: true, events: 22 });
    expect(retries).toBeGreaterThan(0);
    expect((await w.me.identities.list()).items.length).toBe(22);
  });
});

describe('approval requests in the authority view', () => {
  const request = (id: string, requester: string): ApprovalRequest => ({
    id,
    requester,
    approvers: ['id_ada'],
    grant: 'gr_1',
    action: 'publish',
    resource: 'artifact:a',
    digest: `d_${id}`,
    status: 'pending',
    seq: 1,
  });

  it('changes the view only when a transaction commits, dropping what left it', () => {
    const view = new AuthorityView();
    const tx = view.begin();
    tx.putApproval(request('ho_1', 'id_a'));
    tx.putApproval(request('ho_2', 'id_a'));
    expect(view.approval('ho_1')).toBeUndefined();
    expect(tx.approvalsBy('id_a').map((a) => a.id)).toEqual(['ho_1', 'ho_2']);
    tx.seq = 2;
    tx.commit();
    const next = view.begin();
    next.dropApproval('ho_1');
    next.putApproval({ ...request('ho_2', 'id_a'), status: 'approved' });
    expect(next.approval('ho_1')).toBeUndefined();
    expect(next.approvalsBy('id_a')).toMatchObject([{ id: 'ho_2', status: 'approved' }]);
    // Not committed: the view is as it was.
    expect(view.approvalsBy('id_a').map((a) => [a.id, a.status])).toEqual([
      ['ho_1', 'pending'],
      ['ho_2', 'pending'],
    ]);
    next.seq = 3;
    next.commit();
    expect([...view.approvals.keys()]).toEqual(['ho_2']);
  });

  it('keeps approval requests through a snapshot, and leaves them out of one when there are none', () => {
    const view = new AuthorityView();
    expect(snapshotOf(view).approvals).toBeUndefined();
    const tx = view.begin();
    tx.putApproval(request('ho_b', 'id_a'));
    tx.putApproval({ ...request('ho_a', 'id_b'), status: 'approved', approvedPayloadHash: 'h' });
    tx.seq = 5;
    tx.commit();
    const snap = snapshotOf(view);
    expect(snap.approvals?.map((a) => a.id)).toEqual(['ho_a', 'ho_b']);
    expect(snapshotOf(viewFromSnapshot(snap))).toEqual(snap);
  });
});
