import { describe, expect, it } from 'vitest';
import { EMPTY_HEAD } from '../src/log/event.js';
import { MemoryStore } from '../src/store/memoryStore.js';
import { conformanceEvents, runStoreConformance } from '../src/testing/index.js';

runStoreConformance({
  name: 'MemoryStore',
  create: async () => new MemoryStore(),
  openPeer: async (store) => (store as MemoryStore).peer(),
  // Memory outlives its handles, so "reopening" is closing one handle and opening another:
  // enough to run the durability tests, which have no durable store to run on yet.
  reopen: async (store) => {
    const next = (store as MemoryStore).peer();
    await store.close();
    return next;
  },
});

describe('MemoryStore', () => {
  it('keeps separate instances apart while peers share one memory', async () => {
    const one = new MemoryStore();
    const two = new MemoryStore();
    const peer = one.peer();
    const events = conformanceEvents(EMPTY_HEAD, 2);
    await one.append({ events, expectedHead: EMPTY_HEAD });
    expect(await peer.head()).toEqual(await one.head());
    expect(await two.head()).toEqual(EMPTY_HEAD);
  });

  it('writes nothing when a projection value cannot be copied', async () => {
    const store = new MemoryStore();
    const events = conformanceEvents(EMPTY_HEAD, 1);
    const value = { fn: () => 1 } as unknown as null;
    await expect(
      store.append({
        events,
        expectedHead: EMPTY_HEAD,
        projections: [{ collection: 'c', key: 'k', value }],
      }),
    ).rejects.toThrow();
    expect(await store.head()).toEqual(EMPTY_HEAD);
    expect(await store.event(events[0]!.id)).toBeUndefined();
  });

  it('opens a working peer from a closed handle', async () => {
    const store = new MemoryStore();
    await store.close();
    const peer = store.peer();
    const events = conformanceEvents(EMPTY_HEAD, 1);
    await peer.append({ events, expectedHead: EMPTY_HEAD });
    expect((await peer.head()).seq).toBe(1);
  });
});
