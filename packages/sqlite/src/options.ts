import type Database from 'better-sqlite3';
import { z } from 'zod';

/** Options for {@link SqliteStore}: give `path` or `database`, not both. */
export interface SqliteStoreOptions {
  /** The database file, created when missing; opened in WAL mode and closed by `close()`. */
  path?: string;
  /**
   * An open better-sqlite3 connection to use instead of `path`, as the caller configured it
   * (the store only turns `secure_delete` on, which erasure needs). `close()` leaves it open.
   */
  database?: Database.Database;
  /** How long a write waits for a lock, in ms, then fails (`path` only). Defaults to `5_000`. */
  busyTimeoutMs?: number;
  /**
   * `'normal'`: a commit survives a process crash; after a power loss the file is intact but
   * may lack the last commits. `'full'`: it survives power loss too, at an fsync per append
   * (about 1.5 ms on an SSD). Only with `path`. Defaults to `'normal'`.
   */
  synchronous?: 'normal' | 'full';
  /** How often watchers check for other connections' commits, in ms. Defaults to `25`. */
  pollIntervalMs?: number;
}

const isDatabase = (d: unknown) =>
  typeof (d as Database.Database | null)?.prepare === 'function' &&
  typeof (d as Database.Database).pragma === 'function';

const NOT_A_DATABASE = 'must be an open better-sqlite3 Database (new Database(file))';
const ONLY_WITH_PATH =
  'applies only with `path`: configure the Database you pass yourself (its `timeout` option, PRAGMA synchronous)';

/** The schema of {@link SqliteStoreOptions}. */
export const optionsSchema = z
  .strictObject({
    path: z.string().min(1).optional(),
    // Typed loosely: declarations cannot name better-sqlite3's namespace type.
    database: z.custom<object>(isDatabase, { message: NOT_A_DATABASE }).optional(),
    busyTimeoutMs: z.number().int().min(0).max(3_600_000).optional(),
    synchronous: z.enum(['normal', 'full']).optional(),
    pollIntervalMs: z.number().int().min(1).max(60_000).optional(),
  })
  .superRefine((o, ctx) => {
    const issue = (field: string, message: string) =>
      ctx.addIssue({ code: 'custom', path: [field], message });
    if (o.path === undefined && o.database === undefined)
      issue(
        'path',
        'is missing: give `path` (a database file) or `database` (an open better-sqlite3 Database)',
      );
    else if (o.path !== undefined && o.database !== undefined)
      issue('database', 'cannot be given with `path`: give one of them');
    else if (o.database !== undefined)
      for (const f of ['busyTimeoutMs', 'synchronous'] as const)
        if (o[f] !== undefined) issue(f, ONLY_WITH_PATH);
  });
