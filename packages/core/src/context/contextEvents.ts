import { z } from 'zod';
import { evaluate, type Requirement } from '../auth/evaluate.js';
import { fromUtf8 } from '../crypto/encoding.js';
import { BatonError, ErrorCode } from '../errors.js';
import type { EventOf, EventTypeDef, StateReader } from '../log/eventTypes.js';
import { idString } from '../validation.js';
import { openSpans } from '../workspace/handoffSpans.js';
import { costWrites } from './contextCosts.js';
import {
  bodyWrites,
  CONTEXT_TYPES,
  type ContextRow,
  contextFields,
  contextRow,
  relatedRows,
  rewriteContextRow,
} from './contextRows.js';

const hash = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be a body hash');

const recorded = z.object({
  id: idString,
  type: z.enum(CONTEXT_TYPES),
  about: z.array(idString).max(64),
  body: hash.optional(),
  fields: contextFields,
  answers: idString.optional(),
  replaces: z.array(idString).max(10_000).optional(),
});

/** The resource a context entry is about, for authorization. */
export function contextNeeds(action: string, about: readonly string[]) {
  return about.length
    ? about.map((a) => ({ action, resource: `artifact:${a}` }))
    : [{ action, resource: 'workspace' }];
}

/** Largest context body, in bytes: the words of one entry (text, why, alternatives) as JSON. */
export const MAX_CONTEXT_BODY = 8 * 1024 * 1024;

/**
 * Whether the actor holds a grant in force covering `need` at the event's time. Uses left
 * do not count here: the event's own authorization spent them, and whether the view has
 * counted that use yet depends on the path admitting it.
 */
function holds(state: StateReader, e: EventOf<unknown>, need: Requirement): boolean {
  const anyUses = { get: () => Number.NEGATIVE_INFINITY } as unknown as ReadonlyMap<string, number>;
  return evaluate(state.view, e.actor, [need], e.at, { pending: anyUses }).allowed;
}

function who(state: StateReader, id: string): string {
  return state.view.identity(id)?.name ?? id;
}

/**
 * What answering or replacing an entry asks of the actor: `comment` on everything the
 * entry is about (`workspace` when it is about nothing) — and, to replace another
 * identity's entry, `admin` on the workspace or on each artifact the entry is about.
 */
function mayTouch(
  state: StateReader,
  e: EventOf<unknown>,
  target: ContextRow,
  how: 'answer' | 'replace',
): void {
  const actor = who(state, e.actor);
  const doing = how === 'answer' ? `answer question ${target.id}` : `replace entry ${target.id}`;
  for (const need of contextNeeds('comment', target.about)) {
    if (!holds(state, e, need))
      throw new BatonError(
        ErrorCode.FORBIDDEN,
        `${actor} may not ${doing}: it is about ${need.resource}, where ${actor} holds no comment grant. Grant it with actor.capabilities.grant({ to: '${e.actor}', resource: '${need.resource}', actions: ['comment'] }).`,
        { details: { actor: e.actor, entry: target.id, needs: [need] } },
      );
  }
  if (how === 'answer' || target.actor === e.actor) return;
  if (holds(state, e, { action: 'admin', resource: 'workspace' })) return;
  const perArtifact = target.about.map((a) => ({ action: 'admin', resource: `artifact:${a}` }));
  if (perArtifact.length > 0 && perArtifact.every((n) => holds(state, e, n))) return;
  throw new BatonError(
    ErrorCode.FORBIDDEN,
    `${actor} may not ${doing}: it was recorded by ${who(state, target.actor)}, and replacing another identity's entry needs admin on workspace${perArtifact.length ? ` or on ${perArtifact.map((n) => n.resource).join(', ')}` : ''}.`,
    { details: { actor: e.actor, entry: target.id, author: target.actor } },
  );
}

/** Checks an entry's body: given or stored (or erased since), and the JSON object of words `context.record` writes. */
async function checkBody(state: StateReader, e: EventOf<unknown>, hash: string): Promise<void> {
  const bytes = await state.blob(hash);
  if (!bytes) {
    if (await state.get('erasures', hash)) return;
    throw new BatonError(
      ErrorCode.NOT_FOUND,
      `Event ${e.id} (${e.type}) refers to body ${hash}, which is neither given with it nor stored.`,
    );
  }
  let words: unknown;
  try {
    if (bytes.length > MAX_CONTEXT_BODY) throw new Error('too large');
    words = JSON.parse(fromUtf8(bytes));
  } catch {
    words = undefined;
  }
  if (!wordsSchema.safeParse(words).success)
    throw new BatonError(
      ErrorCode.VALIDATION,
      `Event ${e.id} (${e.type}): body ${hash} is not an entry's words ({ text, why?, alternatives? } as JSON, at most ${MAX_CONTEXT_BODY} bytes).`,
    );
}

/** The words of an entry, as its body holds them. */
export const wordsSchema = z.object({
  text: z.string(),
  why: z.string().optional(),
  alternatives: z.array(z.string()).optional(),
});

/** The ContextLog event types. */
export const contextEvents = [
  {
    name: 'context.recorded',
    version: 1,
    schema: recorded,
    stream: (d) => `context/${d.id}`,
    authorize: (e) => ({ kind: 'grant', needs: contextNeeds('comment', e.data.about) }),
    blobs: (d) => (d.body ? [d.body] : []),
    async admitState(e, state) {
      if (await contextRow(state, e.data.id))
        throw new BatonError(
          ErrorCode.INVALID_STATE,
          `Event ${e.id} records context entry ${e.data.id}, which exists already.`,
        );
      if (e.data.body !== undefined) await checkBody(state, e, e.data.body);
      if (e.data.answers !== undefined) {
        const q = await contextRow(state, e.data.answers);
        if (q?.type !== 'question')
          throw new BatonError(
            ErrorCode.NOT_FOUND,
            `Question ${e.data.answers} does not exist; an answer names a question recorded before it.`,
          );
        mayTouch(state, e, q, 'answer');
      }
      for (const id of e.data.replaces ?? []) {
        const r = await contextRow(state, id);
        if (!r)
          throw new BatonError(
            ErrorCode.NOT_FOUND,
            `Context entry ${id} does not exist; a summary replaces entries recorded before it.`,
          );
        mayTouch(state, e, r, 'replace');
      }
    },
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
      if (e.data.type === 'usage') {
        const spans = (await openSpans(rows, e.actor)).spans
          .filter((s) => s.artifacts.some((a) => row.about.includes(a)))
          .map((s) => s.id);
        if (spans.length) row.spans = spans;
      }
      return [
        await rewriteContextRow(rows, row),
        ...(await relatedRows(rows, row)),
        ...(await bodyWrites(rows, row)),
        ...(row.type === 'usage' ? await costWrites(rows, row) : []),
      ];
    },
  } satisfies EventTypeDef<z.output<typeof recorded>>,
] as unknown as EventTypeDef<never>[];
