import {
  type Actor,
  type Artifact,
  BatonError,
  type ContextEntry,
  ErrorCode,
  type Handoff,
  type IdKind,
  isBatonError,
  type JsonValue,
  type Workspace,
} from '@baton/core';
import type {
  CallToolResult,
  McpServer,
  ServerContext,
  ToolAnnotations,
} from '@modelcontextprotocol/server';
import { z } from 'zod';
import { toolError, toolResult } from './toolResult.js';

/**
 * Longest a tool call may wait for a person, in ms: 55 s. MCP clients give up on a request
 * after 60 s by default (both SDK lines' `DEFAULT_REQUEST_TIMEOUT_MSEC`), so a longer wait
 * would end in a client-side timeout instead of a pending id the agent can come back with.
 */
export const MAX_WAIT_MS = 55_000;

/** What the tools act through: one workspace, one actor, and how to ask in place. */
export interface ToolScope {
  workspace: Workspace;
  actor: Actor;
  /** Default wait of `request_approval` / `ask_person`, in ms. */
  waitMs: number;
  /** The person at the client, when they may decide approvals here (their key is held). */
  approver?: Actor;
  /** Whether the connected client said it can show a form (elicitation). */
  canElicit(): boolean;
}

// Read-only tools only read the workspace. Writing tools append signed events to an
// append-only log: nothing is overwritten or deleted (every artifact version stays in its
// history), so no tool here is destructive. None reaches outside the workspace.
const READ: ToolAnnotations = { readOnlyHint: true, openWorldHint: false };
const WRITE: ToolAnnotations = {
  readOnlyHint: false,
  destructiveHint: false,
  idempotentHint: false,
  openWorldHint: false,
};

const ref = (what: string) =>
  z
    .string()
    .min(1)
    .max(400)
    .describe(`${what}: its full id, or a prefix of it that no other id starts with.`);
const identityRef = (what: string) =>
  z.string().min(1).max(400).describe(`${what}: an identity's name (e.g. "ada") or id.`);
const limit = (max: number, dflt: number) =>
  z.number().int().min(1).max(max).optional().describe(`At most this many. Defaults to ${dflt}.`);
const after = z
  .string()
  .max(1_000)
  .optional()
  .describe('The `next` cursor a previous page returned, to read the page after it.');
const waitMs = z
  .number()
  .int()
  .min(0)
  .max(MAX_WAIT_MS)
  .optional()
  .describe(
    `How long to wait for the person, in ms (0 = do not wait; at most ${MAX_WAIT_MS}). Defaults to the server's wait.`,
  );
const contentValue = z
  .union([z.string().max(8_000_000), z.record(z.string(), z.unknown()), z.array(z.unknown())])
  .describe('The content: text (markdown) for a text artifact, a JSON object or array for json.');
const priority = z
  .enum(['low', 'normal', 'high', 'urgent'])
  .optional()
  .describe('How urgent. Defaults to "normal".');

const RECORD_TYPES = [
  'note',
  'attempt',
  'learned',
  'decision',
  'question',
  'todo',
  'usage',
] as const;
const CONTEXT_TYPES = [...RECORD_TYPES, 'answer', 'summary', 'tool'] as const;

/** An artifact without its content, for lists. */
function summary(a: Artifact): Record<string, unknown> {
  const s: Record<string, unknown> = {
    id: a.id,
    title: a.title,
    kind: a.kind,
    version: a.head,
    tags: a.tags,
    updatedAt: a.updatedAt,
    updatedBy: a.updatedBy,
  };
  if (a.archived) s.archived = true;
  if (a.holder) s.holder = a.holder;
  return s;
}

function artifactView(a: Artifact): Record<string, unknown> {
  return { ...summary(a), version: a.version, head: a.head, content: a.content };
}

function handoffView(h: Handoff): Record<string, unknown> {
  const v: Record<string, unknown> = {
    id: h.id,
    kind: h.kind,
    status: h.status,
    from: h.from,
    to: h.to,
    priority: h.priority,
    artifacts: h.artifacts.map((a) => a.id),
    openQuestions: h.openQuestions,
    createdAt: h.createdAt,
  };
  if (h.due) v.due = h.due;
  if (h.noteText !== undefined) v.note = h.noteText;
  if (h.questionText !== undefined) v.question = h.questionText;
  if (h.approval) {
    v.approval = { action: h.approval.action, resource: h.approval.resource };
    if (h.approval.summary !== undefined)
      (v.approval as Record<string, unknown>).summary = h.approval.summary;
  }
  if (h.requestedPayload !== undefined) v.requestedPayload = h.requestedPayload;
  if (h.approvedPayload !== undefined) v.approvedPayload = h.approvedPayload;
  if (h.decision) v.decision = { by: h.decision.by, at: h.decision.at };
  if (h.answer) v.answer = { by: h.answer.by, at: h.answer.at, value: h.answer.value };
  return v;
}

function entryView(e: ContextEntry): Record<string, unknown> {
  const v: Record<string, unknown> = {
    id: e.id,
    type: e.type,
    actor: e.actor,
    at: e.at,
    about: e.about,
    text: e.text,
  };
  for (const k of ['why', 'alternatives', 'outcome', 'options', 'open', 'answer', 'usage'] as const)
    if (e[k] !== undefined) v[k] = e[k];
  return v;
}

const json = (v: unknown) => JSON.stringify(v, null, 2);

/** The full id `r` names among ids of `kind`. */
async function full(actor: Actor, r: string, kind: IdKind): Promise<string> {
  return actor.resolveId(r, [kind]);
}

/** How many artifact reads {@link ArtifactReads} keeps. */
const KEPT_READS = 64;

/**
 * The artifacts one server has read, each kept with the log head it was read at (the 64
 * latest). Read again while the store's head is still that head — nothing committed since,
 * by anyone — the kept copy is returned once `can('read', …)` still allows it (a grant can
 * expire without a commit). Any commit makes every kept copy stale.
 *
 * @remarks
 * In the MCP bench on this machine a full read costs ~250 µs of store reads (catch-up, row,
 * version, erasure mark, body); a kept copy one store read (the head, which catches up) and a grant check in memory.
 */
class ArtifactReads {
  readonly #kept = new Map<string, { head: string; artifact: Artifact }>();

  constructor(
    readonly workspace: Workspace,
    readonly actor: Actor,
  ) {}

  async get(r: string, version?: number): Promise<Artifact> {
    const key = `${r}@${version ?? 'head'}`;
    // The head before the read: what is read after it is at least as new, so a copy is
    // never kept under a head later than the state it shows.
    // `workspace.head()` catches up, so the grant check after it needs no store read of its own.
    const head = (await this.workspace.head()).hash;
    const kept = this.#kept.get(key);
    if (kept?.head === head && this.actor.canNow('read', `artifact:${kept.artifact.id}`).allowed)
      return kept.artifact;
    const artifact = await artifactAt(this.actor, r, version);
    this.#kept.delete(key);
    this.#kept.set(key, { head, artifact });
    if (this.#kept.size > KEPT_READS) this.#kept.delete(this.#kept.keys().next().value!);
    return artifact;
  }
}

/**
 * The artifact `r` names: read by `r` as a full id first, resolved as a prefix only when
 * that finds nothing. Resolving first would cost a second index read on every call
 * (~140 µs of a ~650 µs read round trip in the MCP bench), though agents pass full ids.
 */
async function artifactAt(actor: Actor, r: string, version?: number): Promise<Artifact> {
  const options = version !== undefined ? { version } : {};
  try {
    return await actor.artifacts.get(r, options);
  } catch (err) {
    if (!isBatonError(err, ErrorCode.NOT_FOUND)) throw err;
  }
  return actor.artifacts.get(await full(actor, r, 'artifact'), options);
}

type Handler<S extends z.ZodType> = (
  args: z.output<S>,
  ctx: ServerContext,
) => Promise<CallToolResult>;

/**
 * Registers every Baton tool on `server`, acting as `scope.actor`. Each handler turns a
 * Baton failure into a tool error (see {@link toolError}); arguments the schema refuses never
 * reach a handler (the SDK answers with a validation error naming the field).
 */
export function registerBatonTools(server: McpServer, scope: ToolScope): void {
  const { actor } = scope;
  const reads = new ArtifactReads(scope.workspace, actor);
  const tool = <S extends z.ZodObject>(
    name: string,
    description: string,
    inputSchema: S,
    annotations: ToolAnnotations,
    handler: Handler<S>,
  ) => {
    server.registerTool(
      name,
      { description, inputSchema, annotations },
      // The SDK's generic callback type; the schema guarantees the shape.
      (async (args: z.output<S>, ctx: ServerContext) => {
        try {
          return await handler(args, ctx);
        } catch (err) {
          return toolError(err, scope.workspace.identity(actor.id)?.name);
        }
      }) as never,
    );
  };

  tool(
    'whoami',
    'Who this server acts as in the Baton workspace: the identity every call is signed by.',
    z.strictObject({}),
    READ,
    async () => {
      const me = await actor.me();
      const v = { id: me.id, name: me.name, kind: me.kind, status: me.status };
      return toolResult(json(v), v);
    },
  );

  tool(
    'list_artifacts',
    'List the artifacts (shared documents) you may read, newest update first. Returns ids, titles and versions, not content: read one with read_artifact.',
    z.strictObject({
      tag: z.string().min(1).max(100).optional().describe('Only artifacts with this tag.'),
      kind: z.enum(['text', 'json']).optional().describe('Only text or only json artifacts.'),
      includeArchived: z.boolean().optional().describe('Include archived ones. Defaults to false.'),
      limit: limit(500, 50),
      after,
    }),
    READ,
    async (a) => {
      const page = await actor.artifacts.list(a);
      const v = { artifacts: page.items.map(summary), ...(page.next ? { next: page.next } : {}) };
      return toolResult(json(v), v);
    },
  );

  tool(
    'read_artifact',
    'Read an artifact: its content, title and version (the head unless `version` is given). Pass the version you read as `baseVersion` when you edit it.',
    z.strictObject({
      id: ref('The artifact'),
      version: z
        .number()
        .int()
        .min(1)
        .optional()
        .describe('Read this version. Defaults to the head.'),
    }),
    READ,
    async (a) => {
      const art = await reads.get(a.id, a.version);
      const v = artifactView(art);
      const body = typeof art.content === 'string' ? art.content : json(art.content);
      // The model reads one text block: a header line, then the content as it is. Programs
      // get the header's fields as structured content (the content itself is the text
      // after the header, or the resource baton://artifact/<id>): each byte is sent once.
      const { content: _content, ...meta } = v;
      const header = `${art.id} · ${JSON.stringify(art.title)} · ${art.kind} · version ${art.version}${art.version === art.head ? ' (the head)' : ` (head ${art.head})`}`;
      return { content: [{ type: 'text', text: `${header}\n\n${body}` }], structuredContent: meta };
    },
  );

  tool(
    'search_artifacts',
    'Find artifacts you may read whose title or content contains the words given (case-insensitive). Returns ids, titles and versions.',
    z.strictObject({
      query: z.string().trim().min(1).max(500).describe('The words to look for.'),
      limit: limit(100, 20),
    }),
    READ,
    async (a) => {
      const want = a.query.toLowerCase();
      const found: Record<string, unknown>[] = [];
      const max = a.limit ?? 20;
      let cursor: string | undefined;
      // Reads pages of what the actor may read; stops at `max` hits or after SEARCH_SCAN artifacts.
      for (let seen = 0; seen < SEARCH_SCAN && found.length < max; ) {
        const page = await actor.artifacts.list({
          limit: 200,
          ...(cursor ? { after: cursor } : {}),
        });
        for (const art of page.items) {
          seen++;
          const text = typeof art.content === 'string' ? art.content : JSON.stringify(art.content);
          if (art.title.toLowerCase().includes(want) || text.toLowerCase().includes(want)) {
            found.push(summary(art));
            if (found.length === max) break;
          }
        }
        if (!page.next) break;
        cursor = page.next;
      }
      const v = { artifacts: found };
      return toolResult(json(v), v);
    },
  );

  tool(
    'create_artifact',
    'Create an artifact (a shared document) signed as you. Needs the `create` grant.',
    z.strictObject({
      kind: z
        .enum(['text', 'json'])
        .optional()
        .describe('"text" (markdown) or "json". Defaults to "text".'),
      title: z.string().trim().min(1).max(200).describe('A short title people will see.'),
      content: contentValue,
      tags: z
        .array(z.string().trim().min(1).max(100))
        .max(64)
        .optional()
        .describe('Tags to file it under.'),
      reason: z.string().max(2_000).optional().describe('Why you are creating it.'),
    }),
    WRITE,
    async (a) => {
      const kind = a.kind ?? 'text';
      if (kind === 'text' && typeof a.content !== 'string')
        throw new BatonError(
          ErrorCode.VALIDATION,
          'create_artifact: `content` must be text for a text artifact.',
          {
            details: { field: 'content' },
          },
        );
      const art = await actor.artifacts.create({
        kind,
        title: a.title,
        content: a.content as JsonValue,
        ...(a.tags ? { tags: a.tags } : {}),
        ...(a.reason !== undefined ? { reason: a.reason } : {}),
      });
      const v = summary(art);
      return toolResult(
        `Created ${art.id} "${art.title}" at version ${art.version}.\n${json(v)}`,
        v,
      );
    },
  );

  tool(
    'edit_artifact',
    'Edit an artifact, with the reason people will read. Give the full new `content` (or a `patch`) and the `baseVersion` you read. If someone changed it since, your edit is merged; if you both changed the same lines, nothing is written and you get both versions back: read the head again and redo your change on it.',
    z.strictObject({
      id: ref('The artifact'),
      baseVersion: z
        .number()
        .int()
        .min(1)
        .describe('The version you read and edited (read_artifact returns it).'),
      content: contentValue.optional(),
      patch: z
        .string()
        .max(32_000_000)
        .optional()
        .describe('Instead of `content`: a unified diff against `baseVersion` (text artifacts).'),
      reason: z
        .string()
        .trim()
        .min(1)
        .max(2_000)
        .describe('Why you made this change, in a sentence.'),
    }),
    WRITE,
    async (a) => {
      if ((a.content === undefined) === (a.patch === undefined))
        throw new BatonError(
          ErrorCode.VALIDATION,
          'edit_artifact: pass either `content` or `patch`.',
          {
            details: { field: 'content' },
          },
        );
      const id = await full(actor, a.id, 'artifact');
      try {
        const art = await actor.artifacts.edit(id, {
          baseVersion: a.baseVersion,
          reason: a.reason,
          ...(a.content !== undefined ? { content: a.content as JsonValue } : { patch: a.patch! }),
        });
        const v = {
          ...summary(art),
          version: art.version,
          ...(art.version > a.baseVersion + 1 ? { merged: true } : {}),
        };
        const merged = art.version > a.baseVersion + 1;
        return toolResult(
          `${merged ? 'Merged' : 'Saved'} ${art.id} as version ${art.version}${merged ? ` (others edited it after version ${a.baseVersion}; your change was merged with theirs)` : ''}.`,
          v,
        );
      } catch (err) {
        if (isBatonError(err, ErrorCode.MERGE_CONFLICT)) {
          const e = err as BatonError & { details: Record<string, unknown> };
          const r = toolError(err, scope.workspace.identity(actor.id)?.name);
          const d = e.details as { theirsVersion?: number; regions?: unknown };
          r.content.push({
            type: 'text',
            text: `Nothing was written. Version ${d.theirsVersion ?? '?'} changed the same place. Call read_artifact for the head, redo your change on it and edit again with baseVersion ${d.theirsVersion ?? 'set to the head'}.`,
          });
          return r;
        }
        throw err;
      }
    },
  );

  tool(
    'record_context',
    'Record what you noted, tried, learned, decided, asked, still have to do, or spent (usage) — attached to the artifacts it is about, so the next person or agent sees it in their briefing.',
    z.strictObject({
      type: z
        .enum(RECORD_TYPES)
        .describe('note | attempt | learned | decision | question | todo | usage'),
      text: z.string().min(1).max(1_000_000).describe('What happened, in words.'),
      about: z
        .array(ref('An artifact'))
        .max(64)
        .optional()
        .describe('The artifacts it is about. Defaults to none (the workspace).'),
      why: z.string().max(100_000).optional().describe('For a decision: why.'),
      alternatives: z
        .array(z.string().max(10_000))
        .max(32)
        .optional()
        .describe('For a decision: what else you considered.'),
      outcome: z
        .string()
        .max(200)
        .optional()
        .describe('For an attempt: how it went ("succeeded", "failed", …).'),
      options: z
        .array(z.string().max(500))
        .max(32)
        .optional()
        .describe('For a question: the choices.'),
      usage: z
        .strictObject({
          model: z.string().max(200).optional(),
          inputTokens: z.number().int().min(0).optional(),
          outputTokens: z.number().int().min(0).optional(),
          costUsd: z.number().min(0).optional(),
        })
        .optional()
        .describe('For usage: the model, tokens and cost.'),
    }),
    WRITE,
    async (a) => {
      const about = a.about
        ? await Promise.all(a.about.map((x) => full(actor, x, 'artifact')))
        : undefined;
      const e = await actor.context.record({
        type: a.type,
        text: a.text,
        ...(about ? { about } : {}),
        ...(a.why !== undefined ? { why: a.why } : {}),
        ...(a.alternatives ? { alternatives: a.alternatives } : {}),
        ...(a.outcome !== undefined ? { outcome: a.outcome } : {}),
        ...(a.options ? { options: a.options } : {}),
        ...(a.usage ? { usage: a.usage } : {}),
      });
      const v = entryView(e);
      return toolResult(`Recorded ${e.type} ${e.id}.`, v);
    },
  );

  tool(
    'query_context',
    'Read the context log: notes, attempts, learnings, decisions, questions (and their answers), todos — filtered by artifact, type, author or words.',
    z.strictObject({
      about: z
        .array(ref('An artifact'))
        .max(64)
        .optional()
        .describe('Only entries about these artifacts.'),
      types: z.array(z.enum(CONTEXT_TYPES)).max(16).optional().describe('Only these types.'),
      actor: identityRef('Only entries by').optional(),
      text: z
        .string()
        .min(1)
        .max(1_000)
        .optional()
        .describe('Only entries containing these words.'),
      open: z.boolean().optional().describe('Only open (true) or answered (false) questions.'),
      limit: limit(1_000, 100),
      after,
    }),
    READ,
    async (a) => {
      const about = a.about
        ? await Promise.all(a.about.map((x) => full(actor, x, 'artifact')))
        : undefined;
      const who = a.actor !== undefined ? await actor.identities.resolve(a.actor) : undefined;
      const page = await actor.context.query({
        ...(about ? { about } : {}),
        ...(a.types ? { types: a.types } : {}),
        ...(who ? { actor: who } : {}),
        ...(a.text !== undefined ? { text: a.text } : {}),
        ...(a.open !== undefined ? { open: a.open } : {}),
        ...(a.limit !== undefined ? { limit: a.limit } : {}),
        ...(a.after !== undefined ? { after: a.after } : {}),
      });
      const v = { entries: page.items.map(entryView), ...(page.next ? { next: page.next } : {}) };
      return toolResult(json(v), v);
    },
  );

  tool(
    'my_inbox',
    'What waits on you: work handed to you, approvals and questions for you — by priority, then due time.',
    z.strictObject({
      kinds: z
        .array(z.enum(['work', 'approval', 'question']))
        .max(3)
        .optional()
        .describe('Only these kinds. Defaults to all.'),
      limit: limit(500, 100),
      after,
    }),
    READ,
    async (a) => {
      const page = await actor.inbox(a);
      const v = { items: page.items.map(handoffView), ...(page.next ? { next: page.next } : {}) };
      return toolResult(json(v), v);
    },
  );

  tool(
    'get_briefing',
    'The briefing of a handoff, as markdown: what changed in its artifacts since you last looked (who, why, diff), decisions, learnings, open questions with their ids, todos and the note.',
    z.strictObject({
      handoff: ref('The handoff'),
      maxTokens: z
        .number()
        .int()
        .min(100)
        .max(100_000)
        .optional()
        .describe('Keep it within about this many tokens. Defaults to all of it.'),
    }),
    READ,
    async (a) => {
      const id = await full(actor, a.handoff, 'handoff');
      const b = await actor.handoffs.briefing(id);
      return toolResult(b.toMarkdown(a.maxTokens !== undefined ? { maxTokens: a.maxTokens } : {}), {
        handoff: b.handoff,
        status: b.status,
        artifacts: b.artifacts.map((x) => ({
          id: x.id,
          title: x.title,
          version: x.version,
          changes: x.changes.length,
        })),
        questions: b.questions.map((q) => ({ id: q.id, text: q.text })),
      });
    },
  );

  tool(
    'offer_handoff',
    'Hand work to a person or agent: the artifacts, a note, and questions for them. They see it in their inbox with a briefing. Needs the `handoff` grant on each artifact.',
    z.strictObject({
      to: identityRef('Who gets it'),
      artifacts: z
        .array(ref('An artifact'))
        .max(64)
        .optional()
        .describe('The artifacts handed over.'),
      note: z
        .string()
        .max(100_000)
        .optional()
        .describe('A note for them: what is done, what is left.'),
      questions: z
        .array(z.string().min(1).max(10_000))
        .max(32)
        .optional()
        .describe('Questions for them to answer.'),
      priority,
      due: z.iso.datetime({ offset: true }).optional().describe('When it is due (ISO 8601 time).'),
    }),
    WRITE,
    async (a) => {
      const to = await actor.identities.resolve(a.to);
      const artifacts = a.artifacts
        ? await Promise.all(a.artifacts.map((x) => full(actor, x, 'artifact')))
        : undefined;
      const h = await actor.handoffs.offer({
        to,
        ...(artifacts ? { artifacts } : {}),
        ...(a.note !== undefined ? { note: a.note } : {}),
        ...(a.questions ? { questions: a.questions } : {}),
        ...(a.priority ? { priority: a.priority } : {}),
        ...(a.due ? { due: a.due } : {}),
      });
      const v = handoffView(h);
      return toolResult(`Offered ${h.id} to ${a.to}.`, v);
    },
  );

  tool(
    'accept_handoff',
    'Accept work handed to you: you take the hold of its artifacts. Returns its briefing (markdown).',
    z.strictObject({ handoff: ref('The handoff') }),
    WRITE,
    async (a) => {
      const id = await full(actor, a.handoff, 'handoff');
      const b = await actor.handoffs.accept(id);
      return toolResult(b.toMarkdown(), { handoff: b.handoff, status: b.status });
    },
  );

  for (const [verb, what] of [
    [
      'return',
      'Give accepted work back unfinished, with a note saying why; the hold goes back to who offered it.',
    ],
    ['complete', 'Mark accepted work done, with an optional note; the hold is released.'],
  ] as const) {
    tool(
      `${verb}_handoff`,
      what,
      z.strictObject({
        handoff: ref('The handoff'),
        note: z.string().max(100_000).optional().describe('A note for the other side.'),
      }),
      WRITE,
      async (a) => {
        const id = await full(actor, a.handoff, 'handoff');
        const h = await actor.handoffs[verb](
          id,
          a.note !== undefined ? { note: a.note } : undefined,
        );
        return toolResult(`${h.id} is ${h.status}.`, handoffView(h));
      },
    );
  }

  tool(
    'ask_person',
    'Ask a person (or agent) a question; it lands in their inbox. Waits up to `waitMs` for the answer; when time runs out you get the question id: call again with `questionId` to keep waiting.',
    z.strictObject({
      to: identityRef('Whom to ask').optional(),
      question: z.string().min(1).max(10_000).optional().describe('The question.'),
      options: z
        .array(z.string().min(1).max(500))
        .max(32)
        .optional()
        .describe('The answers to choose from, if any.'),
      about: z.array(ref('An artifact')).max(64).optional().describe('The artifacts it is about.'),
      questionId: ref('A question asked earlier (to keep waiting for its answer)').optional(),
      waitMs,
    }),
    WRITE,
    async (a, ctx) => {
      let h: Handoff;
      if (a.questionId !== undefined) {
        h = await actor.handoffs.get(await full(actor, a.questionId, 'handoff'));
      } else {
        if (a.to === undefined || a.question === undefined)
          throw new BatonError(
            ErrorCode.VALIDATION,
            'ask_person: pass `to` and `question` (or `questionId` to keep waiting).',
            {
              details: { field: a.to === undefined ? 'to' : 'question' },
            },
          );
        const to = await actor.identities.resolve(a.to);
        const about = a.about
          ? await Promise.all(a.about.map((x) => full(actor, x, 'artifact')))
          : undefined;
        h = await actor.handoffs.ask({
          to,
          question: a.question,
          ...(a.options ? { options: a.options } : {}),
          ...(about ? { about } : {}),
        });
      }
      h = await wait(actor, h, a.waitMs ?? scope.waitMs, ctx);
      const v = handoffView(h);
      if (h.status === 'answered')
        return toolResult(
          `Answered by ${nameOf(scope, h.answer?.by)}: ${JSON.stringify(h.answer?.value)}`,
          v,
        );
      return toolResult(
        h.status === 'offered'
          ? `No answer yet. The question is ${h.id}: call ask_person with questionId "${h.id}" to keep waiting.`
          : `Question ${h.id} is ${h.status}.`,
        v,
      );
    },
  );

  tool(
    'request_approval',
    'Ask for approval before an action your grant gates (e.g. publishing): the approvers your grant names are asked. Waits up to `waitMs`. Approved: the approval is used for you at once (recorded), go ahead. Still pending: you get its id — call again with the same arguments (or `approvalId`) to keep waiting. Asking again for the same thing never asks twice.',
    z.strictObject({
      action: z.string().min(1).max(200).describe('The action, e.g. "publish".'),
      resource: z.string().min(1).max(400).describe('What it is on, e.g. "artifact:art_…".'),
      summary: z
        .string()
        .max(4_000)
        .optional()
        .describe('What you are about to do, in a sentence, for the approver.'),
      payload: z
        .unknown()
        .optional()
        .describe('The exact thing to approve (JSON); the approval binds it.'),
      approvalId: ref('An approval requested earlier (to keep waiting for it)').optional(),
      waitMs,
    }),
    // Not idempotent: asking again while pending returns the same request, but once an
    // approval was given and used, the same call files a new request.
    WRITE,
    async (a, ctx) => approval(scope, a, ctx),
  );

  tool(
    'can',
    'May you do this now? Answers yes (with the grant that allows it), "needs approval" (by whom), or no (and why).',
    z.strictObject({
      action: z
        .string()
        .min(1)
        .max(200)
        .describe(
          'The action: read, write, create, comment, handoff, approve, or an app-defined one like "publish".',
        ),
      resource: z
        .string()
        .min(1)
        .max(400)
        .describe('The resource, e.g. "artifact:art_…" or "artifact:*".'),
    }),
    READ,
    async (a) => {
      const d = await actor.can(a.action, a.resource);
      if (d.allowed) {
        const v = { allowed: true, grant: d.grant.id };
        return toolResult(`Yes: grant ${d.grant.id} allows ${a.action} on ${a.resource}.`, v);
      }
      if (d.approval) {
        const v = {
          allowed: false,
          needsApproval: true,
          approvers: d.approval.approvers,
          grant: d.approval.grant.id,
        };
        return toolResult(
          `Only after approval by ${d.approval.approvers.join(' or ')} (grant ${d.approval.grant.id}): call request_approval.`,
          v,
        );
      }
      const v = { allowed: false, reason: d.reason };
      return toolResult(`No: ${d.reason}.`, v);
    },
  );
}

/** An identity's name for a message, else its id. */
function nameOf(scope: ToolScope, id: string | undefined): string {
  if (id === undefined) return 'someone';
  return scope.workspace.identity(id)?.name ?? id;
}

/** How many artifacts `search_artifacts` looks through at most (its cost stays bounded). */
const SEARCH_SCAN = 2_000;

/** Waits (bounded) until `h` is decided; returns it as it then stands. */
async function wait(actor: Actor, h: Handoff, ms: number, ctx: ServerContext): Promise<Handoff> {
  if (h.status !== 'offered' || ms <= 0) return h;
  return actor.handoffs
    .wait(h.id, { timeoutMs: Math.min(ms, MAX_WAIT_MS), signal: ctx.mcpReq.signal })
    .catch((err: unknown) => {
      // The client cancelled the call: answer with the request as it stands.
      if (ctx.mcpReq.signal.aborted) return actor.handoffs.get(h.id);
      throw err;
    });
}

interface ApprovalArgs {
  action: string;
  resource: string;
  summary?: string;
  payload?: unknown;
  approvalId?: string;
  waitMs?: number;
}

async function approval(
  scope: ToolScope,
  a: ApprovalArgs,
  ctx: ServerContext,
): Promise<CallToolResult> {
  const { actor } = scope;
  const payload = a.payload as JsonValue | undefined;
  let h: Handoff;
  if (a.approvalId !== undefined) {
    h = await actor.handoffs.get(await full(actor, a.approvalId, 'handoff'));
    if (h.kind !== 'approval')
      throw new BatonError(
        ErrorCode.VALIDATION,
        `request_approval: ${h.id} is a ${h.kind} handoff, not an approval request.`,
        {
          details: { field: 'approvalId' },
        },
      );
  } else {
    const d = await actor.can(a.action, a.resource);
    if (d.allowed) {
      const v = { status: 'allowed', grant: d.grant.id };
      return toolResult(
        `No approval needed: grant ${d.grant.id} allows ${a.action} on ${a.resource}. Go ahead.`,
        v,
      );
    }
    h = await actor.handoffs.requestApproval({
      action: a.action,
      resource: a.resource,
      ...(a.summary !== undefined ? { summary: a.summary } : {}),
      ...(payload !== undefined ? { payload } : {}),
    });
  }
  if (h.status === 'offered') await askInPlace(scope, h, ctx);
  h = await wait(actor, await actor.handoffs.get(h.id), a.waitMs ?? scope.waitMs, ctx);
  const v = handoffView(h);
  if (h.status === 'approved') {
    const approved = h.approvedPayload ?? h.requestedPayload;
    const auth = await actor.authorize(h.approval!.action, h.approval!.resource, {
      ...(h.approval!.summary !== undefined ? { summary: h.approval!.summary } : {}),
      ...(approved !== undefined ? { payload: approved } : {}),
    });
    const out = { ...v, status: 'approved', used: auth.event.id };
    return toolResult(
      `Approved by ${nameOf(scope, h.decision?.by)} (${h.id}); the approval is now used for you — go ahead${h.approvedPayload !== undefined ? ` with the approver's edited payload: ${JSON.stringify(h.approvedPayload)}` : ''}.`,
      out,
    );
  }
  if (h.status === 'offered')
    return toolResult(
      `Still waiting for ${h.to.join(' or ')}. The request is ${h.id}: call request_approval with approvalId "${h.id}" to keep waiting.`,
      { ...v, status: 'pending' },
    );
  if (h.status === 'consumed')
    return toolResult(
      `Request ${h.id} was approved and has already been used. Ask again for a new approval.`,
      v,
    );
  return {
    ...toolResult(
      `Request ${h.id} is ${h.status}${h.decision?.note ? `: ${h.decision.note}` : ''}. Do not go ahead.`,
      v,
    ),
    isError: false,
  };
}

/**
 * When the person at the client is one of the request's approvers, this process holds their
 * key and the client can show a form: asks them here, and records their decision as theirs.
 * Otherwise (or when they dismiss the form) the request stays in the approvers' inbox.
 */
async function askInPlace(scope: ToolScope, h: Handoff, ctx: ServerContext): Promise<void> {
  const person = scope.approver;
  if (!person || !h.to.includes(person.id) || !scope.canElicit()) return;
  const requester = scope.workspace.identity(h.from)?.name ?? h.from;
  const what = `${h.approval!.action} on ${h.approval!.resource}`;
  let answer: Awaited<ReturnType<ServerContext['mcpReq']['elicitInput']>>;
  try {
    answer = await ctx.mcpReq.elicitInput({
      mode: 'form',
      message: `${requester} asks you to approve: ${what}${h.approval!.summary ? ` — ${h.approval!.summary}` : ''}${h.requestedPayload !== undefined ? `\nPayload: ${JSON.stringify(h.requestedPayload)}` : ''}`,
      requestedSchema: {
        type: 'object',
        properties: {
          decision: { type: 'string', title: 'Decision', enum: ['approve', 'deny'] },
          note: { type: 'string', title: 'Note for the requester' },
        },
        required: ['decision'],
      },
    });
  } catch {
    return; // the client could not show it: the request waits in the inbox
  }
  if (answer.action !== 'accept' || !answer.content) return;
  const decision = answer.content.decision;
  const note =
    typeof answer.content.note === 'string' && answer.content.note !== ''
      ? { note: answer.content.note }
      : undefined;
  if (decision === 'approve') await person.handoffs.approve(h.id, note);
  else if (decision === 'deny') await person.handoffs.deny(h.id, note);
}
