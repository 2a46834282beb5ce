import type { ViewTx } from '../auth/view.js';
import { BatonError, ErrorCode, isBatonError, storeError } from '../errors.js';
import type { Checkpoint } from '../log/checkpoint.js';
import type { BatonEvent, Head, SignedEvent } from '../log/event.js';
import { ProjectionOverlay, type StateReader } from '../log/eventTypes.js';
import { stateReader } from '../log/verifier.js';
import type { Logger } from '../logger.js';
import type { BlobWrite, ProjectionWrite } from '../store/store.js';
import { storeCall } from '../workspace/storeCall.js';
import type { WorkspaceEvents } from '../workspace/workspaceEvents.js';
import type { Batch, CommitParts, Outcome } from './batch.js';
import { commandBatch } from './commandBatch.js';
import type { CommitRequest } from './draft.js';
import { ingestedBatch } from './ingestedBatch.js';
import { rebuiltBatch } from './rebuiltBatch.js';
import { submittedBatch } from './submittedBatch.js';

/** How a write goes when it loses the race for the log head. */
interface RunOptions {
  /**
   * Whether to catch up and run the attempt again (up to the workspace's `maxRetries`, then
   * `CONFLICT` naming the attempts), or throw the lost race's `CONFLICT` at once (events
   * chained elsewhere, which continue one head only). Defaults to `true`.
   */
  retry?: boolean;
  /** What a store failure names. Defaults to `'append'`. */
  what?: string;
  /**
   * Whose grants' tags to load before the attempt (see `ViewSync.catchUp`): a command loads
   * its actor's, and when it is refused (`FORBIDDEN`, `APPROVAL_REQUIRED`) while tags are
   * still unloaded — a decision for someone else, a recipient say — every tag, then runs
   * again. Defaults to `'all'`.
   */
  tagsFor?: readonly string[] | 'all';
}

/**
 * The write path, the one way anything is appended to the log: catch up → run the attempt
 * against the caught-up view (plan, admit, sign, chain: see the batch builders) → check the
 * state rules and make the rows → append with `expectedHead`. On a lost race it catches up
 * and runs the attempt again. Commands, `submit`, `ingest`/`import`, checkpoints and
 * `rebuildProjections` all go through {@link CommitPipeline.run}.
 */
export class CommitPipeline {
  readonly #parts: CommitParts;
  readonly #events: WorkspaceEvents;
  readonly #logger: Logger;
  readonly #maxRetries: number;

  constructor(
    parts: CommitParts & { events: WorkspaceEvents; logger: Logger; maxRetries: number },
  ) {
    this.#parts = parts;
    this.#events = parts.events;
    this.#logger = parts.logger;
    this.#maxRetries = parts.maxRetries;
  }

  /** A command's events (see {@link commandBatch}). */
  commit(req: CommitRequest, bootstrapWs?: string): Promise<BatonEvent[]> {
    const before = { sigs: new Map<string, string>() };
    return this.run((tx, head) => commandBatch(this.#parts, req, tx, head, bootstrapWs, before), {
      tagsFor: [req.actor],
    });
  }

  /** Events an outside party signed (see {@link submittedBatch}). */
  submit(list: readonly SignedEvent[]): Promise<BatonEvent[]> {
    return this.run((tx, head) => submittedBatch(this.#parts, list, tx, head));
  }

  /** Events committed elsewhere, unchanged (see {@link ingestedBatch}); returns the new head. */
  ingest(list: readonly BatonEvent[], blobs: BlobWrite[], checkpoint?: Checkpoint): Promise<Head> {
    return this.run((tx) => ingestedBatch(this.#parts, list, blobs, tx, checkpoint), {
      retry: false,
    });
  }

  /** Every projection row, rebuilt from the log (see {@link rebuiltBatch}). */
  async rebuild(): Promise<void> {
    await this.run((_tx, head) => rebuiltBatch(this.#parts, head), {
      what: 'rebuildProjections',
    });
  }

  /**
   * The retry loop: runs `attempt` against a fresh transaction over the view caught up to
   * the store's head, and appends the batch it returns with that head expected; when the
   * head moved meanwhile, catches up and runs it again.
   */
  async run<T>(
    attempt: (tx: ViewTx, head: Head) => Promise<Outcome<T>>,
    options: RunOptions = {},
  ): Promise<T> {
    const sync = this.#parts.sync;
    let tagsFor = options.tagsFor ?? 'all';
    for (let n = 0; ; n++) {
      // The head the catch-up reached is the one the append expects.
      const head = await sync.catchUp(tagsFor);
      if (head.seq !== sync.view.seq) continue;
      const tx = sync.view.begin();
      let out: Outcome<T>;
      try {
        out = await attempt(tx, head);
      } catch (err) {
        // Refused while some tag's artifacts are not loaded: maybe for want of them (a
        // decision for another identity). Nothing was written; load every tag and go again.
        const refused =
          isBatonError(err, ErrorCode.FORBIDDEN) || isBatonError(err, ErrorCode.APPROVAL_REQUIRED);
        if (!refused || tagsFor === 'all' || sync.view.unloadedTags.size === 0) throw err;
        tagsFor = 'all';
        n--;
        continue;
      }
      if ('done' in out) return out.done;
      if ('moved' in out) continue;
      const lost = await this.#append(out.write, tx, head, options.what ?? 'append');
      if (lost) {
        if (options.retry === false) throw lost.error;
        if (n >= this.#maxRetries) {
          throw new BatonError(
            ErrorCode.CONFLICT,
            `Gave up after ${n + 1} attempts: other writers kept moving the log head. Retry later.`,
            { cause: lost.error },
          );
        }
        this.#events.emit('conflictRetry', { attempt: n + 1, expected: head, actual: lost.actual });
        this.#logger.debug('append lost the race for the head; retrying', { attempt: n + 1 });
        continue;
      }
      tx.commit();
      sync.committed(out.write.events);
      if (out.write.events.length > 0) {
        this.#logger.debug('appended', {
          seq: out.write.events.at(-1)?.seq,
          count: out.write.events.length,
        });
        this.#events.emit('commit', out.write.events);
      }
      return out.result;
    }
  }

  /**
   * Checks the batch's state rules, and appends it with its rows expecting `head`. Returns
   * the lost race when the head moved (`actual`, and the `CONFLICT` to throw).
   */
  async #append(
    batch: Batch,
    tx: ViewTx,
    head: Head,
    what: string,
  ): Promise<{ actual: Head; error: BatonError } | undefined> {
    const { store } = this.#parts;
    let projected: ProjectionWrite[];
    try {
      projected = await this.#project(batch, tx);
    } catch (err) {
      // State rules read the rows the store holds now: when another writer moved the head
      // meanwhile, they judged a later state than the one this batch follows — a lost race.
      const now = await storeCall('head', () => store.head());
      if (now.seq === head.seq && now.hash === head.hash) throw err;
      const error = new BatonError(
        ErrorCode.CONFLICT,
        `The log moved (to seq ${now.seq}) while these events were checked against seq ${head.seq}: they no longer continue it. Nothing was written.`,
        { cause: err },
      );
      return { actual: now, error };
    }
    const projections = [
      ...tx.projectionWrites(),
      ...streamWrites(batch.events),
      ...projected,
      ...(batch.projections ?? []),
    ];
    try {
      await store.append({
        events: batch.events,
        expectedHead: head,
        projections,
        blobs: batch.blobs,
      });
      return undefined;
    } catch (err) {
      if (!isBatonError(err, ErrorCode.CONFLICT)) throw storeError(what, err);
      return { actual: (err as { head?: Head }).head ?? head, error: err };
    }
  }

  /**
   * The store-held projection rows a batch changes, each event seeing the ones before it —
   * after its state rules passed against those rows (see `EventTypeDef.admitState`).
   */
  async #project(batch: Batch, view: ViewTx): Promise<ProjectionWrite[]> {
    const { store, types } = this.#parts;
    const overlay = new ProjectionOverlay((c, k) => store.get(c, k));
    const given = stateReader(overlay, view, batch.blobs ?? [], (h) => store.blobs.get(h));
    const erasedLater = batch.erasedLater;
    // A body an erasure later in the batch removed (an import) reads as erased, not as missing.
    const state: StateReader = erasedLater
      ? {
          ...given,
          get: async (c, k) =>
            c === 'erasures' && erasedLater.has(k) ? { hash: k } : overlay.get(c, k),
        }
      : given;
    for (const [i, e] of batch.events.entries()) {
      const d = batch.data?.[i] ?? types.dataOf(e);
      await types.admitState(e, state, d);
      for (const w of await types.projectionsOf(e, state, d)) overlay.put(w);
    }
    return [...overlay.writes.values()];
  }
}

/** Each stream's version after the batch. */
function streamWrites(events: readonly BatonEvent[]): ProjectionWrite[] {
  const last = new Map<string, number>();
  for (const e of events) last.set(e.stream, e.version);
  return [...last].map(([stream, version]) => ({
    collection: 'streams',
    key: stream,
    value: { version },
  }));
}
