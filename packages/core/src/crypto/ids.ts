import { customAlphabet } from 'nanoid';
import { sha256b64 } from './hash.js';

/** Crockford's base32: digits then capitals, so that ids compare in the order they were made. */
const BASE32 = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** 16 random base32 characters: 80 bits. */
const randomPart = customAlphabet(BASE32, 16);
/** 8 random base32 characters: the step (40 bits) from one id to the next within a millisecond. */
const randomStep = customAlphabet(BASE32, 8);

/**
 * A fresh id with a readable prefix: `ev_`, `id_`, `gr_`, `ws_` … followed by 26 base32
 * characters — 48 bits of the clock in milliseconds, then 80 bits that are random for the
 * first id of each millisecond and grow by a random step (1 to 2⁴⁰) from there.
 *
 * @remarks
 * Ids made later sort later (within one process, strictly), so a store's index on ids
 * grows at its end instead of at random places — which halves the cost of an SQLite
 * append — and an id tells roughly when it was made. 80 random bits per millisecond keep
 * ids from different processes apart; the random step keeps the ids of one millisecond apart
 * in more than their last character, so their short forms (unique prefixes) stay short.
 */
export function randomId(prefix: string): string {
  const now = Date.now();
  const next = now > lastMs ? undefined : plusStep(lastRandom, randomStep());
  if (next !== undefined) lastRandom = next;
  else {
    // A new millisecond — or, when the last one's bits ran out, the one after it (the
    // clock stepping back does not move ids back either).
    lastMs = Math.max(now, lastMs + 1);
    lastRandom = randomPart();
  }
  return `${prefix}_${clockText(lastMs)}${lastRandom}`;
}

/** A time in ms as 10 base32 characters (50 bits): the high 25 bits, then the low 25. */
function clockText(ms: number): string {
  // Two halves, so bit operations (on 32 bits) can split them.
  const high = Math.floor(ms / 2 ** 25);
  const low = ms % 2 ** 25;
  let out = '';
  for (let shift = 20; shift >= 0; shift -= 5) out += BASE32[(high >>> shift) & 31];
  for (let shift = 20; shift >= 0; shift -= 5) out += BASE32[(low >>> shift) & 31];
  return out;
}

/** The millisecond of the last id made, and its random part. */
let lastMs = 0;
let lastRandom = '';

/** `digits` + `step` + 1 in base32, as long as `digits`; `undefined` when it does not fit. */
function plusStep(digits: string, step: string): string | undefined {
  let out = '';
  let carry = 1;
  for (let i = digits.length - 1, j = step.length - 1; i >= 0; i--, j--) {
    const sum = BASE32.indexOf(digits[i]!) + (j >= 0 ? BASE32.indexOf(step[j]!) : 0) + carry;
    out = BASE32[sum % 32] + out;
    carry = sum >= 32 ? 1 : 0;
  }
  return carry ? undefined : out;
}

/**
 * An id derived from parts (an idempotency key and its context), so a retried command
 * makes the same ids and is recognised as the same command.
 */
export function derivedId(prefix: string, parts: readonly string[]): string {
  return `${prefix}_${sha256b64(parts.join('\u0000')).slice(0, 22)}`;
}
