import { sha256b64 } from './hash.js';

/** Crockford's base32: digits then capitals, so that ids compare in the order they were made. */
const BASE32 = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A fresh id with a readable prefix: `ev_`, `id_`, `gr_`, `ws_` … followed by 26 base32
 * characters — 48 bits of the clock in milliseconds, then 80 bits that are random for the
 * first id of each millisecond and count up from there.
 *
 * @remarks
 * Ids made later sort later (within one process, strictly), so a store's index on ids
 * grows at its end instead of at random places — which halves the cost of an SQLite
 * append — and an id tells roughly when it was made. 80 random bits per millisecond keep
 * ids from different processes apart.
 */
export function randomId(prefix: string): string {
  const now = Date.now();
  if (now > lastMs) {
    lastMs = now;
    if (poolAt + 10 > pool.length) {
      globalThis.crypto.getRandomValues(pool);
      poolAt = 0;
    }
    last.set(pool.subarray(poolAt, poolAt + 10));
    poolAt += 10;
  } else {
    // Same millisecond (or the clock stepped back): count up from the last id.
    let i = last.length - 1;
    while (i >= 0 && last[i] === 0xff) last[i--] = 0;
    if (i < 0) lastMs++;
    else last[i]!++;
  }
  if (clockMs !== lastMs) {
    clockMs = lastMs;
    clockText = '';
    for (let shift = 45; shift >= 0; shift -= 5)
      clockText += BASE32[Math.floor(lastMs / 2 ** shift) % 32];
  }
  let out = `${prefix}_${clockText}`;
  // 80 bits = 16 characters of 5 bits, read off the bytes two at a time.
  let bits = 0;
  let acc = 0;
  for (const byte of last) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += BASE32[(acc >>> bits) & 31];
    }
    acc &= (1 << bits) - 1;
  }
  return out;
}

// Random bytes drawn in bulk: one getRandomValues call per 400 milliseconds that make ids.
const pool = new Uint8Array(4096);
let poolAt = pool.length;
/** The millisecond of the last id made, and its 80 low bits. */
let lastMs = 0;
const last = new Uint8Array(10);
/** The clock part of the ids of one millisecond, computed once for it. */
let clockMs = -1;
let clockText = '';

/**
 * An id derived from parts (an idempotency key and its context), so a retried command
 * makes the same ids and is recognised as the same command.
 */
export function derivedId(prefix: string, parts: readonly string[]): string {
  return `${prefix}_${sha256b64(parts.join('\u0000')).slice(0, 22)}`;
}
