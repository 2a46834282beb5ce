import { describe, expect } from 'vitest';
import { utf8 } from '../../crypto/encoding.js';
import { ErrorCode } from '../../errors.js';
import { EMPTY_HEAD } from '../../log/event.js';
import { blobOf, blobOfBytes, conformanceEvents } from './events.js';
import type { Suite } from './harness.js';
import { appendEvents, expectRefusal, tryMutate } from './helpers.js';

/** The content-addressed blob area. */
export function blobTests({ test }: Suite): void {
  describe('blobs', () => {
    test('stores blobs written with an append and reads them back exactly', async ({ store }) => {
      const blobs = [
        blobOf('one'),
        blobOfBytes(new Uint8Array([0, 0, 255, 128, 7])),
        blobOfBytes(new Uint8Array(0)),
      ];
      await appendEvents(store, 1, undefined, { blobs });
      for (const b of blobs) {
        expect(await store.blobs.has(b.hash)).toBe(true);
        const got = await store.blobs.get(b.hash);
        expect(got).toBeInstanceOf(Uint8Array);
        expect(got).toEqual(b.bytes);
      }
    });

    test('answers a missing blob with has() false and get() undefined', async ({ store }) => {
      const b = blobOf('missing');
      expect(await store.blobs.has(b.hash)).toBe(false);
      expect(await store.blobs.get(b.hash)).toBeUndefined();
      expect(await store.blobs.get('')).toBeUndefined();
    });

    test('deletes a blob for good, and deleting a missing blob is a no-op', async ({ store }) => {
      const keep = blobOf('keep');
      const erase = blobOf('erase');
      await appendEvents(store, 1, undefined, { blobs: [keep, erase] });
      await store.blobs.delete(erase.hash);
      expect(await store.blobs.has(erase.hash)).toBe(false);
      expect(await store.blobs.get(erase.hash)).toBeUndefined();
      await store.blobs.delete(erase.hash);
      await store.blobs.delete(blobOf('never').hash);
      expect(await store.blobs.get(keep.hash)).toEqual(keep.bytes);
      expect((await store.head()).seq).toBe(1);
    });

    test('keeps the stored bytes when a later batch writes a blob that exists', async ({
      store,
    }) => {
      const b = blobOf('original');
      await appendEvents(store, 1, undefined, { blobs: [b] });
      await appendEvents(store, 1, undefined, {
        blobs: [{ hash: b.hash, bytes: utf8('impostor') }],
      });
      expect(await store.blobs.get(b.hash)).toEqual(b.bytes);
      expect((await store.head()).seq).toBe(2);
    });

    test('accepts the same blob twice in one batch', async ({ store }) => {
      const b = blobOf('twice');
      await appendEvents(store, 1, undefined, {
        blobs: [b, { hash: b.hash, bytes: b.bytes.slice() }],
      });
      expect(await store.blobs.get(b.hash)).toEqual(b.bytes);
    });

    test('writes a blob again after it was deleted', async ({ store }) => {
      const b = blobOf('phoenix');
      await appendEvents(store, 1, undefined, { blobs: [b] });
      await store.blobs.delete(b.hash);
      await appendEvents(store, 1, undefined, { blobs: [b] });
      expect(await store.blobs.get(b.hash)).toEqual(b.bytes);
    });

    test('stores no blob of a refused append', async ({ store }) => {
      await appendEvents(store, 1);
      const b = blobOf('refused');
      await expectRefusal(
        () =>
          store.append({
            events: conformanceEvents(EMPTY_HEAD, 1),
            expectedHead: EMPTY_HEAD,
            blobs: [b],
          }),
        ErrorCode.CONFLICT,
      );
      const head = await store.head();
      await expectRefusal(
        () => store.append({ events: [], expectedHead: head, blobs: [b] }),
        ErrorCode.VALIDATION,
      );
      expect(await store.blobs.has(b.hash)).toBe(false);
      expect(await store.blobs.get(b.hash)).toBeUndefined();
    });

    test('returns bytes whose mutation cannot change the stored blob', async ({ store }) => {
      const original = new Uint8Array([1, 2, 3, 4]);
      const b = blobOfBytes(original.slice());
      await appendEvents(store, 1, undefined, { blobs: [b] });
      b.bytes.fill(9);
      expect(await store.blobs.get(b.hash)).toEqual(original);
      const got = (await store.blobs.get(b.hash))!;
      tryMutate(() => got.fill(7));
      expect(await store.blobs.get(b.hash)).toEqual(original);
    });
  });
}
