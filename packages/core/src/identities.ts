import { z } from 'zod';
import type { Identity, IdentityKind } from './auth/view.js';
import type { JsonValue } from './crypto/canonical.js';
import { derivedId, randomId } from './crypto/ids.js';
import { MemoryKeyring } from './crypto/keyring.js';
import { BatonError, ErrorCode, isBatonError } from './errors.js';
import { nameKey } from './log/builtinEvents.js';
import { resolveIdIn } from './lookup.js';
import type { Scope } from './scope.js';
import type { Page } from './store/store.js';
import { type TrackRecordCounts, trackRecordCounts } from './trackRecordRows.js';
import { idString, jsonObject, name, parseInput } from './validation.js';

/** Input of {@link Identities.create}. */
export interface CreateIdentityInput {
  kind: IdentityKind;
  name: string;
  /** The human accountable for it. Defaults to the creator (or the creator's owner when the creator is not human). */
  owner?: string;
  /** Model, version, anything an app wants to keep about it. Defaults to `{}`. */
  meta?: Record<string, JsonValue>;
  /**
   * Its public key as a `did:key`, made by the identity's own process (on Node:
   * `new KeyDirectory({ path }).generate('me')` there, then `assign('me', id)` once it knows
   * its id), whose private key stays there. The way to create an identity that runs
   * somewhere else: the creator's process never holds its key.
   */
  key?: string;
  /**
   * Without `key`: generate the new identity's private key in this workspace's keyring
   * (`workspace.keyring`), so this process — and any process opening the same keyring, such
   * as the same `KeyDirectory` — can sign as it. Give `true` on purpose, for identities this
   * process acts as itself. Defaults to `true` when the keyring is a {@link MemoryKeyring}
   * (the default: keys live in this process only and are gone when it exits — tests, demos)
   * and to `false` for any other keyring, where `key` (or `generateKey: true`) must be given.
   */
  generateKey?: boolean;
  /** Makes a retried call return the identity the first call created. */
  idempotencyKey?: string;
}

/** What {@link Identities.record} returns: the identity, and its counts. */
export interface TrackRecord extends TrackRecordCounts {
  id: string;
  name: string;
}

/** Options of {@link Identities.list}. */
export interface ListIdentitiesOptions {
  kind?: IdentityKind;
  status?: 'active' | 'suspended';
  /** Page size. Defaults to `100`. */
  limit?: number;
  /** The `next` cursor of the previous page. */
  after?: string;
}

const createSchema = z.object({
  kind: z.enum(['human', 'agent', 'service']),
  name: name(),
  owner: idString.optional(),
  meta: jsonObject(16 * 1024).optional(),
  key: z.string().min(1).max(200).optional(),
  generateKey: z.boolean().optional(),
  idempotencyKey: idString.optional(),
});

const listSchema = z.object({
  kind: z.enum(['human', 'agent', 'service']).optional(),
  status: z.enum(['active', 'suspended']).optional(),
  limit: z.number().int().min(1).max(1_000).optional(),
  after: z.string().optional(),
});

const reasonSchema = z.object({ reason: z.string().max(2_000).optional() }).optional();

/**
 * Identities as seen by one actor: create agents and services, look people up, suspend,
 * rotate keys. Reached as `actor.identities`.
 */
export class Identities {
  readonly #scope: Scope;

  /** @internal */
  constructor(scope: Scope) {
    this.#scope = scope;
  }

  /**
   * Creates an identity. Needs `create` on `identity:*` (or the new id). Its private key
   * never enters the store: with `key`, it stays in the process that made it; without, it is
   * generated in this workspace's keyring — by default only when that is a
   * {@link MemoryKeyring}; with any other keyring (a `KeyDirectory`, say) only when
   * `generateKey: true` says so, since whoever opens that keyring can then sign as the new
   * identity. Without either, it is refused (`VALIDATION` naming `key`).
   */
  async create(input: CreateIdentityInput): Promise<Identity> {
    const args = parseInput(createSchema, input, 'identities.create');
    if (args.key !== undefined && args.generateKey === true) {
      throw new BatonError(
        ErrorCode.VALIDATION,
        'identities.create: give `key` (a public key made elsewhere) or `generateKey: true` (make one in this keyring), not both.',
        { details: { field: 'generateKey' } },
      );
    }
    const generate = args.generateKey ?? this.#scope.keyring instanceof MemoryKeyring;
    if (args.key === undefined && !generate) {
      const where =
        'path' in this.#scope.keyring && typeof this.#scope.keyring.path === 'string'
          ? ` (${this.#scope.keyring.path})`
          : '';
      throw new BatonError(
        ErrorCode.VALIDATION,
        `identities.create: \`key\` is required with this keyring${where}: without it the new identity's private key would be kept where this process can sign as it. Make the key in the identity's own process (KeyDirectory.generate there) and pass its did:key as \`key\`, or pass \`generateKey: true\` to keep it in this workspace's keyring on purpose.`,
        { details: { field: 'key' } },
      );
    }
    await this.#scope.catchUp();
    const wsId = this.#scope.workspace;
    const id = args.idempotencyKey
      ? derivedId('id', [wsId, this.#scope.actor, args.idempotencyKey, 'identity'])
      : randomId('id');
    let key = args.key;
    let made: string | undefined;
    if (key === undefined) {
      key = (await this.#scope.keyring.signer(id))?.publicKey;
      if (key === undefined) key = made = await this.#scope.keyring.generate(id);
    }
    const { idempotencyKey, generateKey: _, ...request } = args;
    // A key made for this call is forgotten again if the call is refused.
    const forget = async (err: unknown): Promise<never> => {
      if (made !== undefined) await this.#scope.keyring.discard?.(id, made).catch(() => undefined);
      throw err;
    };
    const events = await this.#scope
      .commit({
        idempotency: { key: idempotencyKey, operation: 'identities.create', input: request },
        plan: (tx) => {
          const me = tx.identity(this.#scope.actor);
          let owner = args.owner;
          if (owner === undefined && me) owner = me.kind === 'human' ? me.id : me.owner;
          const data: Record<string, JsonValue> = {
            id,
            kind: args.kind,
            name: args.name,
            key: key!,
            meta: args.meta ?? {},
          };
          if (owner !== undefined && args.kind !== 'human') data.owner = owner;
          return { drafts: [{ type: 'identity.created', data, refs: owner ? [id, owner] : [id] }] };
        },
      })
      .catch(forget);
    return this.#scope.authority.identity((events[0]!.data as { id: string }).id)!;
  }

  /** The identity, or `undefined` when it does not exist or this actor may not read it. */
  async get(id: string): Promise<Identity | undefined> {
    parseInput(idString, id, 'identities.get(id)');
    await this.#scope.catchUp();
    const who = this.#scope.authority.identity(id);
    return who && this.#readable(who) ? who : undefined;
  }

  /**
   * The id of the identity `ref` names: its id, its name (names are unique in a workspace and
   * matched case-insensitively), or a prefix of its id that no other identity's id starts with.
   *
   * @remarks
   * Says only which id a name stands for — as every event names its actor by id — so any actor
   * may ask; reading the identity itself still needs `read` on it ({@link Identities.get}).
   * In a workspace made before names were unique, a name two identities share is refused
   * (`VALIDATION`, listing their ids): use the id.
   *
   * @throws BatonError `NOT_FOUND` when nothing matches; `VALIDATION` when a name or prefix
   *   matches several (`details.candidates`).
   */
  async resolve(ref: string): Promise<string> {
    const r = parseInput(idString, ref, 'identities.resolve(ref)');
    await this.#scope.catchUp();
    const authority = this.#scope.authority;
    if (authority.identity(r)) return r;
    const key = nameKey(r);
    const named = [...authority.identities.values()].filter((i) => nameKey(i.name) === key);
    if (named.length === 1) return named[0]!.id;
    if (named.length > 1) {
      throw new BatonError(
        ErrorCode.VALIDATION,
        `"${r}" names ${named.length} identities (${named.map((i) => i.id).join(', ')}), made before names were unique. Use the id.`,
        { details: { field: 'identity', candidates: named.map((i) => i.id) } },
      );
    }
    try {
      return (await resolveIdIn(this.#scope.rows, r, ['identity'])).id;
    } catch (err) {
      if (!isBatonError(err, ErrorCode.NOT_FOUND)) throw err;
      throw new BatonError(
        ErrorCode.NOT_FOUND,
        `No identity is named "${r}" or has an id starting with it.`,
        { details: { identity: r } },
      );
    }
  }

  /**
   * The identity `ref` names — its id, its name (matched case-insensitively), or a prefix of
   * its id no other identity's id starts with, as {@link Identities.resolve} reads it — when
   * this actor may read it.
   *
   * @returns The identity, or `undefined` when nothing matches or this actor may not read it
   *   (`read` on `identity:<id>`, or being it) — the two are not told apart, as with
   *   {@link Identities.get}.
   * @throws BatonError `VALIDATION` when a name or prefix matches several identities
   *   (`details.candidates`): an ambiguous reference is an error, not a miss.
   */
  async find(ref: string): Promise<Identity | undefined> {
    parseInput(idString, ref, 'identities.find(ref)');
    const id = await this.resolve(ref).catch((err: unknown) => {
      if (isBatonError(err, ErrorCode.NOT_FOUND)) return undefined;
      throw err;
    });
    return id === undefined ? undefined : this.get(id);
  }

  /** The identities this actor may read, ordered by id, a page at a time. */
  async list(options: ListIdentitiesOptions = {}): Promise<Page<Identity>> {
    const o = parseInput(listSchema, options, 'identities.list');
    await this.#scope.catchUp();
    const all = [...this.#scope.authority.identities.values()]
      .filter(
        (i) =>
          (o.kind === undefined || i.kind === o.kind) &&
          (o.status === undefined || i.status === o.status),
      )
      .filter((i) => o.after === undefined || i.id > o.after)
      .filter((i) => this.#readable(i))
      .sort((a, b) => (a.id < b.id ? -1 : 1));
    const limit = o.limit ?? 100;
    const items = all.slice(0, limit);
    return all.length > limit ? { items, next: items.at(-1)!.id } : { items };
  }

  /**
   * An identity's track record: handoffs it offered, accepted, completed, returned and
   * declined; approvals it requested (and how they were decided) and decided for others; its
   * edits and how many a later version reverted; its cost.
   *
   * @remarks
   * An edit (version v of an artifact, by this identity) counts as **reverted** when a later
   * version of the same artifact has exactly the content of version v − 1 — the artifact went
   * back to what it was before the edit. Cost sums its `usage` entries. Needs `read` on
   * `identity:<id>` (or being that identity). Read from the `records` projection, kept up to
   * date as events are appended (and rebuilt by `rebuildProjections()`): one row, whatever the
   * log's length.
   */
  async record(id: string): Promise<TrackRecord> {
    parseInput(idString, id, 'identities.record(id)');
    const who = await this.get(id);
    if (!who)
      throw new BatonError(
        ErrorCode.NOT_FOUND,
        `Identity ${id} does not exist, or may not be read.`,
      );
    return { id, name: who.name, ...(await trackRecordCounts(this.#scope.rows, id)) };
  }

  /** Suspends an identity: it can do nothing until reinstated. Needs `admin` on `identity:<id>`. */
  async suspend(id: string, options?: { reason?: string }): Promise<Identity> {
    return this.#simple('identity.suspended', 'identities.suspend', id, options);
  }

  /** Lifts a suspension. Needs `admin` on `identity:<id>`. */
  async reinstate(id: string, options?: { reason?: string }): Promise<Identity> {
    return this.#simple('identity.reinstated', 'identities.reinstate', id, options);
  }

  /**
   * Replaces an identity's key with a new one from the keyring, in an event signed with the
   * old key. Rotating another identity's key (recovering a lost one) needs `admin` on it.
   *
   * @param id - Defaults to the actor itself.
   */
  async rotateKey(id?: string): Promise<Identity> {
    const target = id ?? this.#scope.actor;
    parseInput(idString, target, 'identities.rotateKey(id)');
    const key = await this.#scope.keyring.generate(target);
    await this.#commitOne('identity.keyRotated', { id: target, key });
    return this.#scope.authority.identity(target)!;
  }

  async #simple(
    type: string,
    op: string,
    id: string,
    options?: { reason?: string },
  ): Promise<Identity> {
    parseInput(idString, id, `${op}(id)`);
    const o = parseInput(reasonSchema, options, op);
    const data: Record<string, JsonValue> & { id: string } = { id };
    if (o?.reason !== undefined) data.reason = o.reason;
    await this.#commitOne(type, data);
    return this.#scope.authority.identity(id)!;
  }

  async #commitOne(type: string, data: Record<string, JsonValue> & { id: string }): Promise<void> {
    await this.#scope.commit({
      plan: (tx) => {
        if (!tx.identity(data.id)) {
          throw new BatonError(
            ErrorCode.NOT_FOUND,
            `Identity ${data.id} does not exist. List them with actor.identities.list().`,
          );
        }
        return { drafts: [{ type, data, refs: [data.id] }] };
      },
    });
  }

  #readable(who: Identity): boolean {
    return who.id === this.#scope.actor || this.#scope.may('read', `identity:${who.id}`);
  }
}
