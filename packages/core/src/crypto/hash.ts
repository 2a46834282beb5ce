import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { badArgument, isBytes } from './arguments.js';
import { toBase64url, utf8 } from './encoding.js';

interface NativeHash {
  update(data: Uint8Array | string): NativeHash;
  digest(): Uint8Array;
  digest(encoding: 'base64url'): string;
}

/**
 * Node's own SHA-256 when the runtime offers it without a static `node:` import (Node ≥
 * 20.16 has `process.getBuiltinModule`), so the core entry still loads in browsers, where
 * the pure-JS hash is used.
 */
const nodeCrypto = (() => {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return proc?.getBuiltinModule?.('node:crypto') as
    | {
        createHash?: (algorithm: 'sha256') => NativeHash;
        /** One-shot hashing (Node ≥ 20.12): no Hash object per call. */
        hash?: (algorithm: 'sha256', data: string | Uint8Array, encoding: 'base64url') => string;
      }
    | undefined;
})();
const nativeCreateHash = nodeCrypto?.createHash;
const nativeHash = nodeCrypto?.hash;

/**
 * SHA-256, synchronously.
 *
 * @remarks
 * Synchronous on purpose: `crypto.subtle.digest` is async, costs tens of microseconds of
 * scheduling per call, and cannot run inside a synchronous SQLite or IndexedDB transaction.
 * On Node it runs natively (several times quicker for the short texts Baton hashes).
 * A string is hashed as its UTF-8 (a lone surrogate as U+FFFD).
 *
 * @throws BatonError `VALIDATION` when `data` is neither a string nor a `Uint8Array`.
 */
export function sha256(data: Uint8Array | string): Uint8Array {
  if (typeof data !== 'string' && !isBytes(data)) throw notHashable('sha256', data);
  if (nativeCreateHash) return new Uint8Array(nativeCreateHash('sha256').update(data).digest());
  return nobleSha256(typeof data === 'string' ? utf8(data) : data);
}

/**
 * SHA-256 as unpadded base64url: the form every hash in Baton takes.
 *
 * @throws BatonError `VALIDATION` when `data` is neither a string nor a `Uint8Array`.
 */
export function sha256b64(data: Uint8Array | string): string {
  if (typeof data !== 'string' && !isBytes(data)) throw notHashable('sha256b64', data);
  if (nativeHash) return nativeHash('sha256', data, 'base64url');
  if (nativeCreateHash) return nativeCreateHash('sha256').update(data).digest('base64url');
  return toBase64url(nobleSha256(typeof data === 'string' ? utf8(data) : data));
}

function notHashable(fn: string, data: unknown) {
  return badArgument(fn, 'data', 'a string or a Uint8Array', data, {
    advice: 'Hash text, or bytes; serialize anything else first (canonicalJson for JSON).',
  });
}
