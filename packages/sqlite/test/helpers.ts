import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BatonError, type ErrorCode, isBatonError, type Store } from '@baton/core';
import { conformanceEvents } from '@baton/core/testing';
import type Database from 'better-sqlite3';
import { afterEach, expect } from 'vitest';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A fresh temporary directory, removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'baton-sqlite-'));
  dirs.push(dir);
  return dir;
}

/** Everything on disk in `dir`: each file's name and SHA-256, to compare before and after. */
export function diskState(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) {
    out[name] = createHash('sha256')
      .update(readFileSync(join(dir, name)))
      .digest('hex');
  }
  return out;
}

/** Runs `attempt` and checks it throws a BatonError of `code`; returns the error. */
export function refusal(attempt: () => unknown, code: ErrorCode): BatonError {
  let caught: unknown;
  try {
    attempt();
  } catch (e) {
    caught = e;
  }
  expect(isBatonError(caught, code), `expected a ${code} BatonError, got ${String(caught)}`).toBe(
    true,
  );
  return caught as BatonError;
}

/** Awaits `attempt` and checks it rejects with a BatonError of `code`; returns the error. */
export async function asyncRefusal(
  attempt: () => Promise<unknown>,
  code: ErrorCode,
): Promise<BatonError> {
  let caught: unknown;
  try {
    await attempt();
  } catch (e) {
    caught = e;
  }
  expect(isBatonError(caught, code), `expected a ${code} BatonError, got ${String(caught)}`).toBe(
    true,
  );
  return caught as BatonError;
}

/** Appends `count` fake events at the store's head. */
export async function appendSome(store: Store, count = 1): Promise<void> {
  const expectedHead = await store.head();
  await store.append({ events: conformanceEvents(expectedHead, count), expectedHead });
}

/**
 * Undoes schema version 2 on `db` (its type index, text tables and the bodies'
 * encoding column) and marks it version 1, as a file written before it would be. Bodies
 * stored compressed stay so: callers that need version 1's bodies rewrite them first.
 */
export function schemaBackToVersionOne(db: Database.Database): void {
  db.exec(`
    DROP TRIGGER baton_texts_put;
    DROP TRIGGER baton_texts_drop;
    DROP TABLE baton_text_index;
    DROP TABLE baton_texts;
    DROP INDEX baton_events_by_type;
    ALTER TABLE baton_blobs DROP COLUMN encoding;
  `);
  db.pragma('user_version = 1');
}
