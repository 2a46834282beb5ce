import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isBatonError, type KvValue, MemoryStore, type Store } from '@baton/core';
import { SqliteStore } from '@baton/sqlite';
import { AIMessage, HumanMessage } from '@langchain/core/messages';
import { END, MessagesAnnotation, START, StateGraph } from '@langchain/langgraph';
import {
  type Checkpoint,
  ERROR,
  emptyCheckpoint,
  INTERRUPT,
  uuid6,
} from '@langchain/langgraph-checkpoint';
import { afterEach, describe, expect, it } from 'vitest';
import { BatonCheckpointSaver } from '../src/index.js';
import { unframe } from '../src/kvRecords.js';

const dirs: string[] = [];
const opened: Store[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'baton-lg-saver-'));
  dirs.push(dir);
  return join(dir, 'checkpoints.db');
}

function track<S extends Store>(store: S): S {
  opened.push(store);
  return store;
}

const backends: [string, () => Store][] = [
  ['MemoryStore', () => track(new MemoryStore())],
  ['SqliteStore', () => track(new SqliteStore({ path: tempFile() }))],
];

async function allKv(store: Store): Promise<{ key: string; value: KvValue }[]> {
  const out: { key: string; value: KvValue }[] = [];
  let after: string | undefined;
  do {
    const page = await store.kv.list('', { after });
    out.push(...page.items);
    after = page.next;
  } while (after);
  return out;
}

function checkpoint(values: Record<string, unknown>, versions: Record<string, number>): Checkpoint {
  return {
    ...emptyCheckpoint(),
    id: uuid6(-3),
    channel_values: values,
    channel_versions: versions,
  };
}

const meta = (step: number) => ({ source: 'loop' as const, step, parents: {} });

/** The header of the last checkpoint record among `entries` (kv order). */
function unframeLatest(entries: { key: string; value: KvValue }[]) {
  const records = entries.filter((e) => !e.key.includes('\u0001'));
  return unframe(records.at(-1)!.value, 'the latest record').header as {
    ch: Record<string, [unknown, string, number, string | null, [string | null, number][]]>;
  };
}

function countOccurrences(haystack: KvValue[], needle: string): number {
  const text = haystack
    .map((v) => (v instanceof Uint8Array ? new TextDecoder().decode(v) : JSON.stringify(v)))
    .join('\n');
  return text.split(needle).length - 1;
}

describe.each(backends)('BatonCheckpointSaver on %s', (_name, make) => {
  it('stores a channel value that did not change between checkpoints once', async () => {
    const store = make();
    const saver = new BatonCheckpointSaver({ store });
    const doc = `BRIEF-${'x'.repeat(2_000)}`;
    let config = await saver.put(
      { configurable: { thread_id: 't' } },
      checkpoint({ doc, counter: 0 }, { doc: 1, counter: 1 }),
      meta(0),
      { doc: 1, counter: 1 },
    );
    for (let i = 1; i <= 5; i++) {
      config = await saver.put(
        config,
        checkpoint({ doc, counter: i }, { doc: 1, counter: i + 1 }),
        meta(i),
        { counter: i + 1 },
      );
    }
    const latest = await saver.getTuple({ configurable: { thread_id: 't' } });
    expect(latest?.checkpoint.channel_values).toEqual({ doc, counter: 5 });
    const values = (await allKv(store)).map((e) => e.value);
    expect(values).toHaveLength(6);
    expect(countOccurrences(values, 'BRIEF-')).toBe(1);
    // Every checkpoint of the chain reads the one stored copy.
    for await (const tuple of saver.list({ configurable: { thread_id: 't' } })) {
      expect(tuple.checkpoint.channel_values.doc).toBe(doc);
    }
  });

  it('reads back values serialized together and cut apart, tricky text and bytes included', async () => {
    const saver = new BatonCheckpointSaver({ store: make() });
    const values = {
      text: 'a, "b" ] } [ { \\ \u2028 ,',
      nested: { list: [1, [2, { ']': '[' }]], empty: {} },
      bytes: new Uint8Array([1, 2, 255]),
      list: ['x,y', { z: '"]' }],
    };
    const versions = { text: 1, nested: 1, bytes: 1, list: 1 };
    const config = await saver.put(
      { configurable: { thread_id: 't' } },
      checkpoint(values, versions),
      meta(0),
      versions,
    );
    // Without the bytes value, one serialization is cut into its parts.
    const { bytes, ...json } = values;
    await saver.put(
      config,
      checkpoint(json, { ...versions, text: 2, nested: 2, list: 2 }),
      meta(1),
      {
        text: 2,
        nested: 2,
        list: 2,
      },
    );
    const latest = await saver.getTuple({ configurable: { thread_id: 't' } });
    expect(latest?.checkpoint.channel_values).toEqual({ ...json, bytes });
    expect(latest?.metadata).toEqual(meta(1));
    const first = await saver.getTuple(config);
    expect(first?.checkpoint.channel_values).toEqual(values);
  });

  it('stores the elements a growing list shares with its parent once, and reads every version back whole', async () => {
    const store = make();
    const saver = new BatonCheckpointSaver({ store });
    const item = (i: number) => ({
      role: 'ai',
      text: `MSG-${i} ${'words, "quoted" [and] {braced} '.repeat(8)}`,
    });
    const expected: unknown[][] = [];
    let list: unknown[] = [];
    let config = { configurable: { thread_id: 't' } } as Parameters<typeof saver.put>[0];
    // 30 steps: past the point where a list in too many runs is stored whole again.
    for (let step = 0; step < 30; step++) {
      if (step === 6)
        list = [item(100), ...list.slice(1)]; // an edit at the head
      else if (step === 9)
        list = list.slice(0, 4); // a removal
      else list = [...list, item(step)];
      expected.push(list);
      config = await saver.put(config, checkpoint({ list }, { list: step + 1 }), meta(step), {
        list: step + 1,
      });
    }
    const got: unknown[][] = [];
    for await (const t of saver.list({ configurable: { thread_id: 't' } })) {
      got.unshift(t.checkpoint.channel_values.list as unknown[]);
    }
    expect(got).toEqual(expected);
    // A reader that did not write them (another process) reads the same.
    const other = new BatonCheckpointSaver({ store });
    expect((await other.getTuple(config))?.checkpoint.channel_values.list).toEqual(list);
    // Far fewer copies of each element than one per checkpoint that holds it.
    const values = (await allKv(store)).map((e) => e.value);
    const held = expected.reduce((n, l) => n + l.length, 0);
    let stored = 0;
    for (let i = 0; i < 30; i++) stored += countOccurrences(values, `MSG-${i} `);
    stored += countOccurrences(values, 'MSG-100 ');
    expect(stored).toBeLessThan(held / 2);
  });

  it('shares a growing list with a parent another saver wrote, and keeps it in a few runs', async () => {
    const store = make();
    // Two savers taking turns, as two processes resuming the same thread would.
    const savers = [new BatonCheckpointSaver({ store }), new BatonCheckpointSaver({ store })];
    const item = (i: number) => `MSG-${i} ${'a message of some length, '.repeat(6)}`;
    let list: string[] = [];
    let config = { configurable: { thread_id: 't' } } as Parameters<BatonCheckpointSaver['put']>[0];
    for (let step = 0; step < 24; step++) {
      list = [...list, item(step)];
      // A value that is not JSON beside it: the values are read one by one then.
      const bin = new Uint8Array([1, 2, step]);
      config = await savers[step % 2]!.put(
        config,
        checkpoint({ list, bin }, { list: step + 1, bin: step + 1 }),
        meta(step),
        { list: step + 1, bin: step + 1 },
      );
      const back = await savers[(step + 1) % 2]!.getTuple(config);
      expect(back?.checkpoint.channel_values).toEqual({ list, bin });
    }
    const values = (await allKv(store)).map((e) => e.value);
    let stored = 0;
    for (let i = 0; i < 24; i++) stored += countOccurrences(values, `MSG-${i} `);
    // Whole copies would hold 300 elements; a few runs each, read by a handful of gets.
    expect(stored).toBeLessThan(24 * 3);
    const [latest] = (await allKv(store)).slice(-1);
    const { header } = unframe(latest!.value, 'the latest record');
    const runs = (header.ch as Record<string, unknown[]>).list![4] as unknown[];
    expect(runs.length).toBeLessThanOrEqual(6);
  });

  it('reads the runs a checkpoint shares with earlier ones from the records it holds, and from the store only when it holds none', async () => {
    const store = make();
    let gets = 0;
    // The store's kv area, counting the reads of records by key.
    const counted = {
      kv: {
        ...store.kv,
        getMany: (keys: readonly string[]) => {
          gets++;
          return store.kv.getMany(keys);
        },
      },
    } as unknown as Store;
    const item = (i: number) => `MSG-${i} ${'a message of some length, '.repeat(6)}`;
    const writer = new BatonCheckpointSaver({ store: counted });
    let list: string[] = [];
    let config = { configurable: { thread_id: 't' } } as Parameters<BatonCheckpointSaver['put']>[0];
    for (let step = 0; step < 12; step++) {
      list = [...list, item(step)];
      config = await writer.put(config, checkpoint({ list }, { list: step + 1 }), meta(step), {
        list: step + 1,
      });
    }
    const latest = { configurable: { thread_id: 't' } };
    const [, , , , runs] = unframeLatest(await allKv(store)).ch.list!;
    expect(runs.filter(([holder]) => holder !== null).length).toBeGreaterThan(0);
    gets = 0;
    expect((await writer.getTuple(latest))?.checkpoint.channel_values.list).toEqual(list);
    expect(gets).toBe(0); // the saver wrote the records holding the older runs
    const reader = new BatonCheckpointSaver({ store: counted });
    expect((await reader.getTuple(latest))?.checkpoint.channel_values.list).toEqual(list);
    expect(gets).toBe(1); // another process: one read of the holders, then held
    expect((await reader.getTuple(latest))?.checkpoint.channel_values.list).toEqual(list);
    expect(gets).toBe(1);
    // What another saver writes next is read from the store, and read right.
    list = [...list, item(12)];
    await writer.put(config, checkpoint({ list }, { list: 13 }), meta(12), { list: 13 });
    expect((await reader.getTuple(latest))?.checkpoint.channel_values.list).toEqual(list);
    // After deleteThread, nothing held is used for a thread made again under the same id.
    await reader.deleteThread('t');
    expect(await reader.getTuple(latest)).toBeUndefined();
  });

  it('keeps forks apart: a version reused on another branch reads its own value', async () => {
    const saver = new BatonCheckpointSaver({ store: make() });
    const root = await saver.put(
      { configurable: { thread_id: 't' } },
      checkpoint({ v: 'root' }, { v: 1 }),
      meta(0),
      { v: 1 },
    );
    const a = await saver.put(root, checkpoint({ v: 'a' }, { v: 2 }), meta(1), { v: 2 });
    const b = await saver.put(root, checkpoint({ v: 'b' }, { v: 2 }), meta(1), { v: 2 });
    const a2 = await saver.put(a, checkpoint({ v: 'a' }, { v: 2 }), meta(2), {});
    const b2 = await saver.put(b, checkpoint({ v: 'b' }, { v: 2 }), meta(2), {});
    expect((await saver.getTuple(a2))?.checkpoint.channel_values).toEqual({ v: 'a' });
    expect((await saver.getTuple(b2))?.checkpoint.channel_values).toEqual({ v: 'b' });
    // The same for lists long enough to be stored in runs.
    const big = (tag: string, n: number) =>
      Array.from({ length: n }, (_, i) => `${tag}-${i}-${'x'.repeat(200)}`);
    const base = await saver.put(
      { configurable: { thread_id: 'l' } },
      checkpoint({ l: big('base', 6) }, { l: 1 }),
      meta(0),
      { l: 1 },
    );
    const left = [...big('base', 6), ...big('left', 2)];
    const right = [...big('base', 6), ...big('right', 3)];
    const la = await saver.put(base, checkpoint({ l: left }, { l: 2 }), meta(1), { l: 2 });
    const rb = await saver.put(base, checkpoint({ l: right }, { l: 2 }), meta(1), { l: 2 });
    const la2 = await saver.put(la, checkpoint({ l: left }, { l: 2 }), meta(2), {});
    expect((await saver.getTuple(la2))?.checkpoint.channel_values.l).toEqual(left);
    expect((await saver.getTuple(rb))?.checkpoint.channel_values.l).toEqual(right);
  });

  it('returns pending writes in writesSortKey order, keeps regular writes and overwrites special ones', async () => {
    const saver = new BatonCheckpointSaver({ store: make() });
    const config = await saver.put(
      { configurable: { thread_id: 't' } },
      checkpoint({}, {}),
      meta(0),
      {},
    );
    await saver.putWrites(
      config,
      [
        ['b', 1],
        ['a', 2],
      ],
      'task-z',
      '~__pregel_pull, b',
    );
    await saver.putWrites(config, [['c', 3]], 'task-y', '~__pregel_pull, a');
    await saver.putWrites(config, [['input', 0]], 'task-x');
    await saver.putWrites(config, [['c', 'again']], 'task-y', '~__pregel_pull, a');
    await saver.putWrites(config, [[ERROR, 'first']], 'task-z', '~__pregel_pull, b');
    await saver.putWrites(config, [[ERROR, 'second']], 'task-z', '~__pregel_pull, b');
    await saver.putWrites(config, [[INTERRUPT, { value: 'ask' }]], 'task-y', '~__pregel_pull, a');
    const tuple = await saver.getTuple(config);
    expect(tuple?.pendingWrites).toEqual([
      ['task-x', 'input', 0],
      ['task-y', INTERRUPT, { value: 'ask' }],
      ['task-y', 'c', 3],
      ['task-z', ERROR, 'second'],
      ['task-z', 'b', 1],
      ['task-z', 'a', 2],
    ]);
  });

  it('keeps concurrent writes of one task (they share one entry)', async () => {
    const saver = new BatonCheckpointSaver({ store: make() });
    const config = await saver.put(
      { configurable: { thread_id: 't' } },
      checkpoint({}, {}),
      meta(0),
      {},
    );
    await Promise.all([
      saver.putWrites(config, [['a', 1]], 'task'),
      saver.putWrites(config, [[ERROR, 'boom']], 'task'),
      saver.putWrites(config, [[INTERRUPT, 'ask']], 'task'),
    ]);
    const writes = (await saver.getTuple(config))?.pendingWrites ?? [];
    expect(writes.map((w) => w[1]).sort()).toEqual(['a', ERROR, INTERRUPT].sort());
  });

  it('deletes everything of a thread, whatever its id, and nothing of the others', async () => {
    const store = make();
    const saver = new BatonCheckpointSaver({ store });
    const ids = ['a', 'a/b', 'ab', 'a%2Fb', 'a:b', 'ünï ✓', '\ud800', 'x'];
    for (const thread_id of ids) {
      for (const ns of ['', 'child', 'child/deeper']) {
        const config = await saver.put(
          { configurable: { thread_id, checkpoint_ns: ns } },
          checkpoint({ who: thread_id }, { who: 1 }),
          meta(0),
          { who: 1 },
        );
        await saver.putWrites(config, [['who', thread_id]], 'task/1');
      }
    }
    for (const victim of ['a', 'a/b', '\ud800']) {
      await saver.deleteThread(victim);
      expect(await saver.getTuple({ configurable: { thread_id: victim } })).toBeUndefined();
    }
    const left = ids.filter((t) => !['a', 'a/b', '\ud800'].includes(t));
    for (const thread_id of left) {
      for (const ns of ['', 'child', 'child/deeper']) {
        const t = await saver.getTuple({ configurable: { thread_id, checkpoint_ns: ns } });
        expect(t?.checkpoint.channel_values).toEqual({ who: thread_id });
        expect(t?.pendingWrites).toEqual([['task/1', 'who', thread_id]]);
      }
    }
    // 3 namespaces × (checkpoint + writes) per remaining thread, nothing else.
    expect(await allKv(store)).toHaveLength(left.length * 6);
    await saver.deleteThread('never-there');
  });

  it('lists newest first, with before, limit and metadata filters compared by value', async () => {
    const saver = new BatonCheckpointSaver({ store: make() });
    let config = { configurable: { thread_id: 't' } } as Parameters<typeof saver.put>[0];
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const cp = checkpoint({}, {});
      ids.push(cp.id);
      const metadata = { ...meta(i), tags: { even: i % 2 === 0 } };
      config = await saver.put(config, cp, metadata, {});
    }
    const all = [];
    for await (const t of saver.list({ configurable: { thread_id: 't' } }))
      all.push(t.checkpoint.id);
    expect(all).toEqual([...ids].reverse());
    const some = [];
    for await (const t of saver.list(
      { configurable: { thread_id: 't' } },
      { before: { configurable: { checkpoint_id: ids[3] } }, limit: 2 },
    )) {
      some.push(t.checkpoint.id);
    }
    expect(some).toEqual([ids[2], ids[1]]);
    const even = [];
    for await (const t of saver.list(
      { configurable: { thread_id: 't' } },
      { filter: { tags: { even: true } } },
    )) {
      even.push(t.checkpoint.id);
    }
    expect(even).toEqual([ids[2], ids[0]]);
  });

  it('refuses bad input with a BatonError naming the field, and writes nothing', async () => {
    const store = make();
    const saver = new BatonCheckpointSaver({ store });
    const good = checkpoint({ a: 1 }, { a: 1 });
    const calls: [string, () => Promise<unknown>][] = [
      ['put without configurable', () => saver.put({}, good, meta(0), { a: 1 })],
      ['put without thread_id', () => saver.put({ configurable: {} }, good, meta(0), { a: 1 })],
      [
        'put with a numeric thread_id',
        () => saver.put({ configurable: { thread_id: 7 } }, good, meta(0), { a: 1 }),
      ],
      [
        'put with an empty thread_id',
        () => saver.put({ configurable: { thread_id: '' } }, good, meta(0), { a: 1 }),
      ],
      [
        'put of a checkpoint without id',
        () =>
          saver.put({ configurable: { thread_id: 't' } }, { ...good, id: '' }, meta(0), { a: 1 }),
      ],
      [
        'put of a checkpoint id with a lone surrogate',
        () =>
          saver.put({ configurable: { thread_id: 't' } }, { ...good, id: 'x\udc00' }, meta(0), {
            a: 1,
          }),
      ],
      [
        'put with bad versions',
        () => saver.put({ configurable: { thread_id: 't' } }, good, meta(0), { a: null } as never),
      ],
      [
        'putWrites without checkpoint_id',
        () => saver.putWrites({ configurable: { thread_id: 't' } }, [['a', 1]], 'task'),
      ],
      [
        'putWrites with malformed writes',
        () =>
          saver.putWrites(
            { configurable: { thread_id: 't', checkpoint_id: 'c' } },
            ['a'] as never,
            'task',
          ),
      ],
      [
        'putWrites with a numeric task id',
        () =>
          saver.putWrites(
            { configurable: { thread_id: 't', checkpoint_id: 'c' } },
            [['a', 1]],
            7 as never,
          ),
      ],
      [
        'putWrites with a numeric task path',
        () =>
          saver.putWrites(
            { configurable: { thread_id: 't', checkpoint_id: 'c' } },
            [['a', 1]],
            'task',
            7 as never,
          ),
      ],
      [
        'getTuple with a numeric checkpoint_id',
        () => saver.getTuple({ configurable: { thread_id: 't', checkpoint_id: 5 } }),
      ],
      [
        'list with a negative limit',
        async () => {
          for await (const _ of saver.list({ configurable: {} }, { limit: -1 })) {
            // nothing
          }
        },
      ],
      ['deleteThread of a number', () => saver.deleteThread(5 as never)],
    ];
    for (const [what, call] of calls) {
      const err = await call().catch((e: unknown) => e);
      expect(isBatonError(err), what).toBe(true);
      expect((err as { code: string }).code, what).toBe('VALIDATION');
      expect((err as Error).message, what).toMatch(/BatonCheckpointSaver\.\w+/);
    }
    expect(await allKv(store)).toEqual([]);
    expect(() => new BatonCheckpointSaver({ store: {} as Store })).toThrow(/kv area/);
    expect(
      () => new BatonCheckpointSaver({ store: new MemoryStore(), serde: {} as never }),
    ).toThrow(/SerializerProtocol/);
  });

  it('refuses a checkpoint a newer version wrote, saying to upgrade, and changes nothing', async () => {
    const store = make();
    const saver = new BatonCheckpointSaver({ store });
    const config = await saver.put(
      { configurable: { thread_id: 't' } },
      checkpoint({ a: 1 }, { a: 1 }),
      meta(0),
      { a: 1 },
    );
    const [record] = await allKv(store);
    const newer = (record!.value as Uint8Array).slice();
    newer[0] = 9;
    await store.kv.put(record!.key, newer);
    const before = await allKv(store);
    // A saver that did not write it (another process, as after an upgrade of the other).
    const reader = new BatonCheckpointSaver({ store });
    const calls: (() => Promise<unknown>)[] = [
      () => reader.getTuple(config),
      () => reader.getTuple({ configurable: { thread_id: 't' } }),
      async () => {
        for await (const _ of reader.list({ configurable: { thread_id: 't' } })) {
          // nothing
        }
      },
      () => reader.put(config, checkpoint({ a: 2 }, { a: 2 }), meta(1), { a: 2 }),
    ];
    for (const call of calls) {
      const err = await call().catch((e: unknown) => e);
      expect((err as { code?: string }).code).toBe('INVALID_STATE');
      expect((err as Error).message).toMatch(/newer @baton\/langgraph.*Upgrade @baton\/langgraph/);
    }
    expect(await allKv(store)).toEqual(before);
  });
});

describe('BatonCheckpointSaver with a LangGraph graph', () => {
  it('runs a graph on SQLite and resumes its thread from a second store opened on the same file', async () => {
    const path = tempFile();
    let steps = 0;
    const build = (store: Store) =>
      new StateGraph(MessagesAnnotation)
        .addNode('agent', async () => {
          steps++;
          return { messages: [new AIMessage(`reply ${steps}`)] };
        })
        .addEdge(START, 'agent')
        .addConditionalEdges('agent', () => (steps % 3 === 0 ? END : 'agent'))
        .compile({ checkpointer: new BatonCheckpointSaver({ store }) });
    const config = { configurable: { thread_id: 'review-42' } };
    const first = track(new SqliteStore({ path }));
    const out = await build(first).invoke({ messages: [new HumanMessage('draft it')] }, config);
    expect(out.messages.map((m) => m.content)).toEqual([
      'draft it',
      'reply 1',
      'reply 2',
      'reply 3',
    ]);
    await first.close();

    const second = track(new SqliteStore({ path }));
    const graph = build(second);
    const state = await graph.getState(config);
    expect(state.values.messages.map((m: { content: unknown }) => m.content)).toEqual([
      'draft it',
      'reply 1',
      'reply 2',
      'reply 3',
    ]);
    const again = await graph.invoke({ messages: [new HumanMessage('shorter')] }, config);
    expect(again.messages.map((m) => m.content).slice(-4)).toEqual([
      'shorter',
      'reply 4',
      'reply 5',
      'reply 6',
    ]);
    const history = [];
    for await (const s of graph.getStateHistory(config)) history.push(s);
    expect(history.length).toBeGreaterThan(6);
  });
});
