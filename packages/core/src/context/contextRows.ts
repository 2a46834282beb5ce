import { z } from 'zod';
import type { JsonValue } from '../crypto/canonical.js';
import { fromUtf8 } from '../crypto/encoding.js';
import type { ProjectionReader } from '../log/eventTypes.js';
import { type RowSource, valuesOf } from '../scope.js';
import type { IndexRange, Page, PageOptions, ProjectionWrite } from '../store/store.js';

// The `context` projection's rows, typed: one row an entry. Reads and writes of the
// collection go through here, so no other module names it.

/** The kinds of ContextLog entry. */
export const CONTEXT_TYPES = [
  'note',
  'attempt',
  'learned',
  'decision',
  'question',
  'answer',
  'todo',
  'summary',
  'tool',
  'usage',
] as const;

/** One of {@link CONTEXT_TYPES}. */
export type ContextType = (typeof CONTEXT_TYPES)[number];

/** The small, non-text facts an entry carries (its words live in the erasable body). */
export const contextFields = z
  .object({
    outcome: z.string().max(200).optional(),
    options: z.array(z.string().max(500)).max(32).optional(),
    tool: z
      .object({
        name: z.string().min(1).max(200),
        argsDigest: z.string().max(100).optional(),
        resultDigest: z.string().max(100).optional(),
        durationMs: z.number().nonnegative().optional(),
      })
      .optional(),
    usage: z
      .object({
        model: z.string().max(200).optional(),
        inputTokens: z.number().int().nonnegative().optional(),
        outputTokens: z.number().int().nonnegative().optional(),
        costUsd: z.number().nonnegative().optional(),
      })
      .optional(),
  })
  .strict();

/** A ContextLog entry's row in the `context` projection. */
export interface ContextRow {
  id: string;
  type: ContextType;
  actor: string;
  session?: string;
  at: string;
  seq: number;
  about: string[];
  body?: string;
  fields: z.output<typeof contextFields>;
  answers?: string;
  /** For questions: open until an answer names it. */
  open?: boolean;
  /** For questions: the answering entry. */
  answeredBy?: string;
  /** For summaries: the entries it stands for in reads (queries, briefings). */
  replaces?: string[];
  /** Set on entries a summary replaced. */
  summarizedBy?: string;
  /**
   * For usage entries: the work handoffs its recorder had accepted, about what it is about,
   * when it was recorded (what `context.costs({ by: 'handoff' })` counts it under).
   */
  spans?: string[];
}

/**
 * Index keys of a row: each value followed by the commit seq, so entries list in commit
 * order within an artifact, a session or an actor (range on `value + "\u0000"`). A value
 * made of several parts (`about` and `type`, say) joins them with `\u0000`, which no id or
 * type holds.
 */
export function contextIndexKey(value: string, seq: number): string {
  return `${value}\u0000${String(seq).padStart(12, '0')}`;
}

/**
 * The shape of the `context` rows this code writes: 2 added the composite indexes (about,
 * actor or session with the type; questions by state), search texts and the cost rows. A store
 * whose rows were written before has no `meta/context` row of this version until
 * `workspace.rebuildProjections()` writes them again; reads fall back to the older indexes
 * meanwhile (see {@link contextIndexed}).
 */
export const CONTEXT_PROJECTION_VERSION = 2;

/** The marker row saying every `context` row has the shape of {@link CONTEXT_PROJECTION_VERSION}. */
export function contextVersionRow(): ProjectionWrite {
  return { collection: 'meta', key: 'context', value: { version: CONTEXT_PROJECTION_VERSION } };
}

/** Whether the store's `context` rows carry the indexes, texts and cost rows of this version. */
export async function contextIndexed(rows: RowReader): Promise<boolean> {
  const marker = (await rows.get('meta', 'context')) as { version?: number } | undefined;
  return (marker?.version ?? 0) >= CONTEXT_PROJECTION_VERSION;
}

/** Where a question stands, as its index keys name it. */
export function questionState(open: boolean): string {
  return open ? 'open' : 'answered';
}

/** The words an entry is found by in `context.query({ text })`: its text and its why. */
export function searchText(words: { text: string; why?: string }): string {
  return `${words.text}\n${words.why ?? ''}`;
}

/** The search text of body `hash`, or `undefined` when it cannot be read (erased) or holds no words. */
async function bodyText(rows: ProjectionReader, hash: string | undefined) {
  if (hash === undefined || (await rows.get('erasures', hash))) return undefined;
  const bytes = await rows.blob?.(hash);
  if (!bytes) return undefined;
  try {
    const w = JSON.parse(fromUtf8(bytes)) as { text?: unknown; why?: unknown };
    if (typeof w.text !== 'string') return undefined;
    return searchText({ text: w.text, why: typeof w.why === 'string' ? w.why : undefined });
  } catch {
    return undefined;
  }
}

/** The write of an entry's row, with its indexes and its search text (`text`, when known). */
export function putContextRow(row: ContextRow, text?: string): ProjectionWrite {
  const k = (v: string) => contextIndexKey(v, row.seq);
  // Each artifact once: a key listed twice is one index entry in a store.
  const about = row.about.length ? [...new Set(row.about)] : ['-'];
  const indexes: Record<string, string | string[]> = {
    about: about.map(k),
    aboutType: about.map((a) => k(`${a}\u0000${row.type}`)),
    type: k(row.type),
    actor: k(row.actor),
    actorType: k(`${row.actor}\u0000${row.type}`),
    at: k(row.at),
  };
  if (row.session) {
    indexes.session = k(row.session);
    indexes.sessionType = k(`${row.session}\u0000${row.type}`);
  }
  if (row.type === 'question') {
    const state = questionState(row.open ?? true);
    indexes.question = k(state);
    indexes.questionAbout = about.map((a) => k(`${state}\u0000${a}`));
  }
  if (row.type === 'usage') indexes.usageAt = k(row.at);
  const w: ProjectionWrite = {
    collection: 'context',
    key: row.id,
    value: row as unknown as JsonValue,
    indexes,
  };
  if (text !== undefined) w.text = text;
  return w;
}

/** The write of an entry's row again, its search text read from its body (none once erased). */
export async function rewriteContextRow(
  rows: ProjectionReader,
  row: ContextRow,
): Promise<ProjectionWrite> {
  return putContextRow(row, await bodyText(rows, row.body));
}

type RowReader = Pick<RowSource, 'get'>;

const BODIES = 'context-bodies';

/** The `context-bodies` row of a new entry's body: which entries hold it (so erasing it finds them). */
export async function bodyWrites(rows: RowReader, row: ContextRow): Promise<ProjectionWrite[]> {
  if (row.body === undefined) return [];
  const held = (await rows.get(BODIES, row.body)) as { entries: string[] } | undefined;
  const entries = [...(held?.entries ?? []), row.id];
  return [{ collection: BODIES, key: row.body, value: { entries } }];
}

/**
 * The rows of the entries holding body `hash`, written again without search text: what the
 * body's erasure (`blob.erased`) changes, so a search no longer finds the erased words.
 */
export async function erasedTextWrites(rows: RowReader, hash: string): Promise<ProjectionWrite[]> {
  const held = (await rows.get(BODIES, hash)) as { entries: string[] } | undefined;
  const out: ProjectionWrite[] = [];
  for (const id of held?.entries ?? []) {
    const row = await contextRow(rows, id);
    if (row) out.push(putContextRow(row));
  }
  return out;
}

/** The entry's row, or `undefined` when there is none. */
export async function contextRow(rows: RowReader, id: string): Promise<ContextRow | undefined> {
  return (await rows.get('context', id)) as ContextRow | undefined;
}

/** The indexes of the `context` projection (keys made with {@link contextIndexKey}). */
export type ContextIndex =
  | 'about'
  | 'aboutType'
  | 'session'
  | 'sessionType'
  | 'actor'
  | 'actorType'
  | 'type'
  | 'question'
  | 'questionAbout'
  | 'usageAt'
  | 'at';

/** A page of entry rows by one of the `context` indexes, or of those whose text holds `text`. */
export async function contextPage(
  rows: RowSource,
  index: ContextIndex,
  range: IndexRange,
  options: PageOptions,
  text?: string,
): Promise<Page<ContextRow>> {
  const page =
    text === undefined
      ? await rows.query('context', index, range, options)
      : await rows.search('context', text, index, range, options);
  return valuesOf<ContextRow>(page);
}

/** Rows an entry changes besides its own: an answer closes its question, a summary marks what it replaces. */
export async function relatedRows(
  rows: ProjectionReader,
  row: ContextRow,
): Promise<ProjectionWrite[]> {
  const out: ProjectionWrite[] = [];
  if (row.answers) {
    const q = await contextRow(rows, row.answers);
    if (q && q.type === 'question')
      out.push(await rewriteContextRow(rows, { ...q, open: false, answeredBy: row.id }));
  }
  for (const id of row.replaces ?? []) {
    const r = await contextRow(rows, id);
    if (r) out.push(await rewriteContextRow(rows, { ...r, summarizedBy: row.id }));
  }
  return out;
}
