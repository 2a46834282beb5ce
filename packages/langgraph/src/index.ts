/**
 * Baton for LangGraph JS: checkpoints ({@link BatonCheckpointSaver}) and long-term memory
 * ({@link BatonStore}) in a Baton store.
 *
 * @example
 * ```ts
 * import { BatonCheckpointSaver } from '@baton/langgraph';
 * const graph = builder.compile({ checkpointer: new BatonCheckpointSaver({ store: workspace.store }) });
 * ```
 *
 * @packageDocumentation
 * @module @baton/langgraph
 */

// Types
export type { BatonCheckpointSaverOptions } from './batonCheckpointSaver.js';
export { BatonCheckpointSaver } from './batonCheckpointSaver.js';
export type { BatonStoreOptions } from './batonStore.js';
export { BatonStore } from './batonStore.js';
