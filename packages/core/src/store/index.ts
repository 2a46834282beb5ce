/**
 * Helpers for writing a Baton `Store` (a new backend: PostgreSQL, IndexedDB, …): the head and
 * chain checks an append runs, index entries, the kv argument checks and compare-and-set
 * helpers, key order, ranges, page cursors and backend errors — the parts every store shares,
 * so each one keeps only what is its own backend's.
 *
 * @remarks
 * Run `runStoreConformance` from `@baton/core/testing` against the new store; `docs/storage.md`
 * walks through the contract.
 *
 * @example
 * ```ts
 * import { checkAppend } from '@baton/core/store';
 *
 * // Inside the store's transaction: the head check, then the chain.
 * const next = checkAppend(head, batch, (id) => hasEvent(id));
 * ```
 *
 * @packageDocumentation
 * @module @baton/core/store
 */

export type { KeyComparison } from './backend.js';
export {
  checkAppend,
  indexEntries,
  rangeBounds,
  readPages,
  StoreHandle,
  storeFailure,
} from './backend.js';
export { checkBatch } from './checkBatch.js';
export {
  compareKeys,
  DEFAULT_PAGE_SIZE,
  decodeCursor,
  encodeCursor,
  inRange,
  pageOf,
  prefixEnd,
} from './keys.js';
export type { KvBackend } from './kvBatch.js';
export {
  applyKvBatch,
  checkKvBatch,
  checkKvKey,
  checkKvKeys,
  checkKvList,
  checkKvPut,
  kvArea,
  kvConflict,
  kvValueEquals,
  MAX_KV_BATCH,
} from './kvBatch.js';
export type { SqlCondition } from './sql.js';
export { keysetSql, sqlConditions } from './sql.js';
// Types
export type {
  AppendBatch,
  BlobArea,
  BlobWrite,
  IndexRange,
  KvArea,
  KvBatchOptions,
  KvExpectation,
  KvValue,
  KvWrite,
  Page,
  PageOptions,
  ProjectionRow,
  ProjectionWrite,
  ReadQuery,
  Store,
} from './store.js';
export { PRIMARY_INDEX } from './store.js';
export { foldText, MIN_INDEXED_NEEDLE, TextIndex } from './textIndex.js';
export type { CommitWatchersOptions } from './watchers.js';
export { CommitWatchers } from './watchers.js';
