/**
 * A Baton `Store` on SQLite (better-sqlite3): the durable default on Node. One file holds the
 * log, projections, blobs and kv; every process that opens it shares them, and watchers hear
 * of each other's commits. Start at {@link SqliteStore}.
 *
 * @packageDocumentation
 * @module @baton/sqlite
 */

// Types
export type { SqliteStoreOptions } from './options.js';
export { SCHEMA_VERSION } from './schema.js';
export { SqliteStore } from './sqliteStore.js';
