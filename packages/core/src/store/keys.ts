import { fromBase64url, fromUtf8, toBase64url, utf8 } from '../crypto/encoding.js';
import { BatonError, ErrorCode } from '../errors.js';
import type { IndexRange } from './store.js';

/**
 * Orders strings by Unicode code point — the order of their UTF-8 bytes, which is what
 * SQLite, PostgreSQL (`COLLATE "C"`) and IndexedDB-with-encoded-keys agree on. (Plain `<`
 * compares UTF-16 code units, which puts U+E000…U+FFFF after astral characters.)
 */
export function compareKeys(a: string, b: string): number {
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

/** True when `key` falls inside `range`. */
export function inRange(key: string, range: IndexRange): boolean {
  if (range.eq !== undefined && key !== range.eq) return false;
  if (range.prefix !== undefined && !key.startsWith(range.prefix)) return false;
  if (range.gt !== undefined && compareKeys(key, range.gt) <= 0) return false;
  if (range.gte !== undefined && compareKeys(key, range.gte) < 0) return false;
  if (range.lt !== undefined && compareKeys(key, range.lt) >= 0) return false;
  if (range.lte !== undefined && compareKeys(key, range.lte) > 0) return false;
  return true;
}

/** Encodes a page position (index key, row key) as an opaque cursor. */
export function encodeCursor(parts: string[]): string {
  return toBase64url(utf8(JSON.stringify(parts)));
}

/** Decodes a cursor made by {@link encodeCursor}; refuses anything else with `VALIDATION`. */
export function decodeCursor(cursor: string, size: number): string[] {
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
  throw new BatonError(
    ErrorCode.VALIDATION,
    `\`after\` is not a cursor from a previous page ("${cursor}").`,
  );
}

/** Page size when the caller gives none. */
export const DEFAULT_PAGE_SIZE = 100;
