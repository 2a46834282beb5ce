import { z } from 'zod';
import { Artifacts } from './artifacts/artifacts.js';
import { type Decision, evaluate } from './auth/evaluate.js';
import { streamResource } from './auth/operations.js';
import type { Grant, Identity } from './auth/view.js';
import { Capabilities } from './capabilities.js';
import { ContextLog } from './context/contextLog.js';
import { canonicalJson, type JsonValue } from './crypto/canonical.js';
import { utf8 } from './crypto/encoding.js';
import { sha256b64 } from './crypto/hash.js';
import type { Signer } from './crypto/keys.js';
import { BatonError, ErrorCode } from './errors.js';
import { Handoffs, type InboxItem, type InboxOptions } from './handoffs/handoffs.js';
import { Identities } from './identities.js';
import type { BatonEvent } from './log/event.js';
import type { Page } from './store/store.js';
import { idString, jsonValue, parseInput } from './validation.js';
import type { CommitRequest, WatchFilter, Workspace } from './workspace.js';

/** Options for `workspace.as(id, options)`. */
export interface ActorOptions {
  /** The run or session this actor acts in; recorded on every event. Defaults to none. */
  session?: string;
  /** Signs for the identity when the workspace's keyring does not hold its key. */
  signer?: Signer;
}

/** Options of {@link Actor.authorize}. */
export interface AuthorizeOptions {
  /** What is about to happen, in words, for the audit log and for approvers. */
  summary?: string;
  /** The exact thing being authorized; only its digest is recorded. */
  payload?: JsonValue;
  /** Makes a retried call return the first call's authorization. */
  idempotencyKey?: string;
}

/** What {@link Actor.authorize} returns when the action may go ahead. */
export interface Authorization {
  grant: Grant;
  chain: Grant[];
  /** The `grant.exercised` event recording it. */
  event: BatonEvent;
  /** The approval request this use consumed, when the action needed one. */
  approval?: string;
}

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
  readonly #ws: Workspace;

  /** @internal Use `workspace.as(id)`. */
  constructor(ws: Workspace, id: string, options: ActorOptions) {
    const o = parseInput(actorOptionsSchema, options, 'workspace.as(id, options)');
    this.#ws = ws;
    this.id = id;
    this.session = o.session;
    this.signer = o.signer;
    this.identities = new Identities(ws, this);
    this.capabilities = new Capabilities(ws, this);
    this.artifacts = new Artifacts(ws, this);
    this.context = new ContextLog(ws, this);
    this.handoffs = new Handoffs(ws, this);
  }

  /** This actor's identity. */
  async me(): Promise<Identity> {
    await this.#ws._catchUp();
    const who = this.#ws._view.identity(this.id);
    if (!who)
      throw new BatonError(
        ErrorCode.NOT_FOUND,
        `Identity ${this.id} does not exist in this workspace.`,
      );
    return who;
  }

  /**
   * May this actor do `action` on `resource` now? Answers with the allowing grant chain, or
   * the reason it may not (which grant, which rule) — including when it needs approval.
   */
  async can(action: string, resource: string): Promise<Decision> {
    const [a, r] = parsePair(action, resource, 'can');
    await this.#ws._catchUp();
    return this.#decide(a, r);
  }

  /**
   * Gates an app's own side effect (sending an email, publishing): passes when a grant in
   * force allows `action` on `resource`, recording a `grant.exercised` event (which counts
   * toward `maxUses`); throws `FORBIDDEN` when none does, and `APPROVAL_REQUIRED` when the
   * grant needs an approver's yes first.
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
    if (o?.payload !== undefined) data.payloadDigest = sha256b64(canonicalJson(o.payload));
    await this.#ws._catchUp();
    const gate = this.#decide(a, r);
    if (!gate.allowed && gate.approval) {
      // The action needs a yes: reuse the request for this exact payload, or raise one.
      const h = await this.handoffs._approval(a, r, { summary: o?.summary, payload: o?.payload });
      if (h.status === 'approved') {
        const [event] = await this.handoffs._consume(h, [
          {
            type: 'grant.exercised',
            data: { ...data, grant: gate.approval.grant.id, approval: h.id },
            refs: [r, this.id, h.id],
          },
        ]);
        const grant = this.#ws._view.grant(event!.auth!)!;
        return { grant, chain: evaluateChain(this.#ws, grant), event: event!, approval: h.id };
      }
      throw new BatonError(
        ErrorCode.APPROVAL_REQUIRED,
        `${a} on ${r} needs approval by ${h.to.map((x) => this.#ws._view.identity(x)?.name ?? x).join(' or ')}: request ${h.id} is ${h.status}. Wait for it with actor.handoffs.wait('${h.id}') and call again with the same payload.`,
        { details: { approvalId: h.id, status: h.status, approvers: h.to } },
      );
    }
    const events = await this._commit({
      idempotency: { key: o?.idempotencyKey, operation: 'authorize', input: data },
      plan: (view, _ids, at) => {
        const d = evaluate(view, this.id, [{ action: a, resource: r }], at);
        // Not allowed: let the common path raise the precise FORBIDDEN / APPROVAL_REQUIRED.
        return [
          {
            type: 'grant.exercised',
            data: { ...data, grant: d.allowed ? d.grant.id : '-' },
            refs: [r, this.id],
          },
        ];
      },
    });
    const event = events[0]!;
    const grant = this.#ws._view.grant(event.auth!)!;
    return { grant, chain: evaluateChain(this.#ws, grant), event };
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
    const events = await this._commit({
      idempotency: { key: o?.idempotencyKey, operation: `emit:${t}`, input: d },
      plan: () => [{ type: t, data: d, refs: o?.refs ?? [] }],
      blobs,
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
    await this.#ws._catchUp();
    const row = (await this.#ws.store.get('erasures', h)) as { event: string } | undefined;
    let event = row ? await this.#ws.store.event(row.event) : undefined;
    if (!event) {
      [event] = await this._commit({
        plan: () => [{ type: 'blob.erased', data: { hash: h, reason: why }, refs: [h] }],
      });
    }
    await this.#ws.store.blobs.delete(h);
    return event!;
  }

  /** The whole log as JSONL (see `workspace.export`). Needs `admin` on `workspace`. */
  async *export(): AsyncIterable<string> {
    await this.#ws._catchUp();
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
    return this.handoffs._inbox(options);
  }

  /** Events this actor may read, in commit order, a page at a time. `next` is the seq to pass as `after`. */
  async log(query: LogQuery = {}): Promise<Page<BatonEvent> & { next?: string }> {
    const q = parseInput(logSchema, query, 'actor.log');
    await this.#ws._catchUp();
    const limit = q.limit ?? 100;
    const items: BatonEvent[] = [];
    let last = q.after ?? 0;
    for await (const e of this.#ws.store.read({
      after: q.after,
      stream: q.stream,
      ref: q.ref,
      types: this.#ws._typeFilter(q.types),
    })) {
      last = e.seq;
      if (this._readable(e)) items.push(q.raw ? e : this.#ws.upcast(e));
      if (items.length >= limit) break;
    }
    const head = await this.#ws.store.head();
    return items.length >= limit && last < head.seq ? { items, next: String(last) } : { items };
  }

  /** Like `workspace.watch`, but only events this actor may read. */
  watch(filter: WatchFilter = {}): AsyncIterableIterator<BatonEvent> {
    return this.#ws._watch(filter, (e) => this._readable(e));
  }

  /** Like `workspace.subscribe`, but only events this actor may read. */
  subscribe(
    filter: WatchFilter,
    listener: (event: BatonEvent) => void | Promise<void>,
  ): () => void {
    return this.#ws._subscribe(filter, listener, (e) => this._readable(e));
  }

  /** @internal Commits through the workspace's write path as this actor (its session and signer). */
  _commit(request: Omit<CommitRequest, 'actor' | 'session' | 'signer'>): Promise<BatonEvent[]> {
    return this.#ws._commit({
      ...request,
      actor: this.id,
      session: this.session,
      signer: this.signer,
    });
  }

  /** @internal A decision against the view as it is (no catch-up). */
  _canNow(action: string, resource: string): boolean {
    return this.#decide(action, resource).allowed;
  }

  /** @internal May this actor read `e`? */
  _readable(e: BatonEvent): boolean {
    const view = this.#ws._view;
    if (e.actor === this.id) return true;
    if (e.stream === `identity/${this.id}`) return true;
    if (e.stream.startsWith('grant/')) {
      const g = view.grant(e.stream.slice('grant/'.length));
      if (g && (g.audience === this.id || g.issuer === this.id)) return true;
    }
    return this._canNow('read', streamResource(e.stream));
  }

  #decide(action: string, resource: string): Decision {
    const at = new Date(this.#ws._now()).toISOString();
    return evaluate(this.#ws._view, this.id, [{ action, resource }], at);
  }
}

function evaluateChain(ws: Workspace, grant: Grant): Grant[] {
  const out: Grant[] = [];
  let g: Grant | undefined = grant;
  while (g && out.length < 64) {
    out.push(g);
    g = g.parent ? ws._view.grant(g.parent) : undefined;
  }
  return out;
}
