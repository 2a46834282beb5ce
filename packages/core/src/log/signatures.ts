import type { ViewTx } from '../auth/view.js';
import { utf8 } from '../crypto/encoding.js';
import { verifySignature } from '../crypto/keys.js';
import { parseType, type SignedEvent, type SignedFields, signingText } from './event.js';

/** The keys that may have signed `e` at its position: the actor's current keys (for bootstrap, the first owner's). */
export function signingKeys(e: SignedFields, view: Pick<ViewTx, 'identity'>): string[] {
  if (parseType(e.type).name === 'workspace.bootstrapped') {
    const owners = (e.data as { owners?: { id: string; key: string }[] }).owners ?? [];
    const me = owners.find((o) => o.id === e.actor);
    return me ? [me.key] : [];
  }
  const who = view.identity(e.actor);
  return who ? who.keys.filter((k) => k.until === undefined).map((k) => k.key) : [];
}

/**
 * True when `sig` (base64url) is a valid Ed25519 signature of `bytes` by one of `keys` (each
 * a `did:key`). Never throws: a key or signature that is malformed signs nothing.
 */
export async function signedByAny(
  keys: readonly string[],
  sig: string,
  bytes: Uint8Array,
): Promise<boolean> {
  for (const k of keys) if (await verifySignature(k, sig, bytes).catch(() => false)) return true;
  return false;
}

/**
 * True when one of `keys` signed event `e`: the one signature check of an event, for the
 * events read from the store, handed to `submit`, `ingest` or `import`, and traced by a
 * checkpoint.
 *
 * @param text - The event's {@link signingText}, when the caller has it already. Defaults to
 *   computing it (an event whose signed fields are not plain JSON is signed by no one).
 */
export async function eventSignedByAny(
  e: SignedEvent,
  keys: readonly string[],
  text?: string,
): Promise<boolean> {
  let bytes: Uint8Array;
  try {
    bytes = utf8(text ?? signingText(e));
  } catch {
    return false;
  }
  return signedByAny(keys, e.sig, bytes);
}
