import { describe, expect } from 'vitest';
import { type BatonError, ErrorCode, isBatonError } from '../../errors.js';
import type { Head } from '../../log/event.js';
import { blobOf, conformanceEvents } from './events.js';
import type { Suite } from './harness.js';
import { appendEvents, describeError, queryAll, readAll } from './helpers.js';

/** Handles onto one storage racing each other. */
export function racingTests({ hasPeer, test }: Suite): void {
  describe.skipIf(!hasPeer)('racing handles', () => {
    test('lets exactly one of many concurrent appends against the same head win, writing only its batch', async (h) => {
      await appendEvents(h.store, 1);
      const handles = [h.store, ...(await Promise.all(Array.from({ length: 7 }, () => h.peer())))];
      for (const round of [0, 1, 2]) {
        const head = await h.store.head();
        const batches = handles.map((_, i) => ({
          events: conformanceEvents(head, 1 + (i % 3), { data: { round, racer: i } }),
          blob: blobOf(`racer ${round} ${i}`),
        }));
        const results = await Promise.allSettled(
          handles.map((s, i) =>
            s.append({
              events: batches[i]!.events,
              expectedHead: head,
              projections: [
                { collection: 'race', key: `r${round}`, value: i, indexes: { by: `racer${i}` } },
              ],
              blobs: [batches[i]!.blob],
            }),
          ),
        );
        const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
        expect(winners).toHaveLength(1);
        for (const r of results) {
          if (r.status === 'rejected') {
            expect(isBatonError(r.reason, ErrorCode.CONFLICT), describeError(r.reason)).toBe(true);
          }
        }
        const w = winners[0]!;
        const won = batches[w]!.events;
        const newHead = { seq: won.at(-1)!.seq, hash: won.at(-1)!.hash };
        expect((results[w] as PromiseFulfilledResult<Head>).value).toEqual(newHead);
        expect(await readAll(h.store, { after: head.seq })).toStrictEqual(won);
        expect(await h.store.get('race', `r${round}`)).toBe(w);
        expect(await queryAll(h.store, 'race', 'by', { prefix: 'racer' })).toHaveLength(round + 1);
        for (const [i, b] of batches.entries()) {
          expect(await h.store.blobs.has(b.blob.hash)).toBe(i === w);
          if (i !== w) for (const e of b.events) expect(await h.store.event(e.id)).toBeUndefined();
        }
        for (const s of handles) expect(await s.head()).toEqual(newHead);
      }
    });

    test('keeps the log gap-free and chained when handles race with retries', async (h) => {
      const handles = [h.store, ...(await Promise.all(Array.from({ length: 3 }, () => h.peer())))];
      const perHandle = 8;
      await Promise.all(
        handles.map(async (s, who) => {
          for (let n = 0; n < perHandle; n++) {
            // Each retry sees a newer head, so a correct store lets every racer through within
            // (handles × events) tries; far more means head() is stale or conflicts are spurious.
            for (let attempt = 0; ; attempt++) {
              expect(attempt, `handle ${who} never got its append ${n} through`).toBeLessThan(1000);
              const head = await s.head();
              try {
                await s.append({
                  events: conformanceEvents(head, 1, { data: { who, n }, refs: [`h${who}`] }),
                  expectedHead: head,
                  projections: [{ collection: 'count', key: `h${who}`, value: n + 1 }],
                });
                break;
              } catch (e) {
                expect(isBatonError(e, ErrorCode.CONFLICT), describeError(e)).toBe(true);
              }
            }
          }
        }),
      );
      const total = handles.length * perHandle;
      const log = await readAll(h.store);
      expect(log.map((e) => e.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      for (let i = 1; i < log.length; i++) expect(log[i]!.prev).toBe(log[i - 1]!.hash);
      expect(new Set(log.map((e) => e.id)).size).toBe(total);
      for (const [who] of handles.entries()) {
        const mine = log
          .filter((e) => e.refs[0] === `h${who}`)
          .map((e) => (e.data as { n: number }).n);
        expect(mine).toEqual(Array.from({ length: perHandle }, (_, n) => n));
        expect(await h.store.get('count', `h${who}`)).toBe(perHandle);
      }
      for (const s of handles) {
        expect(await readAll(s)).toStrictEqual(log);
        expect(await s.head()).toEqual({ seq: total, hash: log.at(-1)!.hash });
      }
    });

    test('shows every handle the others’ events, head, rows, blobs and kv entries', async (h) => {
      const peer = await h.peer();
      const blob = blobOf('shared');
      const events = await appendEvents(peer, 2, undefined, {
        projections: [
          { collection: 'docs', key: 'd', value: { by: 'peer' }, indexes: { tag: 'p' } },
        ],
        blobs: [blob],
      });
      await peer.kv.put('from-peer', [1, 2]);
      expect(await h.store.head()).toEqual({ seq: 2, hash: events[1]!.hash });
      expect(await readAll(h.store)).toStrictEqual(events);
      expect(await h.store.event(events[0]!.id)).toStrictEqual(events[0]);
      expect(await h.store.get('docs', 'd')).toEqual({ by: 'peer' });
      expect(await queryAll(h.store, 'docs', 'tag', { eq: 'p' })).toHaveLength(1);
      expect(await h.store.blobs.get(blob.hash)).toEqual(blob.bytes);
      expect(await h.store.kv.get('from-peer')).toEqual([1, 2]);
      const more = await appendEvents(h.store, 1);
      expect(await readAll(peer)).toStrictEqual([...events, ...more]);
      await h.store.kv.delete('from-peer');
      expect(await peer.kv.get('from-peer')).toBeUndefined();
      await h.store.blobs.delete(blob.hash);
      expect(await peer.blobs.has(blob.hash)).toBe(false);
    });

    test('lets exactly one of two handles win a kv compare-and-set on the same key', async (h) => {
      const peer = await h.peer();
      await h.store.kv.put('lock', { rev: 1 });
      const results = await Promise.allSettled([
        h.store.kv.batch([{ key: 'lock', value: { rev: 2, by: 'a' } }], {
          expect: [{ key: 'lock', value: { rev: 1 } }],
        }),
        peer.kv.batch([{ key: 'lock', value: { rev: 2, by: 'b' } }], {
          expect: [{ key: 'lock', value: { rev: 1 } }],
        }),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect((lost.reason as BatonError).code).toBe(ErrorCode.CONFLICT);
      const won = await peer.kv.get('lock');
      expect(await h.store.kv.get('lock')).toEqual(won);
    });

    test('keeps a handle working after a peer handle closes', async (h) => {
      const peer = await h.peer();
      await appendEvents(peer, 1);
      await peer.close();
      const more = await appendEvents(h.store, 2);
      expect((await h.store.head()).seq).toBe(3);
      expect((await readAll(h.store)).slice(1)).toStrictEqual(more);
    });
  });
}
