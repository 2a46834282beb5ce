import { z } from 'zod';
import type { Draft } from '../commit/draft.js';
import type { JsonValue } from '../crypto/canonical.js';
import { fromUtf8, utf8 } from '../crypto/encoding.js';
import { sha256b64 } from '../crypto/hash.js';
import { BatonError, ErrorCode } from '../errors.js';
import { erasedText } from '../log/body.js';
import type { Scope } from '../scope.js';
import { encodeCursor } from '../store/keys.js';
import type { BlobWrite, Page } from '../store/store.js';
import { idString, parseInput, timeInput } from '../validation.js';
import { wordsSchema } from './contextEvents.js';
import {
  CONTEXT_TYPES,
  type ContextIndex,
  type ContextRow,
  type ContextType,
  contextIndexKey,
  contextPage,
  contextRow,
} from './contextRows.js';

// ContextLog entries as any facade reads and writes them: the words of a body, an entry as
// read, the read rule, queries, and the draft of a new entry.

/** Input of `context.record`. */
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
  /** For summaries: the entries it stands for in reads (queries, briefings). */
  replaces?: string[];
  idempotencyKey?: string;
}

/** A ContextLog entry as read: its row's who, when and about, and its words. */
export interface ContextEntry
  extends Pick<ContextRow, 'id' | 'type' | 'actor' | 'session' | 'at' | 'seq' | 'about'>,
    Pick<
      RecordInput,
      'why' | 'alternatives' | 'outcome' | 'options' | 'answers' | 'tool' | 'usage' | 'replaces'
    > {
  /** The words (`"[erased by …]"` once an owner erased them). */
  text: string;
  /** For questions: still waiting for an answer. */
  open?: boolean;
  /** For answered questions: the answer. */
  answer?: { id: string; by: string; text: string; at: string };
  /** Set when a summary stands for this entry in reads (queries, briefings). */
  summarizedBy?: string;
  /** The body hash (erasable with `actor.erase`). */
  body?: string;
}

/** Options of `context.query`. */
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

/** An entry's words, as its body holds them. */
export interface Words {
  text: string;
  why?: string;
  alternatives?: string[];
}

/** The words of an entry's body (its text, why, alternatives), or how it was erased. */
export async function entryWords(scope: Pick<Scope, 'blob'>, hash: string): Promise<Words> {
  const b = await scope.blob(hash);
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

/** Whether the scope's identity may read the entry: its own, or `read` on all it is about (`workspace` when nothing). */
export function entryReadable(scope: Pick<Scope, 'actor' | 'may'>, row: ContextRow): boolean {
  if (row.actor === scope.actor) return true;
  return row.about.length
    ? row.about.every((a) => scope.may('read', `artifact:${a}`))
    : scope.may('read', 'workspace');
}

/** The entry of `row` as the scope's identity reads it, with its words and its answer. */
export async function entryOf(scope: Scope, row: ContextRow): Promise<ContextEntry> {
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
    const words = await entryWords(scope, row.body);
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
      const a = await contextRow(scope.rows, row.answeredBy);
      // An answer about what its question is about goes with the question; one about other
      // artifacts shows only to whoever may read it.
      const sameAbout =
        a?.about.length === row.about.length && a.about.every((x) => row.about.includes(x));
      if (a && (sameAbout || entryReadable(scope, a)))
        e.answer = {
          id: a.id,
          by: a.actor,
          at: a.at,
          text: a.body ? (await entryWords(scope, a.body)).text : '',
        };
    }
  }
  return e;
}

/** Entry `id` as the scope's identity may read it, or `NOT_FOUND`. Reads as of the last catch-up. */
export async function readEntry(scope: Scope, id: string): Promise<ContextEntry> {
  const row = await contextRow(scope.rows, id);
  if (!row || !entryReadable(scope, row))
    throw new BatonError(
      ErrorCode.NOT_FOUND,
      `Context entry ${id} does not exist, or may not be read.`,
    );
  return entryOf(scope, row);
}

/** Entries the scope's identity may read, oldest first, filtered; a page at a time (`context.query`). */
export async function queryEntries(scope: Scope, query: ContextQuery): Promise<Page<ContextEntry>> {
  const q = parseInput(querySchema, query, 'context.query');
  await scope.catchUp();
  const about = q.about === undefined ? undefined : Array.isArray(q.about) ? q.about : [q.about];
  const limit = q.limit ?? 100;
  const [index, key]: [ContextIndex, string | undefined] =
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
    const page = await contextPage(scope.rows, index, range, { limit: 200, after });
    for (const row of page.items) {
      if (about && !row.about.some((x) => about.includes(x))) continue;
      if (q.types && !q.types.includes(row.type)) continue;
      if (q.actor && row.actor !== q.actor) continue;
      if (q.session && row.session !== q.session) continue;
      if (q.since && row.at < q.since) continue;
      if (q.open !== undefined && (row.type !== 'question' || row.open !== q.open)) continue;
      if (!q.includeSummarized && row.summarizedBy) continue;
      if (!entryReadable(scope, row)) continue;
      const entry = await entryOf(scope, row);
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

/** A body of text (a note, an entry's words, a payload's JSON), content-addressed. */
export function textBody(text: string): BlobWrite {
  const bytes = utf8(text);
  return { hash: sha256b64(bytes), bytes };
}

/** The body holding `words`: JSON, content-addressed. */
export function wordsBody(words: Words): BlobWrite {
  return textBody(JSON.stringify(words));
}

/** The words of an answer: text as it is, JSON as JSON text. */
export function answerWords(value: JsonValue): Words {
  return { text: typeof value === 'string' ? value : JSON.stringify(value) };
}

/** A new entry as a `context.recorded` draft, its words in `body`. */
export function entryDraft(
  entry: {
    id: string;
    type: ContextType;
    about: string[];
    body: BlobWrite;
    fields?: Record<string, JsonValue>;
    answers?: string;
    replaces?: string[];
  },
  refs: string[],
): Draft {
  const data: Record<string, JsonValue> = {
    id: entry.id,
    type: entry.type,
    about: entry.about,
    body: entry.body.hash,
    fields: entry.fields ?? {},
  };
  if (entry.answers !== undefined) data.answers = entry.answers;
  if (entry.replaces !== undefined) data.replaces = entry.replaces;
  return { type: 'context.recorded', data, refs };
}
