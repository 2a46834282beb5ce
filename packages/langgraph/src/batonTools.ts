import {
  type Authorization,
  BatonError,
  ErrorCode,
  isBatonError,
  type JsonValue,
  parseInput,
} from '@baton/core';
import { ToolMessage } from '@langchain/core/messages';
import type { RunnableConfig } from '@langchain/core/runnables';
import { type DynamicStructuredTool, tool } from '@langchain/core/tools';
import { z } from 'zod';
import { keyOf, type RunContext, runContext } from './batonRun.js';
import { requestHuman } from './requestHuman.js';

type ToolConfig = RunnableConfig & { toolCall?: { id?: string; name?: string } };

/**
 * Runs a tool's body as the run's agent; a Baton refusal (no grant, bad input, a conflict)
 * becomes a tool error the model reads — a `ToolMessage` with `status: 'error'` — instead of
 * a crash. LangGraph's interrupt passes through.
 */
async function asAgent(
  name: string,
  config: ToolConfig,
  body: (ctx: RunContext, key: string | undefined) => Promise<unknown>,
): Promise<unknown> {
  try {
    const ctx = runContext(config, name);
    const callId = config.toolCall?.id;
    // A re-run of the task (after a resume) repeats the call: the same key makes its write once.
    const key = callId ? keyOf([ctx.thread, ctx.ns, name, callId]) : undefined;
    return await body(ctx, key);
  } catch (err) {
    if (!isBatonError(err)) throw err;
    const content = `Refused (${err.code}): ${err.message}`;
    if (config.toolCall?.id)
      return new ToolMessage({ status: 'error', content, name, tool_call_id: config.toolCall.id });
    throw err;
  }
}

const contentSchema = z.union([z.string(), z.record(z.string(), z.any())]);

/** Options of {@link batonTools}. */
export interface BatonToolsOptions {
  /**
   * Which tools to make. Defaults to all: `read_artifact`, `list_artifacts`, `edit_artifact`,
   * `record_context`, `offer_handoff`.
   */
  only?: BatonToolName[];
}

/** The names of the tools {@link batonTools} makes. */
export type BatonToolName =
  | 'read_artifact'
  | 'list_artifacts'
  | 'edit_artifact'
  | 'record_context'
  | 'offer_handoff';

const toolsOptionsSchema = z.object({
  only: z
    .array(
      z.enum([
        'read_artifact',
        'list_artifacts',
        'edit_artifact',
        'record_context',
        'offer_handoff',
      ]),
    )
    .optional(),
});

/**
 * Artifact and ContextLog tools for a model, built with `tool()` from `@langchain/core/tools`.
 * Each acts as the agent the run's config names (`configurable.baton`, see
 * {@link batonConfig}), with the thread as its session, and is checked against that agent's
 * grants: a call they do not cover writes nothing and comes back to the model as a tool
 * error (`ToolMessage` with `status: 'error'`), so the graph goes on.
 *
 * @remarks
 * Writes carry an idempotency key made of the thread, the task and the tool call id, so a
 * task that runs again after a resume does not write twice. An action that needs a person's
 * approval first is a {@link gatedTool}.
 */
export function batonTools(options: BatonToolsOptions = {}): DynamicStructuredTool[] {
  const o = parseInput(toolsOptionsSchema, options, 'batonTools');
  const all: Record<BatonToolName, () => DynamicStructuredTool> = {
    read_artifact: () =>
      tool(
        (args, config: ToolConfig) =>
          asAgent('read_artifact', config, async ({ actor }) => {
            const a = await actor.artifacts.get(
              args.id,
              args.version !== undefined ? { version: args.version } : {},
            );
            return JSON.stringify({
              id: a.id,
              title: a.title,
              kind: a.kind,
              version: a.version,
              head: a.head,
              content: a.content,
            });
          }),
        {
          name: 'read_artifact',
          description: 'Read an artifact (a shared document) by id, at its head or a version.',
          schema: z.object({
            id: z.string().describe('The artifact id (art_…).'),
            version: z
              .number()
              .int()
              .min(1)
              .optional()
              .describe('A version; defaults to the head.'),
          }),
        },
      ) as unknown as DynamicStructuredTool,
    list_artifacts: () =>
      tool(
        (args, config: ToolConfig) =>
          asAgent('list_artifacts', config, async ({ actor }) => {
            const page = await actor.artifacts.list({
              ...(args.tag !== undefined ? { tag: args.tag } : {}),
              limit: args.limit ?? 20,
            });
            return JSON.stringify(
              page.items.map((a) => ({ id: a.id, title: a.title, kind: a.kind, version: a.head })),
            );
          }),
        {
          name: 'list_artifacts',
          description: 'List the artifacts you may read, optionally by tag.',
          schema: z.object({
            tag: z.string().optional(),
            limit: z.number().int().min(1).max(100).optional(),
          }),
        },
      ) as unknown as DynamicStructuredTool,
    edit_artifact: () =>
      tool(
        (args, config: ToolConfig) =>
          asAgent('edit_artifact', config, async ({ actor }, key) => {
            const a = await actor.artifacts.edit(args.id, {
              content: args.content as JsonValue,
              baseVersion: args.baseVersion,
              reason: args.reason,
              ...(key ? { idempotencyKey: key } : {}),
            });
            return JSON.stringify({ id: a.id, version: a.version });
          }),
        {
          name: 'edit_artifact',
          description:
            'Replace the content of an artifact, saying why. baseVersion is the version you read; edits others made since are merged.',
          schema: z.object({
            id: z.string(),
            content: contentSchema.describe('The new content: text, or a JSON object.'),
            baseVersion: z.number().int().min(1),
            reason: z.string().min(1).describe('Why: shown to whoever reads the change next.'),
          }),
        },
      ) as unknown as DynamicStructuredTool,
    record_context: () =>
      tool(
        (args, config: ToolConfig) =>
          asAgent('record_context', config, async ({ actor }, key) => {
            const e = await actor.context.record({
              type: args.type,
              text: args.text,
              ...(args.why !== undefined ? { why: args.why } : {}),
              ...(args.about !== undefined ? { about: args.about } : {}),
              ...(key ? { idempotencyKey: key } : {}),
            });
            return JSON.stringify({ id: e.id, type: e.type });
          }),
        {
          name: 'record_context',
          description:
            'Record a decision (with why), a question, a note, something learned or a todo, about artifacts.',
          schema: z.object({
            type: z.enum(['decision', 'question', 'note', 'learned', 'todo']),
            text: z.string().min(1),
            why: z.string().optional().describe('For decisions: why.'),
            about: z.array(z.string()).optional().describe('Artifact ids it is about.'),
          }),
        },
      ) as unknown as DynamicStructuredTool,
    offer_handoff: () =>
      tool(
        (args, config: ToolConfig) =>
          asAgent('offer_handoff', config, async ({ actor }, key) => {
            const to = await actor.identities.resolve(args.to);
            const h = await actor.handoffs.offer({
              to,
              ...(args.artifacts !== undefined ? { artifacts: args.artifacts } : {}),
              ...(args.note !== undefined ? { note: args.note } : {}),
              ...(args.questions !== undefined ? { questions: args.questions } : {}),
              ...(key ? { idempotencyKey: key } : {}),
            });
            return JSON.stringify({ id: h.id, status: h.status });
          }),
        {
          name: 'offer_handoff',
          description: 'Hand work (artifacts, a note, questions) to a person or agent, by name.',
          schema: z.object({
            to: z.string().describe('Name or id of the recipient.'),
            artifacts: z.array(z.string()).optional(),
            note: z.string().optional(),
            questions: z.array(z.string()).optional(),
          }),
        },
      ) as unknown as DynamicStructuredTool,
  };
  const names = o.only ?? (Object.keys(all) as BatonToolName[]);
  return names.map((n) => all[n]());
}

/** Where the kv area keeps what a gated tool call answered once its side effect ran. */
const DONE_PREFIX = 'langgraph/gated/';

/** What a {@link gatedTool}'s `run` receives besides its arguments. */
export interface GatedRunContext extends RunContext {
  /** The authorization Baton recorded for this use (its approval, when one was needed). */
  authorization: Authorization;
  /**
   * A key for the side effect's own writes: the same on every re-run of this tool call, so
   * passing it as `idempotencyKey` makes them happen once. `undefined` outside a tool call.
   */
  idempotencyKey: string | undefined;
}

/** Options of {@link gatedTool}. */
export interface GatedToolOptions<S extends z.ZodObject> {
  /** The tool's name, as the model calls it. Required. */
  name: string;
  /** What the tool does, for the model. Required. */
  description: string;
  /** The tool's arguments. They are the payload an approval binds. Required. */
  schema: S;
  /** The action the agent's grants must allow (`'publish'`, `'email.send'`). Required. */
  action: string;
  /** The resource it acts on, from the arguments (`(a) => \`artifact:${a.id}\``). Required. */
  resource: (args: z.output<S>) => string;
  /** What is about to happen, in words, for the approver. Defaults to `"<name> <args>"`. */
  summary?: (args: z.output<S>) => string;
  /**
   * The side effect. Runs only once Baton authorized it — with the approver's edited
   * arguments when they edited them — and returns what the model reads. Required.
   */
  run: (args: z.output<S>, context: GatedRunContext) => Promise<unknown> | unknown;
}

/**
 * A tool whose side effect Baton gates with `actor.authorize(action, resource)`: it runs when
 * the agent's grants allow the action; it is refused, as a tool error the model reads, when
 * they do not; and when the grant `requiresApproval` for it, the graph pauses with
 * {@link requestHuman} until an approver decides, then runs once.
 *
 * @remarks
 * The approver sees the arguments as the payload. `accept` runs it as asked; `edit` runs it
 * with the edited arguments (the approval binds them); `response` or `ignore` (a denial)
 * does not run it and tells the model why. The authorization is recorded once
 * (`grant.exercised`, consuming the approval) under an idempotency key of the thread, task
 * and tool call, so a re-run of the task does not ask or consume again; once `run` finished,
 * its answer is kept in the store's kv area, so a re-run of the task (after a parallel
 * call's interrupt, say) answers the same without running it again. A crash between `run`
 * and that record runs it again: pass `idempotencyKey` on to what it calls.
 */
export function gatedTool<S extends z.ZodObject>(
  options: GatedToolOptions<S>,
): DynamicStructuredTool {
  const name = parseInput(z.string().min(1).max(64), options?.name, 'gatedTool(name)');
  for (const f of ['resource', 'run'] as const)
    if (typeof options[f] !== 'function')
      throw new BatonError(ErrorCode.VALIDATION, `gatedTool: \`${f}\` must be a function.`, {
        details: { field: f },
      });
  const action = parseInput(z.string().min(1).max(200), options.action, 'gatedTool(action)');
  return tool(
    (args: z.output<S>, config: ToolConfig) =>
      asAgent(name, config, async (ctx, key) => {
        const resource = options.resource(args);
        const summary = options.summary?.(args) ?? `${name} ${JSON.stringify(args)}`;
        let payload = args as unknown as JsonValue;
        // A call whose side effect ran already (its task re-runs after a resume, say for a
        // parallel call's interrupt) answers with what it said then, and runs nothing again.
        const doneKey = key ? `${DONE_PREFIX}${key}` : undefined;
        const done = doneKey ? await ctx.workspace.store.kv.get(doneKey) : undefined;
        if (typeof done === 'string') return done;
        const decision = await ctx.actor.can(action, resource);
        if (!decision.allowed && decision.approval) {
          const response = await requestHuman(
            {
              action,
              resource,
              payload,
              interrupt: {
                action_request: { action: name, args: args as Record<string, unknown> },
                config: {
                  allow_accept: true,
                  allow_edit: true,
                  allow_respond: true,
                  allow_ignore: true,
                },
                description: summary,
              },
            },
            config,
          );
          if (response.type === 'response' || response.type === 'ignore') {
            const why = typeof response.args === 'string' ? `: ${response.args}` : '';
            const text = `Not done: ${action} on ${resource} was not approved${why}`;
            if (config.toolCall?.id)
              return new ToolMessage({
                status: 'error',
                content: text,
                name,
                tool_call_id: config.toolCall.id,
              });
            return text;
          }
          if (response.type === 'edit' && response.args && typeof response.args === 'object')
            payload = response.args.args as JsonValue;
        }
        // Checked before the approval is used: an edit that does not fit the tool uses nothing.
        const finalArgs = parseInput(
          options.schema,
          payload,
          `${name}: the approved arguments`,
        ) as z.output<S>;
        const authorization = await ctx.actor.authorize(action, resource, {
          summary,
          payload,
          ...(key ? { idempotencyKey: key } : {}),
        });
        const out = await options.run(finalArgs, {
          ...ctx,
          authorization,
          idempotencyKey: key ? `${key}-run` : undefined,
        });
        const text = typeof out === 'string' ? out : JSON.stringify(out ?? null);
        if (doneKey) await ctx.workspace.store.kv.put(doneKey, text);
        return text;
      }),
    { name, description: options.description, schema: options.schema },
  ) as unknown as DynamicStructuredTool;
}
