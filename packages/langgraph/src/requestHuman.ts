import {
  type Actor,
  BatonError,
  ErrorCode,
  type Handoff,
  isBatonError,
  type JsonValue,
  parseInput,
} from '@baton/core';
import type { RunnableConfig } from '@langchain/core/runnables';
import { Command, getConfig, interrupt, type StateSnapshot } from '@langchain/langgraph';
import type { HumanInterrupt, HumanResponse } from '@langchain/langgraph/prebuilt';
import { z } from 'zod';
import { type BatonRun, keyOf, parseRun, parseWorkspace, runContext } from './batonRun.js';

/**
 * What {@link requestHuman} asks: LangGraph's own `HumanInterrupt` (the Agent Inbox schema),
 * and whom it asks.
 *
 * @remarks
 * - With `action` and `resource`, it is an **approval**: the approvers are the ones the
 *   agent's grant names for that action (never chosen here), and the decision is bound to
 *   `payload` (defaults to `interrupt.action_request.args`).
 * - With `to` (a person's name or id), it is a **question** to that person: the question
 *   is `interrupt.description`, else `interrupt.action_request.action`. Asking needs
 *   `comment` and `handoff` on `workspace`.
 */
export type RequestHumanInput =
  | {
      /** What the person sees (Agent Inbox schema). Required. */
      interrupt: HumanInterrupt;
      /** The action to approve (`'publish'`). Required for an approval. */
      action: string;
      /** The resource it acts on (`'artifact:<id>'`). Required for an approval. */
      resource: string;
      /** The exact thing approved. Defaults to `interrupt.action_request.args`. */
      payload?: JsonValue;
      to?: never;
    }
  | {
      /** What the person sees (Agent Inbox schema). Required. */
      interrupt: HumanInterrupt;
      /** The person asked, by name or id. Required for a question. */
      to: string;
      action?: never;
      resource?: never;
      payload?: never;
    };

/** The value a paused thread shows in `__interrupt__`: the request, with its Baton handoff. */
export interface BatonHumanInterrupt extends HumanInterrupt {
  baton: {
    /** The handoff the person decides (`baton approve <id>`, `baton answer <id>`). */
    handoff: string;
    kind: 'approval' | 'question';
    /** Who may decide it (identity ids). */
    to: string[];
  };
}

const actionRequest = z.object({
  action: z.string().min(1).max(500),
  args: z.record(z.string(), z.any()),
});
const humanInterrupt = z.object({
  action_request: actionRequest,
  config: z.object({
    allow_ignore: z.boolean(),
    allow_respond: z.boolean(),
    allow_edit: z.boolean(),
    allow_accept: z.boolean(),
  }),
  description: z.string().max(4_000).optional(),
});
const jsonValue = z.custom<JsonValue>(
  (v) => {
    try {
      return v !== undefined && JSON.stringify(v) !== undefined;
    } catch {
      return false;
    }
  },
  { message: 'must be plain JSON' },
);
// Strict: a request naming both a person (`to`) and an action is refused, not guessed at.
const requestSchema = z.union([
  z.strictObject({
    interrupt: humanInterrupt,
    action: z.string().min(1).max(200),
    resource: z.string().min(1).max(400),
    payload: jsonValue.optional(),
  }),
  z.strictObject({ interrupt: humanInterrupt, to: z.string().min(1).max(200) }),
]);
const humanResponse = z.object({
  type: z.enum(['accept', 'ignore', 'response', 'edit']),
  args: z.union([z.null(), z.string(), actionRequest]),
});
const handoffIdSchema = z.string().min(1).max(200);

/** Where the kv area keeps which thread waits on which handoff. */
const RECORD_PREFIX = 'langgraph/human/';

/** The kv record of a handoff {@link requestHuman} made. */
interface HumanRecord {
  handoff: string;
  agent: string;
  thread: string;
  ns: string;
  position: number;
  kind: 'approval' | 'question';
  action: string;
  /** The graph node that asked (LangGraph's `langgraph_node`), when known. */
  node?: string;
  /**
   * Set, atomically (`kv.batch` with `expect`), by the one `resumeHandoff` that resumes the
   * thread: which process, since when. Removed again when its `invoke` fails.
   */
  claim?: ResumeClaim;
  /** Set once `resumeHandoff`'s `invoke` returned. */
  resumedAt?: string;
}

/** Who is resuming a thread: a process, by host and pid, and this claim's own id. */
interface ResumeClaim {
  id: string;
  at: string;
  host?: string;
  pid?: number;
}

// The claims this process holds now: a claim naming this pid but not in here is a dead
// process's whose pid was reused (containers restart with the same pids).
const ownClaims = new Set<string>();

/** This machine's host name and this process's pid, where the runtime has them. */
function whereAmI(): { host?: string; pid?: number } {
  const proc = (
    globalThis as {
      process?: { pid?: number; getBuiltinModule?: (id: string) => unknown };
    }
  ).process;
  const os = proc?.getBuiltinModule?.('node:os') as { hostname?: () => string } | undefined;
  const host = os?.hostname?.();
  return {
    ...(typeof host === 'string' ? { host } : {}),
    ...(typeof proc?.pid === 'number' ? { pid: proc.pid } : {}),
  };
}

/**
 * Whether the process that made `claim` is provably gone: it ran on this host and its pid
 * is no longer alive here (or is this process's, which does not hold the claim).
 */
function claimerGone(claim: ResumeClaim): boolean {
  const me = whereAmI();
  if (claim.host === undefined || claim.pid === undefined || claim.host !== me.host) return false;
  if (claim.pid === me.pid) return !ownClaims.has(claim.id);
  const proc = (globalThis as { process?: { kill?: (pid: number, sig: 0) => void } }).process;
  if (typeof proc?.kill !== 'function') return false;
  try {
    proc.kill(claim.pid, 0);
    return false;
  } catch (err) {
    return (err as { code?: unknown }).code === 'ESRCH';
  }
}

// Which requestHuman call of a task this is, when LangGraph's own interrupt counter is not
// at hand: counted per task config.
const positions = new WeakMap<object, number>();

/** The 0-based position the next `interrupt()` of this task takes. */
function positionOf(config: RunnableConfig): number {
  const conf = (config.configurable ?? {}) as Record<string, unknown>;
  // LangGraph counts the interrupts of a task in its scratchpad, from -1: the next one takes
  // counter + 1 — the same position on every re-run of the node.
  const pad = conf.__pregel_scratchpad as { interruptCounter?: unknown } | undefined;
  if (pad && typeof pad.interruptCounter === 'number') return pad.interruptCounter + 1;
  const n = positions.get(conf) ?? 0;
  positions.set(conf, n + 1);
  return n;
}

/**
 * Asks a person — by name, or the approvers the agent's grant names — and pauses the graph
 * with LangGraph's `interrupt()` until they decide. Use it inside a node or a tool of a
 * graph compiled with a checkpointer and invoked with {@link batonConfig}.
 *
 * @remarks
 * The request becomes a Baton handoff (an approval request, or a question) in the person's
 * inbox, made as the agent. The node runs again from its top when the thread is resumed, so
 * the handoff is made exactly once: its idempotency key is the thread, the task's checkpoint
 * namespace and the interrupt's position in the task. Resume the thread with
 * {@link resumeHandoff} once the person decided — from any process, any time later.
 *
 * An approval the agent's grants do not gate (it may just do it) returns `accept` at once
 * without pausing; one no grant allows at all throws `FORBIDDEN`.
 *
 * @returns The person's answer as LangGraph's `HumanResponse` (see {@link handoffResponse}
 *   for how a Baton decision maps to it).
 * @throws BatonError `VALIDATION` for a malformed request or a run config without
 *   `configurable.baton` / `thread_id`; `NOT_FOUND` when `to` names no identity.
 */
export async function requestHuman(
  request: RequestHumanInput,
  config?: RunnableConfig,
): Promise<HumanResponse> {
  const r = parseInput(requestSchema, request, 'requestHuman');
  const cfg = config ?? getConfig();
  const ctx = runContext(cfg, 'requestHuman');
  const position = positionOf(cfg);
  // Parallel tool calls of one task share its interrupt counter: the call id tells them apart.
  const call = (cfg as { toolCall?: { id?: unknown } }).toolCall?.id;
  const key = keyOf([ctx.thread, ctx.ns, typeof call === 'string' ? call : '', position]);
  const ia = r.interrupt;
  const text = ia.description ?? ia.action_request.action;
  let h: Handoff;
  let kind: 'approval' | 'question';
  if ('to' in r) {
    kind = 'question';
    const to = await ctx.actor.identities.resolve(r.to);
    h = await ctx.actor.handoffs.ask({ to, question: text, idempotencyKey: key });
  } else {
    kind = 'approval';
    const decision = await ctx.actor.can(r.action, r.resource);
    if (decision.allowed) return { type: 'accept', args: null };
    if (!decision.approval)
      throw new BatonError(
        ErrorCode.FORBIDDEN,
        `requestHuman: ${ctx.agent} may not ${r.action} on ${r.resource} even with an approval: ${decision.reason}.`,
        { details: { action: r.action, resource: r.resource } },
      );
    h = await ctx.actor.handoffs.requestApproval({
      action: r.action,
      resource: r.resource,
      summary: text,
      payload: r.payload ?? (ia.action_request.args as JsonValue),
      idempotencyKey: key,
    });
  }
  const recordKey = `${RECORD_PREFIX}${h.id}`;
  const kv = ctx.workspace.store.kv;
  if ((await kv.get(recordKey)) === undefined) {
    const record: HumanRecord = {
      handoff: h.id,
      agent: ctx.agent,
      thread: ctx.thread,
      ns: ctx.ns,
      position,
      kind,
      action: ia.action_request.action,
    };
    const node = cfg.metadata?.langgraph_node;
    if (typeof node === 'string') record.node = node;
    await kv.put(recordKey, record as unknown as JsonValue);
  }
  const value: BatonHumanInterrupt = { ...ia, baton: { handoff: h.id, kind, to: h.to } };
  // Agent Inbox sends a list of responses for a list of requests: one each here.
  const answer = interrupt<BatonHumanInterrupt[], unknown>([value]);
  const one = Array.isArray(answer) ? answer[0] : answer;
  return parseInput(humanResponse, one, 'requestHuman: the resume value') as HumanResponse;
}

/**
 * The `HumanResponse` a decided handoff stands for — the mapping {@link resumeHandoff} resumes
 * with:
 *
 * | Baton | HumanResponse |
 * | --- | --- |
 * | approval approved | `{ type: 'accept', args: null }` |
 * | approval approved with an edited payload | `{ type: 'edit', args: { action, args: <edited payload> } }` |
 * | approval denied with a note | `{ type: 'response', args: <note> }` |
 * | approval denied without a note, expired, cancelled | `{ type: 'ignore', args: null }` |
 * | question answered with text | `{ type: 'response', args: <answer> }` |
 * | question answered with a HumanResponse (by {@link answerHandoff}) | that response |
 *
 * @returns `undefined` while the handoff is still undecided.
 */
export async function handoffResponse(
  workspace: BatonRun['workspace'],
  h: Handoff,
  action: string,
): Promise<HumanResponse | undefined> {
  switch (h.status) {
    case 'offered':
    case 'accepted':
      return undefined;
    case 'approved':
    case 'consumed':
      return h.approvedPayload !== undefined
        ? { type: 'edit', args: { action, args: h.approvedPayload as Record<string, unknown> } }
        : { type: 'accept', args: null };
    case 'denied': {
      const note = h.decision?.note ? await workspace.text(h.decision.note) : undefined;
      return note ? { type: 'response', args: note } : { type: 'ignore', args: null };
    }
    case 'answered': {
      const v = h.answer?.value;
      const parsed = humanResponse.safeParse(v);
      if (parsed.success) return parsed.data as HumanResponse;
      return { type: 'response', args: typeof v === 'string' ? v : JSON.stringify(v ?? null) };
    }
    default:
      return { type: 'ignore', args: null };
  }
}

/** A compiled LangGraph graph, as {@link resumeHandoff} uses it. */
export interface ResumableGraph {
  getState(config: RunnableConfig): Promise<StateSnapshot>;
  // biome-ignore lint/suspicious/noExplicitAny: a compiled graph's invoke is generic over its state.
  invoke(input: any, config?: any): Promise<unknown>;
}

/** Options of {@link resumeHandoff}. */
export interface ResumeHandoffOptions {
  /**
   * The workspace the handoff is in. Defaults to the `configurable.baton.workspace` of the
   * graph's own config (`graph.withConfig(batonConfig(…))`); one of the two is required.
   */
  workspace?: BatonRun['workspace'];
  /**
   * The agent resuming: the one who asked (another is refused). Defaults to the graph's
   * `configurable.baton.agent`, else to the agent who asked.
   */
  agent?: string;
  /** Signs for the agent when the workspace's keyring does not hold its key. Defaults to the keyring's key. */
  signer?: BatonRun['signer'];
  /**
   * The config to resume with (callbacks, recursion limit, …); its `configurable.baton` and
   * `thread_id` are set for you. A `thread_id` other than the handoff's is refused. Defaults
   * to none.
   */
  config?: RunnableConfig;
  /**
   * Resume even though another process claimed this resume and is not provably gone (it ran
   * on another host). Only for when you know that process died: if it is still running, the
   * node runs twice. Defaults to `false` (a claimer on this host whose pid is gone is taken
   * over without it).
   */
  takeOver?: boolean;
}

/** What {@link resumeHandoff} did. */
export interface ResumeHandoffResult {
  /** `false` when the thread had been resumed for this handoff already: nothing was run. */
  resumed: boolean;
  /** The thread resumed. */
  threadId: string;
  /** What the paused `requestHuman` returned. */
  response: HumanResponse;
  /** What `graph.invoke` returned, when it resumed. */
  result?: unknown;
}

const resumeOptionsSchema = z.object({
  config: z.record(z.string(), z.any()).optional(),
  takeOver: z.boolean().optional(),
});

/**
 * Resumes the thread that paused on handoff `handoffId` (made by {@link requestHuman}) with
 * `new Command({ resume })`, once the person decided — from any process, hours later.
 *
 * @remarks
 * Reads which thread waits on the handoff from the store's kv area, the decision from the
 * handoff itself (as the agent who asked), and resumes exactly that interrupt. A second call
 * for the same handoff finds no interrupt waiting on it and does nothing (`resumed: false`).
 *
 * One call resumes: before it runs the graph it claims the resume in the kv area with a
 * compare-and-set (`kv.batch` with `expect`), so of two processes resuming the same handoff
 * at the same moment one runs the node and the other is refused (`CONFLICT`), or, once the
 * first finished, returns `resumed: false`. A claim whose process died before the thread
 * moved on is taken over when that is provably safe — the claimer ran on this host and its
 * pid is gone — and otherwise only with `takeOver: true`. A claim is released when `invoke`
 * throws, so the resume can be retried.
 *
 * @example
 * ```ts
 * await resumeHandoff(graph, handoffId, { workspace }); // or graph.withConfig(batonConfig(…))
 * ```
 *
 * @throws BatonError, with nothing changed:
 *   `NOT_FOUND` — no thread paused on `handoffId` (not a handoff `requestHuman` made);
 *   `INVALID_STATE` — the person has not decided yet;
 *   `CONFLICT` — another process is resuming it right now;
 *   `VALIDATION` — no workspace given, the handoff was asked by another agent,
 *   `config.configurable.thread_id` names another thread, or `graph` has no such thread / it
 *   is not waiting on the handoff (it is another graph's).
 */
export async function resumeHandoff(
  graph: ResumableGraph,
  handoffId: string,
  options: ResumeHandoffOptions = {},
): Promise<ResumeHandoffResult> {
  if (
    typeof graph !== 'object' ||
    graph === null ||
    typeof graph.getState !== 'function' ||
    typeof graph.invoke !== 'function'
  )
    throw new BatonError(
      ErrorCode.VALIDATION,
      'resumeHandoff: `graph` must be a compiled LangGraph graph (StateGraph.compile({ checkpointer })).',
      { details: { field: 'graph' } },
    );
  const id = parseInput(handoffIdSchema, handoffId, 'resumeHandoff(handoffId)');
  const o = parseInput(resumeOptionsSchema, options ?? {}, 'resumeHandoff(options)');
  // The graph's own config (`graph.withConfig(...)`) may carry who acts.
  const bound = (graph as { config?: RunnableConfig }).config?.configurable?.baton as
    | Partial<BatonRun>
    | undefined;
  const workspace = options?.workspace ?? bound?.workspace;
  if (workspace === undefined)
    throw new BatonError(
      ErrorCode.VALIDATION,
      'resumeHandoff: no workspace. Pass { workspace } (the one the handoff is in), or a graph bound to one with graph.withConfig(batonConfig({ workspace, agent, threadId })).',
      { details: { field: 'workspace' } },
    );
  const signer = options?.signer ?? bound?.signer;
  const ws = parseWorkspace(workspace, 'resumeHandoff');
  const kv = ws.store.kv;
  const recordKey = `${RECORD_PREFIX}${id}`;
  const stored = await kv.get(recordKey);
  const record = stored as unknown as HumanRecord | undefined;
  if (!record)
    throw new BatonError(
      ErrorCode.NOT_FOUND,
      `resumeHandoff: no LangGraph thread paused on handoff ${id}. Pass the id of a handoff requestHuman made (the paused thread's __interrupt__ value names it as baton.handoff).`,
      { details: { field: 'handoffId', handoff: id } },
    );
  const run = parseRun(
    {
      workspace: ws,
      agent: options?.agent ?? bound?.agent ?? record.agent,
      ...(signer ? { signer } : {}),
    },
    'resumeHandoff',
  );
  if (record.agent !== run.agent)
    throw new BatonError(
      ErrorCode.VALIDATION,
      `resumeHandoff: handoff ${id} was asked by agent ${record.agent}, not ${run.agent}. Resume it as ${record.agent}.`,
      { details: { field: 'agent', agent: record.agent } },
    );
  const given = (o.config?.configurable as Record<string, unknown> | undefined)?.thread_id;
  if (given !== undefined && given !== record.thread)
    throw new BatonError(
      ErrorCode.VALIDATION,
      `resumeHandoff: handoff ${id} paused thread ${record.thread}, not ${String(given)}. Leave thread_id out: resumeHandoff finds the thread.`,
      { details: { field: 'config.configurable.thread_id', thread: record.thread } },
    );
  const actor: Actor = run.workspace.as(run.agent, {
    session: record.thread,
    ...(run.signer ? { signer: run.signer } : {}),
  });
  const h = await actor.handoffs.get(id);
  const response = await handoffResponse(run.workspace, h, record.action);
  if (!response) {
    const who = h.to.map((x) => run.workspace.identity(x)?.name ?? x);
    throw new BatonError(
      ErrorCode.INVALID_STATE,
      `resumeHandoff: handoff ${id} is still ${h.status}, waiting on ${who.join(' or ')}. Resume it once they decided (actor.handoffs.wait('${id}') resolves then).`,
      { details: { handoff: id, status: h.status } },
    );
  }
  // A graph sharing the checkpointer sees the thread too: it must at least have the node.
  const nodes = (graph as { nodes?: unknown }).nodes;
  if (record.node && typeof nodes === 'object' && nodes !== null && !(record.node in nodes))
    throw new BatonError(
      ErrorCode.VALIDATION,
      `resumeHandoff: handoff ${id} paused node "${record.node}" of thread ${record.thread}, and this graph has no such node. Resume it with the graph that paused it.`,
      { details: { field: 'graph', thread: record.thread, node: record.node } },
    );
  const thread = { configurable: { thread_id: record.thread } };
  const state = await graph.getState(thread);
  if (state.createdAt === undefined)
    throw new BatonError(
      ErrorCode.VALIDATION,
      `resumeHandoff: this graph has no thread ${record.thread}, which paused on handoff ${id}. Resume it with the graph (and checkpointer) that paused it.`,
      { details: { field: 'graph', thread: record.thread } },
    );
  const waiting = pendingInterrupt(state, id);
  if (!waiting) {
    if (record.resumedAt !== undefined || record.claim !== undefined)
      return { resumed: false, threadId: record.thread, response };
    throw new BatonError(
      ErrorCode.VALIDATION,
      `resumeHandoff: thread ${record.thread} of this graph is not waiting on handoff ${id}. Resume it with the graph that paused it.`,
      { details: { field: 'graph', thread: record.thread } },
    );
  }
  if (record.claim && !o.takeOver && !claimerGone(record.claim)) throw busy(id, record.claim);

  // Claim the resume: one process wins the compare-and-set, the others are refused.
  const { claim: _old, resumedAt: _done, ...unclaimed } = record;
  const claim: ResumeClaim = {
    id: keyOf([id, new Date().toISOString(), Math.random()]),
    at: new Date().toISOString(),
    ...whereAmI(),
  };
  const claimed: HumanRecord = { ...unclaimed, claim };
  try {
    await kv.batch([{ key: recordKey, value: claimed as unknown as JsonValue }], {
      expect: [{ key: recordKey, value: stored }],
    });
  } catch (err) {
    if (!isBatonError(err, ErrorCode.CONFLICT)) throw err;
    const now = (await kv.get(recordKey)) as unknown as HumanRecord | undefined;
    throw busy(id, now?.claim);
  }
  ownClaims.add(claim.id);
  const base = (o.config ?? {}) as RunnableConfig;
  const config: RunnableConfig = {
    ...base,
    configurable: {
      ...(base.configurable ?? {}),
      thread_id: record.thread,
      baton: {
        workspace: run.workspace,
        agent: run.agent,
        ...(run.signer ? { signer: run.signer } : {}),
      },
    },
  };
  let result: unknown;
  try {
    try {
      result = await graph.invoke(new Command({ resume: { [waiting]: [response] } }), config);
    } catch (err) {
      // The thread did not move on: release the claim, so the resume can be retried.
      await kv
        .batch([{ key: recordKey, value: unclaimed as unknown as JsonValue }], {
          expect: [{ key: recordKey, value: claimed as unknown as JsonValue }],
        })
        .catch(() => undefined);
      throw err;
    }
    const done: HumanRecord = { ...claimed, resumedAt: new Date().toISOString() };
    await kv.put(recordKey, done as unknown as JsonValue);
  } finally {
    ownClaims.delete(claim.id);
  }
  return { resumed: true, threadId: record.thread, response, result };
}

/** The refusal of a resume another process is running. */
function busy(id: string, claim: ResumeClaim | undefined): BatonError {
  const who = claim
    ? ` (pid ${claim.pid ?? '?'} on ${claim.host ?? 'an unknown host'}, since ${claim.at})`
    : '';
  return new BatonError(
    ErrorCode.CONFLICT,
    `resumeHandoff: another process is resuming handoff ${id} right now${who}. Call resumeHandoff again once it finished (it returns { resumed: false } then); if that process died on another host, pass { takeOver: true }.`,
    { details: { handoff: id, ...(claim ? { claimedAt: claim.at } : {}) } },
  );
}

/** The id of the interrupt in `state` that waits on handoff `id`, if any. */
function pendingInterrupt(state: StateSnapshot, id: string): string | undefined {
  for (const task of state.tasks) {
    for (const i of task.interrupts) {
      const values = Array.isArray(i.value) ? i.value : [i.value];
      if (values.some((v) => (v as Partial<BatonHumanInterrupt> | null)?.baton?.handoff === id))
        return i.id;
    }
  }
  return undefined;
}

/** Options of {@link answerHandoff}. */
export interface AnswerHandoffOptions {
  /**
   * With an `accept` or `edit` of an approval: also grant the requester the action on the
   * resource without the approval rule — "allow from now on" — as the deciding person's own
   * act. Needs `grant` and the action on the resource. Defaults to `false`.
   */
  allowFromNowOn?: boolean;
}

const answerSchema = z.object({ allowFromNowOn: z.boolean().optional() });

/**
 * The person's side, for UIs built on the Agent Inbox schema: decides handoff `handoffId`
 * (asked by {@link requestHuman}) from a LangGraph `HumanResponse`, as `actor` (the person).
 *
 * @remarks
 * For an approval: `accept` approves, `edit` approves with `args.args` as the edited payload,
 * `response` denies with the text as the note, `ignore` denies. For a question the response
 * is the answer. With `allowFromNowOn`, an accepted approval also grants the requester the
 * action without approval from now on (DESIGN §7, "move the slider").
 *
 * @returns The handoff as decided.
 * @throws BatonError `VALIDATION` for a malformed response; what `handoffs.approve`, `deny`
 *   or `answer` throw (`FORBIDDEN` for someone who may not decide it, `INVALID_STATE` once
 *   decided).
 */
export async function answerHandoff(
  actor: Actor,
  handoffId: string,
  response: HumanResponse,
  options: AnswerHandoffOptions = {},
): Promise<Handoff> {
  const id = parseInput(handoffIdSchema, handoffId, 'answerHandoff(handoffId)');
  const r = parseInput(humanResponse, response, 'answerHandoff(response)');
  const o = parseInput(answerSchema, options, 'answerHandoff');
  const h = await actor.handoffs.get(id);
  if (h.kind === 'question') {
    if (o.allowFromNowOn)
      throw new BatonError(
        ErrorCode.VALIDATION,
        'answerHandoff: `allowFromNowOn` applies to approvals, not questions.',
        { details: { field: 'allowFromNowOn' } },
      );
    return actor.handoffs.answer(id, r as unknown as JsonValue);
  }
  if (h.kind !== 'approval' || !h.approval)
    throw new BatonError(
      ErrorCode.VALIDATION,
      `answerHandoff: ${id} is a ${h.kind} handoff; only approvals and questions take a HumanResponse.`,
      { details: { field: 'handoffId' } },
    );
  if (r.type === 'edit' && (r.args === null || typeof r.args !== 'object'))
    throw new BatonError(
      ErrorCode.VALIDATION,
      'answerHandoff: an `edit` response carries the edited request as `args: { action, args }`.',
      { details: { field: 'response.args' } },
    );
  const yes = r.type === 'accept' || r.type === 'edit';
  if (o.allowFromNowOn && !yes)
    throw new BatonError(
      ErrorCode.VALIDATION,
      'answerHandoff: `allowFromNowOn` goes with an `accept` or `edit`, not a refusal.',
      { details: { field: 'allowFromNowOn' } },
    );
  if (!yes) {
    const note = r.type === 'response' && typeof r.args === 'string' ? r.args : undefined;
    const [denied] = await actor.handoffs.deny(id, note !== undefined ? { note } : {});
    return denied!;
  }
  if (o.allowFromNowOn) {
    if (h.status !== 'offered' || !h.to.includes(actor.id))
      throw new BatonError(
        ErrorCode.INVALID_STATE,
        `answerHandoff: approval ${id} is ${h.status} and not waiting on ${actor.id}.`,
      );
    await actor.capabilities.grant({
      to: h.from,
      resource: h.approval.resource,
      actions: [h.approval.action],
    });
  }
  const edited =
    r.type === 'edit' ? ((r.args as { args: JsonValue }).args ?? undefined) : undefined;
  const [approved] = await actor.handoffs.approve(
    id,
    edited !== undefined ? { payload: edited } : {},
  );
  return approved!;
}

/**
 * The requests a paused run waits on: the {@link BatonHumanInterrupt}s in what `graph.invoke`
 * returned (its `__interrupt__`), each naming its handoff. Empty when the run did not pause
 * on {@link requestHuman}.
 *
 * @example
 * ```ts
 * const [waiting] = humanInterrupts(await graph.invoke(input, config));
 * console.log(`waiting on handoff ${waiting.baton.handoff}`);
 * ```
 */
export function humanInterrupts(result: unknown): BatonHumanInterrupt[] {
  const list = (result as { __interrupt__?: unknown } | null | undefined)?.__interrupt__;
  if (!Array.isArray(list)) return [];
  const out: BatonHumanInterrupt[] = [];
  for (const i of list) {
    const value = (i as { value?: unknown } | null)?.value;
    for (const v of Array.isArray(value) ? value : [value]) {
      const h = (v as Partial<BatonHumanInterrupt> | null)?.baton?.handoff;
      if (typeof h === 'string') out.push(v as BatonHumanInterrupt);
    }
  }
  return out;
}
