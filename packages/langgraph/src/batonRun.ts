import {
  type Actor,
  BatonError,
  canonicalJson,
  ErrorCode,
  type JsonValue,
  parseInput,
  type Signer,
  sha256b64,
  type Workspace,
} from '@baton/core';
import type { RunnableConfig } from '@langchain/core/runnables';
import { getConfig } from '@langchain/langgraph';
import { z } from 'zod';

/**
 * Who a LangGraph run acts as: the workspace and the agent's identity. Put it in the run's
 * config as `configurable.baton` (see {@link batonConfig}); {@link requestHuman}, the
 * tools of {@link batonTools} and {@link gatedTool} read it from there.
 */
export interface BatonRun {
  /** The workspace the agent acts on. Required. */
  workspace: Workspace;
  /** The agent's identity id: every call is made, and signed, as it. Required. */
  agent: string;
  /**
   * Signs for the agent when the workspace's keyring does not hold its key. Defaults to the
   * keyring's key.
   */
  signer?: Signer;
}

/** Options of {@link batonConfig}: the {@link BatonRun} and the thread. */
export interface BatonConfigOptions extends BatonRun {
  /** The LangGraph thread id: the run's `thread_id`, and its Baton session. Required. */
  threadId: string;
}

const workspaceSchema = z.custom<Workspace>(
  (w) =>
    typeof w === 'object' &&
    w !== null &&
    typeof (w as Workspace).as === 'function' &&
    typeof (w as Workspace).store === 'object',
  { message: 'must be a Workspace (from Workspace.open)' },
);
const signerSchema = z.custom<Signer>(
  (s) => typeof s === 'object' && s !== null && typeof (s as Signer).sign === 'function',
  { message: 'must be a Signer ({ publicKey, sign(bytes) })' },
);
const idString = z.string().min(1).max(200);
const runSchema = z.object({
  workspace: workspaceSchema,
  agent: idString,
  signer: signerSchema.optional(),
});
const configSchema = runSchema.extend({ threadId: idString });

/**
 * A LangGraph run config that carries the agent's identity (`configurable.baton`) and the
 * thread (`configurable.thread_id`), for `graph.invoke(input, batonConfig(...))`.
 *
 * @example
 * ```ts
 * await graph.invoke(input, batonConfig({ workspace, agent: drafter.id, threadId: 'review-1' }));
 * ```
 */
export function batonConfig(options: BatonConfigOptions): RunnableConfig & {
  configurable: { thread_id: string; baton: BatonRun };
} {
  const o = parseInput(configSchema, options, 'batonConfig');
  const baton: BatonRun = { workspace: o.workspace, agent: o.agent };
  if (o.signer) baton.signer = o.signer;
  return { configurable: { thread_id: o.threadId, baton } };
}

/** What a node or tool of a Baton run knows about where it runs. */
export interface RunContext extends BatonRun {
  /** The agent acting, with the thread as its session. */
  actor: Actor;
  thread: string;
  /** The checkpoint namespace of the task (names the node and its task). */
  ns: string;
}

/** The run's {@link BatonRun}, validated, or a `VALIDATION` error naming `where`. */
export function parseRun(value: unknown, where: string): BatonRun {
  if (value === undefined)
    throw new BatonError(
      ErrorCode.VALIDATION,
      `${where}: the run's config has no \`configurable.baton\`. Invoke the graph with batonConfig({ workspace, agent, threadId }) (or put { workspace, agent } in config.configurable.baton).`,
      { details: { field: 'configurable.baton' } },
    );
  return parseInput(runSchema, value, `${where}: configurable.baton`);
}

/** `value` as a Workspace, or a `VALIDATION` error naming `where`. */
export function parseWorkspace(value: unknown, where: string): Workspace {
  return parseInput(workspaceSchema, value, `${where}: workspace`);
}

/** The {@link RunContext} of a node's or tool's config. */
export function runContext(config: RunnableConfig | undefined, where: string): RunContext {
  const c = (config?.configurable ?? {}) as Record<string, unknown>;
  const run = parseRun(c.baton, where);
  const thread = c.thread_id;
  if (typeof thread !== 'string' || thread === '')
    throw new BatonError(
      ErrorCode.VALIDATION,
      `${where}: the run's config has no \`configurable.thread_id\`. Pass one (batonConfig({ threadId }) does): a person's answer resumes that thread.`,
      { details: { field: 'configurable.thread_id' } },
    );
  const ns = typeof c.checkpoint_ns === 'string' ? c.checkpoint_ns : '';
  const actor = run.workspace.as(run.agent, {
    session: thread,
    ...(run.signer ? { signer: run.signer } : {}),
  });
  return { ...run, actor, thread, ns };
}

/** A short idempotency key for the parts (thread, namespace, position, …), prefixed `lg-`. */
export function keyOf(parts: JsonValue[]): string {
  return `lg-${sha256b64(canonicalJson(parts)).slice(0, 32)}`;
}

/**
 * The agent of the current run, as an Actor whose session is the thread: for a node's own
 * Baton calls. Reads the config LangGraph passes (or `config`).
 *
 * @throws BatonError `VALIDATION` when the run's config has no `configurable.baton` or
 *   `thread_id` (invoke with {@link batonConfig}).
 */
export function batonActor(config?: RunnableConfig): Actor {
  return runContext(config ?? getConfig(), 'batonActor').actor;
}

/**
 * An idempotency key for a write a node makes, the same on every run of the node in this
 * thread: pass it as `idempotencyKey` so a node that runs again (after a resume) writes once.
 *
 * @param name - Tells apart several writes of one node. Defaults to `''`.
 */
export function batonKey(name = '', config?: RunnableConfig): string {
  const ctx = runContext(config ?? getConfig(), 'batonKey');
  const node = (config ?? getConfig()).metadata?.langgraph_node;
  return keyOf([ctx.thread, typeof node === 'string' ? node : ctx.ns, name]);
}
