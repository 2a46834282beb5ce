import { badArgument, describeValue } from '../crypto/arguments.js';
import { fromBase64url, fromUtf8, toBase64url, utf8 } from '../crypto/encoding.js';
import { BatonError, ErrorCode } from '../errors.js';
import type { Head } from '../log/event.js';
import type { AppendBatch, IndexRange } from './store.js';

/**
 * Orders strings by Unicode code point — the order of their UTF-8 bytes, which is what
 * SQLite, PostgreSQL (`COLLATE "C"`) and IndexedDB-with-encoded-keys agree on. (Plain `<`
 * compares UTF-16 code units, which puts U+E000…U+FFFF after astral characters.)
 *
 * @throws BatonError `VALIDATION` when `a` or `b` is not a string.
 */
export function compareKeys(a: string, b: string): number {
  if (typeof a !== 'string') throw badArgument('compareKeys', 'a', 'a string', a);
  if (typeof b !== 'string') throw badArgument('compareKeys', 'b', 'a string', b);
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (0xD800–0xDFFF) stand for code points above 0xFFFF: they sort after everything else.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

/**
 * True when `key` falls inside `range`.
 *
 * @throws BatonError `VALIDATION` when `key` is not a string, or `range` not an object
 *   whose bounds are strings.
 */
export function inRange(key: string, range: IndexRange): boolean {
  if (typeof key !== 'string') throw badArgument('inRange', 'key', 'a string', key);
  if (typeof range !== 'object' || range === null)
    throw badArgument(
      'inRange',
      'range',
      'an IndexRange ({ eq?, prefix?, gt?, gte?, lt?, lte? })',
      range,
    );
  for (const bound of ['eq', 'prefix', 'gt', 'gte', 'lt', 'lte'] as const) {
    const v = range[bound];
    if (v !== undefined && typeof v !== 'string')
      throw badArgument('inRange', `range.${bound}`, 'a string', v);
  }
  if (range.eq !== undefined && key !== range.eq) return false;
  if (range.prefix !== undefined && !key.startsWith(range.prefix)) return false;
  if (range.gt !== undefined && compareKeys(key, range.gt) <= 0) return false;
  if (range.gte !== undefined && compareKeys(key, range.gte) < 0) return false;
  if (range.lt !== undefined && compareKeys(key, range.lt) >= 0) return false;
  if (range.lte !== undefined && compareKeys(key, range.lte) > 0) return false;
  return true;
}

/**
 * Encodes a page position (index key, row key) as an opaque cursor.
 *
 * @throws BatonError `VALIDATION` when `parts` is not an array of strings.
 */
export function encodeCursor(parts: string[]): string {
  if (!Array.isArray(parts) || !parts.every((p) => typeof p === 'string'))
    throw badArgument('encodeCursor', 'parts', 'an array of strings', parts);
  return toBase64url(utf8(JSON.stringify(parts)));
}

/**
 * Decodes a cursor made by {@link encodeCursor} from `size` parts; refuses anything else
 * with `VALIDATION` (naming `after`, the option callers pass a cursor in).
 */
export function decodeCursor(cursor: string, size: number): string[] {
  if (!Number.isSafeInteger(size) || size < 1)
    throw badArgument('decodeCursor', 'size', 'a whole number ≥ 1 (the parts of the cursor)', size);
  if (typeof cursor === 'string') {
    try {
      const parts = JSON.parse(fromUtf8(fromBase64url(cursor))) as unknown;
      if (
        Array.isArray(parts) &&
        parts.length === size &&
        parts.every((p) => typeof p === 'string')
      ) {
        return parts as string[];
      }
    } catch {
      // fall through to the error below
    }
  }
  throw new BatonError(
    ErrorCode.VALIDATION,
    `\`after\` is not a cursor from a previous page (got ${describeValue(cursor)}). Pass the \`next\` of the page before, unchanged.`,
    { details: { function: 'decodeCursor', field: 'after' } },
  );
}

/** Page size when the caller gives none. */
export const DEFAULT_PAGE_SIZE = 100;

/**
 * The Store contract's rules for a batch against the head it continues — for adapters to
 * call after their head check: at least one event (or projection writes alone, without
 * blobs); seqs contiguous from the head; each event linked to the one before; no id twice
 * in the batch, nor one `exists` says is committed. Throws `VALIDATION`; returns the head
 * the batch reaches.
 */
export function checkBatch(
  head: Head,
  batch: Pick<AppendBatch, 'events' | 'projections' | 'blobs'>,
  exists: (id: string) => boolean = () => false,
): Head {
  const refuse = (message: string): never => {
    throw new BatonError(ErrorCode.VALIDATION, message);
  };
  if (
    typeof head !== 'object' ||
    head === null ||
    !Number.isSafeInteger(head.seq) ||
    typeof head.hash !== 'string'
  )
    throw badArgument('checkBatch', 'head', 'a Head ({ seq, hash })', head);
  if (typeof batch !== 'object' || batch === null || !Array.isArray(batch.events))
    throw badArgument('checkBatch', 'batch', 'an AppendBatch (with an `events` array)', batch);
  if (typeof exists !== 'function')
    throw badArgument('checkBatch', 'exists', 'a function (id) => boolean', exists);
  if (batch.events.length === 0 && (!batch.projections?.length || batch.blobs?.length)) {
    refuse(
      'An append needs at least one event (or, to rewrite projections, projection writes alone).',
    );
  }
  const ids = new Set<string>();
  let prev = head;
  for (const [i, e] of batch.events.entries()) {
    if (
      typeof e !== 'object' ||
      e === null ||
      typeof e.id !== 'string' ||
      !Number.isSafeInteger(e.seq) ||
      typeof e.hash !== 'string'
    )
      throw badArgument(
        'checkBatch',
        `batch.events[${i}]`,
        'a committed event (with a string id and hash, and a whole-number seq)',
        e,
      );
    if (e.seq !== prev.seq + 1)
      refuse(`Event ${e.id} has seq ${e.seq}; the log expects ${prev.seq + 1}.`);
    if (prev.seq > 0 && e.prev !== prev.hash)
      refuse(`Event ${e.id} does not link to the head (prev ≠ ${prev.hash}).`);
    if (ids.has(e.id) || exists(e.id))
      refuse(`Event id "${e.id}" exists already in this workspace.`);
    ids.add(e.id);
    prev = { seq: e.seq, hash: e.hash };
  }
  return prev;
}
