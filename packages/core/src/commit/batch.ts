import type { Keyring } from '../crypto/keyring.js';
import type { BatonEvent } from '../log/event.js';
import type { EventTypes } from '../log/eventTypes.js';
import type { BlobWrite, ProjectionWrite, Store } from '../store/store.js';
import type { ViewSync } from '../workspace/viewSync.js';

/** @internal What the commit pipeline's parts read and write through. */
export interface CommitParts {
  store: Store;
  types: EventTypes;
  keyring: Keyring;
  sync: ViewSync;
  /** The committer's clock in epoch milliseconds. */
  clock: () => number;
}

/** @internal One attempt's write: events chained to the head the attempt ran against, and what goes with them. */
export interface Batch {
  events: BatonEvent[];
  /** Each event's parsed data, when the builder has it (saves parsing it again). */
  data?: unknown[];
  /** Rows written besides the events' own projections. */
  projections?: ProjectionWrite[];
  blobs?: BlobWrite[];
  /** Bodies an erasure later in the batch removes: read as erased, not missing (an import). */
  erasedLater?: ReadonlySet<string>;
}

/**
 * @internal What one attempt decided: nothing to write (`done`, with the result), that the
 * view moved under it (`moved`: try again), or a batch to append (then `result`).
 */
export type Outcome<T> = { done: T } | { moved: true } | { write: Batch; result: T };
