import {
  isBatonError,
  type JsonValue,
  MemoryStore,
  type SignedEvent,
  Workspace,
} from '@baton/core';
import { describe, expect, it } from 'vitest';
import { signedBy } from './signedBy.js';

/**
 * Issue 12, "checks every event completely against the state at its position": a handoff
 * transition that does not fit its handoff (wrong party, wrong status, no such handoff)
 * used to commit "with no effect" when submitted signed; it is refused now, through
 * `ws.submit()` as through the API, and nothing is written.
 */

async function world() {
  const store = new MemoryStore();
  const ws = await Workspace.open({ store, tickIntervalMs: 0 });
  const ada = await ws.bootstrap({ name: 'Ada' });
  const me = ws.as(ada.id);
  const drafter = await me.identities.create({ kind: 'agent', name: 'drafter' });
  const mallory = await me.identities.create({ kind: 'agent', name: 'mallory' });
  for (const who of [drafter.id, mallory.id]) {
    await me.capabilities.grant({
      to: who,
      resource: 'artifact:*',
      actions: ['read', 'write', 'create', 'comment', 'handoff'],
    });
    await me.capabilities.grant({
      to: who,
      resource: 'workspace',
      actions: ['comment', 'handoff'],
    });
  }
  const agent = ws.as(drafter.id);
  const doc = await agent.artifacts.create({ kind: 'text', title: 'Post', content: 'v1' });
  const work = await agent.handoffs.offer({ to: ada.id, artifacts: [doc.id], note: 'Yours' });
  const question = await agent.handoffs.ask({ to: ada.id, question: 'Ship it?' });
  let n = 0;
  const sign = async (actor: string, type: string, data: JsonValue): Promise<SignedEvent> => {
    const fields = {
      ws: ws.id!,
      id: `ev_forged_${n++}`,
      stream: `handoff/${(data as { id: string }).id}`,
      type,
      actor,
      at: new Date().toISOString(),
      data,
      refs: [],
    };
    return signedBy(ws.keyring, fields);
  };
  return { ws, store, ada, me, drafter, mallory, agent, doc, work, question, sign };
}

async function refusal(call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
    return 'committed';
  } catch (err) {
    return isBatonError(err) ? err.code : `${(err as Error).name}: ${String(err)}`;
  }
}

describe('handoff transitions are judged against the handoff', () => {
  it('refuses submitted transitions by someone who is not the party, of a handoff in the wrong status, or of no handoff', async () => {
    const w = await world();
    const before = await w.store.head();
    const cases: [string, SignedEvent, string][] = [
      [
        'mallory accepts work offered to Ada',
        await w.sign(w.mallory.id, 'handoff.accepted@1', { id: w.work.id }),
        'FORBIDDEN',
      ],
      [
        'Ada completes work she has not accepted',
        await w.sign(w.ada.id, 'handoff.completed@1', { id: w.work.id }),
        'INVALID_STATE',
      ],
      [
        'mallory cancels the drafter’s offer',
        await w.sign(w.mallory.id, 'handoff.cancelled@1', { id: w.work.id }),
        'FORBIDDEN',
      ],
      [
        'Ada accepts a question (questions are answered)',
        await w.sign(w.ada.id, 'handoff.accepted@1', { id: w.question.id }),
        'FORBIDDEN',
      ],
      [
        'Ada declines a handoff that does not exist',
        await w.sign(w.ada.id, 'handoff.declined@1', { id: 'ho_nowhere' }),
        'NOT_FOUND',
      ],
      [
        'mallory answers a question asked of Ada',
        await w.sign(w.mallory.id, 'handoff.answered@1', {
          id: w.question.id,
          value: 'yes',
          entry: 'ctx_x',
        }),
        'FORBIDDEN',
      ],
    ];
    for (const [name, event, code] of cases) {
      expect([name, await refusal(() => w.ws.submit([event]))]).toEqual([name, code]);
    }
    expect(await w.store.head()).toEqual(before);
    await w.ws.close();
  });

  it('still lets the parties make each transition, through the API and through submit', async () => {
    const w = await world();
    await w.me.handoffs.accept(w.work.id);
    const done = await w.sign(w.ada.id, 'handoff.completed@1', { id: w.work.id });
    const [committed] = await w.ws.submit([done]);
    expect(committed?.type).toBe('handoff.completed@1');
    expect((await w.me.handoffs.get(w.work.id)).status).toBe('completed');
    // Completed is final: returning it now is refused.
    const back = await w.sign(w.ada.id, 'handoff.returned@1', { id: w.work.id });
    expect(await refusal(() => w.ws.submit([back]))).toBe('INVALID_STATE');
    expect((await w.ws.verify()).ok).toBe(true);
    await w.ws.close();
  });
});
