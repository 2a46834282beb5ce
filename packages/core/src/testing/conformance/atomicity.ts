import { describe, expect } from 'vitest';
import { ErrorCode } from '../../errors.js';
import { EMPTY_HEAD } from '../../log/event.js';
import { PRIMARY_INDEX } from '../../store/store.js';
import { blobOf, blobOfBytes, conformanceEvents } from './events.js';
import type { Suite } from './harness.js';
import {
  ADVERSARIAL,
  appendEvents,
  bigBytes,
  bigText,
  expectBytes,
  expectRefusal,
  queryAll,
  readAll,
  write,
} from './helpers.js';

/** Batches land whole or not at all, also across close and reopen. */
export function atomicityTests({ hasReopen, test }: Suite): void {
  describe('atomicity', () => {
    test('writes the events, projection rows, blobs and head of a batch together', async ({
      store,
    }) => {
      const blob = blobOf('together');
      const events = conformanceEvents(EMPTY_HEAD, 4);
      const head = await store.append({
        events,
        expectedHead: EMPTY_HEAD,
        projections: [
          {
            collection: 'docs',
            key: 'd1',
            value: { title: 'one' },
            indexes: { tag: ['x', 'y'] },
          },
          { collection: 'people', key: 'p1', value: 'Ada' },
        ],
        blobs: [blob],
      });
      expect(head).toEqual({ seq: 4, hash: events[3]!.hash });
      expect(await readAll(store)).toStrictEqual(events);
      expect(await store.get('docs', 'd1')).toEqual({ title: 'one' });
      expect(await store.get('people', 'p1')).toBe('Ada');
      expect(await queryAll(store, 'docs', 'tag', { eq: 'y' })).toEqual([
        { key: 'd1', value: { title: 'one' } },
      ]);
      expect(await store.blobs.get(blob.hash)).toEqual(blob.bytes);
    });

    test('leaves no trace of a large batch refused for its last event', async ({ store }) => {
      const [first] = await appendEvents(store, 1);
      const head = await store.head();
      const blobs = Array.from({ length: 20 }, (_, i) => blobOf(`bulk ${i}`));
      const projections = Array.from({ length: 50 }, (_, i) => ({
        collection: 'bulk',
        key: `k${i}`,
        value: { i },
        indexes: { n: String(i % 5) },
      }));
      const events = conformanceEvents(head, 50, (i) => (i === 49 ? { id: first!.id } : {}));
      await expectRefusal(
        () => store.append({ events, expectedHead: head, projections, blobs }),
        ErrorCode.VALIDATION,
      );
      expect(await store.head()).toEqual(head);
      expect(await readAll(store)).toStrictEqual([first]);
      for (const e of events.slice(0, 49)) expect(await store.event(e.id)).toBeUndefined();
      expect(await queryAll(store, 'bulk', PRIMARY_INDEX)).toEqual([]);
      expect(await queryAll(store, 'bulk', 'n')).toEqual([]);
      for (const b of blobs) expect(await store.blobs.has(b.hash)).toBe(false);
    });

    test('applies the projection writes of a batch in order, so the last write to a row wins', async ({
      store,
    }) => {
      await write(store, [
        { collection: 'docs', key: 'a', value: 1, indexes: { tag: 'first' } },
        { collection: 'docs', key: 'a', value: null },
        { collection: 'docs', key: 'a', value: 3, indexes: { tag: 'third' } },
        { collection: 'docs', key: 'b', value: 1 },
        { collection: 'docs', key: 'b', value: null },
      ]);
      expect(await store.get('docs', 'a')).toBe(3);
      expect(await store.get('docs', 'b')).toBeUndefined();
      expect(await queryAll(store, 'docs', 'tag')).toEqual([{ key: 'a', value: 3 }]);
      expect(await queryAll(store, 'docs', 'tag', { eq: 'first' })).toEqual([]);
    });

    describe.skipIf(!hasReopen)('across close and reopen', () => {
      test('keeps committed events, head, rows, blobs and kv across close and reopen', async (h) => {
        const blob = blobOfBytes(bigBytes(4096));
        const events = await appendEvents(h.store, 3, (i) => ({ refs: [`r${i}`] }), {
          projections: [
            { collection: 'docs', key: 'd', value: { v: 1 }, indexes: { tag: ['a', 'b'] } },
          ],
          blobs: [blob],
        });
        await h.store.kv.put('json', { nested: [1, 'x'] });
        await h.store.kv.put('bytes', new Uint8Array([0, 1, 255]));
        const head = await h.store.head();
        const s = await h.reopen();
        expect(await s.head()).toEqual(head);
        expect(await readAll(s)).toStrictEqual(events);
        expect(await s.event(events[1]!.id)).toStrictEqual(events[1]);
        expect(await readAll(s, { ref: 'r2' })).toStrictEqual([events[2]]);
        expect(await s.get('docs', 'd')).toEqual({ v: 1 });
        expect(await queryAll(s, 'docs', 'tag', { eq: 'b' })).toEqual([
          { key: 'd', value: { v: 1 } },
        ]);
        expectBytes(await s.blobs.get(blob.hash), blob.bytes);
        expect(await s.kv.get('json')).toStrictEqual({ nested: [1, 'x'] });
        expect(await s.kv.get('bytes')).toStrictEqual(new Uint8Array([0, 1, 255]));
      });

      test('keeps no trace of a refused batch after close and reopen', async (h) => {
        const [first] = await appendEvents(h.store, 1);
        const head = await h.store.head();
        const trapBlob = blobOf('refused before reopen');
        const bad = conformanceEvents(head, 2, (i) => (i === 1 ? { id: first!.id } : {}));
        await expectRefusal(
          () =>
            h.store.append({
              events: bad,
              expectedHead: head,
              projections: [{ collection: 'docs', key: 'x', value: 1, indexes: { tag: 't' } }],
              blobs: [trapBlob],
            }),
          ErrorCode.VALIDATION,
        );
        const stale = conformanceEvents(EMPTY_HEAD, 1);
        await expectRefusal(
          () => h.store.append({ events: stale, expectedHead: EMPTY_HEAD, blobs: [trapBlob] }),
          ErrorCode.CONFLICT,
        );
        const s = await h.reopen();
        expect(await s.head()).toEqual(head);
        expect(await readAll(s)).toStrictEqual([first]);
        expect(await s.event(bad[0]!.id)).toBeUndefined();
        expect(await s.get('docs', 'x')).toBeUndefined();
        expect(await queryAll(s, 'docs', 'tag')).toEqual([]);
        expect(await s.blobs.has(trapBlob.hash)).toBe(false);
      });

      test('continues the log after reopen from the persisted head', async (h) => {
        const a = await appendEvents(h.store, 2);
        let s = await h.reopen();
        const b = await appendEvents(s, 3);
        s = await h.reopen();
        const c = await appendEvents(s, 1);
        expect(await readAll(s)).toStrictEqual([...a, ...b, ...c]);
        expect(await s.head()).toEqual({ seq: 6, hash: c[0]!.hash });
        await expectRefusal(
          () =>
            s.append({
              events: conformanceEvents({ seq: 2, hash: a[1]!.hash }, 1),
              expectedHead: { seq: 2, hash: a[1]!.hash },
            }),
          ErrorCode.CONFLICT,
        );
      });

      test('keeps deleted rows, index keys, blobs and kv entries deleted after reopen', async (h) => {
        const blob = blobOf('to erase');
        await write(
          h.store,
          [
            { collection: 'docs', key: 'a', value: 1, indexes: { tag: 'x' } },
            { collection: 'docs', key: 'b', value: 2, indexes: { tag: 'x' } },
          ],
          [blob],
        );
        await write(h.store, [
          { collection: 'docs', key: 'a', value: null },
          { collection: 'docs', key: 'b', value: 3, indexes: { tag: 'y' } },
        ]);
        await h.store.blobs.delete(blob.hash);
        await h.store.kv.put('gone', 1);
        await h.store.kv.delete('gone');
        const s = await h.reopen();
        expect(await s.get('docs', 'a')).toBeUndefined();
        expect(await queryAll(s, 'docs', 'tag')).toEqual([{ key: 'b', value: 3 }]);
        expect(await s.blobs.has(blob.hash)).toBe(false);
        expect(await s.kv.get('gone')).toBeUndefined();
      });

      test('round-trips adversarial keys and 100 KB payloads across reopen', async (h) => {
        const text = bigText('durable');
        const blob = blobOfBytes(bigBytes());
        const events = await appendEvents(h.store, ADVERSARIAL.length, (i) => ({
          id: ADVERSARIAL[i]!,
          stream: ADVERSARIAL[i]!,
          refs: [ADVERSARIAL[i]!],
          data: i === 0 ? { text } : i,
        }));
        await write(
          h.store,
          ADVERSARIAL.map((k) => ({
            collection: k,
            key: k,
            value: { k, text: k === 'a' ? text : '' },
            indexes: { i: k },
          })),
          [blob],
        );
        for (const k of ADVERSARIAL) await h.store.kv.put(k, { k });
        const s = await h.reopen();
        expect(await readAll(s, { until: ADVERSARIAL.length })).toStrictEqual(events);
        for (const [i, k] of ADVERSARIAL.entries()) {
          expect(await s.event(k)).toStrictEqual(events[i]);
          expect(await s.get(k, k)).toEqual({ k, text: k === 'a' ? text : '' });
          expect(await s.kv.get(k)).toEqual({ k });
        }
        expectBytes(await s.blobs.get(blob.hash), blob.bytes);
      });
    });
  });
}
