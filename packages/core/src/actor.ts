import { z } from 'zod';
import { Artifacts } from './artifacts/artifacts.js';
import { chainOf, type Decision, evaluate } from './auth/evaluate.js';
import { type Authorization, type AuthorizeOptions, exerciseDrafts } from './auth/exercise.js';
import { streamResource } from './auth/operations.js';
import type { Identity } from './auth/view.js';
import { Capabilities } from './capabilities.js';
import type { Plan } from './commit/draft.js';
import { ContextLog } from './context/contextLog.js';
import { canonicalJson, type JsonValue } from './crypto/canonical.js';
import { utf8 } from './crypto/encoding.js';
import { sha256b64 } from './crypto/hash.js';
import type { Signer } from './crypto/keys.js';
import { eraseBody } from './erasure.js';
import { BatonError, ErrorCode } from './errors.js';
import { approvalFor } from './handoffs/approvals.js';
import { Handoffs } from './handoffs/handoffs.js';
import { type InboxItem, type InboxOptions, inboxOf } from './handoffs/inbox.js';
import { Identities } from './identities.js';
import type { BatonEvent } from './log/event.js';
import { ID_KINDS, type IdKind, resolveIdIn, shortIdsIn } from './lookup.js';
import type { Scope, ScopeCommit, ScopeHost } from './scope.js';
import type { Page } from './store/store.js';
import { idString, jsonValue, parseInput, type WatchFilter, watchSchema } from './validation.js';

/** Options for `workspace.as(id, options)`. */
export interface ActorOptions {
  /** The run or session this actor acts in; recorded on every event. Defaults to none. */
  session?: string;
  /** Signs for the identity when the workspace's keyring does not hold its key. */
  signer?: Signer;
}

export type { Authorization, AuthorizeOptions } from './auth/exercise.js';

/** Largest body `emit` stores: 16 MiB. */
const MAX_BODY = 16 * 1024 * 1024;

/** Options of {@link Actor.emit}. */
export interface EmitOptions {
  /** Ids the event is about (the query index). Defaults to none. */
  refs?: string[];
  /**
   * Bodies the event refers to by hash (its type's `blobs(data)` names them): stored
   * content-addressed with the event, erasable later by an owner. Defaults to none.
   */
  blobs?: (string | Uint8Array)[];
  /** Makes a retried call return the first call's event. */
  idempotencyKey?: string;
}

const emitSchema = z
  .object({
    refs: z.array(z.string().min(1).max(400)).max(256).optional(),
    blobs: z
      .array(z.union([z.string().max(MAX_BODY), z.instanceof(Uint8Array)]))
      .max(64)
      .optional(),
    idempotencyKey: idString.optional(),
  })
  .optional();

// Built-in event families; apps cannot write them through emit().
const BUILTIN_PREFIXES = [
  'workspace.',
  'identity.',
  'grant.',
  'blob.',
  'artifact.',
  'context.',
  'handoff.',
];

/** Options of {@link Actor.log}. */
export interface LogQuery {
  /** Only events after this seq. Defaults to `0`. */
  after?: number;
  stream?: string;
  ref?: string;
  /** Event types: a full type (`'grant.issued@1'`) or a name for all its versions (`'grant.issued'`). */
  types?: string[];
  /** Page size. Defaults to `100`. */
  limit?: number;
  /**
   * Return events exactly as stored (what signatures cover). Defaults to `false`: events of
   * an older type version come upcast to the current shape, marked with `upcastFrom`.
   */
  raw?: boolean;
}

// Schemas are built once: constructing a zod schema costs far more than parsing with it.
const resourceString = z.string().min(1).max(400);
const blobHash = z
  .string()
  .regex(/^[A-Za-z0-9_-]{43}$/, 'must be a body hash (base64url SHA-256, 43 characters)');
const reasonString = z.string().trim().min(1, 'must say why').max(2_000);

function parsePair(action: unknown, resource: unknown, where: string): [string, string] {
  return [
    parseInput(idString, action, `${where}(action)`),
    parseInput(resourceString, resource, `${where}(resource)`),
  ];
}

/** Options of {@link Actor.can}. */
export interface CanOptions {
  /**
   * Ask for another identity: what it may do. Needs `read` on `grant:*`. Defaults to this
   * actor.
   */
  for?: string;
}

const canSchema = z.object({ for: idString.optional() });
const kindsSchema = z
  .array(z.enum(Object.keys(ID_KINDS) as [IdKind, ...IdKind[]]))
  .min(1)
  .optional();

const actorOptionsSchema = z.object({
  session: idString.optional(),
  signer: z
    .custom<Signer>(
      (s) => typeof s === 'object' && s !== null && typeof (s as Signer).sign === 'function',
      { message: 'must be a Signer ({ publicKey, sign(bytes) })' },
    )
    .optional(),
});

const authorizeSchema = z
  .object({
    summary: z.string().max(4_000).optional(),
    payload: jsonValue.optional(),
    idempotencyKey: idString.optional(),
  })
  .optional();

/**
 * How many events `actor.log` looks at per event of its page `limit`, at most: the bound
 * on one call's work when the actor may read few of the events it passes. `10`.
 */
export const LOG_SCAN_PER_LIMIT = 10;
/** The fewest events one `actor.log` call may look at, whatever its `limit`: `1,000`. */
export const LOG_SCAN_MIN = 1_000;

const logSchema = z.object({
  after: z.number().int().nonnegative().optional(),
  stream: z.string().min(1).optional(),
  ref: z.string().min(1).optional(),
  types: z.array(z.string().min(1)).optional(),
  limit: z.number().int().min(1).max(1_000).optional(),
  raw: z.boolean().optional(),
});

/**
 * An identity acting on a workspace. Every call is attributed to it and checked against
 * its grants before anything is written; a refused call writes nothing. Get one with
 * `workspace.as(identityId)`.
 */
export class Actor {
  /** The identity acting. */
  readonly id: string;
  /** The run or session, when given. */
  readonly session: string | undefined;
  /** @internal */
  readonly signer: Signer | undefined;
  /** Create, read, suspend identities; rotate keys. */
  readonly identities: Identities;
  /** Issue, revoke and list grants. */
  readonly capabilities: Capabilities;
  /** Versioned shared work: create, read, edit (with merges), hold, history, changes since. */
  readonly artifacts: Artifacts;
  /** What was tried, learned, decided and why: record and query. */
  readonly context: ContextLog;
  /** Work, approvals and questions passed across, with briefings. */
  readonly handoffs: Handoffs;
  readonly #ws: ScopeHost;
  readonly #scope: Scope;

  /** @internal Use `workspace.as(id)`. */
  constructor(ws: ScopeHost, id: string, options: ActorOptions) {
    const o = parseInput(actorOptionsSchema, options, 'workspace.as(id, options)');
    this.#ws = ws;
    this.id = id;
    this.session = o.session;
    this.signer = o.signer;
    const scope = scopeOf(ws, id, o.session, o.signer);
    this.#scope = scope;
    this.identities = new Identities(scope);
    this.capabilities = new Capabilities(scope);
    this.artifacts = new Artifacts(scope);
    this.context = new ContextLog(scope);
    this.handoffs = new Handoffs(scope);
  }

  /** This actor's identity. */
  async me(): Promise<Identity> {
    await this.#scope.catchUp();
    const who = this.#scope.authority.identity(this.id);
    if (!who)
      throw new BatonError(
        ErrorCode.NOT_FOUND,
        `Identity ${this.id} does not exist in this workspace.`,
      );
    return who;
  }

  /**
   * {@link Actor.can} for this actor without reading the store: decided against the workspace
   * as of its last catch-up, at the current time (so a grant that has expired since is already
   * refused). For a caller that has just caught up — with `workspace.head()`, say — and wants
   * no second store read; otherwise use `can`, which catches up first. The artifacts of a tag
   * a grant names (`artifact:tag/<tag>`) are loaded by this actor's first call that catches
   * up (or any write), not by opening the workspace: before it, `canNow` refuses what only
   * such a grant allows.
   *
   * @throws BatonError `VALIDATION` for a malformed action or resource.
   */
  canNow(action: string, resource: string): Decision {
    const [a, r] = parsePair(action, resource, 'canNow');
    return this.#decide(a, r);
  }

  /**
   * May this actor do `action` on `resource` now? Answers with the allowing grant chain, or
   * the reason it may not (which grant, which rule) — including when it needs approval.
   */
  async can(action: string, resource: string, options?: CanOptions): Promise<Decision> {
    const [a, r] = parsePair(action, resource, 'can');
    const o = parseInput(canSchema, options ?? {}, 'can');
    await this.#scope.catchUp(o.for);
    if (o.for === undefined || o.for === this.id) return this.#decide(a, r);
    if (!this.#scope.authority.identity(o.for))
      throw new BatonError(ErrorCode.NOT_FOUND, `can: \`for\` names no identity (${o.for}).`, {
        details: { field: 'for' },
      });
    // The answer shows the grants that allow it, so asking for someone else needs read on them.
    const d = this.#decide('read', 'grant:*');
    if (!d.allowed)
      throw new BatonError(
        ErrorCode.FORBIDDEN,
        `Asking what ${o.for} may do needs read on grant:* (the answer names their grants): ${d.reason}.`,
        { details: { needs: [{ action: 'read', resource: 'grant:*' }] } },
      );
    return this.#scope.decide(a, r, o.for);
  }

  /**
   * The full id that `ref` names: the id itself, or a prefix only one id starts with
   * (`ho_01M8RCM2`, or `01M8RCM2` when `kinds` says which kinds to look in). Reads the
   * primary index by range, never the whole projection. It says only which id a prefix
   * names; reading what the id stands for is authorized as usual.
   *
   * @param kinds - Where to look: `identity`, `artifact`, `handoff`, `context`, `grant`.
   *   Defaults to all of them.
   * @throws BatonError `NOT_FOUND` when no id starts with `ref`; `VALIDATION` when several
   *   do (`details.candidates` lists them), or `ref` is an id of a kind not asked for.
   */
  async resolveId(ref: string, kinds?: IdKind[]): Promise<string> {
    const r = parseInput(idString, ref, 'resolveId(ref)');
    const k = parseInput(kindsSchema, kinds, 'resolveId(kinds)');
    await this.#scope.catchUp();
    return (await resolveIdIn(this.#ws.store, r, k)).id;
  }

  /**
   * A short form of each id for people to read and type: the shortest prefix no other id of
   * its kind starts with (at least 11 characters), which {@link Actor.resolveId} resolves back
   * while it stays unique. Ids of no known kind come back whole.
   */
  async shortIds(ids: readonly string[]): Promise<Map<string, string>> {
    const list = parseInput(z.array(idString).max(10_000), ids, 'shortIds(ids)');
    await this.#scope.catchUp();
    return shortIdsIn(this.#ws.store, list);
  }

  /**
   * Gates an app's own side effect (sending an email, publishing): passes when a grant in
   * force allows `action` on `resource`, recording a `grant.exercised` event (which counts
   * toward `maxUses`); throws `FORBIDDEN` when none does, and `APPROVAL_REQUIRED` when the
   * grant needs an approver's yes first.
   *
   * @remarks
   * An approval is bound to the requester, action, resource and payload digest. When the
   * approver approved with an edited payload (`handoffs.approve(id, { payload })`), only
   * that payload passes: call again with it (the `FORBIDDEN` error for the original
   * payload carries it as `details.approvedPayload`). The returned
   * {@link Authorization.approvedPayload} is the payload the approval binds. A use
   * consumes the approval, exactly once, in the same commit as its `grant.exercised`.
   * With `idempotencyKey`, a retry returns the first authorization (approved or not)
   * without consuming or requesting anything again.
   */
  async authorize(
    action: string,
    resource: string,
    options?: AuthorizeOptions,
  ): Promise<Authorization> {
    const [a, r] = parsePair(action, resource, 'authorize');
    const o = parseInput(authorizeSchema, options, 'authorize');
    const data: Record<string, JsonValue> = { action: a, resource: r };
    if (o?.summary !== undefined) data.summary = o.summary;
    const digest = o?.payload !== undefined ? sha256b64(canonicalJson(o.payload)) : undefined;
    if (digest !== undefined) data.payloadDigest = digest;
    for (let attempt = 0; ; attempt++) {
      await this.#scope.catchUp();
      // One commit for both paths, so the idempotency row covers an approved use too.
      const events = await this.#scope.commit({
        idempotency: { key: o?.idempotencyKey, operation: 'authorize', input: data },
        plan: (tx, _ids, at): Plan => ({
          drafts: exerciseDrafts(tx, this.id, { action: a, resource: r }, data, digest, at),
        }),
      });
      const event = events.find((e) => e.type.startsWith('grant.exercised@'));
      if (event) return this.#authorization(event, o?.payload);
      // The action needs a yes: reuse the request for this exact payload, or raise one.
      const h = await approvalFor(this.#scope, a, r, { summary: o?.summary, payload: o?.payload });
      const names = h.to.map((x) => this.#scope.authority.identity(x)?.name ?? x).join(' or ');
      if (h.status === 'approved') {
        // What the approval binds, as the verified log says (not as the row says).
        const held = this.#scope.authority.approval(h.id);
        const bound = held?.approvedPayloadHash ?? held?.payloadHash;
        // Approved since the plan looked: use it.
        if (bound === digest && attempt < 2) continue;
        const details: Record<string, JsonValue> = {
          approvalId: h.id,
          status: h.status,
          approvers: h.to,
        };
        if (h.approvedPayload !== undefined) details.approvedPayload = h.approvedPayload;
        throw new BatonError(
          ErrorCode.FORBIDDEN,
          bound === digest
            ? `${a} on ${r} was approved (request ${h.id}), but the approval cannot be used now. Check the grant it was requested under with actor.can('${a}', '${r}').`
            : `${a} on ${r} was approved (request ${h.id}) only for the payload ${names} edited, not for this one. Call again with that payload (details.approvedPayload, or handoffs.get('${h.id}').approvedPayload).`,
          { details },
        );
      }
      throw new BatonError(
        ErrorCode.APPROVAL_REQUIRED,
        `${a} on ${r} needs approval by ${names}: request ${h.id} is ${h.status}. Wait for it with actor.handoffs.wait('${h.id}') and call again with the same payload.`,
        { details: { approvalId: h.id, status: h.status, approvers: h.to } },
      );
    }
  }

  #authorization(event: BatonEvent, payload: JsonValue | undefined): Authorization {
    const authority = this.#scope.authority;
    const grant = authority.grant(event.auth!)!;
    const out: Authorization = { grant, chain: chainOf(authority, grant), event };
    const approval = (event.data as { approval?: string }).approval;
    if (approval !== undefined) {
      out.approval = approval;
      // The use passed with exactly the payload the approval binds.
      if (payload !== undefined) out.approvedPayload = payload;
    }
    return out;
  }

  /**
   * Records an app-defined event (registered with `defineEventType` in
   * `Workspace.open({ eventTypes })`) in the same signed log, authorized by its type's rule
   * (by default `write` on the stream's resource).
   *
   * @example
   * ```ts
   * const deployed = defineEventType({ name: 'app.deployed', schema: z.object({ env: z.string() }),
   *   stream: (d) => `deploy/${d.env}` });
   * await agent.emit('app.deployed', { env: 'prod' });
   * ```
   */
  async emit(type: string, data: JsonValue, options?: EmitOptions): Promise<BatonEvent> {
    const t = parseInput(idString, type, 'emit(type)');
    const d = parseInput(jsonValue, data, 'emit(data)');
    const o = parseInput(emitSchema, options, 'emit');
    const def = this.#ws._types.get(t);
    if (!def || BUILTIN_PREFIXES.some((p) => t.startsWith(p))) {
      throw new BatonError(
        ErrorCode.VALIDATION,
        `emit: "${t}" is not an app event type. Define it with defineEventType() and pass it in Workspace.open({ eventTypes }).`,
      );
    }
    // One call stores at most 64 MiB of bodies (64 bodies of MAX_BODY would be 1 GiB).
    const maxTotal = 4 * MAX_BODY;
    let total = 0;
    const blobs = (o?.blobs ?? []).map((b) => {
      const bytes = typeof b === 'string' ? utf8(b) : b.slice();
      if (bytes.length > MAX_BODY) {
        throw new BatonError(
          ErrorCode.VALIDATION,
          `emit: a body is ${bytes.length} bytes; the limit is ${MAX_BODY}.`,
        );
      }
      total += bytes.length;
      if (total > maxTotal)
        throw new BatonError(
          ErrorCode.VALIDATION,
          `emit: the bodies take more than ${maxTotal} bytes together, the limit per call. Emit them in several events.`,
          { details: { field: 'blobs' } },
        );
      return { hash: sha256b64(bytes), bytes };
    });
    const given = new Set(blobs.map((b) => b.hash));
    for (const h of this.#ws._types.blobsOf({ type: this.#ws._types.typeOf(t), data: d })) {
      if (!given.has(h) && !(await this.#ws.store.blobs.has(h))) {
        throw new BatonError(
          ErrorCode.VALIDATION,
          `emit: the event refers to body ${h}, which is neither passed in \`blobs\` nor stored already.`,
        );
      }
    }
    const events = await this.#scope.commit({
      idempotency: { key: o?.idempotencyKey, operation: `emit:${t}`, input: d },
      plan: () => ({ drafts: [{ type: t, data: d, refs: o?.refs ?? [] }], blobs }),
    });
    return events[0]!;
  }

  /**
   * Erases a body for good (a leaked secret, personal data): deletes its bytes and records
   * who erased it and why in a `blob.erased` event. Reads then show
   * `[erased by <name>: <reason>]`; `verify()` still passes and lists it as erased.
   * Owners only. Erasing an erased body again only makes sure its bytes are gone.
   */
  async erase(hash: string, reason: string): Promise<BatonEvent> {
    const h = parseInput(blobHash, hash, 'erase(hash)');
    const why = parseInput(reasonString, reason, 'erase(reason)');
    return eraseBody(this.#ws, this.#scope, h, why);
  }

  /** The whole log as JSONL (see `workspace.export`). Needs `admin` on `workspace`. */
  async *export(): AsyncIterable<string> {
    await this.#scope.catchUp();
    const d = this.#decide('admin', 'workspace');
    if (!d.allowed) {
      throw new BatonError(
        ErrorCode.FORBIDDEN,
        `Exporting the whole log needs admin on workspace: ${d.reason}.`,
      );
    }
    yield* this.#ws.export();
  }

  /**
   * Everything waiting on this identity — work offered or accepted, approvals to decide,
   * questions to answer — by priority, then due time. Approvals carry a `group` so similar
   * ones can be decided together (`handoffs.approve([...ids])`).
   */
  async inbox(options: InboxOptions = {}): Promise<Page<InboxItem>> {
    return inboxOf(this.#scope, options);
  }

  /**
   * Events this actor may read, in commit order, a page at a time. `next` is the seq to pass
   * as `after`; page on while it is set.
   *
   * @remarks
   * One call looks at no more than {@link LOG_SCAN_PER_LIMIT} × `limit` events (at least
   * {@link LOG_SCAN_MIN}) that match the query, so its cost follows the page, not the history:
   * an actor who may read few of them gets a shorter page — possibly empty — with `next` set.
   */
  async log(query: LogQuery = {}): Promise<Page<BatonEvent> & { next?: string }> {
    const q = parseInput(logSchema, query, 'actor.log');
    await this.#scope.catchUp();
    const limit = q.limit ?? 100;
    const budget = Math.max(LOG_SCAN_MIN, limit * LOG_SCAN_PER_LIMIT);
    const items: BatonEvent[] = [];
    let last = q.after ?? 0;
    let scanned = 0;
    for await (const e of this.#ws.store.read({
      after: q.after,
      stream: q.stream,
      ref: q.ref,
      types: this.#ws._typeFilter(q.types),
    })) {
      last = e.seq;
      scanned++;
      if (this._readable(e)) items.push(q.raw ? e : this.#ws.upcast(e));
      if (items.length >= limit || scanned >= budget) break;
    }
    const full = items.length >= limit || scanned >= budget;
    const head = await this.#ws.store.head();
    return full && last < head.seq ? { items, next: String(last) } : { items };
  }

  /** Like `workspace.watch`, but only events this actor may read. */
  watch(filter: WatchFilter = {}): AsyncIterableIterator<BatonEvent> {
    const f = parseInput(watchSchema, filter, 'actor.watch');
    return this.#ws._watch(f, (e) => this._readable(e), [this.id]);
  }

  /**
   * Like `workspace.subscribe`, but only events this actor may read — including the events of
   * a handoff it is a party to (who offered it, who it is for, its approvers, who it was
   * escalated to), which it reads as `handoffs.get` does, without `read` on the handoff.
   */
  subscribe(
    filter: WatchFilter,
    listener: (event: BatonEvent) => void | Promise<void>,
  ): () => void {
    const f = parseInput(watchSchema, filter, 'actor.subscribe');
    if (typeof listener !== 'function') {
      throw new BatonError(ErrorCode.VALIDATION, 'actor.subscribe: `listener` must be a function.');
    }
    // Whether it is a party is in the handoff's row, read from the store: such an event is
    // let through here and checked before the listener hears it (events stay in order, as the
    // listener is awaited event by event).
    const party = (e: BatonEvent) => e.stream.startsWith('handoff/') && !this._readable(e);
    return this.#ws._subscribe(
      f,
      async (e) => {
        if (party(e)) {
          const id = e.stream.slice('handoff/'.length);
          const readable = await this.handoffs.get(id).then(
            () => true,
            () => false,
          );
          if (!readable) return;
        }
        await listener(e);
      },
      (e) => e.stream.startsWith('handoff/') || this._readable(e),
      [this.id],
    );
  }

  /** @internal May this actor read `e`? */
  _readable(e: BatonEvent): boolean {
    const authority = this.#scope.authority;
    if (e.actor === this.id) return true;
    if (e.stream === `identity/${this.id}`) return true;
    if (e.stream.startsWith('grant/')) {
      const g = authority.grant(e.stream.slice('grant/'.length));
      if (g && (g.audience === this.id || g.issuer === this.id)) return true;
    }
    return this.#scope.may('read', streamResource(e.stream));
  }

  #decide(action: string, resource: string): Decision {
    return this.#scope.decide(action, resource);
  }
}

/** The scope the facades of `actor` act through, over the workspace's members. */
function scopeOf(
  ws: ScopeHost,
  actor: string,
  session: string | undefined,
  signer: Signer | undefined,
): Scope {
  const decide = (action: string, resource: string, identity = actor): Decision =>
    evaluate(ws._view, identity, [{ action, resource }], new Date(ws._now()).toISOString());
  return {
    actor,
    get workspace() {
      return ws.id ?? '';
    },
    keyring: ws.keyring,
    get authority() {
      return ws._view;
    },
    rows: ws.store,
    catchUp: async (identity) => {
      await ws._catchUp(identity === undefined || identity === actor ? [actor] : [actor, identity]);
    },
    may: (action, resource) => decide(action, resource).allowed,
    decide,
    commit: (request) => commitAs(ws, { actor, session, signer }, request),
    now: () => ws._now(),
    blob: (hash) => ws.blob(hash),
    text: (hash) => ws.text(hash),
    schema: (name) => ws._schemas.get(name),
    events: (query) => ws.store.read(query),
    head: () => ws.store.head(),
    watch: (filter, allowed) => ws._watch(filter, allowed, [actor]),
    handoffSpans: () => ws._handoffSpans(),
  };
}

/** Commits a scope's request through the workspace's pipeline, as the scope's actor. */
function commitAs(
  ws: ScopeHost,
  as: { actor: string; session: string | undefined; signer: Signer | undefined },
  request: ScopeCommit,
): Promise<BatonEvent[]> {
  return ws._commit({ ...as, idempotency: request.idempotency, plan: request.plan });
}
