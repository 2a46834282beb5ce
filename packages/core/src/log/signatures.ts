import type { ViewTx } from '../auth/view.js';
import { utf8 } from '../crypto/encoding.js';
import { verifySignature } from '../crypto/keys.js';
import { acquireSignatureWorkers } from '../crypto/signatureWorkers.js';
import type { Logger } from '../logger.js';
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

/** One event's signature to check in a batch: the keys that may have made it, it, and its signing text. */
export interface SignatureCheck {
  keys: readonly string[];
  /** The signature, base64url. */
  sig: string;
  /** The event's {@link signingText}. */
  text: string;
}

/**
 * Checks many events' signatures at once: the one way stored events' signatures are checked
 * (`verify()`, open, catch-up), so each path gets the same answers wherever they are computed.
 */
export interface SignatureChecker {
  /** One boolean per check: whether one of its keys made its signature. Never rejects for a bad one. */
  check(checks: readonly SignatureCheck[]): Promise<boolean[]>;
  /** Lets go of what it holds (its share of the worker threads). Idempotent; later checks run on the main thread. */
  close(): void;
}

/** Signatures checked on this thread through WebCrypto (which spreads them over its own thread pool). */
export const inThreadSignatures: SignatureChecker = {
  check: (checks) => Promise.all(checks.map((c) => signedByAny(c.keys, c.sig, utf8(c.text)))),
  close() {},
};

// Fewer signatures than this stay on the main thread: a worker's round trip (two messages)
// costs about what WebCrypto takes for a few signatures, so a catch-up of one commit gains nothing.
const MIN_WORKER_BATCH = 8;

/**
 * The signature checker of one workspace: on Node (where worker threads exist) and with
 * `workers`, a share of the process's pool of signature threads — one per core, shared by
 * every open workspace, started on the first large batch, never keeping the process alive
 * while idle, and ended when the last workspace holding a share closes it. Elsewhere, or
 * without `workers`, {@link inThreadSignatures}. When a thread fails, the batch it held is
 * checked on the main thread instead (logged once), so the answers never change and nothing
 * waits on a dead thread.
 */
export function signatureChecker(options: { workers: boolean; logger: Logger }): SignatureChecker {
  const lease = options.workers ? acquireSignatureWorkers() : undefined;
  if (!lease) return inThreadSignatures;
  let open = true;
  let warned = false;
  return {
    async check(checks) {
      if (!open || checks.length < MIN_WORKER_BATCH) return inThreadSignatures.check(checks);
      try {
        return await lease.check(checks);
      } catch (err) {
        if (open && !warned) {
          warned = true;
          options.logger.warn(
            'checking signatures on worker threads failed; checking them on the main thread',
            { error: err instanceof Error ? err.message : String(err) },
          );
        }
        return inThreadSignatures.check(checks);
      }
    },
    close() {
      open = false;
      lease.release();
    },
  };
}
