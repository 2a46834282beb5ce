import {
  BatonError,
  ErrorCode,
  findNonJson,
  type KvValue,
  parseInput,
  type Store,
} from '@baton/core';
import {
  BaseStore,
  type GetOperation,
  type Item,
  type ListNamespacesOperation,
  type MatchCondition,
  type Operation,
  type OperationResults,
  type PutOperation,
  type SearchItem,
  type SearchOperation,
} from '@langchain/langgraph-checkpoint';
import { z } from 'zod';
import { keyPart, sameJson, storeSchema } from './kvRecords.js';

/** Options of {@link BatonStore}. */
export interface BatonStoreOptions {
  /**
   * The Baton store whose `kv` area holds the items — any `Store`, e.g. `workspace.store`.
   * Required.
   */
  store: Store;
}

/** Every key this store writes starts with this (apart from the checkpointer's `lg/`). */
const PREFIX = 'lgs/i/';
/** The item format this library writes; a higher one is refused. */
const ITEM_FORMAT = 1;
const PAGE = 100;
/** `search` returns this many items when no `limit` is given (BaseStore's default). */
const DEFAULT_SEARCH_LIMIT = 10;
/** `listNamespaces` returns this many when no `limit` is given (BaseStore's default). */
const DEFAULT_LIST_LIMIT = 100;

const label = z
  .string()
  .min(1, 'a namespace label must not be empty')
  .refine((s) => !s.includes('.'), 'a namespace label must not contain "."');
const namespace = z.array(label);
const jsonObject = z.record(z.string(), z.unknown()).superRefine((v, ctx) => {
  const bad = findNonJson(v);
  if (bad) ctx.addIssue({ code: 'custom', message: `must be plain JSON: ${bad}` });
});
const getOp = z.object({ namespace, key: z.string() });
const putOp = z.object({
  namespace: namespace.min(1, 'an item needs a namespace of at least one label'),
  key: z.string(),
  value: jsonObject.nullable(),
  index: z.union([z.literal(false), z.array(z.string())]).optional(),
});
const searchOp = z.object({
  namespacePrefix: namespace,
  filter: z.record(z.string(), z.unknown()).optional(),
  limit: z.number().int().nonnegative().optional(),
  offset: z.number().int().nonnegative().optional(),
  query: z.string().optional(),
});
const nsPath = z.array(z.string());
const listOp = z.object({
  matchConditions: z
    .array(z.object({ matchType: z.enum(['prefix', 'suffix']), path: nsPath }))
    .optional(),
  maxDepth: z.number().int().positive().optional(),
  limit: z.number().int().nonnegative().optional(),
  offset: z.number().int().nonnegative().optional(),
});

const storedItem = z.object({
  v: z.number().int(),
  ns: z.array(z.string()),
  k: z.string(),
  value: z.record(z.string(), z.unknown()),
  c: z.string(),
  u: z.string(),
});
type StoredItem = z.infer<typeof storedItem>;

/**
 * LangGraph long-term memory (`BaseStore`) on a Baton store's `kv` area: items under
 * hierarchical namespaces that every thread and process sharing the store can read.
 *
 * @remarks
 * Each item is one kv entry keyed by its namespace (labels escaped, so any label is safe)
 * and key, so `search` and `listNamespaces` read only the namespace prefix asked for.
 * Semantics follow LangGraph's `InMemoryStore`:
 *
 * - `get` returns the item or `null`; `put` creates or replaces it (keeping `createdAt`);
 *   `put` with `value: null`, or `delete`, removes it.
 * - `search(prefix, { filter, limit, offset })` returns the items at or under the prefix,
 *   ordered by namespace then key, that match every `filter` entry: a plain value must be
 *   equal (objects by value), or an operator object (`$eq`, `$ne`, `$gt`, `$gte`, `$lt`,
 *   `$lte`, `$in`, `$nin`) must hold. `limit` defaults to 10, `offset` to 0.
 * - `query` needs an embeddings index, which this store does not have: it is accepted and
 *   ignored (items come back unranked, `score` undefined), and `index` on `put` likewise.
 * - `listNamespaces({ prefix, suffix, maxDepth, limit, offset })` returns the namespaces
 *   that hold items, `"*"` matching any one label, truncated to `maxDepth` labels and
 *   de-duplicated, sorted; `limit` defaults to 100.
 * - In one `batch`, reads see the store as it was before the batch's writes, and of two
 *   writes to the same item the last wins.
 *
 * Bad input (a label with `.`, an empty namespace for `put`, a value that is not plain
 * JSON) throws `BatonError` `VALIDATION` before anything is written; an item written by a
 * newer `@baton/langgraph` throws `INVALID_STATE`.
 *
 * @example
 * ```ts
 * import { BatonStore } from '@baton/langgraph';
 * const store = new BatonStore({ store: workspace.store });
 * await store.put(['users', 'ada'], 'prefs', { tone: 'brief' });
 * const graph = builder.compile({ checkpointer, store });
 * ```
 */
export class BatonStore extends BaseStore {
  readonly #kv: Store['kv'];

  /**
   * @param options - The Baton store to keep items in.
   * @throws BatonError `VALIDATION` when `store` is not a Baton store.
   */
  constructor(options: BatonStoreOptions) {
    super();
    const o = parseInput(z.object({ store: storeSchema }), options, 'new BatonStore(options)');
    this.#kv = o.store.kv;
  }

  /**
   * Runs get, search, put and list-namespaces operations; returns one result per operation,
   * in order (`null` for puts).
   *
   * @throws BatonError `VALIDATION` for a malformed operation (nothing is written then).
   */
  async batch<Op extends Operation[]>(operations: Op): Promise<OperationResults<Op>> {
    const where = 'BatonStore.batch(operations)';
    if (!Array.isArray(operations)) {
      throw new BatonError(ErrorCode.VALIDATION, `${where}: pass an array of operations.`);
    }
    const parsed = operations.map((op, i) => parseOperation(op, `${where}[${i}]`));
    const results: unknown[] = [];
    const puts = new Map<string, PutOperation>();
    for (const op of parsed) {
      if (op.kind === 'put') {
        puts.set(itemKey(op.op.namespace, op.op.key), op.op);
        results.push(null);
      } else if (op.kind === 'get') results.push(await this.#get(op.op));
      else if (op.kind === 'search') results.push(await this.#search(op.op));
      else results.push(await this.#listNamespaces(op.op));
    }
    const now = new Date().toISOString();
    for (const [key, op] of puts) {
      const before = await this.#kv.get(key);
      const old = before === undefined ? undefined : decodeItem(before);
      if (op.value === null) {
        if (old !== undefined) await this.#kv.delete(key);
        continue;
      }
      const item: StoredItem = {
        v: ITEM_FORMAT,
        ns: op.namespace,
        k: op.key,
        value: op.value,
        c: old?.c ?? now,
        u: now,
      };
      await this.#kv.put(key, item as unknown as KvValue);
    }
    return results as OperationResults<Op>;
  }

  async #get(op: GetOperation): Promise<Item | null> {
    const stored = await this.#kv.get(itemKey(op.namespace, op.key));
    return stored === undefined ? null : toItem(decodeItem(stored));
  }

  async #search(op: SearchOperation): Promise<SearchItem[]> {
    const offset = op.offset ?? 0;
    const limit = op.limit ?? DEFAULT_SEARCH_LIMIT;
    const filter = Object.entries(op.filter ?? {});
    const out: SearchItem[] = [];
    let skipped = 0;
    if (limit === 0) return out;
    for await (const item of this.#scan(namespacePrefix(op.namespacePrefix))) {
      if (!filter.every(([k, f]) => matches(item.value[k], f))) continue;
      if (skipped < offset) {
        skipped++;
        continue;
      }
      out.push({ ...toItem(item), score: undefined });
      if (out.length >= limit) break;
    }
    return out;
  }

  async #listNamespaces(op: ListNamespacesOperation): Promise<string[][]> {
    const conditions = op.matchConditions ?? [];
    // A prefix condition without wildcards narrows the keys read.
    const fixed: string[] = [];
    for (const c of conditions) {
      if (c.matchType !== 'prefix') continue;
      const head: string[] = [];
      for (const l of c.path) {
        if (l === '*') break;
        head.push(l);
      }
      if (head.length > fixed.length) fixed.splice(0, fixed.length, ...head);
    }
    const seen = new Map<string, string[]>();
    let last = '';
    for await (const item of this.#scan(namespacePrefix(fixed))) {
      const id = JSON.stringify(item.ns);
      if (id === last) continue;
      last = id;
      if (!conditions.every((c) => nsMatches(c, item.ns))) continue;
      const ns = op.maxDepth === undefined ? item.ns : item.ns.slice(0, op.maxDepth);
      seen.set(JSON.stringify(ns), ns);
    }
    const all = [...seen.values()].sort(compareNamespaces);
    const offset = op.offset ?? 0;
    return all.slice(offset, offset + (op.limit ?? DEFAULT_LIST_LIMIT));
  }

  async *#scan(prefix: string): AsyncGenerator<StoredItem> {
    let after: string | undefined;
    do {
      const page = await this.#kv.list(prefix, { limit: PAGE, after });
      after = page.next;
      for (const entry of page.items) yield decodeItem(entry.value);
    } while (after !== undefined);
  }
}

type Parsed =
  | { kind: 'get'; op: GetOperation }
  | { kind: 'put'; op: PutOperation }
  | { kind: 'search'; op: SearchOperation }
  | { kind: 'list'; op: ListNamespacesOperation };

function parseOperation(op: unknown, where: string): Parsed {
  if (typeof op !== 'object' || op === null) {
    throw new BatonError(
      ErrorCode.VALIDATION,
      `${where}: an operation must be an object (get, put, search or listNamespaces).`,
    );
  }
  if ('namespacePrefix' in op) return { kind: 'search', op: parseInput(searchOp, op, where) };
  if ('value' in op) return { kind: 'put', op: parseInput(putOp, op, where) };
  if ('namespace' in op) return { kind: 'get', op: parseInput(getOp, op, where) };
  const list = parseInput(listOp, op, where) as ListNamespacesOperation;
  return { kind: 'list', op: list };
}

/** A namespace label escaped so it holds no `/` or `:` (the separators below). */
function labelPart(l: string): string {
  return keyPart(l).replaceAll(':', '%3A');
}

/** Every label followed by `/`: a namespace's part is a prefix of its sub-namespaces' only. */
function namespacePrefix(ns: string[]): string {
  return PREFIX + ns.map((l) => `${labelPart(l)}/`).join('');
}

function itemKey(ns: string[], key: string): string {
  return `${namespacePrefix(ns)}:${keyPart(key)}`;
}

function decodeItem(value: unknown): StoredItem {
  const v = (value as { v?: unknown } | null)?.v;
  if (typeof v === 'number' && v > ITEM_FORMAT) {
    throw new BatonError(
      ErrorCode.INVALID_STATE,
      `A long-term memory item was written by a newer @baton/langgraph (item format ${v}; this version reads up to ${ITEM_FORMAT}). Upgrade @baton/langgraph to read it; nothing was changed.`,
      { details: { format: v, supported: ITEM_FORMAT } },
    );
  }
  const r = storedItem.safeParse(value);
  if (!r.success) {
    throw new BatonError(
      ErrorCode.INTEGRITY,
      'A long-term memory item is not one @baton/langgraph wrote (damaged, or written by something else under its keys). Delete it or restore the store from a backup.',
    );
  }
  return r.data;
}

function toItem(s: StoredItem): Item {
  return {
    value: s.value,
    key: s.k,
    namespace: s.ns,
    createdAt: new Date(s.c),
    updatedAt: new Date(s.u),
  };
}

const OPERATORS = new Set(['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin']);

function isOperators(f: unknown): f is Record<string, unknown> {
  return (
    typeof f === 'object' &&
    f !== null &&
    !Array.isArray(f) &&
    Object.keys(f).length > 0 &&
    Object.keys(f).every((k) => OPERATORS.has(k))
  );
}

function matches(value: unknown, f: unknown): boolean {
  if (!isOperators(f)) return sameJson(value, f);
  return Object.entries(f).every(([op, x]) => {
    switch (op) {
      case '$eq':
        return sameJson(value, x);
      case '$ne':
        return !sameJson(value, x);
      case '$gt':
        return Number(value) > Number(x);
      case '$gte':
        return Number(value) >= Number(x);
      case '$lt':
        return Number(value) < Number(x);
      case '$lte':
        return Number(value) <= Number(x);
      case '$in':
        return Array.isArray(x) && x.some((y) => sameJson(value, y));
      default:
        return !Array.isArray(x) || !x.some((y) => sameJson(value, y));
    }
  });
}

function nsMatches(c: MatchCondition, ns: string[]): boolean {
  if (c.path.length > ns.length) return false;
  const start = c.matchType === 'prefix' ? 0 : ns.length - c.path.length;
  return c.path.every((l, i) => l === '*' || ns[start + i] === l);
}

function compareNamespaces(a: string[], b: string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  return a.length - b.length;
}
