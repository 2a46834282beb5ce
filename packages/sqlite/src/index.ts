/**
 * A Baton `Store` on SQLite (better-sqlite3), the durable default on Node: one file, shared by
 * every process that opens it. Start at {@link SqliteStore}.
 *
 * @packageDocumentation
 * @module @baton/sqlite
 */

// Types
export type { SqliteStoreOptions } from './options.js';
export { SCHEMA_VERSION } from './schema.js';
export { SqliteStore } from './sqliteStore.js';
