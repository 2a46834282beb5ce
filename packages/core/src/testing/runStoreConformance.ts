import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JsonValue } from '../crypto/canonical.js';
import { utf8 } from '../crypto/encoding.js';
import { sha256b64 } from '../crypto/hash.js';
import { type BatonError, ErrorCode, isBatonError } from '../errors.js';
import { type BatonEvent, EMPTY_HEAD, eventHash, type Head } from '../log/event.js';
import {
  type BlobWrite,
  type IndexRange,
  type KvArea,
  type KvValue,
  type PageOptions,
  PRIMARY_INDEX,
  type ProjectionRow,
  type ProjectionWrite,
  type ReadQuery,
  type Store,
} from '../store/store.js';

/** What {@link runStoreConformance} needs to open, share, reopen and remove a store. */
export interface StoreConformanceInit {
  /** The store's name, shown in the suite's title (`'SqliteStore'`). */
  name: string;
  /** Opens a fresh, empty store. Called once or more per test. */
  create(): Promise<Store>;
  /**
   * Opens a second handle onto the same storage as `store` — another connection, as a second
   * process would have. Racing, sharing and cross-handle watch tests are skipped without it.
   */
  openPeer?(store: Store): Promise<Store>;
  /**
   * Closes `store` and opens the same storage again, for durable stores. Durability tests are
   * skipped without it (the in-memory store has nothing to reopen).
   */
  reopen?(store: Store): Promise<Store>;
  /** Closes `store` and removes its storage. Defaults to `store.close()`. */
  destroy?(store: Store): Promise<void>;
  /** Random sequences the model-based test runs. Defaults to `50`. */
  modelRuns?: number;
}

/** The workspace id every {@link conformanceEvents} event carries. */
export const CONFORMANCE_WS = 'ws_conformance';

/** Fields of a fake event a test may set; `seq`, `prev` and `hash` are always computed. */
export type ConformanceEventFields = Partial<Omit<BatonEvent, 'seq' | 'prev' | 'hash'>>;

let eventCounter = 0;
// Ids stay unique across every call in a process, and across processes sharing a database.
const RUN_TAG = Math.random().toString(36).slice(2, 8);

/** A fresh event id, unique in this process. */
export function conformanceId(prefix = 'evt'): string {
  eventCounter++;
  return `${prefix}_${RUN_TAG}_${eventCounter}`;
}

/**
 * Builds `count` well-chained fake events that continue `head`: `seq` from `head.seq + 1`,
 * `prev` linking each to the one before (the workspace id for seq 1), `hash` computed with
 * {@link eventHash}. Stores do not verify signatures, so `sig` is a fixed placeholder.
 *
 * @param head - The head the events continue.
 * @param count - How many events.
 * @param fields - Fields to set on every event, or a function of the event's index in the
 *   batch. A fixed `id` given for `count > 1` repeats the id (useful to test refusals).
 *   Defaults to none: unique ids, stream `'workspace'`, type `'conformance.tested@1'`.
 * @example
 * ```ts
 * const events = conformanceEvents(await store.head(), 3, (i) => ({ refs: [`r${i}`] }));
 * await store.append({ events, expectedHead: await store.head() });
 * ```
 */
export function conformanceEvents(
  head: Head,
  count: number,
  fields: ConformanceEventFields | ((index: number) => ConformanceEventFields) = {},
): BatonEvent[] {
  const out: BatonEvent[] = [];
  let prev = head.seq === 0 ? CONFORMANCE_WS : head.hash;
  for (let i = 0; i < count; i++) {
    const seq = head.seq + i + 1;
    const extra = typeof fields === 'function' ? fields(i) : fields;
    const body: Omit<BatonEvent, 'hash'> = {
      ws: CONFORMANCE_WS,
      id: conformanceId(),
      stream: 'workspace',
      type: 'conformance.tested@1',
      actor: 'id_conformance',
      at: new Date(Date.UTC(2025, 0, 1) + seq * 1000).toISOString(),
      data: { seq },
      refs: [],
      sig: 'c2lnbmF0dXJlLW5vdC1jaGVja2VkLWJ5LXN0b3Jlcw',
      version: 1,
      ...extra,
      seq,
      prev,
    };
    const event: BatonEvent = { ...body, hash: eventHash(body) };
    out.push(event);
    prev = event.hash;
  }
  return out;
}

/** An event with some fields changed and its hash recomputed (to build broken chains). */
function rehash(event: BatonEvent, change: Partial<BatonEvent>): BatonEvent {
  const { hash: _old, ...rest } = { ...event, ...change };
  return { ...rest, hash: eventHash(rest) };
}

/** A blob of the UTF-8 bytes of `text`, addressed by its SHA-256. */
function blobOf(text: string): BlobWrite {
  const bytes = utf8(text);
  return { hash: sha256b64(bytes), bytes };
}

function blobOfBytes(bytes: Uint8Array): BlobWrite {
  return { hash: sha256b64(bytes), bytes };
}

// ---------------------------------------------------------------------------------------------
// Reference semantics, written independently of any store (and of core's own key helpers).

/** Compares strings by Unicode code point. */
function byCodePoint(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

function inRangeRef(key: string, r: IndexRange): boolean {
  return (
    (r.eq === undefined || key === r.eq) &&
    (r.prefix === undefined || key.startsWith(r.prefix)) &&
    (r.gt === undefined || byCodePoint(key, r.gt) > 0) &&
    (r.gte === undefined || byCodePoint(key, r.gte) >= 0) &&
    (r.lt === undefined || byCodePoint(key, r.lt) < 0)
  );
}

interface ModelRow {
  value: JsonValue;
  indexes: Record<string, string[]>;
}

type ModelCollections = Map<string, Map<string, ModelRow>>;

function applyWrites(model: ModelCollections, writes: ProjectionWrite[]): void {
  for (const w of writes) {
    let col = model.get(w.collection);
    if (!col) {
      col = new Map();
      model.set(w.collection, col);
    }
    if (w.value === null) {
      col.delete(w.key);
      continue;
    }
    const indexes: Record<string, string[]> = {};
    for (const [name, keys] of Object.entries(w.indexes ?? {})) {
      indexes[name] = [...new Set(Array.isArray(keys) ? keys : [keys])];
    }
    col.set(w.key, { value: structuredClone(w.value), indexes });
  }
}

function queryRef(
  col: Map<string, ModelRow> | undefined,
  index: string,
  range: IndexRange,
  reverse = false,
): ProjectionRow[] {
  const entries: [string, string, JsonValue][] = [];
  for (const [key, row] of col ?? []) {
    const keys = index === PRIMARY_INDEX ? [key] : (row.indexes[index] ?? []);
    for (const k of keys) if (inRangeRef(k, range)) entries.push([k, key, row.value]);
  }
  entries.sort((x, y) => byCodePoint(x[0], y[0]) || byCodePoint(x[1], y[1]));
  if (reverse) entries.reverse();
  return entries.map(([, key, value]) => ({ key, value }));
}

function readRef(events: BatonEvent[], q: ReadQuery = {}): BatonEvent[] {
  const out = events.filter(
    (e) =>
      e.seq > (q.after ?? 0) &&
      (q.until === undefined || e.seq <= q.until) &&
      (q.stream === undefined || e.stream === q.stream) &&
      (q.ref === undefined || e.refs.includes(q.ref)) &&
      (q.types === undefined || q.types.includes(e.type)),
  );
  return q.limit === undefined ? out : out.slice(0, q.limit);
}

// ---------------------------------------------------------------------------------------------
// Small helpers over a store.

async function readAll(store: Store, q?: ReadQuery): Promise<BatonEvent[]> {
  const out: BatonEvent[] = [];
  for await (const e of store.read(q)) out.push(e);
  return out;
}

/** Appends `count` fake events at the store's current head, with optional rows and blobs. */
async function appendEvents(
  store: Store,
  count = 1,
  fields?: ConformanceEventFields | ((index: number) => ConformanceEventFields),
  extra: { projections?: ProjectionWrite[]; blobs?: BlobWrite[] } = {},
): Promise<BatonEvent[]> {
  const expectedHead = await store.head();
  const events = conformanceEvents(expectedHead, count, fields);
  await store.append({ events, expectedHead, ...extra });
  return events;
}

/** Appends one event carrying projection writes and blobs. */
async function write(
  store: Store,
  projections: ProjectionWrite[],
  blobs: BlobWrite[] = [],
): Promise<Head> {
  const expectedHead = await store.head();
  return store.append({
    events: conformanceEvents(expectedHead, 1),
    expectedHead,
    projections,
    blobs,
  });
}

// A store that pages forever is a bug this suite should report, not hang on.
const MAX_PAGES = 10_000;

async function queryAll(
  store: Store,
  collection: string,
  index: string,
  range: IndexRange = {},
  page: Omit<PageOptions, 'after'> = {},
): Promise<ProjectionRow[]> {
  const out: ProjectionRow[] = [];
  let after: string | undefined;
  for (let i = 0; i < MAX_PAGES; i++) {
    const p = await store.query(
      collection,
      index,
      range,
      after === undefined ? page : { ...page, after },
    );
    if (page.limit !== undefined) expect(p.items.length).toBeLessThanOrEqual(page.limit);
    out.push(...p.items);
    if (p.next === undefined) return out;
    after = p.next;
  }
  throw new Error(`query(${collection}, ${index}) returned a next cursor ${MAX_PAGES} times`);
}

async function listAll(
  kv: KvArea,
  prefix: string,
  page: Omit<PageOptions, 'after'> = {},
): Promise<{ key: string; value: KvValue }[]> {
  const out: { key: string; value: KvValue }[] = [];
  let after: string | undefined;
  for (let i = 0; i < MAX_PAGES; i++) {
    const p = await kv.list(prefix, after === undefined ? page : { ...page, after });
    if (page.limit !== undefined) expect(p.items.length).toBeLessThanOrEqual(page.limit);
    out.push(...p.items);
    if (p.next === undefined) return out;
    after = p.next;
  }
  throw new Error(`kv.list(${prefix}) returned a next cursor ${MAX_PAGES} times`);
}

function describeError(e: unknown): string {
  if (e === undefined) return 'no error';
  if (typeof e === 'object' && e !== null) {
    const { name, code, message } = e as { name?: unknown; code?: unknown; message?: unknown };
    return `${String(name)} ${String(code)}: ${String(message)}`;
  }
  return String(e);
}

/** Runs `attempt` and checks it fails with a `BatonError` of `code`; returns the error. */
async function expectRefusal(attempt: () => unknown, code: ErrorCode): Promise<BatonError> {
  let caught: unknown;
  let threw = false;
  try {
    await attempt();
  } catch (e) {
    caught = e;
    threw = true;
  }
  expect(threw, `expected a ${code} error, but the call succeeded`).toBe(true);
  expect(
    isBatonError(caught, code),
    `expected a ${code} BatonError, got ${describeError(caught)}`,
  ).toBe(true);
  return caught as BatonError;
}

/** Tries a mutation that a frozen object refuses; either outcome is fine, the store must not change. */
function tryMutate(mutate: () => void): void {
  try {
    mutate();
  } catch {
    // frozen: the store protects itself that way
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it holds or `ms` pass; returns whether it held. */
async function eventually(check: () => boolean, ms = 2000): Promise<boolean> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) return false;
    await sleep(10);
  }
  return true;
}

/** How a promise settles within `ms`: `'resolved'`, `'rejected'` or `'hung'`. */
async function settlement(
  run: () => unknown,
  ms = 2000,
): Promise<'resolved' | 'rejected' | 'hung'> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<'hung'>((resolve) => {
    timer = setTimeout(() => resolve('hung'), ms);
  });
  const settled = (async () => run())().then(
    () => 'resolved' as const,
    () => 'rejected' as const,
  );
  try {
    return await Promise.race([settled, hung]);
  } finally {
    clearTimeout(timer);
  }
}

interface Probe {
  collections: string[];
  indexes: [string, string][];
  blobs: string[];
}

/** Everything observable about a store for the given probe, to compare before and after. */
async function snapshot(store: Store, probe: Probe) {
  const rows: Record<string, ProjectionRow[]> = {};
  for (const c of probe.collections) rows[c] = await queryAll(store, c, PRIMARY_INDEX);
  const indexes: Record<string, ProjectionRow[]> = {};
  for (const [c, i] of probe.indexes) indexes[`${c}/${i}`] = await queryAll(store, c, i);
  const blobs: Record<string, Uint8Array | undefined> = {};
  for (const h of probe.blobs)
    blobs[h] = (await store.blobs.has(h)) ? await store.blobs.get(h) : undefined;
  return {
    head: await store.head(),
    events: await readAll(store),
    rows,
    indexes,
    blobs,
    kv: await listAll(store.kv, ''),
  };
}

/** Keys that break naive implementations: prefixes of each other, separators, LIKE wildcards, case, Unicode. */
const ADVERSARIAL = [
  'a',
  'a:b',
  'ab',
  'abc',
  'a/b',
  'a%',
  'a_',
  'A',
  "a'b",
  'a"b',
  'a\\b',
  'a b',
  '',
  ' ',
  'ü',
  'u\u0308',
  '日本',
  '日',
  '😀',
  '😀😀',
  '\uE000',
  '\uFFFF',
];

/** A string of at least 100 KB of UTF-8 mixing ASCII, escapes, CJK, astral and private-use characters. */
function bigText(seed: string): string {
  const chunk = `${seed} "quoted" \\ back\nslash ü 日本 😀 \uE000 \t`;
  const bytes = utf8(chunk).length;
  return chunk.repeat(Math.ceil((100 * 1024) / bytes) + 1);
}

/**
 * Checks `got` is a `Uint8Array` holding exactly `want` (vitest's deep equality walks typed
 * arrays element by element, about a second per 100 KB).
 */
function expectBytes(got: unknown, want: Uint8Array, label = 'bytes'): void {
  expect(got instanceof Uint8Array, `${label}: expected a Uint8Array, got ${typeof got}`).toBe(
    true,
  );
  const g = got as Uint8Array;
  expect(g.length, `${label}: length`).toBe(want.length);
  const first = g.findIndex((x, i) => x !== want[i]);
  expect(first, `${label}: bytes differ from index ${first}`).toBe(-1);
}

function bigBytes(size = 100 * 1024): Uint8Array {
  const out = new Uint8Array(size);
  // Every byte value, in a pattern that would show truncation or shifting.
  for (let i = 0; i < size; i++) out[i] = (i * 31 + (i >> 8)) & 0xff;
  return out;
}

// ---------------------------------------------------------------------------------------------

interface Harness {
  /** The store under test; replaced by {@link Harness.reopen}. */
  store: Store;
  /** A second handle onto the same storage, closed after the test. */
  peer(): Promise<Store>;
  /** Closes and reopens the storage; returns (and sets) the new handle. */
  reopen(): Promise<Store>;
  /** Another fresh, independent store, removed after the test. */
  another(): Promise<Store>;
}

/**
 * Registers the store conformance suite with vitest: every {@link Store} implementation runs it
 * from its own small test file.
 *
 * @remarks
 * Covers append/read/head, conflicts and validation (nothing written on refusal), atomicity,
 * durability across reopen, copying a log between stores, racing handles, projections and
 * their indexes and paging, blobs, kv, adversarial keys and 100 KB payloads, defensive
 * copies, watch, close, and a model-based property test against a reference model. Tests that
 * need `openPeer` or `reopen` are skipped when the initializer lacks them. Imports no `node:`
 * module, so browser stores run it too.
 *
 * @example
 * ```ts
 * runStoreConformance({
 *   name: 'MemoryStore',
 *   create: async () => new MemoryStore(),
 *   openPeer: async (store) => (store as MemoryStore).peer(),
 * });
 * ```
 */
export function runStoreConformance(init: StoreConformanceInit): void {
  const hasPeer = init.openPeer !== undefined;
  const hasReopen = init.reopen !== undefined;
  const modelRuns = init.modelRuns ?? 50;

  async function dispose(store: Store): Promise<void> {
    if (init.destroy) await init.destroy(store);
    else await store.close();
  }

  async function withStore(fn: (h: Harness) => Promise<void>): Promise<void> {
    const peers: Store[] = [];
    const others: Store[] = [];
    const h: Harness = {
      store: await init.create(),
      async peer() {
        if (!init.openPeer) throw new Error(`${init.name}: this test needs openPeer`);
        const p = await init.openPeer(h.store);
        peers.push(p);
        return p;
      },
      async reopen() {
        if (!init.reopen) throw new Error(`${init.name}: this test needs reopen`);
        h.store = await init.reopen(h.store);
        return h.store;
      },
      async another() {
        const s = await init.create();
        others.push(s);
        return s;
      },
    };
    try {
      await fn(h);
    } finally {
      for (const p of peers) await p.close().catch(() => undefined);
      for (const s of others) await dispose(s);
      await dispose(h.store);
    }
  }

  /** `it` with a fresh store, disposed afterwards; skipped when `skip` is true. */
  function test(name: string, fn: (h: Harness) => Promise<void>, skip = false): void {
    it.skipIf(skip)(name, () => withStore(fn));
  }

  describe(`${init.name} conforms to the Store contract`, () => {
    describe('append, head and read', () => {
      test('starts empty, with the empty head and no events', async ({ store }) => {
        expect(await store.head()).toEqual(EMPTY_HEAD);
        expect(await readAll(store)).toEqual([]);
        expect(await store.event('evt_missing')).toBeUndefined();
      });

      test('appends a batch and returns the new head, which head() then reports', async ({
        store,
      }) => {
        const events = conformanceEvents(EMPTY_HEAD, 3);
        const head = await store.append({ events, expectedHead: EMPTY_HEAD });
        expect(head).toEqual({ seq: 3, hash: events[2]!.hash });
        expect(await store.head()).toEqual(head);
      });

      test('accepts appends that give no projections and no blobs', async ({ store }) => {
        const events = conformanceEvents(EMPTY_HEAD, 1);
        await store.append({ events, expectedHead: EMPTY_HEAD, projections: [], blobs: [] });
        const more = conformanceEvents(await store.head(), 1);
        await store.append({ events: more, expectedHead: await store.head() });
        expect((await store.head()).seq).toBe(2);
      });

      test('reads events back unchanged and in commit order across batches', async ({ store }) => {
        const a = await appendEvents(store, 2);
        const b = await appendEvents(store, 1);
        const c = await appendEvents(store, 4, (i) => ({
          stream: `artifact/${i}`,
          auth: 'grant_1',
          session: 'run_1',
          data: { nested: { list: [1, 'two', null, true, { deep: [] }] }, n: -1.5e-7 },
          refs: ['x', 'y'],
          version: i + 2,
        }));
        const all = await readAll(store);
        expect(all).toStrictEqual([...a, ...b, ...c]);
        expect(all.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      });

      test('keeps optional signed fields absent when the event has none', async ({ store }) => {
        const [e] = await appendEvents(store, 1);
        const back = (await store.event(e!.id))!;
        expect('auth' in back).toBe(false);
        expect('session' in back).toBe(false);
        expect(back).toStrictEqual(e);
      });

      test('finds a committed event by id and returns undefined for an unknown id', async ({
        store,
      }) => {
        const events = await appendEvents(store, 3);
        for (const e of events) expect(await store.event(e.id)).toStrictEqual(e);
        expect(await store.event(`${events[0]!.id}x`)).toBeUndefined();
        expect(await store.event(events[0]!.id.slice(0, -1))).toBeUndefined();
      });

      test('accepts any prev on the first event of an empty log', async ({ store }) => {
        const [first] = conformanceEvents(EMPTY_HEAD, 1);
        const odd = rehash(first!, { prev: 'anything-at-all' });
        const head = await store.append({ events: [odd], expectedHead: EMPTY_HEAD });
        expect(head).toEqual({ seq: 1, hash: odd.hash });
        expect(await readAll(store)).toStrictEqual([odd]);
      });

      const STREAMS = ['artifact/a', 'artifact/ab', 'artifact/a:b', 'handoff/h'];
      const TYPES = [
        'artifact.created@1',
        'artifact.edited@1',
        'artifact.edited@2',
        'handoff.offered@1',
      ];
      const REFS = ['a', 'ab', 'a:b', 'h'];
      async function filterFixture(store: Store): Promise<BatonEvent[]> {
        const fields = (offset: number) => (i: number) => {
          const n = i + offset;
          return {
            stream: STREAMS[n % 4]!,
            type: TYPES[Math.floor(n / 4) % 4]!,
            refs: REFS.filter((_, bit) => (n >> bit) & 1),
          };
        };
        return [
          ...(await appendEvents(store, 7, fields(0))),
          ...(await appendEvents(store, 9, fields(7))),
        ];
      }

      test('reads events after a seq with after and up to a seq with until', async ({ store }) => {
        const events = await filterFixture(store);
        expect(await readAll(store, { after: 0 })).toStrictEqual(events);
        expect(await readAll(store, { after: 5 })).toStrictEqual(events.slice(5));
        expect(await readAll(store, { until: 5 })).toStrictEqual(events.slice(0, 5));
        expect(await readAll(store, { after: 3, until: 9 })).toStrictEqual(events.slice(3, 9));
        expect(await readAll(store, { after: 7, until: 7 })).toEqual([]);
        expect(await readAll(store, { after: 9, until: 3 })).toEqual([]);
        expect(await readAll(store, { after: 16 })).toEqual([]);
        expect(await readAll(store, { after: 100 })).toEqual([]);
        expect(await readAll(store, { until: 100 })).toStrictEqual(events);
        expect(await readAll(store, { until: 0 })).toEqual([]);
      });

      test('reads a stream, a ref or a set of types exactly, never by prefix', async ({
        store,
      }) => {
        const events = await filterFixture(store);
        for (const stream of [...STREAMS, 'artifact/', 'artifact', 'artifact/a%']) {
          expect(await readAll(store, { stream })).toStrictEqual(readRef(events, { stream }));
        }
        for (const ref of [...REFS, '', 'a%', 'A']) {
          expect(await readAll(store, { ref })).toStrictEqual(readRef(events, { ref }));
        }
        for (const types of [
          [TYPES[0]!],
          [TYPES[1]!, TYPES[3]!],
          ['artifact.edited'],
          ['artifact.edited@%'],
        ]) {
          expect(await readAll(store, { types })).toStrictEqual(readRef(events, { types }));
        }
        expect(readRef(events, { stream: 'artifact/a' })).toHaveLength(4);
      });

      test('stops after limit matching events, counting only events that pass the filters', async ({
        store,
      }) => {
        const events = await filterFixture(store);
        expect(await readAll(store, { limit: 3 })).toStrictEqual(events.slice(0, 3));
        expect(await readAll(store, { limit: 100 })).toStrictEqual(events);
        const q: ReadQuery = { ref: 'a', after: 2, limit: 3 };
        expect(await readAll(store, q)).toStrictEqual(readRef(events, q));
        expect(readRef(events, q)).toHaveLength(3);
      });

      test('reads nothing for an empty types list or a limit of 0', async ({ store }) => {
        await filterFixture(store);
        expect(await readAll(store, { types: [] })).toEqual([]);
        expect(await readAll(store, { limit: 0 })).toEqual([]);
      });

      test('agrees with a reference filter on random combinations of read filters', async ({
        store,
      }) => {
        const events = await filterFixture(store);
        const query = fc.record(
          {
            after: fc.integer({ min: 0, max: 18 }),
            until: fc.integer({ min: 0, max: 18 }),
            stream: fc.constantFrom(...STREAMS, 'none'),
            ref: fc.constantFrom(...REFS, 'none'),
            types: fc.subarray([...TYPES, 'none@1'], { minLength: 1 }),
            limit: fc.integer({ min: 0, max: 17 }),
          },
          { requiredKeys: [] },
        );
        await fc.assert(
          fc.asyncProperty(query, async (q) => {
            expect(await readAll(store, q)).toStrictEqual(readRef(events, q));
          }),
          { numRuns: 150 },
        );
      });

      test('streams a long log in order without skipping or repeating events', async ({
        store,
      }) => {
        const events: BatonEvent[] = [];
        for (let i = 0; i < 5; i++)
          events.push(...(await appendEvents(store, 61, (j) => ({ refs: [`r${j % 3}`] }))));
        expect(await readAll(store)).toStrictEqual(events);
        expect(await readAll(store, { after: 99 })).toStrictEqual(events.slice(99));
        expect(await readAll(store, { after: 100, limit: 150 })).toStrictEqual(
          events.slice(100, 250),
        );
        expect(await readAll(store, { ref: 'r1' })).toStrictEqual(readRef(events, { ref: 'r1' }));
        expect(await readAll(store, { ref: 'r2', limit: 70 })).toStrictEqual(
          readRef(events, { ref: 'r2', limit: 70 }),
        );
      });

      test('lets a reader stop early without disturbing later reads', async ({ store }) => {
        const events = await appendEvents(store, 20);
        for await (const e of store.read()) {
          if (e.seq === 3) break;
        }
        expect(await readAll(store)).toStrictEqual(events);
      });
    });

    describe('head conflicts and validation', () => {
      const seed = blobOf('seed blob');
      const trap = blobOf('trap blob');
      const probe: Probe = {
        collections: ['docs', 'other'],
        indexes: [['docs', 'tag']],
        blobs: [seed.hash, trap.hash],
      };
      const trapWrites: ProjectionWrite[] = [
        { collection: 'docs', key: 'kept', value: { v: 99 }, indexes: { tag: 'u' } },
        { collection: 'docs', key: 'doomed', value: null },
        { collection: 'docs', key: 'new', value: { v: 3 }, indexes: { tag: ['t', 'v'] } },
        { collection: 'other', key: 'x', value: 1 },
      ];

      /** A log of 3 events, two rows, a blob and a kv entry. */
      async function seeded(store: Store): Promise<{ head: Head; events: BatonEvent[] }> {
        const events = conformanceEvents(EMPTY_HEAD, 3);
        const head = await store.append({
          events,
          expectedHead: EMPTY_HEAD,
          projections: [
            { collection: 'docs', key: 'kept', value: { v: 1 }, indexes: { tag: 't' } },
            { collection: 'docs', key: 'doomed', value: { v: 2 }, indexes: { tag: 't' } },
          ],
          blobs: [seed],
        });
        await store.kv.put('kv', { v: 1 });
        return { head, events };
      }

      async function refusedWithoutTrace(
        store: Store,
        events: BatonEvent[],
        expectedHead: Head,
        code: ErrorCode,
      ): Promise<BatonError> {
        const before = await snapshot(store, probe);
        const err = await expectRefusal(
          () => store.append({ events, expectedHead, projections: trapWrites, blobs: [trap] }),
          code,
        );
        expect(await snapshot(store, probe)).toEqual(before);
        expect(await store.blobs.has(trap.hash)).toBe(false);
        for (const e of events) {
          const found = await store.event(e.id);
          if (found) expect(found).not.toStrictEqual(e);
        }
        return err;
      }

      test('refuses an append whose expected head moved, writing nothing', async ({ store }) => {
        const { head, events } = await seeded(store);
        const stale = { seq: 2, hash: events[1]!.hash };
        const err = await refusedWithoutTrace(
          store,
          conformanceEvents(stale, 2),
          stale,
          ErrorCode.CONFLICT,
        );
        expect(err.name).toBe('BatonError');
        expect(err.code).toBe('CONFLICT');
        expect(isBatonError(err)).toBe(true);
        expect(err).toBeInstanceOf(Error);
        expect((err as BatonError & { head?: Head }).head).toEqual(head);
      });

      test('refuses an append against the empty head once the log has events', async ({
        store,
      }) => {
        await seeded(store);
        await refusedWithoutTrace(
          store,
          conformanceEvents(EMPTY_HEAD, 1),
          EMPTY_HEAD,
          ErrorCode.CONFLICT,
        );
      });

      test('refuses an append whose expected head has the right seq but another hash', async ({
        store,
      }) => {
        const { head } = await seeded(store);
        const wrong = { seq: head.seq, hash: `${head.hash}x` };
        await refusedWithoutTrace(store, conformanceEvents(wrong, 1), wrong, ErrorCode.CONFLICT);
        const other = { seq: head.seq, hash: '' };
        await refusedWithoutTrace(store, conformanceEvents(other, 1), other, ErrorCode.CONFLICT);
      });

      test('refuses an append whose expected head is ahead of the log', async ({ store }) => {
        const { head } = await seeded(store);
        const ahead = { seq: head.seq + 1, hash: head.hash };
        await refusedWithoutTrace(store, conformanceEvents(ahead, 1), ahead, ErrorCode.CONFLICT);
      });

      test('refuses a non-empty expected head on an empty log', async ({ store }) => {
        const fake = { seq: 1, hash: 'fake' };
        await refusedWithoutTrace(store, conformanceEvents(fake, 1), fake, ErrorCode.CONFLICT);
        const blank = { seq: 0, hash: 'fake' };
        await refusedWithoutTrace(store, conformanceEvents(blank, 1), blank, ErrorCode.CONFLICT);
      });

      test('refuses a batch with no events and no projection writes with VALIDATION', async ({
        store,
      }) => {
        const { head } = await seeded(store);
        await expectRefusal(
          () => store.append({ events: [], expectedHead: head }),
          ErrorCode.VALIDATION,
        );
        await expectRefusal(
          () => store.append({ events: [], expectedHead: head, projections: [] }),
          ErrorCode.VALIDATION,
        );
        expect(await store.head()).toEqual(head);
      });

      test('refuses blobs without events with VALIDATION, writing nothing', async ({ store }) => {
        const { head } = await seeded(store);
        await refusedWithoutTrace(store, [], head, ErrorCode.VALIDATION);
      });

      test('writes projection rows alone under the head check, leaving the head unchanged', async ({
        store,
      }) => {
        const { head } = await seeded(store);
        const after = await store.append({
          events: [],
          expectedHead: head,
          projections: [{ collection: 'rebuilt', key: 'k', value: { v: 1 }, indexes: { by: 'x' } }],
        });
        expect(after).toEqual(head);
        expect(await store.head()).toEqual(head);
        expect(await store.get('rebuilt', 'k')).toEqual({ v: 1 });
        expect((await store.query('rebuilt', 'by', { eq: 'x' })).items.map((r) => r.key)).toEqual([
          'k',
        ]);
        await expectRefusal(
          () =>
            store.append({
              events: [],
              expectedHead: { seq: head.seq - 1, hash: 'stale' },
              projections: [{ collection: 'rebuilt', key: 'k', value: null }],
            }),
          ErrorCode.CONFLICT,
        );
        expect(await store.get('rebuilt', 'k')).toEqual({ v: 1 });
      });

      test('refuses a batch whose first seq skips past the head, writing nothing', async ({
        store,
      }) => {
        const { head } = await seeded(store);
        const gap = conformanceEvents({ seq: head.seq + 1, hash: head.hash }, 2);
        await refusedWithoutTrace(store, gap, head, ErrorCode.VALIDATION);
      });

      test('refuses a batch on an empty log that does not start at seq 1', async ({ store }) => {
        const gap = conformanceEvents({ seq: 1, hash: 'x' }, 1);
        await refusedWithoutTrace(store, gap, EMPTY_HEAD, ErrorCode.VALIDATION);
      });

      test('refuses a batch whose first seq repeats the head seq, writing nothing', async ({
        store,
      }) => {
        const { head, events } = await seeded(store);
        const again = conformanceEvents({ seq: 2, hash: events[1]!.hash }, 2);
        await refusedWithoutTrace(store, again, head, ErrorCode.VALIDATION);
      });

      test('refuses a batch with a seq gap between its own events, writing nothing', async ({
        store,
      }) => {
        const { head } = await seeded(store);
        const events = conformanceEvents(head, 3);
        events[2] = rehash(events[2]!, { seq: events[2]!.seq + 1 });
        await refusedWithoutTrace(store, events, head, ErrorCode.VALIDATION);
      });

      test('refuses a batch whose first event does not link to the head hash, writing nothing', async ({
        store,
      }) => {
        const { head } = await seeded(store);
        const unlinked = conformanceEvents({ seq: head.seq, hash: 'not-the-head' }, 2);
        await refusedWithoutTrace(store, unlinked, head, ErrorCode.VALIDATION);
      });

      test('refuses a batch whose later event does not link to the one before, writing nothing', async ({
        store,
      }) => {
        const { head } = await seeded(store);
        const events = conformanceEvents(head, 3);
        events[2] = rehash(events[2]!, { prev: events[0]!.hash });
        await refusedWithoutTrace(store, events, head, ErrorCode.VALIDATION);
      });

      test('refuses a batch that repeats an event id within itself, writing nothing', async ({
        store,
      }) => {
        const { head } = await seeded(store);
        const id = conformanceId('dup');
        const events = conformanceEvents(head, 3, (i) => (i === 1 ? {} : { id }));
        await refusedWithoutTrace(store, events, head, ErrorCode.VALIDATION);
      });

      test('refuses a batch that reuses the id of a committed event, writing nothing', async ({
        store,
      }) => {
        const { head, events } = await seeded(store);
        for (const taken of events) {
          const batch = conformanceEvents(head, 2, (i) => (i === 1 ? { id: taken.id } : {}));
          await refusedWithoutTrace(store, batch, head, ErrorCode.VALIDATION);
        }
      });

      test('refuses a batch that reuses a committed id even with other content', async ({
        store,
      }) => {
        const { head, events } = await seeded(store);
        const batch = conformanceEvents(head, 1, {
          id: events[0]!.id,
          stream: 'elsewhere',
          data: 'other',
        });
        await refusedWithoutTrace(store, batch, head, ErrorCode.VALIDATION);
      });

      test('still accepts a valid append after refusing invalid ones', async ({ store }) => {
        const { head, events } = await seeded(store);
        await refusedWithoutTrace(
          store,
          conformanceEvents({ seq: 1, hash: 'x' }, 1),
          head,
          ErrorCode.VALIDATION,
        );
        await refusedWithoutTrace(
          store,
          conformanceEvents(EMPTY_HEAD, 1),
          EMPTY_HEAD,
          ErrorCode.CONFLICT,
        );
        const next = conformanceEvents(head, 2);
        const newHead = await store.append({
          events: next,
          expectedHead: head,
          projections: trapWrites,
          blobs: [trap],
        });
        expect(newHead).toEqual({ seq: 5, hash: next[1]!.hash });
        expect(await readAll(store)).toStrictEqual([...events, ...next]);
        expect(await store.get('docs', 'kept')).toEqual({ v: 99 });
        expect(await store.get('docs', 'doomed')).toBeUndefined();
        expect(await store.blobs.has(trap.hash)).toBe(true);
      });
    });

    describe('atomicity', () => {
      test('writes the events, projection rows, blobs and head of a batch together', async ({
        store,
      }) => {
        const blob = blobOf('together');
        const events = conformanceEvents(EMPTY_HEAD, 4);
        const head = await store.append({
          events,
          expectedHead: EMPTY_HEAD,
          projections: [
            {
              collection: 'docs',
              key: 'd1',
              value: { title: 'one' },
              indexes: { tag: ['x', 'y'] },
            },
            { collection: 'people', key: 'p1', value: 'Ada' },
          ],
          blobs: [blob],
        });
        expect(head).toEqual({ seq: 4, hash: events[3]!.hash });
        expect(await readAll(store)).toStrictEqual(events);
        expect(await store.get('docs', 'd1')).toEqual({ title: 'one' });
        expect(await store.get('people', 'p1')).toBe('Ada');
        expect(await queryAll(store, 'docs', 'tag', { eq: 'y' })).toEqual([
          { key: 'd1', value: { title: 'one' } },
        ]);
        expect(await store.blobs.get(blob.hash)).toEqual(blob.bytes);
      });

      test('leaves no trace of a large batch refused for its last event', async ({ store }) => {
        const [first] = await appendEvents(store, 1);
        const head = await store.head();
        const blobs = Array.from({ length: 20 }, (_, i) => blobOf(`bulk ${i}`));
        const projections = Array.from({ length: 50 }, (_, i) => ({
          collection: 'bulk',
          key: `k${i}`,
          value: { i },
          indexes: { n: String(i % 5) },
        }));
        const events = conformanceEvents(head, 50, (i) => (i === 49 ? { id: first!.id } : {}));
        await expectRefusal(
          () => store.append({ events, expectedHead: head, projections, blobs }),
          ErrorCode.VALIDATION,
        );
        expect(await store.head()).toEqual(head);
        expect(await readAll(store)).toStrictEqual([first]);
        for (const e of events.slice(0, 49)) expect(await store.event(e.id)).toBeUndefined();
        expect(await queryAll(store, 'bulk', PRIMARY_INDEX)).toEqual([]);
        expect(await queryAll(store, 'bulk', 'n')).toEqual([]);
        for (const b of blobs) expect(await store.blobs.has(b.hash)).toBe(false);
      });

      test('applies the projection writes of a batch in order, so the last write to a row wins', async ({
        store,
      }) => {
        await write(store, [
          { collection: 'docs', key: 'a', value: 1, indexes: { tag: 'first' } },
          { collection: 'docs', key: 'a', value: null },
          { collection: 'docs', key: 'a', value: 3, indexes: { tag: 'third' } },
          { collection: 'docs', key: 'b', value: 1 },
          { collection: 'docs', key: 'b', value: null },
        ]);
        expect(await store.get('docs', 'a')).toBe(3);
        expect(await store.get('docs', 'b')).toBeUndefined();
        expect(await queryAll(store, 'docs', 'tag')).toEqual([{ key: 'a', value: 3 }]);
        expect(await queryAll(store, 'docs', 'tag', { eq: 'first' })).toEqual([]);
      });

      describe.skipIf(!hasReopen)('across close and reopen', () => {
        test('keeps committed events, head, rows, blobs and kv across close and reopen', async (h) => {
          const blob = blobOfBytes(bigBytes(4096));
          const events = await appendEvents(h.store, 3, (i) => ({ refs: [`r${i}`] }), {
            projections: [
              { collection: 'docs', key: 'd', value: { v: 1 }, indexes: { tag: ['a', 'b'] } },
            ],
            blobs: [blob],
          });
          await h.store.kv.put('json', { nested: [1, 'x'] });
          await h.store.kv.put('bytes', new Uint8Array([0, 1, 255]));
          const head = await h.store.head();
          const s = await h.reopen();
          expect(await s.head()).toEqual(head);
          expect(await readAll(s)).toStrictEqual(events);
          expect(await s.event(events[1]!.id)).toStrictEqual(events[1]);
          expect(await readAll(s, { ref: 'r2' })).toStrictEqual([events[2]]);
          expect(await s.get('docs', 'd')).toEqual({ v: 1 });
          expect(await queryAll(s, 'docs', 'tag', { eq: 'b' })).toEqual([
            { key: 'd', value: { v: 1 } },
          ]);
          expectBytes(await s.blobs.get(blob.hash), blob.bytes);
          expect(await s.kv.get('json')).toStrictEqual({ nested: [1, 'x'] });
          expect(await s.kv.get('bytes')).toStrictEqual(new Uint8Array([0, 1, 255]));
        });

        test('keeps no trace of a refused batch after close and reopen', async (h) => {
          const [first] = await appendEvents(h.store, 1);
          const head = await h.store.head();
          const trapBlob = blobOf('refused before reopen');
          const bad = conformanceEvents(head, 2, (i) => (i === 1 ? { id: first!.id } : {}));
          await expectRefusal(
            () =>
              h.store.append({
                events: bad,
                expectedHead: head,
                projections: [{ collection: 'docs', key: 'x', value: 1, indexes: { tag: 't' } }],
                blobs: [trapBlob],
              }),
            ErrorCode.VALIDATION,
          );
          const stale = conformanceEvents(EMPTY_HEAD, 1);
          await expectRefusal(
            () => h.store.append({ events: stale, expectedHead: EMPTY_HEAD, blobs: [trapBlob] }),
            ErrorCode.CONFLICT,
          );
          const s = await h.reopen();
          expect(await s.head()).toEqual(head);
          expect(await readAll(s)).toStrictEqual([first]);
          expect(await s.event(bad[0]!.id)).toBeUndefined();
          expect(await s.get('docs', 'x')).toBeUndefined();
          expect(await queryAll(s, 'docs', 'tag')).toEqual([]);
          expect(await s.blobs.has(trapBlob.hash)).toBe(false);
        });

        test('continues the log after reopen from the persisted head', async (h) => {
          const a = await appendEvents(h.store, 2);
          let s = await h.reopen();
          const b = await appendEvents(s, 3);
          s = await h.reopen();
          const c = await appendEvents(s, 1);
          expect(await readAll(s)).toStrictEqual([...a, ...b, ...c]);
          expect(await s.head()).toEqual({ seq: 6, hash: c[0]!.hash });
          await expectRefusal(
            () =>
              s.append({
                events: conformanceEvents({ seq: 2, hash: a[1]!.hash }, 1),
                expectedHead: { seq: 2, hash: a[1]!.hash },
              }),
            ErrorCode.CONFLICT,
          );
        });

        test('keeps deleted rows, index keys, blobs and kv entries deleted after reopen', async (h) => {
          const blob = blobOf('to erase');
          await write(
            h.store,
            [
              { collection: 'docs', key: 'a', value: 1, indexes: { tag: 'x' } },
              { collection: 'docs', key: 'b', value: 2, indexes: { tag: 'x' } },
            ],
            [blob],
          );
          await write(h.store, [
            { collection: 'docs', key: 'a', value: null },
            { collection: 'docs', key: 'b', value: 3, indexes: { tag: 'y' } },
          ]);
          await h.store.blobs.delete(blob.hash);
          await h.store.kv.put('gone', 1);
          await h.store.kv.delete('gone');
          const s = await h.reopen();
          expect(await s.get('docs', 'a')).toBeUndefined();
          expect(await queryAll(s, 'docs', 'tag')).toEqual([{ key: 'b', value: 3 }]);
          expect(await s.blobs.has(blob.hash)).toBe(false);
          expect(await s.kv.get('gone')).toBeUndefined();
        });

        test('round-trips adversarial keys and 100 KB payloads across reopen', async (h) => {
          const text = bigText('durable');
          const blob = blobOfBytes(bigBytes());
          const events = await appendEvents(h.store, ADVERSARIAL.length, (i) => ({
            id: ADVERSARIAL[i]!,
            stream: ADVERSARIAL[i]!,
            refs: [ADVERSARIAL[i]!],
            data: i === 0 ? { text } : i,
          }));
          await write(
            h.store,
            ADVERSARIAL.map((k) => ({
              collection: k,
              key: k,
              value: { k, text: k === 'a' ? text : '' },
              indexes: { i: k },
            })),
            [blob],
          );
          for (const k of ADVERSARIAL) await h.store.kv.put(k, { k });
          const s = await h.reopen();
          expect(await readAll(s, { until: ADVERSARIAL.length })).toStrictEqual(events);
          for (const [i, k] of ADVERSARIAL.entries()) {
            expect(await s.event(k)).toStrictEqual(events[i]);
            expect(await s.get(k, k)).toEqual({ k, text: k === 'a' ? text : '' });
            expect(await s.kv.get(k)).toEqual({ k });
          }
          expectBytes(await s.blobs.get(blob.hash), blob.bytes);
        });
      });
    });

    describe('retries and copying a log between stores', () => {
      test('refuses to re-append a committed event against its old head with ConflictError', async ({
        store,
      }) => {
        const events = await appendEvents(store, 2);
        const head = await store.head();
        const err = await expectRefusal(
          () =>
            store.append({ events: [events[1]!], expectedHead: { seq: 1, hash: events[0]!.hash } }),
          ErrorCode.CONFLICT,
        );
        expect((err as BatonError & { head?: Head }).head).toEqual(head);
        await expectRefusal(
          () => store.append({ events, expectedHead: EMPTY_HEAD }),
          ErrorCode.CONFLICT,
        );
        expect(await readAll(store)).toStrictEqual(events);
        expect(await store.head()).toEqual(head);
      });

      test('refuses a committed event re-chained onto the current head with VALIDATION', async ({
        store,
      }) => {
        const [first] = await appendEvents(store, 1);
        const head = await store.head();
        const again = conformanceEvents(head, 1, { ...first!, id: first!.id });
        await expectRefusal(
          () => store.append({ events: again, expectedHead: head }),
          ErrorCode.VALIDATION,
        );
        expect(await readAll(store)).toStrictEqual([first]);
      });

      test('copies a log into a fresh store unchanged, in batches of any size, reaching the same head', async (h) => {
        const source = h.store;
        await appendEvents(source, 5, (i) => ({
          stream: `artifact/${i % 2}`,
          refs: ['a'],
          session: 's',
        }));
        await appendEvents(source, 20, (i) => ({ auth: 'grant', data: { i, text: 'ü😀' } }));
        await appendEvents(source, 5);
        const log = await readAll(source);
        for (const sizes of [[30], [1, 5, 24], Array.from({ length: 30 }, () => 1)]) {
          const target = await h.another();
          let head: Head = EMPTY_HEAD;
          let at = 0;
          for (const size of sizes) {
            const chunk = log.slice(at, at + size);
            head = await target.append({ events: chunk, expectedHead: head });
            at += size;
          }
          expect(head).toEqual(await source.head());
          expect(await target.head()).toEqual(await source.head());
          expect(await readAll(target)).toStrictEqual(log);
          for (const e of log) expect(await target.event(e.id)).toStrictEqual(e);
          expect(await readAll(target, { stream: 'artifact/1' })).toStrictEqual(
            await readAll(source, { stream: 'artifact/1' }),
          );
        }
      });

      test('refuses to copy events that the target already holds', async (h) => {
        const log = await appendEvents(h.store, 4);
        const target = await h.another();
        const head = await target.append({ events: log.slice(0, 2), expectedHead: EMPTY_HEAD });
        await expectRefusal(
          () => target.append({ events: log.slice(0, 2), expectedHead: EMPTY_HEAD }),
          ErrorCode.CONFLICT,
        );
        await expectRefusal(
          () => target.append({ events: log.slice(1, 3), expectedHead: head }),
          ErrorCode.VALIDATION,
        );
        await target.append({ events: log.slice(2), expectedHead: head });
        expect(await readAll(target)).toStrictEqual(log);
      });

      test('keeps two stores apart: a write to one is invisible in the other', async (h) => {
        const other = await h.another();
        await appendEvents(h.store, 2, undefined, {
          projections: [{ collection: 'docs', key: 'a', value: 1 }],
          blobs: [blobOf('only in one')],
        });
        await h.store.kv.put('k', 1);
        expect(await other.head()).toEqual(EMPTY_HEAD);
        expect(await readAll(other)).toEqual([]);
        expect(await other.get('docs', 'a')).toBeUndefined();
        expect(await other.blobs.has(blobOf('only in one').hash)).toBe(false);
        expect(await other.kv.get('k')).toBeUndefined();
      });
    });

    describe.skipIf(!hasPeer)('racing handles', () => {
      test('lets exactly one of many concurrent appends against the same head win, writing only its batch', async (h) => {
        await appendEvents(h.store, 1);
        const handles = [
          h.store,
          ...(await Promise.all(Array.from({ length: 7 }, () => h.peer()))),
        ];
        for (const round of [0, 1, 2]) {
          const head = await h.store.head();
          const batches = handles.map((_, i) => ({
            events: conformanceEvents(head, 1 + (i % 3), { data: { round, racer: i } }),
            blob: blobOf(`racer ${round} ${i}`),
          }));
          const results = await Promise.allSettled(
            handles.map((s, i) =>
              s.append({
                events: batches[i]!.events,
                expectedHead: head,
                projections: [
                  { collection: 'race', key: `r${round}`, value: i, indexes: { by: `racer${i}` } },
                ],
                blobs: [batches[i]!.blob],
              }),
            ),
          );
          const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
          expect(winners).toHaveLength(1);
          for (const r of results) {
            if (r.status === 'rejected') {
              expect(isBatonError(r.reason, ErrorCode.CONFLICT), describeError(r.reason)).toBe(
                true,
              );
            }
          }
          const w = winners[0]!;
          const won = batches[w]!.events;
          const newHead = { seq: won.at(-1)!.seq, hash: won.at(-1)!.hash };
          expect((results[w] as PromiseFulfilledResult<Head>).value).toEqual(newHead);
          expect(await readAll(h.store, { after: head.seq })).toStrictEqual(won);
          expect(await h.store.get('race', `r${round}`)).toBe(w);
          expect(await queryAll(h.store, 'race', 'by', { prefix: 'racer' })).toHaveLength(
            round + 1,
          );
          for (const [i, b] of batches.entries()) {
            expect(await h.store.blobs.has(b.blob.hash)).toBe(i === w);
            if (i !== w)
              for (const e of b.events) expect(await h.store.event(e.id)).toBeUndefined();
          }
          for (const s of handles) expect(await s.head()).toEqual(newHead);
        }
      });

      test('keeps the log gap-free and chained when handles race with retries', async (h) => {
        const handles = [
          h.store,
          ...(await Promise.all(Array.from({ length: 3 }, () => h.peer()))),
        ];
        const perHandle = 8;
        await Promise.all(
          handles.map(async (s, who) => {
            for (let n = 0; n < perHandle; n++) {
              // Each retry sees a newer head, so a correct store lets every racer through within
              // (handles × events) tries; far more means head() is stale or conflicts are spurious.
              for (let attempt = 0; ; attempt++) {
                expect(attempt, `handle ${who} never got its append ${n} through`).toBeLessThan(
                  1000,
                );
                const head = await s.head();
                try {
                  await s.append({
                    events: conformanceEvents(head, 1, { data: { who, n }, refs: [`h${who}`] }),
                    expectedHead: head,
                    projections: [{ collection: 'count', key: `h${who}`, value: n + 1 }],
                  });
                  break;
                } catch (e) {
                  expect(isBatonError(e, ErrorCode.CONFLICT), describeError(e)).toBe(true);
                }
              }
            }
          }),
        );
        const total = handles.length * perHandle;
        const log = await readAll(h.store);
        expect(log.map((e) => e.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
        for (let i = 1; i < log.length; i++) expect(log[i]!.prev).toBe(log[i - 1]!.hash);
        expect(new Set(log.map((e) => e.id)).size).toBe(total);
        for (const [who] of handles.entries()) {
          const mine = log
            .filter((e) => e.refs[0] === `h${who}`)
            .map((e) => (e.data as { n: number }).n);
          expect(mine).toEqual(Array.from({ length: perHandle }, (_, n) => n));
          expect(await h.store.get('count', `h${who}`)).toBe(perHandle);
        }
        for (const s of handles) {
          expect(await readAll(s)).toStrictEqual(log);
          expect(await s.head()).toEqual({ seq: total, hash: log.at(-1)!.hash });
        }
      });

      test('shows every handle the others’ events, head, rows, blobs and kv entries', async (h) => {
        const peer = await h.peer();
        const blob = blobOf('shared');
        const events = await appendEvents(peer, 2, undefined, {
          projections: [
            { collection: 'docs', key: 'd', value: { by: 'peer' }, indexes: { tag: 'p' } },
          ],
          blobs: [blob],
        });
        await peer.kv.put('from-peer', [1, 2]);
        expect(await h.store.head()).toEqual({ seq: 2, hash: events[1]!.hash });
        expect(await readAll(h.store)).toStrictEqual(events);
        expect(await h.store.event(events[0]!.id)).toStrictEqual(events[0]);
        expect(await h.store.get('docs', 'd')).toEqual({ by: 'peer' });
        expect(await queryAll(h.store, 'docs', 'tag', { eq: 'p' })).toHaveLength(1);
        expect(await h.store.blobs.get(blob.hash)).toEqual(blob.bytes);
        expect(await h.store.kv.get('from-peer')).toEqual([1, 2]);
        const more = await appendEvents(h.store, 1);
        expect(await readAll(peer)).toStrictEqual([...events, ...more]);
        await h.store.kv.delete('from-peer');
        expect(await peer.kv.get('from-peer')).toBeUndefined();
        await h.store.blobs.delete(blob.hash);
        expect(await peer.blobs.has(blob.hash)).toBe(false);
      });

      test('lets exactly one of two handles win a kv compare-and-set on the same key', async (h) => {
        const peer = await h.peer();
        await h.store.kv.put('lock', { rev: 1 });
        const results = await Promise.allSettled([
          h.store.kv.batch([{ key: 'lock', value: { rev: 2, by: 'a' } }], {
            expect: [{ key: 'lock', value: { rev: 1 } }],
          }),
          peer.kv.batch([{ key: 'lock', value: { rev: 2, by: 'b' } }], {
            expect: [{ key: 'lock', value: { rev: 1 } }],
          }),
        ]);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
        expect((lost.reason as BatonError).code).toBe(ErrorCode.CONFLICT);
        const won = await peer.kv.get('lock');
        expect(await h.store.kv.get('lock')).toEqual(won);
      });

      test('keeps a handle working after a peer handle closes', async (h) => {
        const peer = await h.peer();
        await appendEvents(peer, 1);
        await peer.close();
        const more = await appendEvents(h.store, 2);
        expect((await h.store.head()).seq).toBe(3);
        expect((await readAll(h.store)).slice(1)).toStrictEqual(more);
      });
    });

    describe('projections', () => {
      test('puts, reads and overwrites a row by collection and key', async ({ store }) => {
        await write(store, [
          { collection: 'docs', key: 'a', value: { title: 'first', n: [1, 2] } },
        ]);
        expect(await store.get('docs', 'a')).toEqual({ title: 'first', n: [1, 2] });
        await write(store, [{ collection: 'docs', key: 'a', value: 'second' }]);
        expect(await store.get('docs', 'a')).toBe('second');
        expect(await queryAll(store, 'docs', PRIMARY_INDEX)).toEqual([
          { key: 'a', value: 'second' },
        ]);
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
        expect(await queryAll(store, 'docs', 'tag', { eq: 'red' })).toEqual([
          { key: 'x', value: 1 },
        ]);
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
        expect(await queryAll(store, 'docs', 'tag', { eq: 'red' })).toEqual([
          { key: 'x', value: 1 },
        ]);
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
        expect(
          (await queryAll(store, 'cp', 'v', { lt: '😀', gte: '日' })).map((r) => r.key),
        ).toEqual(['日', '\uE000', '\uFFFF']);
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

    describe('blobs', () => {
      test('stores blobs written with an append and reads them back exactly', async ({ store }) => {
        const blobs = [
          blobOf('one'),
          blobOfBytes(new Uint8Array([0, 0, 255, 128, 7])),
          blobOfBytes(new Uint8Array(0)),
        ];
        await appendEvents(store, 1, undefined, { blobs });
        for (const b of blobs) {
          expect(await store.blobs.has(b.hash)).toBe(true);
          const got = await store.blobs.get(b.hash);
          expect(got).toBeInstanceOf(Uint8Array);
          expect(got).toEqual(b.bytes);
        }
      });

      test('answers a missing blob with has() false and get() undefined', async ({ store }) => {
        const b = blobOf('missing');
        expect(await store.blobs.has(b.hash)).toBe(false);
        expect(await store.blobs.get(b.hash)).toBeUndefined();
        expect(await store.blobs.get('')).toBeUndefined();
      });

      test('deletes a blob for good, and deleting a missing blob is a no-op', async ({ store }) => {
        const keep = blobOf('keep');
        const erase = blobOf('erase');
        await appendEvents(store, 1, undefined, { blobs: [keep, erase] });
        await store.blobs.delete(erase.hash);
        expect(await store.blobs.has(erase.hash)).toBe(false);
        expect(await store.blobs.get(erase.hash)).toBeUndefined();
        await store.blobs.delete(erase.hash);
        await store.blobs.delete(blobOf('never').hash);
        expect(await store.blobs.get(keep.hash)).toEqual(keep.bytes);
        expect((await store.head()).seq).toBe(1);
      });

      test('keeps the stored bytes when a later batch writes a blob that exists', async ({
        store,
      }) => {
        const b = blobOf('original');
        await appendEvents(store, 1, undefined, { blobs: [b] });
        await appendEvents(store, 1, undefined, {
          blobs: [{ hash: b.hash, bytes: utf8('impostor') }],
        });
        expect(await store.blobs.get(b.hash)).toEqual(b.bytes);
        expect((await store.head()).seq).toBe(2);
      });

      test('accepts the same blob twice in one batch', async ({ store }) => {
        const b = blobOf('twice');
        await appendEvents(store, 1, undefined, {
          blobs: [b, { hash: b.hash, bytes: b.bytes.slice() }],
        });
        expect(await store.blobs.get(b.hash)).toEqual(b.bytes);
      });

      test('writes a blob again after it was deleted', async ({ store }) => {
        const b = blobOf('phoenix');
        await appendEvents(store, 1, undefined, { blobs: [b] });
        await store.blobs.delete(b.hash);
        await appendEvents(store, 1, undefined, { blobs: [b] });
        expect(await store.blobs.get(b.hash)).toEqual(b.bytes);
      });

      test('stores no blob of a refused append', async ({ store }) => {
        await appendEvents(store, 1);
        const b = blobOf('refused');
        await expectRefusal(
          () =>
            store.append({
              events: conformanceEvents(EMPTY_HEAD, 1),
              expectedHead: EMPTY_HEAD,
              blobs: [b],
            }),
          ErrorCode.CONFLICT,
        );
        const head = await store.head();
        await expectRefusal(
          () => store.append({ events: [], expectedHead: head, blobs: [b] }),
          ErrorCode.VALIDATION,
        );
        expect(await store.blobs.has(b.hash)).toBe(false);
        expect(await store.blobs.get(b.hash)).toBeUndefined();
      });

      test('returns bytes whose mutation cannot change the stored blob', async ({ store }) => {
        const original = new Uint8Array([1, 2, 3, 4]);
        const b = blobOfBytes(original.slice());
        await appendEvents(store, 1, undefined, { blobs: [b] });
        b.bytes.fill(9);
        expect(await store.blobs.get(b.hash)).toEqual(original);
        const got = (await store.blobs.get(b.hash))!;
        tryMutate(() => got.fill(7));
        expect(await store.blobs.get(b.hash)).toEqual(original);
      });
    });

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
          () =>
            store.append({ events: conformanceEvents(EMPTY_HEAD, 1), expectedHead: EMPTY_HEAD }),
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

    describe('adversarial ids, keys and payloads', () => {
      test('stores events with adversarial ids, streams, refs and types and finds each exactly', async ({
        store,
      }) => {
        const events = await appendEvents(store, ADVERSARIAL.length, (i) => ({
          id: ADVERSARIAL[i]!,
          stream: ADVERSARIAL[i]!,
          type: ADVERSARIAL[i]!,
          refs: [ADVERSARIAL[i]!, `${ADVERSARIAL[i]!}/x`],
          actor: ADVERSARIAL[i]!,
          session: ADVERSARIAL[i]!,
        }));
        expect(await readAll(store)).toStrictEqual(events);
        for (const [i, k] of ADVERSARIAL.entries()) {
          expect(await store.event(k), k).toStrictEqual(events[i]);
          expect(await readAll(store, { stream: k }), k).toStrictEqual([events[i]]);
          expect(await readAll(store, { ref: k }), k).toStrictEqual([events[i]]);
          expect(await readAll(store, { types: [k] }), k).toStrictEqual([events[i]]);
        }
        expect(await store.event('a:')).toBeUndefined();
        expect(await store.event('u')).toBeUndefined();
        expect(await readAll(store, { ref: 'a/x/x' })).toEqual([]);
        const head = await store.head();
        for (const k of ADVERSARIAL) {
          await expectRefusal(
            () =>
              store.append({ events: conformanceEvents(head, 1, { id: k }), expectedHead: head }),
            ErrorCode.VALIDATION,
          );
        }
      });

      test('keeps projection rows with adversarial collections, keys and index keys apart', async ({
        store,
      }) => {
        const writes: ProjectionWrite[] = [];
        for (const c of ADVERSARIAL) {
          for (const k of ADVERSARIAL) {
            writes.push({
              collection: c,
              key: k,
              value: { c, k },
              indexes: { [c]: k, tag: [k, `${k}:`] },
            });
          }
        }
        await write(store, writes);
        const model: ModelCollections = new Map();
        applyWrites(model, writes);
        for (const c of ADVERSARIAL) {
          for (const k of ADVERSARIAL) expect(await store.get(c, k)).toEqual({ c, k });
          expect(await queryAll(store, c, PRIMARY_INDEX)).toEqual(
            queryRef(model.get(c), PRIMARY_INDEX, {}),
          );
          expect(await queryAll(store, c, c)).toEqual(queryRef(model.get(c), c, {}));
        }
        for (const k of ADVERSARIAL) {
          for (const range of [{ eq: k }, { prefix: k }, { gt: k }, { lt: k }]) {
            expect(await queryAll(store, 'a', 'tag', range), JSON.stringify(range)).toEqual(
              queryRef(model.get('a'), 'tag', range),
            );
            expect(
              await queryAll(store, 'a%', PRIMARY_INDEX, range),
              JSON.stringify(range),
            ).toEqual(queryRef(model.get('a%'), PRIMARY_INDEX, range));
          }
        }
        await write(store, [{ collection: 'a', key: 'a', value: null }]);
        expect(await store.get('a', 'a')).toBeUndefined();
        expect(await store.get('a', 'ab')).toEqual({ c: 'a', k: 'ab' });
        expect(await store.get('ab', 'a')).toEqual({ c: 'ab', k: 'a' });
        expect(await store.get('A', 'a')).toEqual({ c: 'A', k: 'a' });
      });

      test('keeps kv entries with adversarial keys apart and lists them by exact prefix', async ({
        store,
      }) => {
        for (const k of ADVERSARIAL) await store.kv.put(k, { k });
        for (const k of ADVERSARIAL) expect(await store.kv.get(k), k).toEqual({ k });
        for (const prefix of ADVERSARIAL) {
          const want = ADVERSARIAL.filter((k) => k.startsWith(prefix))
            .sort(byCodePoint)
            .map((k) => ({ key: k, value: { k } }));
          expect(await listAll(store.kv, prefix, { limit: 3 }), prefix).toEqual(want);
        }
        await store.kv.delete('a');
        expect(await store.kv.get('a')).toBeUndefined();
        expect(await store.kv.get('ab')).toEqual({ k: 'ab' });
        expect(await store.kv.get('A')).toEqual({ k: 'A' });
      });

      test('stores adversarial blob hashes as opaque keys', async ({ store }) => {
        const blobs = ADVERSARIAL.filter((k) => k !== '').map((k) => ({
          hash: k,
          bytes: utf8(`bytes of ${k}`),
        }));
        await appendEvents(store, 1, undefined, { blobs });
        for (const b of blobs) expect(await store.blobs.get(b.hash), b.hash).toEqual(b.bytes);
        await store.blobs.delete('a');
        expect(await store.blobs.has('a')).toBe(false);
        expect(await store.blobs.has('ab')).toBe(true);
        expect(await store.blobs.has('A')).toBe(true);
      });

      test('round-trips 100 KB payloads in event data, projection values, kv values and blobs exactly', async ({
        store,
      }) => {
        const text = bigText('payload');
        expect(utf8(text).length).toBeGreaterThanOrEqual(100 * 1024);
        const bytes = bigBytes();
        const blob = blobOfBytes(bytes);
        const head64 = Array.from(text).slice(0, 64).join('');
        const bigJson = { text, list: Array.from({ length: 2000 }, (_, i) => ({ i, s: `ü${i}` })) };
        const [e] = await appendEvents(
          store,
          1,
          { data: bigJson, refs: ['big'] },
          {
            projections: [
              { collection: 'big', key: 'row', value: bigJson, indexes: { tag: head64 } },
            ],
            blobs: [blob],
          },
        );
        await store.kv.put('big-json', bigJson);
        await store.kv.put('big-bytes', bytes);
        expect(await store.event(e!.id)).toStrictEqual(e);
        expect(await readAll(store, { ref: 'big' })).toStrictEqual([e]);
        expect(await store.get('big', 'row')).toStrictEqual(bigJson);
        expect(await queryAll(store, 'big', 'tag', { eq: head64 })).toStrictEqual([
          { key: 'row', value: bigJson },
        ]);
        expect(await store.kv.get('big-json')).toStrictEqual(bigJson);
        expectBytes(await store.kv.get('big-bytes'), bytes, 'kv');
        expectBytes(await store.blobs.get(blob.hash), bytes, 'blob');
      });
    });

    describe('returned objects', () => {
      test('does not let a caller change the store by mutating a read event', async ({ store }) => {
        const [input] = await appendEvents(store, 1, {
          data: { list: [1], obj: { a: 'b' } },
          refs: ['r'],
        });
        const copy = structuredClone(input!);
        for (const e of [...(await readAll(store)), (await store.event(copy.id))!]) {
          tryMutate(() => {
            (e as { stream: string }).stream = 'hacked';
          });
          tryMutate(() => e.refs.push('hacked'));
          tryMutate(() => (e.data as { list: number[] }).list.push(2));
          tryMutate(() => {
            (e.data as { obj: { a: string } }).obj.a = 'hacked';
          });
        }
        expect(await store.event(copy.id)).toStrictEqual(copy);
        expect(await readAll(store)).toStrictEqual([copy]);
        expect(await readAll(store, { ref: 'hacked' })).toEqual([]);
        expect(await readAll(store, { ref: 'r' })).toStrictEqual([copy]);
      });

      test('does not let a caller change the store by mutating a row from get or query', async ({
        store,
      }) => {
        await write(store, [
          { collection: 'docs', key: 'a', value: { list: [1], obj: { a: 'b' } } },
        ]);
        const want = { list: [1], obj: { a: 'b' } };
        const fromGet = (await store.get('docs', 'a')) as typeof want;
        const [row] = (await store.query('docs', PRIMARY_INDEX, {})).items;
        for (const v of [fromGet, row!.value as typeof want]) {
          tryMutate(() => v.list.push(2));
          tryMutate(() => {
            v.obj.a = 'hacked';
          });
        }
        tryMutate(() => {
          row!.key = 'hacked';
        });
        expect(await store.get('docs', 'a')).toEqual(want);
        expect(await store.query('docs', PRIMARY_INDEX, {})).toEqual({
          items: [{ key: 'a', value: want }],
        });
      });

      test('does not let a caller change the store by mutating a returned head', async ({
        store,
      }) => {
        const events = conformanceEvents(EMPTY_HEAD, 1);
        const fromAppend = await store.append({ events, expectedHead: EMPTY_HEAD });
        const want = { seq: 1, hash: events[0]!.hash };
        const fromHead = await store.head();
        for (const h of [fromAppend, fromHead]) {
          tryMutate(() => {
            h.seq = 99;
            h.hash = 'hacked';
          });
        }
        expect(await store.head()).toEqual(want);
        const next = conformanceEvents(want, 1);
        expect(await store.append({ events: next, expectedHead: want })).toEqual({
          seq: 2,
          hash: next[0]!.hash,
        });
      });

      test('does not let a caller change the store by mutating an appended batch afterwards', async ({
        store,
      }) => {
        const events = conformanceEvents(EMPTY_HEAD, 1, { data: { list: [1] }, refs: ['r'] });
        const projections: ProjectionWrite[] = [
          { collection: 'docs', key: 'a', value: { list: [1] }, indexes: { tag: ['x'] } },
        ];
        const blob = blobOf('mine');
        const wantEvent = structuredClone(events[0]!);
        await store.append({ events, expectedHead: EMPTY_HEAD, projections, blobs: [blob] });
        (events[0]!.data as { list: number[] }).list.push(2);
        events[0]!.refs.push('later');
        events[0]!.stream = 'changed';
        (projections[0]!.value as { list: number[] }).list.push(2);
        (projections[0]!.indexes!.tag as string[]).push('y');
        projections[0]!.key = 'b';
        blob.bytes.fill(0);
        expect(await store.event(wantEvent.id)).toStrictEqual(wantEvent);
        expect(await readAll(store, { ref: 'later' })).toEqual([]);
        expect(await store.get('docs', 'a')).toEqual({ list: [1] });
        expect(await store.get('docs', 'b')).toBeUndefined();
        expect(await queryAll(store, 'docs', 'tag')).toEqual([{ key: 'a', value: { list: [1] } }]);
        expect(await store.blobs.get(blob.hash)).toEqual(utf8('mine'));
      });
    });

    describe('watch', () => {
      test('calls a watcher after a commit with the new head seq', async ({ store }) => {
        const seen: number[] = [];
        const stop = store.watch((seq) => seen.push(seq));
        try {
          await appendEvents(store, 2);
          expect(await eventually(() => seen.includes(2))).toBe(true);
          await appendEvents(store, 1);
          expect(await eventually(() => seen.includes(3))).toBe(true);
          expect(Math.max(...seen)).toBe(3);
        } finally {
          stop();
        }
      });

      test('calls every watcher, and only those still subscribed', async ({ store }) => {
        const a: number[] = [];
        const b: number[] = [];
        const stopA = store.watch((seq) => a.push(seq));
        const stopB = store.watch((seq) => b.push(seq));
        try {
          await appendEvents(store, 1);
          expect(await eventually(() => a.includes(1) && b.includes(1))).toBe(true);
          stopA();
          stopA();
          await sleep(50);
          const before = a.length;
          await appendEvents(store, 1);
          expect(await eventually(() => b.includes(2))).toBe(true);
          await sleep(100);
          expect(a.length).toBe(before);
          expect(a.includes(2)).toBe(false);
        } finally {
          stopA();
          stopB();
        }
      });

      test(
        'wakes a watcher on one handle when a peer commits',
        async (h) => {
          const peer = await h.peer();
          const seen: number[] = [];
          const stop = h.store.watch((seq) => seen.push(seq));
          try {
            await appendEvents(peer, 3);
            expect(await eventually(() => seen.includes(3), 2000), 'no wake-up within 2 s').toBe(
              true,
            );
            const seenByPeer: number[] = [];
            const stopPeer = peer.watch((seq) => seenByPeer.push(seq));
            try {
              await appendEvents(h.store, 1);
              expect(
                await eventually(() => seenByPeer.includes(4), 2000),
                'no wake-up within 2 s',
              ).toBe(true);
            } finally {
              stopPeer();
            }
          } finally {
            stop();
          }
        },
        !hasPeer,
      );

      test(
        'stops waking a handle’s watchers once that handle is closed',
        async (h) => {
          const peer = await h.peer();
          const onPeer: number[] = [];
          const onStore: number[] = [];
          peer.watch((seq) => onPeer.push(seq));
          const stop = h.store.watch((seq) => onStore.push(seq));
          try {
            await peer.close();
            await appendEvents(h.store, 1);
            expect(await eventually(() => onStore.includes(1))).toBe(true);
            await sleep(100);
            expect(onPeer).toEqual([]);
          } finally {
            stop();
          }
        },
        !hasPeer,
      );
    });

    describe('close', () => {
      test('closes idempotently', async ({ store }) => {
        await appendEvents(store, 1);
        await store.close();
        await store.close();
        await Promise.all([store.close(), store.close()]);
      });

      test('rejects every operation after close rather than hanging', async ({ store }) => {
        await appendEvents(store, 1);
        const head = await store.head();
        await store.close();
        const ops: [string, () => unknown][] = [
          [
            'append',
            () => store.append({ events: conformanceEvents(head, 1), expectedHead: head }),
          ],
          [
            'read',
            async () => {
              for await (const _ of store.read()) {
                // draining
              }
            },
          ],
          ['event', () => store.event('x')],
          ['head', () => store.head()],
          ['get', () => store.get('c', 'k')],
          ['query', () => store.query('c', PRIMARY_INDEX, {})],
          ['blobs.get', () => store.blobs.get('h')],
          ['blobs.has', () => store.blobs.has('h')],
          ['blobs.delete', () => store.blobs.delete('h')],
          ['kv.get', () => store.kv.get('k')],
          ['kv.put', () => store.kv.put('k', 1)],
          ['kv.delete', () => store.kv.delete('k')],
          ['kv.list', () => store.kv.list('')],
        ];
        for (const [name, op] of ops) expect(await settlement(op), name).toBe('rejected');
      });
    });

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
  });
}
