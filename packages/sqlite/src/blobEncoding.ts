import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { BatonError, ErrorCode } from '@baton/core';

/**
 * How a body's bytes are kept in `baton_blobs.encoding`: `null` as they are, `'deflate-raw'`
 * compressed with raw DEFLATE (RFC 1951). The body's hash is always over its own bytes.
 */
export type BlobEncoding = null | 'deflate-raw';

/** Bodies shorter than this are kept as they are: DEFLATE saves too little on them. */
const MIN_COMPRESSED = 64;

/**
 * Above this size a body is compressed at zlib's fastest level, below it at its default.
 *
 * @remarks
 * Measured on the bench's 1 MB text (bench 7A): the default level (6) takes it to 53 % of
 * its size in ~40 ms, level 1 to 62 % in ~12 ms; the copy of a large text an edit sometimes
 * stores should not cost more than the edit. Small bodies (most of them: a change of a line
 * or two) take well under a millisecond at either.
 */
const FAST_ABOVE = 256 * 1024;

/** A body as `baton_blobs` keeps it: compressed when that saves a tenth or more. */
export function encodeBlob(bytes: Uint8Array): { stored: Uint8Array; encoding: BlobEncoding } {
  if (bytes.length < MIN_COMPRESSED) return { stored: bytes, encoding: null };
  const packed = deflateRawSync(bytes, { level: bytes.length > FAST_ABOVE ? 1 : 6 });
  return packed.length <= bytes.length * 0.9
    ? { stored: packed, encoding: 'deflate-raw' }
    : { stored: bytes, encoding: null };
}

/** A body's own bytes from what `baton_blobs` keeps, as a plain Uint8Array (not a Buffer). */
export function decodeBlob(stored: Uint8Array, encoding: string | null, hash: string): Uint8Array {
  if (encoding === null) return new Uint8Array(stored);
  if (encoding === 'deflate-raw') return new Uint8Array(inflateRawSync(stored));
  throw new BatonError(
    ErrorCode.STORE,
    `Body ${hash} is kept with the encoding "${encoding}", which this @baton/sqlite does not know. The file was changed by something else than Baton; restore it from a backup.`,
    { details: { hash, encoding } },
  );
}
