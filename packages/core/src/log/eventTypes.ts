import { type z, z as zod } from 'zod';
import { chainOf, evaluate, type Requirement } from '../auth/evaluate.js';
import { streamResource } from '../auth/operations.js';
import type { Grant, Identity, ViewReader, ViewTx } from '../auth/view.js';
import { findNonJson, type JsonValue, MAX_EVENT_DEPTH } from '../crypto/canonical.js';
import { BatonError, ErrorCode } from '../errors.js';
import type { ProjectionWrite } from '../store/store.js';
import {
  fitsBytes,
  idString,
  isoTime,
  MAX_INLINE_JSON,
  MAX_NAME,
  parseInput,
  utf8Length,
} from '../validation.js';
import { type BatonEvent, parseType, type SignedFields } from './event.js';

/** Reads projection rows as they stand at some point of a write (see {@link EventTypeDef.project}). */
export interface ProjectionReader {
  get(collection: string, key: string): Promise<JsonValue | undefined>;
  /**
   * A body by hash — given with the write, or stored; `undefined` when neither (erased, say):
   * what a projection's search text is made from. Absent where no bodies can be read.
   */
  blob?(hash: string): Promise<Uint8Array | undefined>;
}

/**
 * A {@link ProjectionReader} over a store that sees the writes made so far in the same
 * batch first; `put` records them.
 */
export class ProjectionOverlay implements ProjectionReader {
  readonly writes = new Map<string, ProjectionWrite>();
  readonly #read: (collection: string, key: string) => Promise<JsonValue | undefined>;

  constructor(read: (collection: string, key: string) => Promise<JsonValue | undefined>) {
    this.#read = read;
  }

  async get(collection: string, key: string): Promise<JsonValue | undefined> {
    const w = this.writes.get(`${collection}\u0000${key}`);
    if (w) return w.value ?? undefined;
    return this.#read(collection, key);
  }

  put(w: ProjectionWrite): void {
    this.writes.set(`${w.collection}\u0000${w.key}`, w);
  }
}

/**
 * The state just before an event, for the rules that need more than the authority view:
 * projection rows (artifact heads, context entries, handoffs) and bodies.
 */
export interface StateReader extends ProjectionReader {
  /** The authority view at (or just after) the event's position in its batch. */
  readonly view: ViewReader;
  /** A body by hash: one given in the same write, or a stored one; `undefined` when neither. */
  blob(hash: string): Promise<Uint8Array | undefined>;
}

/** An event's fields as a type's rules see them, with `data` already parsed. */
export type EventOf<D> = Omit<SignedFields, 'data'> & { data: D };

/** How an event is authorized: by a grant covering `needs`, or by no grant at all. */
export type AuthRule =
  | { kind: 'grant'; needs: Requirement[] }
  | { kind: 'none'; why: 'bootstrap' | 'self' };

/**
 * The definition of one event type: its schema and its rules. Built-in types and
 * app-defined ones ({@link defineEventType}) are the same thing.
 */
export interface EventTypeDef<D = JsonValue> {
  /** `noun.pastTense`, e.g. `'grant.issued'`. */
  name: string;
  /** The current version; events of older versions are upcast on read. */
  version: number;
  /** Validates `data`. */
  schema: z.ZodType<D>;
  /** The stream the event belongs to, from its data. */
  stream(data: D): string;
  /** What authorizes it. */
  authorize(e: EventOf<D>, view: ViewTx): AuthRule;
  /**
   * State rules (e.g. "the grant exists and is not revoked"); throws `INVALID_STATE` /
   * `NOT_FOUND`. `admission.now` is the committer's clock when the event is being committed
   * now (commands, `submit`) and absent on replay (`verify`, `ingest`, catch-up, `import`): a
   * rule added after logs were written (say, unique names) judges only new commits with it,
   * so older logs still verify.
   */
  check?(e: EventOf<D>, view: ViewTx, admission: { now?: number }): void;
  /**
   * State rules that need projection rows or bodies ("the version follows the artifact's
   * head", "the entry it answers exists"); throws the `BatonError` a caller should see.
   * Run wherever the state before the event is known: commands, `submit`, `ingest`,
   * `import`, `rebuildProjections` and `verify()`.
   */
  admitState?(e: EventOf<D>, state: StateReader): void | Promise<void>;
  /** Folds a committed event into the authority view. */
  apply?(e: BatonEvent & { data: D }, view: ViewTx): void;
  /** Turns `data` of an older version into the current shape: `upcast[v]` maps v → v+1. */
  upcast?: Record<number, (data: JsonValue) => JsonValue>;
  /** The blob hashes (bodies) the event refers to; `verify()` checks each one. Defaults to none. */
  blobs?(data: D): string[];
  /**
   * Rows of store-held projections the event changes. `rows.get` reads the projection as
   * it stands before this event (earlier events of the same batch included).
   */
  project?(
    e: BatonEvent & { data: D },
    rows: ProjectionReader,
  ): ProjectionWrite[] | Promise<ProjectionWrite[]>;
}

const aFunction = zod.custom<(...args: never[]) => unknown>(
  (v) => typeof v === 'function',
  'must be a function',
);

/** What {@link defineEventType} takes, checked before the type is made. */
const eventTypeInput = zod.object({
  name: zod
    .string()
    .max(MAX_NAME)
    .regex(
      /^[a-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)+$/,
      "must look like noun.pastTense, e.g. 'app.deployed' (the version goes in `version`)",
    ),
  version: zod.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
  schema: zod.custom<z.ZodType>(
    (v) =>
      typeof v === 'object' &&
      v !== null &&
      typeof (v as { safeParse?: unknown }).safeParse === 'function',
    'must be a zod schema',
  ),
  stream: aFunction,
  authorize: aFunction.optional(),
  check: aFunction.optional(),
  upcast: zod
    .record(zod.string().regex(/^[1-9][0-9]*$/, 'must be a version number'), aFunction)
    .optional(),
  blobs: aFunction.optional(),
});

/**
 * Defines an app event type with a zod schema; the data type is inferred from it.
 *
 * @throws BatonError `VALIDATION` naming the field when `def` is not such a definition (a
 *   name like `'app.deployed'`, a zod `schema`, a `stream` function, …).
 */
export function defineEventType<S extends z.ZodType>(def: {
  name: string;
  version?: number;
  schema: S;
  stream: (data: z.output<S>) => string;
  /** Defaults to needing `write` on the stream's resource. */
  authorize?: (e: EventOf<z.output<S>>, view: ViewTx) => AuthRule;
  check?: (e: EventOf<z.output<S>>, view: ViewTx) => void;
  upcast?: Record<number, (data: JsonValue) => JsonValue>;
  /** The blob hashes in `data` (bodies passed to `emit` with `blobs`). Defaults to none. */
  blobs?: (data: z.output<S>) => string[];
}): EventTypeDef<z.output<S>> {
  parseInput(eventTypeInput, def, 'defineEventType');
  return {
    name: def.name,
    version: def.version ?? 1,
    schema: def.schema,
    stream: def.stream,
    authorize:
      def.authorize ??
      ((e) => ({
        kind: 'grant',
        needs: [{ action: 'write', resource: streamResource(e.stream) }],
      })),
    check: def.check,
    upcast: def.upcast,
    blobs: def.blobs,
  } as EventTypeDef<z.output<S>>;
}

const TYPE_PATTERN = /^[a-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)+@[1-9][0-9]*$/;

/** @internal The envelope every signed event must have, before type-specific checks. */
export const envelope = zod.object({
  ws: idString,
  id: idString,
  stream: zod.string().min(1).max(400),
  type: zod.string().regex(TYPE_PATTERN, 'must look like noun.pastTense@1'),
  actor: idString,
  auth: idString.optional(),
  session: idString.optional(),
  at: isoTime,
  refs: zod.array(zod.string().min(1).max(400)).max(256),
});

/** Options for {@link EventTypes.admit}. */
export interface AdmitOptions {
  /** The committer's clock (ms), for the skew rule; omit when replaying (verify, ingest). */
  now?: number;
  /** Pick the authorizing grant (commands) instead of checking the event's own `auth`. */
  pickAuth?: boolean;
  /** Grant uses claimed earlier in the same batch. */
  pending?: Map<string, number>;
  /** The event's data as {@link EventTypes.dataOf} returned it, when the caller has it already. */
  data?: unknown;
}

/** The registry of event types a workspace understands. */
export class EventTypes {
  readonly #defs = new Map<string, EventTypeDef<unknown>>();

  register(def: EventTypeDef<never>): void {
    if (this.#defs.has(def.name)) {
      throw new BatonError(ErrorCode.VALIDATION, `Event type "${def.name}" is registered already.`);
    }
    this.#defs.set(def.name, def as unknown as EventTypeDef<unknown>);
  }

  get(name: string): EventTypeDef<unknown> | undefined {
    return this.#defs.get(name);
  }

  /** The current full type string of `name`, e.g. `'grant.issued@1'`. */
  typeOf(name: string): string {
    const def = this.#defs.get(name);
    if (!def) throw new BatonError(ErrorCode.VALIDATION, `Unknown event type "${name}".`);
    return `${name}@${def.version}`;
  }

  /** `data` of an event in the current shape of its type (upcast when older). */
  dataOf(e: Pick<SignedFields, 'type' | 'data'>): unknown {
    const { name, version } = parseType(e.type);
    const def = this.#defs.get(name);
    if (!def) throw new BatonError(ErrorCode.VALIDATION, `Unknown event type "${e.type}".`);
    if (version > def.version) {
      throw new BatonError(
        ErrorCode.VALIDATION,
        `Event type "${e.type}" is newer than this library knows (${name}@${def.version}). Upgrade @baton/core.`,
      );
    }
    let data = e.data;
    for (let v = version; v < def.version; v++) {
      const up = def.upcast?.[v];
      if (!up) {
        throw new BatonError(ErrorCode.VALIDATION, `No upcaster from ${name}@${v} to @${v + 1}.`);
      }
      data = up(data);
    }
    const r = def.schema.safeParse(data);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw new BatonError(
        ErrorCode.VALIDATION,
        `Event ${e.type}: \`data.${issue?.path.join('.') ?? ''}\` ${issue?.message ?? 'is invalid'}.`,
      );
    }
    return r.data;
  }

  /**
   * Checks a signed event's envelope, data, actor, time and authorization against the
   * view, and — when `pickAuth` — chooses the grant that authorizes it (setting `auth`).
   * Throws the `BatonError` a caller should see; returns the parsed data.
   *
   * @remarks
   * The write path, `submit`, `ingest` and `verify` all go through here, so what verify
   * accepts is exactly what the write path accepted.
   */
  admit(e: SignedFields, view: ViewTx, options: AdmitOptions = {}): unknown {
    const env = envelope.safeParse(e);
    if (!env.success) {
      const issue = env.error.issues[0];
      throw new BatonError(
        ErrorCode.VALIDATION,
        `Event \`${issue?.path.join('.')}\` ${issue?.message}.`,
      );
    }
    const bad = findNonJson(e.data, '', new Set(), MAX_EVENT_DEPTH);
    if (bad) throw new BatonError(ErrorCode.VALIDATION, `Event data is not plain JSON: ${bad}.`);
    // Canonical JSON differs from JSON.stringify only in key order, so the size is the same.
    const json = JSON.stringify(e.data);
    const size = fitsBytes(json, MAX_INLINE_JSON) ? 0 : utf8Length(json);
    if (size > MAX_INLINE_JSON) {
      throw new BatonError(
        ErrorCode.VALIDATION,
        `Event data is ${size} bytes; the limit is ${MAX_INLINE_JSON}. Put large bodies in blobs.`,
      );
    }
    const data = options.data !== undefined ? options.data : this.dataOf(e);
    const def = this.#defs.get(parseType(e.type).name)!;
    const ev = { ...e, data } as EventOf<unknown>;
    const stream = def.stream(data);
    if (stream !== e.stream) {
      throw new BatonError(
        ErrorCode.VALIDATION,
        `Event ${e.id} is on stream ${e.stream}, not ${stream}.`,
      );
    }
    const ws = view.workspace;
    if (ws && e.ws !== ws.id) {
      throw new BatonError(
        ErrorCode.INTEGRITY,
        `Event ${e.id} belongs to workspace ${e.ws}, not ${ws.id}.`,
      );
    }
    if (!ws && def.name !== 'workspace.bootstrapped') {
      throw new BatonError(
        ErrorCode.INVALID_STATE,
        'This workspace is not bootstrapped yet. Call workspace.bootstrap({ name }) first.',
      );
    }
    this.#checkTime(e, view, options.now);
    const rule = def.authorize(ev, view);
    if (rule.kind === 'none') {
      if (options.pickAuth) delete e.auth;
      else if (e.auth !== undefined) {
        throw new BatonError(ErrorCode.VALIDATION, `Event ${e.id} names a grant but needs none.`);
      }
      if (rule.why === 'self') this.#activeActor(e.actor, view);
    } else {
      this.#activeActor(e.actor, view);
      const decision = evaluate(view, e.actor, rule.needs, e.at, {
        grantId: options.pickAuth ? undefined : (e.auth ?? ''),
        pending: options.pending,
      });
      if (!decision.allowed) {
        const who = view.identity(e.actor)?.name ?? e.actor;
        const what = rule.needs.map((n) => `${n.action} on ${n.resource}`).join(', ');
        if (decision.approval) {
          throw new BatonError(
            ErrorCode.APPROVAL_REQUIRED,
            `${who} may ${what} only after approval by ${decision.approval.approvers.join(' or ')} (grant ${decision.approval.grant.id}).`,
            {
              details: {
                grant: decision.approval.grant.id,
                approvers: decision.approval.approvers,
              },
            },
          );
        }
        throw new BatonError(
          ErrorCode.FORBIDDEN,
          `${who} may not ${what}: ${decision.reason}. Grant it with actor.capabilities.grant({ to: '${e.actor}', resource, actions }).`,
          { details: { actor: e.actor, needs: rule.needs, reason: decision.reason } },
        );
      }
      e.auth = decision.grant.id;
      if (options.pending) {
        for (const link of decision.chain)
          options.pending.set(link.id, (options.pending.get(link.id) ?? 0) + 1);
      }
    }
    if (def.check) {
      ev.auth = e.auth;
      def.check(ev, view, options.now !== undefined ? { now: options.now } : {});
    }
    return data;
  }

  /**
   * Runs the state rules of `e`'s type (see {@link EventTypeDef.admitState}) against the
   * state just before it. Throws the `BatonError` a caller should see.
   */
  async admitState(
    e: BatonEvent,
    state: StateReader,
    data: unknown = this.dataOf(e),
  ): Promise<void> {
    const def = this.#defs.get(parseType(e.type).name);
    if (def?.admitState) await def.admitState({ ...e, data } as EventOf<unknown>, state);
  }

  /** The blob hashes event `e` refers to. */
  blobsOf(e: Pick<SignedFields, 'type' | 'data'>, data: unknown = this.dataOf(e)): string[] {
    const def = this.#defs.get(parseType(e.type).name);
    return def?.blobs ? def.blobs(data as never) : [];
  }

  /** The store-held projection rows event `e` changes, read through `rows`. */
  async projectionsOf(
    e: BatonEvent,
    rows: ProjectionReader,
    data: unknown = this.dataOf(e),
  ): Promise<ProjectionWrite[]> {
    const def = this.#defs.get(parseType(e.type).name);
    return def?.project ? def.project({ ...e, data } as never, rows) : [];
  }

  /** Folds a committed event into the view: its type's effect, the grant use, the position. */
  apply(e: BatonEvent, view: ViewTx, data?: unknown): void {
    const def = this.#defs.get(parseType(e.type).name);
    if (def?.apply) {
      def.apply({ ...e, data: data ?? this.dataOf(e) } as BatonEvent & { data: unknown }, view);
    }
    // A use of a grant is a use of every grant above it (what a parent's maxUses bounds).
    for (const g of e.auth ? chainOf(view, view.grant(e.auth)) : []) {
      if (!g.root && g.seq < e.seq) view.putGrant({ ...g, uses: g.uses + 1, seq: e.seq });
    }
    view.seq = e.seq;
    view.lastAt = e.at;
  }

  #activeActor(id: string, view: ViewTx): Identity {
    const who = view.identity(id);
    if (!who)
      throw new BatonError(ErrorCode.FORBIDDEN, `Identity ${id} does not exist in this workspace.`);
    if (who.status !== 'active') {
      throw new BatonError(
        ErrorCode.FORBIDDEN,
        `${who.name} (${id}) is suspended and can do nothing until reinstated.`,
      );
    }
    return who;
  }

  #checkTime(e: SignedFields, view: ViewTx, now: number | undefined): void {
    const skew = view.workspace?.skewMs ?? DEFAULT_SKEW_MS;
    const t = Date.parse(e.at);
    if (now !== undefined && Math.abs(t - now) > skew) {
      throw new BatonError(
        ErrorCode.VALIDATION,
        `Event time ${e.at} is ${Math.round((t - now) / 1000)} s from this committer's clock; the window is ±${skew / 1000} s. Check the clocks.`,
      );
    }
    if (view.lastAt !== undefined && t < Date.parse(view.lastAt) - skew) {
      throw new BatonError(
        ErrorCode.VALIDATION,
        `Event time ${e.at} is more than ${skew / 1000} s before the previous event (${view.lastAt}). Check the clocks.`,
      );
    }
  }
}

/** The default skew window: how far an event's `at` may be from the committer's clock. */
export const DEFAULT_SKEW_MS = 120_000;

/** @internal Shorthands for the built-in rules. */
export const rules = {
  needs: (action: string, resource: string): AuthRule => ({
    kind: 'grant',
    needs: [{ action, resource }],
  }),
  self: (): AuthRule => ({ kind: 'none', why: 'self' }),
};

/** @internal A grant that exists, or `NOT_FOUND`. */
export function mustGrant(view: ViewTx, id: string): Grant {
  const g = view.grant(id);
  if (!g) throw new BatonError(ErrorCode.NOT_FOUND, `Grant ${id} does not exist.`);
  return g;
}

/** @internal An identity that exists, or `NOT_FOUND`. */
export function mustIdentity(view: ViewTx, id: string): Identity {
  const who = view.identity(id);
  if (!who) throw new BatonError(ErrorCode.NOT_FOUND, `Identity ${id} does not exist.`);
  return who;
}
