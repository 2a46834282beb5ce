import { describe, expect, it } from 'vitest';
import type { BatonError } from '../src/errors.js';
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

  it('refuses bad kv arguments with VALIDATION naming the field, writing nothing', async () => {
    const store = new MemoryStore();
    const cases: [() => Promise<unknown>, string][] = [
      [() => store.kv.get(1 as unknown as string), 'key'],
      [() => store.kv.put('k', { n: Number.NaN }), 'value'],
      [() => store.kv.put('k', undefined as never), 'value'],
      [() => store.kv.delete(null as unknown as string), 'key'],
      [() => store.kv.list(5 as unknown as string), 'prefix'],
      [() => store.kv.list('', { limit: 0 }), 'page.limit'],
      [() => store.kv.list('', { after: 7 as unknown as string }), 'page.after'],
      [() => store.kv.list('', { reverse: 'yes' as unknown as boolean }), 'page.reverse'],
    ];
    for (const [call, field] of cases) {
      const err = (await call().catch((e: unknown) => e)) as BatonError;
      expect(err, field).toMatchObject({ name: 'BatonError', code: 'VALIDATION' });
      expect(err.details.field, field).toBe(field);
    }
    expect((await store.kv.list('')).items).toEqual([]);
  });
});
