import { describe, expect } from 'vitest';
import type { JsonValue } from '../../crypto/canonical.js';
import { ErrorCode } from '../../errors.js';
import { type IndexRange, PRIMARY_INDEX, type ProjectionWrite } from '../../store/store.js';
import type { Suite } from './harness.js';
import { expectRefusal, queryAll, write } from './helpers.js';
import { applyWrites, type ModelCollections, queryRef } from './model.js';

/** Projection rows, their indexes, ranges and paging. */
export function projectionTests({ test }: Suite): void {
  describe('projections', () => {
    test('puts, reads and overwrites a row by collection and key', async ({ store }) => {
      await write(store, [{ collection: 'docs', key: 'a', value: { title: 'first', n: [1, 2] } }]);
      expect(await store.get('docs', 'a')).toEqual({ title: 'first', n: [1, 2] });
      await write(store, [{ collection: 'docs', key: 'a', value: 'second' }]);
      expect(await store.get('docs', 'a')).toBe('second');
      expect(await queryAll(store, 'docs', PRIMARY_INDEX)).toEqual([{ key: 'a', value: 'second' }]);
    });

    test('stores any non-null JSON value as a row value', async ({ store }) => {
      const values: JsonValue[] = [
        0,
        -1.25,
        1e21,
        true,
        false,
        '',
        'text',
        [],
        [null, 1],
        {},
        { a: { b: null } },
      ];
      await write(
        store,
        values.map((value, i) => ({
          collection: 'values',
          key: `k${String(i).padStart(2, '0')}`,
          value,
        })),
      );
      for (const [i, v] of values.entries()) {
        expect(await store.get('values', `k${String(i).padStart(2, '0')}`)).toStrictEqual(v);
      }
      expect((await queryAll(store, 'values', PRIMARY_INDEX)).map((r) => r.value)).toStrictEqual(
        values,
      );
    });

    test('deletes a row with a null value, and deleting a missing row is a no-op', async ({
      store,
    }) => {
      await write(store, [
        { collection: 'docs', key: 'a', value: 1 },
        { collection: 'docs', key: 'b', value: 2 },
      ]);
      await write(store, [
        { collection: 'docs', key: 'a', value: null },
        { collection: 'docs', key: 'never', value: null },
        { collection: 'nowhere', key: 'x', value: null },
      ]);
      expect(await store.get('docs', 'a')).toBeUndefined();
      expect(await store.get('docs', 'never')).toBeUndefined();
      expect(await queryAll(store, 'docs', PRIMARY_INDEX)).toEqual([{ key: 'b', value: 2 }]);
      expect(await queryAll(store, 'nowhere', PRIMARY_INDEX)).toEqual([]);
    });

    test('returns undefined for a missing row and an empty page for a missing collection', async ({
      store,
    }) => {
      expect(await store.get('docs', 'a')).toBeUndefined();
      expect(await store.query('docs', PRIMARY_INDEX, {})).toEqual({ items: [] });
      expect(await store.query('docs', 'tag', { eq: 'x' })).toEqual({ items: [] });
      await write(store, [{ collection: 'docs', key: 'a', value: 1 }]);
      expect(await store.query('docs', 'no-such-index', {})).toEqual({ items: [] });
    });

    test('keeps collections apart, so the same key in two collections is two rows', async ({
      store,
    }) => {
      await write(store, [
        { collection: 'docs', key: 'k', value: 'doc', indexes: { tag: 't' } },
        { collection: 'docsx', key: 'k', value: 'docx', indexes: { tag: 't' } },
        { collection: 'doc', key: 'k', value: 'd', indexes: { tag: 't' } },
      ]);
      expect(await store.get('docs', 'k')).toBe('doc');
      expect(await store.get('docsx', 'k')).toBe('docx');
      expect(await store.get('doc', 'k')).toBe('d');
      expect(await queryAll(store, 'docs', 'tag')).toEqual([{ key: 'k', value: 'doc' }]);
      await write(store, [{ collection: 'docs', key: 'k', value: null }]);
      expect(await store.get('docsx', 'k')).toBe('docx');
      expect(await queryAll(store, 'doc', PRIMARY_INDEX)).toEqual([{ key: 'k', value: 'd' }]);
    });

    test('queries a secondary index in index-key order, then by row key', async ({ store }) => {
      await write(store, [
        { collection: 'docs', key: 'b', value: 'B', indexes: { owner: 'ada' } },
        { collection: 'docs', key: 'a', value: 'A', indexes: { owner: 'bob' } },
        { collection: 'docs', key: 'c', value: 'C', indexes: { owner: 'ada' } },
        { collection: 'docs', key: 'd', value: 'D' },
      ]);
      expect(await queryAll(store, 'docs', 'owner')).toEqual([
        { key: 'b', value: 'B' },
        { key: 'c', value: 'C' },
        { key: 'a', value: 'A' },
      ]);
      expect(await queryAll(store, 'docs', 'owner', { eq: 'ada' })).toEqual([
        { key: 'b', value: 'B' },
        { key: 'c', value: 'C' },
      ]);
      expect(await queryAll(store, 'docs', 'owner', {}, { reverse: true })).toEqual([
        { key: 'a', value: 'A' },
        { key: 'c', value: 'C' },
        { key: 'b', value: 'B' },
      ]);
    });

    test('lists a row under each of its multi-valued index keys', async ({ store }) => {
      await write(store, [
        {
          collection: 'docs',
          key: 'x',
          value: 1,
          indexes: { tag: ['red', 'blue'], owner: 'ada' },
        },
        { collection: 'docs', key: 'y', value: 2, indexes: { tag: ['blue'] } },
        { collection: 'docs', key: 'z', value: 3, indexes: { tag: [] } },
      ]);
      expect(await queryAll(store, 'docs', 'tag', { eq: 'blue' })).toEqual([
        { key: 'x', value: 1 },
        { key: 'y', value: 2 },
      ]);
      expect(await queryAll(store, 'docs', 'tag', { eq: 'red' })).toEqual([{ key: 'x', value: 1 }]);
      expect(await queryAll(store, 'docs', 'tag')).toEqual([
        { key: 'x', value: 1 },
        { key: 'y', value: 2 },
        { key: 'x', value: 1 },
      ]);
      expect(await queryAll(store, 'docs', 'owner')).toEqual([{ key: 'x', value: 1 }]);
    });

    test('lists a row once per distinct index key even when a key is given twice', async ({
      store,
    }) => {
      await write(store, [
        { collection: 'docs', key: 'x', value: 1, indexes: { tag: ['red', 'red', 'blue'] } },
      ]);
      expect(await queryAll(store, 'docs', 'tag', { eq: 'red' })).toEqual([{ key: 'x', value: 1 }]);
      expect(await queryAll(store, 'docs', 'tag')).toHaveLength(2);
      expect(await queryAll(store, 'docs', 'tag', {}, { limit: 1 })).toHaveLength(2);
    });

    test('replaces a row’s index keys when the row is overwritten', async ({ store }) => {
      await write(store, [
        {
          collection: 'docs',
          key: 'x',
          value: 1,
          indexes: { tag: ['red', 'blue'], owner: 'ada' },
        },
      ]);
      await write(store, [{ collection: 'docs', key: 'x', value: 2, indexes: { tag: 'green' } }]);
      expect(await queryAll(store, 'docs', 'tag')).toEqual([{ key: 'x', value: 2 }]);
      expect(await queryAll(store, 'docs', 'tag', { eq: 'red' })).toEqual([]);
      expect(await queryAll(store, 'docs', 'tag', { eq: 'green' })).toEqual([
        { key: 'x', value: 2 },
      ]);
      expect(await queryAll(store, 'docs', 'owner')).toEqual([]);
      await write(store, [{ collection: 'docs', key: 'x', value: 3 }]);
      expect(await queryAll(store, 'docs', 'tag')).toEqual([]);
      expect(await queryAll(store, 'docs', PRIMARY_INDEX)).toEqual([{ key: 'x', value: 3 }]);
    });

    test('removes a row from every index when the row is deleted', async ({ store }) => {
      await write(store, [
        {
          collection: 'docs',
          key: 'x',
          value: 1,
          indexes: { tag: ['red', 'blue'], owner: 'ada' },
        },
        { collection: 'docs', key: 'y', value: 2, indexes: { tag: 'red' } },
      ]);
      await write(store, [{ collection: 'docs', key: 'x', value: null }]);
      expect(await queryAll(store, 'docs', 'tag')).toEqual([{ key: 'y', value: 2 }]);
      expect(await queryAll(store, 'docs', 'owner')).toEqual([]);
      await write(store, [{ collection: 'docs', key: 'x', value: 9 }]);
      expect(await queryAll(store, 'docs', 'tag')).toEqual([{ key: 'y', value: 2 }]);
    });

    test('treats the empty string as an ordinary index key and row key', async ({ store }) => {
      await write(store, [
        { collection: 'docs', key: '', value: 'empty', indexes: { tag: '' } },
        { collection: 'docs', key: 'a', value: 'a', indexes: { tag: ['', 'a'] } },
      ]);
      expect(await store.get('docs', '')).toBe('empty');
      expect(await queryAll(store, 'docs', 'tag', { eq: '' })).toEqual([
        { key: '', value: 'empty' },
        { key: 'a', value: 'a' },
      ]);
      expect(await queryAll(store, 'docs', PRIMARY_INDEX, { eq: '' })).toEqual([
        { key: '', value: 'empty' },
      ]);
      expect(await queryAll(store, 'docs', PRIMARY_INDEX, { gt: '' })).toEqual([
        { key: 'a', value: 'a' },
      ]);
    });

    const RANGE_KEYS = [
      '',
      ' ',
      'a',
      'a b',
      'a%',
      'a/b',
      'a:b',
      'a_',
      'ab',
      'abc',
      'A',
      'B',
      'b',
      'ü',
      'u\u0308',
      '日本',
      '😀',
      '\uE000',
      '\uFFFF',
    ];
    const RANGES: IndexRange[] = [
      {},
      { eq: 'a' },
      { eq: '' },
      { eq: 'zz' },
      { prefix: 'a' },
      { prefix: '' },
      { prefix: 'a%' },
      { prefix: 'a_' },
      { prefix: 'A' },
      { prefix: 'u' },
      { prefix: '日' },
      { gt: 'a' },
      { gte: 'a' },
      { lt: 'b' },
      { gt: 'a', lt: 'b' },
      { gte: 'a', lt: 'ab' },
      { gt: 'a', lt: 'abc' },
      { prefix: 'a', gt: 'a:b' },
      { prefix: 'a', lt: 'a:b' },
      { eq: 'ab', prefix: 'a' },
      { eq: 'ab', gt: 'ab' },
      { gt: '\uE000' },
      { lt: '😀' },
      { gte: '\uFFFF' },
      { gt: 'z' },
      { gt: 'b', lt: 'a' },
      { eq: 'a', prefix: 'b' },
      { gte: '', lt: ' ' },
    ];

    test('supports every IndexRange operator and their combinations, on the primary and a secondary index', async ({
      store,
    }) => {
      const writes: ProjectionWrite[] = RANGE_KEYS.map((k, i) => ({
        collection: 'r',
        key: k,
        value: { i },
        indexes: {
          same: k,
          other: [
            RANGE_KEYS[(i + 3) % RANGE_KEYS.length]!,
            RANGE_KEYS[(i * 7) % RANGE_KEYS.length]!,
          ],
        },
      }));
      await write(store, writes);
      const model: ModelCollections = new Map();
      applyWrites(model, writes);
      for (const index of [PRIMARY_INDEX, 'same', 'other']) {
        for (const range of RANGES) {
          for (const reverse of [false, true]) {
            const want = queryRef(model.get('r'), index, range, reverse);
            const got = await queryAll(store, 'r', index, range, { reverse });
            expect(got, `${index} ${JSON.stringify(range)} reverse=${reverse}`).toEqual(want);
          }
        }
      }
    });

    test('orders keys by Unicode code point, so \\uE000 sorts before 😀', async ({ store }) => {
      await write(
        store,
        ['😀', '\uFFFF', '\uE000', 'z', 'Z', 'é', 'e\u0301', '日'].map((k) => ({
          collection: 'cp',
          key: k,
          value: k,
          indexes: { v: k },
        })),
      );
      const want = ['Z', 'e\u0301', 'z', 'é', '日', '\uE000', '\uFFFF', '😀'];
      expect((await queryAll(store, 'cp', PRIMARY_INDEX)).map((r) => r.key)).toEqual(want);
      expect((await queryAll(store, 'cp', 'v')).map((r) => r.key)).toEqual(want);
      expect(
        (await queryAll(store, 'cp', PRIMARY_INDEX, {}, { reverse: true })).map((r) => r.key),
      ).toEqual([...want].reverse());
      expect(
        (await queryAll(store, 'cp', PRIMARY_INDEX, { gt: '\uE000' })).map((r) => r.key),
      ).toEqual(['\uFFFF', '😀']);
      expect((await queryAll(store, 'cp', 'v', { lt: '😀', gte: '日' })).map((r) => r.key)).toEqual(
        ['日', '\uE000', '\uFFFF'],
      );
    });

    test('pages through a query with limit and after, with no duplicates or misses', async ({
      store,
    }) => {
      const writes: ProjectionWrite[] = Array.from({ length: 37 }, (_, i) => ({
        collection: 'p',
        key: `row${String(i).padStart(2, '0')}`,
        value: i,
        indexes: { tag: [`t${i % 4}`, `t${i % 3}`], half: i < 18 ? 'low' : 'high' },
      }));
      await write(store, writes);
      const model: ModelCollections = new Map();
      applyWrites(model, writes);
      for (const index of [PRIMARY_INDEX, 'tag', 'half']) {
        for (const range of [{}, { eq: 't1' }, { gte: 't1' }, { eq: 'low' }]) {
          for (const reverse of [false, true]) {
            const want = queryRef(model.get('p'), index, range, reverse);
            for (const limit of [1, 3, 36, 37, 100]) {
              const got = await queryAll(store, 'p', index, range, { limit, reverse });
              expect(
                got,
                `${index} ${JSON.stringify(range)} limit=${limit} reverse=${reverse}`,
              ).toEqual(want);
            }
          }
        }
      }
    });

    test('returns a short last page without a next cursor', async ({ store }) => {
      await write(
        store,
        Array.from({ length: 5 }, (_, i) => ({ collection: 'p', key: `k${i}`, value: i })),
      );
      const first = await store.query('p', PRIMARY_INDEX, {}, { limit: 3 });
      expect(first.items.map((r) => r.key)).toEqual(['k0', 'k1', 'k2']);
      expect(first.next).toBeDefined();
      const second = await store.query('p', PRIMARY_INDEX, {}, { limit: 3, after: first.next! });
      expect(second.items.map((r) => r.key)).toEqual(['k3', 'k4']);
      expect(second.next).toBeUndefined();
      const all = await store.query('p', PRIMARY_INDEX, {}, { limit: 10 });
      expect(all.items).toHaveLength(5);
      expect(all.next).toBeUndefined();
    });

    test('returns pages of 100 rows when no limit is given', async ({ store }) => {
      await write(
        store,
        Array.from({ length: 150 }, (_, i) => ({
          collection: 'p',
          key: `k${String(i).padStart(3, '0')}`,
          value: i,
        })),
      );
      const first = await store.query('p', PRIMARY_INDEX, {});
      expect(first.items).toHaveLength(100);
      expect(first.next).toBeDefined();
      const second = await store.query('p', PRIMARY_INDEX, {}, { after: first.next! });
      expect(second.items.map((r) => r.value)).toEqual(
        Array.from({ length: 50 }, (_, i) => i + 100),
      );
      expect(second.next).toBeUndefined();
    });

    test('continues from a cursor even after the row it points at is deleted or new rows arrive', async ({
      store,
    }) => {
      await write(
        store,
        ['a', 'b', 'c', 'd', 'e'].map((k) => ({
          collection: 'p',
          key: k,
          value: k,
          indexes: { tag: 't' },
        })),
      );
      const first = await store.query('p', 'tag', { eq: 't' }, { limit: 2 });
      expect(first.items.map((r) => r.key)).toEqual(['a', 'b']);
      await write(store, [
        { collection: 'p', key: 'b', value: null },
        { collection: 'p', key: 'a2', value: 'a2', indexes: { tag: 't' } },
        { collection: 'p', key: 'c2', value: 'c2', indexes: { tag: 't' } },
      ]);
      const rest = await store.query('p', 'tag', { eq: 't' }, { limit: 10, after: first.next! });
      expect(rest.items.map((r) => r.key)).toEqual(['c', 'c2', 'd', 'e']);
    });

    test('refuses a cursor that no page produced with VALIDATION', async ({ store }) => {
      await write(store, [{ collection: 'p', key: 'a', value: 1 }]);
      for (const after of ['not-a-cursor', '%%%', 'eyJ4IjoxfQ', '!']) {
        await expectRefusal(
          () => store.query('p', PRIMARY_INDEX, {}, { after }),
          ErrorCode.VALIDATION,
        );
      }
    });
  });
}
