import { describe } from 'vitest';
import { adversarialTests } from './conformance/adversarial.js';
import { appendTests } from './conformance/append.js';
import { atomicityTests } from './conformance/atomicity.js';
import { blobTests } from './conformance/blobs.js';
import { closeTests } from './conformance/close.js';
import { copyTests } from './conformance/copies.js';
import { copyingTests } from './conformance/copying.js';
import { conformanceSuite, type StoreConformanceInit } from './conformance/harness.js';
import { headTests } from './conformance/head.js';
import { kvTests } from './conformance/kv.js';
import { orderingTests } from './conformance/ordering.js';
import { projectionTests } from './conformance/projections.js';
import { propertyTests } from './conformance/property.js';
import { racingTests } from './conformance/racing.js';
import { searchTests } from './conformance/search.js';
import { watchTests } from './conformance/watch.js';

export type { ConformanceEventFields } from './conformance/events.js';
export { CONFORMANCE_WS, conformanceEvents, conformanceId } from './conformance/events.js';
export type { StoreConformanceInit } from './conformance/harness.js';

/**
 * Registers the store conformance suite with vitest: every `Store` implementation runs it from
 * its own small test file. The tests live by subject in `conformance/`, the reference model
 * they compare against in `conformance/model.ts`.
 *
 * @remarks
 * Covers append/read/head, conflicts and validation (nothing written on refusal), atomicity,
 * durability across reopen, copying a log between stores, racing handles, projections and
 * their indexes and paging, text search, blobs, kv, adversarial keys and 100 KB payloads,
 * defensive copies, watch, close, and model-based property tests against a reference model
 * (one over every kind of call, and ones over index, kv and log order under churn). Tests that
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
  const suite = conformanceSuite(init);
  describe(`${init.name} conforms to the Store contract`, () => {
    appendTests(suite);
    headTests(suite);
    atomicityTests(suite);
    copyingTests(suite);
    racingTests(suite);
    projectionTests(suite);
    searchTests(suite);
    blobTests(suite);
    kvTests(suite);
    adversarialTests(suite);
    copyTests(suite);
    watchTests(suite);
    closeTests(suite);
    propertyTests(suite);
    orderingTests(suite);
  });
}
