import { describe, expect, it } from 'vitest';
import { ErrorCode, isBatonError } from '../src/index.js';
import { world } from './world.js';

async function gated() {
  const w = await world();
  await w.me.capabilities.grant({
    to: w.drafter.id,
    resource: 'artifact:*',
    actions: ['read', 'publish'],
    requiresApproval: [{ action: 'publish' }],
  });
  return w;
}

describe('handoffs.requestApproval with an idempotencyKey', () => {
  it('returns the first request on a retry, from another Workspace instance too, writing nothing', async () => {
    const w = await gated();
    const input = {
      action: 'publish',
      resource: 'artifact:a',
      payload: { v: 1 },
      idempotencyKey: 'k',
    };
    const first = await w.agent.handoffs.requestApproval(input);
    const head = await w.store.head();
    const ws2 = await w.peer();
    const again = await ws2.as(w.drafter.id).handoffs.requestApproval(input);
    expect(again.id).toBe(first.id);
    expect(await w.store.head()).toEqual(head);
  });

  it('returns the first request even after it was approved and used, instead of asking again', async () => {
    const w = await gated();
    const input = { action: 'publish', resource: 'artifact:a', idempotencyKey: 'k' };
    const first = await w.agent.handoffs.requestApproval(input);
    await w.me.handoffs.approve(first.id);
    await w.agent.authorize('publish', 'artifact:a');
    const again = await w.agent.handoffs.requestApproval(input);
    expect(again.id).toBe(first.id);
    expect(again.status).toBe('consumed');
    // Without the key, a used approval is asked for anew.
    const fresh = await w.agent.handoffs.requestApproval({
      action: 'publish',
      resource: 'artifact:a',
    });
    expect(fresh.id).not.toBe(first.id);
  });

  it('returns the denied request on a retry after a denial', async () => {
    const w = await gated();
    const input = { action: 'publish', resource: 'artifact:a', idempotencyKey: 'k' };
    const first = await w.agent.handoffs.requestApproval(input);
    await w.me.handoffs.deny(first.id, { note: 'no' });
    expect((await w.agent.handoffs.requestApproval(input)).status).toBe('denied');
  });

  it('refuses a key used before for a different request, writing nothing', async () => {
    const w = await gated();
    await w.agent.handoffs.requestApproval({
      action: 'publish',
      resource: 'artifact:a',
      idempotencyKey: 'k',
    });
    const head = await w.store.head();
    const err = await w.agent.handoffs
      .requestApproval({ action: 'publish', resource: 'artifact:b', idempotencyKey: 'k' })
      .catch((e: unknown) => e);
    expect(isBatonError(err, ErrorCode.VALIDATION)).toBe(true);
    expect((err as Error).message).toMatch(/idempotencyKey "k" was used before/);
    expect(await w.store.head()).toEqual(head);
  });
});

describe('handoffs.ask with an idempotencyKey', () => {
  it('returns the first question on a retry, answered or not, writing nothing', async () => {
    const w = await world();
    await w.me.capabilities.grant({
      to: w.drafter.id,
      resource: 'workspace',
      actions: ['comment', 'handoff'],
    });
    const input = { to: w.ada.id, question: 'Ship it?', idempotencyKey: 'q' };
    const first = await w.agent.handoffs.ask(input);
    const head = await w.store.head();
    expect((await w.agent.handoffs.ask(input)).id).toBe(first.id);
    expect(await w.store.head()).toEqual(head);
    await w.me.handoffs.answer(first.id, 'yes');
    const again = await w.agent.handoffs.ask(input);
    expect(again.id).toBe(first.id);
    expect(again.status).toBe('answered');
  });

  it('refuses a key used before for a question to someone else', async () => {
    const w = await world();
    await w.me.capabilities.grant({
      to: w.drafter.id,
      resource: 'workspace',
      actions: ['comment', 'handoff'],
    });
    const other = await w.me.identities.create({ kind: 'human', name: 'Bo' });
    await w.agent.handoffs.ask({ to: w.ada.id, question: 'Ship it?', idempotencyKey: 'q' });
    const err = await w.agent.handoffs
      .ask({ to: other.id, question: 'Ship it?', idempotencyKey: 'q' })
      .catch((e: unknown) => e);
    expect(isBatonError(err, ErrorCode.VALIDATION)).toBe(true);
  });
});
