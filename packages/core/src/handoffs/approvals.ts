import { z } from 'zod';
import { type Decision, evaluate } from '../auth/evaluate.js';
import type { Draft } from '../commit/draft.js';
import { textBody } from '../context/entries.js';
import { canonicalJson, type JsonValue } from '../crypto/canonical.js';
import { sha256b64 } from '../crypto/hash.js';
import { derivedId, randomId } from '../crypto/ids.js';
import { BatonError, ErrorCode } from '../errors.js';
import type { Scope } from '../scope.js';
import type { BlobWrite } from '../store/store.js';
import { idString, jsonValue, parseInput, timeInput } from '../validation.js';
import { requestDigest } from './handoffEvents.js';
import { getHandoff, type Handoff, handoffOf, keyedHandoff } from './handoffRead.js';
import { handoffRow } from './handoffRows.js';

// Approval requests: raising one (or finding the pending one for the same payload), and
// deciding them.

/** Input of `handoffs.requestApproval`. */
export interface ApprovalInput {
  action: string;
  resource: string;
  summary?: string;
  payload?: JsonValue;
  due?: string | Date | number;
  /** What a request past due becomes. Defaults to `'expire'`. */
  onTimeout?: 'expire' | 'deny';
  /**
   * Makes a retried call return the request the first call made — pending, decided or
   * consumed — instead of asking again (e.g. a LangGraph interrupt id: a node re-runs from
   * its top on resume). The request's id derives from it. Reusing a key for a different
   * request is `VALIDATION`. Defaults to none: a pending request for the same payload is
   * returned, a decided one is not.
   */
  idempotencyKey?: string;
}

/** The schema of {@link ApprovalInput}. */
export const approvalSchema = z.object({
  action: idString,
  resource: z.string().min(1).max(400),
  summary: z.string().max(4_000).optional(),
  payload: jsonValue.optional(),
  due: timeInput.optional(),
  onTimeout: z.enum(['expire', 'deny']).optional(),
  idempotencyKey: idString.optional(),
});

const decideSchema = z.object({
  note: z.string().max(100_000).optional(),
  payload: jsonValue.optional(),
});

/** The digest an approval is bound to: requester, action, resource and payload. */
export function approvalDigest(
  requester: string,
  action: string,
  resource: string,
  payload: JsonValue | undefined,
): string {
  return requestDigest(
    requester,
    action,
    resource,
    payload === undefined ? undefined : sha256b64(canonicalJson(payload)),
  );
}

/**
 * The pending or approved request of the scope's identity for exactly this action, resource
 * and payload, or a new one (`handoffs.requestApproval`, and `actor.authorize` when the
 * action needs a yes).
 */
export async function approvalFor(
  scope: Scope,
  action: string,
  resource: string,
  a: Omit<ApprovalInput, 'action' | 'resource'>,
): Promise<Handoff> {
  const digest = approvalDigest(scope.actor, action, resource, a.payload);
  const key = a.idempotencyKey;
  await scope.catchUp();
  const id = key ? derivedId('ho', [scope.workspace, scope.actor, key]) : randomId('ho');
  if (key) {
    const first = await keyedHandoff(scope, id, key, (row) => row.approval?.digest === digest);
    if (first) return first;
  }
  const existing = await byDigest(scope, digest);
  if (existing) return existing;
  const { idempotencyKey: _key, ...request } = a;
  await scope.commit({
    idempotency: {
      key,
      operation: 'handoffs.requestApproval',
      input: { action, resource, ...request } as JsonValue,
    },
    plan: async (tx, _ids, at) => {
      if (await byDigest(scope, digest)) return { drafts: [] };
      const d: Decision = evaluate(tx, scope.actor, [{ action, resource }], at);
      if (d.allowed)
        throw new BatonError(
          ErrorCode.INVALID_STATE,
          `${action} on ${resource} needs no approval: just do it.`,
        );
      if (!d.approval)
        throw new BatonError(
          ErrorCode.FORBIDDEN,
          `${scope.actor} may not ${action} on ${resource}: ${d.reason}.`,
        );
      const approval: Record<string, JsonValue> = {
        action,
        resource,
        digest,
        onTimeout: a.onTimeout ?? 'expire',
      };
      if (a.summary !== undefined) approval.summary = a.summary;
      const blobs: BlobWrite[] = [];
      if (a.payload !== undefined) {
        const b = textBody(canonicalJson(a.payload));
        blobs.push(b);
        approval.payload = b.hash;
      }
      const to = d.approval.approvers.filter((x) => x !== scope.actor);
      const data: Record<string, JsonValue> = {
        id,
        kind: 'approval',
        to,
        priority: 'normal',
        artifacts: [],
        questions: [],
        approval,
      };
      if (a.due) data.due = new Date(a.due).toISOString();
      return { drafts: [{ type: 'handoff.offered', data, refs: [id, ...to, resource] }], blobs };
    },
  });
  return (await byDigest(scope, digest)) ?? getHandoff(scope, id);
}

/**
 * The scope identity's pending or approved request for `digest`. Which requests exist and whether
 * one was approved come from the authority view (built from the verified log), never from
 * the rows, which whoever can write the store could change; the row gives its display
 * fields and the expiry derived from `due`.
 */
async function byDigest(scope: Scope, digest: string): Promise<Handoff | undefined> {
  for (const a of scope.authority.approvalsBy(scope.actor)) {
    if (a.digest !== digest) continue;
    const row = await handoffRow(scope.rows, a.id);
    if (!row) continue;
    const h = await handoffOf(scope, {
      ...row,
      status: a.status === 'approved' ? 'approved' : 'offered',
    });
    if (h.status === 'offered' || h.status === 'approved') return h;
  }
  return undefined;
}

/** Decides approval requests `ids` (`handoffs.approve` and `handoffs.deny`), in one commit. */
export async function decideApprovals(
  scope: Scope,
  ids: string | string[],
  decision: 'approved' | 'denied',
  options?: { note?: string; payload?: JsonValue },
): Promise<Handoff[]> {
  const list = parseInput(
    z.union([idString, z.array(idString).min(1).max(500)]),
    ids,
    `handoffs.${decision === 'approved' ? 'approve' : 'deny'}(ids)`,
  );
  const o = parseInput(
    decideSchema,
    options ?? {},
    `handoffs.${decision === 'approved' ? 'approve' : 'deny'}`,
  );
  const all = Array.isArray(list) ? list : [list];
  await scope.commit({
    plan: async () => {
      const blobs: BlobWrite[] = [];
      const drafts: Draft[] = [];
      for (const id of all) {
        const h = await getHandoff(scope, id);
        if (h.kind !== 'approval')
          throw new BatonError(ErrorCode.INVALID_STATE, `${id} is not an approval request.`);
        if (h.status !== 'offered')
          throw new BatonError(
            ErrorCode.INVALID_STATE,
            `Approval ${id} is ${h.status}; it can no longer be decided.`,
          );
        if (h.from === scope.actor)
          throw new BatonError(ErrorCode.FORBIDDEN, 'A requester cannot decide its own approval.');
        if (!h.to.includes(scope.actor))
          throw new BatonError(
            ErrorCode.FORBIDDEN,
            `Only ${h.to.join(' or ')} may decide approval ${id}.`,
          );
        const data: Record<string, JsonValue> = {
          id,
          decision,
          resource: h.approval!.resource,
          requester: h.from,
          approvers: h.to,
        };
        if (o.note !== undefined) {
          const b = textBody(o.note);
          blobs.push(b);
          data.note = b.hash;
        }
        if (o.payload !== undefined && decision === 'approved') {
          const b = textBody(canonicalJson(o.payload));
          blobs.push(b);
          data.payload = b.hash;
        }
        drafts.push({ type: 'handoff.decided', data, refs: [id, h.from] });
      }
      return { drafts, blobs };
    },
  });
  return Promise.all(all.map((id) => getHandoff(scope, id)));
}
