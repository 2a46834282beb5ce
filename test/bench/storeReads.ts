/**
 * Store-level read costs against history size: `pnpm exec tsx --conditions=source
 * test/bench/storeReads.ts`.
 *
 * For MemoryStore and SqliteStore, two stores are filled with 10³ and 10⁵ events, projection
 * rows and kv keys, the same fixed target set in both (20 events of a rare type, stream and
 * ref; 20 rows under one index key and one key prefix; 20 kv keys under one prefix), and every
 * read of that target set is timed on both sizes in alternating rounds. The figure is the
 * same-round ratio time(10⁵) / time(10³): 1× means the read's cost follows its result, not the
 * history. The GROWTH bench times the public API; this one isolates the stores.
 *
 * Then the cost of keeping the indexes: an append (one event, one row whose tag lands in the
 * middle of its index) at 10³ and 10⁵, and SortedIndex's insert + delete in the middle against
 * one plain sorted array (binary search and `splice`) of the same tuples.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { type BatonEvent, MemoryStore, type Store } from '@baton/core';
import { compareKeys } from '@baton/core/store';
import { SqliteStore } from '@baton/sqlite';
// The index structure itself, from source (it is internal to MemoryStore).
import { partition, SortedIndex } from '../../packages/core/src/store/sortedIndex.js';
// Chained fake events, as the conformance suite builds them (stores do not check signatures).
import { conformanceEvents } from '../../packages/core/src/testing/conformance/events.js';
import { fmtRatio, fmtUs, table } from './format.js';
import { pairedRatio, type Timing, type TimingOptions, timeInterleaved } from './timing.js';

const SIZES = [1_000, 100_000] as const;
const TARGET = 20;
const BATCH = 1_000;
// Many short rounds: on a loaded machine the median of the paired ratios settles only then.
const TIMING: TimingOptions = { warmupMs: 100, roundMs: 80, rounds: 15 };

/** Fills `store` with `n` events, `n` rows and `n` kv keys, `TARGET` of each in the target set. */
export async function fill(store: Store, n: number): Promise<void> {
  // The target items sit spread evenly over the history.
  const every = Math.floor(n / TARGET);
  for (let start = 0; start < n; start += BATCH) {
    const head = await store.head();
    const events: BatonEvent[] = conformanceEvents(head, BATCH, (i) => {
      const at = start + i;
      const target = at % every === every - 1;
      return {
        stream: target ? 'target' : `s/${at % 500}`,
        type: target ? 'rare.happened@1' : `common${at % 7}.happened@1`,
        refs: target ? ['r/target', `r/${at % 300}`] : [`r/${at % 300}`],
      };
    });
    const projections = events.map((_, i) => {
      const at = start + i;
      const target = at % every === every - 1;
      const key = `${target ? 'target' : 'k'}/${String(at).padStart(7, '0')}`;
      return {
        collection: 'items',
        key,
        value: { at, title: `item ${at}` },
        indexes: { tag: target ? 'target' : `t/${at % 1000}`, time: String(at).padStart(7, '0') },
      };
    });
    await store.append({ events, expectedHead: head, projections });
    await store.kv.batch(
      projections.map((p) => ({ key: p.key.replace(/^k\//, 'kv/'), value: { at: p.value.at } })),
    );
  }
}

async function drain(it: AsyncIterable<unknown>): Promise<number> {
  let n = 0;
  for await (const _ of it) n++;
  return n;
}

/** The reads timed, each returning how many items it got (checked to be the target set). */
function reads(store: Store, n: number): [string, () => Promise<number>][] {
  const items = (p: Promise<{ items: unknown[] }>) => p.then((x) => x.items.length);
  return [
    ['query index eq', () => items(store.query('items', 'tag', { eq: 'target' }, { limit: 50 }))],
    ['query key prefix', () => items(store.query('items', '$key', { prefix: 'target/' }))],
    ['query range, first page', () => items(store.query('items', 'time', {}, { limit: TARGET }))],
    [
      'query range, last page',
      () => items(store.query('items', 'time', { gte: '0' }, { limit: TARGET, reverse: true })),
    ],
    ['read types', () => drain(store.read({ types: ['rare.happened@1'] }))],
    ['read types ×2', () => drain(store.read({ types: ['rare.happened@1', 'never.happened@1'] }))],
    ['read stream', () => drain(store.read({ stream: 'target' }))],
    ['read ref', () => drain(store.read({ ref: 'r/target' }))],
    ['read after (tail)', () => drain(store.read({ after: n - TARGET }))],
    ['kv.list prefix', () => items(store.kv.list('target/', { limit: 50 }))],
  ];
}

/** Appends one event and one row whose tag sorts into the middle of the `tag` index. */
function appendOne(store: Store): () => Promise<unknown> {
  let i = 0;
  return async () => {
    const head = await store.head();
    const events = conformanceEvents(head, 1, { stream: 's/1', type: 'common1.happened@1' });
    i++;
    const row = { collection: 'items', key: `new/${i}`, value: { i }, indexes: { tag: 't/5' } };
    return store.append({ events, expectedHead: head, projections: [row] });
  };
}

type Tuple = [string, string];
const byTuple = (a: Tuple, b: Tuple) => compareKeys(a[0], b[0]) || compareKeys(a[1], b[1]);

/** Insert + delete of a tuple in the middle of `n` others: SortedIndex, and one plain sorted array. */
function indexUpdates(n: number): [() => void, () => void] {
  const tuples = Array.from({ length: n }, (_, i): Tuple => [`t/${i % 1000}`, `k/${i}`]);
  const index = new SortedIndex<Tuple>(byTuple);
  for (const t of tuples) index.insert(t);
  const flat = [...tuples].sort(byTuple);
  const probe: Tuple = ['t/5', 'k/new'];
  return [
    () => {
      index.insert(probe);
      index.delete(probe);
    },
    () => {
      const at = partition(flat, (x) => byTuple(x, probe) < 0);
      flat.splice(at, 0, probe);
      flat.splice(at, 1);
    },
  ];
}

/** A table row: both times, their same-round ratio with its quartiles, and the CPU-time ratio. */
function ratioRow(name: string, small: Timing, big: Timing): string[] {
  const r = pairedRatio(big, small);
  const spread = `${fmtRatio(r.median)} (${fmtRatio(r.q1)}–${fmtRatio(r.q3)})`;
  return [name, fmtUs(small.ns), fmtUs(big.ns), spread, fmtRatio(big.cpuNs / small.cpuNs)];
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(os.tmpdir(), 'baton-store-reads-'));
  const kinds: [string, (n: number) => Store][] = [
    ['MemoryStore', () => new MemoryStore()],
    ['SqliteStore', (n) => new SqliteStore({ path: join(dir, `${n}.db`) })],
  ];
  try {
    for (const [kind, open] of kinds) {
      const stores: Store[] = [];
      for (const n of SIZES) {
        const t0 = performance.now();
        const store = open(n);
        await fill(store, n);
        stores.push(store);
        console.log(`${kind} ${n}: filled in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      }
      const [small, big] = stores.map((s, i) => reads(s, SIZES[i]!));
      const rows: string[][] = [];
      for (let r = 0; r < small!.length; r++) {
        const [name, a] = small![r]!;
        const b = big![r]![1];
        const [ca, cb] = [await a(), await b()];
        if (ca !== TARGET || cb !== TARGET) throw new Error(`${name}: got ${ca} / ${cb} items`);
        const [ta, tb] = await timeInterleaved(
          [
            { name: `${name} 10³`, fn: a },
            { name: `${name} 10⁵`, fn: b },
          ],
          TIMING,
        );
        rows.push(ratioRow(name, ta!, tb!));
      }
      const [ta, tb] = await timeInterleaved(
        [
          { name: 'append 10³', fn: appendOne(stores[0]!), maxPerRound: 300 },
          { name: 'append 10⁵', fn: appendOne(stores[1]!), maxPerRound: 300 },
        ],
        TIMING,
      );
      rows.push(ratioRow('append (1 event, 1 row)', ta!, tb!));
      console.log(`\n${kind}: the target set (${TARGET} items) read at 10³ and 10⁵`);
      table(['read', '10³', '10⁵', '10⁵ / 10³ (q1–q3)', 'CPU 10⁵ / 10³'], rows);
      console.log();
      for (const s of stores) await s.close();
    }
    const [small, big] = SIZES.map(indexUpdates);
    const t = await timeInterleaved(
      [
        { name: 'SortedIndex 10³', fn: small![0] },
        { name: 'SortedIndex 10⁵', fn: big![0] },
        { name: 'sorted array 10³', fn: small![1] },
        { name: 'sorted array 10⁵', fn: big![1] },
      ],
      TIMING,
    );
    console.log('Index update: insert + delete of one tuple in the middle');
    table(
      ['structure', '10³', '10⁵', '10⁵ / 10³', 'vs sorted array at 10⁵'],
      [0, 2].map((i) => [
        t[i]!.name.replace(' 10³', ''),
        fmtUs(t[i]!.ns),
        fmtUs(t[i + 1]!.ns),
        fmtRatio(pairedRatio(t[i + 1]!, t[i]!).median),
        fmtRatio(pairedRatio(t[i + 1]!, t[3]!).median),
      ]),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith('storeReads.ts')) await main();
