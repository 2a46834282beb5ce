import type { ViewReader } from '../auth/view.js';
import { toBase64url, utf8 } from '../crypto/encoding.js';
import type { Keyring } from '../crypto/keyring.js';
import { type Signer, verifySignature } from '../crypto/keys.js';
import { BatonError, ErrorCode } from '../errors.js';
import { type BatonEvent, signingText } from '../log/event.js';

/**
 * Signs each event with a key registered for its actor among `keys[i]` — `signer` when the
 * caller gave one (it must hold one of them), else one from the keyring — all signatures in
 * flight at once (they do not cover the chain fields). Sets each `sig`.
 *
 * @returns The events' signing texts.
 */
export async function signEvents(
  events: readonly BatonEvent[],
  keys: readonly string[][],
  keyring: Keyring,
  view: ViewReader,
  signer?: Signer,
): Promise<string[]> {
  return Promise.all(
    events.map(async (e, i) => {
      const by = await signerFor(e.actor, keys[i]!, keyring, view, signer);
      const text = signingText(e);
      e.sig = toBase64url(await by.sign(utf8(text)));
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

/** Whether `sig` over `bytes` verifies with one of `keys` (a malformed key or signature does not). */
export async function signedByOneOf(
  keys: readonly string[],
  sig: string,
  bytes: Uint8Array,
): Promise<boolean> {
  for (const k of keys) if (await verifySignature(k, sig, bytes).catch(() => false)) return true;
  return false;
}
