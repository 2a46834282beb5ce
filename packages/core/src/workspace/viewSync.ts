import { loadTags } from '../auth/loadTags.js';
import { AuthorityView, viewFromSnapshot } from '../auth/view.js';
import { BatonError, ErrorCode, isBatonError } from '../errors.js';
import { type BatonEvent, EMPTY_HEAD, type Head } from '../log/event.js';
import type { EventTypes } from '../log/eventTypes.js';
import type { SignatureChecker } from '../log/signatures.js';
import { integrityError, StoredEvents, trustedCheckpoint } from '../log/verifier.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/store.js';
import { storeCall } from './storeCall.js';

// How many events a catch-up verifies and applies together: their signatures are checked in
// parallel, and a batch is applied only when all of it checks out.
export const CATCH_UP_BATCH = 256;

// Past this many streams the remembered versions are forgotten: forgetting only costs a read.
const MAX_REMEMBERED_STREAMS = 50_000;

/**
 * The authority view and the head it reflects, kept in step with the store: built on open
 * (from a trusted checkpoint, or by replaying the log), brought up to the store's head by
 * {@link ViewSync.catchUp}, and moved by the commit pipeline after each append.
 */
export class ViewSync {
  /**
   * The authority view (identities, grants), current as of its `seq`. Built on open from a
   * trusted checkpoint or by replaying the log — never from projection rows — and replaced
   * only there.
   */
  view = new AuthorityView();
  /**
   * The head the view reflects: the seq and hash of the last event applied. What the next
   * event read from the store must link to, and what the store's head must still be when
   * nothing new was committed (a head with the same seq and another hash was replaced).
   */
  seen: Head = EMPTY_HEAD;
  /**
   * True when open started from a snapshot an older version made, which holds tagged
   * artifacts (every artifact's tags, or those of the tags grants name): `tick()` then makes
   * a new checkpoint at once (see `Checkpoints.auto`), so the next open reads none.
   */
  snapshotOutdated = false;
  /** Set by the workspace's close: every later catch-up refuses. */
  closed = false;
  readonly #store: Store;
  readonly #types: EventTypes;
  readonly #logger: Logger;
  readonly #signatures: SignatureChecker | undefined;
  #catchingUp: Promise<void> | undefined;
  /**
   * Stream versions this workspace has seen committed (by itself, or applied on catch-up):
   * facts of the log, so a commit need not read them from the store again.
   */
  readonly #versions = new Map<string, number>();
  /**
   * True while {@link #versions} holds every stream of the log (the view was replayed from
   * seq 1 and the map never cleared): a stream it lacks is then new, at version 0.
   */
  #versionsComplete = true;

  /** @param signatures - How signatures are checked. Defaults to the main thread's WebCrypto. */
  constructor(store: Store, types: EventTypes, logger: Logger, signatures?: SignatureChecker) {
    this.#store = store;
    this.#types = types;
    this.#logger = logger;
    this.#signatures = signatures;
  }

  /**
   * Builds the view: from the newest trusted checkpoint kept in the store (see
   * {@link trustedCheckpoint}), replaying and verifying only the events after it — or, with
   * none, replaying and verifying the whole log. Projection rows are never believed for it:
   * an attacker who can write the store but holds no key cannot change what this process
   * authorizes (the rows' tag index only says where to find the signed events `loadTags`
   * checks). The view then holds the tags grants name, not every artifact's: what open reads
   * grows with the grants and the events since the checkpoint, not with the log. When an event does not verify, the view stays at the last good batch and
   * every call that catches up throws `INTEGRITY` (open itself succeeds, so `verify()` can
   * report).
   *
   * @returns The seq of the checkpoint it started from (0 for none).
   */
  async load(): Promise<number> {
    const head = await storeCall('head', () => this.#store.head());
    if (head.seq === 0) {
      this.view.keepNamedTagsOnly();
      return 0;
    }
    const trusted = await storeCall('read', () => trustedCheckpoint(this.#store, this.#logger));
    if (trusted) {
      this.view = viewFromSnapshot(trusted.snapshot);
      // Any tagged artifact in it: a snapshot made by an older version (this one keeps none).
      this.snapshotOutdated = (trusted.snapshot.tags?.length ?? 0) > 0;
      this.seen = { seq: trusted.checkpoint.seq, hash: trusted.checkpoint.hash };
      // From a checkpoint, the streams before it are not known.
      this.#versionsComplete = false;
    }
    try {
      await this.#replayAfterSeen();
      // Replayed from the first event, the view knows every artifact's tags: keep the named ones.
      if (this.view.tagsComplete) this.view.keepNamedTagsOnly();
      // A tag grant's earlier artifacts are not loaded here: the first call that needs them does.
    } catch (err) {
      if (!isBatonError(err, ErrorCode.INTEGRITY)) throw err;
      this.#logger.error('the log in the store does not verify; this workspace stops before it', {
        error: err.message,
      });
    }
    return trusted?.checkpoint.seq ?? 0;
  }

  /**
   * Brings the view up to the store's head, and returns that head.
   *
   * @param tagsFor - Whose authorization the caller is about to decide: the artifacts of the
   *   unloaded tags their grants name are loaded too (see `AuthorityView.tagsNeededBy`);
   *   `'all'` loads every unloaded tag (what a write needs: admitting it may decide for
   *   others, a recipient, an approver). Defaults to none: `head()` and the like load nothing.
   */
  async catchUp(tagsFor?: readonly string[] | 'all'): Promise<Head> {
    if (this.closed)
      throw new BatonError(ErrorCode.INVALID_STATE, 'This workspace is closed. Open it again.');
    for (;;) {
      while (this.#catchingUp) await this.#catchingUp;
      const head = await storeCall('head', () => this.#store.head());
      const moved = head.seq !== this.view.seq || head.hash !== this.seen.hash;
      if (!moved && this.#tagsToLoad(tagsFor).length === 0) return head;
      // Another catch-up may have started while the head was read: wait for it, then look again.
      if (this.#catchingUp) continue;
      this.#catchingUp = this.#catchUpTo(head, tagsFor).finally(() => {
        this.#catchingUp = undefined;
      });
      await this.#catchingUp;
      return head;
    }
  }

  /** The unloaded tags the view must load for `tagsFor` (see {@link ViewSync.catchUp}). */
  #tagsToLoad(tagsFor: readonly string[] | 'all' | undefined): string[] {
    const view = this.view;
    if (tagsFor === undefined || view.unloadedTags.size === 0) return [];
    if (tagsFor === 'all') return [...view.unloadedTags];
    return [...new Set(tagsFor.flatMap((id) => view.tagsNeededBy(id)))];
  }

  /** The version `stream` is at: as this process saw it committed, else the store's row. */
  async streamVersion(stream: string): Promise<number> {
    const known = this.#knownVersion(stream);
    if (known !== undefined) return known;
    const row = (await this.#store.get('streams', stream)) as { version: number } | undefined;
    return row?.version ?? 0;
  }

  /** Notes events this process appended and applied to the view: the view's head moves to them. */
  committed(events: readonly BatonEvent[]): void {
    const last = events.at(-1);
    if (last && this.view.seq === last.seq) this.seen = { seq: last.seq, hash: last.hash };
    this.#noteVersions(events);
  }

  #knownVersion(stream: string): number | undefined {
    return this.#versions.get(stream) ?? (this.#versionsComplete ? 0 : undefined);
  }

  #noteVersions(events: readonly BatonEvent[]): void {
    for (const e of events) {
      if (this.#versions.size > MAX_REMEMBERED_STREAMS) {
        this.#versions.clear();
        this.#versionsComplete = false;
      }
      this.#versions.set(e.stream, e.version);
    }
  }

  /**
   * Applies the events after the view's head to it, each verified first (see
   * {@link StoredEvents}): linked by hash to the last event this process applied, its hash
   * recomputed, admitted against the view at its position, its signature checked — in
   * batches of {@link CATCH_UP_BATCH}, each applied only when all of it checks out. A failure
   * throws `INTEGRITY` naming the seq; the view stays at the last good batch, so every later
   * call fails the same way until the store is repaired and nothing is built on a forgery.
   */
  async #catchUpTo(head: Head, tagsFor?: readonly string[] | 'all'): Promise<void> {
    const seen = this.seen;
    if (head.seq < this.view.seq) {
      throw new BatonError(
        ErrorCode.INTEGRITY,
        `The store's head (seq ${head.seq}) is behind what this workspace has seen (seq ${this.view.seq}): the log was truncated or replaced. Run workspace.verify() and restore the store from a backup.`,
      );
    }
    if (head.seq === seen.seq && head.hash !== seen.hash) {
      throw new BatonError(
        ErrorCode.INTEGRITY,
        `The store's head at seq ${head.seq} has hash ${head.hash}, but the event this workspace applied at seq ${seen.seq} has hash ${seen.hash}: the event at seq ${head.seq} was replaced in the store. Run workspace.verify() and restore the store from a backup.`,
        { details: { seq: head.seq, reason: 'the head was replaced' } },
      );
    }
    const complete = await this.#replayAfterSeen((s) => this.#knownVersion(s));
    if (complete && this.seen.seq < head.seq) {
      throw new BatonError(
        ErrorCode.INTEGRITY,
        `The store's head is seq ${head.seq}, but its log ends at seq ${this.seen.seq}: events ${this.seen.seq + 1}–${head.seq} are missing. Run workspace.verify() and restore the store from a backup.`,
        { details: { seq: this.seen.seq + 1, reason: 'events are missing' } },
      );
    }
    if (this.seen.seq === head.seq && this.seen.hash !== head.hash) {
      throw new BatonError(
        ErrorCode.INTEGRITY,
        `The store's head at seq ${head.seq} has hash ${head.hash}, but the event read at seq ${head.seq} has hash ${this.seen.hash}. Run workspace.verify().`,
        { details: { seq: head.seq, reason: 'the head does not name the last event' } },
      );
    }
    await this.#loadTags(this.#tagsToLoad(tagsFor));
  }

  /**
   * Loads the artifacts of unloaded tags `tags` into the view, from their signed events (see
   * `loadTags`); a commit of this process meanwhile leaves them to the next catch-up.
   */
  async #loadTags(tags: readonly string[]): Promise<void> {
    if (tags.length === 0) return;
    const tx = this.view.begin();
    await loadTags(this.#store, tx, tags);
    tx.commit();
  }

  /**
   * Replays the events after {@link ViewSync.seen} (see `#replay`). An event
   * authorized by a grant on a tag whose earlier artifacts the view has not loaded does not
   * verify against it: when one does not, the view loads every unloaded tag and replays the
   * rest again — so a tag is loaded on catch-up only when the new events need it, and
   * `INTEGRITY` is thrown only for an event that does not verify with every tag loaded.
   */
  async #replayAfterSeen(versionOf?: (stream: string) => number | undefined): Promise<boolean> {
    const replay = () =>
      this.#replay(this.seen, this.#store.read({ after: this.view.seq }), versionOf);
    if (this.view.unloadedTags.size === 0) return replay();
    try {
      return await replay();
    } catch (err) {
      if (!isBatonError(err, ErrorCode.INTEGRITY)) throw err;
      // The view stays at the last batch that verified; load every tag there, then go on. (A
      // commit of this process meanwhile drops a load: try again.)
      for (let n = 0; n < 3 && this.view.unloadedTags.size > 0; n++)
        await this.#loadTags([...this.view.unloadedTags]);
      if (this.view.unloadedTags.size > 0) throw err;
      return replay();
    }
  }

  /**
   * Verifies and applies `events` (which continue `from`) to the view batch by batch, moving
   * {@link ViewSync.seen} with it; throws `INTEGRITY` at the first event that does not verify.
   * Returns false when it stopped early because a commit of this process moved the view.
   */
  async #replay(
    from: Head,
    events: AsyncIterable<BatonEvent>,
    versionOf?: (stream: string) => number | undefined,
  ): Promise<boolean> {
    const view = this.view;
    const checker = new StoredEvents(this.#types, {
      after: from,
      versionOf,
      unknownTypes: 'signature',
      signatures: this.#signatures,
      // A replay of a long log (open without a checkpoint) would remember every stream.
      forgetAfter: MAX_REMEMBERED_STREAMS,
    });
    let tx = view.begin();
    let batch: BatonEvent[] = [];
    /** Applies the batch once verified; false when the view moved meanwhile (this process committed). */
    const applyBatch = async (): Promise<boolean> => {
      const problem = await checker.flush();
      if (problem) throw integrityError(problem);
      if (batch.length === 0) return true;
      tx.commit();
      // A commit of this process moved the view under the batch: the next catch-up goes on from there.
      if (view.seq !== checker.head.seq) return false;
      this.seen = checker.head;
      // Facts of the log, now verified.
      this.#noteVersions(batch);
      batch = [];
      tx = view.begin();
      return true;
    };
    for await (const e of events) {
      const r = checker.step(e, tx);
      // A signature already queued may be the first problem.
      if ('problem' in r) throw integrityError((await checker.flush()) ?? r.problem);
      // A grant naming a tag for the first time: its earlier artifacts, before the next event.
      if (tx.hasUnloadedTags()) await loadTags(this.#store, tx);
      batch.push(e);
      if (batch.length >= CATCH_UP_BATCH && !(await applyBatch())) return false;
    }
    return applyBatch();
  }
}
