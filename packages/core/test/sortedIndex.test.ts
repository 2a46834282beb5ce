import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareKeys, inRange } from '../src/store/keys.js';
import { rangeOf, SortedIndex } from '../src/store/sortedIndex.js';
import type { IndexRange } from '../src/store/store.js';

const items = <T>(index: SortedIndex<T>) =>
  index.take(
    index.partition(() => false),
    index.partition(() => true),
    Number.POSITIVE_INFINITY,
  );

describe('SortedIndex', () => {
  it('keeps its items in order whatever order they are inserted in', () => {
    const index = new SortedIndex<number>((a, b) => a - b);
    for (const n of [5, 1, 4, 2, 3]) index.insert(n);
    expect(items(index)).toEqual([1, 2, 3, 4, 5]);
  });

  it('holds an item once: inserting it again changes nothing and says so', () => {
    const index = new SortedIndex<string>(compareKeys);
    expect(index.insert('a')).toBe(true);
    expect(index.insert('a')).toBe(false);
    expect(index.size).toBe(1);
  });

  it('removes an item it holds and reports one it does not', () => {
    const index = new SortedIndex<string>(compareKeys);
    for (const k of ['a', 'b', 'c']) index.insert(k);
    expect(index.delete('b')).toBe(true);
    expect(index.delete('b')).toBe(false);
    expect(items(index)).toEqual(['a', 'c']);
    expect(index.has('c')).toBe(true);
    expect(index.has('b')).toBe(false);
  });

  it('gives positions in item order, and takes items between two positions either way', () => {
    const index = new SortedIndex<number>((a, b) => a - b);
    for (const n of [10, 20, 30, 40]) index.insert(n);
    const at = (x: number) => index.partition((n) => n < x);
    expect(at(20)).toBeLessThan(at(21));
    expect(at(21)).toBe(at(30));
    expect(index.take(at(20), at(40), 10)).toEqual([20, 30]);
    expect(index.take(at(20), at(40), 10, true)).toEqual([30, 20]);
    expect(index.take(at(0), at(99), 3)).toEqual([10, 20, 30]);
    expect(index.take(at(0), at(99), 3, true)).toEqual([40, 30, 20]);
    expect(index.take(at(30), at(30), 3)).toEqual([]);
    expect(index.take(at(99), at(99), 3, true)).toEqual([]);
  });

  it('orders strings by code point, as the stores do (\\uE000 before 😀)', () => {
    const index = new SortedIndex<string>(compareKeys);
    for (const k of ['😀', '\uE000', 'b', 'a']) index.insert(k);
    expect(items(index)).toEqual(['a', 'b', '\uE000', '😀']);
  });

  it('keeps order, size, positions and slices right across thousands of items, inserted and deleted in random order', () => {
    // Enough items to fill many chunks, split them and empty some again.
    const index = new SortedIndex<number>((a, b) => a - b);
    const shuffled = Array.from({ length: 6_000 }, (_, i) => i).sort(
      (a, b) => ((a * 7_919) % 6_007) - ((b * 7_919) % 6_007),
    );
    for (const n of shuffled) index.insert(n);
    for (const n of shuffled.slice(0, 3_000)) if (n % 3 !== 0) index.delete(n);
    const model = Array.from({ length: 6_000 }, (_, i) => i).filter(
      (n) => n % 3 === 0 || !shuffled.slice(0, 3_000).includes(n),
    );
    expect(index.size).toBe(model.length);
    expect(items(index)).toEqual(model);
    const end = index.partition(() => true);
    for (const x of [0, 1, 1_023, 1_024, 2_500, 5_999, 6_000]) {
      const at = index.partition((n) => n < x);
      const from = model.filter((n) => n < x).length;
      expect(index.take(at, end, 700)).toEqual(model.slice(from, from + 700));
      expect(
        index.take(
          index.partition(() => false),
          at,
          700,
          true,
        ),
      ).toEqual(model.slice(Math.max(0, from - 700), from).reverse());
    }
    for (const n of model) index.delete(n);
    expect(index.size).toBe(0);
    expect(items(index)).toEqual([]);
    expect(index.insert(5)).toBe(true);
    expect(items(index)).toEqual([5]);
  });

  it('agrees with a plain sort over random inserts and deletes', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.string({ maxLength: 3 }))), (ops) => {
        const index = new SortedIndex<string>(compareKeys);
        const model = new Set<string>();
        for (const [add, k] of ops) {
          expect(add ? index.insert(k) : index.delete(k)).toBe(add ? !model.has(k) : model.has(k));
          if (add) model.add(k);
          else model.delete(k);
        }
        expect(items(index)).toEqual([...model].sort(compareKeys));
      }),
    );
  });
});

describe('rangeOf', () => {
  const KEYS = ['', 'a', 'a:', 'ab', 'abc', 'b', '\uE000', '😀', '😀a'];
  const index = new SortedIndex<string>(compareKeys);
  for (const k of KEYS) index.insert(k);
  const within = (range: IndexRange) => {
    const [from, to] = rangeOf(index, (k) => k, range);
    return index.take(from, to, Number.POSITIVE_INFINITY);
  };

  it('spans exactly the keys of a prefix, including the prefix itself', () => {
    expect(within({ prefix: 'a' })).toEqual(['a', 'a:', 'ab', 'abc']);
    expect(within({ prefix: '😀' })).toEqual(['😀', '😀a']);
    expect(within({ prefix: '' })).toEqual(KEYS.slice().sort(compareKeys));
  });

  it('spans one key for eq, and nothing for a key it does not hold', () => {
    expect(within({ eq: 'ab' })).toEqual(['ab']);
    expect(within({ eq: 'zz' })).toEqual([]);
  });

  it('gives an empty span, never a reversed one, for bounds that exclude each other', () => {
    expect(rangeOf(index, (k) => k, { gt: 'b', lt: 'a' })).toSatisfy(
      ([from, to]: number[]) => from === to,
    );
  });

  it('spans the same keys as inRange over every combination of bounds', () => {
    const key = fc.constantFrom(...KEYS, 'a;', 'aa', 'c');
    const range = fc.record(
      { eq: key, prefix: key, gt: key, gte: key, lt: key },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(range, (r) => {
        expect(within(r)).toEqual(items(index).filter((k) => inRange(k, r)));
      }),
    );
  });
});
