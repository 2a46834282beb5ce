import { z } from 'zod';
import { artifactEvents } from '../artifacts/artifactEvents.js';
import { wideningOf } from '../auth/delegation.js';
import { delegationDepth, MAX_DELEGATION_DEPTH } from '../auth/evaluate.js';
import type { Grant, Identity, ViewTx } from '../auth/view.js';
import { contextEvents } from '../context/contextEvents.js';
import { contextVersionRow, erasedTextWrites } from '../context/contextRows.js';
import { rawFromDidKey } from '../crypto/keys.js';
import { BatonError, ErrorCode } from '../errors.js';
import { handoffEvents } from '../handoffs/handoffEvents.js';
import { notificationEvents } from '../notify/notifications.js';
import { withTrackRecords } from '../trackRecordRows.js';
import { idString, isoTime, jsonObject, name } from '../validation.js';
import {
  type EventTypeDef,
  type EventTypes,
  mustGrant,
  mustIdentity,
  rules,
} from './eventTypes.js';

const didKey = z.string().refine(
  (k) => {
    try {
      rawFromDidKey(k);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be an Ed25519 did:key (did:key:z6Mk…) that is not a small-order point' },
);

const kind = z.enum(['human', 'agent', 'service']);
const meta = jsonObject(16 * 1024);

const ownerSpec = z.object({ id: idString, kind, name: name(), key: didKey, meta });

const bootstrapped = z.object({
  name: name(),
  skewMs: z
    .number()
    .int()
    .min(1_000)
    .max(24 * 3_600_000),
  owners: z.array(ownerSpec).min(1).max(16),
});

const identityCreated = z.object({
  id: idString,
  kind,
  name: name(),
  key: didKey,
  owner: idString.optional(),
  meta,
});

const identityRef = z.object({ id: idString, reason: z.string().max(2_000).optional() });
const keyRotated = z.object({ id: idString, key: didKey });

/** Schema of grant constraints as stored in events. */
export const constraintsSchema = z.object({
  expiresAt: isoTime.optional(),
  notBefore: isoTime.optional(),
  maxUses: z.number().int().positive().optional(),
  requiresApproval: z
    .array(z.object({ action: idString, approvers: z.array(idString).min(1).max(32).optional() }))
    .max(64)
    .optional(),
  depth: z.number().int().min(0).max(16).optional(),
});

const grantIssued = z.object({
  id: idString,
  audience: idString,
  resource: z.string().min(1).max(400),
  actions: z.array(idString).min(1).max(64),
  constraints: constraintsSchema,
});

const grantRevoked = z.object({ id: idString, reason: z.string().max(2_000).optional() });

const grantExercised = z.object({
  /** The approval handoff this use consumes, when the action needed one. */
  approval: idString.optional(),
  grant: idString,
  action: idString,
  resource: z.string().min(1).max(400),
  summary: z.string().max(4_000).optional(),
  payloadDigest: z.string().max(100).optional(),
});

/**
 * The rule for a `grant.exercised` that names an approval: the approval exists, was
 * requested by this actor under this grant for exactly this action, resource and payload
 * (the approver's edited payload when given), is approved, and was consumed by the event
 * just before (its `handoff.consumed`, in the same batch), so it is used once.
 */
function checkApprovalUse(
  e: { actor: string; data: z.output<typeof grantExercised> },
  view: ViewTx,
) {
  const id = e.data.approval!;
  const refuse = (why: string) =>
    new BatonError(ErrorCode.FORBIDDEN, `This use may not rely on approval ${id}: ${why}.`, {
      details: { approval: id },
    });
  const r = view.approval(id);
  if (!r) throw refuse('no such request is pending or approved (or it was used already)');
  if (r.requester !== e.actor) throw refuse(`it was requested by ${r.requester}`);
  if (r.status !== 'approved') throw refuse(`it is ${r.status}, not approved`);
  if (r.action !== e.data.action || r.resource !== e.data.resource)
    throw refuse(`it approves ${r.action} on ${r.resource}`);
  if (r.grant !== e.data.grant) throw refuse(`it was requested under grant ${r.grant}`);
  if (r.approvedPayloadHash !== e.data.payloadDigest) {
    throw refuse(
      r.approvedPayloadHash === undefined
        ? 'it approves no payload'
        : `it approves another payload (digest ${r.approvedPayloadHash})`,
    );
  }
  if (r.consumedSeq === undefined || r.consumedSeq !== view.seq) {
    throw new BatonError(
      ErrorCode.INVALID_STATE,
      `A use of approval ${id} must come right after its handoff.consumed, in the same batch.`,
    );
  }
}

const blobErased = z.object({
  hash: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be a blob hash (base64url SHA-256)'),
  reason: z.string().trim().min(1).max(2_000),
});

/** The id of an owner's root grant. */
/** The identity whose name is `name` ignoring case, if any (the first one, in an old log with several). */
function identityNamed(view: ViewTx, name: string): Identity | undefined {
  const key = nameKey(name);
  for (const map of [view.identities, view.base.identities])
    for (const who of map.values()) if (nameKey(who.name) === key) return who;
  return undefined;
}

/**
 * The form names are compared in: Unicode-normalized (NFKC) and case-folded, so "Drafter",
 * "drafter" and "ＤＲＡＦＴＥＲ" are one name.
 */
export function nameKey(name: string): string {
  return name.normalize('NFKC').toLowerCase();
}

export function rootGrantId(ownerId: string): string {
  if (typeof ownerId !== 'string') {
    throw new BatonError(ErrorCode.VALIDATION, 'rootGrantId: `ownerId` must be an identity id.');
  }
  return `gr_root_${ownerId}`;
}

function newIdentity(
  spec: { id: string; kind: Identity['kind']; name: string; key: string; meta: Identity['meta'] },
  at: string,
  seq: number,
  extra: Partial<Identity>,
): Identity {
  return {
    id: spec.id,
    kind: spec.kind,
    name: spec.name,
    isOwner: false,
    meta: spec.meta,
    status: 'active',
    keys: [{ key: spec.key, since: seq }],
    createdAt: at,
    seq,
    ...extra,
  };
}

const defs: EventTypeDef<never>[] = [
  {
    name: 'workspace.bootstrapped',
    version: 1,
    schema: bootstrapped,
    stream: () => 'workspace',
    authorize: () => ({ kind: 'none', why: 'bootstrap' }),
    check(e, view, admission) {
      if (view.workspace || view.seq > 0) {
        throw new BatonError(ErrorCode.INVALID_STATE, 'This workspace is bootstrapped already.');
      }
      if (e.data.owners[0]!.id !== e.actor) {
        throw new BatonError(ErrorCode.VALIDATION, 'The bootstrapper must be the first owner.');
      }
      if (new Set(e.data.owners.map((o) => o.id)).size !== e.data.owners.length) {
        throw new BatonError(ErrorCode.VALIDATION, 'Owner ids must be distinct.');
      }
      const names = e.data.owners.map((o) => nameKey(o.name));
      if (admission.now !== undefined && new Set(names).size !== names.length) {
        throw new BatonError(
          ErrorCode.VALIDATION,
          'Owner names must be distinct, whatever their case: every identity in a workspace has its own name.',
          { details: { field: 'owners' } },
        );
      }
    },
    // A new log's context rows have this code's shape from the start (see contextIndexed).
    project: () => [contextVersionRow()],
    apply(e, view) {
      view.putWorkspace({
        id: e.ws,
        name: e.data.name,
        owners: e.data.owners.map((o) => o.id),
        skewMs: e.data.skewMs,
        createdAt: e.at,
        seq: e.seq,
      });
      for (const o of e.data.owners) {
        view.putIdentity(newIdentity(o, e.at, e.seq, { isOwner: true }));
        const root: Grant = {
          id: rootGrantId(o.id),
          issuer: o.id,
          audience: o.id,
          resource: '*',
          actions: ['admin'],
          constraints: {},
          root: true,
          issuedAt: e.at,
          issuedSeq: e.seq,
          uses: 0,
          seq: e.seq,
        };
        view.putGrant(root);
      }
    },
  } satisfies EventTypeDef<z.output<typeof bootstrapped>>,
  {
    name: 'identity.created',
    version: 1,
    schema: identityCreated,
    stream: (d) => `identity/${d.id}`,
    authorize: (e) => rules.needs('create', `identity:${e.data.id}`),
    check(e, view, admission) {
      if (view.identity(e.data.id)) {
        throw new BatonError(ErrorCode.INVALID_STATE, `Identity ${e.data.id} exists already.`);
      }
      // Names are unique, case-insensitively. Judged for new commits only: a log written
      // before the rule may hold two identities of one name, and still verifies (they are
      // told apart by id).
      if (admission.now !== undefined) {
        const taken = identityNamed(view, e.data.name);
        if (taken) {
          throw new BatonError(
            ErrorCode.INVALID_STATE,
            `An identity named "${taken.name}" exists already (${taken.id}); names are unique in a workspace, whatever their case. Choose another name.`,
            { details: { field: 'name', existing: taken.id } },
          );
        }
      }
      if (e.data.owner !== undefined) {
        const owner = mustIdentity(view, e.data.owner);
        if (owner.kind !== 'human') {
          throw new BatonError(
            ErrorCode.VALIDATION,
            `\`owner\` must be a human identity; ${owner.name} is a ${owner.kind}.`,
          );
        }
      }
    },
    apply(e, view) {
      const extra: Partial<Identity> = { createdBy: e.actor };
      if (e.data.owner !== undefined) extra.owner = e.data.owner;
      view.putIdentity(newIdentity(e.data, e.at, e.seq, extra));
    },
  } satisfies EventTypeDef<z.output<typeof identityCreated>>,
  {
    name: 'identity.suspended',
    version: 1,
    schema: identityRef,
    stream: (d) => `identity/${d.id}`,
    authorize: (e) => rules.needs('admin', `identity:${e.data.id}`),
    check(e, view) {
      const who = mustIdentity(view, e.data.id);
      if (who.status === 'suspended') {
        throw new BatonError(ErrorCode.INVALID_STATE, `${who.name} is suspended already.`);
      }
      const activeOwners = (view.workspace?.owners ?? []).filter(
        (id) => id !== who.id && view.identity(id)?.status === 'active',
      );
      if (who.isOwner && activeOwners.length === 0) {
        throw new BatonError(
          ErrorCode.INVALID_STATE,
          `${who.name} is the last active owner; suspending them would lock the workspace.`,
        );
      }
    },
    apply(e, view) {
      const who = view.identity(e.data.id)!;
      view.putIdentity({ ...who, status: 'suspended', seq: e.seq });
    },
  } satisfies EventTypeDef<z.output<typeof identityRef>>,
  {
    name: 'identity.reinstated',
    version: 1,
    schema: identityRef,
    stream: (d) => `identity/${d.id}`,
    authorize: (e) => rules.needs('admin', `identity:${e.data.id}`),
    check(e, view) {
      const who = mustIdentity(view, e.data.id);
      if (who.status === 'active')
        throw new BatonError(ErrorCode.INVALID_STATE, `${who.name} is not suspended.`);
    },
    apply(e, view) {
      const who = view.identity(e.data.id)!;
      view.putIdentity({ ...who, status: 'active', seq: e.seq });
    },
  } satisfies EventTypeDef<z.output<typeof identityRef>>,
  {
    name: 'identity.keyRotated',
    version: 1,
    schema: keyRotated,
    stream: (d) => `identity/${d.id}`,
    authorize: (e) =>
      e.actor === e.data.id ? rules.self() : rules.needs('admin', `identity:${e.data.id}`),
    check(e, view) {
      const who = mustIdentity(view, e.data.id);
      if (who.keys.some((k) => k.key === e.data.key)) {
        throw new BatonError(
          ErrorCode.INVALID_STATE,
          `That key is (or was) already a key of ${who.name}.`,
        );
      }
    },
    apply(e, view) {
      const who = view.identity(e.data.id)!;
      const keys = who.keys.map((k) => (k.until === undefined ? { ...k, until: e.seq } : k));
      keys.push({ key: e.data.key, since: e.seq + 1 });
      view.putIdentity({ ...who, keys, seq: e.seq });
    },
  } satisfies EventTypeDef<z.output<typeof keyRotated>>,
  {
    name: 'grant.issued',
    version: 1,
    schema: grantIssued,
    stream: (d) => `grant/${d.id}`,
    authorize: (e) => ({
      kind: 'grant',
      needs: [
        { action: 'grant', resource: e.data.resource, delegating: true },
        ...e.data.actions.map((action) => ({
          action,
          resource: e.data.resource,
          delegating: true,
        })),
      ],
    }),
    check(e, view) {
      if (view.grant(e.data.id))
        throw new BatonError(ErrorCode.INVALID_STATE, `Grant ${e.data.id} exists already.`);
      const audience = mustIdentity(view, e.data.audience);
      // The grant that authorized issuing this one is its parent: the chain is the log's own.
      const parent = mustGrant(view, e.auth ?? '');
      const c = e.data.constraints;
      if (c.notBefore && c.expiresAt && Date.parse(c.notBefore) >= Date.parse(c.expiresAt)) {
        throw new BatonError(ErrorCode.VALIDATION, '`notBefore` must be earlier than `expiresAt`.');
      }
      if (delegationDepth(view, parent) + 1 > MAX_DELEGATION_DEPTH) {
        throw new BatonError(
          ErrorCode.FORBIDDEN,
          `A grant delegated from ${parent.id} would be link ${delegationDepth(view, parent) + 1} of its chain below an owner's root grant; chains are limited to ${MAX_DELEGATION_DEPTH} links (MAX_DELEGATION_DEPTH). Delegate from a grant nearer the root.`,
          { details: { parent: parent.id, limit: MAX_DELEGATION_DEPTH } },
        );
      }
      const widening = wideningOf(c, e.data.actions, parent, e.actor);
      if (widening) {
        throw new BatonError(
          ErrorCode.FORBIDDEN,
          `A grant delegated from ${parent.id} may only narrow it, but ${widening}.`,
          { details: { parent: parent.id } },
        );
      }
      for (const rule of c.requiresApproval ?? []) {
        for (const id of rule.approvers ?? []) mustIdentity(view, id);
      }
      if (audience.id === e.actor && !parent.root) {
        throw new BatonError(ErrorCode.VALIDATION, 'An identity cannot grant to itself.');
      }
    },
    apply(e, view) {
      view.putGrant({
        id: e.data.id,
        issuer: e.actor,
        audience: e.data.audience,
        resource: e.data.resource,
        actions: e.data.actions,
        constraints: e.data.constraints,
        parent: e.auth!,
        root: false,
        issuedAt: e.at,
        issuedSeq: e.seq,
        uses: 0,
        seq: e.seq,
      });
    },
  } satisfies EventTypeDef<z.output<typeof grantIssued>>,
  {
    name: 'grant.revoked',
    version: 1,
    schema: grantRevoked,
    stream: (d) => `grant/${d.id}`,
    authorize(e, view) {
      const g = mustGrant(view, e.data.id);
      return g.issuer === e.actor && !g.root ? rules.self() : rules.needs('admin', g.resource);
    },
    check(e, view) {
      const g = mustGrant(view, e.data.id);
      if (g.root) {
        throw new BatonError(
          ErrorCode.INVALID_STATE,
          `Grant ${g.id} is an owner's root grant; suspend the owner instead of revoking it.`,
        );
      }
      if (g.revoked)
        throw new BatonError(ErrorCode.INVALID_STATE, `Grant ${g.id} is revoked already.`);
    },
    apply(e, view) {
      const g = view.grant(e.data.id)!;
      const revoked: NonNullable<Grant['revoked']> = { by: e.actor, at: e.at, seq: e.seq };
      if (e.data.reason !== undefined) revoked.reason = e.data.reason;
      view.putGrant({ ...g, revoked, seq: e.seq });
    },
  } satisfies EventTypeDef<z.output<typeof grantRevoked>>,
  {
    name: 'grant.exercised',
    version: 1,
    schema: grantExercised,
    stream: (d) => `grant/${d.grant}`,
    // With an approval, the grant must still cover the action; the approval (consumed by
    // the event just before) stands in for the approver's yes.
    authorize: (e) =>
      e.data.approval
        ? {
            kind: 'grant',
            needs: [{ action: e.data.action, resource: e.data.resource, delegating: true }],
          }
        : rules.needs(e.data.action, e.data.resource),
    check(e, view) {
      if (e.auth !== e.data.grant) {
        throw new BatonError(
          ErrorCode.VALIDATION,
          'A grant.exercised event must name its own grant in `auth`.',
        );
      }
      if (e.data.approval !== undefined) checkApprovalUse(e, view);
    },
    apply(e, view) {
      if (e.data.approval !== undefined) view.dropApproval(e.data.approval);
    },
  } satisfies EventTypeDef<z.output<typeof grantExercised>>,
  {
    name: 'blob.erased',
    version: 1,
    schema: blobErased,
    stream: (d) => `blob/${d.hash}`,
    authorize: () => rules.needs('admin', 'workspace'),
    check(e, view) {
      const who = view.identity(e.actor);
      if (!who?.isOwner) {
        throw new BatonError(
          ErrorCode.FORBIDDEN,
          `Only a workspace owner may erase a body; ${who?.name ?? e.actor} is not one.`,
        );
      }
    },
    project: async (e, rows) => [
      ...(await erasedTextWrites(rows, e.data.hash)),
      {
        collection: 'erasures',
        key: e.data.hash,
        value: {
          hash: e.data.hash,
          by: e.actor,
          reason: e.data.reason,
          at: e.at,
          seq: e.seq,
          event: e.id,
        },
      },
    ],
  } satisfies EventTypeDef<z.output<typeof blobErased>>,
] as unknown as EventTypeDef<never>[];

/** Registers the built-in event types. */
export function registerBuiltinEvents(types: EventTypes): void {
  const all = [
    ...defs,
    ...artifactEvents,
    ...contextEvents,
    ...handoffEvents,
    ...notificationEvents,
  ];
  for (const def of all) types.register(withTrackRecords(def));
}
