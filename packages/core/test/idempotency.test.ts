import { describe, expect, it } from 'vitest';
import { type SignedEvent, type SignedFields, signingBytes, toBase64url } from '../src/index.js';
import { world } from './world.js';

async function sign(
  w: Awaited<ReturnType<typeof world>>,
  fields: Omit<SignedFields, 'ws'>,
): Promise<SignedEvent> {
  const full = { ws: w.ws.id!, ...fields } as SignedFields;
  const signer = (await w.ws.keyring.signer(fields.actor))!;
  return { ...full, sig: toBase64url(await signer.sign(signingBytes(full))) };
}

describe('idempotency', () => {
  it('returns the original commit when a command is retried with the same key and input', async () => {
    const w = await world();
    const a = await w.me.identities.create({ kind: 'agent', name: 'x', idempotencyKey: 'k1' });
    const head = await w.store.head();
    const b = await w.me.identities.create({ kind: 'agent', name: 'x', idempotencyKey: 'k1' });
    expect(b).toEqual(a);
    expect(await w.store.head()).toEqual(head);
  });

  it('recognises a retry from a second Workspace instance (a new process after a crash)', async () => {
    const w = await world();
    const g = await w.me.capabilities.grant({
      to: w.drafter.id,
      resource: 'doc:*',
      actions: ['read'],
      idempotencyKey: 'g',
    });
    const ws2 = await w.peer();
    const again = await ws2.as(w.ada.id).capabilities.grant({
      to: w.drafter.id,
      resource: 'doc:*',
      actions: ['read'],
      idempotencyKey: 'g',
    });
    expect(again.id).toBe(g.id);
    expect((await w.me.capabilities.list({ audience: w.drafter.id })).items).toHaveLength(1);
  });

  it('lets two racing retries with one key commit once', async () => {
    const w = await world();
    await w.me.capabilities.grant({
      to: w.drafter.id,
      resource: 'email:*',
      actions: ['email.send'],
    });
    const ws2 = await w.peer();
    const [a, b] = await Promise.all([
      w.agent.authorize('email.send', 'email:1', { idempotencyKey: 'send-1' }),
      ws2.as(w.drafter.id).authorize('email.send', 'email:1', { idempotencyKey: 'send-1' }),
    ]);
    expect(a.event.id).toBe(b.event.id);
    const log = await w.me.log({ types: ['grant.exercised@1'] });
    expect(log.items).toHaveLength(1);
  });

  it('refuses the same key with a different input as VALIDATION, writing nothing', async () => {
    const w = await world();
    await w.me.identities.create({ kind: 'agent', name: 'x', idempotencyKey: 'k1' });
    const head = await w.store.head();
    await expect(
      w.me.identities.create({ kind: 'agent', name: 'y', idempotencyKey: 'k1' }),
    ).rejects.toMatchObject({
      code: 'VALIDATION',
      message: expect.stringMatching(/idempotencyKey "k1" was used before/),
    });
    expect(await w.store.head()).toEqual(head);
  });

  it('treats the same key from two identities as two requests', async () => {
    const w = await world();
    await w.me.capabilities.grant({
      to: w.drafter.id,
      resource: 'identity:*',
      actions: ['create'],
    });
    const a = await w.me.identities.create({ kind: 'agent', name: 'x', idempotencyKey: 'same' });
    const b = await w.agent.identities.create({ kind: 'agent', name: 'y', idempotencyKey: 'same' });
    expect(a.id).not.toBe(b.id);
  });

  it('returns the original commit when a pre-signed event is submitted again', async () => {
    const w = await world();
    await w.me.capabilities.grant({ to: w.drafter.id, resource: 'note:*', actions: ['note.add'] });
    const grant = (await w.agent.can('note.add', 'note:1')) as { grant: { id: string } };
    const e = await sign(w, {
      id: 'ev_client_1',
      stream: `grant/${grant.grant.id}`,
      type: 'grant.exercised@1',
      actor: w.drafter.id,
      auth: grant.grant.id,
      at: w.iso(0),
      data: { grant: grant.grant.id, action: 'note.add', resource: 'note:1' },
      refs: ['note:1'],
    });
    const [first] = await w.ws.submit([e]);
    const head = await w.store.head();
    const [second] = await w.ws.submit([e]);
    expect(second).toEqual(first);
    expect(await w.store.head()).toEqual(head);
  });

  it('refuses a pre-signed event whose id exists with other content as VALIDATION', async () => {
    const w = await world();
    await w.me.capabilities.grant({ to: w.drafter.id, resource: 'note:*', actions: ['note.add'] });
    const grant = (await w.agent.can('note.add', 'note:1')) as { grant: { id: string } };
    const base = {
      id: 'ev_client_2',
      stream: `grant/${grant.grant.id}`,
      type: 'grant.exercised@1',
      actor: w.drafter.id,
      auth: grant.grant.id,
      at: w.iso(0),
      refs: ['note:1'],
    };
    await w.ws.submit([
      await sign(w, {
        ...base,
        data: { grant: grant.grant.id, action: 'note.add', resource: 'note:1' },
      }),
    ]);
    const head = await w.store.head();
    const other = await sign(w, {
      ...base,
      data: { grant: grant.grant.id, action: 'note.add', resource: 'note:2' },
    });
    await expect(w.ws.submit([other])).rejects.toMatchObject({ code: 'VALIDATION' });
    expect(await w.store.head()).toEqual(head);
  });
});

describe('the skew window for event times', () => {
  async function exercise(w: Awaited<ReturnType<typeof world>>, at: string, id: string) {
    const d = (await w.agent.can('note.add', 'note:1')) as { grant: { id: string } };
    return sign(w, {
      id,
      stream: `grant/${d.grant.id}`,
      type: 'grant.exercised@1',
      actor: w.drafter.id,
      auth: d.grant.id,
      at,
      data: { grant: d.grant.id, action: 'note.add', resource: 'note:1' },
      refs: [],
    });
  }

  it('accepts an event whose time is inside the window of the committer’s clock, either side', async () => {
    const w = await world();
    await w.me.capabilities.grant({ to: w.drafter.id, resource: 'note:*', actions: ['note.add'] });
    await expect(w.ws.submit([await exercise(w, w.iso(-119_000), 'ev_a')])).resolves.toHaveLength(
      1,
    );
    await expect(w.ws.submit([await exercise(w, w.iso(119_000), 'ev_b')])).resolves.toHaveLength(1);
  });

  it('refuses an event more than the window ahead of or behind the committer’s clock, writing nothing', async () => {
    const w = await world();
    await w.me.capabilities.grant({ to: w.drafter.id, resource: 'note:*', actions: ['note.add'] });
    const head = await w.store.head();
    await expect(w.ws.submit([await exercise(w, w.iso(121_000), 'ev_c')])).rejects.toMatchObject({
      code: 'VALIDATION',
      message: expect.stringMatching(/window/),
    });
    await expect(w.ws.submit([await exercise(w, w.iso(-121_000), 'ev_d')])).rejects.toMatchObject({
      code: 'VALIDATION',
    });
    expect(await w.store.head()).toEqual(head);
  });

  it('refuses a commit from a clock more than the window behind the previous event', async () => {
    const w = await world();
    w.tick(10 * 60_000); // the first committer's clock runs 10 minutes ahead of the peer's
    await w.me.identities.create({ kind: 'agent', name: 'ahead' });
    const behind = await (async () => {
      const ws3 = await w.peer({ clock: () => w.clock.now - 10 * 60_000 });
      return ws3.as(w.ada.id);
    })();
    const head = await w.store.head();
    await expect(behind.identities.create({ kind: 'agent', name: 'behind' })).rejects.toMatchObject(
      {
        code: 'VALIDATION',
        message: expect.stringMatching(/before the previous event/),
      },
    );
    expect(await w.store.head()).toEqual(head);
    const slightlyBehind = await w.peer({ clock: () => w.clock.now - 90_000 });
    await expect(
      slightlyBehind.as(w.ada.id).identities.create({ kind: 'agent', name: 'ok' }),
    ).resolves.toBeDefined();
  });

  it('judges expiry by the event’s own time', async () => {
    const w = await world();
    await w.me.capabilities.grant({
      to: w.drafter.id,
      resource: 'note:*',
      actions: ['note.add'],
      expiresAt: w.iso(30_000),
    });
    const before = await exercise(w, w.iso(20_000), 'ev_e');
    const after = await exercise(w, w.iso(40_000), 'ev_f');
    await expect(w.ws.submit([before])).resolves.toHaveLength(1);
    await expect(w.ws.submit([after])).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: expect.stringMatching(/expired/),
    });
  });
});
