import { z } from 'zod';
import { type AuthorityView, snapshotOf, type ViewSnapshot } from '../auth/view.js';
import { canonicalJson } from '../crypto/canonical.js';
import { utf8 } from '../crypto/encoding.js';
import { sha256b64 } from '../crypto/hash.js';
import { type Signer, signB64 } from '../crypto/keys.js';
import type { Head } from './event.js';
import { signedByAny } from './signatures.js';

/**
 * A signed statement that the log had head `{ seq, hash }`. Keep one outside the store:
 * `verify({ from })` then proves the log still extends it — the defence against a
 * truncation or a rewrite by whoever controls the storage, which no hash chain alone
 * detects.
 */
export interface Checkpoint {
  ws: string;
  seq: number;
  hash: string;
  /** When it was made (ISO). */
  at: string;
  /** The owner or service identity that signed it. */
  by: string;
  /** The `did:key` it was signed with. */
  key: string;
  /** SHA-256 (base64url) of the authority-view snapshot kept with it, for `verify({ from })`. */
  view: string;
  /** Ed25519 signature (base64url) over the canonical JSON of the fields above. */
  sig: string;
}

/** Schema of a checkpoint handed back to Baton. */
export const checkpointSchema = z.object({
  ws: z.string().min(1),
  seq: z.number().int().positive(),
  hash: z.string().min(1),
  at: z.string().min(1),
  by: z.string().min(1),
  key: z.string().min(1),
  view: z.string().min(1),
  sig: z.string().min(1),
});

/**
 * The kv key under which the newest checkpoint this workspace made is kept (by
 * `checkpoint()` and by `tick()`): what `Workspace.open` starts from, when it can trust it.
 */
export const LATEST_CHECKPOINT_KEY = 'baton/checkpoints/latest';

/**
 * `tick()` makes a checkpoint on its own once the log has grown this many events past the
 * newest one (when the process holds an owner's or a service identity's key): opening then
 * replays and verifies at most about this many events, whatever the log's length. A
 * checkpoint costs one signature and two kv writes (the snapshot is the authority view's
 * size), never a log event.
 */
export const CHECKPOINT_EVERY = 1_000;

/** The kv key under which the snapshot of checkpoint `seq` is kept. */
export function snapshotKey(seq: number): string {
  return `baton/checkpoints/${String(seq).padStart(12, '0')}`;
}

/** The text a checkpoint's signature covers. */
export function checkpointText(c: Omit<Checkpoint, 'sig'>): string {
  return canonicalJson({
    kind: 'baton.checkpoint@1',
    ws: c.ws,
    seq: c.seq,
    hash: c.hash,
    at: c.at,
    by: c.by,
    key: c.key,
    view: c.view,
  });
}

/** True when checkpoint `cp` is signed by its own `key`, over {@link checkpointText}. */
export async function checkpointSigned(cp: Checkpoint): Promise<boolean> {
  const { sig, ...body } = cp;
  return signedByAny([cp.key], sig, utf8(checkpointText(body)));
}

/** Makes a checkpoint of `view` (which must be at `head`) signed by `signer` as `by`. */
export async function makeCheckpoint(
  view: AuthorityView,
  head: Head,
  by: string,
  signer: Signer,
  at: string,
): Promise<{ checkpoint: Checkpoint; snapshot: string }> {
  const snapshot = canonicalJson(
    snapshotOf(view) as unknown as ViewSnapshot & Record<string, never>,
  );
  const body = {
    ws: view.workspace!.id,
    seq: head.seq,
    hash: head.hash,
    at,
    by,
    key: signer.publicKey,
    view: sha256b64(snapshot),
  };
  const sig = await signB64(signer, utf8(checkpointText(body)));
  return { checkpoint: { ...body, sig }, snapshot };
}
