import type { CommitPipeline } from '../commit/pipeline.js';
import type { JsonValue } from '../crypto/canonical.js';
import type { Keyring } from '../crypto/keyring.js';
import { BatonError, ErrorCode } from '../errors.js';
import {
  CHECKPOINT_EVERY,
  type Checkpoint,
  LATEST_CHECKPOINT_KEY,
  makeCheckpoint,
  snapshotKey,
} from '../log/checkpoint.js';
import type { Head } from '../log/event.js';
import type { Store } from '../store/store.js';
import { storeCall } from './storeCall.js';
import type { ViewSync } from './viewSync.js';

/** What {@link Checkpoints} signs with and keeps in. */
export interface CheckpointsParts {
  store: Store;
  keyring: Keyring;
  sync: ViewSync;
  pipeline: CommitPipeline;
  clock: () => number;
}

/**
 * Signed checkpoints of the head, each kept with a snapshot of the authority view (in the
 * store's `kv`): made on request ({@link Checkpoints.make}) and every
 * {@link CHECKPOINT_EVERY} events by `tick()` ({@link Checkpoints.auto}).
 */
export class Checkpoints {
  /** The seq of the newest checkpoint this process trusts or made. */
  seq = 0;
  /**
   * Set when that checkpoint's snapshot is of an older shape (every artifact's tags, see
   * `ViewSync.snapshotOutdated`): {@link Checkpoints.auto} then replaces it at once.
   */
  outdated = false;
  readonly #parts: CheckpointsParts;

  constructor(parts: CheckpointsParts) {
    this.#parts = parts;
  }

  /** A checkpoint of the caught-up head signed by `as` (see `Workspace.checkpoint`), kept. */
  make(as?: string): Promise<Checkpoint> {
    const { pipeline, sync } = this.#parts;
    return pipeline.run<Checkpoint>(async (_tx, head) => {
      if (head.seq === 0) {
        throw new BatonError(
          ErrorCode.INVALID_STATE,
          'An empty workspace has nothing to checkpoint. Bootstrap it first.',
        );
      }
      const made = await this.#sign(head, as);
      if (sync.view.seq !== head.seq) return { moved: true };
      if (!made) {
        throw new BatonError(
          ErrorCode.FORBIDDEN,
          'This process holds the key of no active owner or service identity to sign a checkpoint with. Open the workspace with such a keyring, or pass { as }.',
        );
      }
      await this.#keep(made.checkpoint, made.snapshot);
      return { done: made.checkpoint };
    });
  }

  /**
   * Makes a checkpoint when the log has grown {@link CHECKPOINT_EVERY} events past the newest
   * one this process knows (or at once when that one's snapshot is of an older shape), if
   * it holds an owner's or a service identity's key — so that opening stays as cheap
   * whatever the log's length.
   */
  async auto(): Promise<void> {
    const { sync } = this.#parts;
    const head = sync.seen;
    if (!this.outdated && head.seq - this.seq < CHECKPOINT_EVERY) return;
    const made = await this.#sign(head);
    if (!made || sync.view.seq !== head.seq) return;
    await this.#keep(made.checkpoint, made.snapshot);
  }

  /**
   * A checkpoint of the view at `head` (which the view must be at), signed by `as` or else
   * by the first active owner, then service identity, whose key the keyring holds;
   * `undefined` when it holds none.
   */
  async #sign(
    head: Head,
    as?: string,
  ): Promise<{ checkpoint: Checkpoint; snapshot: string } | undefined> {
    const view = this.#parts.sync.view;
    const candidates = as
      ? [as]
      : [
          ...(view.workspace?.owners ?? []),
          ...[...view.identities.values()]
            .filter((i) => i.kind === 'service' && !i.isOwner)
            .map((i) => i.id),
        ];
    for (const id of candidates) {
      const who = view.identity(id);
      if (!who)
        throw new BatonError(
          ErrorCode.NOT_FOUND,
          `workspace.checkpoint: identity ${id} does not exist.`,
        );
      if (as && !(who.isOwner || who.kind === 'service')) {
        throw new BatonError(
          ErrorCode.FORBIDDEN,
          `Checkpoints are signed by an owner or a service identity; ${who.name} is neither.`,
        );
      }
      if (who.status !== 'active') continue;
      for (const k of who.keys.filter((key) => key.until === undefined)) {
        const signer = await this.#parts.keyring.signer(id, k.key);
        if (!signer) continue;
        const at = new Date(this.#parts.clock()).toISOString();
        return makeCheckpoint(view, head, id, signer, at);
      }
    }
    return undefined;
  }

  /**
   * Keeps a checkpoint's snapshot in the store's kv, and the checkpoint itself as the newest
   * one (what the next open starts from) unless the store keeps a newer one already.
   */
  async #keep(cp: Checkpoint, snapshot: string): Promise<void> {
    const { store } = this.#parts;
    await storeCall('kv.put', () => store.kv.put(snapshotKey(cp.seq), snapshot));
    const kept = (await storeCall('kv.get', () => store.kv.get(LATEST_CHECKPOINT_KEY))) as
      | { seq?: unknown }
      | undefined;
    if (!(typeof kept?.seq === 'number' && kept.seq > cp.seq)) {
      await storeCall('kv.put', () =>
        store.kv.put(LATEST_CHECKPOINT_KEY, { ...cp } as unknown as JsonValue),
      );
    }
    this.seq = Math.max(this.seq, cp.seq);
    this.outdated = false;
  }
}
