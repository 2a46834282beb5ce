import { z } from 'zod';
import { advanceSeen, artifactRow, putArtifact } from '../artifacts/artifactRows.js';
import { evaluate } from '../auth/evaluate.js';
import type { ApprovalRequest, ViewReader, ViewTx } from '../auth/view.js';
import { canonicalJson } from '../crypto/canonical.js';
import { sha256b64 } from '../crypto/hash.js';
import { BatonError, ErrorCode } from '../errors.js';
import type { BatonEvent } from '../log/event.js';
import { type EventTypeDef, type ProjectionReader, rules } from '../log/eventTypes.js';
import type { ProjectionWrite } from '../store/store.js';
import { idString, isoTime, jsonValue } from '../validation.js';
import { spanWrites } from '../workspace/handoffSpans.js';
import { type HandoffRow, handoffRow, handoffWrite, OPEN, PRIORITIES } from './handoffRows.js';

const hash = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be a body hash');

const offered = z.object({
  id: idString,
  kind: z.enum(['work', 'approval', 'question']),
  to: z.array(idString).min(1).max(32),
  priority: z.enum(PRIORITIES),
  due: isoTime.optional(),
  escalateTo: idString.optional(),
  note: hash.optional(),
  artifacts: z
    .array(z.object({ id: idString, seen: z.number().int().min(0), head: z.number().int().min(1) }))
    .max(64),
  questions: z.array(idString).max(64),
  approval: z
    .object({
      action: idString,
      resource: z.string().min(1).max(400),
      digest: z.string().min(1).max(100),
      summary: z.string().max(4_000).optional(),
      payload: hash.optional(),
      onTimeout: z.enum(['expire', 'deny']),
    })
    .optional(),
  question: z
    .object({
      entry: idString,
      options: z.array(z.string().max(500)).max(32).optional(),
      schema: idString.optional(),
    })
    .optional(),
});

const closing = z.object({ id: idString, note: hash.optional() });
const decided = z.object({
  id: idString,
  decision: z.enum(['approved', 'denied']),
  resource: z.string().min(1).max(400),
  requester: idString,
  approvers: z.array(idString).min(1).max(32),
  note: hash.optional(),
  payload: hash.optional(),
});
const answered = z.object({ id: idString, value: jsonValue, entry: idString });
const simple = z.object({ id: idString });
const escalated = z.object({ id: idString, to: idString });

/**
 * The digest an approval request is filed under: requester, action, resource and the hash
 * of the payload's canonical JSON (`null` without one).
 */
export function requestDigest(
  requester: string,
  action: string,
  resource: string,
  payloadHash: string | undefined,
): string {
  return sha256b64(canonicalJson({ requester, action, resource, payload: payloadHash ?? null }));
}

/** The approval request `id` as the authority view holds it, or `NOT_FOUND`. */
export function requestOf(view: ViewReader, id: string): ApprovalRequest {
  const r = view.approval(id);
  if (!r) {
    throw new BatonError(
      ErrorCode.NOT_FOUND,
      `Approval request ${id} is not pending or approved: it does not exist, or it was consumed, denied or cancelled.`,
    );
  }
  return r;
}

function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

/** The row of handoff `id` as it stands before an event, or `NOT_FOUND`. */
async function existingRow(rows: ProjectionReader, id: string): Promise<HandoffRow> {
  const row = await handoffRow(rows, id);
  if (!row) throw new BatonError(ErrorCode.NOT_FOUND, `Handoff ${id} does not exist.`);
  return row;
}

async function holdWrites(
  rows: ProjectionReader,
  row: HandoffRow,
  holder: { id: string; until: string } | undefined,
) {
  const out: ProjectionWrite[] = [];
  for (const a of row.artifacts) {
    const art = await artifactRow(rows, a.id);
    if (!art) continue;
    const { holder: _, ...rest } = art;
    out.push(putArtifact(holder ? { ...rest, holder } : rest));
  }
  return out;
}

async function seenWrites(rows: ProjectionReader, who: string, artifacts: { id: string }[]) {
  const out: ProjectionWrite[] = [];
  for (const a of artifacts) {
    const art = await artifactRow(rows, a.id);
    if (art) out.push(...(await advanceSeen(rows, who, a.id, art.version)));
  }
  return out;
}

/** A transition that leaves `from` statuses for `to`, made by one of `by(row)`. Forged transitions change nothing. */
function transition(
  name: string,
  from: readonly HandoffRow['status'][],
  to: HandoffRow['status'],
  by: (row: HandoffRow) => string[],
  extra?: (
    e: { actor: string; at: string; data: z.output<typeof closing> },
    row: HandoffRow,
    rows: ProjectionReader,
  ) => Promise<ProjectionWrite[]>,
  apply?: (e: BatonEvent & { data: z.output<typeof closing> }, view: ViewTx) => void,
): EventTypeDef<z.output<typeof closing>> {
  return {
    name,
    version: 1,
    schema: closing,
    stream: (d) => `handoff/${d.id}`,
    authorize: () => rules.self(),
    apply,
    blobs: (d) => (d.note ? [d.note] : []),
    async admitState(e, state) {
      const row = await existingRow(state, e.data.id);
      const may = by(row);
      if (!may.includes(e.actor)) {
        throw new BatonError(
          ErrorCode.FORBIDDEN,
          may.length
            ? `Only ${may.join(' or ')} may write ${name} for handoff ${row.id}; ${e.actor} may not.`
            : `A ${row.kind} handoff (${row.id}) is never ${to}.`,
        );
      }
      if (!from.includes(row.status)) {
        throw new BatonError(
          ErrorCode.INVALID_STATE,
          `Handoff ${row.id} is ${row.status}; it can become ${to} only when ${from.join(' or ')}.`,
        );
      }
    },
    async project(e, rows) {
      const row = await handoffRow(rows, e.data.id);
      if (!row || !from.includes(row.status) || !by(row).includes(e.actor)) return [];
      const outcome: HandoffRow['outcome'] = { by: e.actor, at: e.at };
      if (e.data.note) outcome.note = e.data.note;
      const next: HandoffRow = { ...row, status: to, outcome, updatedAt: e.at, seq: e.seq };
      return [
        handoffWrite(next),
        ...(extra ? await extra(e, next, rows) : []),
        ...(await spanWrites(rows, name, e, next)),
      ];
    },
  };
}

/** The approval request of a `handoff.offered`: a new id, filed under its own digest. */
function checkApprovalRequest(
  e: { actor: string; data: z.output<typeof offered> },
  view: ViewTx,
): void {
  const a = e.data.approval!;
  if (view.approval(e.data.id)) {
    throw new BatonError(ErrorCode.INVALID_STATE, `Handoff ${e.data.id} exists already.`);
  }
  if (a.digest !== requestDigest(e.actor, a.action, a.resource, a.payload)) {
    throw new BatonError(
      ErrorCode.VALIDATION,
      '`data.approval.digest` must be the digest of requester, action, resource and payload hash.',
    );
  }
}

/** The handoff event types. */
export const handoffEvents = [
  {
    name: 'handoff.offered',
    version: 1,
    schema: offered,
    stream: (d) => `handoff/${d.id}`,
    authorize(e) {
      if (e.data.kind === 'approval') {
        const a = e.data.approval!;
        // Holding a grant that covers the action is what lets one ask for its approval.
        return {
          kind: 'grant',
          needs: [{ action: a.action, resource: a.resource, delegating: true }],
        };
      }
      const needs = e.data.artifacts.length
        ? e.data.artifacts.map((a) => ({ action: 'handoff', resource: `artifact:${a.id}` }))
        : [{ action: 'handoff', resource: 'workspace' }];
      return { kind: 'grant', needs };
    },
    check(e, view) {
      for (const id of e.data.to) {
        if (!view.identity(id))
          throw new BatonError(ErrorCode.NOT_FOUND, `Identity ${id} does not exist.`);
      }
      if (e.data.kind !== 'approval') {
        if (e.data.to.includes(e.actor))
          throw new BatonError(ErrorCode.VALIDATION, 'A handoff goes to someone else.');
        // Work is handed only to someone who may read it: the briefing and the hold are no way
        // around a missing `read`.
        for (const to of e.data.to) {
          for (const a of e.data.artifacts) {
            const resource = `artifact:${a.id}`;
            const d = evaluate(view, to, [{ action: 'read', resource }], e.at);
            if (!d.allowed) {
              const who = view.identity(to)?.name ?? to;
              throw new BatonError(
                ErrorCode.FORBIDDEN,
                `${who} (${to}) may not read ${resource}, so it cannot be handed that work (${d.reason}). Grant it with actor.capabilities.grant({ to: '${to}', resource: '${resource}', actions: ['read'] }) first.`,
                { details: { recipient: to, artifact: a.id, needs: { action: 'read', resource } } },
              );
            }
          }
        }
        return;
      }
      const a = e.data.approval;
      if (!a)
        throw new BatonError(
          ErrorCode.VALIDATION,
          'An approval request names its action and resource.',
        );
      // The approvers come from the grant, never from the requester.
      const d = evaluate(view, e.actor, [{ action: a.action, resource: a.resource }], e.at);
      if (d.allowed || !d.approval) {
        throw new BatonError(
          ErrorCode.INVALID_STATE,
          `${a.action} on ${a.resource} does not need approval for ${e.actor}.`,
        );
      }
      const approvers = d.approval.approvers.filter((x) => x !== e.actor);
      if (approvers.length === 0) {
        throw new BatonError(
          ErrorCode.FORBIDDEN,
          `No one but the requester may approve ${a.action} on ${a.resource}.`,
        );
      }
      if ([...approvers].sort().join() !== [...e.data.to].sort().join()) {
        throw new BatonError(
          ErrorCode.FORBIDDEN,
          'An approval request goes to the approvers its grant names, and only to them.',
        );
      }
      checkApprovalRequest(e, view);
    },
    // A handoff id names one handoff: offering it again would reset the row of one made before.
    async admitState(e, state) {
      if (await handoffRow(state, e.data.id)) {
        throw new BatonError(ErrorCode.INVALID_STATE, `Handoff ${e.data.id} exists already.`);
      }
    },
    apply(e, view) {
      const a = e.data.approval;
      if (e.data.kind !== 'approval' || !a) return;
      const r: ApprovalRequest = {
        id: e.data.id,
        requester: e.actor,
        approvers: e.data.to,
        grant: e.auth ?? '',
        action: a.action,
        resource: a.resource,
        digest: a.digest,
        status: 'pending',
        seq: e.seq,
      };
      if (a.payload !== undefined) r.payloadHash = a.payload;
      view.putApproval(r);
    },
    blobs: (d) => [d.note, d.approval?.payload].filter((x): x is string => !!x),
    async project(e, rows) {
      const row: HandoffRow = {
        id: e.data.id,
        kind: e.data.kind,
        from: e.actor,
        to: e.data.to,
        status: 'offered',
        priority: e.data.priority,
        artifacts: e.data.artifacts,
        questions: e.data.questions,
        offerSeq: e.seq,
        createdAt: e.at,
        updatedAt: e.at,
        seq: e.seq,
      };
      for (const k of ['due', 'escalateTo', 'note', 'approval', 'question'] as const) {
        if (e.data[k] !== undefined) (row as unknown as Record<string, unknown>)[k] = e.data[k];
      }
      return [handoffWrite(row), ...(await seenWrites(rows, e.actor, e.data.artifacts))];
    },
  } satisfies EventTypeDef<z.output<typeof offered>>,
  transition(
    'handoff.accepted',
    ['offered'],
    'accepted',
    (r) => (r.kind === 'work' ? r.to : []),
    async (e, row, rows) => [
      ...(await holdWrites(rows, row, { id: e.actor, until: '9999-12-31T00:00:00.000Z' })),
      ...(await seenWrites(rows, e.actor, row.artifacts)),
    ],
  ),
  transition('handoff.declined', ['offered'], 'declined', (r) => (r.kind === 'work' ? r.to : [])),
  transition(
    'handoff.returned',
    ['accepted'],
    'returned',
    (r) => r.to,
    (e, row, rows) =>
      holdWrites(rows, row, { id: row.from, until: '9999-12-31T00:00:00.000Z' }).then(async (w) => [
        ...w,
        ...(await seenWrites(rows, e.actor, row.artifacts)),
      ]),
  ),
  transition(
    'handoff.completed',
    ['accepted'],
    'completed',
    (r) => r.to,
    async (e, row, rows) => [
      ...(await holdWrites(rows, row, undefined)),
      ...(await seenWrites(rows, e.actor, row.artifacts)),
    ],
  ),
  transition(
    'handoff.cancelled',
    ['offered', 'accepted'],
    'cancelled',
    (r) => [r.from],
    undefined,
    // A pending approval request its requester withdraws leaves the view, as its row closes.
    (e, view) => {
      const a = view.approval(e.data.id);
      if (a?.status === 'pending' && a.requester === e.actor) view.dropApproval(a.id);
    },
  ),
  {
    name: 'handoff.decided',
    version: 1,
    schema: decided,
    stream: (d) => `handoff/${d.id}`,
    // Judged against the request as the view holds it, never against what the event says.
    authorize: (e, view) => rules.needs('approve', requestOf(view, e.data.id).resource),
    check(e, view) {
      const r = requestOf(view, e.data.id);
      if (r.status !== 'pending') {
        throw new BatonError(
          ErrorCode.INVALID_STATE,
          `Approval ${r.id} is ${r.status} already; it can be decided once.`,
        );
      }
      if (e.data.requester !== r.requester) {
        throw new BatonError(
          ErrorCode.VALIDATION,
          `\`data.requester\` is ${e.data.requester}, but approval ${r.id} was requested by ${r.requester}.`,
        );
      }
      if (e.data.resource !== r.resource) {
        throw new BatonError(
          ErrorCode.VALIDATION,
          `\`data.resource\` is ${e.data.resource}, but approval ${r.id} is for ${r.resource}.`,
        );
      }
      if (!sameMembers(e.data.approvers, r.approvers)) {
        throw new BatonError(
          ErrorCode.VALIDATION,
          `\`data.approvers\` must be the request's approvers (${r.approvers.join(', ')}).`,
        );
      }
      if (e.actor === r.requester)
        throw new BatonError(ErrorCode.FORBIDDEN, 'A requester cannot decide its own approval.');
      if (!r.approvers.includes(e.actor)) {
        throw new BatonError(
          ErrorCode.FORBIDDEN,
          `Only ${r.approvers.join(' or ')} may decide approval ${r.id}.`,
        );
      }
    },
    apply(e, view) {
      const r = view.approval(e.data.id);
      if (!r) return;
      if (e.data.decision === 'denied') {
        view.dropApproval(r.id);
        return;
      }
      const next: ApprovalRequest = { ...r, status: 'approved', decidedBy: e.actor };
      // The approver's edited payload, when given, is what the approval binds.
      const bound = e.data.payload ?? r.payloadHash;
      if (bound !== undefined) next.approvedPayloadHash = bound;
      else delete next.approvedPayloadHash;
      view.putApproval(next);
    },
    blobs: (d) => [d.note, d.payload].filter((x): x is string => !!x),
    async project(e, rows) {
      const row = await handoffRow(rows, e.data.id);
      if (
        row?.kind !== 'approval' ||
        row.status !== 'offered' ||
        !row.to.includes(e.actor) ||
        row.from !== e.data.requester
      ) {
        return [];
      }
      const decision: HandoffRow['decision'] = { by: e.actor, at: e.at };
      if (e.data.note) decision.note = e.data.note;
      if (e.data.payload) decision.payload = e.data.payload;
      return [
        handoffWrite({ ...row, status: e.data.decision, decision, updatedAt: e.at, seq: e.seq }),
      ];
    },
  } satisfies EventTypeDef<z.output<typeof decided>>,
  {
    name: 'handoff.answered',
    version: 1,
    schema: answered,
    stream: (d) => `handoff/${d.id}`,
    authorize: () => rules.self(),
    async admitState(e, state) {
      const row = await existingRow(state, e.data.id);
      if (row.kind !== 'question')
        throw new BatonError(ErrorCode.INVALID_STATE, `Handoff ${row.id} is not a question.`);
      if (!row.to.includes(e.actor)) {
        throw new BatonError(
          ErrorCode.FORBIDDEN,
          `Only ${row.to.join(' or ')} may answer question ${row.id}; ${e.actor} may not.`,
        );
      }
      if (row.status !== 'offered')
        throw new BatonError(ErrorCode.INVALID_STATE, `Question ${row.id} is ${row.status}.`);
    },
    async project(e, rows) {
      const row = await handoffRow(rows, e.data.id);
      if (row?.kind !== 'question' || row.status !== 'offered' || !row.to.includes(e.actor))
        return [];
      return [
        handoffWrite({
          ...row,
          status: 'answered',
          answer: { by: e.actor, at: e.at, value: e.data.value, entry: e.data.entry },
          updatedAt: e.at,
          seq: e.seq,
        }),
      ];
    },
  } satisfies EventTypeDef<z.output<typeof answered>>,
  {
    name: 'handoff.consumed',
    version: 1,
    schema: simple,
    stream: (d) => `handoff/${d.id}`,
    authorize: () => rules.self(),
    check(e, view) {
      const r = requestOf(view, e.data.id);
      if (r.requester !== e.actor) {
        throw new BatonError(
          ErrorCode.FORBIDDEN,
          `Only ${r.requester}, who requested approval ${r.id}, may use it.`,
        );
      }
      if (r.status !== 'approved' || r.consumedSeq !== undefined) {
        throw new BatonError(
          ErrorCode.INVALID_STATE,
          `Approval ${r.id} is ${r.consumedSeq !== undefined ? 'consumed' : r.status}: it can be used once, and only after it is approved.`,
        );
      }
    },
    apply(e, view) {
      // A consumption whose exercise did not follow it at once is spent: it leaves the view.
      for (const old of view.approvalsBy(e.actor))
        if (old.consumedSeq !== undefined) view.dropApproval(old.id);
      const r = view.approval(e.data.id);
      if (r) view.putApproval({ ...r, consumedSeq: e.seq });
    },
    async project(e, rows) {
      const row = await handoffRow(rows, e.data.id);
      if (row?.status !== 'approved' || row.from !== e.actor) return [];
      return [handoffWrite({ ...row, status: 'consumed', updatedAt: e.at, seq: e.seq })];
    },
  } satisfies EventTypeDef<z.output<typeof simple>>,
  {
    name: 'handoff.escalated',
    version: 1,
    schema: escalated,
    stream: (d) => `handoff/${d.id}`,
    authorize: () => rules.self(),
    check(e, view) {
      if (view.identity(e.actor)?.kind !== 'service') {
        throw new BatonError(ErrorCode.FORBIDDEN, 'Escalations are written by a service identity.');
      }
    },
    async admitState(e, state) {
      const row = await existingRow(state, e.data.id);
      if (!OPEN.includes(row.status) || row.escalatedTo || row.escalateTo !== e.data.to) {
        throw new BatonError(
          ErrorCode.INVALID_STATE,
          `Handoff ${row.id} cannot be escalated to ${e.data.to}: it is ${row.status}${row.escalatedTo ? `, escalated already to ${row.escalatedTo}` : ''}, and names ${row.escalateTo ?? 'no one'} to escalate to.`,
        );
      }
    },
    async project(e, rows) {
      const row = await handoffRow(rows, e.data.id);
      if (!row || !OPEN.includes(row.status) || row.escalatedTo || row.escalateTo !== e.data.to)
        return [];
      return [handoffWrite({ ...row, escalatedTo: e.data.to, updatedAt: e.at, seq: e.seq })];
    },
  } satisfies EventTypeDef<z.output<typeof escalated>>,
] as unknown as EventTypeDef<never>[];
