import type { Draft } from '../commit/draft.js';
import type { JsonValue } from '../crypto/canonical.js';
import type { BatonEvent } from '../log/event.js';
import { evaluate, type Requirement } from './evaluate.js';
import type { ApprovalRequest, Grant, ViewReader } from './view.js';

/** Options of `actor.authorize`. */
export interface AuthorizeOptions {
  /** What is about to happen, in words, for the audit log and for approvers. */
  summary?: string;
  /**
   * The exact thing being authorized; only its digest is recorded. When the action needs an
   * approval, only the payload the approval binds passes (the approver's edited one, when
   * they edited it). Defaults to none.
   */
  payload?: JsonValue;
  /**
   * Makes a retried call return the first call's authorization — whether or not it needed
   * an approval — instead of authorizing (or asking for approval) again. Defaults to none.
   */
  idempotencyKey?: string;
}

/** What `actor.authorize` returns when the action may go ahead. */
export interface Authorization {
  grant: Grant;
  chain: Grant[];
  /** The `grant.exercised` event recording it. */
  event: BatonEvent;
  /** The approval request this use consumed, when the action needed one. */
  approval?: string;
  /**
   * When the action needed an approval: the payload it binds — the approver's edited
   * payload when they gave one, else the requested one. A call passes only with exactly
   * that payload, so this is the payload the side effect must use. Absent when the
   * approval binds no payload.
   */
  approvedPayload?: JsonValue;
}

/**
 * The events of `requester` using its grant for `need` (`actor.authorize`): a
 * `grant.exercised` when a grant allows it outright (or none does: admission then raises the
 * precise `FORBIDDEN`); when it needs an approval, the use of a usable one with its
 * `handoff.consumed`, or nothing when there is none to use yet.
 */
export function exerciseDrafts(
  view: ViewReader,
  requester: string,
  need: Requirement,
  data: Record<string, JsonValue>,
  digest: string | undefined,
  at: string,
): Draft[] {
  const d = evaluate(view, requester, [need], at);
  if (d.allowed || !d.approval) {
    return [
      {
        type: 'grant.exercised',
        data: { ...data, grant: d.allowed ? d.grant.id : '-' },
        refs: [need.resource, requester],
      },
    ];
  }
  const use = usableApproval(view, requester, need, digest);
  if (!use) return [];
  return [
    { type: 'handoff.consumed', data: { id: use.id }, refs: [use.id] },
    {
      type: 'grant.exercised',
      auth: use.grant,
      data: { ...data, grant: use.grant, approval: use.id },
      refs: [need.resource, requester, use.id],
    },
  ];
}

/**
 * The approved, unused request of `requester` that binds exactly this action, resource and
 * payload digest (the approver's edited payload when given) — the oldest, when several do.
 */
function usableApproval(
  view: ViewReader,
  requester: string,
  need: Requirement,
  digest: string | undefined,
): ApprovalRequest | undefined {
  let best: ApprovalRequest | undefined;
  for (const x of view.approvalsBy(requester)) {
    if (
      x.status === 'approved' &&
      x.consumedSeq === undefined &&
      x.action === need.action &&
      x.resource === need.resource &&
      x.approvedPayloadHash === digest &&
      (!best || x.seq < best.seq)
    )
      best = x;
  }
  return best;
}
