import { z } from 'zod';
import type { JsonValue } from '../crypto/canonical.js';
import type { EventTypeDef } from '../log/eventTypes.js';
import { idString } from '../validation.js';

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

const hash = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be a body hash');

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

const recorded = z.object({
  id: idString,
  type: z.enum(CONTEXT_TYPES),
  about: z.array(idString).max(64),
  body: hash.optional(),
  fields: contextFields,
  answers: idString.optional(),
  replaces: z.array(idString).max(10_000).optional(),
});

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
  /** For summaries: the entries it stands for in views. */
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

function putRow(row: ContextRow) {
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

/** The resource a context entry is about, for authorization. */
export function contextNeeds(action: string, about: readonly string[]) {
  return about.length
    ? about.map((a) => ({ action, resource: `artifact:${a}` }))
    : [{ action, resource: 'workspace' }];
}

/** The ContextLog event types. */
export const contextEvents = [
  {
    name: 'context.recorded',
    version: 1,
    schema: recorded,
    stream: (d) => `context/${d.id}`,
    authorize: (e) => ({ kind: 'grant', needs: contextNeeds('comment', e.data.about) }),
    blobs: (d) => (d.body ? [d.body] : []),
    async project(e, rows) {
      const row: ContextRow = {
        id: e.data.id,
        type: e.data.type,
        actor: e.actor,
        at: e.at,
        seq: e.seq,
        about: e.data.about,
        fields: e.data.fields,
      };
      if (e.session !== undefined) row.session = e.session;
      if (e.data.body !== undefined) row.body = e.data.body;
      if (e.data.answers !== undefined) row.answers = e.data.answers;
      if (e.data.replaces !== undefined) row.replaces = e.data.replaces;
      if (e.data.type === 'question') row.open = true;
      return [putRow(row), ...(await relatedRows(row, (c, k) => rows.get(c, k)))];
    },
  } satisfies EventTypeDef<z.output<typeof recorded>>,
] as unknown as EventTypeDef<never>[];

/** Rows an entry changes besides its own: an answer closes its question, a summary marks what it replaces. */
export async function relatedRows(
  row: ContextRow,
  get: (c: string, k: string) => Promise<JsonValue | undefined>,
) {
  const out = [];
  if (row.answers) {
    const q = (await get('context', row.answers)) as unknown as ContextRow | undefined;
    if (q && q.type === 'question') out.push(putRow({ ...q, open: false, answeredBy: row.id }));
  }
  for (const id of row.replaces ?? []) {
    const r = (await get('context', id)) as unknown as ContextRow | undefined;
    if (r) out.push(putRow({ ...r, summarizedBy: row.id }));
  }
  return out;
}
