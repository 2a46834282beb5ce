import { expect } from 'vitest';
import { utf8 } from '../../crypto/encoding.js';
import { type BatonError, type ErrorCode, isBatonError } from '../../errors.js';
import type { BatonEvent, Head } from '../../log/event.js';
import {
  type BlobWrite,
  type IndexRange,
  type KvArea,
  type KvValue,
  type Page,
  type PageOptions,
  PRIMARY_INDEX,
  type ProjectionRow,
  type ProjectionWrite,
  type ReadQuery,
  type Store,
} from '../../store/store.js';
import { type ConformanceEventFields, conformanceEvents } from './events.js';

// Small helpers over a store.

export async function readAll(store: Store, q?: ReadQuery): Promise<BatonEvent[]> {
  const out: BatonEvent[] = [];
  for await (const e of store.read(q)) out.push(e);
  return out;
}

/** Appends `count` fake events at the store's current head, with optional rows and blobs. */
export async function appendEvents(
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
export async function write(
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
export const MAX_PAGES = 10_000;

export async function queryAll(
  store: Store,
  collection: string,
  index: string,
  range: IndexRange = {},
  page: Omit<PageOptions, 'after'> = {},
): Promise<ProjectionRow[]> {
  return everyPage(`query(${collection}, ${index})`, page, (p) =>
    store.query(collection, index, range, p),
  );
}

/** Every item of a paged read, page by page, each page at most `page.limit`. */
export async function everyPage(
  what: string,
  page: Omit<PageOptions, 'after'>,
  fetch: (page: PageOptions) => Promise<Page<ProjectionRow>>,
): Promise<ProjectionRow[]> {
  const out: ProjectionRow[] = [];
  let after: string | undefined;
  for (let i = 0; i < MAX_PAGES; i++) {
    const p = await fetch(after === undefined ? page : { ...page, after });
    if (page.limit !== undefined) expect(p.items.length).toBeLessThanOrEqual(page.limit);
    out.push(...p.items);
    if (p.next === undefined) return out;
    after = p.next;
  }
  throw new Error(`${what} returned a next cursor ${MAX_PAGES} times`);
}

export async function listAll(
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

export function describeError(e: unknown): string {
  if (e === undefined) return 'no error';
  if (typeof e === 'object' && e !== null) {
    const { name, code, message } = e as { name?: unknown; code?: unknown; message?: unknown };
    return `${String(name)} ${String(code)}: ${String(message)}`;
  }
  return String(e);
}

/** Runs `attempt` and checks it fails with a `BatonError` of `code`; returns the error. */
export async function expectRefusal(attempt: () => unknown, code: ErrorCode): Promise<BatonError> {
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
export function tryMutate(mutate: () => void): void {
  try {
    mutate();
  } catch {
    // frozen: the store protects itself that way
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it holds or `ms` pass; returns whether it held. */
export async function eventually(check: () => boolean, ms = 2000): Promise<boolean> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) return false;
    await sleep(10);
  }
  return true;
}

/** How a promise settles within `ms`: `'resolved'`, `'rejected'` or `'hung'`. */
export async function settlement(
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

export interface Probe {
  collections: string[];
  indexes: [string, string][];
  blobs: string[];
}

/** Everything observable about a store for the given probe, to compare before and after. */
export async function snapshot(store: Store, probe: Probe) {
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
export const ADVERSARIAL = [
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
export function bigText(seed: string): string {
  const chunk = `${seed} "quoted" \\ back\nslash ü 日本 😀 \uE000 \t`;
  const bytes = utf8(chunk).length;
  return chunk.repeat(Math.ceil((100 * 1024) / bytes) + 1);
}

/**
 * Checks `got` is a `Uint8Array` holding exactly `want` (vitest's deep equality walks typed
 * arrays element by element, about a second per 100 KB).
 */
export function expectBytes(got: unknown, want: Uint8Array, label = 'bytes'): void {
  expect(got instanceof Uint8Array, `${label}: expected a Uint8Array, got ${typeof got}`).toBe(
    true,
  );
  const g = got as Uint8Array;
  expect(g.length, `${label}: length`).toBe(want.length);
  const first = g.findIndex((x, i) => x !== want[i]);
  expect(first, `${label}: bytes differ from index ${first}`).toBe(-1);
}

export function bigBytes(size = 100 * 1024): Uint8Array {
  const out = new Uint8Array(size);
  // Every byte value, in a pattern that would show truncation or shifting.
  for (let i = 0; i < size; i++) out[i] = (i * 31 + (i >> 8)) & 0xff;
  return out;
}
