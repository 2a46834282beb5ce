import { z } from 'zod';
import type { Actor } from '../actor.js';
import type { JsonValue } from '../crypto/canonical.js';
import { fromUtf8, utf8 } from '../crypto/encoding.js';
import { sha256b64 } from '../crypto/hash.js';
import { derivedId, randomId } from '../crypto/ids.js';
import { BatonError, ErrorCode } from '../errors.js';
import { erasedText } from '../log/body.js';
import { encodeCursor } from '../store/keys.js';
import type { Page } from '../store/store.js';
import { idString, jsonValue, parseInput, timeInput, utf8String } from '../validation.js';
import type { Workspace } from '../workspace.js';
import {
  CONTEXT_TYPES,
  type ContextRow,
  type ContextType,
  contextFields,
  contextIndexKey,
  MAX_CONTEXT_BODY,
  wordsSchema,
} from './contextEvents.js';

/** Input of {@link ContextLog.record}. */
export interface RecordInput {
  type: ContextType;
  /** The artifacts it is about. Defaults to none (about the workspace). */
  about?: string[];
  /** What was noted, tried, learned, decided, asked, answered… */
  text: string;
  /** For decisions: why. */
  why?: string;
  /** For decisions: what else was considered. */
  alternatives?: string[];
  /** For attempts: how it went (`'succeeded'`, `'failed'`, …). */
  outcome?: string;
  /** For questions: the choices offered. */
  options?: string[];
  /** For answers: the question it answers. */
  answers?: string;
  /** For tool calls: name, digests of arguments and result, duration. */
  tool?: { name: string; argsDigest?: string; resultDigest?: string; durationMs?: number };
  /** For model usage: tokens and cost. */
  usage?: { model?: string; inputTokens?: number; outputTokens?: number; costUsd?: number };
  /** For summaries: the entries it stands for in views. */
  replaces?: string[];
  idempotencyKey?: string;
}

/** A ContextLog entry as read: its row's who, when and about, and its words. */
export interface ContextEntry
  extends Pick<ContextRow, 'id' | 'type' | 'actor' | 'session' | 'at' | 'seq' | 'about'> {
  /** The words (`"[erased by …]"` once an owner erased them). */
  text: string;
  why?: string;
  alternatives?: string[];
  outcome?: string;
  options?: string[];
  answers?: string;
  /** For questions: still waiting for an answer. */
  open?: boolean;
  /** For answered questions: the answer. */
  answer?: { id: string; by: string; text: string; at: string };
  tool?: RecordInput['tool'];
  usage?: RecordInput['usage'];
  replaces?: string[];
  /** Set when a summary stands for this entry in views. */
  summarizedBy?: string;
  /** The body hash (erasable with `actor.erase`). */
  body?: string;
}

/** Options of {@link ContextLog.query}. */
export interface ContextQuery {
  /** Entries about this artifact (or any of these). */
  about?: string | string[];
  types?: ContextType[];
  actor?: string;
  session?: string;
  /** Only entries at or after this time. */
  since?: string | Date | number;
  /** Only entries whose words contain this (case-insensitive). */
  text?: string;
  /** Only open (true) or answered (false) questions. */
  open?: boolean;
  /** Include entries a summary replaced. Defaults to `false`: the summary stands for them. */
  includeSummarized?: boolean;
  /** Page size. Defaults to `100`. */
  limit?: number;
  after?: string;
}

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

const querySchema = z.object({
  about: z.union([idString, z.array(idString).max(64)]).optional(),
  types: z.array(z.enum(CONTEXT_TYPES)).optional(),
  actor: idString.optional(),
  session: idString.optional(),
  since: timeInput.optional(),
  text: z.string().min(1).max(1_000).optional(),
  open: z.boolean().optional(),
  includeSummarized: z.boolean().optional(),
  limit: z.number().int().min(1).max(1_000).optional(),
  after: z.string().optional(),
});

/**
 * What was tried, learned, decided and why — attached to artifacts, outliving every
 * session. Reached as `actor.context`.
 */
export class ContextLog {
  readonly #ws: Workspace;
  readonly #actor: Actor;

  /** @internal */
  constructor(ws: Workspace, actor: Actor) {
    this.#ws = ws;
    this.#actor = actor;
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
      const q = (await this.#ws.store.get('context', a.answers)) as unknown as
        | ContextRow
        | undefined;
      if (q?.type !== 'question')
        throw new BatonError(
          ErrorCode.NOT_FOUND,
          `context.record: question ${a.answers} does not exist.`,
        );
    }
    await this.#ws._catchUp();
    const id = a.idempotencyKey
      ? derivedId('ctx', [this.#ws.id ?? '', this.#actor.id, a.idempotencyKey])
      : randomId('ctx');
    const words: Record<string, JsonValue> = { text: a.text };
    if (a.why !== undefined) words.why = a.why;
    if (a.alternatives !== undefined) words.alternatives = a.alternatives;
    const bytes = utf8(JSON.stringify(words));
    if (bytes.length > MAX_CONTEXT_BODY)
      throw new BatonError(
        ErrorCode.VALIDATION,
        `context.record: the words take ${bytes.length} bytes as JSON; the limit is ${MAX_CONTEXT_BODY}. Shorten \`text\`, \`why\` or \`alternatives\`.`,
        { details: { field: 'text' } },
      );
    const body = sha256b64(bytes);
    const fields: Record<string, JsonValue> = {};
    for (const k of ['outcome', 'options', 'tool', 'usage'] as const)
      if (a[k] !== undefined) fields[k] = a[k] as JsonValue;
    const data: Record<string, JsonValue> = {
      id,
      type: a.type,
      about: a.about ?? [],
      body,
      fields,
    };
    if (a.answers !== undefined) data.answers = a.answers;
    if (a.replaces !== undefined) data.replaces = a.replaces;
    const { idempotencyKey, ...request } = a;
    const [event] = await this.#actor._commit({
      idempotency: {
        key: idempotencyKey,
        operation: 'context.record',
        input: request as JsonValue,
      },
      plan: () => [
        {
          type: 'context.recorded',
          data,
          refs: [...(a.about ?? []), ...(a.answers ? [a.answers] : [])],
        },
      ],
      blobs: [{ hash: body, bytes }],
    });
    const row = (await this.#ws.store.get(
      'context',
      (event!.data as { id: string }).id,
    )) as unknown as ContextRow;
    return this.#entry(row);
  }

  /** One entry, or `NOT_FOUND`. */
  async get(id: string): Promise<ContextEntry> {
    parseInput(idString, id, 'context.get(id)');
    await this.#ws._catchUp();
    const row = (await this.#ws.store.get('context', id)) as unknown as ContextRow | undefined;
    if (!row || !this.#readable(row))
      throw new BatonError(
        ErrorCode.NOT_FOUND,
        `Context entry ${id} does not exist, or may not be read.`,
      );
    return this.#entry(row);
  }

  /** Entries this actor may read, oldest first, filtered; a page at a time. */
  async query(query: ContextQuery = {}): Promise<Page<ContextEntry>> {
    const q = parseInput(querySchema, query, 'context.query');
    await this.#ws._catchUp();
    const about = q.about === undefined ? undefined : Array.isArray(q.about) ? q.about : [q.about];
    const limit = q.limit ?? 100;
    const [index, key]: [string, string | undefined] =
      about?.length === 1
        ? ['about', about[0]!]
        : q.session
          ? ['session', q.session]
          : q.actor
            ? ['actor', q.actor]
            : ['at', undefined];
    const range = key !== undefined ? { prefix: `${key}\u0000` } : q.since ? { gte: q.since } : {};
    const items: ContextEntry[] = [];
    let after = q.after;
    const needle = q.text?.toLowerCase();
    while (items.length < limit) {
      const page = await this.#ws.store.query('context', index, range, { limit: 200, after });
      for (const { value } of page.items) {
        const row = value as unknown as ContextRow;
        if (about && !row.about.some((x) => about.includes(x))) continue;
        if (q.types && !q.types.includes(row.type)) continue;
        if (q.actor && row.actor !== q.actor) continue;
        if (q.session && row.session !== q.session) continue;
        if (q.since && row.at < q.since) continue;
        if (q.open !== undefined && (row.type !== 'question' || row.open !== q.open)) continue;
        if (!q.includeSummarized && row.summarizedBy) continue;
        if (!this.#readable(row)) continue;
        const entry = await this.#entry(row);
        if (needle && !`${entry.text}\n${entry.why ?? ''}`.toLowerCase().includes(needle)) continue;
        items.push(entry);
        after = undefined;
        if (items.length === limit) {
          // Resume right after this row, even mid-page.
          const ikey = contextIndexKey(key ?? row.at, row.seq);
          return { items, next: encodeCursor([ikey, row.id]) };
        }
      }
      if (!page.next) break;
      after = page.next;
    }
    return { items };
  }

  /**
   * Compaction: hands the entries about `about` recorded before `before` (not already
   * summarized, questions left alone while open; other identities' entries only when this
   * actor holds `admin` over them) to the app's `summarize` — an LLM call,
   * say — and records what it returns as a `summary` entry that stands for them in views
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
    const usage: ContextEntry[] = [];
    let after: string | undefined;
    do {
      const page = await this.query({
        types: ['usage'],
        since: o.since,
        includeSummarized: true,
        limit: 1_000,
        after,
      });
      usage.push(...page.items);
      after = page.next;
    } while (after);
    const lines = new Map<string, CostLine>();
    const add = (key: string, e: ContextEntry) => {
      const line = lines.get(key) ?? {
        key,
        entries: 0,
        inputTokens: 0,
        outputTokens: 0,
        costUsd: 0,
      };
      line.entries++;
      line.inputTokens += e.usage?.inputTokens ?? 0;
      line.outputTokens += e.usage?.outputTokens ?? 0;
      line.costUsd += e.usage?.costUsd ?? 0;
      lines.set(key, line);
    };
    if (o.by === 'handoff') {
      const spans = await this.#ws._handoffSpans();
      for (const e of usage) {
        for (const s of spans) {
          if (
            s.recipient === e.actor &&
            e.seq > s.from &&
            e.seq <= s.until &&
            e.about.some((a) => s.artifacts.includes(a))
          )
            add(s.id, e);
        }
      }
    } else {
      for (const e of usage) {
        const keys =
          o.by === 'actor'
            ? [e.actor]
            : o.by === 'session'
              ? [e.session ?? '-']
              : e.about.length
                ? e.about
                : ['-'];
        for (const k of keys) add(k, e);
      }
    }
    return [...lines.values()].sort((a, b) => b.costUsd - a.costUsd || a.key.localeCompare(b.key));
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
    await this.#ws._catchUp();
    let entry = qid;
    if (qid.startsWith('ho_')) {
      const h = await this.#actor.handoffs.get(qid);
      if (h.kind === 'question') {
        await this.#actor.handoffs.answer(qid, v);
        const answered = await this.#actor.handoffs.get(qid);
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
    const asked = await this.#actor.handoffs._questionFor(entry);
    if (asked) return this.answer(asked, v);
    const text = typeof v === 'string' ? v : JSON.stringify(v);
    const bytes = utf8(JSON.stringify({ text }));
    if (bytes.length > MAX_CONTEXT_BODY)
      throw new BatonError(
        ErrorCode.VALIDATION,
        `context.answer: the answer takes ${bytes.length} bytes; the limit is ${MAX_CONTEXT_BODY}.`,
        { details: { field: 'value' } },
      );
    const body = sha256b64(bytes);
    const [event] = await this.#actor._commit({
      plan: async (_view, ids) => {
        const q = (await this.#ws.store.get('context', entry)) as unknown as ContextRow | undefined;
        if (!q || !this.#readable(q))
          throw new BatonError(
            ErrorCode.NOT_FOUND,
            `context.answer: no question ${entry}, or ${this.#actor.id} may not read it.`,
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
        return [
          {
            type: 'context.recorded',
            data: {
              id: ids.next('ctx'),
              type: 'answer',
              about: q.about,
              body,
              fields: {},
              answers: entry,
            },
            refs: [...q.about, entry, q.actor],
          },
        ];
      },
      blobs: [{ hash: body, bytes }],
    });
    return this.get((event!.data as { id: string }).id);
  }

  /** Questions about `about` still waiting for an answer. */
  async openQuestions(about?: string | string[]): Promise<ContextEntry[]> {
    return (await this.query({ about, types: ['question'], open: true, limit: 1_000 })).items;
  }

  async #entry(row: ContextRow): Promise<ContextEntry> {
    const e: ContextEntry = {
      id: row.id,
      type: row.type,
      actor: row.actor,
      at: row.at,
      seq: row.seq,
      about: row.about,
      text: '',
    };
    if (row.session !== undefined) e.session = row.session;
    if (row.body) {
      e.body = row.body;
      const words = await this._words(row.body);
      Object.assign(e, words);
    }
    const f = row.fields;
    if (f.outcome !== undefined) e.outcome = f.outcome;
    if (f.options !== undefined) e.options = f.options;
    if (f.tool !== undefined) e.tool = f.tool;
    if (f.usage !== undefined) e.usage = f.usage;
    if (row.answers !== undefined) e.answers = row.answers;
    if (row.replaces !== undefined) e.replaces = row.replaces;
    if (row.summarizedBy !== undefined) e.summarizedBy = row.summarizedBy;
    if (row.type === 'question') {
      e.open = row.open ?? true;
      if (row.answeredBy) {
        const a = (await this.#ws.store.get('context', row.answeredBy)) as unknown as
          | ContextRow
          | undefined;
        // An answer about what its question is about goes with the question; one about other
        // artifacts shows only to whoever may read it.
        const sameAbout =
          a?.about.length === row.about.length && a.about.every((x) => row.about.includes(x));
        if (a && (sameAbout || this.#readable(a)))
          e.answer = {
            id: a.id,
            by: a.actor,
            at: a.at,
            text: a.body ? (await this._words(a.body)).text : '',
          };
      }
    }
    return e;
  }

  /** @internal The words of an entry's body (its text, why, alternatives), or how it was erased. */
  async _words(hash: string): Promise<{ text: string; why?: string; alternatives?: string[] }> {
    const b = await this.#ws.blob(hash);
    if (!b) return { text: '' };
    if ('erased' in b) return { text: erasedText(b.erased) };
    let words: unknown;
    try {
      words = JSON.parse(fromUtf8(b.bytes));
    } catch {
      words = undefined;
    }
    const r = wordsSchema.safeParse(words);
    if (!r.success)
      throw new BatonError(
        ErrorCode.INTEGRITY,
        `Context body ${hash} is not an entry's words: the store was changed. Run workspace.verify().`,
      );
    return r.data;
  }

  /**
   * Whether this actor may replace `e` in views: `comment` on all it is about, and it is
   * this actor's own entry or the actor holds `admin` over it (what `context.recorded`'s
   * admission asks).
   */
  #mayReplace(e: ContextEntry): boolean {
    const can = (action: string, about: string[]) =>
      about.length
        ? about.every((a) => this.#actor._canNow(action, `artifact:${a}`))
        : this.#actor._canNow(action, 'workspace');
    if (!can('comment', e.about)) return false;
    if (e.actor === this.#actor.id || this.#actor._canNow('admin', 'workspace')) return true;
    return e.about.length > 0 && can('admin', e.about);
  }

  #readable(row: ContextRow): boolean {
    if (row.actor === this.#actor.id) return true;
    return row.about.length
      ? row.about.every((a) => this.#actor._canNow('read', `artifact:${a}`))
      : this.#actor._canNow('read', 'workspace');
  }
}
