import { z } from 'zod';
import type { Actor } from '../actor.js';
import { artifactRow, seenVersion } from '../artifacts/artifactRows.js';
import { type Decision, evaluate } from '../auth/evaluate.js';
import type { Draft } from '../commit/draft.js';
import { canonicalJson, type JsonValue } from '../crypto/canonical.js';
import { fromUtf8, utf8 } from '../crypto/encoding.js';
import { sha256b64 } from '../crypto/hash.js';
import { derivedId, randomId } from '../crypto/ids.js';
import { BatonError, ErrorCode, isBatonError } from '../errors.js';
import type { BlobWrite, Page } from '../store/store.js';
import {
  abortSignal,
  idString,
  jsonValue,
  MAX_TIMER_MS,
  parseInput,
  timeInput,
} from '../validation.js';
import type { Workspace } from '../workspace.js';
import { type Briefing, buildBriefing } from './briefing.js';
import {
  type HandoffKind,
  type HandoffRow,
  type HandoffStatus,
  PRIORITIES,
  type Priority,
  requestDigest,
} from './handoffEvents.js';

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

/** Input of {@link Handoffs.requestApproval}. */
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

/** Options of `actor.inbox`. */
export interface InboxOptions {
  kinds?: HandoffKind[];
  /** Defaults to open handoffs only. */
  status?: HandoffStatus[];
  limit?: number;
  after?: string;
}

/** An inbox item: a handoff, with a group key for approvals that can be decided together. */
export interface InboxItem extends Handoff {
  /** For approvals: `"<action> <resource>"`. */
  group?: string;
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
const approvalSchema = z.object({
  action: idString,
  resource: z.string().min(1).max(400),
  summary: z.string().max(4_000).optional(),
  payload: jsonValue.optional(),
  due: timeInput.optional(),
  onTimeout: z.enum(['expire', 'deny']).optional(),
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
const decideSchema = z.object({
  note: z.string().max(100_000).optional(),
  payload: jsonValue.optional(),
});
const waitSchema = z.object({
  signal: abortSignal.optional(),
  timeoutMs: z.number().int().min(0).max(MAX_TIMER_MS).optional(),
});
const inboxSchema = z.object({
  kinds: z.array(z.enum(['work', 'approval', 'question'])).optional(),
  status: z.array(z.string()).optional(),
  limit: z.number().int().min(1).max(500).optional(),
  after: z.string().optional(),
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
 * The id of a handoff's `i`-th question entry. Derived from the handoff's id rather than
 * counted from the clock: the questions of one offer are made in the same millisecond, and
 * clock-ordered ids would then differ only in their last characters — these differ from the
 * start, so a short prefix names each.
 */
function questionId(ws: string, handoff: string, i: number): string {
  return derivedId('ctx', [ws, handoff, 'question', String(i)]);
}

function body(text: string): BlobWrite {
  const bytes = utf8(text);
  return { hash: sha256b64(bytes), bytes };
}

/**
 * The seam itself: work, approvals and questions passed across with a computed briefing.
 * Reached as `actor.handoffs`.
 */
export class Handoffs {
  readonly #ws: Workspace;
  readonly #actor: Actor;

  /** @internal */
  constructor(ws: Workspace, actor: Actor) {
    this.#ws = ws;
    this.#actor = actor;
  }

  /**
   * Offers work to `to`: the artifacts, a note and questions. Records, per artifact, the
   * recipient's seen version and the head now, so the briefing reads the same later.
   * Needs `handoff` on each artifact, and the recipient must hold `read` on each: work is
   * never handed to someone who may not read it (`FORBIDDEN`, naming the grant to give).
   */
  async offer(input: OfferInput): Promise<Handoff> {
    const a = parseInput(offerSchema, input, 'handoffs.offer');
    await this.#ws._catchUp();
    const id = a.idempotencyKey
      ? derivedId('ho', [this.#ws.id ?? '', this.#actor.id, a.idempotencyKey])
      : randomId('ho');
    const blobs: BlobWrite[] = [];
    const { idempotencyKey, ...request } = a;
    await this.#actor._commit({
      idempotency: {
        key: idempotencyKey,
        operation: 'handoffs.offer',
        input: request as JsonValue,
      },
      plan: async (view) => {
        if (!view.identity(a.to))
          throw new BatonError(
            ErrorCode.NOT_FOUND,
            `handoffs.offer: \`to\` names no identity (${a.to}).`,
          );
        const artifacts = [];
        for (const art of a.artifacts ?? []) {
          const row = await artifactRow(this.#ws.store, art);
          if (!row)
            throw new BatonError(
              ErrorCode.NOT_FOUND,
              `handoffs.offer: artifact ${art} does not exist.`,
            );
          const seen = await seenVersion(this.#ws.store, a.to, art);
          artifacts.push({ id: art, seen, head: row.version });
        }
        const drafts: Draft[] = [];
        const questions: string[] = [];
        blobs.length = 0;
        for (const [i, q] of (a.questions ?? []).entries()) {
          const qid = questionId(this.#ws.id ?? '', id, i);
          const b = body(JSON.stringify({ text: q }));
          blobs.push(b);
          questions.push(qid);
          drafts.push({
            type: 'context.recorded',
            data: { id: qid, type: 'question', about: a.artifacts ?? [], body: b.hash, fields: {} },
            refs: a.artifacts ?? [],
          });
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
          const b = body(a.note);
          blobs.push(b);
          data.note = b.hash;
        }
        drafts.push({ type: 'handoff.offered', data, refs: [id, a.to, ...(a.artifacts ?? [])] });
        return drafts;
      },
      blobs,
    });
    return this.get(id);
  }

  /** Accepts offered work: the hold of its artifacts moves to you. Returns the briefing (see {@link Handoffs.briefing}). */
  async accept(id: string): Promise<Briefing> {
    await this.#close(
      id,
      'handoff.accepted',
      undefined,
      (h) => h.kind === 'work' && h.status === 'offered' && h.to.includes(this.#actor.id),
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
      (h) => h.kind === 'work' && h.status === 'offered' && h.to.includes(this.#actor.id),
      'decline',
    );
  }

  /** Hands accepted work back unfinished; the hold goes back to the offerer. */
  async return(id: string, options?: { note?: string }): Promise<Handoff> {
    return this.#close(
      id,
      'handoff.returned',
      options,
      (h) => h.status === 'accepted' && h.to.includes(this.#actor.id),
      'return',
    );
  }

  /** Marks accepted work done; the hold is released. */
  async complete(id: string, options?: { note?: string }): Promise<Handoff> {
    return this.#close(
      id,
      'handoff.completed',
      options,
      (h) => h.status === 'accepted' && h.to.includes(this.#actor.id),
      'complete',
    );
  }

  /** Withdraws a handoff you made. */
  async cancel(id: string, options?: { note?: string }): Promise<Handoff> {
    return this.#close(
      id,
      'handoff.cancelled',
      options,
      (h) => (h.status === 'offered' || h.status === 'accepted') && h.from === this.#actor.id,
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
    return this._approval(a.action, a.resource, a);
  }

  /** @internal The pending or approved request for this exact payload, or a new one. */
  async _approval(
    action: string,
    resource: string,
    a: Omit<ApprovalInput, 'action' | 'resource'>,
  ): Promise<Handoff> {
    const digest = approvalDigest(this.#actor.id, action, resource, a.payload);
    const key = a.idempotencyKey;
    await this.#ws._catchUp();
    const id = key ? derivedId('ho', [this.#ws.id ?? '', this.#actor.id, key]) : randomId('ho');
    if (key) {
      const first = await this.#keyed(id, key, (row) => row.approval?.digest === digest);
      if (first) return first;
    }
    const existing = await this.#byDigest(digest);
    if (existing) return existing;
    const blobs: BlobWrite[] = [];
    const { idempotencyKey: _key, ...request } = a;
    await this.#actor._commit({
      idempotency: {
        key,
        operation: 'handoffs.requestApproval',
        input: { action, resource, ...request } as JsonValue,
      },
      plan: async (view, _ids, at) => {
        if (await this.#byDigest(digest)) return [];
        const d: Decision = evaluate(view, this.#actor.id, [{ action, resource }], at);
        if (d.allowed)
          throw new BatonError(
            ErrorCode.INVALID_STATE,
            `${action} on ${resource} needs no approval: just do it.`,
          );
        if (!d.approval)
          throw new BatonError(
            ErrorCode.FORBIDDEN,
            `${this.#actor.id} may not ${action} on ${resource}: ${d.reason}.`,
          );
        const approval: Record<string, JsonValue> = {
          action,
          resource,
          digest,
          onTimeout: a.onTimeout ?? 'expire',
        };
        if (a.summary !== undefined) approval.summary = a.summary;
        blobs.length = 0;
        if (a.payload !== undefined) {
          const b = body(canonicalJson(a.payload));
          blobs.push(b);
          approval.payload = b.hash;
        }
        const to = d.approval.approvers.filter((x) => x !== this.#actor.id);
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
        return [{ type: 'handoff.offered', data, refs: [id, ...to, resource] }];
      },
      blobs,
    });
    return (await this.#byDigest(digest)) ?? this.get(id);
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
    return this.#decide(ids, 'approved', options);
  }

  /** Denies one request — or several — with an optional note. */
  async deny(ids: string | string[], options?: { note?: string }): Promise<Handoff[]> {
    return this.#decide(ids, 'denied', options);
  }

  async #decide(
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
    const blobs: BlobWrite[] = [];
    await this.#actor._commit({
      plan: async () => {
        blobs.length = 0;
        const drafts: Draft[] = [];
        for (const id of all) {
          const h = await this.get(id);
          if (h.kind !== 'approval')
            throw new BatonError(ErrorCode.INVALID_STATE, `${id} is not an approval request.`);
          if (h.status !== 'offered')
            throw new BatonError(
              ErrorCode.INVALID_STATE,
              `Approval ${id} is ${h.status}; it can no longer be decided.`,
            );
          if (h.from === this.#actor.id)
            throw new BatonError(
              ErrorCode.FORBIDDEN,
              'A requester cannot decide its own approval.',
            );
          if (!h.to.includes(this.#actor.id))
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
            const b = body(o.note);
            blobs.push(b);
            data.note = b.hash;
          }
          if (o.payload !== undefined && decision === 'approved') {
            const b = body(canonicalJson(o.payload));
            blobs.push(b);
            data.payload = b.hash;
          }
          drafts.push({ type: 'handoff.decided', data, refs: [id, h.from] });
        }
        return drafts;
      },
      blobs,
    });
    return Promise.all(all.map((id) => this.get(id)));
  }

  /** Asks `to` a question (recorded in the ContextLog); the answer comes back through `answer`. */
  async ask(input: AskInput): Promise<Handoff> {
    const a = parseInput(askSchema, input, 'handoffs.ask');
    if (a.schema !== undefined && !this.#ws._schemas.has(a.schema)) {
      throw new BatonError(
        ErrorCode.VALIDATION,
        `handoffs.ask: no schema "${a.schema}" is registered. Pass it in Workspace.open({ schemas }).`,
      );
    }
    const key = a.idempotencyKey;
    await this.#ws._catchUp();
    const id = key ? derivedId('ho', [this.#ws.id ?? '', this.#actor.id, key]) : randomId('ho');
    const { idempotencyKey: _key, ...request } = a;
    if (key) {
      const same = (row: HandoffRow) =>
        row.kind === 'question' && row.to.length === 1 && row.to[0] === a.to;
      const first = await this.#keyed(id, key, same);
      if (first) return first;
    }
    const blobs: BlobWrite[] = [];
    await this.#actor._commit({
      idempotency: { key, operation: 'handoffs.ask', input: request as JsonValue },
      plan: (view) => {
        if (!view.identity(a.to))
          throw new BatonError(
            ErrorCode.NOT_FOUND,
            `handoffs.ask: \`to\` names no identity (${a.to}).`,
          );
        const entry = questionId(this.#ws.id ?? '', id, 0);
        const b = body(JSON.stringify({ text: a.question }));
        blobs.length = 0;
        blobs.push(b);
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
        return [
          {
            type: 'context.recorded',
            data: { id: entry, type: 'question', about: a.about ?? [], body: b.hash, fields },
            refs: a.about ?? [],
          },
          { type: 'handoff.offered', data, refs: [id, a.to] },
        ];
      },
      blobs,
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
    parseInput(idString, id, 'handoffs.answer(id)');
    if (id.startsWith('ctx_')) {
      await this.#ws._catchUp();
      const asked = await this._questionFor(id);
      if (!asked)
        throw new BatonError(
          ErrorCode.NOT_FOUND,
          `handoffs.answer: no question handoff waiting on ${this.#actor.id} asks ${id}. Answer a ContextLog question with context.answer(${id}, …).`,
        );
      id = asked;
    }
    const v = parseInput(jsonValue, value, 'handoffs.answer(value)');
    const blobs: BlobWrite[] = [];
    await this.#actor._commit({
      plan: async (_view, ids): Promise<Draft[]> => {
        const h = await this.get(id);
        if (h.kind !== 'question' || h.status !== 'offered' || !h.to.includes(this.#actor.id)) {
          throw new BatonError(
            ErrorCode.INVALID_STATE,
            `Question ${id} is ${h.status} and not waiting on ${this.#actor.id}.`,
          );
        }
        const q = h.question!;
        if (q.schema)
          parseInput(
            this.#ws._schemas.get(q.schema)!,
            v,
            `handoffs.answer: \`value\` (schema ${q.schema})`,
          );
        else if (q.options && !(typeof v === 'string' && q.options.includes(v))) {
          throw new BatonError(
            ErrorCode.VALIDATION,
            `handoffs.answer: \`value\` must be one of ${q.options.map((x) => JSON.stringify(x)).join(', ')}.`,
          );
        }
        const entry = ids.next('ctx');
        const b = body(JSON.stringify({ text: typeof v === 'string' ? v : JSON.stringify(v) }));
        blobs.length = 0;
        blobs.push(b);
        const question = (await this.#ws.store.get('context', q.entry)) as
          | { about: string[] }
          | undefined;
        return [
          {
            type: 'context.recorded',
            data: {
              id: entry,
              type: 'answer',
              about: question?.about ?? [],
              body: b.hash,
              fields: {},
              answers: q.entry,
            },
            refs: [q.entry],
          },
          { type: 'handoff.answered', data: { id, value: v, entry }, refs: [id, h.from] },
        ];
      },
      blobs,
    });
    return this.get(id);
  }

  /**
   * A handoff you are part of — its offerer, a recipient, or whom it was escalated to — or may
   * read with `read` on `handoff:<id>`; `NOT_FOUND` for anyone else. It names its artifacts
   * by id and carries no content of theirs; its note is for those who may read it.
   */
  async get(id: string): Promise<Handoff> {
    parseInput(idString, id, 'handoffs.get(id)');
    await this.#ws._catchUp();
    const row = await this.#row(id);
    if (!this._readable(row))
      throw new BatonError(
        ErrorCode.NOT_FOUND,
        `Handoff ${id} does not exist, or ${this.#actor.id} may not read it.`,
      );
    return this.#view(row);
  }

  /**
   * The briefing of a handoff for its recipient: changes, decisions, learnings, questions,
   * todos, the note — as far as the caller may read them. An artifact the caller may not
   * `read` (say, an offerer holding only `handoff` on it) is left out with its changes and
   * the ContextLog entries about it, and listed in `withheld` with the reason.
   */
  async briefing(id: string): Promise<Briefing> {
    const h = await this.get(id);
    return buildBriefing(this.#ws, this.#actor, h);
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
        const head = (await this.#ws.store.head()).seq;
        const h = await this.get(id);
        if (h.status !== 'offered') return h;
        if (o.signal?.aborted)
          throw o.signal.reason ?? new BatonError(ErrorCode.INVALID_STATE, 'The wait was aborted.');
        if (stop.signal.aborted) return h;
        const next = this.#ws._watch(
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

  /** @internal What waits on this actor, by priority then due. */
  async _inbox(options: InboxOptions): Promise<Page<InboxItem>> {
    const o = parseInput(inboxSchema, options, 'actor.inbox');
    await this.#ws._catchUp();
    const limit = o.limit ?? 100;
    const status = o.status ?? ['offered', 'accepted'];
    const page = await this.#ws.store.query(
      'handoffs',
      'inbox',
      { prefix: `${this.#actor.id}\u0000` },
      { limit: limit * 2, after: o.after },
    );
    const items: InboxItem[] = [];
    for (const { value } of page.items) {
      const h = await this.#view(value as unknown as HandoffRow);
      if (o.kinds && !o.kinds.includes(h.kind)) continue;
      if (!status.includes(h.status)) continue;
      const item: InboxItem = h;
      if (h.approval) item.group = `${h.approval.action} ${h.approval.resource}`;
      items.push(item);
      if (items.length === limit) break;
    }
    return page.next ? { items, next: page.next } : { items };
  }

  /**
   * @internal The open question handoff waiting on this actor whose question is entry `entry`,
   * if any: looked for in this actor's inbox only.
   */
  async _questionFor(entry: string): Promise<string | undefined> {
    let after: string | undefined;
    do {
      const page = await this.#ws.store.query(
        'handoffs',
        'inbox',
        { prefix: `${this.#actor.id}\u0000` },
        { limit: 200, after },
      );
      for (const { value } of page.items) {
        const row = value as unknown as HandoffRow;
        if (row.kind === 'question' && row.status === 'offered' && row.question?.entry === entry)
          return row.id;
      }
      after = page.next;
    } while (after);
    return undefined;
  }

  /** @internal */
  _readable(row: HandoffRow): boolean {
    return this.#party(row) || this.#actor._canNow('read', `handoff:${row.id}`);
  }

  /** Is this actor one of the handoff's parties: who offered it, who it is for, who it was escalated to? */
  #party(row: HandoffRow): boolean {
    const me = this.#actor.id;
    return row.from === me || row.to.includes(me) || row.escalatedTo === me;
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
    const blobs: BlobWrite[] = [];
    await this.#actor._commit({
      plan: async () => {
        const h = await this.get(id);
        if (!ok(h)) {
          const party = h.from === this.#actor.id || h.to.includes(this.#actor.id);
          throw new BatonError(
            party ? ErrorCode.INVALID_STATE : ErrorCode.FORBIDDEN,
            party
              ? `Cannot ${verb} handoff ${id}: it is ${h.status}.`
              : `${this.#actor.id} is not the one who may ${verb} handoff ${id}.`,
          );
        }
        const data: Record<string, JsonValue> = { id };
        blobs.length = 0;
        if (o?.note !== undefined) {
          const b = body(o.note);
          blobs.push(b);
          data.note = b.hash;
        }
        return [{ type, data, refs: [id, h.from, ...h.to] }];
      },
      blobs,
    });
    return this.get(id);
  }

  /**
   * The handoff a call with idempotency key `key` made before (its id is `id`), or
   * `undefined` when there is none; `VALIDATION` when that one was a different request.
   */
  async #keyed(
    id: string,
    key: string,
    same: (row: HandoffRow) => boolean,
  ): Promise<Handoff | undefined> {
    const row = (await this.#ws.store.get('handoffs', id)) as unknown as HandoffRow | undefined;
    if (!row) return undefined;
    if (row.from !== this.#actor.id || !same(row))
      throw new BatonError(
        ErrorCode.VALIDATION,
        `idempotencyKey "${key}" was used before for a different request. Use a new key for a new request.`,
        { details: { field: 'idempotencyKey', handoff: id } },
      );
    return this.#view(row);
  }

  async #row(id: string): Promise<HandoffRow> {
    const row = (await this.#ws.store.get('handoffs', id)) as unknown as HandoffRow | undefined;
    if (!row) throw new BatonError(ErrorCode.NOT_FOUND, `Handoff ${id} does not exist.`);
    return row;
  }

  /**
   * This actor's pending or approved request for `digest`. Which requests exist and whether
   * one was approved come from the authority view (built from the verified log), never from
   * the rows, which whoever can write the store could change; the row gives its display
   * fields and the expiry derived from `due`.
   */
  async #byDigest(digest: string): Promise<Handoff | undefined> {
    for (const a of this.#ws._view.approvalsBy(this.#actor.id)) {
      if (a.digest !== digest) continue;
      const row = (await this.#ws.store.get('handoffs', a.id)) as unknown as HandoffRow | undefined;
      if (!row) continue;
      const h = await this.#view({
        ...row,
        status: a.status === 'approved' ? 'approved' : 'offered',
      });
      if (h.status === 'offered' || h.status === 'approved') return h;
    }
    return undefined;
  }

  async #view(row: HandoffRow): Promise<Handoff> {
    const expired =
      row.status === 'offered' && row.due !== undefined && Date.parse(row.due) <= this.#ws._now();
    const status: HandoffStatus = expired
      ? row.approval?.onTimeout === 'deny'
        ? 'denied'
        : 'expired'
      : row.status;
    const h: Handoff = { ...row, status, openQuestions: [] };
    for (const q of row.questions) {
      const entry = (await this.#ws.store.get('context', q)) as { open?: boolean } | undefined;
      if (entry?.open !== false) h.openQuestions.push(q);
    }
    if (row.note) h.noteText = await this.#ws.text(row.note);
    if (row.question) {
      const entry = (await this.#ws.store.get('context', row.question.entry)) as
        | { body?: string }
        | undefined;
      // The question is for its parties to read; anyone else reads it as the ContextLog lets them.
      if (this.#party(row)) {
        if (entry?.body) h.questionText = (await this.#actor.context._words(entry.body)).text;
      } else if (entry) {
        const e = await this.#actor.context.get(row.question.entry).catch((err: unknown) => {
          if (isBatonError(err, ErrorCode.NOT_FOUND)) return undefined;
          throw err;
        });
        if (e) h.questionText = e.text;
      }
    }
    if (row.approval) {
      if (row.approval.payload) {
        const b = await this.#ws.blob(row.approval.payload);
        if (b && 'bytes' in b) h.requestedPayload = JSON.parse(fromUtf8(b.bytes)) as JsonValue;
      }
      for await (const e of this.#ws.store.read({ stream: `handoff/${row.id}`, limit: 1 }))
        if (e.auth !== undefined) h.grant = e.auth;
    }
    if (row.decision?.note) h.decisionNoteText = await this.#ws.text(row.decision.note);
    if (row.decision?.payload) {
      const b = await this.#ws.blob(row.decision.payload);
      if (b && 'bytes' in b) h.approvedPayload = JSON.parse(fromUtf8(b.bytes)) as JsonValue;
    }
    return h;
  }
}
