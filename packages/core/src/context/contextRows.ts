import { z } from 'zod';
import type { JsonValue } from '../crypto/canonical.js';
import { type RowSource, valuesOf } from '../scope.js';
import type { Page, PageOptions, ProjectionWrite } from '../store/store.js';

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
}

/**
 * Index keys of a row: each value followed by the commit seq, so entries list in commit
 * order within an artifact, a session or an actor (range on `value + "\u0000"`).
 */
export function contextIndexKey(value: string, seq: number): string {
  return `${value}\u0000${String(seq).padStart(12, '0')}`;
}

/** The write of an entry's row, with its indexes. */
export function putContextRow(row: ContextRow): ProjectionWrite {
  const k = (v: string) => contextIndexKey(v, row.seq);
  return {
    collection: 'context',
    key: row.id,
    value: row as unknown as JsonValue,
    indexes: {
      about: (row.about.length ? row.about : ['-']).map(k),
      type: k(row.type),
      actor: k(row.actor),
      at: k(row.at),
      ...(row.session ? { session: k(row.session) } : {}),
    },
  };
}

type RowReader = Pick<RowSource, 'get'>;

/** The entry's row, or `undefined` when there is none. */
export async function contextRow(rows: RowReader, id: string): Promise<ContextRow | undefined> {
  return (await rows.get('context', id)) as ContextRow | undefined;
}

/** The indexes of the `context` projection (keys made with {@link contextIndexKey}). */
export type ContextIndex = 'about' | 'session' | 'actor' | 'at';

/** A page of entry rows by one of the `context` indexes. */
export async function contextPage(
  rows: RowSource,
  index: ContextIndex,
  range: { prefix?: string; gte?: string },
  options: PageOptions,
): Promise<Page<ContextRow>> {
  return valuesOf<ContextRow>(await rows.query('context', index, range, options));
}

/** Rows an entry changes besides its own: an answer closes its question, a summary marks what it replaces. */
export async function relatedRows(rows: RowReader, row: ContextRow): Promise<ProjectionWrite[]> {
  const out: ProjectionWrite[] = [];
  if (row.answers) {
    const q = await contextRow(rows, row.answers);
    if (q && q.type === 'question')
      out.push(putContextRow({ ...q, open: false, answeredBy: row.id }));
  }
  for (const id of row.replaces ?? []) {
    const r = await contextRow(rows, id);
    if (r) out.push(putContextRow({ ...r, summarizedBy: row.id }));
  }
  return out;
}
