import { isBatonError, type Store } from '@baton/core';
import { type BaseStore, InMemoryStore, type Operation } from '@langchain/langgraph-checkpoint';
import { describe, expect, it } from 'vitest';
import { BatonStore } from '../src/index.js';
import { backends } from './backends.js';

const stores = backends();

function open(make: () => Store): { baton: BatonStore; store: Store } {
  const store = make();
  return { baton: new BatonStore({ store }), store };
}

/** What an item looks like without its timestamps (they differ between stores). */
function plain(items: ({ namespace: string[]; key: string; value: unknown } | null)[]) {
  return items.map((i) =>
    i === null ? null : { namespace: i.namespace, key: i.key, value: i.value },
  );
}

/** Puts the same items into both stores. */
async function seed(...stores: BaseStore[]): Promise<void> {
  const items: [string[], string, Record<string, unknown>][] = [
    [['users', 'ada', 'prefs'], 'tone', { value: 'brief', score: 5, tags: ['a'] }],
    [['users', 'ada', 'prefs'], 'lang', { value: 'en', score: 3 }],
    [['users', 'ada', 'facts'], 'city', { value: 'London', score: 4.5 }],
    [['users', 'bob', 'prefs'], 'tone', { value: 'chatty', score: 1 }],
    [['users', 'bob'], 'profile', { value: 'bob', score: 2, nested: { x: 1 } }],
    [['docs', 'v1'], 'readme', { value: 'hello', score: 10 }],
    [['docs', 'v2'], 'readme', { value: 'hello again', score: 11 }],
    [['docs', 'v1', 'drafts'], 'intro', { value: 'draft', score: 0 }],
  ];
  for (const s of stores) for (const [ns, key, value] of items) await s.put(ns, key, value);
}

describe.each(stores)('BatonStore on %s', (_name, make) => {
  it('gets what was put, with createdAt kept and updatedAt moved on a replace', async () => {
    const { baton } = open(make);
    expect(await baton.get(['users', 'ada'], 'missing')).toBeNull();
    await baton.put(['users', 'ada'], 'prefs', { tone: 'brief' });
    const first = await baton.get(['users', 'ada'], 'prefs');
    expect(first).toMatchObject({
      namespace: ['users', 'ada'],
      key: 'prefs',
      value: { tone: 'brief' },
    });
    expect(first?.createdAt).toBeInstanceOf(Date);
    await new Promise((r) => setTimeout(r, 5));
    await baton.put(['users', 'ada'], 'prefs', { tone: 'chatty' });
    const second = await baton.get(['users', 'ada'], 'prefs');
    expect(second?.value).toEqual({ tone: 'chatty' });
    expect(second?.createdAt.getTime()).toBe(first?.createdAt.getTime());
    expect(second!.updatedAt.getTime()).toBeGreaterThan(first!.updatedAt.getTime());
  });

  it('deletes an item with delete() and with a put of null, and a missing one quietly', async () => {
    const { baton } = open(make);
    await baton.put(['a'], 'k1', { n: 1 });
    await baton.put(['a'], 'k2', { n: 2 });
    await baton.delete(['a'], 'k1');
    await baton.batch([{ namespace: ['a'], key: 'k2', value: null }]);
    await baton.delete(['a'], 'never-there');
    expect(await baton.get(['a'], 'k1')).toBeNull();
    expect(await baton.get(['a'], 'k2')).toBeNull();
    expect(await baton.search(['a'])).toEqual([]);
    expect(await baton.listNamespaces()).toEqual([]);
  });

  it('keeps namespaces apart that share a prefix of characters, or hold separators', async () => {
    const { baton } = open(make);
    await baton.put(['ab'], 'k', { n: 1 });
    await baton.put(['a'], 'k', { n: 2 });
    await baton.batch([
      { namespace: ['a/b'], key: 'k', value: { n: 3 } },
      { namespace: ['a', 'b'], key: 'k', value: { n: 4 } },
      { namespace: ['a:b'], key: 'k/x', value: { n: 5 } },
      { namespace: ['100%'], key: '', value: { n: 6 } },
    ]);
    expect((await baton.get(['a'], 'k'))?.value).toEqual({ n: 2 });
    expect((await baton.get(['a/b'], 'k'))?.value).toEqual({ n: 3 });
    // (BaseStore.get refuses ":" in labels; batch() takes them, and they are kept apart too.)
    const [colon] = await baton.batch([{ namespace: ['a:b'], key: 'k/x' }]);
    expect(colon?.value).toEqual({ n: 5 });
    expect((await baton.get(['100%'], ''))?.value).toEqual({ n: 6 });
    expect(plain(await baton.search(['a'])).map((i) => i?.value)).toEqual([{ n: 2 }, { n: 4 }]);
    expect(await baton.listNamespaces({ maxDepth: 1 })).toEqual([
      ['100%'],
      ['a'],
      ['a/b'],
      ['a:b'],
      ['ab'],
    ]);
  });

  it('searches a namespace prefix like InMemoryStore does: filters, operators, limit and offset', async () => {
    const { baton } = open(make);
    const oracle = new InMemoryStore();
    await seed(baton, oracle);
    const cases: [string[], Parameters<BaseStore['search']>[1]][] = [
      [[], undefined],
      [[], { limit: 100 }],
      [['users'], { limit: 100 }],
      [['users', 'ada'], undefined],
      [['users', 'ada', 'prefs'], undefined],
      [['users', 'nobody'], undefined],
      [['docs'], { filter: { value: 'hello' } }],
      [[], { filter: { score: { $gt: 4 } }, limit: 100 }],
      [[], { filter: { score: { $gte: 3, $lt: 10 } }, limit: 100 }],
      [[], { filter: { score: { $lte: 1 } }, limit: 100 }],
      [[], { filter: { value: { $ne: 'brief' } }, limit: 100 }],
      [[], { filter: { value: { $in: ['en', 'bob'] } }, limit: 100 }],
      [[], { filter: { value: { $nin: ['en', 'bob'] } }, limit: 100 }],
      [[], { filter: { value: { $eq: 'draft' } }, limit: 100 }],
      [['users'], { filter: { value: 'brief', score: 5 } }],
      [['users'], { filter: { missing: 1 } }],
      [[], { limit: 3 }],
      [[], { limit: 3, offset: 3 }],
      [[], { limit: 3, offset: 7 }],
      [[], { limit: 0 }],
      [['docs'], { query: 'hello', limit: 100 }],
    ];
    for (const [prefix, options] of cases) {
      const ours = plain(await baton.search(prefix, options));
      const theirs = plain(await oracle.search(prefix, options));
      const label = JSON.stringify([prefix, options]);
      // Same items; InMemoryStore orders by insertion, we by namespace and key.
      if (options?.limit !== undefined && options.limit < 100 && prefix.length === 0) {
        expect(ours.length, label).toBe(theirs.length);
      } else {
        expect(sortItems(ours), label).toEqual(sortItems(theirs));
      }
    }
    // Offsets page through one order without gaps or repeats.
    const pages = [
      ...(await baton.search([], { limit: 3 })),
      ...(await baton.search([], { limit: 3, offset: 3 })),
      ...(await baton.search([], { limit: 3, offset: 6 })),
    ];
    expect(sortItems(plain(pages))).toEqual(
      sortItems(plain(await oracle.search([], { limit: 100 }))),
    );
    // Search results carry a score field, undefined without an embeddings index.
    const [hit] = await baton.search(['docs', 'v1'], { query: 'anything' });
    expect(hit).toHaveProperty('score', undefined);
  });

  it('matches nested objects in a filter by value (InMemoryStore compares them by identity)', async () => {
    const { baton } = open(make);
    await seed(baton);
    const found = await baton.search(['users'], { filter: { nested: { x: 1 } } });
    expect(found.map((i) => i.key)).toEqual(['profile']);
  });

  it('lists namespaces like InMemoryStore does: prefix, suffix, wildcards, maxDepth, limit and offset', async () => {
    const { baton } = open(make);
    const oracle = new InMemoryStore();
    await seed(baton, oracle);
    const cases: Parameters<BaseStore['listNamespaces']>[0][] = [
      undefined,
      {},
      { prefix: ['users'] },
      { prefix: ['users', 'ada'] },
      { prefix: ['users', '*', 'prefs'] },
      { suffix: ['prefs'] },
      { suffix: ['*', 'prefs'] },
      { prefix: ['docs'], suffix: ['v1'] },
      { maxDepth: 1 },
      { maxDepth: 2 },
      { prefix: ['users'], maxDepth: 2 },
      { limit: 2 },
      { limit: 2, offset: 2 },
      { offset: 100 },
      { prefix: ['nothing'] },
    ];
    for (const options of cases) {
      expect(await baton.listNamespaces(options), JSON.stringify(options)).toEqual(
        await oracle.listNamespaces(options),
      );
    }
  });

  it('lets reads in a batch see the store as it was before the batch, and the last write win', async () => {
    // (InMemoryStore hands out its live item objects, which its later puts mutate, so its
    // reads of existing items show the batch's writes; of new items they do not. We follow
    // the Python store: every read sees the store before the batch.)
    const { baton } = open(make);
    const oracle = new InMemoryStore();
    for (const s of [baton, oracle] as BaseStore[]) await s.put(['a'], 'k', { n: 0 });
    const ops: Operation[] = [
      { namespace: ['a'], key: 'k', value: { n: 1 } },
      { namespace: ['a'], key: 'k' },
      { namespacePrefix: ['a'], limit: 10, offset: 0 },
      { namespace: ['a'], key: 'k', value: { n: 2 } },
      { namespace: ['b'], key: 'new', value: { n: 3 } },
      { matchConditions: undefined, limit: 10, offset: 0 },
    ];
    const ours = (await baton.batch(ops)) as unknown[];
    const theirs = (await oracle.batch(ops)) as unknown[];
    expect(ours[0]).toBeNull();
    expect((ours[1] as { value: unknown }).value).toEqual({ n: 0 });
    expect(plain(ours[2] as never)).toEqual([{ namespace: ['a'], key: 'k', value: { n: 0 } }]);
    expect(ours[5]).toEqual([['a']]);
    expect(theirs[5]).toEqual([['a']]);
    expect((await baton.get(['a'], 'k'))?.value).toEqual({ n: 2 });
    expect((await baton.get(['b'], 'new'))?.value).toEqual({ n: 3 });
  });

  it('is shared by two BatonStores on the same Baton store', async () => {
    const { baton, store } = open(make);
    await baton.put(['shared'], 'k', { n: 1 });
    const other = new BatonStore({ store });
    expect((await other.get(['shared'], 'k'))?.value).toEqual({ n: 1 });
  });

  it('refuses bad input with a BatonError and writes nothing', async () => {
    const { baton, store } = open(make);
    const bad: unknown[] = [
      [{ namespace: ['a.b'], key: 'k', value: { n: 1 } }],
      [{ namespace: [], key: 'k', value: { n: 1 } }],
      [{ namespace: [''], key: 'k', value: { n: 1 } }],
      [{ namespace: ['a'], key: 'k', value: { n: 1n } }],
      [{ namespace: ['a'], key: 'k', value: { when: new Date() } }],
      [{ namespace: ['a'], key: 'k', value: 'not an object' }],
      [{ namespace: ['a'], key: 7, value: { n: 1 } }],
      // A good put followed by a bad one: the good one is not written either.
      [
        { namespace: ['a'], key: 'ok', value: { n: 1 } },
        { namespacePrefix: ['a'], limit: -1 },
      ],
      [{ matchConditions: [{ matchType: 'middle', path: ['a'] }], limit: 1, offset: 0 }],
      'not an array',
    ];
    for (const ops of bad) {
      const err = await baton.batch(ops as never).catch((e: unknown) => e);
      expect(
        isBatonError(err),
        JSON.stringify(ops, (_k, v) => (typeof v === 'bigint' ? 'n' : v)),
      ).toBe(true);
      expect((err as { code: string }).code).toBe('VALIDATION');
    }
    expect((await store.kv.list('')).items).toEqual([]);
    expect(() => new BatonStore({ store: {} as Store })).toThrow(/kv area/);
  });

  it('refuses an item a newer version wrote, saying to upgrade, and leaves it as it was', async () => {
    const { baton, store } = open(make);
    await baton.put(['a'], 'k', { n: 1 });
    const [entry] = (await store.kv.list('')).items;
    const newer = { ...(entry!.value as Record<string, unknown>), v: 99 };
    await store.kv.put(entry!.key, newer);
    for (const call of [
      () => baton.get(['a'], 'k'),
      () => baton.search(['a']),
      () => baton.put(['a'], 'k', { n: 2 }),
      () => baton.delete(['a'], 'k'),
    ]) {
      const err = await call().catch((e: unknown) => e);
      expect((err as { code?: string }).code).toBe('INVALID_STATE');
      expect((err as Error).message).toMatch(/Upgrade @baton\/langgraph/);
    }
    expect(await store.kv.get(entry!.key)).toEqual(newer);
  });
});

function sortItems<T>(items: T[]): T[] {
  return [...items].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
}
