import {
  type Keyring,
  type SignedEvent,
  type SignedFields,
  signingBytes,
  toBase64url,
} from '@baton/core';

/**
 * `fields` signed with its actor's key from `keyring`: an event as an outside party holding
 * that key would hand it to `ws.submit()`.
 */
export async function signedBy(keyring: Keyring, fields: SignedFields): Promise<SignedEvent> {
  const signer = await keyring.signer(fields.actor);
  if (!signer) throw new Error(`The keyring holds no key for ${fields.actor}.`);
  return { ...fields, sig: toBase64url(await signer.sign(signingBytes(fields))) };
}
