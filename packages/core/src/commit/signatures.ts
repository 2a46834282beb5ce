import type { ViewReader } from '../auth/view.js';
import { toBase64url, utf8 } from '../crypto/encoding.js';
import type { Keyring } from '../crypto/keyring.js';
import type { Signer } from '../crypto/keys.js';
import { BatonError, ErrorCode } from '../errors.js';
import { type BatonEvent, signingText } from '../log/event.js';

/**
 * What the earlier attempts of one command signed: their time, and each signature by the
 * signer's key and the text signed.
 *
 * @remarks Kept (the issue asked to drop it unless it pays for itself): under contention a
 * retry that signs again loses again. On this 2-core machine under load, `crypto.subtle`'s
 * Ed25519 signing (on the thread pool) took 2–15 ms of an attempt of 3–15 ms (planning
 * ≤ 0.3 ms, the append ≤ 0.3 ms); signing every retry again, a command lost 4 races in a
 * row in the LangGraph test of two parallel gated calls, which then ran a tool twice (4 of
 * 5 runs failed; 5 of 5 passed with the signatures reused). `pnpm bench`'s append rows have
 * no contention, so they cannot show it.
 */
export interface SignedBefore {
  /** The first attempt's `at`, kept while it is within 10 s of the clock: unchanged events sign the same text. */
  at?: string;
  readonly sigs: Map<string, string>;
}

/**
 * Signs each event with a key registered for its actor among `keys[i]` — `signer` when the
 * caller gave one (it must hold one of them), else one from the keyring — all signatures in
 * flight at once (they do not cover the chain fields). Sets each `sig`; a text an earlier
 * attempt signed with the same key (in `before`) is not signed again.
 *
 * @returns The events' signing texts.
 */
export async function signEvents(
  events: readonly BatonEvent[],
  keys: readonly string[][],
  keyring: Keyring,
  view: ViewReader,
  signer: Signer | undefined,
  before: SignedBefore,
): Promise<string[]> {
  return Promise.all(
    events.map(async (e, i) => {
      const by = await signerFor(e.actor, keys[i]!, keyring, view, signer);
      // admit() has checked the signed fields are plain JSON (envelope and data).
      const text = signingText(e, false);
      const made = `${by.publicKey}\n${text}`;
      let sig = before.sigs.get(made);
      if (sig === undefined) {
        sig = toBase64url(await by.sign(utf8(text)));
        before.sigs.set(made, sig);
      }
      e.sig = sig;
      return text;
    }),
  );
}

/** The signer for `actor` among `keys`: the given one (which must be one of them), else the keyring's. */
async function signerFor(
  actor: string,
  keys: readonly string[],
  keyring: Keyring,
  view: ViewReader,
  given: Signer | undefined,
): Promise<Signer> {
  const name = view.identity(actor)?.name ?? actor;
  if (given) {
    if (keys.includes(given.publicKey)) return given;
    throw new BatonError(
      ErrorCode.FORBIDDEN,
      `The signer given for ${name} holds a key that is not registered (or was retired) for it.`,
    );
  }
  for (const k of keys) {
    const signer = await keyring.signer(actor, k);
    if (signer) return signer;
  }
  throw new BatonError(
    ErrorCode.FORBIDDEN,
    `This process holds no key for ${name} (${actor}). Open the workspace with a keyring that has it, or pass ws.as(id, { signer }).`,
  );
}
