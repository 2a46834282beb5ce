import { badArgument, describeValue } from '../crypto/arguments.js';
import { fromBase64url, fromUtf8, toBase64url, utf8 } from '../crypto/encoding.js';
import { BatonError, ErrorCode } from '../errors.js';
import type { IndexRange, Page } from './store.js';

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
  checkRange('inRange', range);
  if (range.eq !== undefined && key !== range.eq) return false;
  if (range.prefix !== undefined && !key.startsWith(range.prefix)) return false;
  if (range.gt !== undefined && compareKeys(key, range.gt) <= 0) return false;
  if (range.gte !== undefined && compareKeys(key, range.gte) < 0) return false;
  if (range.lt !== undefined && compareKeys(key, range.lt) >= 0) return false;
  return true;
}

/**
 * Throws `VALIDATION` (naming `fn` and the field) unless `range` is an object whose bounds,
 * when given, are strings.
 */
export function checkRange(fn: string, range: IndexRange): void {
  if (typeof range !== 'object' || range === null)
    throw badArgument(fn, 'range', 'an IndexRange ({ eq?, prefix?, gt?, gte?, lt? })', range);
  for (const bound of ['eq', 'prefix', 'gt', 'gte', 'lt'] as const) {
    const v = range[bound];
    if (v !== undefined && typeof v !== 'string')
      throw badArgument(fn, `range.${bound}`, 'a string', v);
  }
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

/**
 * The least string above every string that starts with `prefix`, in code point order: the
 * prefix with its last code point raised by one (dropping trailing U+10FFFF, which cannot be
 * raised). `undefined` when there is none. A store that ranges over keys turns
 * `{ prefix }` into `key >= prefix AND key < prefixEnd(prefix)`, which an ordinary index serves.
 */
export function prefixEnd(prefix: string): string | undefined {
  if (typeof prefix !== 'string') throw badArgument('prefixEnd', 'prefix', 'a string', prefix);
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

/**
 * One page from up to `limit + 1` rows fetched in order: the first `limit` mapped to items,
 * and a `next` cursor (the last item's position, from `cursorOf`) only when the extra row
 * says there is more.
 */
export function pageOf<R, T>(
  rows: readonly R[],
  limit: number,
  item: (row: R) => T,
  cursorOf: (row: R) => string[],
): Page<T> {
  const kept = rows.slice(0, limit);
  const out: Page<T> = { items: kept.map(item) };
  const last = kept.at(-1);
  if (last !== undefined && rows.length > limit) out.next = encodeCursor(cursorOf(last));
  return out;
}

/** Page size when the caller gives none. */
export const DEFAULT_PAGE_SIZE = 100;
