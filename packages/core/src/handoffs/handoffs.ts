import { z } from 'zod';
import { artifactRow, seenVersion } from '../artifacts/artifactRows.js';
import type { Draft } from '../commit/draft.js';
import { entryDraft, textBody, wordsBody } from '../context/entries.js';
import type { JsonValue } from '../crypto/canonical.js';
import { derivedId, randomId } from '../crypto/ids.js';
import { BatonError, ErrorCode } from '../errors.js';
import type { Scope } from '../scope.js';
import type { BlobWrite } from '../store/store.js';
import { abortSignal, idString, MAX_TIMER_MS, parseInput, timeInput } from '../validation.js';
import { answerQuestionHandoff } from './answering.js';
import { type ApprovalInput, approvalFor, approvalSchema, decideApprovals } from './approvals.js';
import { type Briefing, buildBriefing } from './briefing.js';
import { getHandoff, type Handoff, keyedHandoff } from './handoffRead.js';
import { type HandoffRow, PRIORITIES, type Priority } from './handoffRows.js';

export type { ApprovalInput } from './approvals.js';
export type { Handoff } from './handoffRead.js';
export type { InboxItem, InboxOptions } from './inbox.js';

/** Input of {@link Handoffs.offer}. */
export interface OfferInput {
  to: string;
  artifacts?: string[];
  note?: string;
  /** Questions for the recipient, recorded in the ContextLog about the artifacts. */
  questions?: string[];
  /** Defaults to `'normal'`. */
  priority?: Priority;
  due?: string | Date | number;
  /** Who sees it too once it is past due (written by a service identity's `tick`). */
  escalateTo?: string;
  idempotencyKey?: string;
}

/** Input of {@link Handoffs.ask}. */
export interface AskInput {
  to: string;
  question: string;
  options?: string[];
  /** The name of a zod schema (registered in `Workspace.open({ schemas })`) the answer must match. */
  schema?: string;
  /** The artifacts it is about. Defaults to none. */
  about?: string[];
  due?: string | Date | number;
  priority?: Priority;
  /**
   * Makes a retried call return the question the first call asked, answered or not. The
   * handoff's id derives from it. Reusing a key for a different question is `VALIDATION`.
   * Defaults to none.
   */
  idempotencyKey?: string;
}

const priority = z.enum(PRIORITIES);
const offerSchema = z.object({
  to: idString,
  artifacts: z.array(idString).max(64).optional(),
  note: z.string().max(100_000).optional(),
  questions: z.array(z.string().min(1).max(10_000)).max(32).optional(),
  priority: priority.optional(),
  due: timeInput.optional(),
  escalateTo: idString.optional(),
  idempotencyKey: idString.optional(),
});
const askSchema = z.object({
  to: idString,
  question: z.string().min(1).max(10_000),
  options: z.array(z.string().min(1).max(500)).max(32).optional(),
  schema: idString.optional(),
  about: z.array(idString).max(64).optional(),
  due: timeInput.optional(),
  priority: priority.optional(),
  idempotencyKey: idString.optional(),
});
const noteSchema = z.object({ note: z.string().max(100_000).optional() }).optional();
const waitSchema = z.object({
  signal: abortSignal.optional(),
  timeoutMs: z.number().int().min(0).max(MAX_TIMER_MS).optional(),
});
/**
 * The id of a handoff's `i`-th question entry. Derived from the handoff's id rather than
 * counted from the clock: the questions of one offer are made in the same millisecond, and
 * clock-ordered ids would then differ only in their last characters — these differ from the
 * start, so a short prefix names each.
 */
function questionId(ws: string, handoff: string, i: number): string {
  return derivedId('ctx', [ws, handoff, 'question', String(i)]);
}

/**
 * The seam itself: work, approvals and questions passed across with a computed briefing.
 * Reached as `actor.handoffs`.
 */
export class Handoffs {
  readonly #scope: Scope;

  /** @internal */
  constructor(scope: Scope) {
    this.#scope = scope;
  }

  /**
   * Offers work to `to`: the artifacts, a note and questions. Records, per artifact, the
   * recipient's seen version and the head now, so the briefing reads the same later.
   * Needs `handoff` on each artifact, and the recipient must hold `read` on each: work is
   * never handed to someone who may not read it (`FORBIDDEN`, naming the grant to give).
   */
  async offer(input: OfferInput): Promise<Handoff> {
    const a = parseInput(offerSchema, input, 'handoffs.offer');
    await this.#scope.catchUp();
    const id = a.idempotencyKey
      ? derivedId('ho', [this.#scope.workspace, this.#scope.actor, a.idempotencyKey])
      : randomId('ho');
    const { idempotencyKey, ...request } = a;
    await this.#scope.commit({
      idempotency: {
        key: idempotencyKey,
        operation: 'handoffs.offer',
        input: request as JsonValue,
      },
      plan: async (tx) => {
        if (!tx.identity(a.to))
          throw new BatonError(
            ErrorCode.NOT_FOUND,
            `handoffs.offer: \`to\` names no identity (${a.to}).`,
          );
        const artifacts = [];
        for (const art of a.artifacts ?? []) {
          const row = await artifactRow(this.#scope.rows, art);
          if (!row)
            throw new BatonError(
              ErrorCode.NOT_FOUND,
              `handoffs.offer: artifact ${art} does not exist.`,
            );
          const seen = await seenVersion(this.#scope.rows, a.to, art);
          artifacts.push({ id: art, seen, head: row.version });
        }
        const drafts: Draft[] = [];
        const questions: string[] = [];
        const blobs: BlobWrite[] = [];
        for (const [i, q] of (a.questions ?? []).entries()) {
          const qid = questionId(this.#scope.workspace, id, i);
          const body = wordsBody({ text: q });
          blobs.push(body);
          questions.push(qid);
          const about = a.artifacts ?? [];
          drafts.push(entryDraft({ id: qid, type: 'question', about, body }, about));
        }
        const data: Record<string, JsonValue> = {
          id,
          kind: 'work',
          to: [a.to],
          priority: a.priority ?? 'normal',
          artifacts,
          questions,
        };
        if (a.due) data.due = a.due;
        if (a.escalateTo) data.escalateTo = a.escalateTo;
        if (a.note !== undefined) {
          const b = textBody(a.note);
          blobs.push(b);
          data.note = b.hash;
        }
        drafts.push({ type: 'handoff.offered', data, refs: [id, a.to, ...(a.artifacts ?? [])] });
        return { drafts, blobs };
      },
    });
    return this.get(id);
  }

  /** Accepts offered work: the hold of its artifacts moves to you. Returns the briefing (see {@link Handoffs.briefing}). */
  async accept(id: string): Promise<Briefing> {
    await this.#close(
      id,
      'handoff.accepted',
      undefined,
      (h) => h.kind === 'work' && h.status === 'offered' && h.to.includes(this.#scope.actor),
      'accept',
    );
    return this.briefing(id);
  }

  /** Declines offered work, with an optional note. */
  async decline(id: string, options?: { note?: string }): Promise<Handoff> {
    return this.#close(
      id,
      'handoff.declined',
      options,
      (h) => h.kind === 'work' && h.status === 'offered' && h.to.includes(this.#scope.actor),
      'decline',
    );
  }

  /** Hands accepted work back unfinished; the hold goes back to the offerer. */
  async return(id: string, options?: { note?: string }): Promise<Handoff> {
    return this.#close(
      id,
      'handoff.returned',
      options,
      (h) => h.status === 'accepted' && h.to.includes(this.#scope.actor),
      'return',
    );
  }

  /** Marks accepted work done; the hold is released. */
  async complete(id: string, options?: { note?: string }): Promise<Handoff> {
    return this.#close(
      id,
      'handoff.completed',
      options,
      (h) => h.status === 'accepted' && h.to.includes(this.#scope.actor),
      'complete',
    );
  }

  /** Withdraws a handoff you made. */
  async cancel(id: string, options?: { note?: string }): Promise<Handoff> {
    return this.#close(
      id,
      'handoff.cancelled',
      options,
      (h) => (h.status === 'offered' || h.status === 'accepted') && h.from === this.#scope.actor,
      'cancel',
    );
  }

  /**
   * Asks the approvers named by your grant (never ones you choose) to approve `action` on
   * `resource` with this exact payload. Asking again for the same request while it is
   * pending returns the pending one.
   */
  async requestApproval(input: ApprovalInput): Promise<Handoff> {
    const a = parseInput(approvalSchema, input, 'handoffs.requestApproval');
    return approvalFor(this.#scope, a.action, a.resource, a);
  }

  /**
   * Approves one request — or several of the same group at once. Only an approver the
   * request's grant named may, holding `approve` on the request's resource, and never its
   * requester.
   *
   * @param options - `note` for the requester, and `payload`: an edited payload. With it,
   *   the approval binds the edited payload instead of the requested one: the requester's
   *   `authorize()` then passes only with exactly that payload (and returns it as
   *   `approvedPayload`). Defaults to approving the requested payload as it is.
   */
  async approve(
    ids: string | string[],
    options?: { note?: string; payload?: JsonValue },
  ): Promise<Handoff[]> {
    return decideApprovals(this.#scope, ids, 'approved', options);
  }

  /** Denies one request — or several — with an optional note. */
  async deny(ids: string | string[], options?: { note?: string }): Promise<Handoff[]> {
    return decideApprovals(this.#scope, ids, 'denied', options);
  }

  /** Asks `to` a question (recorded in the ContextLog); the answer comes back through `answer`. */
  async ask(input: AskInput): Promise<Handoff> {
    const a = parseInput(askSchema, input, 'handoffs.ask');
    if (a.schema !== undefined && !this.#scope.schema(a.schema)) {
      throw new BatonError(
        ErrorCode.VALIDATION,
        `handoffs.ask: no schema "${a.schema}" is registered. Pass it in Workspace.open({ schemas }).`,
      );
    }
    const key = a.idempotencyKey;
    await this.#scope.catchUp();
    const id = key
      ? derivedId('ho', [this.#scope.workspace, this.#scope.actor, key])
      : randomId('ho');
    const { idempotencyKey: _key, ...request } = a;
    if (key) {
      const same = (row: HandoffRow) =>
        row.kind === 'question' && row.to.length === 1 && row.to[0] === a.to;
      const first = await keyedHandoff(this.#scope, id, key, same);
      if (first) return first;
    }
    await this.#scope.commit({
      idempotency: { key, operation: 'handoffs.ask', input: request as JsonValue },
      plan: (tx) => {
        if (!tx.identity(a.to))
          throw new BatonError(
            ErrorCode.NOT_FOUND,
            `handoffs.ask: \`to\` names no identity (${a.to}).`,
          );
        const entry = questionId(this.#scope.workspace, id, 0);
        const body = wordsBody({ text: a.question });
        const fields: Record<string, JsonValue> = {};
        if (a.options) fields.options = a.options;
        const question: Record<string, JsonValue> = { entry };
        if (a.options) question.options = a.options;
        if (a.schema) question.schema = a.schema;
        const data: Record<string, JsonValue> = {
          id,
          kind: 'question',
          to: [a.to],
          priority: a.priority ?? 'normal',
          artifacts: [],
          questions: [entry],
          question,
        };
        if (a.due) data.due = a.due;
        const about = a.about ?? [];
        return {
          drafts: [
            entryDraft({ id: entry, type: 'question', about, body, fields }, about),
            { type: 'handoff.offered', data, refs: [id, a.to] },
          ],
          blobs: [body],
        };
      },
    });
    return this.get(id);
  }

  /**
   * Answers a question handoff asked of you (`handoffs.ask`); the answer is validated against
   * its options or schema and also lands in the ContextLog. Given the id of the question's
   * ContextLog entry instead, answers the handoff that asked it.
   *
   * @remarks
   * To answer any question — one asked with `ask`, one of a work handoff's `questions`, or a
   * `question` entry recorded in the ContextLog — by one call, use
   * {@link ContextLog.answer | context.answer}: it takes either id.
   */
  async answer(id: string, value: JsonValue): Promise<Handoff> {
    return answerQuestionHandoff(this.#scope, id, value);
  }

  /**
   * A handoff you are part of — its offerer, a recipient, or whom it was escalated to — or may
   * read with `read` on `handoff:<id>`; `NOT_FOUND` for anyone else. It names its artifacts
   * by id and carries no content of theirs; its note is for those who may read it.
   */
  async get(id: string): Promise<Handoff> {
    return getHandoff(this.#scope, id);
  }

  /**
   * The briefing of a handoff for its recipient: changes, decisions, learnings, questions,
   * todos, the note — as far as the caller may read them. An artifact the caller may not
   * `read` (say, an offerer holding only `handoff` on it) is left out with its changes and
   * the ContextLog entries about it, and listed in `withheld` with the reason.
   */
  async briefing(id: string): Promise<Briefing> {
    const h = await this.get(id);
    return buildBriefing(this.#scope, h);
  }

  /**
   * Resolves when the handoff is decided (no longer offered) — through this or any other
   * Workspace instance on the store; at once when it already is. With `timeoutMs`, resolves
   * with the handoff as it stands when time runs out.
   */
  async wait(
    id: string,
    options: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<Handoff> {
    const o = parseInput(waitSchema, options, 'handoffs.wait');
    const stop = new AbortController();
    const timer =
      o.timeoutMs !== undefined ? setTimeout(() => stop.abort(), o.timeoutMs) : undefined;
    const onAbort = () => stop.abort();
    o.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for (;;) {
        const head = (await this.#scope.head()).seq;
        const h = await this.get(id);
        if (h.status !== 'offered') return h;
        if (o.signal?.aborted)
          throw o.signal.reason ?? new BatonError(ErrorCode.INVALID_STATE, 'The wait was aborted.');
        if (stop.signal.aborted) return h;
        const next = this.#scope.watch(
          { stream: `handoff/${id}`, after: head, signal: stop.signal },
          () => true,
        );
        await next.next();
        await next.return?.(undefined);
      }
    } finally {
      if (timer) clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
    }
  }

  async #close(
    id: string,
    type: string,
    options: { note?: string } | undefined,
    ok: (h: Handoff) => boolean,
    verb: string,
  ): Promise<Handoff> {
    parseInput(idString, id, `handoffs.${verb}(id)`);
    const o = parseInput(noteSchema, options, `handoffs.${verb}`);
    await this.#scope.commit({
      plan: async () => {
        const h = await this.get(id);
        if (!ok(h)) {
          const party = h.from === this.#scope.actor || h.to.includes(this.#scope.actor);
          throw new BatonError(
            party ? ErrorCode.INVALID_STATE : ErrorCode.FORBIDDEN,
            party
              ? `Cannot ${verb} handoff ${id}: it is ${h.status}.`
              : `${this.#scope.actor} is not the one who may ${verb} handoff ${id}.`,
          );
        }
        const data: Record<string, JsonValue> = { id };
        const blobs: BlobWrite[] = [];
        if (o?.note !== undefined) {
          const b = textBody(o.note);
          blobs.push(b);
          data.note = b.hash;
        }
        return { drafts: [{ type, data, refs: [id, h.from, ...h.to] }], blobs };
      },
    });
    return this.get(id);
  }
}
