import fc from 'fast-check';
import { describe, expect } from 'vitest';
import { type BatonEvent, EMPTY_HEAD } from '../../log/event.js';
import type { ReadQuery, Store } from '../../store/store.js';
import { conformanceEvents, rehash } from './events.js';
import type { Suite } from './harness.js';
import { appendEvents, readAll } from './helpers.js';
import { readRef } from './model.js';

/** Appends, the head and reads of the log. */
export function appendTests({ test }: Suite): void {
  describe('append, head and read', () => {
    test('starts empty, with the empty head and no events', async ({ store }) => {
      expect(await store.head()).toEqual(EMPTY_HEAD);
      expect(await readAll(store)).toEqual([]);
      expect(await store.event('evt_missing')).toBeUndefined();
    });

    test('appends a batch and returns the new head, which head() then reports', async ({
      store,
    }) => {
      const events = conformanceEvents(EMPTY_HEAD, 3);
      const head = await store.append({ events, expectedHead: EMPTY_HEAD });
      expect(head).toEqual({ seq: 3, hash: events[2]!.hash });
      expect(await store.head()).toEqual(head);
    });

    test('accepts appends that give no projections and no blobs', async ({ store }) => {
      const events = conformanceEvents(EMPTY_HEAD, 1);
      await store.append({ events, expectedHead: EMPTY_HEAD, projections: [], blobs: [] });
      const more = conformanceEvents(await store.head(), 1);
      await store.append({ events: more, expectedHead: await store.head() });
      expect((await store.head()).seq).toBe(2);
    });

    test('reads events back unchanged and in commit order across batches', async ({ store }) => {
      const a = await appendEvents(store, 2);
      const b = await appendEvents(store, 1);
      const c = await appendEvents(store, 4, (i) => ({
        stream: `artifact/${i}`,
        auth: 'grant_1',
        session: 'run_1',
        data: { nested: { list: [1, 'two', null, true, { deep: [] }] }, n: -1.5e-7 },
        refs: ['x', 'y'],
        version: i + 2,
      }));
      const all = await readAll(store);
      expect(all).toStrictEqual([...a, ...b, ...c]);
      expect(all.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    });

    test('keeps optional signed fields absent when the event has none', async ({ store }) => {
      const [e] = await appendEvents(store, 1);
      const back = (await store.event(e!.id))!;
      expect('auth' in back).toBe(false);
      expect('session' in back).toBe(false);
      expect(back).toStrictEqual(e);
    });

    test('finds a committed event by id and returns undefined for an unknown id', async ({
      store,
    }) => {
      const events = await appendEvents(store, 3);
      for (const e of events) expect(await store.event(e.id)).toStrictEqual(e);
      expect(await store.event(`${events[0]!.id}x`)).toBeUndefined();
      expect(await store.event(events[0]!.id.slice(0, -1))).toBeUndefined();
    });

    test('accepts any prev on the first event of an empty log', async ({ store }) => {
      const [first] = conformanceEvents(EMPTY_HEAD, 1);
      const odd = rehash(first!, { prev: 'anything-at-all' });
      const head = await store.append({ events: [odd], expectedHead: EMPTY_HEAD });
      expect(head).toEqual({ seq: 1, hash: odd.hash });
      expect(await readAll(store)).toStrictEqual([odd]);
    });

    const STREAMS = ['artifact/a', 'artifact/ab', 'artifact/a:b', 'handoff/h'];
    const TYPES = [
      'artifact.created@1',
      'artifact.edited@1',
      'artifact.edited@2',
      'handoff.offered@1',
    ];
    const REFS = ['a', 'ab', 'a:b', 'h'];
    async function filterFixture(store: Store): Promise<BatonEvent[]> {
      const fields = (offset: number) => (i: number) => {
        const n = i + offset;
        return {
          stream: STREAMS[n % 4]!,
          type: TYPES[Math.floor(n / 4) % 4]!,
          refs: REFS.filter((_, bit) => (n >> bit) & 1),
        };
      };
      return [
        ...(await appendEvents(store, 7, fields(0))),
        ...(await appendEvents(store, 9, fields(7))),
      ];
    }

    test('reads events after a seq with after and up to a seq with until', async ({ store }) => {
      const events = await filterFixture(store);
      expect(await readAll(store, { after: 0 })).toStrictEqual(events);
      expect(await readAll(store, { after: 5 })).toStrictEqual(events.slice(5));
      expect(await readAll(store, { until: 5 })).toStrictEqual(events.slice(0, 5));
      expect(await readAll(store, { after: 3, until: 9 })).toStrictEqual(events.slice(3, 9));
      expect(await readAll(store, { after: 7, until: 7 })).toEqual([]);
      expect(await readAll(store, { after: 9, until: 3 })).toEqual([]);
      expect(await readAll(store, { after: 16 })).toEqual([]);
      expect(await readAll(store, { after: 100 })).toEqual([]);
      expect(await readAll(store, { until: 100 })).toStrictEqual(events);
      expect(await readAll(store, { until: 0 })).toEqual([]);
    });

    test('reads a stream, a ref or a set of types exactly, never by prefix', async ({ store }) => {
      const events = await filterFixture(store);
      for (const stream of [...STREAMS, 'artifact/', 'artifact', 'artifact/a%']) {
        expect(await readAll(store, { stream })).toStrictEqual(readRef(events, { stream }));
      }
      for (const ref of [...REFS, '', 'a%', 'A']) {
        expect(await readAll(store, { ref })).toStrictEqual(readRef(events, { ref }));
      }
      for (const types of [
        [TYPES[0]!],
        [TYPES[1]!, TYPES[3]!],
        ['artifact.edited'],
        ['artifact.edited@%'],
      ]) {
        expect(await readAll(store, { types })).toStrictEqual(readRef(events, { types }));
      }
      expect(readRef(events, { stream: 'artifact/a' })).toHaveLength(4);
    });

    test('stops after limit matching events, counting only events that pass the filters', async ({
      store,
    }) => {
      const events = await filterFixture(store);
      expect(await readAll(store, { limit: 3 })).toStrictEqual(events.slice(0, 3));
      expect(await readAll(store, { limit: 100 })).toStrictEqual(events);
      const q: ReadQuery = { ref: 'a', after: 2, limit: 3 };
      expect(await readAll(store, q)).toStrictEqual(readRef(events, q));
      expect(readRef(events, q)).toHaveLength(3);
    });

    test('reads nothing for an empty types list or a limit of 0', async ({ store }) => {
      await filterFixture(store);
      expect(await readAll(store, { types: [] })).toEqual([]);
      expect(await readAll(store, { limit: 0 })).toEqual([]);
    });

    test('agrees with a reference filter on random combinations of read filters', async ({
      store,
    }) => {
      const events = await filterFixture(store);
      const query = fc.record(
        {
          after: fc.integer({ min: 0, max: 18 }),
          until: fc.integer({ min: 0, max: 18 }),
          stream: fc.constantFrom(...STREAMS, 'none'),
          ref: fc.constantFrom(...REFS, 'none'),
          types: fc.subarray([...TYPES, 'none@1'], { minLength: 1 }),
          limit: fc.integer({ min: 0, max: 17 }),
        },
        { requiredKeys: [] },
      );
      await fc.assert(
        fc.asyncProperty(query, async (q) => {
          expect(await readAll(store, q)).toStrictEqual(readRef(events, q));
        }),
        { numRuns: 150 },
      );
    });

    test('streams a long log in order without skipping or repeating events', async ({ store }) => {
      const events: BatonEvent[] = [];
      for (let i = 0; i < 5; i++)
        events.push(...(await appendEvents(store, 61, (j) => ({ refs: [`r${j % 3}`] }))));
      expect(await readAll(store)).toStrictEqual(events);
      expect(await readAll(store, { after: 99 })).toStrictEqual(events.slice(99));
      expect(await readAll(store, { after: 100, limit: 150 })).toStrictEqual(
        events.slice(100, 250),
      );
      expect(await readAll(store, { ref: 'r1' })).toStrictEqual(readRef(events, { ref: 'r1' }));
      expect(await readAll(store, { ref: 'r2', limit: 70 })).toStrictEqual(
        readRef(events, { ref: 'r2', limit: 70 }),
      );
    });

    test('lets a reader stop early without disturbing later reads', async ({ store }) => {
      const events = await appendEvents(store, 20);
      for await (const e of store.read()) {
        if (e.seq === 3) break;
      }
      expect(await readAll(store)).toStrictEqual(events);
    });
  });
}
