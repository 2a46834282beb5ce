import { describe, expect } from 'vitest';
import { utf8 } from '../../crypto/encoding.js';
import { EMPTY_HEAD } from '../../log/event.js';
import { PRIMARY_INDEX, type ProjectionWrite } from '../../store/store.js';
import { blobOf, conformanceEvents } from './events.js';
import type { Suite } from './harness.js';
import { appendEvents, queryAll, readAll, tryMutate, write } from './helpers.js';

/** Returned objects: a caller mutating them cannot change the store. */
export function copyTests({ test }: Suite): void {
  describe('returned objects', () => {
    test('does not let a caller change the store by mutating a read event', async ({ store }) => {
      const [input] = await appendEvents(store, 1, {
        data: { list: [1], obj: { a: 'b' } },
        refs: ['r'],
      });
      const copy = structuredClone(input!);
      for (const e of [...(await readAll(store)), (await store.event(copy.id))!]) {
        tryMutate(() => {
          (e as { stream: string }).stream = 'hacked';
        });
        tryMutate(() => e.refs.push('hacked'));
        tryMutate(() => (e.data as { list: number[] }).list.push(2));
        tryMutate(() => {
          (e.data as { obj: { a: string } }).obj.a = 'hacked';
        });
      }
      expect(await store.event(copy.id)).toStrictEqual(copy);
      expect(await readAll(store)).toStrictEqual([copy]);
      expect(await readAll(store, { ref: 'hacked' })).toEqual([]);
      expect(await readAll(store, { ref: 'r' })).toStrictEqual([copy]);
    });

    test('does not let a caller change the store by mutating a row from get or query', async ({
      store,
    }) => {
      await write(store, [{ collection: 'docs', key: 'a', value: { list: [1], obj: { a: 'b' } } }]);
      const want = { list: [1], obj: { a: 'b' } };
      const fromGet = (await store.get('docs', 'a')) as typeof want;
      const [row] = (await store.query('docs', PRIMARY_INDEX, {})).items;
      for (const v of [fromGet, row!.value as typeof want]) {
        tryMutate(() => v.list.push(2));
        tryMutate(() => {
          v.obj.a = 'hacked';
        });
      }
      tryMutate(() => {
        row!.key = 'hacked';
      });
      expect(await store.get('docs', 'a')).toEqual(want);
      expect(await store.query('docs', PRIMARY_INDEX, {})).toEqual({
        items: [{ key: 'a', value: want }],
      });
    });

    test('does not let a caller change the store by mutating a returned head', async ({
      store,
    }) => {
      const events = conformanceEvents(EMPTY_HEAD, 1);
      const fromAppend = await store.append({ events, expectedHead: EMPTY_HEAD });
      const want = { seq: 1, hash: events[0]!.hash };
      const fromHead = await store.head();
      for (const h of [fromAppend, fromHead]) {
        tryMutate(() => {
          h.seq = 99;
          h.hash = 'hacked';
        });
      }
      expect(await store.head()).toEqual(want);
      const next = conformanceEvents(want, 1);
      expect(await store.append({ events: next, expectedHead: want })).toEqual({
        seq: 2,
        hash: next[0]!.hash,
      });
    });

    test('does not let a caller change the store by mutating an appended batch afterwards', async ({
      store,
    }) => {
      const events = conformanceEvents(EMPTY_HEAD, 1, { data: { list: [1] }, refs: ['r'] });
      const projections: ProjectionWrite[] = [
        { collection: 'docs', key: 'a', value: { list: [1] }, indexes: { tag: ['x'] } },
      ];
      const blob = blobOf('mine');
      const wantEvent = structuredClone(events[0]!);
      await store.append({ events, expectedHead: EMPTY_HEAD, projections, blobs: [blob] });
      (events[0]!.data as { list: number[] }).list.push(2);
      events[0]!.refs.push('later');
      events[0]!.stream = 'changed';
      (projections[0]!.value as { list: number[] }).list.push(2);
      (projections[0]!.indexes!.tag as string[]).push('y');
      projections[0]!.key = 'b';
      blob.bytes.fill(0);
      expect(await store.event(wantEvent.id)).toStrictEqual(wantEvent);
      expect(await readAll(store, { ref: 'later' })).toEqual([]);
      expect(await store.get('docs', 'a')).toEqual({ list: [1] });
      expect(await store.get('docs', 'b')).toBeUndefined();
      expect(await queryAll(store, 'docs', 'tag')).toEqual([{ key: 'a', value: { list: [1] } }]);
      expect(await store.blobs.get(blob.hash)).toEqual(utf8('mine'));
    });
  });
}
