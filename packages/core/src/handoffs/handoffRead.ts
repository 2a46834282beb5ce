import { contextRow } from '../context/contextRows.js';
import { entryReadable, entryWords } from '../context/entries.js';
import type { JsonValue } from '../crypto/canonical.js';
import { fromUtf8 } from '../crypto/encoding.js';
import { BatonError, ErrorCode } from '../errors.js';
import type { Scope } from '../scope.js';
import { idString, parseInput } from '../validation.js';
import { type HandoffRow, type HandoffStatus, handoffRow, handoffsPage } from './handoffRows.js';

// Handoffs as any facade reads them: a row as read, who may read it, and the lookups the
// facades share (by id, by idempotency key, the question handoff asking an entry).

/** A handoff as read: its row, its derived status, and its note's words. */
export interface Handoff extends Omit<HandoffRow, 'status'> {
  status: HandoffStatus;
  /** The note's text. */
  noteText?: string;
  /** For decided approvals: the text of the approver's note (`approve`/`deny` `{ note }`). */
  decisionNoteText?: string;
  /** For a question: its text (kept in the ContextLog entry it recorded). */
  questionText?: string;
  /** For approvals decided with an edited payload: that payload. */
  approvedPayload?: JsonValue;
  /** For approval requests: the payload asked to be approved, as requested. */
  requestedPayload?: JsonValue;
  /** For approval requests: the grant whose `requiresApproval` gates the action (what authorized the request). */
  grant?: string;
  /**
   * Its questions (ContextLog entry ids) still waiting for an answer now — answer each with
   * `context.answer(id, …)`.
   */
  openQuestions: string[];
}

/** Is the scope's identity one of the handoff's parties: who offered it, who it is for, who it was escalated to? */
export function handoffParty(scope: Pick<Scope, 'actor'>, row: HandoffRow): boolean {
  const me = scope.actor;
  return row.from === me || row.to.includes(me) || row.escalatedTo === me;
}

/** May the scope's identity read the handoff: a party, or `read` on `handoff:<id>`. */
export function handoffReadable(scope: Pick<Scope, 'actor' | 'may'>, row: HandoffRow): boolean {
  return handoffParty(scope, row) || scope.may('read', `handoff:${row.id}`);
}

/**
 * Handoff `id` as the scope's identity may read it (`handoffs.get`), or `NOT_FOUND`. Catches
 * up first.
 */
export async function getHandoff(scope: Scope, id: string): Promise<Handoff> {
  parseInput(idString, id, 'handoffs.get(id)');
  await scope.catchUp();
  const row = await handoffRow(scope.rows, id);
  if (!row) throw new BatonError(ErrorCode.NOT_FOUND, `Handoff ${id} does not exist.`);
  if (!handoffReadable(scope, row))
    throw new BatonError(
      ErrorCode.NOT_FOUND,
      `Handoff ${id} does not exist, or ${scope.actor} may not read it.`,
    );
  return handoffOf(scope, row);
}

/**
 * The handoff a call with idempotency key `key` made before (its id is `id`), or
 * `undefined` when there is none; `VALIDATION` when that one was a different request.
 */
export async function keyedHandoff(
  scope: Scope,
  id: string,
  key: string,
  same: (row: HandoffRow) => boolean,
): Promise<Handoff | undefined> {
  const row = await handoffRow(scope.rows, id);
  if (!row) return undefined;
  if (row.from !== scope.actor || !same(row))
    throw new BatonError(
      ErrorCode.VALIDATION,
      `idempotencyKey "${key}" was used before for a different request. Use a new key for a new request.`,
      { details: { field: 'idempotencyKey', handoff: id } },
    );
  return handoffOf(scope, row);
}

/**
 * The open question handoff waiting on the scope's identity whose question is entry
 * `entry`, if any: looked for in its inbox only.
 */
export async function questionHandoffFor(scope: Scope, entry: string): Promise<string | undefined> {
  let after: string | undefined;
  do {
    const page = await handoffsPage(scope.rows, 'inbox', scope.actor, { limit: 200, after });
    for (const row of page.items) {
      if (row.kind === 'question' && row.status === 'offered' && row.question?.entry === entry)
        return row.id;
    }
    after = page.next;
  } while (after);
  return undefined;
}

/** The handoff of `row` as read: its derived status, its notes' words, its question and payloads. */
export async function handoffOf(scope: Scope, row: HandoffRow): Promise<Handoff> {
  const expired =
    row.status === 'offered' && row.due !== undefined && Date.parse(row.due) <= scope.now();
  const status: HandoffStatus = expired
    ? row.approval?.onTimeout === 'deny'
      ? 'denied'
      : 'expired'
    : row.status;
  const h: Handoff = { ...row, status, openQuestions: [] };
  for (const q of row.questions) {
    const entry = await contextRow(scope.rows, q);
    if (entry?.open !== false) h.openQuestions.push(q);
  }
  if (row.note) h.noteText = await scope.text(row.note);
  if (row.question) {
    const entry = await contextRow(scope.rows, row.question.entry);
    // The question is for its parties to read; anyone else reads it as the ContextLog lets them.
    if (entry && (handoffParty(scope, row) || entryReadable(scope, entry))) {
      if (entry.body) h.questionText = (await entryWords(scope, entry.body)).text;
      else if (!handoffParty(scope, row)) h.questionText = '';
    }
  }
  if (row.approval) {
    if (row.approval.payload) {
      const b = await scope.blob(row.approval.payload);
      if (b && 'bytes' in b) h.requestedPayload = JSON.parse(fromUtf8(b.bytes)) as JsonValue;
    }
    for await (const e of scope.events({ stream: `handoff/${row.id}`, limit: 1 }))
      if (e.auth !== undefined) h.grant = e.auth;
  }
  if (row.decision?.note) h.decisionNoteText = await scope.text(row.decision.note);
  if (row.decision?.payload) {
    const b = await scope.blob(row.decision.payload);
    if (b && 'bytes' in b) h.approvedPayload = JSON.parse(fromUtf8(b.bytes)) as JsonValue;
  }
  return h;
}
