import { describe, expect } from 'vitest';
import { type BatonError, ErrorCode } from '../../errors.js';
import { EMPTY_HEAD, type Head } from '../../log/event.js';
import { blobOf, conformanceEvents } from './events.js';
import type { Suite } from './harness.js';
import { appendEvents, expectRefusal, readAll } from './helpers.js';

/** Retries, and copying a log from one store into another. */
export function copyingTests({ test }: Suite): void {
  describe('retries and copying a log between stores', () => {
    test('refuses to re-append a committed event against its old head with ConflictError', async ({
      store,
    }) => {
      const events = await appendEvents(store, 2);
      const head = await store.head();
      const err = await expectRefusal(
        () =>
          store.append({ events: [events[1]!], expectedHead: { seq: 1, hash: events[0]!.hash } }),
        ErrorCode.CONFLICT,
      );
      expect((err as BatonError & { head?: Head }).head).toEqual(head);
      await expectRefusal(
        () => store.append({ events, expectedHead: EMPTY_HEAD }),
        ErrorCode.CONFLICT,
      );
      expect(await readAll(store)).toStrictEqual(events);
      expect(await store.head()).toEqual(head);
    });

    test('refuses a committed event re-chained onto the current head with VALIDATION', async ({
      store,
    }) => {
      const [first] = await appendEvents(store, 1);
      const head = await store.head();
      const again = conformanceEvents(head, 1, { ...first!, id: first!.id });
      await expectRefusal(
        () => store.append({ events: again, expectedHead: head }),
        ErrorCode.VALIDATION,
      );
      expect(await readAll(store)).toStrictEqual([first]);
    });

    test('copies a log into a fresh store unchanged, in batches of any size, reaching the same head', async (h) => {
      const source = h.store;
      await appendEvents(source, 5, (i) => ({
        stream: `artifact/${i % 2}`,
        refs: ['a'],
        session: 's',
      }));
      await appendEvents(source, 20, (i) => ({ auth: 'grant', data: { i, text: 'ü😀' } }));
      await appendEvents(source, 5);
      const log = await readAll(source);
      for (const sizes of [[30], [1, 5, 24], Array.from({ length: 30 }, () => 1)]) {
        const target = await h.another();
        let head: Head = EMPTY_HEAD;
        let at = 0;
        for (const size of sizes) {
          const chunk = log.slice(at, at + size);
          head = await target.append({ events: chunk, expectedHead: head });
          at += size;
        }
        expect(head).toEqual(await source.head());
        expect(await target.head()).toEqual(await source.head());
        expect(await readAll(target)).toStrictEqual(log);
        for (const e of log) expect(await target.event(e.id)).toStrictEqual(e);
        expect(await readAll(target, { stream: 'artifact/1' })).toStrictEqual(
          await readAll(source, { stream: 'artifact/1' }),
        );
      }
    });

    test('refuses to copy events that the target already holds', async (h) => {
      const log = await appendEvents(h.store, 4);
      const target = await h.another();
      const head = await target.append({ events: log.slice(0, 2), expectedHead: EMPTY_HEAD });
      await expectRefusal(
        () => target.append({ events: log.slice(0, 2), expectedHead: EMPTY_HEAD }),
        ErrorCode.CONFLICT,
      );
      await expectRefusal(
        () => target.append({ events: log.slice(1, 3), expectedHead: head }),
        ErrorCode.VALIDATION,
      );
      await target.append({ events: log.slice(2), expectedHead: head });
      expect(await readAll(target)).toStrictEqual(log);
    });

    test('keeps two stores apart: a write to one is invisible in the other', async (h) => {
      const other = await h.another();
      await appendEvents(h.store, 2, undefined, {
        projections: [{ collection: 'docs', key: 'a', value: 1 }],
        blobs: [blobOf('only in one')],
      });
      await h.store.kv.put('k', 1);
      expect(await other.head()).toEqual(EMPTY_HEAD);
      expect(await readAll(other)).toEqual([]);
      expect(await other.get('docs', 'a')).toBeUndefined();
      expect(await other.blobs.has(blobOf('only in one').hash)).toBe(false);
      expect(await other.kv.get('k')).toBeUndefined();
    });
  });
}
