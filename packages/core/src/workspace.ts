import type { z } from 'zod';
import { Actor, type ActorOptions } from './actor.js';
import type { AuthorityView, Identity } from './auth/view.js';
import type { CommitRequest } from './commit/draft.js';
import { REBUILT_COLLECTIONS } from './commit/rebuiltBatch.js';
import { fromUtf8 } from './crypto/encoding.js';
import { randomId } from './crypto/ids.js';
import type { Keyring } from './crypto/keyring.js';
import { BatonError, ErrorCode } from './errors.js';
import { type Body, erasedText } from './log/body.js';
import type { Checkpoint } from './log/checkpoint.js';
import type { BatonEvent, Head, SignedEvent } from './log/event.js';
import type { EventTypes } from './log/eventTypes.js';
import { type VerifyProgress, type VerifyReport, verifyLog } from './log/verifier.js';
import type { Store } from './store/store.js';
import type { WatchFilter } from './validation.js';
import { idString, parseInput, watchSchema } from './validation.js';
import { type HandoffSpan, handoffSpans } from './workspace/handoffSpans.js';
import { upgradeProjections } from './workspace/projectionUpgrade.js';
import { storeCall } from './workspace/storeCall.js';
import { tick, tickEvery } from './workspace/tick.js';
import { exportLog, importLog } from './workspace/transfer.js';
import { typeFilter, upcastEvent } from './workspace/watcher.js';
import type { TickResult } from './workspace/workspaceEvents.js';
import {
  type BootstrapOptions,
  bootstrapSchema,
  checkpointOptionsSchema,
  ingestSchema,
  optionsSchema,
  submitSchema,
  upcastSchema,
  verifySchema,
  type WorkspaceOptions,
} from './workspace/workspaceOptions.js';
import { bootstrapDraft, type WorkspaceParts, workspaceParts } from './workspace/workspaceParts.js';

export { MAX_SUBMIT_BYTES } from './commit/submittedBatch.js';

export type { WatchFilter } from './validation.js';
export type { TickResult } from './workspace/workspaceEvents.js';
export type {
  BootstrapOptions,
  WorkspaceHooks,
  WorkspaceOptions,
} from './workspace/workspaceOptions.js';

/**
 * A Baton workspace: one signed, hash-chained event log over a {@link Store}, and the
 * handle through which identities act on it (`workspace.as(id)`).
 *
 * @remarks A composition root: the log's parts live in modules named after their job — the
 * commit pipeline (`commit/`), view sync, watching, export/import, checkpoints, `tick` and
 * the notification outbox (`workspace/`, `notify/`).
 *
 * @example
 * ```ts
 * const ws = await Workspace.open();
 * const ada = await ws.bootstrap({ name: 'Ada' });
 * const me = ws.as(ada.id);
 * ```
 */
export class Workspace {
  /** The store this workspace writes to. */
  readonly store: Store;
  /** The keyring this workspace signs with. */
  readonly keyring: Keyring;
  /** @internal */
  readonly _types: EventTypes;
  /** @internal Schemas for json artifacts, by name. */
  readonly _schemas = new Map<string, z.ZodType>();
  readonly #p: WorkspaceParts;

  private constructor(options: WorkspaceOptions) {
    this.#p = workspaceParts(options);
    this.store = this.#p.store;
    this.keyring = this.#p.keyring;
    this._types = this.#p.types;
    for (const [n, schema] of Object.entries(options.schemas ?? {})) this._schemas.set(n, schema);
  }

  /**
   * Opens a workspace on a store (a new in-memory one by default). Builds the authority view
   * from the newest trusted checkpoint kept in the store, verifying and replaying only the
   * events after it — or, with none, verifying and replaying the whole log. It never believes
   * projection rows for authority. When an event does not verify, open still succeeds (so
   * `verify()` can report) but every call that reads the log throws `INTEGRITY`.
   *
   * @remarks
   * From a checkpoint, what open reads follows the work, not the history: the snapshot holds
   * identities, grants, pending approvals and only the artifact tags that `artifact:tag/<tag>`
   * grants name, and at most about {@link CHECKPOINT_EVERY} events follow it when a process
   * holding an owner's or a service identity's key runs `tick()` (on open and every
   * `tickIntervalMs`). Without a checkpoint (a new store, or no such key anywhere) open
   * replays the whole log: that replay is the verification.
   */
  static async open(options: WorkspaceOptions = {}): Promise<Workspace> {
    parseInput(optionsSchema, options, 'Workspace.open');
    const ws = new Workspace(options);
    ws.#p.checkpoints.seq = await ws.#p.sync.load();
    // An outdated snapshot is replaced by the first tick's checkpoint.
    ws.#p.checkpoints.outdated = ws.#p.sync.snapshotOutdated;
    await upgradeProjections(
      ws.store,
      ws.#p.sync.seen.seq,
      () => ws.rebuildProjections(),
      ws.#p.logger,
    );
    const every = options.tickIntervalMs ?? 60_000;
    if (every > 0) await tickEvery(every, () => ws.tick(), ws.#p);
    return ws;
  }

  /** The workspace id, fixed at bootstrap; `undefined` before. */
  get id(): string | undefined {
    return this._view.workspace?.id;
  }

  /** Workspace name, owners and skew window; `undefined` before bootstrap. */
  get info() {
    return this._view.workspace;
  }

  /**
   * An identity as this instance knows it (as of its last catch-up), or `undefined` — for
   * the host that displays the workspace (names for ids). A copy: changing it changes
   * nothing. Actors read identities through `actor.identities`, which is authorized.
   */
  identity(id: string): Identity | undefined {
    parseInput(idString, id, 'workspace.identity(id)');
    const who = this._view.identity(id);
    return who ? structuredClone(who) : undefined;
  }

  /** Every identity this instance knows (as of its last catch-up), as copies; see {@link Workspace.identity}. */
  identityList(): Identity[] {
    return [...this._view.identities.values()].map((i) => structuredClone(i));
  }

  /** The current log head, after catching up with other writers: the head this instance now reflects. */
  async head(): Promise<Head> {
    return this.#p.sync.catchUp();
  }

  /**
   * Makes a new, empty workspace: registers its first owner (and any further owners or a
   * recovery key) as roots of authority. Returns the first owner.
   *
   * @throws BatonError `INVALID_STATE` when the store holds a workspace already.
   */
  async bootstrap(options: BootstrapOptions): Promise<Identity> {
    const input = parseInput(bootstrapSchema, options, 'workspace.bootstrap');
    await this.#p.sync.catchUp();
    if (this._view.workspace) {
      throw new BatonError(
        ErrorCode.INVALID_STATE,
        `This store holds workspace "${this._view.workspace.name}" already; one store holds one workspace.`,
      );
    }
    const { ownerId, draft } = await bootstrapDraft(input, this.keyring);
    await this.#p.pipeline.commit(
      { actor: ownerId, plan: () => ({ drafts: [draft] }) },
      randomId('ws'),
    );
    return this._view.identity(ownerId)!;
  }

  /**
   * The handle through which `identity` acts: every call on it is attributed to that
   * identity and checked against its grants.
   *
   * @param identity - An identity id.
   * @param options - `session` (the run, recorded on every event) and `signer` (when the
   *   keyring does not hold the identity's key).
   */
  as(identity: string, options: ActorOptions = {}): Actor {
    parseInput(idString, identity, 'workspace.as(identity)');
    return new Actor(this, identity, options);
  }

  /**
   * Commits events an outside party already signed (a browser, a remote agent): checks
   * workspace id, signature, time window and authorization against the current head, then
   * appends them. Re-submitting the same events returns the original commits.
   */
  async submit(events: SignedEvent[]): Promise<BatonEvent[]> {
    return this.#p.pipeline.submit(parseInput(submitSchema, events, 'workspace.submit'));
  }

  /**
   * Appends events committed elsewhere (an export, a replica) unchanged: each must continue
   * this log's head and pass the same checks `verify()` makes. Nothing is written when any fails.
   */
  async ingest(events: BatonEvent[]): Promise<Head> {
    return this.#p.pipeline.ingest(parseInput(ingestSchema, events, 'workspace.ingest'), []);
  }

  /**
   * Events as they are committed — by this instance or any other on the store — as an
   * async iterator. Catches up from `after`, then follows live; reads in pages, so a slow
   * consumer holds at most one page and resumes from its cursor.
   */
  watch(filter: WatchFilter = {}): AsyncIterableIterator<BatonEvent> {
    const f = parseInput(watchSchema, filter, 'workspace.watch');
    return this._watch(f, () => true);
  }

  /**
   * Calls `listener` for each event matching `filter`, in commit order, one at a time
   * (awaiting it). Returns a function that stops the subscription.
   */
  subscribe(
    filter: WatchFilter,
    listener: (event: BatonEvent) => void | Promise<void>,
  ): () => void {
    const f = parseInput(watchSchema, filter, 'workspace.subscribe');
    if (typeof listener !== 'function') {
      throw new BatonError(
        ErrorCode.VALIDATION,
        'workspace.subscribe: `listener` must be a function.',
      );
    }
    return this._subscribe(f, listener, () => true);
  }

  /**
   * Re-checks the log: chain links and hashes, every signature (in parallel, against the key
   * the actor held at that point), the workspace id, the time rule, authorization of each
   * event against the grants in force at its own position, every body it refers to
   * (present and unchanged, or erased by an owner — reported in `erased`), and — from the
   * first event — the stored state: every projection row core owns, their index entries,
   * the erasure markers and the idempotency rows, against the rows the log makes (rebuilt as
   * it replays and compared with the stored ones as it goes, so its memory stays flat; when
   * they differ, a second replay names the row).
   *
   * @param options - `from`: a kept {@link Checkpoint}. Verification first proves the log
   *   still extends it (a truncation or a rewrite behind it is reported), then checks only
   *   the events after it (not the stored rows). `onProgress`: called after each batch of events checked (every
   *   256 events, and once at the end) — for a progress bar on a large log.
   */
  async verify(
    options: { from?: Checkpoint; onProgress?: (progress: VerifyProgress) => void } = {},
  ): Promise<VerifyReport> {
    const o = parseInput(verifySchema, options, 'workspace.verify');
    return verifyLog(
      this.store,
      this._types,
      this.#p.logger,
      o.from,
      o.onProgress,
      REBUILT_COLLECTIONS,
      this.#p.signatures,
    );
  }

  /**
   * Signs the current head `{ seq, hash }` as an owner or service identity and keeps a
   * snapshot of the authority view with it (in the store's `kv`), so `verify({ from })` can
   * start there; the checkpoint itself is kept too, as the newest one, which `open` starts
   * from when it can trust it (`tick()` also makes one every {@link CHECKPOINT_EVERY}
   * events). Keep the returned checkpoint somewhere the store's operator cannot change.
   *
   * @param options - `as`: the signing identity. Defaults to the first owner, then the first
   *   service identity, whose key this workspace's keyring holds.
   */
  async checkpoint(options: { as?: string } = {}): Promise<Checkpoint> {
    const o = parseInput(checkpointOptionsSchema, options, 'workspace.checkpoint');
    return this.#p.checkpoints.make(o.as);
  }

  /**
   * The body stored under `hash`, or how it was erased, or `undefined` when the store has
   * neither. Bodies are content-addressed: artifact content, context text, app blobs.
   */
  async blob(hash: string): Promise<Body | undefined> {
    parseInput(idString, hash, 'workspace.blob(hash)');
    const row = (await storeCall('get', () => this.store.get('erasures', hash))) as
      | { by: string; reason: string; at: string }
      | undefined;
    if (row) {
      const name = this._view.identity(row.by)?.name ?? row.by;
      return { hash, erased: { by: row.by, name, reason: row.reason, at: row.at } };
    }
    const bytes = await storeCall('blobs.get', () => this.store.blobs.get(hash));
    return bytes ? { hash, bytes } : undefined;
  }

  /** The body under `hash` as text — or `"[erased by Ada: reason]"` when it was erased. */
  async text(hash: string): Promise<string | undefined> {
    const b = await this.blob(hash);
    if (!b) return undefined;
    return 'erased' in b ? erasedText(b.erased) : fromUtf8(b.bytes);
  }

  /**
   * The whole log as JSONL, streamed: a header line, then each event, each body it refers
   * to just before it (erased bodies are gone and not exported). `import` on another
   * workspace takes it back unchanged, so checkpoints stay valid across the move.
   */
  export(): AsyncIterable<string> {
    return exportLog(this.#p);
  }

  /**
   * Reads an export (JSONL lines or one string) into this workspace: every event must
   * continue this log's head and pass the checks `verify()` makes, every body must match its
   * hash, and the events must be the header's — of its workspace (`ws`) and ending at its
   * `head` (a truncated export is refused) — all checked before anything is written, then
   * appended in one batch.
   *
   * @param options - `checkpoint`: a checkpoint kept elsewhere (see {@link Workspace.checkpoint});
   *   the import is refused unless the log it brings extends it (holds the event it signed at
   *   its seq, signed by an owner's or a service identity's key registered there). Defaults to none.
   * @returns The new head.
   */
  async import(
    source: string | Iterable<string> | AsyncIterable<string>,
    options: { checkpoint?: Checkpoint } = {},
  ): Promise<Head> {
    return importLog(this.#p, source, options);
  }

  /**
   * Rebuilds every projection from the log — for after an upgrade that changed their shape,
   * or to repair them — and writes it in one batch under the head check. Gives the same
   * rows as the incremental path. Every event is verified as it is replayed (chain, hash,
   * admission, signature, state rules).
   *
   * @throws BatonError `INTEGRITY` naming the seq of an event that does not verify; nothing
   *   is written then.
   */
  async rebuildProjections(): Promise<void> {
    return this.#p.pipeline.rebuild();
  }

  /**
   * An event in the current shape of its type: older versions are upcast with the
   * registered upcasters (`upcastFrom` then names the stored type). Stored events never
   * change; use them as stored to check signatures.
   */
  upcast(e: BatonEvent): BatonEvent & { upcastFrom?: string } {
    parseInput(upcastSchema, e, 'workspace.upcast(event)');
    return upcastEvent(this._types, e);
  }

  /**
   * Does what time makes due: escalates open handoffs past their `due` to their
   * `escalateTo`, written by a service identity whose key this process holds. Safe to run
   * in every instance at once: the log-head check lets exactly one write each escalation.
   * Runs on open and on a timer (see `tickIntervalMs`).
   *
   * @returns The handoffs this call escalated.
   */
  async tick(): Promise<TickResult> {
    const result = await tick(this.#p);
    this.#p.events.emit('tick', result);
    return result;
  }

  /** Stops watchers and timers and closes the store. Idempotent. */
  async close(): Promise<void> {
    if (this.#p.sync.closed) return;
    this.#p.sync.closed = true;
    this.#p.events.emit('close');
    this.#p.events.removeAllListeners('close');
    this.#p.signatures.close();
    await this.store.close();
  }

  // ---------------------------------------------------------------- internals (for the facades)

  /**
   * @internal The authority view (identities, grants), current as of its `seq`: see
   * {@link ViewSync.view}.
   */
  get _view(): AuthorityView {
    return this.#p.sync.view;
  }

  /**
   * @internal Brings the authority view up to the store's head, with the artifacts of the tags
   * the grants of `tagsFor` name loaded (see {@link ViewSync.catchUp}).
   */
  _catchUp(tagsFor?: readonly string[]): Promise<Head> {
    return this.#p.sync.catchUp(tagsFor);
  }

  /** @internal The write path (see {@link CommitPipeline}). */
  _commit(req: CommitRequest, bootstrapWs?: string): Promise<BatonEvent[]> {
    return this.#p.pipeline.commit(req, bootstrapWs);
  }

  /** @internal Full event types for a filter that may name types without their version. */
  _typeFilter(types: readonly string[] | undefined): string[] | undefined {
    return typeFilter(this._types, types);
  }

  /**
   * @internal The watch loop shared by workspace and actor watches; `tagsFor` names whose
   * authorization `allowed` decides (see {@link ViewSync.catchUp}).
   */
  _watch(
    f: WatchFilter,
    allowed: (e: BatonEvent) => boolean,
    tagsFor?: readonly string[],
  ): AsyncIterableIterator<BatonEvent> {
    return this.#p.watcher.watch(f, allowed, tagsFor);
  }

  /** @internal */
  _subscribe(
    f: WatchFilter,
    listener: (e: BatonEvent) => void | Promise<void>,
    allowed: (e: BatonEvent) => boolean,
    tagsFor?: readonly string[],
  ): () => void {
    return this.#p.watcher.subscribe(f, listener, allowed, tagsFor);
  }

  /** @internal Every work handoff's accepted span: recipient, artifacts, seqs from acceptance to its end. */
  _handoffSpans(): Promise<HandoffSpan[]> {
    return handoffSpans(this.store);
  }

  /** @internal The workspace's clock. */
  _now(): number {
    return this.#p.clock();
  }
}
