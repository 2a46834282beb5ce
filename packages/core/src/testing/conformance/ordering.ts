import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BatonEvent } from '../../log/event.js';
import {
  type IndexRange,
  PRIMARY_INDEX,
  type ProjectionWrite,
  type ReadQuery,
} from '../../store/store.js';
import { conformanceEvents } from './events.js';
import type { Suite } from './harness.js';
import { listAll, queryAll, readAll } from './helpers.js';
import { applyWrites, byCodePoint, type ModelCollections, queryRef, readRef } from './model.js';

// Keys from a small alphabet, so random keys share prefixes, repeat, and straddle the places
// where code point order and UTF-16 order disagree (\uE000 against an astral character).
const key = fc
  .array(fc.constantFrom('a', 'b', '\uE000', '😀'), { maxLength: 2 })
  .map((cs) => cs.join(''));
// Mostly one or two bounds, so ranges are seldom empty.
const range: fc.Arbitrary<IndexRange> = fc.oneof(
  fc.constant({}),
  fc.record({ eq: key }),
  fc.record({ prefix: key }),
  fc.record({ gt: key }),
  fc.record({ gte: key }),
  fc.record({ lt: key }),
  fc.record({ gte: key, lt: key }),
  fc.record({ gt: key, lt: key }),
  fc.record({ prefix: key, gt: key }),
  fc.record({ eq: key, prefix: key, gt: key, gte: key, lt: key }, { requiredKeys: [] }),
);
const paging = fc.record({ limit: fc.integer({ min: 1, max: 7 }), reverse: fc.boolean() });

/**
 * Model-based tests of order under churn: many rows and kv keys put, re-indexed and deleted
 * in random order, then every range and page read back against the reference model — what an
 * ordered index (kept up to date on each write, rather than sorted at read time) must get right.
 */
export function orderingTests({ modelRuns, withStore }: Suite): void {
  describe('order under churn', () => {
    const runs = Math.max(5, Math.ceil(modelRuns / 2));

    const rowWrite: fc.Arbitrary<ProjectionWrite> = fc.record({
      collection: fc.constant('c'),
      key,
      value: fc.option(fc.record({ n: fc.nat({ max: 9 }) }, { noNullPrototype: true }), {
        nil: null,
        freq: 4,
      }),
      indexes: fc.record({ tag: fc.array(key, { maxLength: 3 }), one: key }),
    });

    it('pages every range of a primary and a secondary index in order after random puts, overwrites and deletes', {
      timeout: 120_000,
    }, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.array(rowWrite, { minLength: 1, maxLength: 8 }), { maxLength: 8 }),
          fc.array(fc.tuple(fc.constantFrom(PRIMARY_INDEX, 'tag', 'one'), range, paging), {
            minLength: 1,
            maxLength: 6,
          }),
          async (batches, probes) => {
            await withStore(async ({ store }) => {
              const model: ModelCollections = new Map();
              for (const projections of batches) {
                const head = await store.head();
                const events = conformanceEvents(head, 1);
                await store.append({ events, expectedHead: head, projections });
                applyWrites(model, projections);
              }
              for (const [index, r, page] of probes) {
                expect(await queryAll(store, 'c', index, r, page)).toStrictEqual(
                  queryRef(model.get('c'), index, r, page.reverse),
                );
              }
            });
          },
        ),
        { numRuns: runs },
      );
    });

    it('lists kv keys by prefix in order, both ways, after random puts and deletes', {
      timeout: 120_000,
    }, async () => {
      const kvKey = key.filter((k) => k !== '');
      const op = fc.oneof(
        fc.record({ put: kvKey, n: fc.nat({ max: 9 }) }),
        fc.record({ drop: kvKey }),
        fc.record({ batch: fc.array(fc.tuple(kvKey, fc.boolean()), { maxLength: 4 }) }),
      );
      await fc.assert(
        fc.asyncProperty(
          fc.array(op, { maxLength: 40 }),
          fc.array(fc.tuple(key, paging), { minLength: 1, maxLength: 6 }),
          async (ops, probes) => {
            await withStore(async ({ store }) => {
              const model = new Map<string, { n: number }>();
              for (const o of ops) {
                if ('put' in o) {
                  await store.kv.put(o.put, { n: o.n });
                  model.set(o.put, { n: o.n });
                } else if ('drop' in o) {
                  await store.kv.delete(o.drop);
                  model.delete(o.drop);
                } else {
                  // The last write of a key in a batch wins, as in the model.
                  const writes = o.batch.map(([k, put]) =>
                    put ? { key: k, value: { n: 0 } } : { key: k },
                  );
                  await store.kv.batch(writes);
                  for (const [k, put] of o.batch) put ? model.set(k, { n: 0 }) : model.delete(k);
                }
              }
              for (const [prefix, page] of probes) {
                const want = [...model.entries()]
                  .filter(([k]) => k.startsWith(prefix))
                  .sort(([x], [y]) => byCodePoint(x, y) * (page.reverse ? -1 : 1))
                  .map(([k, value]) => ({ key: k, value }));
                expect(await listAll(store.kv, prefix, page)).toStrictEqual(want);
              }
            });
          },
        ),
        { numRuns: runs },
      );
    });

    it('reads any mix of after, until, stream, ref, types and limit over a longer log as the reference filter does', {
      timeout: 120_000,
    }, async () => {
      const spec = fc.record({
        stream: fc.constantFrom('s1', 's2', 's3'),
        type: fc.constantFrom('t.a@1', 't.b@1', 't.c@1'),
        refs: fc.subarray(['r1', 'r2', 'r3', 'r4']),
      });
      const query: fc.Arbitrary<ReadQuery> = fc.record(
        {
          after: fc.nat({ max: 60 }),
          until: fc.nat({ max: 60 }),
          stream: fc.constantFrom('s1', 's2', 's3', 'none'),
          ref: fc.constantFrom('r1', 'r2', 'r3', 'r4', 'none'),
          types: fc.array(fc.constantFrom('t.a@1', 't.b@1', 't.c@1', 'none@1'), { maxLength: 4 }),
          limit: fc.nat({ max: 20 }),
        },
        { requiredKeys: [] },
      );
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.array(spec, { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 6 }),
          fc.array(query, { minLength: 1, maxLength: 8 }),
          async (batches, queries) => {
            await withStore(async ({ store }) => {
              const all: BatonEvent[] = [];
              for (const specs of batches) {
                const head = await store.head();
                const events = conformanceEvents(head, specs.length, (i) => specs[i]!);
                await store.append({ events, expectedHead: head });
                all.push(...events);
              }
              for (const q of queries) {
                expect(await readAll(store, q), JSON.stringify(q)).toStrictEqual(readRef(all, q));
              }
            });
          },
        ),
        { numRuns: runs },
      );
    });
  });
}
