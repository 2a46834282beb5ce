import type { Draft } from '../commit/draft.js';
import type { JsonValue } from '../crypto/canonical.js';
import { evaluate, type Requirement } from './evaluate.js';
import type { ApprovalRequest, ViewReader } from './view.js';

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
