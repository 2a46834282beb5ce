import { badArgument } from '../crypto/arguments.js';
import { canonicalJson, findNonJson, type JsonValue } from '../crypto/canonical.js';
import { BatonError, ErrorCode } from '../errors.js';
import type {
  KvArea,
  KvBatchOptions,
  KvExpectation,
  KvValue,
  KvWrite,
  Page,
  PageOptions,
} from './store.js';

/** Most keys one {@link KvArea.batch} may touch: a batch is one transaction, kept small. */
export const MAX_KV_BATCH = 10_000;

function field(where: string, message: string): BatonError {
  return new BatonError(ErrorCode.VALIDATION, `store.kv.batch: ${where} ${message}`, {
    details: { field: where },
  });
}

function checkValue(where: string, value: unknown): void {
  if (value instanceof Uint8Array) return;
  const bad = findNonJson(value);
  if (bad) throw field(where, `must be plain JSON or a Uint8Array: ${bad}.`);
}

/**
 * Validates the arguments of {@link KvArea.batch} — what every store checks before it opens
 * its transaction, so a bad batch writes nothing.
 *
 * @throws `BatonError` `VALIDATION` naming the bad field.
 */
export function checkKvBatch(
  writes: unknown,
  options: unknown,
): {
  writes: KvWrite[];
  options: KvBatchOptions;
} {
  if (!Array.isArray(writes)) throw field('writes', 'must be an array of { key, value? }.');
  const o = (options ?? {}) as KvBatchOptions;
  if (typeof o !== 'object' || o === null) throw field('options', 'must be an object.');
  const expect = o.expect ?? [];
  if (!Array.isArray(expect)) throw field('options.expect', 'must be an array of { key, value? }.');
  if (writes.length + expect.length > MAX_KV_BATCH)
    throw field('writes', `may hold at most ${MAX_KV_BATCH} keys with its expectations; split it.`);
  const check = (list: readonly unknown[], name: string) =>
    list.forEach((w, i) => {
      const at = `${name}[${i}]`;
      if (typeof w !== 'object' || w === null) throw field(at, 'must be { key, value? }.');
      const { key, value } = w as { key?: unknown; value?: unknown };
      if (typeof key !== 'string' || key === '')
        throw field(`${at}.key`, 'must be a non-empty string.');
      if (value !== undefined) checkValue(`${at}.value`, value);
    });
  check(writes, 'writes');
  check(expect, 'options.expect');
  return { writes: writes as KvWrite[], options: { expect } };
}

/** Whether two kv values are the same: JSON by canonical JSON, bytes byte by byte. */
export function kvValueEquals(a: KvValue | undefined, b: KvValue | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    if (!(a instanceof Uint8Array && b instanceof Uint8Array) || a.length !== b.length)
      return false;
    return a.every((x, i) => x === b[i]);
  }
  return canonicalJson(a as JsonValue) === canonicalJson(b as JsonValue);
}

/** The `CONFLICT` error a failed {@link KvArea.batch} expectation throws. */
export function kvConflict(key: string): BatonError {
  return new BatonError(
    ErrorCode.CONFLICT,
    `store.kv.batch: ${JSON.stringify(key)} no longer holds the expected value, so nothing was written. Read it again and retry.`,
    { details: { key } },
  );
}

// The checks below run on every kv call, which LangGraph's checkpoint saver makes on its hot
// path: plain `typeof` tests, no schema parse, nothing allocated when the argument is right.

/**
 * Checks the `key` of `kv.get`, `kv.put` or `kv.delete` (`method`) is a string.
 *
 * @throws `BatonError` `VALIDATION` naming `key`.
 */
export function checkKvKey(method: string, key: unknown): asserts key is string {
  if (typeof key !== 'string') throw badArgument(`store.kv.${method}`, 'key', 'a string', key);
}

/**
 * Checks the `keys` of `kv.getMany`: an array of strings (empty, or with duplicates, is fine).
 *
 * @throws `BatonError` `VALIDATION` naming `keys` or the first bad `keys[i]`.
 */
export function checkKvKeys(keys: unknown): asserts keys is readonly string[] {
  const at = 'store.kv.getMany';
  if (!Array.isArray(keys)) throw badArgument(at, 'keys', 'an array of strings', keys);
  for (let i = 0; i < keys.length; i++) {
    if (typeof keys[i] !== 'string') throw badArgument(at, `keys[${i}]`, 'a string', keys[i]);
  }
}

/**
 * Checks the arguments of `kv.put`: a string key and a value that is plain JSON or a
 * `Uint8Array`.
 *
 * @throws `BatonError` `VALIDATION` naming `key` or `value`.
 */
export function checkKvPut(key: unknown, value: unknown): asserts value is KvValue {
  checkKvKey('put', key);
  if (value instanceof Uint8Array) return;
  const bad = value === undefined ? 'it is undefined' : findNonJson(value);
  if (bad)
    throw badArgument('store.kv.put', 'value', 'plain JSON or a Uint8Array', value, {
      advice: `Found: ${bad}.`,
    });
}

/**
 * Checks the arguments of `kv.list`: a string prefix, and page options with a whole-number
 * `limit` ≥ 1, a string `after` and a boolean `reverse`, each optional.
 *
 * @throws `BatonError` `VALIDATION` naming the field.
 */
export function checkKvList(prefix: unknown, page: unknown): asserts page is PageOptions {
  const at = 'store.kv.list';
  if (typeof prefix !== 'string') throw badArgument(at, 'prefix', 'a string', prefix);
  if (page === undefined) return;
  if (typeof page !== 'object' || page === null)
    throw badArgument(at, 'page', 'an object ({ limit?, after?, reverse? })', page);
  const { limit, after, reverse } = page as Record<string, unknown>;
  if (limit !== undefined && !(Number.isSafeInteger(limit) && (limit as number) >= 1))
    throw badArgument(at, 'page.limit', 'a whole number ≥ 1', limit);
  if (after !== undefined && typeof after !== 'string')
    throw badArgument(at, 'page.after', 'the `next` cursor of a previous page', after);
  if (reverse !== undefined && typeof reverse !== 'boolean')
    throw badArgument(at, 'page.reverse', 'a boolean', reverse);
}

/** A store's own part of each {@link KvArea} method, given arguments {@link kvArea} checked. */
export interface KvBackend {
  get(key: string): KvValue | undefined | Promise<KvValue | undefined>;
  /**
   * The value of each key, in the order of `keys` (`undefined` for a missing one), read at one
   * moment: a batch another process writes is seen whole or not at all. A key asked twice is
   * answered twice, neither answer sharing mutable state with the other or with the store.
   */
  getMany(keys: readonly string[]): (KvValue | undefined)[] | Promise<(KvValue | undefined)[]>;
  put(key: string, value: KvValue): void | Promise<void>;
  delete(key: string): void | Promise<void>;
  list(
    prefix: string,
    page: PageOptions,
  ): Page<{ key: string; value: KvValue }> | Promise<Page<{ key: string; value: KvValue }>>;
  /** `writes` in one transaction, when each expectation holds: see {@link applyKvBatch}. */
  batch(writes: KvWrite[], expect: readonly KvExpectation[]): void | Promise<void>;
}

/**
 * A {@link KvArea} that checks each call's arguments (`VALIDATION` naming the field) and
 * hands the call to `backend`.
 */
export function kvArea(backend: KvBackend): KvArea {
  return {
    get: async (key) => {
      checkKvKey('get', key);
      return backend.get(key);
    },
    getMany: async (keys) => {
      checkKvKeys(keys);
      return backend.getMany(keys);
    },
    put: async (key, value) => {
      checkKvPut(key, value);
      await backend.put(key, value);
    },
    delete: async (key) => {
      checkKvKey('delete', key);
      await backend.delete(key);
    },
    list: async (prefix, page = {}) => {
      checkKvList(prefix, page);
      return backend.list(prefix, page);
    },
    batch: async (writes, options) => {
      const b = checkKvBatch(writes, options);
      await backend.batch(b.writes, b.options.expect ?? []);
    },
  };
}

/**
 * The body of a {@link KvArea.batch} inside the store's transaction: each expectation checked
 * against `rows.get` ({@link kvConflict} when one fails, before anything is written), then
 * each write handed to `rows.set` (`undefined`: delete the key).
 */
export function applyKvBatch(
  writes: readonly KvWrite[],
  expect: readonly KvExpectation[],
  rows: {
    get(key: string): KvValue | undefined;
    set(key: string, value: KvValue | undefined): void;
  },
): void {
  for (const e of expect) if (!kvValueEquals(rows.get(e.key), e.value)) throw kvConflict(e.key);
  for (const w of writes) rows.set(w.key, w.value);
}
