import {
  type BatonEvent,
  canonicalJson,
  eventHash,
  type Handoff,
  type JsonValue,
  MAX_DELEGATION_DEPTH,
  MemoryStore,
  type SignedEvent,
  type Store,
  sha256b64,
  Workspace,
} from '@baton/core';
import { describe, expect, it } from 'vitest';
import { signedBy } from './signedBy.js';

/**
 * Issue 12, findings 1–4 and 7 (authorization and approvals): each through the public API,
 * through `ws.submit()` of events signed by hand, and through `verify()` of a log into
 * which such an event was appended raw, as whoever controls the storage could.
 */

/** Ada (owner), the drafter agent (publishing gated on Ada), Bob (a human) on a MemoryStore. */
async function world() {
  const clock = { now: Date.parse('2026-11-21T12:00:00.000Z') };
  const store = new MemoryStore();
  const ws = await Workspace.open({ store, clock: () => clock.now });
  const ada = await ws.bootstrap({ name: 'Ada' });
  const me = ws.as(ada.id);
  const drafter = await me.identities.create({ kind: 'agent', name: 'drafter' });
  const bob = await me.identities.create({ kind: 'human', name: 'Bob' });
  const agent = ws.as(drafter.id);
  const grant = await me.capabilities.grant({
    to: drafter.id,
    resource: 'artifact:*',
    actions: ['read', 'write', 'publish'],
    requiresApproval: [{ action: 'publish' }],
  });
  let n = 0;
  return {
    clock,
    store,
    ws,
    ada,
    me,
    drafter,
    bob,
    agent,
    grant,
    /** A second Workspace instance on the same memory, keyring and clock. */
    peer: () =>
      Workspace.open({ store: store.peer(), keyring: ws.keyring, clock: () => clock.now }),
    /** An event signed by `actor`'s key, as an outside party would submit it. */
    async sign(
      actor: string,
      type: string,
      stream: string,
      data: JsonValue,
      auth?: string,
    ): Promise<SignedEvent> {
      const fields = {
        ws: ws.id!,
        id: `ev_hand_${n++}`,
        stream,
        type,
        actor,
        ...(auth !== undefined ? { auth } : {}),
        at: new Date(clock.now).toISOString(),
        data,
        refs: [],
      };
      return signedBy(ws.keyring, fields);
    },
  };
}

type World = Awaited<ReturnType<typeof world>>;

function digestOf(payload: JsonValue): string {
  return sha256b64(canonicalJson(payload));
}

async function refusal(p: Promise<unknown>) {
  return p.then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: unknown) =>
      e as { code: string; message: string; details: Record<string, JsonValue | undefined> },
  );
}

/** Submits `events`, expecting a refusal that writes nothing. */
async function refusedSubmit(w: World, events: SignedEvent[]) {
  const head = await w.store.head();
  const err = await refusal(w.ws.submit(events));
  expect(await w.store.head()).toEqual(head);
  return err;
}

/** Appends `e` unchecked after the store's head, as an attacker holding the storage could. */
async function appendRaw(store: Store, e: SignedEvent): Promise<BatonEvent> {
  const head = await store.head();
  let version = 0;
  for await (const x of store.read({ stream: e.stream })) version = x.version;
  const body = { ...e, version: version + 1, seq: head.seq + 1, prev: head.hash } as BatonEvent;
  const event: BatonEvent = { ...body, hash: eventHash(body) };
  await store.append({ events: [event], expectedHead: head, projections: [] });
  return event;
}

/** `verify()` of the store by a fresh instance: not ok, at the raw event. */
async function expectVerifyRefuses(w: World, at: BatonEvent, reason: RegExp) {
  const fresh = await Workspace.open({ store: w.store.peer(), keyring: w.ws.keyring });
  const report = await fresh.verify();
  expect(report.ok).toBe(false);
  expect(report.problem).toMatchObject({ seq: at.seq, reason: expect.stringMatching(reason) });
}

/** A publish request by the drafter, pending in Ada's inbox. */
async function request(w: World, payload?: JsonValue, resource = 'artifact:post') {
  const err = await refusal(w.agent.authorize('publish', resource, { payload }));
  expect(err.code).toBe('APPROVAL_REQUIRED');
  return err.details.approvalId as string;
}

/** The drafter's hand-made use of approval `id`: its consumption, then the exercise. */
async function handUse(w: World, id: string, payload: JsonValue | undefined, grant = w.grant.id) {
  const data: Record<string, JsonValue> = {
    approval: id,
    grant,
    action: 'publish',
    resource: 'artifact:post',
  };
  if (payload !== undefined) data.payloadDigest = digestOf(payload);
  return [
    await w.sign(w.drafter.id, 'handoff.consumed@1', `handoff/${id}`, { id }),
    await w.sign(w.drafter.id, 'grant.exercised@1', `grant/${grant}`, data, grant),
  ];
}

describe('approvals named by an exercise (#1)', () => {
  it('#1 refuses a submitted grant.exercised that names an approval which does not exist, and verify() reports it', async () => {
    const w = await world();
    const data = { grant: w.grant.id, action: 'publish', resource: 'artifact:post' };
    const without = await w.sign(
      w.drafter.id,
      'grant.exercised@1',
      `grant/${w.grant.id}`,
      data,
      w.grant.id,
    );
    expect((await refusedSubmit(w, [without])).code).toBe('APPROVAL_REQUIRED');
    const named = await w.sign(
      w.drafter.id,
      'grant.exercised@1',
      `grant/${w.grant.id}`,
      { ...data, approval: 'ho_nothing' },
      w.grant.id,
    );
    const err = await refusedSubmit(w, [named]);
    expect(err.code).toBe('FORBIDDEN');
    expect(err.message).toMatch(/ho_nothing/);
    const raw = await appendRaw(w.store, named);
    await expectVerifyRefuses(w, raw, /ho_nothing/);
  });

  it('#1 admits a use of an approval only for its requester, payload and grant, right after its consumption, and once', async () => {
    const w = await world();
    const id = await request(w, { v: 4 });
    // Not approved yet: neither the consumption nor the use is admitted.
    expect((await refusedSubmit(w, await handUse(w, id, { v: 4 }))).code).toBe('INVALID_STATE');
    await w.me.handoffs.approve(id);
    // Another payload, another identity, or an exercise without its consumption: refused.
    expect((await refusedSubmit(w, await handUse(w, id, { v: 5 }))).code).toBe('FORBIDDEN');
    const [, exercise] = await handUse(w, id, { v: 4 });
    expect((await refusedSubmit(w, [exercise!])).code).toBe('INVALID_STATE');
    await w.me.capabilities.grant({ to: w.bob.id, resource: 'artifact:*', actions: ['publish'] });
    const bobs = await w.sign(w.bob.id, 'handoff.consumed@1', `handoff/${id}`, { id });
    expect((await refusedSubmit(w, [bobs])).code).toBe('FORBIDDEN');
    // The requester's own pair, signed by hand, is the one use.
    const used = await w.ws.submit(await handUse(w, id, { v: 4 }));
    expect(used.map((e) => e.type)).toEqual(['handoff.consumed@1', 'grant.exercised@1']);
    expect((await w.me.handoffs.get(id)).status).toBe('consumed');
    const again = await refusedSubmit(w, await handUse(w, id, { v: 4 }));
    expect(again.code).toBe('NOT_FOUND');
    await expect(
      w.agent.authorize('publish', 'artifact:post', { payload: { v: 4 } }),
    ).rejects.toMatchObject({
      code: 'APPROVAL_REQUIRED',
    });
    expect((await w.ws.verify()).ok).toBe(true);
    // A second use appended raw is caught by verify().
    const [c2, x2] = await handUse(w, id, { v: 4 });
    const raw = await appendRaw(w.store, c2!);
    await appendRaw(w.store, x2!);
    await expectVerifyRefuses(w, raw, /not pending or approved/);
  });

  it('#1 lets exactly one of two instances use an approval when they race for it', async () => {
    const w = await world();
    const id = await request(w, { v: 1 });
    await w.me.handoffs.approve(id);
    const ws2 = await w.peer();
    const results = await Promise.allSettled([
      w.agent.authorize('publish', 'artifact:post', { payload: { v: 1 } }),
      ws2.as(w.drafter.id).authorize('publish', 'artifact:post', { payload: { v: 1 } }),
    ]);
    const passed = results.filter((r) => r.status === 'fulfilled');
    expect(passed).toHaveLength(1);
    expect((passed[0] as PromiseFulfilledResult<{ approval?: string }>).value.approval).toBe(id);
    const uses = (await w.me.log({ types: ['grant.exercised'] })).items.filter(
      (e) => (e.data as { approval?: string }).approval === id,
    );
    expect(uses).toHaveLength(1);
    expect((await w.ws.verify()).ok).toBe(true);
  });
});

describe('decisions judged against the request (#2)', () => {
  async function bobApproves() {
    const w = await world();
    // Bob is the approver the grant names, but holds `approve` only on `workspace`.
    const g = await w.me.capabilities.grant({
      to: w.drafter.id,
      resource: 'doc:*',
      actions: ['publish'],
      requiresApproval: [{ action: 'publish', approvers: [w.bob.id] }],
    });
    await w.me.capabilities.grant({ to: w.bob.id, resource: 'workspace', actions: ['approve'] });
    await w.me.capabilities.grant({ to: w.bob.id, resource: 'handoff:*', actions: ['read'] });
    const err = await refusal(w.agent.authorize('publish', 'doc:launch'));
    expect(err.code).toBe('APPROVAL_REQUIRED');
    return { w, g, id: err.details.approvalId as string };
  }

  it('#2 refuses a submitted handoff.decided by an approver without approve on the request’s resource, and verify() reports it', async () => {
    const { w, id } = await bobApproves();
    const bob = w.ws.as(w.bob.id);
    await expect(bob.handoffs.approve(id)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const bobGrant = (await bob.capabilities.list({ audience: w.bob.id })).items.find(
      (g) => g.resource === 'workspace',
    )!;
    const claims = { id, decision: 'approved', requester: w.drafter.id, approvers: [w.bob.id] };
    // Claiming the resource Bob may approve on, or the request's own one: refused alike.
    for (const resource of ['workspace', 'doc:launch']) {
      const forged = await w.sign(
        w.bob.id,
        'handoff.decided@1',
        `handoff/${id}`,
        { ...claims, resource },
        bobGrant.id,
      );
      expect((await refusedSubmit(w, [forged])).code).toBe('FORBIDDEN');
    }
    expect((await bob.handoffs.get(id)).status).toBe('offered');
    await expect(w.agent.authorize('publish', 'doc:launch')).rejects.toMatchObject({
      code: 'APPROVAL_REQUIRED',
    });
    const forged = await w.sign(
      w.bob.id,
      'handoff.decided@1',
      `handoff/${id}`,
      { ...claims, resource: 'workspace' },
      bobGrant.id,
    );
    const raw = await appendRaw(w.store, forged);
    await expectVerifyRefuses(w, raw, /approve on doc:launch/);
  });

  it('#2 refuses a decision that lies about the request’s requester, resource or approvers, or comes twice', async () => {
    const { w, id } = await bobApproves();
    const bobDoc = await w.me.capabilities.grant({
      to: w.bob.id,
      resource: 'doc:*',
      actions: ['approve'],
    });
    const decide = (data: Record<string, JsonValue>) =>
      w.sign(
        w.bob.id,
        'handoff.decided@1',
        `handoff/${id}`,
        {
          id,
          decision: 'approved',
          resource: 'doc:launch',
          requester: w.drafter.id,
          approvers: [w.bob.id],
          ...data,
        },
        bobDoc.id,
      );
    const lies: Record<string, JsonValue>[] = [
      { requester: w.ada.id },
      { resource: 'doc:other' },
      { approvers: [w.bob.id, w.ada.id] },
    ];
    for (const lie of lies) {
      const err = await refusedSubmit(w, [await decide(lie)]);
      expect(err.code).toBe('VALIDATION');
    }
    // The truthful decision commits, and the request is then approved.
    await w.ws.submit([await decide({})]);
    expect((await w.me.handoffs.get(id)).status).toBe('approved');
    expect((await refusedSubmit(w, [await decide({ decision: 'denied' })])).code).toBe(
      'INVALID_STATE',
    );
    // A decision on something that is no approval request at all.
    const none = await w.sign(
      w.bob.id,
      'handoff.decided@1',
      'handoff/ho_none',
      {
        id: 'ho_none',
        decision: 'approved',
        resource: 'doc:launch',
        requester: w.drafter.id,
        approvers: [w.bob.id],
      },
      bobDoc.id,
    );
    expect((await refusedSubmit(w, [none])).code).toBe('NOT_FOUND');
    expect((await w.ws.verify()).ok).toBe(true);
  });

  it('#2 refuses a handoff.consumed by anyone but the requester, or of a request not approved', async () => {
    const w = await world();
    const id = await request(w);
    const byDrafter = await w.sign(w.drafter.id, 'handoff.consumed@1', `handoff/${id}`, { id });
    expect((await refusedSubmit(w, [byDrafter])).code).toBe('INVALID_STATE');
    await w.me.handoffs.approve(id);
    const byAda = await w.sign(w.ada.id, 'handoff.consumed@1', `handoff/${id}`, { id });
    expect((await refusedSubmit(w, [byAda])).code).toBe('FORBIDDEN');
    const raw = await appendRaw(w.store, byAda);
    await expectVerifyRefuses(w, raw, /may use it/);
  });
});

describe('the approver’s edited payload (#3)', () => {
  it('#3 passes only the payload the approver approved, returning it as approvedPayload', async () => {
    const w = await world();
    const id = await request(w, { amount: 1000 });
    const [approved] = await w.me.handoffs.approve(id, { payload: { amount: 10 } });
    expect(approved!.approvedPayload).toEqual({ amount: 10 });
    const head = await w.store.head();
    const asked = await refusal(
      w.agent.authorize('publish', 'artifact:post', { payload: { amount: 1000 } }),
    );
    expect(asked).toMatchObject({
      code: 'FORBIDDEN',
      details: { approvalId: id, approvedPayload: { amount: 10 } },
    });
    expect(await w.store.head()).toEqual(head);
    expect((await w.me.handoffs.get(id)).status).toBe('approved');
    // The requested payload, signed and submitted by hand, is refused too.
    expect((await refusedSubmit(w, await handUse(w, id, { amount: 1000 }))).code).toBe('FORBIDDEN');
    const used = await w.agent.authorize('publish', 'artifact:post', { payload: { amount: 10 } });
    expect(used).toMatchObject({ approval: id, approvedPayload: { amount: 10 } });
    expect((await w.me.handoffs.get(id)).status).toBe('consumed');
    expect((await w.ws.verify()).ok).toBe(true);
  });

  it('#3 returns the requested payload as approvedPayload when the approver did not edit it', async () => {
    const w = await world();
    const id = await request(w, { amount: 5 });
    await w.me.handoffs.approve(id);
    const used = await w.agent.authorize('publish', 'artifact:post', { payload: { amount: 5 } });
    expect(used).toMatchObject({ approval: id, approvedPayload: { amount: 5 } });
  });

  it('#3 binds an edited payload across a reopen of the workspace', async () => {
    const w = await world();
    const id = await request(w, { amount: 1000 });
    await w.me.handoffs.approve(id, { payload: { amount: 10 } });
    const ws2 = await Workspace.open({ store: w.store.peer(), keyring: w.ws.keyring });
    const agent2 = ws2.as(w.drafter.id);
    await expect(
      agent2.authorize('publish', 'artifact:post', { payload: { amount: 1000 } }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(
      agent2.authorize('publish', 'artifact:post', { payload: { amount: 10 } }),
    ).resolves.toMatchObject({ approval: id });
  });
});

describe('authorize() retried with its idempotencyKey (#4)', () => {
  it('#4 returns the first authorization of a call that needed an approval, writing nothing more', async () => {
    const w = await world();
    const call = (ws: Workspace = w.ws) =>
      ws.as(w.drafter.id).authorize('publish', 'artifact:post', {
        payload: { v: 7 },
        idempotencyKey: 'publish-v7',
      });
    const asked = await refusal(call());
    expect(asked.code).toBe('APPROVAL_REQUIRED');
    await w.me.handoffs.approve(asked.details.approvalId as string);
    const first = await call();
    expect(first.approval).toBe(asked.details.approvalId);
    const head = await w.store.head();
    const again = await call();
    expect(again.event.id).toBe(first.event.id);
    expect(again).toMatchObject({ approval: first.approval, approvedPayload: { v: 7 } });
    // In another instance too, and nothing new waits in the approver's inbox.
    const elsewhere = await call(await w.peer());
    expect(elsewhere.event.id).toBe(first.event.id);
    expect(await w.store.head()).toEqual(head);
    expect((await w.me.inbox({ kinds: ['approval'] })).items).toEqual([]);
  });

  it('#4 returns the first authorization of a call that needed none', async () => {
    const w = await world();
    await w.me.capabilities.grant({
      to: w.drafter.id,
      resource: 'email:*',
      actions: ['email.send'],
    });
    const call = () => w.agent.authorize('email.send', 'email:1', { idempotencyKey: 'mail-1' });
    const first = await call();
    const head = await w.store.head();
    expect((await call()).event.id).toBe(first.event.id);
    expect(await w.store.head()).toEqual(head);
  });
});

describe('delegation chains (#7)', () => {
  /** A chain of `links` grants below Ada's root, each to a new agent; `maxUses` on the first. */
  async function chain(links: number, maxUses?: number) {
    const w = await world();
    const holders: string[] = [];
    let from = w.me;
    for (let i = 0; i < links; i++) {
      const agent = await w.me.identities.create({ kind: 'agent', name: `link${i + 1}` });
      await from.capabilities.grant({
        to: agent.id,
        resource: 'email:*',
        actions: ['grant', 'email.send'],
        ...(i === 0 && maxUses !== undefined ? { maxUses } : {}),
      });
      holders.push(agent.id);
      from = w.ws.as(agent.id);
    }
    return { w, holders, leaf: from };
  }

  it('#7 refuses a grant that would be link 33 of a chain, through the API, submit and verify()', async () => {
    expect(MAX_DELEGATION_DEPTH).toBe(32);
    const { w, leaf } = await chain(MAX_DELEGATION_DEPTH);
    const next = await w.me.identities.create({ kind: 'agent', name: 'one too many' });
    const head = await w.store.head();
    const err = await refusal(
      leaf.capabilities.grant({ to: next.id, resource: 'email:*', actions: ['email.send'] }),
    );
    expect(err.code).toBe('FORBIDDEN');
    expect(err.message).toMatch(/limited to 32 links/);
    expect(await w.store.head()).toEqual(head);
    const held = (await leaf.capabilities.list({ audience: leaf.id })).items[0]!;
    const forged = await w.sign(
      leaf.id,
      'grant.issued@1',
      'grant/gr_too_deep',
      {
        id: 'gr_too_deep',
        audience: next.id,
        resource: 'email:*',
        actions: ['email.send'],
        constraints: {},
      },
      held.id,
    );
    expect((await refusedSubmit(w, [forged])).code).toBe('FORBIDDEN');
    const raw = await appendRaw(w.store, forged);
    await expectVerifyRefuses(w, raw, /limited to 32 links/);
  });

  it('#7 counts a first link’s maxUses through every link of the longest chain allowed', async () => {
    // Issuing each child is a use of every grant above it: 31 uses before the leaf acts.
    const { w, leaf } = await chain(MAX_DELEGATION_DEPTH, MAX_DELEGATION_DEPTH - 1 + 3);
    for (let i = 0; i < 3; i++) await leaf.authorize('email.send', `email:${i}`);
    const err = await refusal(leaf.authorize('email.send', 'email:3'));
    expect(err.code).toBe('FORBIDDEN');
    expect(err.message).toMatch(/used up/);
    expect((await w.ws.verify()).ok).toBe(true);
    // Replayed from the log in another instance, the count is the same.
    const ws2 = await w.peer();
    await expect(ws2.as(leaf.id).authorize('email.send', 'email:4')).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
  });
});

describe('the approval state every path sees', () => {
  it('keeps a pending request decidable, and an approved one usable once, across a reopen and a checkpoint', async () => {
    const w = await world();
    const pending = await request(w, { n: 1 });
    const approved = await request(w, { n: 2 });
    await w.me.handoffs.approve(approved);
    const cp = await w.ws.checkpoint();
    const ws2 = await Workspace.open({ store: w.store.peer(), keyring: w.ws.keyring });
    await ws2.as(w.ada.id).handoffs.approve(pending);
    const agent2 = ws2.as(w.drafter.id);
    const one = await agent2.authorize('publish', 'artifact:post', { payload: { n: 1 } });
    const two = await agent2.authorize('publish', 'artifact:post', { payload: { n: 2 } });
    expect([one.approval, two.approval]).toEqual([pending, approved]);
    const h: Handoff = await ws2.as(w.ada.id).handoffs.get(approved);
    expect(h.status).toBe('consumed');
    expect((await ws2.verify({ from: cp })).ok).toBe(true);
    expect((await ws2.verify()).ok).toBe(true);
  });

  it('drops a request its requester cancels: it can no longer be approved', async () => {
    const w = await world();
    const id = await request(w);
    await w.agent.handoffs.cancel(id);
    const err = await refusal(w.me.handoffs.approve(id));
    expect(err.code).toBe('INVALID_STATE');
    const forged = await w.sign(
      w.ada.id,
      'handoff.decided@1',
      `handoff/${id}`,
      {
        id,
        decision: 'approved',
        resource: 'artifact:post',
        requester: w.drafter.id,
        approvers: [w.ada.id],
      },
      `gr_root_${w.ada.id}`,
    );
    expect((await refusedSubmit(w, [forged])).code).toBe('NOT_FOUND');
  });
});
