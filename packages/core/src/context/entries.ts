import { z } from 'zod';
import type { Draft } from '../commit/draft.js';
import type { JsonValue } from '../crypto/canonical.js';
import { fromUtf8, utf8 } from '../crypto/encoding.js';
import { sha256b64 } from '../crypto/hash.js';
import { BatonError, ErrorCode } from '../errors.js';
import { erasedText } from '../log/body.js';
import type { Scope } from '../scope.js';
import { compareKeys, decodeCursor, encodeCursor } from '../store/keys.js';
import type { BlobWrite, IndexRange, Page } from '../store/store.js';
import { idString, parseInput, timeInput } from '../validation.js';
import { wordsSchema } from './contextEvents.js';
import {
  CONTEXT_TYPES,
  type ContextIndex,
  type ContextRow,
  type ContextType,
  contextIndexed,
  contextIndexKey,
  contextPage,
  contextRow,
  questionState,
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
export function entryReadable(
  scope: Pick<Scope, 'actor' | 'may'>,
  row: Pick<ContextRow, 'actor' | 'about'>,
): boolean {
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

/**
 * Entries the scope's identity may read, oldest first, filtered; a page at a time
 * (`context.query`). `bound.untilSeq` keeps to entries committed by then (a briefing's offer).
 */
export async function queryEntries(
  scope: Scope,
  query: ContextQuery,
  bound: { untilSeq?: number } = {},
): Promise<Page<ContextEntry>> {
  const q = parseInput(querySchema, query, 'context.query');
  await scope.catchUp();
  const about = q.about === undefined ? undefined : [...new Set([q.about].flat())];
  const types = q.types && [...new Set(q.types)];
  const filter = { ...q, about, types };
  if (!(await contextIndexed(scope.rows))) return legacyQuery(scope, filter, bound.untilSeq);
  const plan = { ...queryPlan(filter), untilSeq: bound.untilSeq };
  const limit = q.limit ?? 100;
  const items: ContextEntry[] = [];
  if (plan.sources.length === 0) return { items };
  const resume = q.after === undefined ? undefined : cursorPosition(q.after, plan.order);
  const merged = mergeSources(scope, plan, resume, q.text, limit);
  for await (const row of merged) {
    if (bound.untilSeq !== undefined && row.seq > bound.untilSeq) continue;
    if (!matches(scope, row, filter)) continue;
    items.push(await entryOf(scope, row));
    if (items.length === limit) {
      // Resume right after this row, even mid-page.
      return { items, next: encodeCursor([plan.order, positionOf(plan.order, row)]) };
    }
  }
  return { items };
}

/** A query's filters, `about` and `types` as lists without repeats. */
type Filter = Omit<ContextQuery, 'about' | 'types' | 'since'> & {
  about?: string[];
  types?: ContextType[];
  since?: string;
};

/** Whether a row passes every filter and the read rule. */
function matches(scope: Scope, row: ContextRow, q: Filter): boolean {
  if (q.about && !row.about.some((x) => q.about!.includes(x))) return false;
  if (q.types && !q.types.includes(row.type)) return false;
  if (q.actor && row.actor !== q.actor) return false;
  if (q.session && row.session !== q.session) return false;
  if (q.since && row.at < q.since) return false;
  if (q.open !== undefined && (row.type !== 'question' || row.open !== q.open)) return false;
  if (!q.includeSummarized && row.summarizedBy) return false;
  return entryReadable(scope, row);
}

/**
 * Which index keys answer a query: one index, and the values whose entries are merged in
 * commit order (each value's keys are `value\u0000seq`). The most selective given filter picks
 * the index — open state, then about, session, actor, each with the types when given — so
 * what is read follows that filter's entries, not the log; the other filters are checked on
 * the rows. With none of these, the `at` index (time order, from `since`) answers, as before.
 */
interface QueryPlan {
  index: ContextIndex;
  /** The values to merge; `[]` when nothing can match. */
  sources: string[];
  /** `seq`: merged in commit order; `at`: one source in time order (the `at` index). */
  order: 'seq' | 'at';
  since?: string;
  /** Only entries committed at or before this seq (for `seq` plans: the range ends there). */
  untilSeq?: number;
}

/** The most value+type pairs a plan merges (64 artifacts × 10 types would be 640 reads a page). */
const MAX_SOURCES = 32;

function queryPlan(q: Filter): QueryPlan {
  const by = (index: ContextIndex, sources: string[]): QueryPlan => ({
    index,
    sources,
    order: 'seq',
  });
  const withTypes = (values: string[]) =>
    values.flatMap((v) => q.types!.map((t) => `${v}\u0000${t}`));
  if (q.open !== undefined) {
    if (q.types && !q.types.includes('question')) return by('question', []);
    const state = questionState(q.open);
    return q.about
      ? by(
          'questionAbout',
          q.about.map((a) => `${state}\u0000${a}`),
        )
      : by('question', [state]);
  }
  const keyed: [ContextIndex, ContextIndex, string[] | undefined][] = [
    ['about', 'aboutType', q.about],
    ['session', 'sessionType', q.session === undefined ? undefined : [q.session]],
    ['actor', 'actorType', q.actor === undefined ? undefined : [q.actor]],
  ];
  for (const [plain, typed, values] of keyed) {
    if (!values) continue;
    // Each source costs a store read per page: past MAX_SOURCES pairs, the values alone.
    const paired = q.types && values.length * q.types.length <= MAX_SOURCES;
    return paired ? by(typed, withTypes(values)) : by(plain, values);
  }
  if (q.types) return by('type', q.types);
  return { index: 'at', sources: [''], order: 'at', since: q.since };
}

/** Where a row stands in a plan's order: its padded seq, or its `at` index key. */
function positionOf(order: QueryPlan['order'], row: ContextRow): string {
  return order === 'seq' ? String(row.seq).padStart(12, '0') : contextIndexKey(row.at, row.seq);
}

/** The position a cursor of this query resumes after; `VALIDATION` for any other string. */
function cursorPosition(cursor: string, order: QueryPlan['order']): string {
  const [mode, position] = decodeCursor(cursor, 2) as [string, string];
  if (mode !== order)
    throw new BatonError(
      ErrorCode.VALIDATION,
      'context.query: `after` is a cursor of a query with other filters. Pass the `next` of the page before, with the same filters.',
      { details: { field: 'after' } },
    );
  return position;
}

/**
 * The rows of a plan in its order, each once: a k-way merge of one page stream per source
 * (ranged after `resume`), pages fetched only as the merge reaches them; with `text`, each
 * stream holds only the rows whose words contain it (the store's text index).
 */
async function* mergeSources(
  scope: Scope,
  plan: QueryPlan,
  resume: string | undefined,
  text: string | undefined,
  limit: number,
): AsyncIterable<ContextRow> {
  const size = Math.min(200, Math.max(16, limit + 1));
  const streams = plan.sources.map((value) => {
    let range: IndexRange;
    if (plan.order === 'at') {
      range = plan.since ? { gte: plan.since } : {};
      if (resume !== undefined) range = { ...range, gt: resume };
    } else {
      range = { prefix: `${value}\u0000` };
      if (resume !== undefined) range.gt = `${value}\u0000${resume}`;
      if (plan.untilSeq !== undefined) range.lt = contextIndexKey(value, plan.untilSeq + 1);
    }
    return { range, rows: [] as ContextRow[], next: undefined as string | undefined, done: false };
  });
  const fill = async (s: (typeof streams)[number]) => {
    while (s.rows.length === 0 && !s.done) {
      const page = await contextPage(
        scope.rows,
        plan.index,
        s.range,
        { limit: size, after: s.next },
        text,
      );
      s.rows = page.items;
      s.next = page.next;
      s.done = page.next === undefined;
    }
  };
  await Promise.all(streams.map(fill));
  let last: string | undefined;
  for (;;) {
    let best: (typeof streams)[number] | undefined;
    let bestAt = '';
    for (const s of streams) {
      const head = s.rows[0];
      if (!head) continue;
      const at = positionOf(plan.order, head);
      if (!best || compareKeys(at, bestAt) < 0) [best, bestAt] = [s, at];
    }
    if (!best) return;
    const row = best.rows.shift()!;
    if (best.rows.length === 0) await fill(best);
    // An entry about several of the merged values comes once.
    if (bestAt === last) continue;
    last = bestAt;
    yield row;
  }
}

/**
 * `context.query` on a store whose rows were written before {@link CONTEXT_PROJECTION_VERSION}
 * (until `workspace.rebuildProjections()`): the indexes every row has, the other filters and
 * the words checked on each row. Slower, never wrong.
 */
async function legacyQuery(
  scope: Scope,
  q: Filter,
  untilSeq = Number.POSITIVE_INFINITY,
): Promise<Page<ContextEntry>> {
  const limit = q.limit ?? 100;
  const [index, key]: [ContextIndex, string | undefined] =
    q.about?.length === 1
      ? ['about', q.about[0]!]
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
      if (row.seq > untilSeq || !matches(scope, row, q)) continue;
      const entry = await entryOf(scope, row);
      if (needle && !`${entry.text}\n${entry.why ?? ''}`.toLowerCase().includes(needle)) continue;
      items.push(entry);
      after = undefined;
      if (items.length === limit) {
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
