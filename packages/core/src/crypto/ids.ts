import { toBase64url } from './encoding.js';
import { sha256b64 } from './hash.js';

/** A random id with a readable prefix: `ev_`, `id_`, `gr_`, `ws_` + 128 random bits. */
export function randomId(prefix: string): string {
  if (poolAt + 16 > pool.length) {
    globalThis.crypto.getRandomValues(pool);
    poolAt = 0;
  }
  const bytes = pool.subarray(poolAt, poolAt + 16);
  poolAt += 16;
  return `${prefix}_${toBase64url(bytes)}`;
}

// Random bytes drawn in bulk: one getRandomValues call per 256 ids instead of one per id.
const pool = new Uint8Array(4096);
let poolAt = pool.length;

/**
 * An id derived from parts (an idempotency key and its context), so a retried command
 * makes the same ids and is recognised as the same command.
 */
export function derivedId(prefix: string, parts: readonly string[]): string {
  return `${prefix}_${sha256b64(parts.join('\u0000')).slice(0, 22)}`;
}
