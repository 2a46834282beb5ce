import { z } from 'zod';
import { inheritConstraints, wideningOf } from './auth/delegation.js';
import { delegationDepth, evaluate, MAX_DELEGATION_DEPTH } from './auth/evaluate.js';
import type { Grant, GrantConstraints } from './auth/view.js';
import type { Draft } from './commit/draft.js';
import type { JsonValue } from './crypto/canonical.js';
import { BatonError, ErrorCode } from './errors.js';
import type { Scope } from './scope.js';
import type { Page } from './store/store.js';
import { hasControlCharacter, idString, parseInput, timeInput } from './validation.js';

/** Input of {@link Capabilities.grant}. */
export interface GrantInput {
  /** The identity receiving the grant. */
  to: string;
  /**
   * A resource pattern: `artifact:<id>`, `artifact:*`, `artifact:tag/<tag>`, `handoff:*`,
   * `workspace`, `*`, or an app's `<kind>:<id>`. A trailing `*` matches any suffix.
   */
  resource: string;
  /** `read`, `write`, `create`, `comment`, `handoff`, `approve`, `grant`, `admin`, or the app's own (`email.send`). */
  actions: string[];
  /** When it stops working (ISO string, Date or epoch ms). Defaults to never. */
  expiresAt?: string | Date | number;
  /** When it starts working. Defaults to at once. */
  notBefore?: string | Date | number;
  /** How many events it may authorize. Defaults to unlimited. */
  maxUses?: number;
  /**
   * Actions the audience may do only after an approver says yes; approvers default to the
   * issuer of this grant. Defaults to none.
   */
  requiresApproval?: { action: string; approvers?: string[] }[];
  /** How many further delegation steps are allowed. Defaults to unlimited. */
  depth?: number;
  /** Makes a retried call return the grant the first call made. */
  idempotencyKey?: string;
}

/** Options of {@link Capabilities.list}. */
export interface ListGrantsOptions {
  /** Only grants held by this identity. */
  audience?: string;
  /** Only grants issued by this identity. */
  issuer?: string;
  /** Include revoked grants. Defaults to `false`. */
  includeRevoked?: boolean;
}

const resourcePattern = z
  .string()
  .min(1)
  .max(400)
  .refine(
    (s) => !/\s/.test(s) && !hasControlCharacter(s),
    'must be a resource pattern without spaces, e.g. "artifact:*"',
  );

const grantSchema = z.object({
  to: idString,
  resource: resourcePattern,
  actions: z.array(idString).min(1).max(64),
  expiresAt: timeInput.optional(),
  notBefore: timeInput.optional(),
  maxUses: z.number().int().positive().max(1e9).optional(),
  requiresApproval: z
    .array(z.object({ action: idString, approvers: z.array(idString).min(1).max(32).optional() }))
    .max(64)
    .optional(),
  depth: z.number().int().min(0).max(16).optional(),
  idempotencyKey: idString.optional(),
});

const revokeSchema = z.object({ reason: z.string().max(2_000).optional() }).optional();

const listSchema = z.object({
  audience: idString.optional(),
  issuer: idString.optional(),
  includeRevoked: z.boolean().optional(),
});

/** Grants as seen by one actor: issue, revoke, list. Reached as `actor.capabilities`. */
export class Capabilities {
  readonly #scope: Scope;

  /** @internal */
  constructor(scope: Scope) {
    this.#scope = scope;
  }

  /**
   * Issues a grant. The actor must hold `grant` and every granted action on a resource
   * covering `resource`; the grant that allows it becomes the new grant's parent, so
   * revoking the parent revokes this one too.
   *
   * @remarks
   * A delegation chain has at most {@link MAX_DELEGATION_DEPTH} (32) links below an owner's
   * root grant; a grant that would be link 33 is refused with `FORBIDDEN`.
   *
   * @example
   * ```ts
   * await me.capabilities.grant({ to: drafter.id, resource: 'artifact:*',
   *   actions: ['read', 'write', 'publish'], requiresApproval: [{ action: 'publish' }] });
   * ```
   */
  async grant(input: GrantInput): Promise<Grant> {
    const args = parseInput(grantSchema, input, 'capabilities.grant');
    const constraints: Record<string, JsonValue> = {};
    if (args.expiresAt !== undefined) constraints.expiresAt = args.expiresAt;
    if (args.notBefore !== undefined) constraints.notBefore = args.notBefore;
    if (args.maxUses !== undefined) constraints.maxUses = args.maxUses;
    if (args.requiresApproval !== undefined) constraints.requiresApproval = args.requiresApproval;
    if (args.depth !== undefined) constraints.depth = args.depth;
    const { idempotencyKey, ...request } = args;
    const events = await this.#scope.commit({
      idempotency: { key: idempotencyKey, operation: 'capabilities.grant', input: request },
      plan: (tx, ids, at) => {
        if (!tx.identity(args.to)) {
          throw new BatonError(
            ErrorCode.NOT_FOUND,
            `capabilities.grant: \`to\` names no identity (${args.to}).`,
          );
        }
        const id = ids.next('gr');
        const needs = ['grant', ...args.actions].map((action) => ({
          action,
          resource: args.resource,
          delegating: true,
        }));
        // The parent: the first held grant (in issue order) that allows issuing this one and
        // that it can nest inside, with the parent's bounds filled in where left out.
        let parent: Grant | undefined;
        let effective = constraints;
        for (const g of tx.grantsOf(this.#scope.actor).sort((a, b) => a.issuedSeq - b.issuedSeq)) {
          if (!evaluate(tx, this.#scope.actor, needs, at, { grantId: g.id }).allowed) continue;
          // A grant at the end of the longest chain allowed cannot be a parent.
          if (delegationDepth(tx, g) >= MAX_DELEGATION_DEPTH) continue;
          const inherited = inheritConstraints(
            constraints as GrantConstraints,
            args.actions,
            g,
          ) as Record<string, JsonValue>;
          if (!parent) {
            parent = g;
            effective = inherited;
          }
          if (!wideningOf(inherited as GrantConstraints, args.actions, g, this.#scope.actor)) {
            parent = g;
            effective = inherited;
            break;
          }
        }
        const drafts: Draft[] = [
          {
            type: 'grant.issued',
            ...(parent ? { auth: parent.id } : {}),
            data: {
              id,
              audience: args.to,
              resource: args.resource,
              actions: args.actions,
              constraints: effective,
            },
            refs: [id, args.to],
          },
        ];
        return { drafts };
      },
    });
    return this.#scope.authority.grant((events[0]!.data as { id: string }).id)!;
  }

  /**
   * Revokes a grant and, with it, everything delegated from it, from the next call on —
   * in every Workspace instance on the store. Events it authorized before stay valid.
   * Its issuer may revoke it; anyone else needs `admin` on its resource.
   */
  async revoke(grantId: string, options?: { reason?: string }): Promise<Grant> {
    parseInput(idString, grantId, 'capabilities.revoke(grantId)');
    const o = parseInput(revokeSchema, options, 'capabilities.revoke');
    await this.#scope.commit({
      plan: (tx) => {
        const g = tx.grant(grantId);
        if (!g) throw new BatonError(ErrorCode.NOT_FOUND, `Grant ${grantId} does not exist.`);
        const data: Record<string, JsonValue> = { id: grantId };
        if (o?.reason !== undefined) data.reason = o.reason;
        return { drafts: [{ type: 'grant.revoked', data, refs: [grantId, g.audience] }] };
      },
    });
    return this.#scope.authority.grant(grantId)!;
  }

  /** The grant, or `undefined` when it does not exist or this actor may not read it. */
  async get(grantId: string): Promise<Grant | undefined> {
    parseInput(idString, grantId, 'capabilities.get(grantId)');
    await this.#scope.catchUp();
    const g = this.#scope.authority.grant(grantId);
    return g && this.#readable(g) ? g : undefined;
  }

  /** Grants this actor may read: its own, those it issued, and any it holds `read` on. */
  async list(options: ListGrantsOptions = {}): Promise<Page<Grant>> {
    const o = parseInput(listSchema, options, 'capabilities.list');
    await this.#scope.catchUp();
    const items = [...this.#scope.authority.grants.values()]
      .filter(
        (g) =>
          (o.audience === undefined || g.audience === o.audience) &&
          (o.issuer === undefined || g.issuer === o.issuer),
      )
      .filter((g) => o.includeRevoked || !g.revoked)
      .filter((g) => this.#readable(g))
      .sort((a, b) => a.issuedSeq - b.issuedSeq);
    return { items };
  }

  #readable(g: Grant): boolean {
    const me = this.#scope.actor;
    return g.audience === me || g.issuer === me || this.#scope.may('read', `grant:${g.id}`);
  }
}

/** @internal */
export type { GrantConstraints };
