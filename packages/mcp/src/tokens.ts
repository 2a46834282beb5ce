import { timingSafeEqual } from 'node:crypto';
import {
  BatonError,
  canonicalJson,
  ErrorCode,
  fromBase64url,
  type Identity,
  isBatonError,
  type KvValue,
  parseInput,
  sha256b64,
  toBase64url,
  verifySignature,
  type Workspace,
} from '@baton/core';
import { z } from 'zod';

/**
 * Where token records live in the store's `kv` area: one entry per token, keyed by its id.
 *
 * @remarks
 * Tokens are the HTTP host's credentials, not facts of the collaboration: they live in `kv`
 * (not in the signed log) so that every process opening the workspace need not know a token
 * event type, and so that a checked request costs one keyed read. What `kv` lacks — a
 * signature — each record carries itself: the issuer signs it, and {@link Tokens.authenticate}
 * checks that signature and the issuer's authority on every request, so whoever can write the
 * database but holds no owner key cannot mint a token.
 */
export const TOKEN_KV_PREFIX = 'mcp/tokens/';

/** The prefix every bearer token starts with (so a leaked one is recognizable in logs). */
export const TOKEN_PREFIX = 'baton_';

// 32 random bytes: 256 bits, so a sha256 of the token (all that is kept) reveals nothing.
const SECRET_BYTES = 32;
const ID_BYTES = 9;

/** What the list shows about a token: never the token itself. */
export interface TokenInfo {
  /** The token's id (`tok_…`), also readable from the token's text. */
  id: string;
  /** The identity the token lets a connection act as. */
  identity: string;
  /** A note from the issuer (what it is for), when given. */
  label?: string;
  /** ISO time it was issued. */
  createdAt: string;
  /** Who issued it. */
  createdBy: string;
  /** ISO time after which it no longer works, when it has one. */
  expiresAt?: string;
  /** ISO time it was revoked, when it was. */
  revokedAt?: string;
  /** Who revoked it, when it was. */
  revokedBy?: string;
}

/** What {@link Tokens.issue} returns: the token — shown this once, never stored — and its record. */
export interface IssuedToken {
  /** The bearer token. Only its sha256 is kept: give it to the client now. */
  token: string;
  info: TokenInfo;
}

/** Input of {@link Tokens.issue}. */
export interface IssueTokenInput {
  /** The issuer: an identity holding `admin` on `identity:<identity>` (an owner does). */
  as: string;
  /** The identity the token acts as. */
  identity: string;
  /** ISO time after which the token stops working. Defaults to none (until revoked). */
  expiresAt?: string;
  /** What the token is for ("Cursor on Ada's laptop"). Defaults to none. */
  label?: string;
}

/** Input of {@link Tokens.revoke}. */
export interface RevokeTokenInput {
  /** The revoker: an identity holding `admin` on the token's identity. */
  as: string;
  /** The token's id (`tok_…`), or the token itself. */
  token: string;
}

/** Options of {@link Tokens.list}. */
export interface ListTokensOptions {
  /** Who asks: only tokens of identities it holds `admin` on are listed. */
  as: string;
  /** Only this identity's tokens. Defaults to all. */
  identity?: string;
}

/** Options of {@link Tokens}. */
export interface TokensOptions {
  /** The workspace whose identities the tokens stand for; its store's `kv` holds them. */
  workspace: Workspace;
  /** The clock, in ms since the epoch. Defaults to `Date.now`. */
  now?: () => number;
}

/** Why {@link Tokens.authenticate} refused a token. */
export type TokenRefusal =
  | 'missing'
  | 'malformed'
  | 'unknown'
  | 'revoked'
  | 'expired'
  | 'suspended';

/** What {@link Tokens.authenticate} answers. */
export type TokenCheck =
  | { ok: true; identity: string; tokenId: string }
  | {
      ok: false;
      /** 401 for a token that is no credential (missing, unknown, revoked, expired); 403 for a suspended identity. */
      status: 401 | 403;
      reason: TokenRefusal;
      /** Words for the client, naming no secret. */
      message: string;
      tokenId?: string;
    };

interface TokenRecord extends TokenInfo {
  v: 1;
  /** The workspace the record was issued in (a record copied to another workspace is void). */
  ws: string;
  /** sha256 (base64url) of the whole token text. */
  hash: string;
  /** The issuer's signature over the signed fields. */
  sig: string;
  /** The issuer's key that signed. */
  key: string;
}

const tokenIdSchema = z.string().regex(/^tok_[A-Za-z0-9_-]{12}$/, 'must be a token id (tok_…)');
const isoTime = z.iso.datetime({ offset: true, message: 'must be an ISO time' });
const refString = z.string().min(1).max(200);

const issueSchema = z.object({
  as: refString,
  identity: refString,
  expiresAt: isoTime.optional(),
  label: z.string().max(200).optional(),
});
const revokeSchema = z.object({ as: refString, token: z.string().min(1).max(200) });
const listSchema = z.object({ as: refString, identity: refString.optional() });
const optionsSchema = z.object({
  workspace: z.custom<Workspace>(
    (w) => typeof w === 'object' && w !== null && 'store' in w && 'keyring' in w,
    { message: 'must be a Workspace' },
  ),
  now: z.custom<() => number>((f) => typeof f === 'function', 'must be a function').optional(),
});

const recordSchema = z.object({
  v: z.literal(1),
  ws: z.string(),
  id: tokenIdSchema,
  identity: z.string(),
  label: z.string().optional(),
  createdAt: z.string(),
  createdBy: z.string(),
  expiresAt: z.string().optional(),
  revokedAt: z.string().optional(),
  revokedBy: z.string().optional(),
  hash: z.string(),
  sig: z.string(),
  key: z.string(),
});

function signedBytes(r: TokenRecord): Uint8Array {
  const signed: Record<string, string> = {
    type: 'baton.mcp.token@1',
    ws: r.ws,
    id: r.id,
    identity: r.identity,
    createdAt: r.createdAt,
    createdBy: r.createdBy,
    hash: r.hash,
  };
  if (r.expiresAt !== undefined) signed.expiresAt = r.expiresAt;
  if (r.label !== undefined) signed.label = r.label;
  return new TextEncoder().encode(canonicalJson(signed));
}

function infoOf(r: TokenRecord): TokenInfo {
  const info: TokenInfo = {
    id: r.id,
    identity: r.identity,
    createdAt: r.createdAt,
    createdBy: r.createdBy,
  };
  if (r.label !== undefined) info.label = r.label;
  if (r.expiresAt !== undefined) info.expiresAt = r.expiresAt;
  if (r.revokedAt !== undefined) info.revokedAt = r.revokedAt;
  if (r.revokedBy !== undefined) info.revokedBy = r.revokedBy;
  return info;
}

function refuse(reason: TokenRefusal, message: string, tokenId?: string): TokenCheck {
  return {
    ok: false,
    status: reason === 'suspended' ? 403 : 401,
    reason,
    message,
    ...(tokenId !== undefined ? { tokenId } : {}),
  };
}

function random(bytes: number): string {
  return toBase64url(globalThis.crypto.getRandomValues(new Uint8Array(bytes)));
}

/** The token id a token's text names (`baton_<id>.<secret>` → `tok_<id>`), if well formed. */
export function tokenIdOf(token: string): string | undefined {
  const m = /^baton_([A-Za-z0-9_-]{12})\.([A-Za-z0-9_-]{43})$/.exec(token);
  return m ? `tok_${m[1]}` : undefined;
}

function sameHash(a: string, b: string): boolean {
  const x = fromBase64url(a);
  const y = fromBase64url(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Bearer tokens for the Streamable HTTP server: an owner issues one per identity, revokes it,
 * lists them; the server checks each request's token with {@link Tokens.authenticate}.
 *
 * @remarks
 * A token is `baton_<id>.<secret>` with a 256-bit random secret. Only its sha256 is kept, in
 * the store's `kv` area under {@link TOKEN_KV_PREFIX}, with the identity, the issuer, the
 * times and the issuer's signature. Issuing and revoking need `admin` on
 * `identity:<identity>` — the authority that suspends the identity; a workspace owner holds
 * it. Nothing is cached: every check reads the record and the workspace again, so a token
 * revoked by another process stops working at the next request.
 *
 * @example
 * ```ts
 * const tokens = new Tokens({ workspace });
 * const { token } = await tokens.issue({ as: ada.id, identity: drafter.id });
 * (await tokens.authenticate(token)).ok; // true
 * ```
 */
export class Tokens {
  readonly #ws: Workspace;
  readonly #now: () => number;

  constructor(options: TokensOptions) {
    const o = parseInput(optionsSchema, options, 'new Tokens(options)');
    this.#ws = o.workspace;
    this.#now = o.now ?? Date.now;
  }

  /**
   * Issues a token that lets a connection act as `identity`. The token is in the result only;
   * keep it now.
   *
   * @throws BatonError `VALIDATION` for bad input or an expiry in the past; `NOT_FOUND` for
   *   an unknown identity; `FORBIDDEN` when `as` may not manage the identity or its key is
   *   not in the workspace's keyring.
   */
  async issue(input: IssueTokenInput): Promise<IssuedToken> {
    const o = parseInput(issueSchema, input, 'tokens.issue');
    const issuer = await this.#identity(o.as, 'as');
    const who = await this.#identity(o.identity, 'identity');
    await this.#mayManage(issuer.id, who.id, 'issue a token for');
    const now = this.#now();
    if (o.expiresAt !== undefined && Date.parse(o.expiresAt) <= now)
      throw new BatonError(
        ErrorCode.VALIDATION,
        `tokens.issue: expiresAt (${o.expiresAt}) is not in the future. Pass a later time, or none for a token that lasts until revoked.`,
        { details: { field: 'expiresAt' } },
      );
    const signer = await this.#ws.keyring.signer(issuer.id);
    if (!signer)
      throw new BatonError(
        ErrorCode.FORBIDDEN,
        `tokens.issue: the key of ${issuer.name} (${issuer.id}) is not in this keyring; a token is signed by its issuer. Use the keyring that holds it.`,
      );
    const idPart = random(ID_BYTES);
    const token = `${TOKEN_PREFIX}${idPart}.${random(SECRET_BYTES)}`;
    const record: TokenRecord = {
      v: 1,
      ws: this.#ws.id!,
      id: `tok_${idPart}`,
      identity: who.id,
      createdAt: new Date(now).toISOString(),
      createdBy: issuer.id,
      hash: sha256b64(token),
      sig: '',
      key: signer.publicKey,
    };
    if (o.expiresAt !== undefined) record.expiresAt = new Date(o.expiresAt).toISOString();
    if (o.label !== undefined) record.label = o.label;
    record.sig = toBase64url(await signer.sign(signedBytes(record)));
    await this.#ws.store.kv.put(TOKEN_KV_PREFIX + record.id, record as unknown as KvValue);
    return { token, info: infoOf(record) };
  }

  /**
   * Revokes a token (by id or by its text): it stops working at the next request, in every
   * process. Revoking a revoked token changes nothing and returns its record.
   *
   * @throws BatonError `NOT_FOUND` for an unknown token; `FORBIDDEN` when `as` may not manage
   *   the token's identity.
   */
  async revoke(input: RevokeTokenInput): Promise<TokenInfo> {
    const o = parseInput(revokeSchema, input, 'tokens.revoke');
    const id = tokenIdOf(o.token) ?? parseInput(tokenIdSchema, o.token, 'tokens.revoke(token)');
    const actor = await this.#identity(o.as, 'as');
    const record = await this.#record(id);
    if (!record)
      throw new BatonError(
        ErrorCode.NOT_FOUND,
        `tokens.revoke: no token ${id} in this workspace. \`baton token list\` shows the tokens.`,
        { details: { field: 'token' } },
      );
    await this.#mayManage(actor.id, record.identity, 'revoke a token of');
    if (record.revokedAt !== undefined) return infoOf(record);
    record.revokedAt = new Date(this.#now()).toISOString();
    record.revokedBy = actor.id;
    await this.#ws.store.kv.put(TOKEN_KV_PREFIX + record.id, record as unknown as KvValue);
    return infoOf(record);
  }

  /**
   * The tokens of the identities `as` may manage (or of one), oldest first, revoked and
   * expired ones included — never the tokens themselves.
   */
  async list(options: ListTokensOptions): Promise<TokenInfo[]> {
    const o = parseInput(listSchema, options, 'tokens.list');
    const actor = await this.#identity(o.as, 'as');
    const only =
      o.identity !== undefined ? (await this.#identity(o.identity, 'identity')).id : undefined;
    if (only !== undefined) await this.#mayManage(actor.id, only, 'list the tokens of');
    const out: TokenInfo[] = [];
    const allowed = new Map<string, boolean>();
    let after: string | undefined;
    do {
      const page = await this.#ws.store.kv.list(TOKEN_KV_PREFIX, { limit: 500, after });
      for (const { value } of page.items) {
        const r = recordSchema.safeParse(value);
        if (!r.success || r.data.ws !== this.#ws.id) continue;
        if (only !== undefined && r.data.identity !== only) continue;
        let may = allowed.get(r.data.identity);
        if (may === undefined) {
          may = (await this.#ws.as(actor.id).can('admin', `identity:${r.data.identity}`)).allowed;
          allowed.set(r.data.identity, may);
        }
        if (may) out.push(infoOf(r.data as TokenRecord));
      }
      after = page.next;
    } while (after);
    return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  /**
   * Checks a bearer token now: the record exists, its hash matches, its issuer signed it and
   * still may manage the identity, it is neither revoked nor expired, and the identity is
   * active. Reads the store every time (nothing cached).
   */
  async authenticate(token: string | undefined): Promise<TokenCheck> {
    if (token === undefined || token === '')
      return refuse('missing', 'A bearer token is required: send `Authorization: Bearer <token>`.');
    const id = typeof token === 'string' ? tokenIdOf(token) : undefined;
    if (!id) return refuse('malformed', 'This is not a Baton token (they start with baton_).');
    const record = await this.#record(id);
    if (!record || !sameHash(record.hash, sha256b64(token)))
      return refuse(
        'unknown',
        'Unknown token. Ask the workspace owner for one (`baton token create`).',
      );
    return this.#judge(record);
  }

  /**
   * Whether the token with this id still holds (as {@link Tokens.authenticate} would judge it,
   * given the token): for a server re-checking its open sessions.
   */
  async isLive(tokenId: string): Promise<boolean> {
    const id = parseInput(tokenIdSchema, tokenId, 'tokens.isLive(tokenId)');
    const record = await this.#record(id);
    return record !== undefined && (await this.#judge(record)).ok;
  }

  async #judge(record: TokenRecord): Promise<TokenCheck> {
    const id = record.id;
    // Catch up with other processes: suspensions and revoked authority count at once.
    await this.#ws.head();
    const issuer = this.#ws.identity(record.createdBy);
    const signedBy = issuer?.keys.some((k) => k.key === record.key) ?? false;
    const valid =
      signedBy &&
      record.ws === this.#ws.id &&
      (await verifySignature(record.key, record.sig, signedBytes(record)).catch(() => false));
    if (!valid)
      return refuse('unknown', 'Unknown token. Ask the workspace owner for a new one.', id);
    if (record.revokedAt !== undefined)
      return refuse(
        'revoked',
        `Token ${id} was revoked. Ask the workspace owner for a new one.`,
        id,
      );
    if (record.expiresAt !== undefined && Date.parse(record.expiresAt) <= this.#now())
      return refuse(
        'expired',
        `Token ${id} expired at ${record.expiresAt}. Ask for a new one.`,
        id,
      );
    const issuerMay = (
      await this.#ws.as(record.createdBy).can('admin', `identity:${record.identity}`)
    ).allowed;
    if (!issuerMay)
      return refuse(
        'revoked',
        `Token ${id} no longer holds: its issuer may no longer manage this identity. Ask for a new one.`,
        id,
      );
    const who = this.#ws.identity(record.identity);
    if (!who) return refuse('unknown', 'Unknown token.', id);
    if (who.status !== 'active')
      return refuse('suspended', `${who.name} (${who.id}) is suspended: it can do nothing.`, id);
    return { ok: true, identity: who.id, tokenId: id };
  }

  async #record(id: string): Promise<TokenRecord | undefined> {
    const value = await this.#ws.store.kv.get(TOKEN_KV_PREFIX + id);
    if (value === undefined) return undefined;
    const r = recordSchema.safeParse(value);
    return r.success ? (r.data as TokenRecord) : undefined;
  }

  async #identity(ref: string, field: string): Promise<Identity> {
    if (!this.#ws.info)
      throw new BatonError(
        ErrorCode.INVALID_STATE,
        'tokens: the workspace is not bootstrapped yet.',
      );
    await this.#ws.head();
    const asker = this.#ws.as(this.#ws.info.owners[0]!);
    const id = await asker.identities.resolve(ref).catch((err: unknown) => {
      if (!isBatonError(err, ErrorCode.NOT_FOUND)) throw err;
      throw new BatonError(
        ErrorCode.NOT_FOUND,
        `tokens: \`${field}\` names no identity ("${ref}").`,
        {
          details: { field },
        },
      );
    });
    return this.#ws.identity(id)!;
  }

  async #mayManage(actor: string, identity: string, what: string): Promise<void> {
    const d = await this.#ws.as(actor).can('admin', `identity:${identity}`);
    if (!d.allowed) {
      const name = this.#ws.identity(actor)?.name ?? actor;
      throw new BatonError(
        ErrorCode.FORBIDDEN,
        `${name} may not ${what} ${this.#ws.identity(identity)?.name ?? identity}: that needs admin on identity:${identity} (${d.reason}). A workspace owner can.`,
        { details: { needs: [{ action: 'admin', resource: `identity:${identity}` }] } },
      );
    }
  }
}
