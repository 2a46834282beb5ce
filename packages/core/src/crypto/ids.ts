import { customAlphabet } from 'nanoid';
import { sha256b64 } from './hash.js';

/** Crockford's base32: digits then capitals, so that ids compare in the order they were made. */
const BASE32 = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** 16 random base32 characters: 80 bits. */
const randomPart = customAlphabet(BASE32, 16);

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
  const next = now > lastMs ? undefined : countUp(lastRandom);
  if (next !== undefined) lastRandom = next;
  else {
    // A new millisecond — or, when the last one's count ran out, the one after it (the
    // clock stepping back does not move ids back either).
    lastMs = Math.max(now, lastMs + 1);
    lastRandom = randomPart();
  }
  let clock = '';
  for (let shift = 45; shift >= 0; shift -= 5)
    clock += BASE32[Math.floor(lastMs / 2 ** shift) % 32];
  return `${prefix}_${clock}${lastRandom}`;
}

/** The millisecond of the last id made, and its random part. */
let lastMs = 0;
let lastRandom = '';

/** `digits` plus one, in base32 of the same length; `undefined` when it is all `Z`s. */
function countUp(digits: string): string | undefined {
  let i = digits.length - 1;
  while (i >= 0 && digits[i] === 'Z') i--;
  if (i < 0) return undefined;
  const up = BASE32[BASE32.indexOf(digits[i]!) + 1]!;
  return digits.slice(0, i) + up + '0'.repeat(digits.length - 1 - i);
}

/**
 * An id derived from parts (an idempotency key and its context), so a retried command
 * makes the same ids and is recognised as the same command.
 */
export function derivedId(prefix: string, parts: readonly string[]): string {
  return `${prefix}_${sha256b64(parts.join('\u0000')).slice(0, 22)}`;
}
