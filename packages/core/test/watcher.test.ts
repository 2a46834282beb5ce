import { describe, expect, it } from 'vitest';
import { type BatonEvent, Workspace } from '../src/index.js';
import { countingStore } from './countingStore.js';
import { world } from './world.js';

/**
 * A workspace with 50 identities and two grants in its log, and a second instance on it whose
 * store counts every event it hands out, counted from after that instance opened.
 */
async function grantsAmongMany() {
  const w = await world({ pollIntervalMs: 10 });
  for (let i = 0; i < 50; i++) await w.me.identities.create({ kind: 'agent', name: `a${i}` });
  for (const resource of ['a:*', 'b:*'])
    await w.me.capabilities.grant({ to: w.drafter.id, resource, actions: ['read'] });
  const counted = countingStore(w.store.peer());
  const ws = await Workspace.open({
    store: counted.store,
    keyring: w.ws.keyring,
    clock: () => w.clock.now,
    pollIntervalMs: 10,
  });
  counted.reset();
  return { ...w, ws2: ws, counts: counted.counts };
}

describe('reads by type', () => {
  it('subscribes from the start to one type reading only that type’s events from the store', async () => {
    const w = await grantsAmongMany();
    const got: BatonEvent[] = [];
    const stop = w.ws2.subscribe({ after: 0, types: ['grant.issued'] }, (e) => {
      got.push(e);
    });
    await expect.poll(() => got.length).toBe(2);
    stop();
    expect(got.map((e) => e.type)).toEqual(['grant.issued@1', 'grant.issued@1']);
    expect(w.counts.events).toBe(2);
  });

  it('pages an actor’s log by type reading only that type’s events from the store', async () => {
    const w = await grantsAmongMany();
    const page = await w.ws2.as(w.ada.id).log({ types: ['grant.issued'] });
    expect(page.items.map((e) => e.type)).toEqual(['grant.issued@1', 'grant.issued@1']);
    expect(w.counts.events).toBe(2);
  });
});
