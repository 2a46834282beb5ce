import { describe, expect, it } from 'vitest';
import { BatonError, ConflictError, ErrorCode, isBatonError } from '../src/errors.js';
import { EMPTY_HEAD } from '../src/log/event.js';
import {
  applyKvBatch,
  checkAppend,
  decodeCursor,
  encodeCursor,
  indexEntries,
  keysetSql,
  kvArea,
  rangeBounds,
  readPages,
  StoreHandle,
  sqlConditions,
  storeFailure,
} from '../src/store/index.js';
import type { KvValue } from '../src/store/store.js';
import { conformanceEvents } from '../src/testing/index.js';

async function rejection(attempt: () => Promise<unknown>): Promise<unknown> {
  try {
    await attempt();
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('store helpers', () => {
  it('checkAppend refuses a batch built on another head with ConflictError, and returns the frozen head it reaches', () => {
    const events = conformanceEvents(EMPTY_HEAD, 2);
    const moved = { seq: 7, hash: 'h7' };
    expect(() => checkAppend(moved, { events, expectedHead: EMPTY_HEAD })).toThrow(ConflictError);
    const next = checkAppend(EMPTY_HEAD, { events, expectedHead: EMPTY_HEAD });
    expect(next).toEqual({ seq: 2, hash: events[1]!.hash });
    expect(Object.isFrozen(next)).toBe(true);
    const taken = () =>
      checkAppend(EMPTY_HEAD, { events, expectedHead: EMPTY_HEAD }, (id) => id === events[1]!.id);
    expect(taken).toThrow(/exists already/);
  });

  it('indexEntries lists each index key of a row once, and none for a deleted row', () => {
    const write = {
      collection: 'c',
      key: 'k',
      value: 1,
      indexes: { tag: ['a', 'b', 'a'], by: 'x' },
    };
    expect(indexEntries(write)).toEqual([
      ['tag', 'a'],
      ['tag', 'b'],
      ['by', 'x'],
    ]);
    expect(indexEntries({ ...write, value: null })).toEqual([]);
    expect(indexEntries({ collection: 'c', key: 'k', value: 1 })).toEqual([]);
  });

  it('rangeBounds turns each bound into one comparison and a prefix into a half-open range', () => {
    expect(rangeBounds({})).toEqual([]);
    expect(rangeBounds({ eq: 'a', gt: 'b', gte: 'c', lt: 'd' })).toEqual([
      ['=', 'a'],
      ['>', 'b'],
      ['>=', 'c'],
      ['<', 'd'],
    ]);
    expect(rangeBounds({ prefix: 'ab' })).toEqual([
      ['>=', 'ab'],
      ['<', 'ac'],
    ]);
    expect(rangeBounds({ prefix: '\u{10FFFF}' })).toEqual([['>=', '\u{10FFFF}']]);
  });

  it('storeFailure names the operation, the storage and the advice, keeps the cause, and lets a BatonError through', () => {
    const cause = new Error('disk I/O error.');
    const err = storeFailure(cause, 'XStore append', 'db.x', 'Check the disk.', { file: 'db.x' });
    expect(err.code).toBe(ErrorCode.STORE);
    expect(err.message).toBe('XStore append failed on db.x: disk I/O error. Check the disk.');
    expect(err.cause).toBe(cause);
    expect(err.details).toEqual({ file: 'db.x' });
    const own = new BatonError(ErrorCode.VALIDATION, 'bad');
    expect(storeFailure(own, 'XStore append', 'db.x')).toBe(own);
  });

  it('readPages streams the log page by page up to the limit, stopping at a short page', async () => {
    const log = conformanceEvents(EMPTY_HEAD, 7);
    const asked: [number, number][] = [];
    const fetch = (after: number, n: number) => {
      asked.push([after, n]);
      return log.filter((e) => e.seq > after).slice(0, n);
    };
    const seqs = async (query: { after?: number; limit?: number }) => {
      const out: number[] = [];
      for await (const e of readPages(query, fetch, 3)) out.push(e.seq);
      return out;
    };
    expect(await seqs({})).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(asked).toEqual([
      [0, 3],
      [3, 3],
      [6, 3],
    ]);
    asked.length = 0;
    expect(await seqs({ after: 2, limit: 4 })).toEqual([3, 4, 5, 6]);
    expect(asked).toEqual([
      [2, 3],
      [5, 1],
    ]);
    expect(await seqs({ limit: 0 })).toEqual([]);
  });

  it('kvArea checks every argument before the backend sees it, and applyKvBatch writes nothing when an expectation fails', async () => {
    const map = new Map<string, KvValue>();
    const rows = {
      get: (key: string) => map.get(key),
      set: (key: string, value: KvValue | undefined) => {
        if (value === undefined) map.delete(key);
        else map.set(key, value);
      },
    };
    const kv = kvArea({
      get: rows.get,
      getMany: (keys) => keys.map(rows.get),
      put: rows.set,
      delete: (key) => rows.set(key, undefined),
      list: (prefix) => ({
        items: [...map]
          .filter(([k]) => k.startsWith(prefix))
          .map(([key, value]) => ({ key, value })),
      }),
      batch: (writes, expect) => applyKvBatch(writes, expect, rows),
    });
    for (const bad of [
      () => kv.get(1 as never),
      () => kv.getMany('k' as never),
      () => kv.getMany(['k', 2] as never),
      () => kv.put('k', undefined as never),
      () => kv.list('p', { limit: 0 }),
      () => kv.batch([{ key: '' }]),
    ]) {
      expect(isBatonError(await rejection(bad), ErrorCode.VALIDATION)).toBe(true);
    }
    expect(map.size).toBe(0);
    await kv.put('a', 1);
    await kv.batch([{ key: 'b', value: 2 }], { expect: [{ key: 'a', value: 1 }] });
    const failed = await rejection(() =>
      kv.batch([{ key: 'c', value: 3 }, { key: 'a' }], { expect: [{ key: 'b' }] }),
    );
    expect(isBatonError(failed, ErrorCode.CONFLICT)).toBe(true);
    expect((await kv.list('')).items).toEqual([
      { key: 'a', value: 1 },
      { key: 'b', value: 2 },
    ]);
    expect(await kv.getMany(['b', 'x', 'a'])).toEqual([2, undefined, 1]);
    await kv.delete('a');
    expect(await kv.get('a')).toBeUndefined();
  });

  it('StoreHandle turns backend failures into its store’s errors, refuses calls once closed, and closes once', async () => {
    let released = 0;
    const handle = new StoreHandle('This XStore is closed.', (what, err) =>
      storeFailure(err, `XStore ${what}`, 'db.x'),
    );
    expect(handle.run('head', () => 3)).toBe(3);
    const failing = () =>
      handle.run('head', () => {
        throw new Error('gone');
      });
    expect(failing).toThrow('XStore head failed on db.x: gone.');
    await handle.close(() => {
      released++;
    });
    await handle.close(() => {
      released++;
    });
    expect(released).toBe(1);
    expect(() => handle.live()).toThrow('This XStore is closed.');
    expect(() => handle.run('head', () => 3)).toThrow('This XStore is closed.');
  });

  it('sqlConditions keeps the conditions whose value is given, with their parameters in order', () => {
    expect(
      sqlConditions([
        ['s', 'stream = ?'],
        [undefined, 'ref = ?'],
        [['a', 'b'], 'type IN (?, ?)'],
      ]),
    ).toEqual([' AND stream = ? AND type IN (?, ?)', ['s', 'a', 'b']]);
    expect(sqlConditions([])).toEqual(['', []]);
  });

  it('keysetSql bounds the first column, starts after the cursor, orders by every column and asks for one row more', () => {
    const first = keysetSql(['i.ikey', 'i.key'], { prefix: 'a' }, { limit: 2 });
    expect(first).toEqual({
      sql: ' AND i.ikey >= ? AND i.ikey < ? ORDER BY i.ikey ASC, i.key ASC LIMIT ?',
      params: ['a', 'b', 3],
      limit: 2,
    });
    const after = encodeCursor(['ab', 'k1']);
    const next = keysetSql(['i.ikey', 'i.key'], {}, { after, reverse: true });
    expect(next.sql).toBe(' AND (i.ikey, i.key) < (?, ?) ORDER BY i.ikey DESC, i.key DESC LIMIT ?');
    expect(next.params).toEqual([...decodeCursor(after, 2), 101]);
    expect(() => keysetSql(['key'], {}, { after })).toThrow(/not a cursor/);
    // A column given twice (an index over row keys) is compared and ordered once.
    expect(keysetSql(['key', 'key'], { gte: 'a' }, { after, limit: 5 })).toEqual({
      sql: ' AND key >= ? AND key > ? ORDER BY key ASC LIMIT ?',
      params: ['a', 'k1', 6],
      limit: 5,
    });
  });
});
