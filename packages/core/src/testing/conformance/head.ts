import { describe, expect } from 'vitest';
import { type BatonError, ErrorCode, isBatonError } from '../../errors.js';
import { type BatonEvent, EMPTY_HEAD, type Head } from '../../log/event.js';
import type { ProjectionWrite, Store } from '../../store/store.js';
import { blobOf, conformanceEvents, conformanceId, rehash } from './events.js';
import type { Suite } from './harness.js';
import { expectRefusal, type Probe, readAll, snapshot } from './helpers.js';

/** Head conflicts and the chain check: refused batches write nothing. */
export function headTests({ test }: Suite): void {
  describe('head conflicts and validation', () => {
    const seed = blobOf('seed blob');
    const trap = blobOf('trap blob');
    const probe: Probe = {
      collections: ['docs', 'other'],
      indexes: [['docs', 'tag']],
      blobs: [seed.hash, trap.hash],
    };
    const trapWrites: ProjectionWrite[] = [
      { collection: 'docs', key: 'kept', value: { v: 99 }, indexes: { tag: 'u' } },
      { collection: 'docs', key: 'doomed', value: null },
      { collection: 'docs', key: 'new', value: { v: 3 }, indexes: { tag: ['t', 'v'] } },
      { collection: 'other', key: 'x', value: 1 },
    ];

    /** A log of 3 events, two rows, a blob and a kv entry. */
    async function seeded(store: Store): Promise<{ head: Head; events: BatonEvent[] }> {
      const events = conformanceEvents(EMPTY_HEAD, 3);
      const head = await store.append({
        events,
        expectedHead: EMPTY_HEAD,
        projections: [
          { collection: 'docs', key: 'kept', value: { v: 1 }, indexes: { tag: 't' } },
          { collection: 'docs', key: 'doomed', value: { v: 2 }, indexes: { tag: 't' } },
        ],
        blobs: [seed],
      });
      await store.kv.put('kv', { v: 1 });
      return { head, events };
    }

    async function refusedWithoutTrace(
      store: Store,
      events: BatonEvent[],
      expectedHead: Head,
      code: ErrorCode,
    ): Promise<BatonError> {
      const before = await snapshot(store, probe);
      const err = await expectRefusal(
        () => store.append({ events, expectedHead, projections: trapWrites, blobs: [trap] }),
        code,
      );
      expect(await snapshot(store, probe)).toEqual(before);
      expect(await store.blobs.has(trap.hash)).toBe(false);
      for (const e of events) {
        const found = await store.event(e.id);
        if (found) expect(found).not.toStrictEqual(e);
      }
      return err;
    }

    test('refuses an append whose expected head moved, writing nothing', async ({ store }) => {
      const { head, events } = await seeded(store);
      const stale = { seq: 2, hash: events[1]!.hash };
      const err = await refusedWithoutTrace(
        store,
        conformanceEvents(stale, 2),
        stale,
        ErrorCode.CONFLICT,
      );
      expect(err.name).toBe('BatonError');
      expect(err.code).toBe('CONFLICT');
      expect(isBatonError(err)).toBe(true);
      expect(err).toBeInstanceOf(Error);
      expect((err as BatonError & { head?: Head }).head).toEqual(head);
    });

    test('refuses an append against the empty head once the log has events', async ({ store }) => {
      await seeded(store);
      await refusedWithoutTrace(
        store,
        conformanceEvents(EMPTY_HEAD, 1),
        EMPTY_HEAD,
        ErrorCode.CONFLICT,
      );
    });

    test('refuses an append whose expected head has the right seq but another hash', async ({
      store,
    }) => {
      const { head } = await seeded(store);
      const wrong = { seq: head.seq, hash: `${head.hash}x` };
      await refusedWithoutTrace(store, conformanceEvents(wrong, 1), wrong, ErrorCode.CONFLICT);
      const other = { seq: head.seq, hash: '' };
      await refusedWithoutTrace(store, conformanceEvents(other, 1), other, ErrorCode.CONFLICT);
    });

    test('refuses an append whose expected head is ahead of the log', async ({ store }) => {
      const { head } = await seeded(store);
      const ahead = { seq: head.seq + 1, hash: head.hash };
      await refusedWithoutTrace(store, conformanceEvents(ahead, 1), ahead, ErrorCode.CONFLICT);
    });

    test('refuses a non-empty expected head on an empty log', async ({ store }) => {
      const fake = { seq: 1, hash: 'fake' };
      await refusedWithoutTrace(store, conformanceEvents(fake, 1), fake, ErrorCode.CONFLICT);
      const blank = { seq: 0, hash: 'fake' };
      await refusedWithoutTrace(store, conformanceEvents(blank, 1), blank, ErrorCode.CONFLICT);
    });

    test('refuses a batch with no events and no projection writes with VALIDATION', async ({
      store,
    }) => {
      const { head } = await seeded(store);
      await expectRefusal(
        () => store.append({ events: [], expectedHead: head }),
        ErrorCode.VALIDATION,
      );
      await expectRefusal(
        () => store.append({ events: [], expectedHead: head, projections: [] }),
        ErrorCode.VALIDATION,
      );
      expect(await store.head()).toEqual(head);
    });

    test('refuses blobs without events with VALIDATION, writing nothing', async ({ store }) => {
      const { head } = await seeded(store);
      await refusedWithoutTrace(store, [], head, ErrorCode.VALIDATION);
    });

    test('writes projection rows alone under the head check, leaving the head unchanged', async ({
      store,
    }) => {
      const { head } = await seeded(store);
      const after = await store.append({
        events: [],
        expectedHead: head,
        projections: [{ collection: 'rebuilt', key: 'k', value: { v: 1 }, indexes: { by: 'x' } }],
      });
      expect(after).toEqual(head);
      expect(await store.head()).toEqual(head);
      expect(await store.get('rebuilt', 'k')).toEqual({ v: 1 });
      expect((await store.query('rebuilt', 'by', { eq: 'x' })).items.map((r) => r.key)).toEqual([
        'k',
      ]);
      await expectRefusal(
        () =>
          store.append({
            events: [],
            expectedHead: { seq: head.seq - 1, hash: 'stale' },
            projections: [{ collection: 'rebuilt', key: 'k', value: null }],
          }),
        ErrorCode.CONFLICT,
      );
      expect(await store.get('rebuilt', 'k')).toEqual({ v: 1 });
    });

    test('refuses a batch whose first seq skips past the head, writing nothing', async ({
      store,
    }) => {
      const { head } = await seeded(store);
      const gap = conformanceEvents({ seq: head.seq + 1, hash: head.hash }, 2);
      await refusedWithoutTrace(store, gap, head, ErrorCode.VALIDATION);
    });

    test('refuses a batch on an empty log that does not start at seq 1', async ({ store }) => {
      const gap = conformanceEvents({ seq: 1, hash: 'x' }, 1);
      await refusedWithoutTrace(store, gap, EMPTY_HEAD, ErrorCode.VALIDATION);
    });

    test('refuses a batch whose first seq repeats the head seq, writing nothing', async ({
      store,
    }) => {
      const { head, events } = await seeded(store);
      const again = conformanceEvents({ seq: 2, hash: events[1]!.hash }, 2);
      await refusedWithoutTrace(store, again, head, ErrorCode.VALIDATION);
    });

    test('refuses a batch with a seq gap between its own events, writing nothing', async ({
      store,
    }) => {
      const { head } = await seeded(store);
      const events = conformanceEvents(head, 3);
      events[2] = rehash(events[2]!, { seq: events[2]!.seq + 1 });
      await refusedWithoutTrace(store, events, head, ErrorCode.VALIDATION);
    });

    test('refuses a batch whose first event does not link to the head hash, writing nothing', async ({
      store,
    }) => {
      const { head } = await seeded(store);
      const unlinked = conformanceEvents({ seq: head.seq, hash: 'not-the-head' }, 2);
      await refusedWithoutTrace(store, unlinked, head, ErrorCode.VALIDATION);
    });

    test('refuses a batch whose later event does not link to the one before, writing nothing', async ({
      store,
    }) => {
      const { head } = await seeded(store);
      const events = conformanceEvents(head, 3);
      events[2] = rehash(events[2]!, { prev: events[0]!.hash });
      await refusedWithoutTrace(store, events, head, ErrorCode.VALIDATION);
    });

    test('refuses a batch that repeats an event id within itself, writing nothing', async ({
      store,
    }) => {
      const { head } = await seeded(store);
      const id = conformanceId('dup');
      const events = conformanceEvents(head, 3, (i) => (i === 1 ? {} : { id }));
      await refusedWithoutTrace(store, events, head, ErrorCode.VALIDATION);
    });

    test('refuses a batch that reuses the id of a committed event, writing nothing', async ({
      store,
    }) => {
      const { head, events } = await seeded(store);
      for (const taken of events) {
        const batch = conformanceEvents(head, 2, (i) => (i === 1 ? { id: taken.id } : {}));
        await refusedWithoutTrace(store, batch, head, ErrorCode.VALIDATION);
      }
    });

    test('refuses a batch that reuses a committed id even with other content', async ({
      store,
    }) => {
      const { head, events } = await seeded(store);
      const batch = conformanceEvents(head, 1, {
        id: events[0]!.id,
        stream: 'elsewhere',
        data: 'other',
      });
      await refusedWithoutTrace(store, batch, head, ErrorCode.VALIDATION);
    });

    test('still accepts a valid append after refusing invalid ones', async ({ store }) => {
      const { head, events } = await seeded(store);
      await refusedWithoutTrace(
        store,
        conformanceEvents({ seq: 1, hash: 'x' }, 1),
        head,
        ErrorCode.VALIDATION,
      );
      await refusedWithoutTrace(
        store,
        conformanceEvents(EMPTY_HEAD, 1),
        EMPTY_HEAD,
        ErrorCode.CONFLICT,
      );
      const next = conformanceEvents(head, 2);
      const newHead = await store.append({
        events: next,
        expectedHead: head,
        projections: trapWrites,
        blobs: [trap],
      });
      expect(newHead).toEqual({ seq: 5, hash: next[1]!.hash });
      expect(await readAll(store)).toStrictEqual([...events, ...next]);
      expect(await store.get('docs', 'kept')).toEqual({ v: 99 });
      expect(await store.get('docs', 'doomed')).toBeUndefined();
      expect(await store.blobs.has(trap.hash)).toBe(true);
    });
  });
}
