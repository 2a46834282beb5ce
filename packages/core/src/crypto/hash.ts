import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { toBase64url, utf8 } from './encoding.js';

/**
 * SHA-256, synchronously.
 *
 * @remarks
 * Synchronous on purpose: `crypto.subtle.digest` is async, costs tens of microseconds of
 * scheduling per call, and cannot run inside a synchronous SQLite or IndexedDB transaction.
 */
export function sha256(data: Uint8Array | string): Uint8Array {
  return nobleSha256(typeof data === 'string' ? utf8(data) : data);
}

/** SHA-256 as unpadded base64url: the form every hash in Baton takes. */
export function sha256b64(data: Uint8Array | string): string {
  return toBase64url(sha256(data));
}
