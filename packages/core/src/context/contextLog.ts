import { z } from 'zod';
import type { JsonValue } from '../crypto/canonical.js';
import { derivedId, randomId } from '../crypto/ids.js';
import { BatonError, ErrorCode } from '../errors.js';
import { answerQuestionHandoff } from '../handoffs/answering.js';
import { getHandoff, questionHandoffFor } from '../handoffs/handoffRead.js';
import type { Scope } from '../scope.js';
import type { Page } from '../store/store.js';
import { idString, jsonValue, parseInput, timeInput, utf8String } from '../validation.js';
import { addTotals, type CostBy, type CostTotals, costCells, costKeys } from './contextCosts.js';
import { MAX_CONTEXT_BODY } from './contextEvents.js';
import { CONTEXT_TYPES, contextFields, contextIndexed, contextRow } from './contextRows.js';
import {
  answerWords,
  type ContextEntry,
  type ContextQuery,
  entryDraft,
  entryOf,
  entryReadable,
  queryEntries,
  type RecordInput,
  readEntry,
  type Words,
  wordsBody,
} from './entries.js';

export type { ContextEntry, ContextQuery, RecordInput } from './entries.js';

const recordSchema = z.object({
  type: z.enum(CONTEXT_TYPES),
  about: z.array(idString).max(64).optional(),
  text: utf8String(1_000_000),
  why: utf8String(100_000).optional(),
  alternatives: z.array(utf8String(10_000)).max(32).optional(),
  outcome: z.string().max(200).optional(),
  options: z.array(z.string().max(500)).max(32).optional(),
  answers: idString.optional(),
  tool: contextFields.shape.tool,
  usage: contextFields.shape.usage,
  replaces: z.array(idString).max(10_000).optional(),
  idempotencyKey: idString.optional(),
});

const compactSchema = z.object({
  about: z.union([idString, z.array(idString).min(1).max(64)]),
  before: timeInput.optional(),
  summarize: z.custom<(entries: ContextEntry[]) => string>((f) => typeof f === 'function', {
    message: 'must be a function (entries) => text',
  }),
});
const costsSchema = z.object({
  by: z.enum(['actor', 'artifact', 'session', 'handoff']),
  since: timeInput.optional(),
});

/** One line of {@link ContextLog.costs}: totals for one actor, artifact, session or handoff. */
export interface CostLine {
  key: string;
  entries: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

/**
 * What was tried, learned, decided and why — attached to artifacts, outliving every
 * session. Reached as `actor.context`.
 */
export class ContextLog {
  readonly #scope: Scope;

  /** @internal */
  constructor(scope: Scope) {
    this.#scope = scope;
  }

  /** Records an entry. Needs `comment` on each artifact it is about (or on `workspace`). */
  async record(input: RecordInput): Promise<ContextEntry> {
    const a = parseInput(recordSchema, input, 'context.record');
    if (a.type === 'answer' && a.answers === undefined) {
      throw new BatonError(
        ErrorCode.VALIDATION,
        'context.record: an `answer` names the question it `answers`.',
      );
    }
    if (a.answers !== undefined) {
      const q = await contextRow(this.#scope.rows, a.answers);
      if (q?.type !== 'question')
        throw new BatonError(
          ErrorCode.NOT_FOUND,
          `context.record: question ${a.answers} does not exist.`,
        );
    }
    await this.#scope.catchUp();
    const id = a.idempotencyKey
      ? derivedId('ctx', [this.#scope.workspace, this.#scope.actor, a.idempotencyKey])
      : randomId('ctx');
    const words: Words = { text: a.text };
    if (a.why !== undefined) words.why = a.why;
    if (a.alternatives !== undefined) words.alternatives = a.alternatives;
    const body = wordsBody(words);
    if (body.bytes.length > MAX_CONTEXT_BODY)
      throw new BatonError(
        ErrorCode.VALIDATION,
        `context.record: the words take ${body.bytes.length} bytes as JSON; the limit is ${MAX_CONTEXT_BODY}. Shorten \`text\`, \`why\` or \`alternatives\`.`,
        { details: { field: 'text' } },
      );
    const fields: Record<string, JsonValue> = {};
    for (const k of ['outcome', 'options', 'tool', 'usage'] as const)
      if (a[k] !== undefined) fields[k] = a[k] as JsonValue;
    const draft = entryDraft(
      {
        id,
        type: a.type,
        about: a.about ?? [],
        body,
        fields,
        answers: a.answers,
        replaces: a.replaces,
      },
      [...(a.about ?? []), ...(a.answers ? [a.answers] : [])],
    );
    const { idempotencyKey, ...request } = a;
    const [event] = await this.#scope.commit({
      idempotency: {
        key: idempotencyKey,
        operation: 'context.record',
        input: request as JsonValue,
      },
      plan: () => ({ drafts: [draft], blobs: [body] }),
    });
    const row = (await contextRow(this.#scope.rows, (event!.data as { id: string }).id))!;
    return entryOf(this.#scope, row);
  }

  /** One entry, or `NOT_FOUND`. */
  async get(id: string): Promise<ContextEntry> {
    parseInput(idString, id, 'context.get(id)');
    await this.#scope.catchUp();
    return readEntry(this.#scope, id);
  }

  /** Entries this actor may read, oldest first, filtered; a page at a time. */
  async query(query: ContextQuery = {}): Promise<Page<ContextEntry>> {
    return queryEntries(this.#scope, query);
  }

  /**
   * Compaction: hands the entries about `about` recorded before `before` (not already
   * summarized, questions left alone while open; other identities' entries only when this
   * actor holds `admin` over them) to the app's `summarize` — an LLM call,
   * say — and records what it returns as a `summary` entry that stands for them in reads
   * and briefings. The originals stay in the log (and can still be erased).
   *
   * @returns The summary entry, or `undefined` when there was nothing to compact.
   */
  async compact(options: {
    about: string | string[];
    before?: string | Date | number;
    summarize: (entries: ContextEntry[]) => string | Promise<string>;
  }): Promise<ContextEntry | undefined> {
    const o = parseInput(compactSchema, options, 'context.compact');
    if (typeof options.summarize !== 'function') {
      throw new BatonError(
        ErrorCode.VALIDATION,
        'context.compact: `summarize` must be a function (entries) => text.',
      );
    }
    const about = Array.isArray(o.about) ? o.about : [o.about];
    const entries: ContextEntry[] = [];
    let after: string | undefined;
    do {
      const page = await this.query({ about, limit: 500, after });
      entries.push(
        ...page.items.filter(
          (e) =>
            (o.before === undefined || e.at < o.before) &&
            !(e.type === 'question' && e.open) &&
            this.#mayReplace(e),
        ),
      );
      after = page.next;
    } while (after);
    if (entries.length === 0) return undefined;
    const text = await options.summarize(entries);
    return this.record({
      type: 'summary',
      about,
      text: parseInput(utf8String(1_000_000).min(1), text, 'context.compact: the summary'),
      replaces: entries.map((e) => e.id),
    });
  }

  /**
   * Cost attribution from `usage` entries: tokens and cost summed by actor, artifact,
   * session, or handoff (the usage about a handoff's artifacts recorded by its recipient
   * while the handoff was accepted — so a piece of work's chain of handoffs each carry
   * their part).
   */
  async costs(options: {
    by: 'actor' | 'artifact' | 'session' | 'handoff';
    since?: string | Date | number;
  }): Promise<CostLine[]> {
    const o = parseInput(costsSchema, options, 'context.costs');
    const lines = new Map<string, CostLine>();
    const add = (key: string, totals: Partial<CostTotals>) => {
      const line = lines.get(key) ?? {
        key,
        entries: 0,
        inputTokens: 0,
        outputTokens: 0,
        costUsd: 0,
      };
      addTotals(line, totals);
      lines.set(key, line);
    };
    await this.#scope.catchUp();
    if (await contextIndexed(this.#scope.rows)) {
      for await (const cell of costCells(this.#scope.rows, o.by, o.since)) {
        if ('fields' in cell) {
          // An entry of the day `since` falls in, from `since` on.
          if (!entryReadable(this.#scope, cell)) continue;
          for (const k of costKeys(cell, o.by)) add(k, cell.fields.usage ?? {});
        } else if (entryReadable(this.#scope, cell)) add(cell.key, cell);
      }
    } else await this.#legacyCosts(o.by, o.since, add);
    return [...lines.values()].sort((a, b) => b.costUsd - a.costUsd || a.key.localeCompare(b.key));
  }

  /**
   * {@link ContextLog.costs} on a store whose rows were written before the cost rows were kept
   * (until `workspace.rebuildProjections()`): every `usage` entry read, handoff spans from the log.
   */
  async #legacyCosts(
    by: CostBy,
    since: string | undefined,
    add: (key: string, totals: Partial<CostTotals>) => void,
  ): Promise<void> {
    const usage: ContextEntry[] = [];
    let after: string | undefined;
    do {
      const page = await this.query({
        types: ['usage'],
        since,
        includeSummarized: true,
        limit: 1_000,
        after,
      });
      usage.push(...page.items);
      after = page.next;
    } while (after);
    const spans = by === 'handoff' ? await this.#scope.handoffSpans() : [];
    for (const e of usage) {
      const row = {
        ...e,
        spans: spans
          .filter(
            (s) =>
              s.recipient === e.actor &&
              e.seq > s.from &&
              e.seq <= s.until &&
              e.about.some((a) => s.artifacts.includes(a)),
          )
          .map((s) => s.id),
      };
      for (const k of costKeys(row, by)) add(k, e.usage ?? {});
    }
  }

  /**
   * Answers a question — any of them, by one call: a `question` entry of the ContextLog
   * (`ctx_…`: recorded with `record`, one of a work handoff's `questions`, or the entry of an
   * `ask`), a question handoff (`ho_…` from `ask`), or a work handoff with exactly one open
   * question. Records an `answer` entry about what the question is about, so the asker's
   * next briefing shows the answer and no longer lists the question as open; a question
   * handoff asked of this actor is answered with it (`handoff.answered`).
   *
   * @remarks
   * Needs `comment` on what the question is about (`workspace` when it is about no artifact)
   * — the same grant asking it needed; a question handoff is answered by its recipient.
   * `value` is the answer: text, or JSON (kept as JSON text in the entry). A question with
   * `options` takes one of them.
   *
   * @returns The `answer` entry.
   * @throws BatonError `NOT_FOUND` when there is no such question (or it may not be read);
   *   `INVALID_STATE` when it is answered already; `VALIDATION` for a value outside its options,
   *   or a handoff with no or several open questions (naming them).
   */
  async answer(id: string, value: JsonValue): Promise<ContextEntry> {
    const qid = parseInput(idString, id, 'context.answer(id)');
    const v = parseInput(jsonValue, value, 'context.answer(value)');
    await this.#scope.catchUp();
    let entry = qid;
    if (qid.startsWith('ho_')) {
      const h = await getHandoff(this.#scope, qid);
      if (h.kind === 'question') {
        const answered = await answerQuestionHandoff(this.#scope, qid, v);
        return this.get(answered.answer!.entry);
      }
      if (h.openQuestions.length !== 1)
        throw new BatonError(
          ErrorCode.VALIDATION,
          h.openQuestions.length === 0
            ? `context.answer: handoff ${qid} has no open question.`
            : `context.answer: handoff ${qid} has ${h.openQuestions.length} open questions (${h.openQuestions.join(', ')}); give the id of the one answered.`,
          { details: { field: 'id', candidates: h.openQuestions } },
        );
      entry = h.openQuestions[0]!;
    }
    const asked = await questionHandoffFor(this.#scope, entry);
    if (asked) return this.answer(asked, v);
    const body = wordsBody(answerWords(v));
    if (body.bytes.length > MAX_CONTEXT_BODY)
      throw new BatonError(
        ErrorCode.VALIDATION,
        `context.answer: the answer takes ${body.bytes.length} bytes; the limit is ${MAX_CONTEXT_BODY}.`,
        { details: { field: 'value' } },
      );
    const [event] = await this.#scope.commit({
      plan: async (_view, ids) => {
        const q = await contextRow(this.#scope.rows, entry);
        if (!q || !entryReadable(this.#scope, q))
          throw new BatonError(
            ErrorCode.NOT_FOUND,
            `context.answer: no question ${entry}, or ${this.#scope.actor} may not read it.`,
            { details: { id: entry } },
          );
        if (q.type !== 'question')
          throw new BatonError(
            ErrorCode.VALIDATION,
            `context.answer: ${entry} is a ${q.type} entry, not a question.`,
            { details: { field: 'id' } },
          );
        if (q.open === false)
          throw new BatonError(
            ErrorCode.INVALID_STATE,
            `context.answer: question ${entry} is answered already${q.answeredBy ? ` (${q.answeredBy})` : ''}.`,
            { details: { id: entry, answer: q.answeredBy ?? null } },
          );
        const options = q.fields.options;
        if (options?.length && !(typeof v === 'string' && options.includes(v)))
          throw new BatonError(
            ErrorCode.VALIDATION,
            `context.answer: the answer must be one of ${options.map((o) => JSON.stringify(o)).join(', ')}.`,
            { details: { field: 'value', options } },
          );
        const draft = entryDraft(
          { id: ids.next('ctx'), type: 'answer', about: q.about, body, answers: entry },
          [...q.about, entry, q.actor],
        );
        return { drafts: [draft], blobs: [body] };
      },
    });
    return this.get((event!.data as { id: string }).id);
  }

  /** Questions about `about` still waiting for an answer. */
  async openQuestions(about?: string | string[]): Promise<ContextEntry[]> {
    return (await this.query({ about, types: ['question'], open: true, limit: 1_000 })).items;
  }

  /**
   * Whether this actor may replace `e` in reads: `comment` on all it is about, and it is
   * this actor's own entry or the actor holds `admin` over it (what `context.recorded`'s
   * admission asks).
   */
  #mayReplace(e: ContextEntry): boolean {
    const can = (action: string, about: string[]) =>
      about.length
        ? about.every((a) => this.#scope.may(action, `artifact:${a}`))
        : this.#scope.may(action, 'workspace');
    if (!can('comment', e.about)) return false;
    if (e.actor === this.#scope.actor || this.#scope.may('admin', 'workspace')) return true;
    return e.about.length > 0 && can('admin', e.about);
  }
}
