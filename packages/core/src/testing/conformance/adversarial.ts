import { describe, expect } from 'vitest';
import { utf8 } from '../../crypto/encoding.js';
import { ErrorCode } from '../../errors.js';
import { PRIMARY_INDEX, type ProjectionWrite } from '../../store/store.js';
import { blobOfBytes, conformanceEvents } from './events.js';
import type { Suite } from './harness.js';
import {
  ADVERSARIAL,
  appendEvents,
  bigBytes,
  bigText,
  expectBytes,
  expectRefusal,
  listAll,
  queryAll,
  readAll,
  write,
} from './helpers.js';
import { applyWrites, byCodePoint, type ModelCollections, queryRef } from './model.js';

/** Adversarial ids, keys and large payloads. */
export function adversarialTests({ test }: Suite): void {
  describe('adversarial ids, keys and payloads', () => {
    test('stores events with adversarial ids, streams, refs and types and finds each exactly', async ({
      store,
    }) => {
      const events = await appendEvents(store, ADVERSARIAL.length, (i) => ({
        id: ADVERSARIAL[i]!,
        stream: ADVERSARIAL[i]!,
        type: ADVERSARIAL[i]!,
        refs: [ADVERSARIAL[i]!, `${ADVERSARIAL[i]!}/x`],
        actor: ADVERSARIAL[i]!,
        session: ADVERSARIAL[i]!,
      }));
      expect(await readAll(store)).toStrictEqual(events);
      for (const [i, k] of ADVERSARIAL.entries()) {
        expect(await store.event(k), k).toStrictEqual(events[i]);
        expect(await readAll(store, { stream: k }), k).toStrictEqual([events[i]]);
        expect(await readAll(store, { ref: k }), k).toStrictEqual([events[i]]);
        expect(await readAll(store, { types: [k] }), k).toStrictEqual([events[i]]);
      }
      expect(await store.event('a:')).toBeUndefined();
      expect(await store.event('u')).toBeUndefined();
      expect(await readAll(store, { ref: 'a/x/x' })).toEqual([]);
      const head = await store.head();
      for (const k of ADVERSARIAL) {
        await expectRefusal(
          () => store.append({ events: conformanceEvents(head, 1, { id: k }), expectedHead: head }),
          ErrorCode.VALIDATION,
        );
      }
    });

    test('keeps projection rows with adversarial collections, keys and index keys apart', async ({
      store,
    }) => {
      const writes: ProjectionWrite[] = [];
      for (const c of ADVERSARIAL) {
        for (const k of ADVERSARIAL) {
          writes.push({
            collection: c,
            key: k,
            value: { c, k },
            indexes: { [c]: k, tag: [k, `${k}:`] },
          });
        }
      }
      await write(store, writes);
      const model: ModelCollections = new Map();
      applyWrites(model, writes);
      for (const c of ADVERSARIAL) {
        for (const k of ADVERSARIAL) expect(await store.get(c, k)).toEqual({ c, k });
        expect(await queryAll(store, c, PRIMARY_INDEX)).toEqual(
          queryRef(model.get(c), PRIMARY_INDEX, {}),
        );
        expect(await queryAll(store, c, c)).toEqual(queryRef(model.get(c), c, {}));
      }
      for (const k of ADVERSARIAL) {
        for (const range of [{ eq: k }, { prefix: k }, { gt: k }, { lt: k }]) {
          expect(await queryAll(store, 'a', 'tag', range), JSON.stringify(range)).toEqual(
            queryRef(model.get('a'), 'tag', range),
          );
          expect(await queryAll(store, 'a%', PRIMARY_INDEX, range), JSON.stringify(range)).toEqual(
            queryRef(model.get('a%'), PRIMARY_INDEX, range),
          );
        }
      }
      await write(store, [{ collection: 'a', key: 'a', value: null }]);
      expect(await store.get('a', 'a')).toBeUndefined();
      expect(await store.get('a', 'ab')).toEqual({ c: 'a', k: 'ab' });
      expect(await store.get('ab', 'a')).toEqual({ c: 'ab', k: 'a' });
      expect(await store.get('A', 'a')).toEqual({ c: 'A', k: 'a' });
    });

    test('keeps kv entries with adversarial keys apart and lists them by exact prefix', async ({
      store,
    }) => {
      for (const k of ADVERSARIAL) await store.kv.put(k, { k });
      for (const k of ADVERSARIAL) expect(await store.kv.get(k), k).toEqual({ k });
      for (const prefix of ADVERSARIAL) {
        const want = ADVERSARIAL.filter((k) => k.startsWith(prefix))
          .sort(byCodePoint)
          .map((k) => ({ key: k, value: { k } }));
        expect(await listAll(store.kv, prefix, { limit: 3 }), prefix).toEqual(want);
      }
      await store.kv.delete('a');
      expect(await store.kv.get('a')).toBeUndefined();
      expect(await store.kv.get('ab')).toEqual({ k: 'ab' });
      expect(await store.kv.get('A')).toEqual({ k: 'A' });
    });

    test('stores adversarial blob hashes as opaque keys', async ({ store }) => {
      const blobs = ADVERSARIAL.filter((k) => k !== '').map((k) => ({
        hash: k,
        bytes: utf8(`bytes of ${k}`),
      }));
      await appendEvents(store, 1, undefined, { blobs });
      for (const b of blobs) expect(await store.blobs.get(b.hash), b.hash).toEqual(b.bytes);
      await store.blobs.delete('a');
      expect(await store.blobs.has('a')).toBe(false);
      expect(await store.blobs.has('ab')).toBe(true);
      expect(await store.blobs.has('A')).toBe(true);
    });

    test('round-trips 100 KB payloads in event data, projection values, kv values and blobs exactly', async ({
      store,
    }) => {
      const text = bigText('payload');
      expect(utf8(text).length).toBeGreaterThanOrEqual(100 * 1024);
      const bytes = bigBytes();
      const blob = blobOfBytes(bytes);
      const head64 = Array.from(text).slice(0, 64).join('');
      const bigJson = { text, list: Array.from({ length: 2000 }, (_, i) => ({ i, s: `ü${i}` })) };
      const [e] = await appendEvents(
        store,
        1,
        { data: bigJson, refs: ['big'] },
        {
          projections: [
            { collection: 'big', key: 'row', value: bigJson, indexes: { tag: head64 } },
          ],
          blobs: [blob],
        },
      );
      await store.kv.put('big-json', bigJson);
      await store.kv.put('big-bytes', bytes);
      expect(await store.event(e!.id)).toStrictEqual(e);
      expect(await readAll(store, { ref: 'big' })).toStrictEqual([e]);
      expect(await store.get('big', 'row')).toStrictEqual(bigJson);
      expect(await queryAll(store, 'big', 'tag', { eq: head64 })).toStrictEqual([
        { key: 'row', value: bigJson },
      ]);
      expect(await store.kv.get('big-json')).toStrictEqual(bigJson);
      expectBytes(await store.kv.get('big-bytes'), bytes, 'kv');
      expectBytes(await store.blobs.get(blob.hash), bytes, 'blob');
    });
  });
}
