import { canonicalJson, type JsonValue } from '../crypto/canonical.js';
import { indexEntries } from '../store/backend.js';
import { compareKeys } from '../store/keys.js';
import { PRIMARY_INDEX, type ProjectionWrite, type Store } from '../store/store.js';
import type { Head } from './event.js';
import type { ProjectionRebuild } from './projectionRebuild.js';
import type { Problem } from './storedEvents.js';

// Rows per page when verify() scans stored rows and index entries. A store may cost a pass
// over a collection per page (MemoryStore sorts it each time): with 500 rows per page the
// scan of 5 000 context rows and their indexes took 150 ms, 45% of the whole verify().
const SCAN_PAGE = 5_000;

/**
 * The first way the stored projection rows differ from the rows `rebuild` made from the log:
 * a row of `collections` (or of a collection the log writes) planted, missing or changed, a
 * secondary index entry planted, dropped or out of order, or an idempotency row naming
 * events the write path could not have made for it. `undefined` when they agree.
 */
export async function storedRowsProblem(
  store: Store,
  rebuild: ProjectionRebuild,
  collections: readonly string[],
  head: Head,
): Promise<Problem | undefined> {
  return (
    (await compareRows(store, rebuild, collections, head)) ??
    (await idempotencyProblem(store, head))
  );
}

/** The first place two JSON values differ, as `path: stored …, log …`. */
function difference(stored: unknown, rebuilt: unknown, path = ''): string | undefined {
  const show = (v: unknown) => (v === undefined ? 'absent' : JSON.stringify(v)?.slice(0, 120));
  const isObj = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (Array.isArray(stored) && Array.isArray(rebuilt)) {
    for (let i = 0; i < Math.max(stored.length, rebuilt.length); i++) {
      const d = difference(stored[i], rebuilt[i], `${path}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  if (isObj(stored) && isObj(rebuilt)) {
    for (const k of [...new Set([...Object.keys(stored), ...Object.keys(rebuilt)])].sort()) {
      const d = difference(stored[k], rebuilt[k], path ? `${path}.${k}` : k);
      if (d) return d;
    }
    return undefined;
  }
  if (
    stored !== undefined &&
    rebuilt !== undefined &&
    canonicalJson(stored as JsonValue) === canonicalJson(rebuilt as JsonValue)
  )
    return undefined;
  return `${path || 'the value'} is ${show(stored)} in the store, ${show(rebuilt)} by the log`;
}

/** Compares every stored row of the rebuilt collections with the rows the log makes. */
async function compareRows(
  store: Store,
  rebuild: ProjectionRebuild,
  collections: readonly string[],
  head: Head,
): Promise<Problem | undefined> {
  const rows = rebuild.rows();
  const names = new Set([...collections, ...[...rows.values()].map((w) => w.collection)]);
  const seen = new Set<string>();
  for (const c of [...names].sort()) {
    let after: string | undefined;
    do {
      const page = await store.query(c, PRIMARY_INDEX, {}, { limit: SCAN_PAGE, after });
      for (const row of page.items) {
        const k = `${c}\u0000${row.key}`;
        seen.add(k);
        const want = rows.get(k);
        if (!want || want.value === null) {
          return {
            seq: head.seq,
            row: `${c}/${row.key}`,
            reason: `stored row ${c}/${row.key} is not made by any event of the log (planted, or left behind)`,
          };
        }
        const d = difference(row.value, want.value);
        if (d) {
          return {
            seq: rebuild.writtenAt.get(k) ?? head.seq,
            row: `${c}/${row.key}`,
            reason: `stored row ${c}/${row.key} differs from the log: ${d}`,
          };
        }
      }
      after = page.next;
    } while (after);
  }
  for (const [k, w] of rows) {
    if (w.value === null || seen.has(k)) continue;
    return {
      seq: rebuild.writtenAt.get(k) ?? head.seq,
      row: `${w.collection}/${w.key}`,
      reason: `row ${w.collection}/${w.key}, made by the log, is missing from the store`,
    };
  }
  return compareIndexes(store, rows, head);
}

/**
 * Compares each secondary index the rebuilt rows have with the store's: the rows it lists,
 * in its order (index key, then row key). A planted, dropped or reordered entry shows.
 */
async function compareIndexes(
  store: Store,
  rows: Map<string, ProjectionWrite>,
  head: Head,
): Promise<Problem | undefined> {
  const byIndex = new Map<
    string,
    { collection: string; name: string; entries: [string, string][] }
  >();
  for (const w of rows.values()) {
    // Each index key of a row once, as a store keeps it (a handoff escalated to one of its
    // recipients lists that recipient twice).
    for (const [name, ik] of indexEntries(w)) {
      const id = `${w.collection}\u0000${name}`;
      let index = byIndex.get(id);
      if (!index) {
        index = { collection: w.collection, name, entries: [] };
        byIndex.set(id, index);
      }
      index.entries.push([ik, w.key]);
    }
  }
  for (const { collection: c, name, entries } of [...byIndex.values()].sort((a, b) =>
    compareKeys(`${a.collection}\u0000${a.name}`, `${b.collection}\u0000${b.name}`),
  )) {
    entries.sort((x, y) => compareKeys(x[0], y[0]) || compareKeys(x[1], y[1]));
    let i = 0;
    let after: string | undefined;
    const mismatch = (stored: string | undefined): Problem => {
      const expected = entries[i]?.[1];
      return {
        seq: head.seq,
        row: `${c}/${stored ?? expected}`,
        reason: `the store's index "${name}" of ${c} does not match the log's rows at entry ${i + 1}: it lists ${stored ?? 'nothing more'}, the log's rows put ${expected ?? 'nothing'} there (an index entry was planted, removed or changed)`,
      };
    };
    do {
      const page = await store.query(c, name, {}, { limit: SCAN_PAGE, after });
      for (const row of page.items) {
        if (entries[i]?.[1] !== row.key) return mismatch(row.key);
        i++;
      }
      after = page.next;
    } while (after);
    if (i < entries.length) return mismatch(undefined);
  }
  return undefined;
}

/**
 * Checks each idempotency row names events the write path could have made for it: they
 * exist, are one actor's, and have ids derived from an idempotency key (not random ones,
 * which a row planted over an ordinary entry would name).
 */
export async function idempotencyProblem(store: Store, head: Head): Promise<Problem | undefined> {
  const derived = /^[a-z]+_[A-Za-z0-9_-]{22}$/;
  let after: string | undefined;
  do {
    const page = await store.query('idempotency', PRIMARY_INDEX, {}, { limit: SCAN_PAGE, after });
    for (const row of page.items) {
      const where = `idempotency/${row.key}`;
      const bad = (reason: string, seq = head.seq): Problem => ({
        seq,
        row: where,
        reason: `stored row ${where} ${reason}`,
      });
      const v = row.value as { digest?: unknown; events?: unknown };
      if (
        typeof v !== 'object' ||
        v === null ||
        typeof v.digest !== 'string' ||
        !Array.isArray(v.events) ||
        !v.events.every((id) => typeof id === 'string')
      )
        return bad('is not { digest, events } as the write path makes it');
      let actor: string | undefined;
      for (const id of v.events as string[]) {
        const e = await store.event(id);
        if (!e) return bad(`names event ${id}, which is not in the log`);
        if (!derived.test(id))
          return bad(`names event ${id}, whose id was not made from an idempotency key`, e.seq);
        if (actor !== undefined && e.actor !== actor)
          return bad(`names events of two actors (${actor}, ${e.actor})`, e.seq);
        actor = e.actor;
      }
    }
    after = page.next;
  } while (after);
  return undefined;
}
