import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../errors.js';
import { type BatonEvent, EMPTY_HEAD, type Head } from '../../log/event.js';
import {
  type IndexRange,
  type KvValue,
  PRIMARY_INDEX,
  type ProjectionWrite,
  type Store,
} from '../../store/store.js';
import { blobOf, conformanceEvents, conformanceId } from './events.js';
import type { Suite } from './harness.js';
import { expectRefusal, listAll, queryAll, readAll } from './helpers.js';
import { applyWrites, byCodePoint, type ModelCollections, queryRef, readRef } from './model.js';

/** A model-based property test against the reference model. */
export function propertyTests({ modelRuns, withStore }: Suite): void {
  describe('model', () => {
    const POOL = ['a', 'ab', 'a:b', '', 'ü', '😀', '\uE000'];
    const COLLECTIONS = ['c1', 'c2'];
    const INDEXES = ['tag', 'other'];
    const BLOBS = ['alpha', 'beta', ''].map(blobOf);

    // Stores hand back plain objects; null-prototype values would differ only in that.
    const plain = { noNullPrototype: true };
    const key = fc.constantFrom(...POOL);
    const indexKeys = fc.oneof(key, fc.subarray(POOL), fc.array(key, { maxLength: 3 }));
    const projection: fc.Arbitrary<ProjectionWrite> = fc.record(
      {
        collection: fc.constantFrom(...COLLECTIONS),
        key,
        value: fc.option(fc.record({ n: fc.integer({ min: -5, max: 5 }), s: key }, plain), {
          nil: null,
          freq: 4,
        }),
        indexes: fc.record({ tag: indexKeys, other: indexKeys }, { requiredKeys: [] }),
      },
      { requiredKeys: ['collection', 'key', 'value'] },
    );
    const eventSpec = fc.record({
      stream: fc.constantFrom('s/a', 's/ab', 's/'),
      type: fc.constantFrom('t.a@1', 't.b@1'),
      refs: fc.subarray(POOL),
      data: fc.oneof(
        fc.integer(),
        fc.string({ maxLength: 4 }),
        fc.record({ x: fc.boolean() }, plain),
      ),
    });
    const batch = {
      events: fc.array(eventSpec, { minLength: 1, maxLength: 3 }),
      projections: fc.array(projection, { maxLength: 4 }),
      blobs: fc.subarray([0, 1, 2]),
    };
    const kvValue: fc.Arbitrary<KvValue> = fc.oneof(
      fc.constant(null),
      fc.boolean(),
      fc.integer(),
      fc.string({ maxLength: 4 }),
      fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 3 }),
      fc.record({ x: fc.integer() }, plain),
      fc.uint8Array({ maxLength: 4 }),
    );
    const op = fc.oneof(
      { arbitrary: fc.record({ kind: fc.constant('append' as const), ...batch }), weight: 4 },
      {
        arbitrary: fc.record({ kind: fc.constant('stale' as const), pick: fc.nat(), ...batch }),
        weight: 1,
      },
      {
        arbitrary: fc.record({
          kind: fc.constant('duplicate' as const),
          pick: fc.nat(),
          position: fc.nat(),
          inBatch: fc.boolean(),
          ...batch,
        }),
        weight: 1,
      },
      {
        arbitrary: fc.record({ kind: fc.constant('kvPut' as const), key, value: kvValue }),
        weight: 2,
      },
      { arbitrary: fc.record({ kind: fc.constant('kvDelete' as const), key }), weight: 1 },
      {
        arbitrary: fc.record({
          kind: fc.constant('blobDelete' as const),
          blob: fc.nat({ max: 2 }),
        }),
        weight: 1,
      },
    );
    const range: fc.Arbitrary<IndexRange> = fc.record(
      { eq: key, prefix: key, gt: key, gte: key, lt: key },
      { requiredKeys: [] },
    );
    const probe = fc.record({
      read: fc.record(
        {
          after: fc.nat({ max: 12 }),
          until: fc.nat({ max: 12 }),
          stream: fc.constantFrom('s/a', 's/ab', 's/'),
          ref: key,
          types: fc.subarray(['t.a@1', 't.b@1'], { minLength: 1 }),
          limit: fc.nat({ max: 6 }),
        },
        { requiredKeys: [] },
      ),
      collection: fc.constantFrom(...COLLECTIONS),
      index: fc.constantFrom(PRIMARY_INDEX, ...INDEXES),
      range,
      reverse: fc.boolean(),
      limit: fc.integer({ min: 1, max: 4 }),
      prefix: fc.constantFrom('', 'a', 'ab', '😀'),
    });

    interface Model {
      events: BatonEvent[];
      heads: Head[];
      collections: ModelCollections;
      blobs: Map<string, Uint8Array>;
      kv: Map<string, KvValue>;
    }

    async function check(
      store: Store,
      m: Model,
      p: typeof probe extends fc.Arbitrary<infer P> ? P : never,
    ) {
      expect(await store.head()).toEqual(m.heads.at(-1));
      expect(await readAll(store)).toStrictEqual(m.events);
      expect(await readAll(store, p.read)).toStrictEqual(readRef(m.events, p.read));
      for (const c of COLLECTIONS) {
        for (const k of POOL)
          expect(await store.get(c, k)).toStrictEqual(m.collections.get(c)?.get(k)?.value);
      }
      expect(
        await queryAll(store, p.collection, p.index, p.range, {
          reverse: p.reverse,
          limit: p.limit,
        }),
      ).toStrictEqual(queryRef(m.collections.get(p.collection), p.index, p.range, p.reverse));
      for (const b of BLOBS) {
        const want = m.blobs.get(b.hash);
        expect(await store.blobs.has(b.hash)).toBe(want !== undefined);
        expect(await store.blobs.get(b.hash)).toStrictEqual(want);
      }
      for (const k of POOL) expect(await store.kv.get(k)).toStrictEqual(m.kv.get(k));
      const wantKv = [...m.kv.entries()]
        .filter(([k]) => k.startsWith(p.prefix))
        .sort(([x], [y]) => byCodePoint(x, y))
        .map(([k, value]) => ({ key: k, value }));
      expect(await listAll(store.kv, p.prefix, { limit: p.limit })).toStrictEqual(wantKv);
    }

    it('agrees with a reference model over random sequences of appends, rows, blobs and kv writes', {
      timeout: 120_000,
    }, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(op, probe), { maxLength: 12 }), async (steps) => {
          await withStore(async ({ store }) => {
            const m: Model = {
              events: [],
              heads: [EMPTY_HEAD],
              collections: new Map(),
              blobs: new Map(),
              kv: new Map(),
            };
            for (const [o, p] of steps) {
              const head = m.heads.at(-1)!;
              switch (o.kind) {
                case 'append': {
                  const events = conformanceEvents(head, o.events.length, (i) => o.events[i]!);
                  const blobs = o.blobs.map((i) => BLOBS[i]!);
                  const next = await store.append({
                    events,
                    expectedHead: head,
                    projections: o.projections,
                    blobs,
                  });
                  const last = events.at(-1)!;
                  expect(next).toEqual({ seq: last.seq, hash: last.hash });
                  m.events.push(...events);
                  m.heads.push(next);
                  applyWrites(m.collections, o.projections);
                  for (const b of blobs) if (!m.blobs.has(b.hash)) m.blobs.set(b.hash, b.bytes);
                  break;
                }
                case 'stale': {
                  const candidates: Head[] = [
                    ...m.heads.slice(0, -1),
                    { seq: head.seq, hash: `${head.hash}~` },
                    { seq: head.seq + 1, hash: head.hash },
                  ];
                  const stale = candidates[o.pick % candidates.length]!;
                  const events = conformanceEvents(stale, o.events.length, (i) => o.events[i]!);
                  await expectRefusal(
                    () =>
                      store.append({
                        events,
                        expectedHead: stale,
                        projections: o.projections,
                        blobs: o.blobs.map((i) => BLOBS[i]!),
                      }),
                    ErrorCode.CONFLICT,
                  );
                  break;
                }
                case 'duplicate': {
                  const size = o.events.length + 1;
                  const ids = Array.from({ length: size }, () => conformanceId('m'));
                  const at = o.position % size;
                  if (o.inBatch || m.events.length === 0) {
                    ids[at] = ids[(at + 1) % size]!;
                  } else {
                    ids[at] = m.events[o.pick % m.events.length]!.id;
                  }
                  const events = conformanceEvents(head, size, (i) => ({
                    ...o.events[i % o.events.length]!,
                    id: ids[i]!,
                  }));
                  await expectRefusal(
                    () =>
                      store.append({
                        events,
                        expectedHead: head,
                        projections: o.projections,
                        blobs: o.blobs.map((i) => BLOBS[i]!),
                      }),
                    ErrorCode.VALIDATION,
                  );
                  break;
                }
                case 'kvPut':
                  await store.kv.put(o.key, o.value);
                  m.kv.set(o.key, o.value);
                  break;
                case 'kvDelete':
                  await store.kv.delete(o.key);
                  m.kv.delete(o.key);
                  break;
                case 'blobDelete':
                  await store.blobs.delete(BLOBS[o.blob]!.hash);
                  m.blobs.delete(BLOBS[o.blob]!.hash);
                  break;
              }
              await check(store, m, p);
            }
          });
        }),
        { numRuns: modelRuns },
      );
    });
  });
}
