import { describe, expect } from 'vitest';
import { utf8 } from '../../crypto/encoding.js';
import { type BatonError, ErrorCode } from '../../errors.js';
import { EMPTY_HEAD } from '../../log/event.js';
import type { KvValue } from '../../store/store.js';
import { conformanceEvents } from './events.js';
import type { Suite } from './harness.js';
import { appendEvents, expectRefusal, listAll, readAll, settlement, tryMutate } from './helpers.js';
import { byCodePoint } from './model.js';

/** The kv area: values, reads of many keys, batches with compare-and-set, listing by prefix. */
export function kvTests({ test }: Suite): void {
  describe('kv', () => {
    test('puts, gets and deletes values, and a missing key is undefined', async ({ store }) => {
      expect(await store.kv.get('k')).toBeUndefined();
      await store.kv.put('k', { a: 1 });
      expect(await store.kv.get('k')).toEqual({ a: 1 });
      await store.kv.put('k', 'replaced');
      expect(await store.kv.get('k')).toBe('replaced');
      await store.kv.delete('k');
      expect(await store.kv.get('k')).toBeUndefined();
      await store.kv.delete('k');
      await store.kv.delete('never');
      expect(await listAll(store.kv, '')).toEqual([]);
    });

    test('gets several values in one call, in the order of the keys, undefined for missing ones', async ({
      store,
    }) => {
      expect(await store.kv.getMany([])).toEqual([]);
      expect(await store.kv.getMany(['nothing', 'here'])).toEqual([undefined, undefined]);
      await store.kv.batch([
        { key: 'b', value: { n: 2 } },
        { key: 'a', value: 'one' },
        { key: 'c', value: [3] },
      ]);
      expect(await store.kv.getMany(['c', 'missing', 'a', 'b'])).toStrictEqual([
        [3],
        undefined,
        'one',
        { n: 2 },
      ]);
      await store.kv.delete('a');
      expect(await store.kv.getMany(['a', 'c'])).toStrictEqual([undefined, [3]]);
    });

    test('gives a key asked twice its value twice, and changing one changes neither the other nor the stored value', async ({
      store,
    }) => {
      await store.kv.put('json', { list: [1] });
      await store.kv.put('bytes', new Uint8Array([1, 2]));
      const got = await store.kv.getMany(['json', 'bytes', 'json', 'bytes', 'json']);
      expect(got).toStrictEqual([
        { list: [1] },
        new Uint8Array([1, 2]),
        { list: [1] },
        new Uint8Array([1, 2]),
        { list: [1] },
      ]);
      tryMutate(() => (got[0] as { list: number[] }).list.push(2));
      tryMutate(() => (got[1] as Uint8Array).fill(0));
      expect(got[2]).toStrictEqual({ list: [1] });
      expect(got[3]).toStrictEqual(new Uint8Array([1, 2]));
      expect(await store.kv.getMany(['json', 'bytes'])).toStrictEqual([
        { list: [1] },
        new Uint8Array([1, 2]),
      ]);
    });

    test('returns JSON values and byte arrays from getMany as stored, keeping their types', async ({
      store,
    }) => {
      const values: [string, KvValue][] = [
        ['null', null],
        ['false', false],
        ['zero', 0],
        ['string', 'ü 😀'],
        ['empty-string', ''],
        ['array', [1, 'x']],
        ['object', { a: [{ b: null }] }],
        ['bytes', new Uint8Array([0, 255])],
        ['empty-bytes', new Uint8Array(0)],
        ['json-looking-bytes', utf8('{"a":1}')],
        ['bytes-looking-json', '\u0000\u00ff'],
      ];
      for (const [k, v] of values) await store.kv.put(k, v);
      const got = await store.kv.getMany(values.map(([k]) => k));
      values.forEach(([k, v], i) => {
        expect(got[i], k).toStrictEqual(v);
        expect(got[i] instanceof Uint8Array, k).toBe(v instanceof Uint8Array);
      });
    });

    test('gets more keys in one call than one statement binds (1,200 and their gaps), in order', async ({
      store,
    }) => {
      const keys = Array.from({ length: 1_200 }, (_, i) => `many/${String(i).padStart(4, '0')}`);
      const writes = keys.filter((_, i) => i % 3 !== 1).map((key) => ({ key, value: key }));
      await store.kv.batch(writes);
      const asked = [...keys].reverse();
      const got = await store.kv.getMany(asked);
      expect(got).toHaveLength(asked.length);
      asked.forEach((key, i) => {
        expect(got[i], key).toBe(Number(key.slice(5)) % 3 === 1 ? undefined : key);
      });
    });

    test('refuses getMany keys that are not an array of strings with VALIDATION naming the field', async ({
      store,
    }) => {
      await store.kv.put('k', 1);
      for (const [keys, field] of [
        ['k', 'keys'],
        [undefined, 'keys'],
        [{ 0: 'k', length: 1 }, 'keys'],
        [['k', 7], 'keys[1]'],
        [['k', 'k', null], 'keys[2]'],
      ] as const) {
        const err = await expectRefusal(
          () => store.kv.getMany(keys as unknown as string[]),
          ErrorCode.VALIDATION,
        );
        expect(err.details?.field, String(keys)).toBe(field);
        expect(err.message).toContain(field);
      }
    });

    test('rejects getMany once the store is closed, rather than hanging', async ({ store }) => {
      await store.kv.put('k', 1);
      await store.close();
      expect(await settlement(() => store.kv.getMany(['k']))).toBe('rejected');
      expect(await settlement(() => store.kv.getMany([]))).toBe('rejected');
    });

    test('puts and deletes several keys in one batch, all or nothing', async ({ store }) => {
      await store.kv.put('gone', 1);
      await store.kv.batch([
        { key: 'a', value: { n: 1 } },
        { key: 'b', value: new Uint8Array([1, 2]) },
        { key: 'gone' },
      ]);
      expect(await store.kv.get('a')).toEqual({ n: 1 });
      expect(await store.kv.get('b')).toStrictEqual(new Uint8Array([1, 2]));
      expect(await store.kv.get('gone')).toBeUndefined();
      const bad = await store.kv
        .batch([{ key: 'a', value: 2 }, { key: 'c', value: undefined as never }, { key: '' }])
        .catch((e: unknown) => e);
      expect((bad as BatonError).code).toBe(ErrorCode.VALIDATION);
      expect(await store.kv.get('a')).toEqual({ n: 1 });
    });

    test('writes a batch only when every expectation holds, else throws CONFLICT and writes nothing', async ({
      store,
    }) => {
      await store.kv.put('meta', { rev: 1, list: [1, 2] });
      await store.kv.batch([{ key: 'x', value: 'x' }], {
        expect: [{ key: 'meta', value: { list: [1, 2], rev: 1 } }, { key: 'absent' }],
      });
      expect(await store.kv.get('x')).toBe('x');
      for (const expect_ of [
        [{ key: 'meta', value: { rev: 2 } }],
        [{ key: 'x' }],
        [
          { key: 'meta', value: { rev: 1, list: [1, 2] } },
          { key: 'missing', value: 1 },
        ],
      ]) {
        const err = await store.kv
          .batch([{ key: 'y', value: 'y' }, { key: 'x' }], { expect: expect_ })
          .catch((e: unknown) => e);
        expect((err as BatonError).code).toBe(ErrorCode.CONFLICT);
      }
      expect(await store.kv.get('y')).toBeUndefined();
      expect(await store.kv.get('x')).toBe('x');
      await store.kv.put('bytes', new Uint8Array([9]));
      await store.kv.batch([{ key: 'bytes' }], {
        expect: [{ key: 'bytes', value: new Uint8Array([9]) }],
      });
      expect(await store.kv.get('bytes')).toBeUndefined();
    });

    test('returns JSON values and byte arrays as stored, keeping their types', async ({
      store,
    }) => {
      const values: [string, KvValue][] = [
        ['null', null],
        ['true', true],
        ['false', false],
        ['zero', 0],
        ['float', -12.5e-3],
        ['string', 'ü 😀'],
        ['empty-string', ''],
        ['array', [1, 2, 3]],
        ['empty-array', []],
        ['object', { a: [{ b: null }], c: 'd' }],
        ['empty-object', {}],
        ['bytes', new Uint8Array([1, 2, 3])],
        ['empty-bytes', new Uint8Array(0)],
        ['json-looking-bytes', utf8('{"a":1}')],
      ];
      for (const [k, v] of values) await store.kv.put(k, v);
      for (const [k, v] of values) {
        const got = await store.kv.get(k);
        expect(got, k).toStrictEqual(v);
        expect(got instanceof Uint8Array, k).toBe(v instanceof Uint8Array);
        expect(Array.isArray(got), k).toBe(Array.isArray(v));
      }
      const listed = await listAll(store.kv, '');
      for (const { key, value } of listed) {
        const v = values.find(([k]) => k === key)![1];
        expect(value, key).toStrictEqual(v);
        expect(value instanceof Uint8Array, key).toBe(v instanceof Uint8Array);
      }
    });

    test('overwrites a value with one of another type', async ({ store }) => {
      await store.kv.put('k', new Uint8Array([1]));
      await store.kv.put('k', [1]);
      expect(await store.kv.get('k')).toStrictEqual([1]);
      await store.kv.put('k', new Uint8Array([2]));
      expect(await store.kv.get('k')).toStrictEqual(new Uint8Array([2]));
    });

    test('lists entries by prefix in code-point key order, with their values', async ({
      store,
    }) => {
      const keys = [
        'thread/1/b',
        'thread/1/a',
        'thread/10',
        'thread/2',
        'thread/1',
        'thread',
        'other',
        'thread/😀',
        'thread/\uE000',
        'Thread/1',
      ];
      for (const k of keys) await store.kv.put(k, { k });
      const want = (prefix: string) =>
        keys
          .filter((k) => k.startsWith(prefix))
          .sort(byCodePoint)
          .map((k) => ({ key: k, value: { k } }));
      for (const prefix of [
        '',
        'thread',
        'thread/',
        'thread/1',
        'thread/1/',
        'T',
        'thread/😀',
        'nope',
      ]) {
        expect(await listAll(store.kv, prefix), prefix).toEqual(want(prefix));
      }
      expect((await listAll(store.kv, 'thread/', { reverse: true })).map((e) => e.key)).toEqual(
        want('thread/')
          .map((e) => e.key)
          .reverse(),
      );
    });

    test('pages a kv list with limit and after, with no duplicates or misses', async ({
      store,
    }) => {
      const keys = Array.from({ length: 23 }, (_, i) => `s/${String(i).padStart(2, '0')}`);
      for (const k of keys) await store.kv.put(k, k);
      await store.kv.put('t/0', 'other prefix');
      for (const limit of [1, 2, 7, 22, 23, 24]) {
        for (const reverse of [false, true]) {
          const got = await listAll(store.kv, 's/', { limit, reverse });
          const want = reverse ? [...keys].reverse() : keys;
          expect(
            got.map((e) => e.key),
            `limit=${limit} reverse=${reverse}`,
          ).toEqual(want);
        }
      }
      const first = await store.kv.list('s/', { limit: 20 });
      expect(first.items).toHaveLength(20);
      const second = await store.kv.list('s/', { limit: 20, after: first.next! });
      expect(second.items.map((e) => e.key)).toEqual(keys.slice(20));
      expect(second.next).toBeUndefined();
    });

    test('refuses a kv cursor that no page produced with VALIDATION', async ({ store }) => {
      await store.kv.put('a', 1);
      for (const after of ['not-a-cursor', '%%%', 'eyJ4IjoxfQ']) {
        await expectRefusal(() => store.kv.list('', { after }), ErrorCode.VALIDATION);
      }
    });

    test('is independent of the log: kv writes leave the head alone and refused appends leave kv alone', async ({
      store,
    }) => {
      await store.kv.put('k', 1);
      expect(await store.head()).toEqual(EMPTY_HEAD);
      const [e] = await appendEvents(store, 1);
      await store.kv.put('k', 2);
      await store.kv.delete('k');
      await store.kv.put('j', 3);
      expect(await store.head()).toEqual({ seq: 1, hash: e!.hash });
      await expectRefusal(
        () => store.append({ events: conformanceEvents(EMPTY_HEAD, 1), expectedHead: EMPTY_HEAD }),
        ErrorCode.CONFLICT,
      );
      expect(await listAll(store.kv, '')).toEqual([{ key: 'j', value: 3 }]);
      expect(await readAll(store)).toStrictEqual([e]);
    });

    test('keeps kv keys apart from projection keys and event ids', async ({ store }) => {
      await appendEvents(
        store,
        1,
        { id: 'same' },
        { projections: [{ collection: 'c', key: 'same', value: 'row' }] },
      );
      await store.kv.put('same', 'kv');
      await store.kv.put('c', 'kv-c');
      expect(await store.get('c', 'same')).toBe('row');
      expect(await store.kv.get('same')).toBe('kv');
      await store.kv.delete('same');
      expect(await store.event('same')).toBeDefined();
      expect(await store.get('c', 'same')).toBe('row');
    });

    test('returns values whose mutation cannot change the stored value', async ({ store }) => {
      const json = { list: [1, 2], nested: { a: 'b' } };
      const bytes = new Uint8Array([1, 2, 3]);
      await store.kv.put('json', json);
      await store.kv.put('bytes', bytes);
      json.list.push(3);
      json.nested.a = 'changed';
      bytes[0] = 99;
      expect(await store.kv.get('json')).toEqual({ list: [1, 2], nested: { a: 'b' } });
      expect(await store.kv.get('bytes')).toEqual(new Uint8Array([1, 2, 3]));
      const gotJson = (await store.kv.get('json')) as { list: number[]; nested: { a: string } };
      const gotBytes = (await store.kv.get('bytes')) as Uint8Array;
      tryMutate(() => gotJson.list.push(4));
      tryMutate(() => {
        gotJson.nested.a = 'x';
      });
      tryMutate(() => gotBytes.fill(0));
      const [listedJson] = (await store.kv.list('json')).items;
      const [listedBytes] = (await store.kv.list('bytes')).items;
      tryMutate(() => (listedJson!.value as { list: number[] }).list.push(5));
      tryMutate(() => (listedBytes!.value as Uint8Array).fill(0));
      expect(await store.kv.get('json')).toEqual({ list: [1, 2], nested: { a: 'b' } });
      expect(await store.kv.get('bytes')).toEqual(new Uint8Array([1, 2, 3]));
    });
  });
}
