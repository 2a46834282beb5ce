import type Database from 'better-sqlite3';
import { z } from 'zod';

/** Options for {@link SqliteStore}: give `path` or `database`, not both. */
export interface SqliteStoreOptions {
  /**
   * The database file, created when missing. The store opens it in WAL mode with the
   * settings below and closes it on `close()`.
   */
  path?: string;
  /**
   * An open better-sqlite3 connection to use instead of `path`, as it is configured (journal
   * mode, `synchronous`, busy timeout are the caller's; the store only turns
   * `secure_delete` on, which erasure needs). `close()` leaves it open.
   */
  database?: Database.Database;
  /**
   * How long a write waits for another connection's write lock before failing with a
   * `STORE` error, in ms. Only with `path`. Defaults to `5_000`.
   */
  busyTimeoutMs?: number;
  /**
   * `'normal'`: a commit survives the process crashing (what SQLite's WAL guarantees);
   * after a power loss or OS crash the file is intact but may lack the last commits.
   * `'full'`: a commit also survives power loss, at the cost of an fsync per append
   * (about 1.5 ms on a typical SSD). Only with `path`. Defaults to `'normal'`.
   */
  synchronous?: 'normal' | 'full';
  /**
   * How often watchers check for commits made by other connections and processes
   * (`PRAGMA data_version`, a read of a counter in shared memory), in ms. Runs only while
   * someone watches. Defaults to `25`.
   */
  pollIntervalMs?: number;
}

const isDatabase = (d: unknown) =>
  typeof d === 'object' &&
  d !== null &&
  typeof (d as Database.Database).prepare === 'function' &&
  typeof (d as Database.Database).pragma === 'function';

/** The schema of {@link SqliteStoreOptions}, built once. */
export const optionsSchema = z
  .strictObject({
    path: z.string().min(1).optional(),
    // Typed loosely here (declarations cannot name better-sqlite3's namespace type); the
    // options interface gives callers the real type.
    database: z
      .custom<object>(isDatabase, {
        message: 'must be an open better-sqlite3 Database (new Database(file))',
      })
      .optional(),
    busyTimeoutMs: z.number().int().min(0).max(3_600_000).optional(),
    synchronous: z.enum(['normal', 'full']).optional(),
    pollIntervalMs: z.number().int().min(1).max(60_000).optional(),
  })
  .superRefine((o, ctx) => {
    if ((o.path === undefined) === (o.database === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [o.path === undefined ? 'path' : 'database'],
        message:
          o.path === undefined
            ? 'is missing: give `path` (a database file) or `database` (an open better-sqlite3 Database)'
            : 'cannot be given with `path`: give one of them',
      });
    }
    if (o.database === undefined) return;
    for (const field of ['busyTimeoutMs', 'synchronous'] as const) {
      if (o[field] === undefined) continue;
      ctx.addIssue({
        code: 'custom',
        path: [field],
        message:
          'applies only with `path`: configure the Database you pass yourself (its `timeout` option, PRAGMA synchronous)',
      });
    }
  });
