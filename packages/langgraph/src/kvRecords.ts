import { BatonError, ErrorCode, type Store } from '@baton/core';
import { z } from 'zod';

/**
 * The record format this library writes: 2 since array runs are found by comparing bytes
 * (a run holds no element count and hash). Format 1 records are still read. A record
 * whose first byte is higher was written by a newer `@baton/langgraph` and is refused
 * (read or overwritten) rather than guessed at.
 */
export const RECORD_FORMAT = 2;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Escapes one key component so that it contains no `/` and no lone surrogate (SQLite
 * stores text as UTF-8, which cannot hold one), and so that no escaped component is a
 * prefix of another's escape followed by `/`. `%` is escaped first, so the escape is
 * reversible and injective.
 */
export function keyPart(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x25) out += '%25';
    else if (c === 0x2f) out += '%2F';
    else if (c >= 0xd800 && c <= 0xdbff) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        out += text[i]! + text[i + 1]!;
        i++;
      } else out += `%u${c.toString(16)}`;
    } else if (c >= 0xdc00 && c <= 0xdfff) out += `%u${c.toString(16)}`;
    else out += text[i]!;
  }
  return out;
}

/** True when `text` holds no lone surrogate (so it survives a round trip through UTF-8). */
export function isWellFormed(text: string): boolean {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
}

/**
 * Frames a JSON header and byte segments as one value: `[format][u32 header length][header
 * JSON][segments…]`. The header carries the segment lengths (`s`).
 */
export function frame(header: object, segments: Uint8Array[]): Uint8Array {
  const head = encoder.encode(JSON.stringify({ ...header, s: segments.map((s) => s.length) }));
  let size = 5 + head.length;
  for (const s of segments) size += s.length;
  const out = new Uint8Array(size);
  out[0] = RECORD_FORMAT;
  new DataView(out.buffer).setUint32(1, head.length);
  out.set(head, 5);
  let at = 5 + head.length;
  for (const s of segments) {
    out.set(s, at);
    at += s.length;
  }
  return out;
}

/** A framed value taken apart: its header (still unchecked) and its segments. */
export interface Unframed {
  header: Record<string, unknown>;
  segments: Uint8Array[];
}

/**
 * Takes a value made by {@link frame} apart.
 *
 * @throws BatonError `INVALID_STATE` when it was written by a newer format, `INTEGRITY`
 *   when it is not a framed record at all.
 */
export function unframe(value: unknown, what: string): Unframed {
  if (!(value instanceof Uint8Array) || value.length < 5) throw damaged(what);
  if (value[0]! > RECORD_FORMAT) throw newerFormat(what, value[0]!);
  if (value[0]! < 1) throw damaged(what);
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const headLength = view.getUint32(1);
  if (5 + headLength > value.length) throw damaged(what);
  let header: unknown;
  try {
    header = JSON.parse(decoder.decode(value.subarray(5, 5 + headLength)));
  } catch {
    throw damaged(what);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw damaged(what);
  const lengths = (header as { s?: unknown }).s;
  if (!Array.isArray(lengths) || !lengths.every((n) => Number.isSafeInteger(n) && n >= 0)) {
    throw damaged(what);
  }
  const segments: Uint8Array[] = [];
  let at = 5 + headLength;
  for (const n of lengths as number[]) {
    if (at + n > value.length) throw damaged(what);
    segments.push(value.subarray(at, at + n));
    at += n;
  }
  return { header: header as Record<string, unknown>, segments };
}

/** The error for a record a newer `@baton/langgraph` wrote. */
export function newerFormat(what: string, format: number): BatonError {
  return new BatonError(
    ErrorCode.INVALID_STATE,
    `${what} was written by a newer @baton/langgraph (record format ${format}; this version reads up to ${RECORD_FORMAT}). Upgrade @baton/langgraph to read it; nothing was changed.`,
    { details: { format, supported: RECORD_FORMAT } },
  );
}

/** The error for a record that is not one this library wrote. */
export function damaged(what: string): BatonError {
  return new BatonError(
    ErrorCode.INTEGRITY,
    `${what} is not a record @baton/langgraph wrote (damaged, or written by something else under its keys). Delete the thread with deleteThread() or restore the store from a backup.`,
  );
}

/**
 * A JSON array of `items`, each given as its text or, for an array kept in runs, as the
 * texts of its runs (each its elements joined by commas): made in one copy.
 */
export function joinRuns(items: readonly (Uint8Array | readonly Uint8Array[])[]): Uint8Array {
  const sizeOf = (list: readonly (Uint8Array | readonly Uint8Array[])[]): number => {
    let size = 2 + Math.max(0, list.length - 1);
    for (const item of list) size += item instanceof Uint8Array ? item.length : sizeOf(item);
    return size;
  };
  const out = new Uint8Array(sizeOf(items));
  let at = 0;
  const write = (list: readonly (Uint8Array | readonly Uint8Array[])[]) => {
    out[at++] = 0x5b;
    list.forEach((item, i) => {
      if (i > 0) out[at++] = 0x2c;
      if (item instanceof Uint8Array) {
        out.set(item, at);
        at += item.length;
      } else write(item);
    });
    out[at++] = 0x5d;
  };
  write(items);
  return out;
}

/**
 * The texts of the `count` top-level elements of `bytes`, the JSON text a serializer made
 * of an array of `count` values, as views of it (`undefined` when fewer are found). Only
 * the elements before the last are scanned (the last is the rest): the longest goes last.
 */
export function arrayElements(bytes: Uint8Array, count: number): Uint8Array[] | undefined {
  const end = bytes.length - 1;
  if (count < 1 || bytes[0] !== 0x5b || bytes[end] !== 0x5d) return undefined;
  const out: Uint8Array[] = [];
  let start = 1;
  let depth = 0;
  let inString = false;
  for (let i = 1; i < end && out.length < count - 1; i++) {
    const b = bytes[i];
    if (inString) {
      if (b === 0x5c) i++;
      else if (b === 0x22) inString = false;
    } else if (b === 0x22) inString = true;
    else if (b === 0x5b || b === 0x7b) depth++;
    else if (b === 0x5d || b === 0x7d) depth--;
    else if (b === 0x2c && depth === 0) {
      out.push(bytes.subarray(start, i));
      start = i + 1;
    }
  }
  if (out.length !== count - 1 || start >= end) return undefined;
  out.push(bytes.subarray(start, end));
  return out;
}

const NodeBuffer = (globalThis as { Buffer?: { compare(a: Uint8Array, b: Uint8Array): number } })
  .Buffer;

/** True when `a` and `b` hold the same bytes (a memcmp on Node, a loop elsewhere). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  if (NodeBuffer) return NodeBuffer.compare(a, b) === 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A Baton `Store` as the saver and the store take it: what matters is its `kv` area. */
export const storeSchema = z.custom<Store>(
  (v) =>
    typeof v === 'object' &&
    v !== null &&
    typeof (v as Store).kv === 'object' &&
    (v as Store).kv !== null &&
    ['get', 'getMany', 'put', 'delete', 'list'].every(
      (m) => typeof (v as unknown as { kv: Record<string, unknown> }).kv[m] === 'function',
    ),
  { message: 'must be a Baton Store (an object with a kv area: get, getMany, put, delete, list)' },
);

/**
 * Equality of JSON-like values by value (key order aside): how metadata and search filters
 * compare, like the SQL savers.
 */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) =>
    sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
  );
}
