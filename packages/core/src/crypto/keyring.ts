import { badArgument } from './arguments.js';
import { cryptoKeySigner, didKeyOf, generateEd25519, type Signer } from './keys.js';

/**
 * Where private keys live. Private keys never enter the event store: a process holds only
 * the keys its keyring gives it, so an agent process handed only its own key cannot sign
 * as its owner.
 *
 * @remarks
 * Built in: {@link MemoryKeyring} (this process only) and, on Node, `KeyDirectory` from
 * `@baton/core/node` (one 0600 file per identity). Apps that hold keys elsewhere (an HSM,
 * a browser's non-extractable IndexedDB keys) implement this interface, or hand a
 * {@link Signer} straight to `workspace.as(id, { signer })`.
 */
export interface Keyring {
  /**
   * Creates and keeps a new key for `identity` and returns its public `did:key`. Core calls
   * it for the owners `bootstrap` makes, for `rotateKey`, and for `identities.create`
   * without `key` — which, with any keyring but a {@link MemoryKeyring}, it does only when
   * the call says `generateKey: true`: whoever opens this keyring can sign as the new identity.
   */
  generate(identity: string): Promise<string>;
  /**
   * A signer for `identity`'s key `publicKey` — or, without `publicKey`, its newest key —
   * or `undefined` when this keyring does not hold it.
   */
  signer(identity: string, publicKey?: string): Promise<Signer | undefined>;
  /**
   * Forgets a key {@link Keyring.generate} made for a command that was then refused, so a
   * refused call leaves nothing behind. Optional: a keyring without it keeps the unused key.
   */
  discard?(identity: string, publicKey: string): Promise<void>;
}

/** Options for {@link MemoryKeyring}. */
export interface MemoryKeyringOptions {
  /**
   * Make private keys extractable (so they can be copied elsewhere). Defaults to `false`:
   * WebCrypto keeps them non-extractable.
   */
  extractable?: boolean;
}

/** A {@link Keyring} that keeps keys in this process's memory and forgets them on exit. */
export class MemoryKeyring implements Keyring {
  readonly #keys = new Map<string, Signer[]>();
  readonly #extractable: boolean;

  /** @throws BatonError `VALIDATION` when `options` is not an object or `extractable` not a boolean. */
  constructor(options: MemoryKeyringOptions = {}) {
    if (typeof options !== 'object' || options === null || Array.isArray(options))
      throw badArgument('new MemoryKeyring', 'options', 'an object ({ extractable? })', options);
    const { extractable = false } = options;
    if (typeof extractable !== 'boolean')
      throw badArgument('new MemoryKeyring', 'options.extractable', 'a boolean', extractable);
    this.#extractable = extractable;
  }

  async generate(identity: string): Promise<string> {
    const pair = await generateEd25519(this.#extractable);
    const did = await didKeyOf(pair.publicKey);
    this.add(identity, cryptoKeySigner(pair.privateKey, did));
    return did;
  }

  /**
   * Keeps an existing signer for `identity` (e.g. one made elsewhere).
   *
   * @throws BatonError `VALIDATION` when `identity` is not a string or `signer` not a
   *   {@link Signer} (a `publicKey` string and a `sign` function).
   */
  add(identity: string, signer: Signer): void {
    if (typeof identity !== 'string')
      throw badArgument('MemoryKeyring.add', 'identity', 'an identity id (a string)', identity);
    if (
      typeof signer !== 'object' ||
      signer === null ||
      typeof signer.publicKey !== 'string' ||
      typeof signer.sign !== 'function'
    )
      throw badArgument(
        'MemoryKeyring.add',
        'signer',
        'a Signer ({ publicKey: string, sign(data) })',
        signer,
      );
    const list = this.#keys.get(identity) ?? [];
    list.push(signer);
    this.#keys.set(identity, list);
  }

  async signer(identity: string, publicKey?: string): Promise<Signer | undefined> {
    const list = this.#keys.get(identity);
    if (!list) return undefined;
    return publicKey === undefined ? list.at(-1) : list.find((s) => s.publicKey === publicKey);
  }

  async discard(identity: string, publicKey: string): Promise<void> {
    const list = (this.#keys.get(identity) ?? []).filter((s) => s.publicKey !== publicKey);
    if (list.length > 0) this.#keys.set(identity, list);
    else this.#keys.delete(identity);
  }
}
