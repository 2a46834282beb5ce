import { z } from 'zod';
import { Actor, type ActorOptions } from './actor.js';
import { AuthorityView, type Identity, type ViewTx, viewFromSnapshot } from './auth/view.js';
import type { CommitRequest, Draft, IdMaker } from './commit/draft.js';
import { canonicalJson, type JsonValue } from './crypto/canonical.js';
import { fromBase64url, fromUtf8, toBase64url, utf8 } from './crypto/encoding.js';
import { sha256b64 } from './crypto/hash.js';
import { derivedId, randomId } from './crypto/ids.js';
import { type Keyring, MemoryKeyring } from './crypto/keyring.js';
import { type Signer, verifySignature } from './crypto/keys.js';
import { BatonError, ErrorCode, isBatonError, storeError } from './errors.js';
import { type Body, erasedText } from './log/body.js';
import { registerBuiltinEvents } from './log/builtinEvents.js';
import {
  CHECKPOINT_EVERY,
  type Checkpoint,
  checkpointSchema,
  checkpointText,
  LATEST_CHECKPOINT_KEY,
  makeCheckpoint,
  snapshotKey,
} from './log/checkpoint.js';
import {
  type BatonEvent,
  EMPTY_HEAD,
  eventHash,
  type Head,
  parseType,
  type SignedEvent,
  type SignedFields,
  signedFieldsOf,
  signingBytes,
  signingText,
} from './log/event.js';
import {
  DEFAULT_SKEW_MS,
  type EventTypeDef,
  EventTypes,
  ProjectionOverlay,
  type StateReader,
} from './log/eventTypes.js';
import {
  integrityError,
  ProjectionRebuild,
  StoredEvents,
  signingKeys,
  stateReader,
  trustedCheckpoint,
  type VerifyProgress,
  type VerifyReport,
  verifyLog,
} from './log/verifier.js';
import { type Logger, silentLogger } from './logger.js';
import type { Notification, Notifier, OutboxRow } from './notify/notifications.js';
import { MemoryStore } from './store/memoryStore.js';
import { type BlobWrite, PRIMARY_INDEX, type ProjectionWrite, type Store } from './store/store.js';
import { idString, name, parseInput, utf8Length, watchSchema } from './validation.js';

/** Observability hooks. Exceptions they throw are logged and ignored. */
export interface WorkspaceHooks {
  /** After every successful append, with the committed events. */
  onAppend?(events: readonly BatonEvent[]): void;
  /** When an append lost a race for the log head and is being retried. */
  onConflictRetry?(info: { attempt: number; expected: Head; actual: Head }): void;
}

/** Options for {@link Workspace.open}. */
export interface WorkspaceOptions {
  /** Where the log lives. Defaults to a new {@link MemoryStore} (nothing survives the process). */
  store?: Store;
  /** Where private keys live. Defaults to a new {@link MemoryKeyring}. */
  keyring?: Keyring;
  /** The committer's clock in epoch milliseconds. Defaults to `Date.now`. */
  clock?: () => number;
  /** Defaults to a logger that prints nothing. */
  logger?: Logger;
  hooks?: WorkspaceHooks;
  /** App-defined event types (see `defineEventType`). Defaults to none. */
  eventTypes?: EventTypeDef<never>[];
  /**
   * Zod schemas for `json` artifacts, by name (an artifact names its schema at creation).
   * Defaults to none.
   */
  schemas?: Record<string, z.ZodType>;
  /**
   * The service identity `tick()` writes escalations as (its key must be in the keyring).
   * Defaults to the first active service identity whose key the keyring holds.
   */
  service?: string;
  /**
   * How often `tick()` runs on its own, in ms; `0` turns the timer off (call `tick()`
   * yourself). It also runs once on open. Defaults to `60_000`.
   */
  tickIntervalMs?: number;
  /**
   * Where to tell people that something waits on them (e.g. a `WebhookNotifier`). The
   * service identity's `tick()` queues a notification per recipient of each handoff event
   * in a durable outbox and delivers it, retrying with backoff. Defaults to none.
   */
  notifiers?: Notifier[];
  /** How long one instance holds a delivery before another may retry it, in ms. Defaults to `30_000`. */
  notifyLeaseMs?: number;
  /** The first retry delay after a failed delivery, doubled each time up to an hour, in ms. Defaults to `1_000`. */
  notifyBackoffMs?: number;
  /** How often watchers poll the store when no wake-up hint arrives, in ms. Defaults to `1_000`. */
  pollIntervalMs?: number;
  /** How many times a write retries after losing the race for the log head. Defaults to `50`. */
  maxRetries?: number;
}

/**
 * The most event data one `submit()` call takes, in UTF-8 bytes: 16 MiB. (Each event's data
 * is at most 256 KiB, and a call at most 1,000 events: 256 MiB without this bound.)
 */
export const MAX_SUBMIT_BYTES = 16 * 1024 * 1024;

/** Options for {@link Workspace.bootstrap}. */
export interface BootstrapOptions {
  /** The first owner's name (the person bootstrapping). */
  name: string;
  /** The workspace's name. Defaults to `"<name>'s workspace"`. */
  workspace?: string;
  /** The first owner's kind. Defaults to `'human'`. */
  kind?: 'human' | 'service';
  /** More owners, each a root of authority, so losing one key never locks the workspace. */
  owners?: {
    name: string;
    kind?: 'human' | 'service';
    key?: string;
    meta?: Record<string, JsonValue>;
  }[];
  /** The `did:key` of an offline recovery key, registered as an owner named "recovery". */
  recoveryKey?: string;
  /** The first owner's metadata. Defaults to `{}`. */
  meta?: Record<string, JsonValue>;
  /** The skew window for event times, in ms. Defaults to `120_000` (2 minutes). */
  skewMs?: number;
}

/** A filter over the log for {@link Workspace.watch} and {@link Workspace.subscribe}. */
export interface WatchFilter {
  /** Start after this seq. Defaults to the head when the watch starts (live events only). */
  after?: number;
  stream?: string;
  ref?: string;
  /** Event type names (`'grant.issued'`) or full types (`'grant.issued@1'`). */
  types?: string[];
  /** Stops the watch. */
  signal?: AbortSignal;
}

const optionsSchema = z.object({
  store: z
    .custom<Store>(
      (s) => typeof s === 'object' && s !== null && typeof (s as Store).append === 'function',
      {
        message: 'must be a Store (e.g. new MemoryStore())',
      },
    )
    .optional(),
  keyring: z
    .custom<Keyring>(
      (k) => typeof k === 'object' && k !== null && typeof (k as Keyring).signer === 'function',
      {
        message: 'must be a Keyring (e.g. new MemoryKeyring())',
      },
    )
    .optional(),
  clock: z.function().optional(),
  logger: z
    .custom<Logger>(
      (l) =>
        typeof l === 'object' &&
        l !== null &&
        (['debug', 'info', 'warn', 'error'] as const).every(
          (m) => typeof (l as Logger)[m] === 'function',
        ),
      { message: 'must be a Logger with debug, info, warn and error methods (e.g. console)' },
    )
    .optional(),
  hooks: z
    .object({ onAppend: z.function().optional(), onConflictRetry: z.function().optional() })
    .optional(),
  eventTypes: z
    .array(
      z.custom<EventTypeDef<never>>(
        (d) =>
          typeof d === 'object' &&
          d !== null &&
          typeof (d as EventTypeDef).name === 'string' &&
          Number.isInteger((d as EventTypeDef).version) &&
          (d as EventTypeDef).schema instanceof z.ZodType &&
          typeof (d as EventTypeDef).stream === 'function' &&
          typeof (d as EventTypeDef).authorize === 'function',
        { message: 'must be an event type made with defineEventType()' },
      ),
    )
    .optional(),
  schemas: z
    .record(
      z.string(),
      z.custom<z.ZodType>((s) => s instanceof z.ZodType, { message: 'must be a zod schema' }),
    )
    .optional(),
  pollIntervalMs: z.number().int().min(5).max(3_600_000).optional(),
  service: idString.optional(),
  notifiers: z
    .array(
      z.custom<Notifier>(
        (n) => typeof n === 'object' && n !== null && typeof (n as Notifier).deliver === 'function',
        { message: 'must be a Notifier ({ name, deliver })' },
      ),
    )
    .optional(),
  notifyLeaseMs: z.number().int().min(10).max(86_400_000).optional(),
  notifyBackoffMs: z.number().int().min(1).max(86_400_000).optional(),
  tickIntervalMs: z.number().int().min(0).max(86_400_000).optional(),
  maxRetries: z.number().int().min(0).max(10_000).optional(),
});

const bootstrapSchema = z.object({
  name: name(),
  workspace: name().optional(),
  kind: z.enum(['human', 'service']).optional(),
  owners: z
    .array(
      z.object({
        name: name(),
        kind: z.enum(['human', 'service']).optional(),
        key: z.string().optional(),
        meta: z.record(z.string(), z.custom<JsonValue>()).optional(),
      }),
    )
    .max(15)
    .optional(),
  recoveryKey: z.string().optional(),
  meta: z.record(z.string(), z.custom<JsonValue>()).optional(),
  skewMs: z
    .number()
    .int()
    .min(1_000)
    .max(24 * 3_600_000)
    .optional(),
});

const isObject = (e: unknown) => typeof e === 'object' && e !== null;
const submitSchema = z
  .array(z.custom<SignedEvent>(isObject, { message: 'must be a signed event' }))
  .min(1)
  .max(1_000);
const ingestSchema = z
  .array(z.custom<BatonEvent>(isObject, { message: 'must be a committed event' }))
  .min(1);

const verifySchema = z.object({
  from: checkpointSchema.optional(),
  onProgress: z
    .custom<(p: VerifyProgress) => void>((v) => typeof v === 'function', 'must be a function')
    .optional(),
});
const checkpointOptionsSchema = z.object({ as: idString.optional() });
const importOptionsSchema = z.object({ checkpoint: checkpointSchema.optional() });
const exportHeaderSchema = z.object({
  baton: z.literal('export'),
  version: z.literal(1),
  // An export of an empty workspace names none.
  ws: z.string().min(1).nullable(),
  head: z.object({ seq: z.number().int().nonnegative(), hash: z.string() }),
});
const exportLineSchema = z.union([
  z.object({ event: z.custom<BatonEvent>(isObject, { message: 'must be an event' }) }),
  z.object({
    blob: z.object({ hash: z.string().min(1), data: z.string().regex(/^[A-Za-z0-9_-]*$/) }),
  }),
]);

// How many events a catch-up verifies and applies together: their signatures are checked in
// parallel, and a batch is applied only when all of it checks out.
const CATCH_UP_BATCH = 256;

// The projection collections core owns and rebuildProjections() rewrites. (Idempotency rows
// record requests, not events, so they are kept as they are.)
const REBUILT_COLLECTIONS = [
  'meta',
  'identities',
  'grants',
  'streams',
  'erasures',
  'artifacts',
  'artifact-versions',
  'seen',
  'context',
  'handoffs',
  'outbox',
  'notified',
];

/** What {@link Workspace.tick} did. */
export interface TickResult {
  /** Handoffs escalated. */
  escalated: string[];
  /** Notifications queued in the outbox. */
  queued: string[];
  /** Notifications delivered by this call. */
  delivered: string[];
  /** Notifications whose delivery failed this time (retried later, with backoff). */
  failed: string[];
}

const NOTIFY_TYPES = [
  'handoff.offered@1',
  'handoff.escalated@1',
  'handoff.decided@1',
  'handoff.answered@1',
  'handoff.returned@1',
  'handoff.declined@1',
  'handoff.completed@1',
];

/** Who hears of a handoff event, and what they read. */
function notificationsFor(
  e: BatonEvent,
  name: (id: string) => string,
): { to: string; handoff: string; text: string }[] {
  const d = e.data as {
    id: string;
    kind?: string;
    to?: string[] | string;
    requester?: string;
    decision?: string;
  };
  const by = name(e.actor);
  switch (e.type) {
    case 'handoff.offered@1': {
      const what =
        d.kind === 'approval'
          ? 'asks for your approval'
          : d.kind === 'question'
            ? 'has a question for you'
            : 'handed you work';
      return (d.to as string[]).map((to) => ({
        to,
        handoff: d.id,
        text: `${by} ${what} (${d.id})`,
      }));
    }
    case 'handoff.escalated@1':
      return [
        { to: d.to as string, handoff: d.id, text: `Past due and escalated to you: ${d.id}` },
      ];
    case 'handoff.decided@1':
      return [
        { to: d.requester!, handoff: d.id, text: `${by} ${d.decision} your request (${d.id})` },
      ];
    default:
      return [];
  }
}

const upcastSchema = z.custom<BatonEvent>(
  (e) =>
    typeof e === 'object' &&
    e !== null &&
    typeof (e as BatonEvent).type === 'string' &&
    'data' in (e as object),
  { message: 'must be an event (an object with `type` and `data`)' },
);

/**
 * A Baton workspace: one signed, hash-chained event log over a {@link Store}, and the
 * handle through which identities act on it (`workspace.as(id)`).
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
  readonly _types = new EventTypes();
  /** @internal Schemas for json artifacts, by name. */
  readonly _schemas = new Map<string, z.ZodType>();
  /**
   * @internal The authority view (identities, grants), current as of its `seq`. Built on
   * open from a trusted checkpoint or by replaying the log — never from projection rows —
   * and replaced only there.
   */
  _view = new AuthorityView();
  /**
   * The head the view reflects: the seq and hash of the last event applied. What the next
   * event read from the store must link to, and what the store's head must still be when
   * nothing new was committed (a head with the same seq and another hash was replaced).
   */
  #seen: Head = EMPTY_HEAD;
  /** The seq of the newest checkpoint this process trusts or made (for `tick()`'s periodic ones). */
  #checkpointSeq = 0;
  readonly #clock: () => number;
  readonly #logger: Logger;
  readonly #hooks: WorkspaceHooks;
  readonly #pollMs: number;
  readonly #maxRetries: number;
  #catchingUp: Promise<void> | undefined;
  #closed = false;
  readonly #closers = new Set<() => void>();
  /**
   * Stream versions this workspace has seen committed (by itself, or applied on catch-up):
   * facts of the log, so a commit need not read them from the store again.
   */
  readonly #streamVersions = new Map<string, number>();
  /**
   * True while {@link #streamVersions} holds every stream of the log (the view was replayed
   * from seq 1 and the map never cleared): a stream it lacks is then new, at version 0.
   */
  #versionsComplete = true;
  /** The head the last catch-up reached, for the commit that usually follows it at once. */
  #recentHead: Head | undefined;
  readonly #service: string | undefined;
  readonly #notifiers: Notifier[];
  readonly #leaseMs: number;
  readonly #backoffMs: number;

  private constructor(options: WorkspaceOptions) {
    this.store = options.store ?? new MemoryStore();
    this.keyring = options.keyring ?? new MemoryKeyring();
    this.#clock = options.clock ?? Date.now;
    this.#logger = options.logger ? neverThrows(options.logger) : silentLogger;
    this.#hooks = options.hooks ?? {};
    this.#pollMs = options.pollIntervalMs ?? 1_000;
    this.#maxRetries = options.maxRetries ?? 50;
    this.#service = options.service;
    this.#notifiers = options.notifiers ?? [];
    this.#leaseMs = options.notifyLeaseMs ?? 30_000;
    this.#backoffMs = options.notifyBackoffMs ?? 1_000;
    registerBuiltinEvents(this._types);
    for (const def of options.eventTypes ?? []) this._types.register(def);
    for (const [n, schema] of Object.entries(options.schemas ?? {})) this._schemas.set(n, schema);
  }

  /**
   * Opens a workspace on a store (a new in-memory one by default). Builds the authority view
   * from the newest trusted checkpoint kept in the store, verifying and replaying only the
   * events after it — or, with none, verifying and replaying the whole log. It never believes
   * projection rows for authority. When an event does not verify, open still succeeds (so
   * `verify()` can report) but every call that reads the log throws `INTEGRITY`.
   */
  static async open(options: WorkspaceOptions = {}): Promise<Workspace> {
    parseInput(optionsSchema, options, 'Workspace.open');
    const ws = new Workspace(options);
    await ws.#load();
    const every = options.tickIntervalMs ?? 60_000;
    if (every > 0) {
      await ws
        .tick()
        .catch((err) => ws.#logger.warn('tick on open failed', { error: String(err) }));
      const timer = setInterval(() => {
        ws.tick().catch((err) => ws.#logger.warn('tick failed', { error: String(err) }));
      }, every);
      (timer as { unref?: () => void }).unref?.();
      ws.#closers.add(() => clearInterval(timer));
    }
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
    return this._catchUp();
  }

  /**
   * Makes a new, empty workspace: registers its first owner (and any further owners or a
   * recovery key) as roots of authority. Returns the first owner.
   *
   * @throws BatonError `INVALID_STATE` when the store holds a workspace already.
   */
  async bootstrap(options: BootstrapOptions): Promise<Identity> {
    const input = parseInput(bootstrapSchema, options, 'workspace.bootstrap');
    await this._catchUp();
    if (this._view.workspace) {
      throw new BatonError(
        ErrorCode.INVALID_STATE,
        `This store holds workspace "${this._view.workspace.name}" already; one store holds one workspace.`,
      );
    }
    const ownerId = randomId('id');
    const key = await this.keyring.generate(ownerId);
    const owners: JsonValue[] = [
      { id: ownerId, kind: input.kind ?? 'human', name: input.name, key, meta: input.meta ?? {} },
    ];
    for (const o of input.owners ?? []) {
      const id = randomId('id');
      owners.push({
        id,
        kind: o.kind ?? 'human',
        name: o.name,
        key: o.key ?? (await this.keyring.generate(id)),
        meta: o.meta ?? {},
      });
    }
    if (input.recoveryKey !== undefined) {
      owners.push({
        id: randomId('id'),
        kind: 'service',
        name: 'recovery',
        key: input.recoveryKey,
        meta: {},
      });
    }
    const wsId = randomId('ws');
    await this._commit(
      {
        actor: ownerId,
        plan: () => [
          {
            type: 'workspace.bootstrapped',
            data: {
              name: input.workspace ?? `${input.name}'s workspace`,
              skewMs: input.skewMs ?? DEFAULT_SKEW_MS,
              owners,
            },
          },
        ],
      },
      wsId,
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
    const list = parseInput(submitSchema, events, 'workspace.submit');
    return this.#appendLoop(async (tx, head) => {
      const existing = await this.#existing(list);
      if (existing) return { existing };
      const pending = new Map<string, number>();
      const out: BatonEvent[] = [];
      let bytes = 0;
      for (const e of list) {
        const fields = signedFieldsOf(e);
        this._types.admit(fields, tx, { now: this.#clock(), pending });
        // admit() has bounded the data's nesting, so it serializes without a stack overflow.
        bytes += utf8Length(JSON.stringify(fields.data));
        if (bytes > MAX_SUBMIT_BYTES) {
          throw new BatonError(
            ErrorCode.VALIDATION,
            `workspace.submit: these events carry more than ${MAX_SUBMIT_BYTES / 1024 / 1024} MiB of data in one call. Submit them in smaller batches.`,
          );
        }
        await this.#checkSignature({ ...fields, sig: e.sig }, tx);
        out.push(await this.#place({ ...fields, sig: e.sig }, tx, head, out));
      }
      return { events: out };
    });
  }

  /**
   * Appends events committed elsewhere (an export, a replica) unchanged: each must continue
   * this log's head and pass the same checks `verify()` makes. Nothing is written when any fails.
   */
  async ingest(events: BatonEvent[]): Promise<Head> {
    const list = parseInput(ingestSchema, events, 'workspace.ingest');
    return this.#ingest(list, []);
  }

  async #ingest(list: BatonEvent[], blobs: BlobWrite[], checkpoint?: Checkpoint): Promise<Head> {
    // The head the view has caught up to — the one the events are checked against and the
    // append expects (a head read apart from the catch-up could be newer than the view).
    let head = await this._catchUp();
    while (head.seq !== this._view.seq) head = await this._catchUp();
    // Each stream's version before the events: what this process saw, else the store's row.
    const versions = new Map<string, number>();
    for (const e of list) {
      if (typeof e.stream === 'string' && !versions.has(e.stream))
        versions.set(e.stream, await this.#streamVersion(e.stream));
    }
    const checker = new StoredEvents(this._types, {
      after: this.#seen,
      versionOf: (stream) => versions.get(stream),
    });
    const tx = this._view.begin();
    const data: unknown[] = [];
    const bodies = new Map<string, number>();
    const erasedHere = new Set<string>();
    for (const e of list) {
      const r = checker.step(e, tx);
      if ('problem' in r) throw integrityError((await checker.flush()) ?? r.problem, 'given');
      data.push(r.data);
      for (const h of this._types.blobsOf(e, r.data)) if (!bodies.has(h)) bodies.set(h, e.seq);
      if (parseType(e.type).name === 'blob.erased')
        erasedHere.add((r.data as { hash: string }).hash);
      if (checkpoint && e.seq === checkpoint.seq) this.#extends(checkpoint, e, tx);
    }
    const problem = await checker.flush();
    if (problem) throw integrityError(problem, 'given');
    if (checkpoint && checker.head.seq < checkpoint.seq) {
      throw new BatonError(
        ErrorCode.INTEGRITY,
        `The events end at seq ${checker.head.seq}, before the checkpoint at seq ${checkpoint.seq}: they do not extend it (truncated). Nothing was written.`,
      );
    }
    const given = new Set(blobs.map((b) => b.hash));
    for (const [h, seq] of bodies) {
      if (
        given.has(h) ||
        erasedHere.has(h) ||
        (await this.store.blobs.has(h)) ||
        (await this.store.get('erasures', h))
      )
        continue;
      throw new BatonError(
        ErrorCode.INTEGRITY,
        `Body ${h} (referred to at seq ${seq}) is missing and was not erased.`,
      );
    }
    let projected: ProjectionWrite[];
    try {
      projected = await this.#project(list, tx, blobs, data, erasedHere);
    } catch (err) {
      // The state rules read the rows the store holds now: when another writer moved the
      // head meanwhile, they judged a later state than the one these events continue.
      const now = await this.#storeCall('head', () => this.store.head());
      if (now.seq !== head.seq || now.hash !== head.hash) {
        throw new BatonError(
          ErrorCode.CONFLICT,
          `The log moved (to seq ${now.seq}) while these events were checked against seq ${head.seq}: they no longer continue it. Nothing was written.`,
          { cause: err },
        );
      }
      throw err;
    }
    const projections = [
      ...tx.projectionWrites(),
      ...(await this.#streamWrites(list)),
      ...projected,
    ];
    await this.#storeCall('append', () =>
      this.store.append({ events: list, expectedHead: head, projections, blobs }),
    );
    tx.commit();
    this.#noteSeen(list);
    this.#noteVersions(list);
    this.#afterAppend(list);
    return { ...checker.head };
  }

  /** Refuses `e` (at the checkpoint's seq) unless it is the event checkpoint `cp` signed, signed by an owner or service key registered at that point. */
  #extends(cp: Checkpoint, e: BatonEvent, tx: ViewTx): void {
    const refuse = (why: string): never => {
      throw new BatonError(
        ErrorCode.INTEGRITY,
        `The events do not extend the checkpoint at seq ${cp.seq}: ${why}. Nothing was written.`,
      );
    };
    if (e.hash !== cp.hash || e.ws !== cp.ws)
      refuse(`the event at seq ${cp.seq} is another one than it signed`);
    const who = tx.identity(cp.by);
    if (
      !who ||
      !(who.isOwner || who.kind === 'service') ||
      !who.keys.some((k) => k.key === cp.key && k.since <= cp.seq)
    )
      refuse(`its signer ${cp.by} holds no owner or service key registered at that point`);
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
   * the erasure markers and the idempotency rows, against the rows the log makes (rebuilt in
   * memory as it replays: the projections' size, not the log's).
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
      this.#logger,
      o.from,
      o.onProgress,
      REBUILT_COLLECTIONS,
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
    for (;;) {
      await this._catchUp();
      const head = await this.#storeCall('head', () => this.store.head());
      if (head.seq !== this._view.seq) continue;
      if (head.seq === 0) {
        throw new BatonError(
          ErrorCode.INVALID_STATE,
          'An empty workspace has nothing to checkpoint. Bootstrap it first.',
        );
      }
      const made = await this.#signCheckpoint(head, o.as);
      if (this._view.seq !== head.seq) continue;
      if (!made) {
        throw new BatonError(
          ErrorCode.FORBIDDEN,
          'This process holds the key of no active owner or service identity to sign a checkpoint with. Open the workspace with such a keyring, or pass { as }.',
        );
      }
      await this.#keepCheckpoint(made.checkpoint, made.snapshot);
      return made.checkpoint;
    }
  }

  /**
   * A checkpoint of the view at `head` (which the view must be at), signed by `as` or else
   * by the first active owner, then service identity, whose key the keyring holds;
   * `undefined` when it holds none.
   */
  async #signCheckpoint(
    head: Head,
    as?: string,
  ): Promise<{ checkpoint: Checkpoint; snapshot: string } | undefined> {
    const view = this._view;
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
        const signer = await this.keyring.signer(id, k.key);
        if (!signer) continue;
        const at = new Date(this.#clock()).toISOString();
        return makeCheckpoint(view, head, id, signer, at);
      }
    }
    return undefined;
  }

  /**
   * Keeps a checkpoint's snapshot in the store's kv, and the checkpoint itself as the newest
   * one (what the next open starts from) unless the store keeps a newer one already.
   */
  async #keepCheckpoint(cp: Checkpoint, snapshot: string): Promise<void> {
    await this.#storeCall('kv.put', () => this.store.kv.put(snapshotKey(cp.seq), snapshot));
    const kept = (await this.#storeCall('kv.get', () =>
      this.store.kv.get(LATEST_CHECKPOINT_KEY),
    )) as { seq?: unknown } | undefined;
    if (!(typeof kept?.seq === 'number' && kept.seq > cp.seq)) {
      await this.#storeCall('kv.put', () =>
        this.store.kv.put(LATEST_CHECKPOINT_KEY, { ...cp } as unknown as JsonValue),
      );
    }
    this.#checkpointSeq = Math.max(this.#checkpointSeq, cp.seq);
  }

  /**
   * Makes a checkpoint when the log has grown {@link CHECKPOINT_EVERY} events past the newest
   * one this process knows, if it holds an owner's or a service identity's key — so that
   * opening stays as cheap whatever the log's length.
   */
  async #autoCheckpoint(): Promise<void> {
    const head = this.#seen;
    if (head.seq - this.#checkpointSeq < CHECKPOINT_EVERY) return;
    const made = await this.#signCheckpoint(head);
    if (!made || this._view.seq !== head.seq) return;
    await this.#keepCheckpoint(made.checkpoint, made.snapshot);
  }

  /**
   * The body stored under `hash`, or how it was erased, or `undefined` when the store has
   * neither. Bodies are content-addressed: artifact content, context text, app blobs.
   */
  async blob(hash: string): Promise<Body | undefined> {
    parseInput(idString, hash, 'workspace.blob(hash)');
    const row = (await this.#storeCall('get', () => this.store.get('erasures', hash))) as
      | { by: string; reason: string; at: string }
      | undefined;
    if (row) {
      const name = this._view.identity(row.by)?.name ?? row.by;
      return { hash, erased: { by: row.by, name, reason: row.reason, at: row.at } };
    }
    const bytes = await this.#storeCall('blobs.get', () => this.store.blobs.get(hash));
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
  async *export(): AsyncIterable<string> {
    await this._catchUp();
    const head = await this.#storeCall('head', () => this.store.head());
    yield JSON.stringify({ baton: 'export', version: 1, ws: this.id ?? null, head });
    const sent = new Set<string>();
    for await (const e of this.store.read({ until: head.seq })) {
      for (const h of this._types.blobsOf(e)) {
        if (sent.has(h)) continue;
        sent.add(h);
        const bytes = await this.store.blobs.get(h);
        if (bytes) yield JSON.stringify({ blob: { hash: h, data: toBase64url(bytes) } });
      }
      yield JSON.stringify({ event: e });
    }
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
    if (
      typeof source !== 'string' &&
      !(source && (Symbol.iterator in Object(source) || Symbol.asyncIterator in Object(source)))
    ) {
      throw new BatonError(
        ErrorCode.VALIDATION,
        'workspace.import: pass the export as a string or an (async) iterable of lines.',
      );
    }
    const o = parseInput(importOptionsSchema, options, 'workspace.import');
    if (o.checkpoint) {
      const { sig, ...body } = o.checkpoint;
      const valid = await verifySignature(body.key, sig, utf8(checkpointText(body))).catch(
        () => false,
      );
      if (!valid) {
        throw new BatonError(
          ErrorCode.INTEGRITY,
          'workspace.import: the checkpoint’s signature is not valid. Pass the checkpoint exactly as checkpoint() returned it.',
        );
      }
    }
    // An export starts at seq 1: it can only become the whole log of an empty store.
    const existing = await this.#storeCall('head', () => this.store.head());
    if (existing.seq > 0) {
      throw new BatonError(
        ErrorCode.INVALID_STATE,
        `This store holds a workspace already (${existing.seq} events): import into an empty store.`,
      );
    }
    const events: BatonEvent[] = [];
    const blobs: BlobWrite[] = [];
    let header: z.output<typeof exportHeaderSchema> | undefined;
    let n = 0;
    const bad = (what: string): never => {
      throw new BatonError(ErrorCode.VALIDATION, `workspace.import: line ${n} ${what}.`);
    };
    for await (const chunk of typeof source === 'string' ? [source] : source) {
      if (typeof chunk !== 'string') {
        n++;
        bad('is not a string (pass the export’s lines as strings)');
      }
      for (const line of chunk.split('\n')) {
        n++;
        if (line.trim() === '') continue;
        let item: unknown;
        try {
          item = JSON.parse(line);
        } catch (cause) {
          throw new BatonError(ErrorCode.VALIDATION, `workspace.import: line ${n} is not JSON.`, {
            cause,
          });
        }
        if (!header) {
          const h = exportHeaderSchema.safeParse(item);
          if (!h.success) {
            throw new BatonError(
              ErrorCode.VALIDATION,
              'workspace.import: this is not a Baton export (version 1); the first line must be its header ({ baton: "export", version: 1, ws, head }).',
            );
          }
          header = h.data;
          continue;
        }
        const parsed = exportLineSchema.safeParse(item);
        if (!parsed.success)
          bad('is neither an event ({ event }) nor a body ({ blob: { hash, data } })');
        const line_ = parsed.data!;
        if ('event' in line_) events.push(line_.event as BatonEvent);
        else {
          let bytes: Uint8Array;
          try {
            bytes = fromBase64url(line_.blob.data);
          } catch {
            bytes = bad('holds a body whose `data` is not base64url');
          }
          if (sha256b64(bytes) !== line_.blob.hash) {
            throw new BatonError(
              ErrorCode.INTEGRITY,
              `workspace.import: body ${line_.blob.hash} (line ${n}) does not match its hash.`,
            );
          }
          blobs.push({ hash: line_.blob.hash, bytes });
        }
      }
    }
    if (!header)
      throw new BatonError(ErrorCode.VALIDATION, 'workspace.import: the export is empty.');
    const last = events.at(-1);
    const foreign = events.find((e) => e.ws !== header!.ws);
    if (foreign) {
      throw new BatonError(
        ErrorCode.INTEGRITY,
        `workspace.import: the header names workspace ${header.ws}, but event ${String(foreign.id)} (seq ${String(foreign.seq)}) belongs to ${String(foreign.ws)}. Nothing was written.`,
      );
    }
    if ((last?.seq ?? 0) !== header.head.seq || (last?.hash ?? '') !== header.head.hash) {
      throw new BatonError(
        ErrorCode.INTEGRITY,
        `workspace.import: the header says the log ends at seq ${header.head.seq} (hash ${header.head.hash}), but its last event is seq ${last?.seq ?? 0} (hash ${last?.hash ?? 'none'}): the export was truncated or changed. Nothing was written.`,
      );
    }
    if (o.checkpoint && o.checkpoint.ws !== header.ws) {
      throw new BatonError(
        ErrorCode.INTEGRITY,
        `workspace.import: the checkpoint is of workspace ${o.checkpoint.ws}, the export of ${header.ws}. Nothing was written.`,
      );
    }
    if (events.length === 0) {
      if (o.checkpoint)
        throw new BatonError(
          ErrorCode.INTEGRITY,
          'workspace.import: the export holds no events, so it does not extend the checkpoint.',
        );
      return this.head();
    }
    return this.#ingest(events, blobs, o.checkpoint);
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
    for (;;) {
      const head = await this._catchUp();
      // Every event is verified as it is replayed, as catch-up and verify() check them: a
      // forged row in the log stops the rebuild with INTEGRITY, and nothing is written.
      const view = new AuthorityView();
      const checker = new StoredEvents(this._types, { after: EMPTY_HEAD });
      const rebuild = new ProjectionRebuild(
        this._types,
        (h) => this.store.blobs.get(h),
        (h) => this.store.get('erasures', h),
      );
      for await (const e of this.store.read({ until: head.seq })) {
        const tx = view.begin();
        const r = checker.step(e, tx);
        if ('problem' in r) throw integrityError((await checker.flush()) ?? r.problem);
        await rebuild.add(e, r.data, tx);
        rebuild.addView(tx);
        tx.commit();
        if (checker.pending >= CATCH_UP_BATCH) {
          const problem = await checker.flush();
          if (problem) throw integrityError(problem);
        }
      }
      const problem = await checker.flush();
      if (problem) throw integrityError(problem);
      if (checker.head.seq !== head.seq || checker.head.hash !== head.hash) {
        throw integrityError({
          seq: Math.min(checker.head.seq + 1, head.seq),
          reason: `the store's head is seq ${head.seq} (hash ${head.hash}), but the log read ends at seq ${checker.head.seq} (hash ${checker.head.hash})`,
        });
      }
      const rows = rebuild.rows();
      const collections = new Set([
        ...REBUILT_COLLECTIONS,
        ...[...rows.values()].map((w) => w.collection),
      ]);
      for (const c of collections) {
        for await (const row of this.#rowsOf(c)) {
          if (!rows.has(`${c}\u0000${row.key}`))
            rows.set(`${c}\u0000${row.key}`, { collection: c, key: row.key, value: null });
        }
      }
      try {
        await this.store.append({
          events: [],
          expectedHead: head,
          projections: [...rows.values()],
        });
      } catch (err) {
        if (isBatonError(err, ErrorCode.CONFLICT)) continue;
        throw storeError('rebuildProjections', err);
      }
      return;
    }
  }

  /**
   * An event in the current shape of its type: older versions are upcast with the
   * registered upcasters (`upcastFrom` then names the stored type). Stored events never
   * change; use them as stored to check signatures.
   */
  upcast(e: BatonEvent): BatonEvent & { upcastFrom?: string } {
    parseInput(upcastSchema, e, 'workspace.upcast(event)');
    const { name, version } = parseType(e.type);
    const def = this._types.get(name);
    if (!def || def.version === version) return e;
    return {
      ...e,
      type: `${name}@${def.version}`,
      data: this._types.dataOf(e) as JsonValue,
      upcastFrom: e.type,
    };
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
    await this._catchUp();
    const none: TickResult = { escalated: [], queued: [], delivered: [], failed: [] };
    if (!this._view.workspace) return none;
    await this.#autoCheckpoint().catch((err) =>
      this.#logger.warn('tick: making a checkpoint failed', { error: String(err) }),
    );
    const service = await this.#serviceIdentity();
    if (!service) return none;
    const now = new Date(this.#clock()).toISOString();
    const escalated: string[] = [];
    let after: string | undefined;
    do {
      const page = await this.store.query('handoffs', 'due', { lt: now }, { limit: 200, after });
      for (const { key } of page.items) {
        const events = await this._commit({
          actor: service,
          plan: async () => {
            const row = (await this.store.get('handoffs', key)) as
              | { escalateTo?: string; escalatedTo?: string; status: string }
              | undefined;
            if (
              !row?.escalateTo ||
              row.escalatedTo ||
              (row.status !== 'offered' && row.status !== 'accepted')
            )
              return [];
            return [
              {
                type: 'handoff.escalated',
                data: { id: key, to: row.escalateTo },
                refs: [key, row.escalateTo],
              },
            ];
          },
        });
        if (events.length) escalated.push(key);
      }
      after = page.next;
    } while (after);
    if (this.#notifiers.length === 0) return { ...none, escalated };
    return { escalated, ...(await this.#notify(service)) };
  }

  /** Queues a notification per recipient of each handoff event since the cursor, then delivers what is due. */
  async #notify(service: string): Promise<Omit<TickResult, 'escalated'>> {
    const queued: string[] = [];
    const delivered: string[] = [];
    const failed: string[] = [];
    const cursorKey = 'baton/notify-cursor';
    const from = ((await this.store.kv.get(cursorKey)) as number | undefined) ?? 0;
    const head = await this.store.head();
    for await (const e of this.store.read({ after: from, until: head.seq, types: NOTIFY_TYPES })) {
      for (const n of notificationsFor(e, (id) => this._view.identity(id)?.name ?? id)) {
        const id = derivedId('ntf', [e.id, n.to]);
        const events = await this._commit({
          actor: service,
          plan: async () =>
            (await this.store.get('notified', `${e.id}/${n.to}`))
              ? []
              : [
                  {
                    type: 'notification.queued',
                    data: { id, ...n, event: e.id },
                    refs: [id, n.to, n.handoff],
                  },
                ],
        });
        if (events.length) queued.push(id);
      }
    }
    await this.store.kv.put(cursorKey, head.seq);
    const now = this.#clock();
    const due = await this.store.query(
      'outbox',
      'pending',
      { lt: `${new Date(now).toISOString()}\u0001` },
      { limit: 100 },
    );
    for (const { key } of due.items) {
      const claim = await this._commit({
        actor: service,
        plan: async (_v, _i, at) => {
          const row = (await this.store.get('outbox', key)) as unknown as OutboxRow | undefined;
          if (row?.status !== 'pending' || Date.parse(row.nextAt) > now) return [];
          if (row.leaseUntil && Date.parse(row.leaseUntil) > Date.parse(at)) return [];
          return [
            {
              type: 'notification.claimed',
              data: { id: key, until: new Date(Date.parse(at) + this.#leaseMs).toISOString() },
              refs: [key],
            },
          ];
        },
      });
      if (claim.length === 0) continue;
      const row = (await this.store.get('outbox', key)) as unknown as OutboxRow;
      const n: Notification = {
        id: row.id,
        to: row.to,
        handoff: row.handoff,
        text: row.text,
        event: row.event,
        attempt: row.attempts + 1,
      };
      let error: string | undefined;
      for (const notifier of this.#notifiers) {
        try {
          await notifier.deliver(n);
        } catch (err) {
          error = `${notifier.name}: ${err instanceof Error ? err.message : String(err)}`.slice(
            0,
            2_000,
          );
        }
      }
      const data: Record<string, JsonValue> = {
        id: key,
        notifier: this.#notifiers
          .map((x) => x.name)
          .join(', ')
          .slice(0, 200),
        ok: !error,
      };
      if (error) {
        data.error = error;
        data.nextAt = new Date(
          this.#clock() + Math.min(3_600_000, this.#backoffMs * 2 ** row.attempts),
        ).toISOString();
      }
      await this._commit({
        actor: service,
        plan: () => [{ type: 'notification.attempted', data, refs: [key] }],
      });
      (error ? failed : delivered).push(key);
    }
    return { queued, delivered, failed };
  }

  async #serviceIdentity(): Promise<string | undefined> {
    const candidates = this.#service
      ? [this.#service]
      : [...this._view.identities.values()]
          .filter((i) => i.kind === 'service' && i.status === 'active')
          .map((i) => i.id);
    for (const id of candidates) {
      const who = this._view.identity(id);
      for (const k of who?.keys.filter((key) => key.until === undefined) ?? []) {
        if (await this.keyring.signer(id, k.key)) return id;
      }
    }
    return undefined;
  }

  /** Stops watchers and timers and closes the store. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const stop of this.#closers) stop();
    this.#closers.clear();
    await this.store.close();
  }

  // ---------------------------------------------------------------- internals

  /** @internal Brings the authority view up to the store's head. */
  async _catchUp(): Promise<Head> {
    if (this.#closed)
      throw new BatonError(ErrorCode.INVALID_STATE, 'This workspace is closed. Open it again.');
    while (this.#catchingUp) await this.#catchingUp;
    const head = await this.#storeCall('head', () => this.store.head());
    if (head.seq !== this._view.seq || head.hash !== this.#seen.hash) {
      this.#catchingUp = this.#catchUpTo(head).finally(() => {
        this.#catchingUp = undefined;
      });
      await this.#catchingUp;
    }
    this.#recentHead = head;
    return head;
  }

  /**
   * The head a commit's first attempt expects: the one a catch-up has just read (commands
   * catch up before they plan), else a fresh catch-up. A head that has gone stale meanwhile
   * costs one lost race — the append checks it atomically — never a wrong write.
   */
  async #headForCommit(attempt: number): Promise<Head> {
    const recent = this.#recentHead;
    this.#recentHead = undefined;
    if (attempt === 0 && recent && recent.seq === this._view.seq) return recent;
    const head = await this._catchUp();
    this.#recentHead = undefined;
    return head;
  }

  /** Moves the seen head to the last of `events` when the view now reflects them. */
  #noteSeen(events: readonly BatonEvent[]): void {
    const last = events.at(-1);
    if (last && this._view.seq === last.seq) this.#seen = { seq: last.seq, hash: last.hash };
  }

  /** Remembers the stream versions of committed events (bounded: forgetting only costs a read). */
  #noteVersions(events: readonly BatonEvent[]): void {
    for (const e of events) this.#noteVersion(e);
  }

  #noteVersion(e: BatonEvent): void {
    if (this.#streamVersions.size > 50_000) {
      this.#streamVersions.clear();
      this.#versionsComplete = false;
    }
    this.#streamVersions.set(e.stream, e.version);
  }

  /**
   * Applies the events after the view's head to it, each verified first (see
   * {@link StoredEvents}): linked by hash to the last event this process applied, its hash
   * recomputed, admitted against the view at its position, its signature checked — in
   * batches of {@link CATCH_UP_BATCH}, each applied only when all of it checks out. A failure
   * throws `INTEGRITY` naming the seq; the view stays at the last good batch, so every later
   * call fails the same way until the store is repaired and nothing is built on a forgery.
   */
  async #catchUpTo(head: Head): Promise<void> {
    const view = this._view;
    const seen = this.#seen;
    if (head.seq < view.seq) {
      throw new BatonError(
        ErrorCode.INTEGRITY,
        `The store's head (seq ${head.seq}) is behind what this workspace has seen (seq ${view.seq}): the log was truncated or replaced. Run workspace.verify() and restore the store from a backup.`,
      );
    }
    if (head.seq === seen.seq && head.hash !== seen.hash) {
      throw new BatonError(
        ErrorCode.INTEGRITY,
        `The store's head at seq ${head.seq} has hash ${head.hash}, but the event this workspace applied at seq ${seen.seq} has hash ${seen.hash}: the event at seq ${head.seq} was replaced in the store. Run workspace.verify() and restore the store from a backup.`,
        { details: { seq: head.seq, reason: 'the head was replaced' } },
      );
    }
    const complete = await this.#replay(
      view,
      seen,
      this.store.read({ after: view.seq }),
      (s) => this.#streamVersions.get(s) ?? (this.#versionsComplete ? 0 : undefined),
    );
    if (complete && this.#seen.seq < head.seq) {
      throw new BatonError(
        ErrorCode.INTEGRITY,
        `The store's head is seq ${head.seq}, but its log ends at seq ${this.#seen.seq}: events ${this.#seen.seq + 1}–${head.seq} are missing. Run workspace.verify() and restore the store from a backup.`,
        { details: { seq: this.#seen.seq + 1, reason: 'events are missing' } },
      );
    }
    if (this.#seen.seq === head.seq && this.#seen.hash !== head.hash) {
      throw new BatonError(
        ErrorCode.INTEGRITY,
        `The store's head at seq ${head.seq} has hash ${head.hash}, but the event read at seq ${head.seq} has hash ${this.#seen.hash}. Run workspace.verify().`,
        { details: { seq: head.seq, reason: 'the head does not name the last event' } },
      );
    }
  }

  /**
   * Verifies and applies `events` (which continue `from`) to `view` batch by batch, moving
   * {@link #seen} with it; throws `INTEGRITY` at the first event that does not verify.
   * Returns false when it stopped early because a commit of this process moved the view.
   */
  async #replay(
    view: AuthorityView,
    from: Head,
    events: AsyncIterable<BatonEvent>,
    versionOf?: (stream: string) => number | undefined,
  ): Promise<boolean> {
    const checker = new StoredEvents(this._types, {
      after: from,
      versionOf,
      unknownTypes: 'signature',
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
      if (view === this._view) this.#seen = checker.head;
      // Facts of the log, now verified.
      this.#noteVersions(batch);
      batch = [];
      tx = view.begin();
      return true;
    };
    for await (const e of events) {
      const r = checker.step(e, tx);
      if ('problem' in r) {
        // A signature already queued may be the first problem.
        throw integrityError((await checker.flush()) ?? r.problem);
      }
      batch.push(e);
      if (batch.length >= CATCH_UP_BATCH && !(await applyBatch())) return false;
    }
    return applyBatch();
  }

  /**
   * Builds the authority view: from the newest trusted checkpoint kept in the store (see
   * {@link trustedCheckpoint}), replaying and verifying only the events after it — or, with
   * none, replaying and verifying the whole log. Projection rows are never read for it: an
   * attacker who can write the store but holds no key cannot change what this process
   * authorizes. When an event does not verify, the view stays at the last good batch and
   * every call that catches up throws `INTEGRITY` (open itself succeeds, so `verify()` can
   * report).
   */
  async #load(): Promise<void> {
    const head = await this.#storeCall('head', () => this.store.head());
    if (head.seq === 0) return;
    const trusted = await this.#storeCall('read', () =>
      trustedCheckpoint(this.store, this.#logger),
    );
    if (trusted) {
      this._view = viewFromSnapshot(trusted.snapshot);
      this.#seen = { seq: trusted.checkpoint.seq, hash: trusted.checkpoint.hash };
      this.#checkpointSeq = trusted.checkpoint.seq;
    }
    // From a checkpoint, the streams before it are not known.
    if (trusted) this.#versionsComplete = false;
    try {
      await this.#replay(this._view, this.#seen, this.store.read({ after: this.#seen.seq }));
    } catch (err) {
      if (!isBatonError(err, ErrorCode.INTEGRITY)) throw err;
      this.#logger.error('the log in the store does not verify; this workspace stops before it', {
        error: err.message,
      });
    }
  }

  async *#rowsOf(
    collection: string,
    index = PRIMARY_INDEX,
  ): AsyncIterable<{ key: string; value: JsonValue }> {
    let after: string | undefined;
    do {
      const page = await this.store.query(collection, index, {}, { limit: 500, after });
      yield* page.items;
      after = page.next;
    } while (after);
  }

  /**
   * @internal The write path: catch up, plan and authorize against the caught-up view,
   * sign, chain, append with `expectedHead`; on a lost race, catch up and do it again.
   */
  async _commit(req: CommitRequest, bootstrapWs?: string): Promise<BatonEvent[]> {
    let at: string | undefined;
    // Signatures made by an earlier attempt: a retry whose events come out the same signs nothing again.
    const signatures = new Map<string, Map<string, string>>();
    return this.#appendLoop(async (tx, head) => {
      const ws = tx.workspace?.id ?? bootstrapWs;
      if (!ws) {
        throw new BatonError(
          ErrorCode.INVALID_STATE,
          'This workspace is not bootstrapped yet. Call workspace.bootstrap({ name }) first.',
        );
      }
      let idemKey: string | undefined;
      const key = req.idempotency?.key;
      const idem = key !== undefined ? { ...req.idempotency!, key } : undefined;
      // The request's digest: a retry must ask for the same thing to get the same commit.
      // Only the hash is kept in the row, never the request: it may hold a body that is
      // erased later.
      const digest = idem
        ? sha256b64(canonicalJson({ op: idem.operation, input: idem.input as JsonValue }))
        : '';
      if (idem) {
        idemKey = derivedId('idem', [ws, req.actor, idem.key]);
        const row = (await this.store.get('idempotency', idemKey)) as
          | { digest: string; events: string[] }
          | undefined;
        if (row) {
          // (A row written before digests were hashed holds the canonical request itself.)
          if (row.digest !== digest && sha256b64(row.digest) !== digest) {
            throw new BatonError(
              ErrorCode.VALIDATION,
              `idempotencyKey "${idem.key}" was used before for a different request. Use a new key for a new request.`,
            );
          }
          const existing: BatonEvent[] = [];
          for (const id of row.events) existing.push((await this.store.event(id))!);
          return { existing };
        }
      }
      let counter = 0;
      const ids: IdMaker = {
        next: (prefix) =>
          idem ? derivedId(prefix, [ws, req.actor, idem.key, String(counter++)]) : randomId(prefix),
      };
      const now = this.#clock();
      // Keep the first attempt's time while it is still inside the window: unchanged data re-uses its signature.
      if (at === undefined || Math.abs(Date.parse(at) - now) > 10_000)
        at = new Date(now).toISOString();
      const drafts = await req.plan(tx, ids, at);
      const pending = new Map<string, number>();
      const planned: { fields: BatonEvent; keys: string[]; data: unknown }[] = [];
      const streams = new Map<string, number>();
      for (const d of drafts) {
        // The event itself, its chain fields filled in as they become known: one object
        // per event, not a copy per stage.
        const fields: BatonEvent = {
          ws,
          id: ids.next('ev'),
          stream: '',
          type: this._types.typeOf(d.type),
          actor: req.actor,
          at,
          data: d.data,
          refs: d.refs ?? [],
          sig: '',
          version: 0,
          seq: 0,
          prev: '',
          hash: '',
        };
        const parsed = this._types.dataOf(fields);
        fields.stream = this._types.get(d.type)!.stream(parsed as never);
        if (req.session !== undefined) fields.session = req.session;
        if (d.auth !== undefined) fields.auth = d.auth;
        const data = this._types.admit(fields, tx, {
          now,
          pickAuth: d.auth === undefined,
          pending,
          data: parsed,
        });
        // The keys that may sign it are the actor's keys before the event applies (a key
        // rotation is signed with the old key).
        const keys = signingKeys(fields, tx);
        fields.version =
          (streams.get(fields.stream) ?? (await this.#streamVersion(fields.stream))) + 1;
        streams.set(fields.stream, fields.version);
        fields.seq = head.seq + planned.length + 1;
        // Applied before signing, so later drafts in the batch see its effect; the view
        // does not read sig, prev or hash.
        this._types.apply(fields, tx, data);
        planned.push({ fields, keys, data });
      }
      // Signatures do not cover the chain fields, so a batch signs concurrently.
      const signed = await this.#signAll(planned, req, signatures);
      const out: BatonEvent[] = [];
      let prev = head.seq === 0 ? ws : head.hash;
      planned.forEach(({ fields: event }, i) => {
        event.sig = signed[i]!.sig;
        event.prev = prev;
        event.hash = eventHash(event, signed[i]!.text);
        out.push(event);
        prev = event.hash;
      });
      const extra: ProjectionWrite[] = [];
      if (idemKey) {
        extra.push({
          collection: 'idempotency',
          key: idemKey,
          value: { digest, events: out.map((e) => e.id) },
        });
      }
      return {
        events: out,
        data: planned.map((p) => p.data),
        projections: extra,
        blobs: req.blobs,
      };
    });
  }

  /**
   * Runs `build` against a fresh transaction over the caught-up view and appends what it
   * returns; on `ConflictError`, catches up and runs it again.
   */
  async #appendLoop(
    build: (
      tx: ViewTx,
      head: Head,
    ) => Promise<
      | { existing: BatonEvent[] }
      | {
          events: BatonEvent[];
          /** Each event's parsed data, when the builder has it (saves parsing it again). */
          data?: unknown[];
          projections?: ProjectionWrite[];
          blobs?: BlobWrite[];
        }
    >,
  ): Promise<BatonEvent[]> {
    for (let attempt = 0; ; attempt++) {
      // The head the catch-up reached is the one the append expects (one head read per try).
      const head = await this.#headForCommit(attempt);
      if (head.seq !== this._view.seq) continue;
      const tx = this._view.begin();
      const r = await build(tx, head);
      if ('existing' in r) return r.existing;
      // A plan that finds nothing to do (already done by someone else) writes nothing.
      if (r.events.length === 0) return [];
      let projected: ProjectionWrite[];
      try {
        projected = await this.#project(r.events, tx, r.blobs ?? [], r.data);
      } catch (err) {
        // State rules read the rows the store holds now: when another writer moved the head
        // meanwhile, they judged a later state than the one this batch follows — a lost race.
        const now = await this.#storeCall('head', () => this.store.head());
        if (attempt < this.#maxRetries && (now.seq !== head.seq || now.hash !== head.hash))
          continue;
        throw err;
      }
      const projections = [
        ...tx.projectionWrites(),
        ...(await this.#streamWrites(r.events)),
        ...projected,
        ...(r.projections ?? []),
      ];
      try {
        await this.store.append({
          events: r.events,
          expectedHead: head,
          projections,
          blobs: r.blobs,
        });
      } catch (err) {
        if (isBatonError(err, ErrorCode.CONFLICT)) {
          if (attempt >= this.#maxRetries) {
            throw new BatonError(
              ErrorCode.CONFLICT,
              `Gave up after ${attempt + 1} attempts: other writers kept moving the log head. Retry later.`,
              { cause: err },
            );
          }
          const actual = (err as { head?: Head }).head ?? head;
          this.#safe(() =>
            this.#hooks.onConflictRetry?.({ attempt: attempt + 1, expected: head, actual }),
          );
          this.#logger.debug('append lost the race for the head; retrying', {
            attempt: attempt + 1,
          });
          continue;
        }
        throw storeError('append', err);
      }
      tx.commit();
      this.#noteSeen(r.events);
      this.#noteVersions(r.events);
      this.#afterAppend(r.events);
      return r.events;
    }
  }

  #afterAppend(events: BatonEvent[]): void {
    this.#logger.debug('appended', { seq: events.at(-1)?.seq, count: events.length });
    this.#safe(() => this.#hooks.onAppend?.(events));
  }

  #safe(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#logger.error('a hook threw; ignoring it', { error: String(err) });
    }
  }

  /** Assigns version, seq, prev and hash against `head` and the events placed before it in the batch, and applies it. */
  async #place(e: SignedEvent, tx: ViewTx, head: Head, before: BatonEvent[]): Promise<BatonEvent> {
    const last = before.at(-1);
    const seq = (last?.seq ?? head.seq) + 1;
    const prev = last ? last.hash : head.seq === 0 ? e.ws : head.hash;
    const sameStream = before.filter((b) => b.stream === e.stream).at(-1);
    const version = (sameStream?.version ?? (await this.#streamVersion(e.stream))) + 1;
    const body = { ...e, version, seq, prev };
    const event: BatonEvent = { ...body, hash: eventHash(body) };
    this._types.apply(event, tx);
    return event;
  }

  async #streamVersion(stream: string): Promise<number> {
    const known = this.#streamVersions.get(stream);
    if (known !== undefined) return known;
    const row = (await this.store.get('streams', stream)) as { version: number } | undefined;
    return row?.version ?? 0;
  }

  /**
   * The store-held projection rows a batch changes, each event seeing the ones before it —
   * after its state rules passed against those rows (see `EventTypeDef.admitState`).
   */
  async #project(
    events: BatonEvent[],
    view: ViewTx,
    blobs: readonly BlobWrite[],
    data?: unknown[],
    erasedLater: ReadonlySet<string> = new Set(),
  ): Promise<ProjectionWrite[]> {
    const overlay = new ProjectionOverlay((c, k) => this.store.get(c, k));
    const given = stateReader(overlay, view, blobs, (h) => this.store.blobs.get(h));
    // A body an erasure later in the batch removed (an import) reads as erased, not as missing.
    const state: StateReader = {
      ...given,
      get: async (c, k) =>
        c === 'erasures' && erasedLater.has(k) ? { hash: k } : overlay.get(c, k),
    };
    for (const [i, e] of events.entries()) {
      const d = data?.[i] ?? this._types.dataOf(e);
      await this._types.admitState(e, state, d);
      for (const w of await this._types.projectionsOf(e, overlay, d)) overlay.put(w);
    }
    return [...overlay.writes.values()];
  }

  async #streamWrites(events: BatonEvent[]): Promise<ProjectionWrite[]> {
    const last = new Map<string, number>();
    for (const e of events) last.set(e.stream, e.version);
    return [...last].map(([stream, version]) => ({
      collection: 'streams',
      key: stream,
      value: { version },
    }));
  }

  /**
   * Signs a batch: each event with a key registered for its actor (the request's signer, or
   * one from the keyring), all signatures in flight at once. `made` keeps the signatures of
   * earlier attempts of the same request, so an unchanged event is not signed twice.
   */
  async #signAll(
    list: readonly { fields: SignedFields; keys: string[] }[],
    req: CommitRequest,
    made: Map<string, Map<string, string>>,
  ): Promise<{ sig: string; text: string }[]> {
    const texts: string[] = new Array(list.length);
    const sigs: string[] = new Array(list.length);
    // Signatures still to make: the signer's promise, and where to remember the result.
    const signing: (Promise<Uint8Array> | undefined)[] = new Array(list.length);
    const keep: Map<string, string>[] = new Array(list.length);
    // A batch is one actor's; its keys change only with a key rotation inside the batch.
    let lastKeys: string | undefined;
    let signer: Signer | undefined;
    let byKey: Map<string, string> | undefined;
    for (let i = 0; i < list.length; i++) {
      const { fields, keys } = list[i]!;
      const keysNow = keys.join(' ');
      if (keysNow !== lastKeys) {
        signer = await this.#signerFor(fields.actor, keys, req);
        lastKeys = keysNow;
        byKey = made.get(signer.publicKey);
        if (!byKey) {
          byKey = new Map();
          made.set(signer.publicKey, byKey);
        }
      }
      // admit() has checked the data is plain JSON, so the text needs no second check.
      const text = signingText(fields, false);
      texts[i] = text;
      const known = byKey!.get(text);
      if (known) sigs[i] = known;
      else {
        signing[i] = signer!.sign(utf8(text));
        keep[i] = byKey!;
      }
    }
    const signed = await Promise.all(signing);
    return texts.map((text, i) => {
      const bytes = signed[i];
      if (bytes) {
        sigs[i] = toBase64url(bytes);
        keep[i]!.set(text, sigs[i]!);
      }
      return { sig: sigs[i]!, text };
    });
  }

  /** The signer for `actor` among `keys`: the request's own (which must be one of them), else the keyring's. */
  async #signerFor(actor: string, keys: string[], req: CommitRequest): Promise<Signer> {
    const name = () => this._view.identity(actor)?.name ?? actor;
    if (req.signer) {
      if (keys.includes(req.signer.publicKey)) return req.signer;
      throw new BatonError(
        ErrorCode.FORBIDDEN,
        `The signer given for ${name()} holds a key that is not registered (or was retired) for it.`,
      );
    }
    for (const k of keys) {
      const signer = await this.keyring.signer(actor, k);
      if (signer) return signer;
    }
    throw new BatonError(
      ErrorCode.FORBIDDEN,
      `This process holds no key for ${name()} (${actor}). Open the workspace with a keyring that has it, or pass ws.as(id, { signer }).`,
    );
  }

  async #checkSignature(e: SignedEvent, tx: ViewTx): Promise<void> {
    const bytes = signingBytes(e);
    for (const k of signingKeys(e, tx))
      if (await verifySignature(k, e.sig, bytes).catch(() => false)) return;
    throw new BatonError(
      ErrorCode.INTEGRITY,
      `Event ${e.id}: the signature is not valid for any current key of ${e.actor}.`,
    );
  }

  /** The committed twins of pre-signed events, when all were committed before; VALIDATION when an id was used for something else. */
  async #existing(events: SignedEvent[]): Promise<BatonEvent[] | undefined> {
    const found: BatonEvent[] = [];
    for (const e of events) {
      const old = await this.store.event(e.id);
      if (!old) continue;
      if (
        canonicalJson(signedFieldsOf(old)) !== canonicalJson(signedFieldsOf(e)) ||
        old.sig !== e.sig
      ) {
        throw new BatonError(
          ErrorCode.VALIDATION,
          `Event id ${e.id} exists already with different content. Use a new id.`,
        );
      }
      found.push(old);
    }
    if (found.length === 0) return undefined;
    if (found.length !== events.length) {
      throw new BatonError(
        ErrorCode.VALIDATION,
        'Some of these events were committed before and some were not; submit the new ones alone.',
      );
    }
    return found;
  }

  async #storeCall<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw storeError(what, err);
    }
  }

  /**
   * @internal Full event types for a filter that may name types without their version:
   * `'grant.issued'` stands for every version of it (`grant.issued@1`, `@2`, …).
   */
  _typeFilter(types: readonly string[] | undefined): string[] | undefined {
    return types?.flatMap((t) => {
      if (t.includes('@')) return [t];
      const def = this._types.get(t);
      return def ? Array.from({ length: def.version }, (_, i) => `${t}@${i + 1}`) : [t];
    });
  }

  /** @internal The watch loop shared by workspace and actor watches. */
  async *_watch(
    f: WatchFilter,
    allowed: (e: BatonEvent) => boolean,
  ): AsyncIterableIterator<BatonEvent> {
    const types = this._typeFilter(f.types);
    let cursor = f.after ?? (await this.store.head()).seq;
    const PAGE = 256;
    while (!this.#closed && !f.signal?.aborted) {
      const stored = await this.#storeCall('head', () => this.store.head());
      if (stored.seq > cursor) {
        // Deliver only events this process has verified: catch up first (INTEGRITY at a
        // forged one, which ends the watch), and read no further than the view reached.
        try {
          await this._catchUp();
        } catch (err) {
          if (this.#closed) return;
          throw err;
        }
        const head = { seq: Math.min(stored.seq, this._view.seq) };
        if (head.seq <= cursor) {
          await this.#waitForCommit(cursor, f.signal);
          continue;
        }
        let n = 0;
        for await (const e of this.store.read({
          after: cursor,
          until: head.seq,
          stream: f.stream,
          ref: f.ref,
          types,
          limit: PAGE,
        })) {
          n++;
          cursor = e.seq;
          if (allowed(e)) yield e;
          if (this.#closed || f.signal?.aborted) return;
        }
        if (n < PAGE) cursor = head.seq;
        continue;
      }
      await this.#waitForCommit(cursor, f.signal);
    }
  }

  /** @internal */
  _subscribe(
    f: WatchFilter,
    listener: (e: BatonEvent) => void | Promise<void>,
    allowed: (e: BatonEvent) => boolean,
  ): () => void {
    const controller = new AbortController();
    const outer = f.signal;
    outer?.addEventListener('abort', () => controller.abort(), { once: true });
    const stop = () => controller.abort();
    this.#closers.add(stop);
    void (async () => {
      try {
        for await (const e of this._watch({ ...f, signal: controller.signal }, allowed)) {
          try {
            await listener(e);
          } catch (err) {
            this.#logger.error('a subscriber threw; it keeps receiving events', {
              error: String(err),
              seq: e.seq,
            });
          }
        }
      } catch (err) {
        if (!this.#closed)
          this.#logger.error('a subscription stopped on a store error', { error: String(err) });
      } finally {
        this.#closers.delete(stop);
      }
    })();
    return stop;
  }

  #waitForCommit(after: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        unwatch();
        signal?.removeEventListener('abort', finish);
        this.#closers.delete(finish);
        resolve();
      };
      const timer = setTimeout(finish, this.#pollMs);
      const unwatch = this.store.watch((seq) => {
        if (seq > after) finish();
      });
      signal?.addEventListener('abort', finish, { once: true });
      this.#closers.add(finish);
    });
  }

  /** @internal Every work handoff's accepted span: recipient, artifacts, seqs from acceptance to its end. */
  async _handoffSpans(): Promise<
    { id: string; recipient: string; artifacts: string[]; from: number; until: number }[]
  > {
    const spans = new Map<
      string,
      { id: string; recipient: string; artifacts: string[]; from: number; until: number }
    >();
    const head = await this.store.head();
    const offers = new Map<string, { to: string; artifacts: string[] }>();
    for await (const e of this.store.read({
      types: [
        'handoff.offered@1',
        'handoff.accepted@1',
        'handoff.completed@1',
        'handoff.returned@1',
        'handoff.cancelled@1',
      ],
    })) {
      const d = e.data as {
        id: string;
        kind?: string;
        to?: string[];
        artifacts?: { id: string }[];
      };
      if (e.type === 'handoff.offered@1' && d.kind === 'work')
        offers.set(d.id, { to: d.to![0]!, artifacts: d.artifacts!.map((a) => a.id) });
      else if (
        e.type === 'handoff.accepted@1' &&
        offers.has(d.id) &&
        offers.get(d.id)!.to === e.actor
      ) {
        spans.set(d.id, {
          id: d.id,
          recipient: e.actor,
          artifacts: offers.get(d.id)!.artifacts,
          from: e.seq,
          until: head.seq,
        });
      } else if (spans.has(d.id)) spans.get(d.id)!.until = Math.min(spans.get(d.id)!.until, e.seq);
    }
    return [...spans.values()];
  }

  /** @internal The workspace's clock. */
  _now(): number {
    return this.#clock();
  }
}

/**
 * The app's logger, each call guarded: a logger that throws must not turn a commit that
 * happened into an error (the caller would retry what is already written).
 */
function neverThrows(logger: Logger): Logger {
  const guard =
    (m: keyof Logger) =>
    (message: string, fields?: Record<string, unknown>): void => {
      try {
        logger[m](message, fields);
      } catch {
        // Nothing to tell it with: the logger itself failed.
      }
    };
  return { debug: guard('debug'), info: guard('info'), warn: guard('warn'), error: guard('error') };
}
