import {
  BatonError,
  type BatonEvent,
  type BlobWrite,
  checkBatch as coreCheckBatch,
  decodeCursor,
  ErrorCode,
  encodeCursor,
  type Head,
  type JsonValue,
  type ProjectionWrite,
  parseInput,
} from '@baton/core';
import type Database from 'better-sqlite3';
import { z } from 'zod';

// Schemas are built once: building a zod schema costs far more than parsing with it.

const isDatabase = (d: unknown) =>
  typeof d === 'object' &&
  d !== null &&
  typeof (d as Database.Database).prepare === 'function' &&
  typeof (d as Database.Database).pragma === 'function';

export const optionsSchema = z
  .strictObject({
    path: z.string().min(1).optional(),
    database: z
      // Typed loosely here (declarations cannot name better-sqlite3's namespace type); the
      // store's options interface gives callers the real type.
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

const str = z.string();

export const appendSchema = z.object({
  events: z.array(
    z.looseObject({
      id: str,
      stream: str,
      type: str,
      seq: z.number().int().positive(),
      prev: str,
      hash: str,
      refs: z.array(str),
    }),
  ),
  expectedHead: z.object({ seq: z.number().int().nonnegative(), hash: str }),
  projections: z
    .array(
      z.object({
        collection: str,
        key: str,
        value: z.custom<JsonValue | null>((v) => v !== undefined, {
          message: 'must be a JSON value, or null to delete the row',
        }),
        indexes: z.record(str, z.union([str, z.array(str)])).optional(),
      }),
    )
    .optional(),
  blobs: z.array(z.object({ hash: str, bytes: z.instanceof(Uint8Array) })).optional(),
});

/** Whether `events` passes `appendSchema`'s check of the events — made without copying them. */
function eventsWellFormed(events: unknown): boolean {
  if (!Array.isArray(events)) return false;
  for (const e of events) {
    if (typeof e !== 'object' || e === null) return false;
    const x = e as Record<string, unknown>;
    if (
      typeof x.id !== 'string' ||
      typeof x.stream !== 'string' ||
      typeof x.type !== 'string' ||
      typeof x.prev !== 'string' ||
      typeof x.hash !== 'string' ||
      !Number.isSafeInteger(x.seq) ||
      (x.seq as number) <= 0 ||
      !Array.isArray(x.refs)
    )
      return false;
    for (const r of x.refs) if (typeof r !== 'string') return false;
  }
  return true;
}

/** Whether the rest of a batch (head, projection writes, blobs) passes `appendSchema`. */
function restWellFormed(b: Record<string, unknown>): boolean {
  const head = b.expectedHead as { seq?: unknown; hash?: unknown } | null | undefined;
  if (typeof head !== 'object' || head === null) return false;
  if (!Number.isSafeInteger(head.seq) || (head.seq as number) < 0) return false;
  if (typeof head.hash !== 'string') return false;
  if (b.projections !== undefined) {
    if (!Array.isArray(b.projections)) return false;
    for (const w of b.projections as Record<string, unknown>[]) {
      if (typeof w !== 'object' || w === null) return false;
      if (typeof w.collection !== 'string' || typeof w.key !== 'string') return false;
      if (w.value === undefined) return false;
      if (w.indexes !== undefined) {
        if (typeof w.indexes !== 'object' || w.indexes === null || Array.isArray(w.indexes))
          return false;
        for (const v of Object.values(w.indexes)) {
          if (typeof v === 'string') continue;
          if (!Array.isArray(v) || v.some((k) => typeof k !== 'string')) return false;
        }
      }
    }
  }
  if (b.blobs !== undefined) {
    if (!Array.isArray(b.blobs)) return false;
    for (const x of b.blobs as Record<string, unknown>[]) {
      if (typeof x !== 'object' || x === null) return false;
      if (typeof x.hash !== 'string' || !(x.bytes instanceof Uint8Array)) return false;
    }
  }
  return true;
}

/**
 * Checks an append's input as `appendSchema` does, by hand: a schema parse would copy every
 * event. Anything amiss goes through the schema, whose error names the field.
 */
export function checkAppendInput(batch: unknown): void {
  const b = batch as Record<string, unknown> | null;
  if (typeof b === 'object' && b !== null && eventsWellFormed(b.events) && restWellFormed(b))
    return;
  parseInput(appendSchema, batch, 'store.append(batch)');
}

export const readSchema = z.object({
  after: z.number().int().nonnegative().optional(),
  until: z.number().int().nonnegative().optional(),
  stream: str.optional(),
  ref: str.optional(),
  types: z.array(str).optional(),
  limit: z.number().int().nonnegative().optional(),
});

export const rangeSchema = z.object({
  eq: str.optional(),
  prefix: str.optional(),
  gt: str.optional(),
  gte: str.optional(),
  lt: str.optional(),
  lte: str.optional(),
});

export const pageSchema = z.object({
  limit: z.number().int().min(1).optional(),
  after: str.optional(),
  reverse: z.boolean().optional(),
});

/** Checks a key argument is a string (the hot paths skip zod for this one check). */
export function text(value: unknown, where: string): void {
  if (typeof value !== 'string') {
    throw new BatonError(ErrorCode.VALIDATION, `${where} must be a string, not ${typeof value}.`);
  }
}

/**
 * The least string above every string that starts with `prefix`, in code point order: the
 * prefix with its last code point raised by one (dropping trailing U+10FFFF, which cannot
 * be raised). `undefined` when there is none.
 */
export function prefixEnd(prefix: string): string | undefined {
  const cps = Array.from(prefix);
  while (cps.length > 0) {
    const last = cps.pop()!.codePointAt(0)!;
    if (last < 0x10ffff) {
      // Surrogate code points cannot be stored in UTF-8: step over them.
      const next = last === 0xd7ff ? 0xe000 : last + 1;
      return cps.join('') + String.fromCodePoint(next);
    }
  }
  return undefined;
}

/** The Store contract's batch rules, shared with every store (ids already committed are caught by the table's UNIQUE constraint). */
export function checkBatch(
  head: Head,
  events: BatonEvent[],
  projections: ProjectionWrite[],
  blobs: BlobWrite[],
): void {
  coreCheckBatch(head, { events, projections, blobs });
}

// One implementation of these for every store: core's.
export { decodeCursor, encodeCursor, parseInput };
