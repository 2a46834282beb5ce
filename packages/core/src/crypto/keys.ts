import { BatonError, ErrorCode } from '../errors.js';
import { badArgument, describeValue, isBytes } from './arguments.js';
import { base58btc, bytesEqual, fromBase64url, toBase64url } from './encoding.js';

/** Something that signs bytes with one Ed25519 key. Apps that hold their own keys implement it. */
export interface Signer {
  /** The public key, as a `did:key:z6Mk…` string. */
  readonly publicKey: string;
  /**
   * An Ed25519 signature (64 bytes) over `data`.
   *
   * @param data - The bytes to sign. On Node they may be a view into a larger, shared
   *   buffer (Node's Buffer pool): read `data` itself, never `data.buffer` whole, and copy
   *   it before keeping it past the call or transferring it to a worker.
   */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

// The multicodec prefix of an Ed25519 public key (0xed, varint-encoded) in did:key.
const ED25519_PUB = new Uint8Array([0xed, 0x01]);

/**
 * Encodings of the small-order points of edwards25519 (orders 1, 2, 4 and 8, with their
 * non-canonical forms). A key equal to one of them signs "for" any message, so such keys
 * are refused at registration. The test suite recomputes that each one has small order.
 */
const SMALL_ORDER_POINTS = [
  '0100000000000000000000000000000000000000000000000000000000000000',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0000000000000000000000000000000000000000000000000000000000000080',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
  '0100000000000000000000000000000000000000000000000000000000000080',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
].map(hexToBytes);

function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** @internal The small-order encodings, for the test that recomputes them. */
export const smallOrderPoints: readonly Uint8Array[] = SMALL_ORDER_POINTS;

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s) {
    throw new BatonError(
      ErrorCode.INTEGRITY,
      'WebCrypto (globalThis.crypto.subtle) is not available. Baton needs Node >= 20.19 or an evergreen browser.',
    );
  }
  return s;
}

/**
 * `did:key` form of a raw 32-byte Ed25519 public key.
 *
 * @throws BatonError `VALIDATION` when `raw` is not a `Uint8Array` of 32 bytes.
 */
export function didKeyFromRaw(raw: Uint8Array): string {
  if (!isBytes(raw) || raw.length !== 32)
    throw badArgument(
      'didKeyFromRaw',
      'raw',
      'a raw Ed25519 public key: a Uint8Array of 32 bytes',
      raw,
    );
  const bytes = new Uint8Array(34);
  bytes.set(ED25519_PUB, 0);
  bytes.set(raw, 2);
  return `did:key:z${base58btc.encode(bytes)}`;
}

/**
 * The raw 32-byte Ed25519 key inside a `did:key`.
 *
 * @throws BatonError `VALIDATION` when the string is not an Ed25519 `did:key`, or the key
 * is a small-order point.
 */
export function rawFromDidKey(did: string): Uint8Array {
  return parseDidKey(did, 'rawFromDidKey');
}

/** {@link rawFromDidKey}, naming `fn` as the function refusing `did`. */
function parseDidKey(did: string, fn: string): Uint8Array {
  const refuse = (problem: string, cause?: unknown) =>
    new BatonError(
      ErrorCode.VALIDATION,
      `${fn}: \`did\` ${problem} (got ${describeValue(did)}). Pass a did:key:z6Mk… string, as Identity.key or didKeyFromRaw gives.`,
      { cause, details: { function: fn, field: 'did' } },
    );
  if (typeof did !== 'string' || !did.startsWith('did:key:z'))
    throw refuse('must be an Ed25519 did:key string');
  let bytes: Uint8Array;
  try {
    bytes = base58btc.decode(did.slice('did:key:z'.length));
  } catch (cause) {
    throw refuse('is not valid base58btc after did:key:z', cause);
  }
  if (bytes.length !== 34 || bytes[0] !== ED25519_PUB[0] || bytes[1] !== ED25519_PUB[1])
    throw refuse('is not an Ed25519 did:key');
  const raw = bytes.slice(2);
  if (SMALL_ORDER_POINTS.some((p) => bytesEqual(p, raw)))
    throw refuse('is a small-order point and cannot be an identity key');
  return raw;
}

/**
 * A new Ed25519 key pair from the platform's WebCrypto.
 *
 * @param extractable - Whether the private key may be exported. Defaults to `false`.
 * @throws BatonError `VALIDATION` when `extractable` is not a boolean.
 */
export async function generateEd25519(extractable = false): Promise<CryptoKeyPair> {
  if (typeof extractable !== 'boolean')
    throw badArgument('generateEd25519', 'extractable', 'a boolean', extractable);
  return (await subtle().generateKey({ name: 'Ed25519' }, extractable, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
}

/** True for a WebCrypto key of this realm (where `CryptoKey` is global, as on Node ≥ 20 and in browsers). */
function isCryptoKey(v: unknown, type: KeyType): v is CryptoKey {
  const C = (globalThis as { CryptoKey?: abstract new () => CryptoKey }).CryptoKey;
  if (typeof v !== 'object' || v === null) return false;
  if (C && !(v instanceof C)) return false;
  const k = v as Partial<CryptoKey>;
  return k.type === type && k.algorithm?.name === 'Ed25519';
}

/**
 * The `did:key` of a WebCrypto Ed25519 public key.
 *
 * @throws BatonError `VALIDATION` (as a rejection) when `publicKey` is not an Ed25519 public `CryptoKey`.
 */
export async function didKeyOf(publicKey: CryptoKey): Promise<string> {
  if (!isCryptoKey(publicKey, 'public'))
    throw badArgument('didKeyOf', 'publicKey', 'an Ed25519 public CryptoKey', publicKey, {
      advice: 'Pass the publicKey of a pair generateEd25519 made.',
    });
  return didKeyFromRaw(new Uint8Array(await subtle().exportKey('raw', publicKey)));
}

/**
 * A {@link Signer} over a WebCrypto private key.
 *
 * @throws BatonError `VALIDATION` when `privateKey` is not an Ed25519 private `CryptoKey` or
 *   `publicKey` not a did:key string; its `sign` rejects with `VALIDATION` when `data` is
 *   not a `Uint8Array`.
 */
export function cryptoKeySigner(privateKey: CryptoKey, publicKey: string): Signer {
  if (!isCryptoKey(privateKey, 'private'))
    throw badArgument('cryptoKeySigner', 'privateKey', 'an Ed25519 private CryptoKey', privateKey, {
      advice: 'Pass the privateKey of a pair generateEd25519 made.',
    });
  parseDidKey(publicKey, 'cryptoKeySigner');
  return {
    publicKey,
    async sign(data) {
      if (!isBytes(data)) throw badArgument('Signer.sign', 'data', 'a Uint8Array', data);
      return new Uint8Array(
        await subtle().sign({ name: 'Ed25519' }, privateKey, data as BufferSource),
      );
    },
  };
}

// Imported verification keys, by did. Importing costs more than verifying a short message.
const verifyKeys = new Map<string, Promise<CryptoKey>>();
const VERIFY_KEY_CACHE = 4096;

function verifyKeyFor(did: string): Promise<CryptoKey> {
  let key = verifyKeys.get(did);
  if (!key) {
    const raw = parseDidKey(did, 'verifySignature');
    key = subtle().importKey('raw', raw as BufferSource, { name: 'Ed25519' }, true, ['verify']);
    if (verifyKeys.size >= VERIFY_KEY_CACHE) verifyKeys.clear();
    verifyKeys.set(did, key);
  }
  return key;
}

/**
 * True when `signature` (base64url) is a valid Ed25519 signature of `data` by `did`; false
 * for a signature that is not one (wrong length, not base64url, by another key).
 *
 * @throws BatonError `VALIDATION` (as a rejection) when `did` is not an Ed25519 `did:key`,
 *   `signature` is not a string or `data` is not a `Uint8Array`.
 */
export async function verifySignature(
  did: string,
  signature: string,
  data: Uint8Array,
): Promise<boolean> {
  if (typeof signature !== 'string')
    throw badArgument('verifySignature', 'signature', 'a base64url string', signature);
  if (!isBytes(data))
    throw badArgument('verifySignature', 'data', 'a Uint8Array (the signed bytes)', data);
  let sig: Uint8Array;
  try {
    sig = fromBase64url(signature);
  } catch {
    return false;
  }
  if (sig.length !== 64) return false;
  const key = await verifyKeyFor(did);
  return subtle().verify({ name: 'Ed25519' }, key, sig as BufferSource, data as BufferSource);
}

/** Signs `data` and returns the signature as base64url. */
export async function signB64(signer: Signer, data: Uint8Array): Promise<string> {
  return toBase64url(await signer.sign(data));
}
