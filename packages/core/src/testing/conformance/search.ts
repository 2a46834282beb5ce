import { describe, expect } from 'vitest';
import type { IndexRange, PageOptions, ProjectionRow, Store } from '../../store/store.js';
import { PRIMARY_INDEX } from '../../store/store.js';
import type { Suite } from './harness.js';
import { everyPage, write } from './helpers.js';

/** Every row of a search, page by page (each page at most `limit`). */
function searchAll(
  store: Store,
  collection: string,
  needle: string,
  index: string,
  range: IndexRange = {},
  page: Omit<PageOptions, 'after'> = {},
): Promise<ProjectionRow[]> {
  return everyPage(`search(${collection}, ${needle})`, page, (p) =>
    store.search(collection, needle, index, range, p),
  );
}

const keys = (rows: ProjectionRow[]) => rows.map((r) => r.key);

/** Text search: `ProjectionWrite.text` and `Store.search`. */
export function searchTests({ test }: Suite): void {
  describe('text search', () => {
    test('finds rows whose text contains the needle, whatever its case, non-ASCII included', async ({
      store,
    }) => {
      await write(store, [
        { collection: 'notes', key: 'a', value: 1, text: 'The Launch Post is DRAFTED' },
        { collection: 'notes', key: 'b', value: 2, text: 'Crème BRÛLÉE for the café' },
        { collection: 'notes', key: 'c', value: 3, text: 'ЖУРНАЛ и Σίσυφος' },
        { collection: 'notes', key: 'd', value: 4, text: 'nothing to see' },
        { collection: 'notes', key: 'e', value: 5 },
      ]);
      expect(keys(await searchAll(store, 'notes', 'launch post', PRIMARY_INDEX))).toEqual(['a']);
      expect(keys(await searchAll(store, 'notes', 'DRAFT', PRIMARY_INDEX))).toEqual(['a']);
      expect(keys(await searchAll(store, 'notes', 'brûlée', PRIMARY_INDEX))).toEqual(['b']);
      expect(keys(await searchAll(store, 'notes', 'CAFÉ', PRIMARY_INDEX))).toEqual(['b']);
      expect(keys(await searchAll(store, 'notes', 'журнал', PRIMARY_INDEX))).toEqual(['c']);
      expect(keys(await searchAll(store, 'notes', 'ΣΊΣΥΦΟΣ', PRIMARY_INDEX))).toEqual(['c']);
      expect(keys(await searchAll(store, 'notes', 'the', PRIMARY_INDEX))).toEqual(['a', 'b']);
      expect(await searchAll(store, 'notes', 'absent words', PRIMARY_INDEX)).toEqual([]);
      expect(await searchAll(store, 'nowhere', 'the', PRIMARY_INDEX)).toEqual([]);
      expect((await store.search('notes', 'crème', PRIMARY_INDEX, {})).items).toEqual([
        { key: 'b', value: 2 },
      ]);
    });

    test('finds needles shorter than three characters, and quotes and operators as text', async ({
      store,
    }) => {
      await write(store, [
        { collection: 'notes', key: 'a', value: 1, text: 'x + y' },
        { collection: 'notes', key: 'b', value: 2, text: 'say "hi" AND OR NOT *' },
        { collection: 'notes', key: 'c', value: 3, text: 'É' },
        { collection: 'notes', key: 'd', value: 4, text: 'mood 😀a😀 ok' },
      ]);
      expect(keys(await searchAll(store, 'notes', '😀A', PRIMARY_INDEX))).toEqual(['d']);
      expect(keys(await searchAll(store, 'notes', 'a😀 O', PRIMARY_INDEX))).toEqual(['d']);
      expect(keys(await searchAll(store, 'notes', 'X', PRIMARY_INDEX))).toEqual(['a']);
      expect(keys(await searchAll(store, 'notes', 'é', PRIMARY_INDEX))).toEqual(['c']);
      expect(keys(await searchAll(store, 'notes', '"hi"', PRIMARY_INDEX))).toEqual(['b']);
      expect(keys(await searchAll(store, 'notes', 'and or not *', PRIMARY_INDEX))).toEqual(['b']);
      expect(keys(await searchAll(store, 'notes', ' ', PRIMARY_INDEX))).toEqual(['a', 'b', 'd']);
    });

    test('a rewritten row keeps only its new text, and a deleted row is found no more', async ({
      store,
    }) => {
      await write(store, [
        { collection: 'notes', key: 'a', value: 1, text: 'old words' },
        { collection: 'notes', key: 'b', value: 2, text: 'old words too' },
        { collection: 'notes', key: 'c', value: 3, text: 'old words as well' },
      ]);
      await write(store, [
        { collection: 'notes', key: 'a', value: 10, text: 'new words' },
        { collection: 'notes', key: 'b', value: 20 },
        { collection: 'notes', key: 'c', value: null },
      ]);
      expect(await searchAll(store, 'notes', 'old', PRIMARY_INDEX)).toEqual([]);
      expect(await searchAll(store, 'notes', 'ol', PRIMARY_INDEX)).toEqual([]);
      expect(await searchAll(store, 'notes', 'new words', PRIMARY_INDEX)).toEqual([
        { key: 'a', value: 10 },
      ]);
      expect(keys(await searchAll(store, 'notes', 'words', PRIMARY_INDEX))).toEqual(['a']);
      expect(await store.get('notes', 'b')).toBe(20);
    });

    test('orders matches by an index key within a range, then by row key, both ways', async ({
      store,
    }) => {
      await write(store, [
        { collection: 'notes', key: 'n1', value: 1, text: 'apple', indexes: { at: '3', tag: 'x' } },
        { collection: 'notes', key: 'n2', value: 2, text: 'apple pie', indexes: { at: '1' } },
        { collection: 'notes', key: 'n3', value: 3, text: 'pear', indexes: { at: '2' } },
        { collection: 'notes', key: 'n4', value: 4, text: 'APPLES', indexes: { at: '2' } },
        { collection: 'notes', key: 'n5', value: 5, text: 'apple', indexes: { at: ['5', '0'] } },
      ]);
      expect(keys(await searchAll(store, 'notes', 'apple', 'at'))).toEqual([
        'n5',
        'n2',
        'n4',
        'n1',
        'n5',
      ]);
      expect(keys(await searchAll(store, 'notes', 'apple', 'at', { gte: '1', lt: '4' }))).toEqual([
        'n2',
        'n4',
        'n1',
      ]);
      expect(
        keys(await searchAll(store, 'notes', 'apple', 'at', { gt: '1' }, { reverse: true })),
      ).toEqual(['n5', 'n1', 'n4']);
      expect(keys(await searchAll(store, 'notes', 'apple', 'tag', { eq: 'x' }))).toEqual(['n1']);
      expect(keys(await searchAll(store, 'notes', 'apple', 'none'))).toEqual([]);
    });

    test('pages through matches with cursors that resume exactly, whatever the page size', async ({
      store,
    }) => {
      const n = 23;
      await write(
        store,
        Array.from({ length: n }, (_, i) => ({
          collection: 'notes',
          key: `k${String(i).padStart(2, '0')}`,
          value: i,
          text: i % 3 === 0 ? `note ${i} about zebras` : `note ${i}`,
          indexes: { by: `v${String(n - i).padStart(2, '0')}` },
        })),
      );
      const all = await searchAll(store, 'notes', 'zebra', 'by');
      expect(all.map((r) => r.value)).toEqual([21, 18, 15, 12, 9, 6, 3, 0]);
      for (const limit of [1, 2, 3, 7, 8, 100]) {
        expect(await searchAll(store, 'notes', 'zebra', 'by', {}, { limit })).toEqual(all);
        expect(await searchAll(store, 'notes', 'ZE', 'by', {}, { limit })).toEqual(all);
      }
      const first = await store.search('notes', 'zebras', PRIMARY_INDEX, {}, { limit: 3 });
      expect(first.items.map((r) => r.value)).toEqual([0, 3, 6]);
      const second = await store.search(
        'notes',
        'zebras',
        PRIMARY_INDEX,
        {},
        {
          limit: 3,
          after: first.next!,
        },
      );
      expect(second.items.map((r) => r.value)).toEqual([9, 12, 15]);
    });

    test('keeps the texts of collections apart', async ({ store }) => {
      await write(store, [
        { collection: 'a', key: 'x', value: 1, text: 'shared words' },
        { collection: 'b', key: 'x', value: 2, text: 'other words' },
      ]);
      expect(await searchAll(store, 'a', 'words', PRIMARY_INDEX)).toEqual([{ key: 'x', value: 1 }]);
      expect(await searchAll(store, 'b', 'shared', PRIMARY_INDEX)).toEqual([]);
    });
  });
}
