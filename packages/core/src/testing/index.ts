/**
 * Test helpers for Baton storage adapters: the store conformance suite every `Store`
 * implementation runs, and a builder of well-chained fake events.
 *
 * @remarks
 * Needs `vitest` (and `fast-check`, for the model-based test) as dev dependencies of the
 * package that runs it. Imports no `node:` module, so browser stores run it too.
 *
 * @example
 * ```ts
 * import { runStoreConformance } from '@baton/core/testing';
 *
 * runStoreConformance({ name: 'SqliteStore', create: async () => new SqliteStore({ path: tmp() }) });
 * ```
 *
 * @packageDocumentation
 * @module @baton/core/testing
 */

// Types
export type { ConformanceEventFields, StoreConformanceInit } from './runStoreConformance.js';
export {
  CONFORMANCE_WS,
  conformanceEvents,
  conformanceId,
  runStoreConformance,
} from './runStoreConformance.js';
