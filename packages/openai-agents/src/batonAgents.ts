import {
  type Actor,
  BatonError,
  canonicalJson,
  ErrorCode,
  type Handoff,
  isBatonError,
  type JsonValue,
  type KvValue,
  parseInput,
  sha256b64,
  type Workspace,
} from '@baton/core';
import {
  type Agent,
  type AgentInputItem,
  type RunConfig,
  Runner,
  RunState,
  type RunToolApprovalItem,
  type Session,
  tool,
} from '@openai/agents-core';
import { z } from 'zod';
import { RunRecorder } from './runRecorder.js';
import type { AnyAgent, AnyFunctionTool, AnyRunResult, AnyRunState } from './sdkTypes.js';

/** Options of {@link BatonAgents}. */
export interface BatonAgentsOptions {
  /**
   * The workspace the agents act in. Its keyring must hold the agents' keys (e.g. a key
   * directory holding only theirs), so each agent signs as itself.
   */
  workspace: Workspace;
  /** SDK agent name → the Baton identity id it acts as. */
  agents: Record<string, string>;
  /** Defaults for every run's SDK `Runner` (model provider, tracing…). Defaults to `{}`. */
  runConfig?: Partial<RunConfig>;
}

/** Options of {@link BatonAgents.tool}. */
export interface BatonToolOptions<P extends z.ZodObject> {
  /** The SDK agent whose tool this is: it acts, is checked and signs as that agent's identity. */
  agent: string;
  name: string;
  description: string;
  parameters: P;
  /** The capability action the call needs (e.g. `'publish'`). */
  action: string;
  /** The resource it acts on (e.g. `'artifact:*'`, `'site:blog'`). */
  resource: string;
  /** The side effect, run only once the call is authorized (and, if gated, approved). */
  execute: (input: z.infer<P>, call: BatonToolCall) => unknown | Promise<unknown>;
}

/** What a Baton tool's `execute` receives besides its input. */
export interface BatonToolCall {
  /** The acting agent's actor (its identity, in the run's session). */
  actor: Actor;
  /** The SDK tool call id. */
  callId: string | undefined;
  /** The approval this call consumed, when it needed one. */
  approval?: string;
}

/** Options of {@link BatonAgents.askTool}. */
export interface AskToolOptions {
  /** The SDK agent that asks. */
  agent: string;
  /** Who answers: an identity id. */
  to: string;
  /** The tool's name. Defaults to `'ask_person'`. */
  name?: string;
  /** Defaults to a sentence telling the model to ask a person a question. */
  description?: string;
}

/** Options of {@link BatonAgents.run}. */
export interface BatonRunOptions {
  /** The conversation (e.g. a {@link BatonSession}). Defaults to none. */
  session?: Session;
  /** The Baton session events are recorded in. Defaults to the session's id, else the run id. */
  batonSession?: string;
  /** Defaults to a new random id. */
  runId?: string;
  /** Defaults to the SDK's. */
  maxTurns?: number;
}

/** Options of {@link BatonAgents.resumeHandoff}. */
export interface ResumeHandoffOptions {
  /** The decided approval or answered question handoff the run paused on. */
  handoffId: string;
  /** The run's starting agent (the same agent graph that paused). */
  agent: AnyAgent;
  /** The conversation, when the run had one. Defaults to none. */
  session?: Session;
  /** Defaults to the SDK's. */
  maxTurns?: number;
}

/** What {@link BatonAgents.run} and {@link BatonAgents.resumeHandoff} return. */
export interface BatonRunResult {
  runId: string;
  /** The SDK's result. */
  result: AnyRunResult;
  /** The approval and question handoffs the run now waits on (empty when it finished). */
  handoffs: Handoff[];
}

const KV = 'openai-agents/';
const DEFAULT_REJECTION = 'The person rejected this tool call.';
const idLike = z.string().min(1).max(200);

const optionsSchema = z.object({
  workspace: z.custom<Workspace>(
    (w) => typeof w === 'object' && w !== null && typeof (w as Workspace).as === 'function',
    'must be an open Baton Workspace',
  ),
  agents: z
    .record(idLike, idLike)
    .refine((r) => Object.keys(r).length > 0, 'must map at least one agent'),
  runConfig: z.record(z.string(), z.unknown()).optional(),
});
const runSchema = z.object({
  session: z.custom<Session>((s) => typeof (s as Session)?.getSessionId === 'function').optional(),
  batonSession: idLike.optional(),
  runId: idLike.regex(/^[A-Za-z0-9_.:-]+$/, 'may hold letters, digits and _ . : - only').optional(),
  maxTurns: z.number().int().positive().optional(),
});
const resumeSchema = z.object({
  handoffId: idLike,
  agent: z.custom<Agent>((a) => typeof (a as Agent)?.name === 'string', 'must be an SDK Agent'),
  session: z.custom<Session>((s) => typeof (s as Session)?.getSessionId === 'function').optional(),
  maxTurns: z.number().int().positive().optional(),
});
const toolName = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1–64 letters, digits, _ or - (the model API’s rule)');
const toolSchema = z.object({
  agent: idLike,
  name: toolName,
  description: z.string().min(1).max(4_000),
  parameters: z.custom<z.ZodObject>(
    (p) => p instanceof z.ZodObject,
    'must be a zod object schema, e.g. z.object({ title: z.string() })',
  ),
  action: idLike,
  resource: idLike,
  execute: z.custom<(...a: unknown[]) => unknown>(
    (f) => typeof f === 'function',
    'must be a function (input, call) => result',
  ),
});
const askToolSchema = z.object({
  agent: idLike,
  to: idLike,
  name: toolName.optional(),
  description: z.string().min(1).max(4_000).optional(),
});
const askInput = z.object({
  question: z.string().min(1).max(4_000).describe('The question, in full'),
});

/** The paused run, as kept in the kv area. */
interface RunRecord {
  [k: string]: JsonValue;
  state: string;
  graph: string;
  agent: string;
  batonSession: string;
  /** `paused` (waiting on its handoffs), `resuming` (a process took it), `done`. */
  status: 'paused' | 'resuming' | 'done';
  /** Tool call id → handoff id. */
  calls: Record<string, string>;
  /** Bumped by every change: what a resume's compare-and-set expects. */
  rev: number;
}

interface Gate {
  kind: 'approval' | 'question';
  action?: string;
  resource?: string;
  to?: string;
  /** A gated tool's input schema: what an approver's edited arguments must satisfy. */
  parameters?: z.ZodType;
}

/** An approved call whose approver edited the payload: what the tool then runs with. */
interface Edit {
  payload: JsonValue;
  input: unknown;
}

/**
 * The OpenAI Agents SDK, with each SDK agent acting as its own Baton identity: gated tools,
 * approvals and questions that survive the process as Baton handoffs, SDK handoffs recorded
 * between identities, and tool calls and token usage in the ContextLog.
 *
 * @example
 * ```ts
 * const baton = new BatonAgents({ workspace: ws, agents: { writer: writerId } });
 * const publish = baton.tool({ agent: 'writer', name: 'publish', description: 'Publish the post',
 *   parameters: z.object({ title: z.string() }), action: 'publish', resource: 'site:blog',
 *   execute: ({ title }) => site.publish(title) });
 * const paused = await baton.run(new Agent({ name: 'writer', tools: [publish] }), 'Publish it');
 * // …a person approves paused.handoffs[0] (baton approve <id>); later, any process:
 * await baton.resumeHandoff({ handoffId: paused.handoffs[0].id, agent });
 * ```
 */
export class BatonAgents {
  readonly #ws: Workspace;
  readonly #agents: Map<string, string>;
  readonly #runConfig: Partial<RunConfig>;
  /** Gated tools and ask tools, by `<agent>\u0000<tool>`. */
  readonly #gates = new Map<string, Gate>();
  /** Live runs' recorders and ids, by the SDK run context they run in. */
  readonly #runs = new WeakMap<
    object,
    { recorder: RunRecorder; runId: string; session: string; edits: Map<string, Edit> }
  >();
  /** Call ids a Baton tool refused (nothing was written for them). */
  readonly refused = new Set<string>();

  constructor(options: BatonAgentsOptions) {
    const o = parseInput(optionsSchema, options, 'new BatonAgents');
    this.#ws = o.workspace;
    this.#agents = new Map(Object.entries(o.agents));
    this.#runConfig = (o.runConfig ?? {}) as Partial<RunConfig>;
  }

  /** The Baton identity id SDK agent `agentName` acts as. */
  identityOf(agentName: string): string {
    const id = this.#agents.get(agentName);
    if (!id)
      throw new BatonError(
        ErrorCode.VALIDATION,
        `SDK agent "${agentName}" has no Baton identity. Add it to BatonAgents' \`agents\` (agent name → identity id).`,
        { details: { field: 'agents', agent: agentName } },
      );
    return id;
  }

  /** An actor for SDK agent `agentName`, optionally in a session. */
  actorFor(agentName: string, session?: string): Actor {
    return this.#ws.as(this.identityOf(agentName), session === undefined ? {} : { session });
  }

  /**
   * A function tool of `agent` whose availability follows that agent's grants: enabled and
   * run directly when a grant allows `action` on `resource`; enabled but needing an approval
   * when the grant `requiresApproval` for it; disabled (the model never sees it) without one.
   *
   * @remarks
   * Its execute always passes `actor.authorize(action, resource, { payload })` first, with the
   * payload `{ tool, callId, arguments }` the approval was bound to — so a forced call from an
   * agent without a grant is refused (nothing written, the model told why), an approval is
   * used exactly once and only for the call's exact arguments.
   */
  tool<P extends z.ZodObject>(options: BatonToolOptions<P>): AnyFunctionTool<P> {
    parseInput(toolSchema, options, 'BatonAgents.tool');
    const o = options;
    this.identityOf(o.agent);
    this.#gates.set(gateKey(o.agent, o.name), {
      kind: 'approval',
      action: o.action,
      resource: o.resource,
      parameters: o.parameters,
    });
    const decide = () => this.actorFor(o.agent).can(o.action, o.resource);
    return tool({
      name: o.name,
      description: o.description,
      parameters: o.parameters as never,
      // A tool acts as the agent it was made for: in another agent's hands it stays hidden.
      isEnabled: async ({ agent }) => {
        if (agent.name !== o.agent) return false;
        const d = await decide();
        return d.allowed || d.approval !== undefined;
      },
      needsApproval: async () => {
        const d = await decide();
        return !d.allowed && d.approval !== undefined;
      },
      errorFunction: (_ctx, err) =>
        isBatonError(err) ? `Refused: ${err.message}` : `An error occurred: ${String(err)}`,
      execute: async (input, ctx, details) => {
        const call = details?.toolCall;
        const run = ctx ? this.#runs.get(ctx) : undefined;
        const actor = this.actorFor(o.agent, run?.session);
        // An approver who edited the payload approved exactly that: the call runs with it.
        const edit = call?.callId ? run?.edits.get(call.callId) : undefined;
        let approval: string | undefined;
        try {
          const auth = await actor.authorize(o.action, o.resource, {
            summary: `${o.agent} calls ${o.name}`,
            payload: edit?.payload ?? callPayload(o.name, call?.callId, call?.arguments),
          });
          approval = auth.approval;
        } catch (err) {
          if (call?.callId) this.refused.add(call.callId);
          throw err;
        }
        return o.execute((edit ? edit.input : input) as z.infer<P>, {
          actor,
          callId: call?.callId,
          approval,
        });
      },
    }) as AnyFunctionTool<P>;
  }

  /**
   * A tool with which `agent` asks a person a question: the run pauses on a Baton question
   * handoff to `to`; once they answer (`baton answer <id> …`), {@link BatonAgents.resumeHandoff}
   * continues the run and the model receives the answer as the tool's result.
   */
  askTool(options: AskToolOptions): AnyFunctionTool<typeof askInput, string> {
    parseInput(askToolSchema, options, 'BatonAgents.askTool');
    const o = options;
    this.identityOf(o.agent);
    const name = o.name ?? 'ask_person';
    this.#gates.set(gateKey(o.agent, name), { kind: 'question', to: o.to });
    return tool({
      name,
      description:
        o.description ??
        'Ask a person a question and wait for the answer. Use it when you need a decision or a fact only they have.',
      parameters: askInput,
      isEnabled: ({ agent }) => agent.name === o.agent,
      needsApproval: true,
      execute: async (_input, ctx, details) => {
        const run = ctx ? this.#runs.get(ctx) : undefined;
        const callId = details?.toolCall?.callId;
        const record = run ? await this.#record(run.runId) : undefined;
        const hid = callId ? record?.calls[callId] : undefined;
        if (!hid)
          throw new BatonError(
            ErrorCode.INVALID_STATE,
            `${name} has no answered question for this call: run it through BatonAgents.run and resume with resumeHandoff once the person answers.`,
          );
        const h = await this.actorFor(o.agent).handoffs.get(hid);
        const v = h.answer?.value;
        return typeof v === 'string' ? v : JSON.stringify(v ?? null);
      },
    }) as AnyFunctionTool<typeof askInput, string>;
  }

  /**
   * Instructions for an agent that receives SDK handoffs: `base`, followed by the briefing of
   * the Baton handoff that brought the conversation to it (when one did).
   */
  instructions(base: string): (ctx: unknown, agent: AnyAgent) => Promise<string> {
    return async (ctx, agent) => {
      const run = this.#runs.get(ctx as object);
      if (!run) return base;
      await run.recorder.settled();
      const b = run.recorder.briefings.get(agent.name);
      return b
        ? `${base}\n\n## Briefing from the handoff\n\n${b.toMarkdown({ maxTokens: 1_500 })}`
        : base;
    };
  }

  /**
   * Runs `agent` on `input` as its Baton identities. When the run stops on interruptions,
   * each becomes an approval handoff (gated tools) or a question handoff (ask tools), and the
   * serialized `RunState` is kept with them in the kv area; resume with
   * {@link BatonAgents.resumeHandoff}. Every ContextLog write is flushed before it settles.
   */
  async run(
    agent: AnyAgent,
    input: string | AgentInputItem[],
    options?: BatonRunOptions,
  ): Promise<BatonRunResult> {
    const o = parseInput(runSchema, options ?? {}, 'BatonAgents.run');
    this.identityOf(agent.name);
    const runId = o.runId ?? `run_${crypto.randomUUID()}`;
    if ((await this.#ws.store.kv.get(`${KV}run/${runId}`)) !== undefined)
      throw new BatonError(
        ErrorCode.INVALID_STATE,
        `Run ${runId} exists already. Resume it with resumeHandoff, or start a new run id.`,
        { details: { field: 'runId' } },
      );
    const session = o.batonSession ?? (o.session ? await o.session.getSessionId() : runId);
    return this.#drive(agent, input, {
      runId,
      session,
      sdkSession: o.session,
      maxTurns: o.maxTurns,
    });
  }

  /**
   * Continues a run that paused on `handoffId` once the person decided it: restores the kept
   * `RunState` (`RunState.fromString`), applies each decided approval (approve, or reject with
   * the person's note, which the model receives) or answered question, and runs on — from any
   * process. A gated tool runs exactly once: its approval is consumed when it runs.
   *
   * @throws `BatonError`: `NOT_FOUND` (no paused run waits on the id), `INVALID_STATE` (not
   *   decided yet, or already resumed — by another process too: only one resume wins),
   *   `VALIDATION` (the kept state is corrupted or belongs to another agent graph, or the
   *   approver's edited payload does not fit the tool). Nothing is changed when it throws.
   */
  async resumeHandoff(options: ResumeHandoffOptions): Promise<BatonRunResult> {
    const o = parseInput(resumeSchema, options, 'BatonAgents.resumeHandoff');
    const link = (await this.#ws.store.kv.get(`${KV}handoff/${o.handoffId}`)) as
      | { run: string }
      | undefined;
    if (!link)
      throw new BatonError(
        ErrorCode.NOT_FOUND,
        `No paused run waits on handoff ${o.handoffId}. Pass the id of an approval or question handoff a BatonAgents run created (see its result's handoffs).`,
        { details: { field: 'handoffId' } },
      );
    const runId = link.run;
    const record = await this.#record(runId);
    if (!record)
      throw new BatonError(
        ErrorCode.NOT_FOUND,
        `The run ${runId} behind handoff ${o.handoffId} is gone.`,
      );
    if (record.status !== 'paused')
      throw new BatonError(
        ErrorCode.INVALID_STATE,
        record.status === 'resuming'
          ? `The run behind handoff ${o.handoffId} was already taken by another resume, which is running it. Nothing to do; if that process died, the run cannot be taken over (nothing runs twice): start a new run.`
          : `The run behind handoff ${o.handoffId} was already resumed. Nothing to do.`,
        { details: { status: record.status } },
      );
    if (graphDigest(o.agent) !== record.graph)
      throw new BatonError(
        ErrorCode.VALIDATION,
        `The run behind handoff ${o.handoffId} was paused with another agent graph than "${o.agent.name}" (its agents, tools or handoffs differ). Resume it with the same starting agent it ran with.`,
        { details: { field: 'agent' } },
      );
    const state = await this.restoreState(o.agent, record.state);
    const decisions: [RunToolApprovalItem, Handoff][] = [];
    const edits = new Map<string, Edit>();
    for (const item of state.getInterruptions()) {
      const callId = callIdOfItem(item);
      const hid = callId ? record.calls[callId] : undefined;
      if (!callId || !hid) continue;
      const h = await this.actorFor(item.agent.name).handoffs.get(hid);
      if (
        h.status === 'approved' ||
        h.status === 'denied' ||
        h.status === 'answered' ||
        h.status === 'expired'
      )
        decisions.push([item, h]);
      if (h.status === 'approved' && h.approvedPayload !== undefined)
        edits.set(callId, this.#edit(item, callId, h));
    }
    if (!decisions.some(([, h]) => h.id === o.handoffId))
      throw new BatonError(
        ErrorCode.INVALID_STATE,
        `Handoff ${o.handoffId} is not decided yet. Approve or deny it (baton approve|deny, or answer a question), then resume.`,
        { details: { field: 'handoffId' } },
      );
    // Take the run: a compare-and-set on its record, so of two racing resumes exactly one wins.
    const taken: RunRecord = { ...record, status: 'resuming', rev: record.rev + 1 };
    try {
      await this.#ws.store.kv.batch([{ key: `${KV}run/${runId}`, value: taken }], {
        expect: [{ key: `${KV}run/${runId}`, value: record }],
      });
    } catch (err) {
      if (isBatonError(err) && err.code === ErrorCode.CONFLICT)
        throw new BatonError(
          ErrorCode.INVALID_STATE,
          `Another process resumed the run behind handoff ${o.handoffId} first. Nothing to do here.`,
          { cause: err },
        );
      throw err;
    }
    for (const [item, h] of decisions) {
      if (h.status === 'approved' || h.status === 'answered') {
        const gate = this.#gates.get(gateKey(item.agent.name, item.name ?? ''));
        const always =
          gate?.kind === 'approval' &&
          (await this.actorFor(item.agent.name).can(gate.action!, gate.resource!)).allowed;
        state.approve(item, { alwaysApprove: always });
      } else {
        state.reject(item, { message: h.decisionNoteText ?? DEFAULT_REJECTION });
      }
    }
    return this.#drive(o.agent, state, {
      runId,
      session: record.batonSession,
      sdkSession: o.session,
      maxTurns: o.maxTurns,
      previous: taken,
      edits,
      baseline: { input: state.usage.inputTokens, output: state.usage.outputTokens },
    });
  }

  /**
   * `RunState.fromString(agent, text)`, with a `BatonError` `VALIDATION` saying what to do when
   * the text is corrupted or was made by another agent graph.
   */
  async restoreState(agent: AnyAgent, text: string): Promise<AnyRunState> {
    parseInput(z.string().min(1), text, 'restoreState(text)');
    try {
      return await RunState.fromString(agent, text);
    } catch (err) {
      throw new BatonError(
        ErrorCode.VALIDATION,
        `The kept RunState cannot be restored for agent "${agent.name}": ${err instanceof Error ? err.message : String(err)}. It is corrupted or belongs to another agent graph; start a new run.`,
        { cause: err, details: { field: 'state' } },
      );
    }
  }

  /**
   * The edited payload an approver approved for `item`'s call, checked before the run is
   * taken: it must keep the tool and call id and give arguments the tool accepts.
   */
  #edit(item: RunToolApprovalItem, callId: string, h: Handoff): Edit {
    const gate = this.#gates.get(gateKey(item.agent.name, item.name ?? ''));
    const p = h.approvedPayload as { tool?: unknown; callId?: unknown; arguments?: unknown };
    const fail = (why: string) =>
      new BatonError(
        ErrorCode.VALIDATION,
        `Approval ${h.id} was approved with an edited payload that ${why}. An edited payload must be { tool: ${JSON.stringify(item.name)}, callId: ${JSON.stringify(callId)}, arguments } with arguments the tool accepts (approveHandoff(person, id, { arguments }) builds it). Nothing was run; start a new run for this request.`,
        { details: { field: 'approvedPayload', handoffId: h.id } },
      );
    if (gate?.kind !== 'approval' || !gate.parameters)
      throw fail('belongs to no Baton tool of this agent graph');
    if (typeof p !== 'object' || p === null || Array.isArray(p)) throw fail('is not an object');
    if (p.tool !== item.name || p.callId !== callId) throw fail('names another tool or tool call');
    const parsed = gate.parameters.safeParse(p.arguments);
    if (!parsed.success) throw fail(`has arguments the tool refuses (${parsed.error.message})`);
    return { payload: h.approvedPayload as JsonValue, input: parsed.data };
  }

  async #record(runId: string): Promise<RunRecord | undefined> {
    return (await this.#ws.store.kv.get(`${KV}run/${runId}`)) as RunRecord | undefined;
  }

  async #drive(
    agent: AnyAgent,
    input: string | AgentInputItem[] | AnyRunState,
    c: {
      runId: string;
      session: string;
      sdkSession?: Session;
      maxTurns?: number;
      previous?: RunRecord;
      baseline?: { input: number; output: number };
      edits?: Map<string, Edit>;
    },
  ): Promise<BatonRunResult> {
    const runner = new Runner(this.#runConfig);
    const startName = input instanceof RunState ? currentAgentName(input, agent) : agent.name;
    const recorder = new RunRecorder(
      this,
      c.session,
      c.baseline ?? { input: 0, output: 0 },
      startName,
    );
    recorder.attach(runner);
    const runInfo = { recorder, runId: c.runId, session: c.session, edits: c.edits ?? new Map() };
    runner.on('agent_start', (ctx) => this.#runs.set(ctx, runInfo));
    runner.on('agent_tool_start', (ctx) => this.#runs.set(ctx, runInfo));
    let result: AnyRunResult;
    try {
      result = (await runner.run(agent, input as never, {
        session: c.sdkSession,
        maxTurns: c.maxTurns,
      })) as AnyRunResult;
    } catch (err) {
      await recorder.flush().catch(() => undefined);
      if (c.previous)
        await this.#putRecord(
          c.runId,
          { ...c.previous, status: 'paused', rev: c.previous.rev + 1 },
          c.previous,
        );
      throw err;
    }
    // The paused state is saved even when recording failed, so no decision is ever lost.
    const recorded = await recorder.flush().then(
      () => undefined,
      (err: unknown) => err,
    );
    const handoffs: Handoff[] = [];
    const calls: Record<string, string> = {};
    for (const item of result.interruptions ?? []) {
      const h = await this.#raise(item, c.session);
      handoffs.push(h);
      const callId = callIdOfItem(item);
      if (callId) calls[callId] = h.id;
    }
    const status = handoffs.length > 0 ? 'paused' : 'done';
    const record: RunRecord = {
      state: status === 'paused' ? result.state.toString() : '',
      graph: graphDigest(agent),
      agent: agent.name,
      batonSession: c.session,
      status,
      calls,
      rev: (c.previous?.rev ?? 0) + 1,
    };
    await this.#putRecord(c.runId, record, c.previous, handoffs);
    if (recorded !== undefined)
      throw new BatonError(
        ErrorCode.FORBIDDEN,
        `Run ${c.runId} ${status === 'paused' ? 'paused (its handoffs are saved)' : 'finished'}, but recording its tool calls, handoffs or usage failed: ${recorded instanceof Error ? recorded.message : String(recorded)}. Grant the agents comment and handoff on workspace.`,
        { cause: recorded, details: { runId: c.runId, handoffs: handoffs.map((h) => h.id) } },
      );
    return { runId: c.runId, result, handoffs };
  }

  async #putRecord(
    runId: string,
    record: RunRecord,
    previous?: RunRecord,
    handoffs: Handoff[] = [],
  ) {
    const writes: { key: string; value?: KvValue }[] = [
      { key: `${KV}run/${runId}`, value: record },
    ];
    for (const h of handoffs) writes.push({ key: `${KV}handoff/${h.id}`, value: { run: runId } });
    await this.#ws.store.kv.batch(writes, {
      expect: [{ key: `${KV}run/${runId}`, value: previous }],
    });
  }

  /** The handoff an interruption becomes: an approval request, or a question. */
  async #raise(item: RunToolApprovalItem, session: string): Promise<Handoff> {
    const name = item.name ?? '';
    const gate = this.#gates.get(gateKey(item.agent.name, name));
    const actor = this.actorFor(item.agent.name, session);
    const raw = item.rawItem as { callId?: string; arguments?: string };
    if (gate?.kind === 'question') {
      const args = parseArgs(raw.arguments) as { question?: string };
      return actor.handoffs.ask({
        to: gate.to!,
        question: String(args.question ?? raw.arguments ?? ''),
      });
    }
    if (!gate)
      throw new BatonError(
        ErrorCode.VALIDATION,
        `Tool "${name}" of agent "${item.agent.name}" needs approval but is not a Baton tool. Make it with BatonAgents.tool(...) so its approval can become a Baton handoff.`,
        { details: { field: 'tools', tool: name } },
      );
    return actor.handoffs.requestApproval({
      action: gate.action!,
      resource: gate.resource!,
      summary: `${item.agent.name} wants to call ${name} with ${truncate(raw.arguments ?? '', 500)}`,
      payload: callPayload(name, raw.callId, raw.arguments),
    });
  }
}

/** Moves the autonomy slider while approving: see {@link approveHandoff}. */
export interface ApproveHandoffOptions {
  /** For the requester. Defaults to none. */
  note?: string;
  /**
   * Approve the call with these arguments instead of the ones the model gave: the approval
   * binds them (core's edited payload), and when the run resumes the tool runs with exactly
   * these arguments — which must satisfy the tool's parameters, else the resume refuses.
   * Defaults to the requested arguments.
   */
  arguments?: JsonValue;
  /**
   * "Always allow": also grant the requester the action on the resource without the approval
   * rule, as the approver's own act. Defaults to `false`.
   */
  always?: boolean;
}

/**
 * A person approves an approval handoff a run paused on — optionally moving the autonomy
 * slider: with `always`, they also grant the requesting agent the same action on the same
 * resource without `requiresApproval`, signed as their own act, so the SDK's `alwaysApprove`
 * applies when the run resumes and later calls need no approval. With `arguments`, they approve
 * the call with other arguments: the approval binds `{ tool, callId, arguments }` (core's edited
 * payload) and the resumed tool runs with exactly those.
 *
 * @throws `BatonError` `VALIDATION` for bad options or `arguments` on a handoff that is no
 *   BatonAgents tool call, `INVALID_STATE` when it is no approval request or was decided
 *   already, `NOT_FOUND` for an unknown id; nothing is written then.
 */
export async function approveHandoff(
  person: Actor,
  handoffId: string,
  options?: ApproveHandoffOptions,
): Promise<Handoff> {
  const o = parseInput(
    z.object({
      note: z.string().max(4_000).optional(),
      always: z.boolean().optional(),
      arguments: z.json().optional(),
    }),
    options ?? {},
    'approveHandoff',
  );
  const h = await person.handoffs.get(handoffId);
  if (h.kind !== 'approval' || !h.approval)
    throw new BatonError(ErrorCode.INVALID_STATE, `${handoffId} is not an approval request.`, {
      details: { field: 'handoffId' },
    });
  if (o.always) {
    // Checked first, so that a slider the person may not move leaves the approval undecided.
    const { action, resource } = h.approval;
    for (const need of ['grant', action]) {
      const d = await person.can(need, resource);
      if (!d.allowed)
        throw new BatonError(
          ErrorCode.FORBIDDEN,
          `approveHandoff: ${person.id} may not grant ${action} on ${resource} (${d.reason}), so "always" cannot move the slider. Approve without \`always\`, or ask the owner for grant and ${action} on ${resource}.`,
          { details: { field: 'always' } },
        );
    }
  }
  const decision: { note?: string; payload?: JsonValue } = {};
  if (o.note !== undefined) decision.note = o.note;
  if (o.arguments !== undefined) {
    const asked = h.requestedPayload as { tool?: JsonValue; callId?: JsonValue } | undefined;
    if (typeof asked?.tool !== 'string')
      throw new BatonError(
        ErrorCode.VALIDATION,
        `approveHandoff: ${handoffId} is not a tool call of a BatonAgents run, so its arguments cannot be edited. Approve it without \`arguments\`.`,
        { details: { field: 'arguments' } },
      );
    decision.payload = {
      tool: asked.tool,
      callId: asked.callId ?? null,
      arguments: o.arguments as JsonValue,
    };
  }
  const [done] = await person.handoffs.approve(handoffId, decision);
  if (o.always)
    await person.capabilities.grant({
      to: h.from,
      resource: h.approval.resource,
      actions: [h.approval.action],
    });
  return done!;
}

function gateKey(agent: string, toolName: string): string {
  return `${agent}\u0000${toolName}`;
}

function parseArgs(args: unknown): JsonValue {
  if (typeof args !== 'string') return (args ?? null) as JsonValue;
  try {
    return JSON.parse(args) as JsonValue;
  } catch {
    return args;
  }
}

/** What an approval binds: the tool, the exact call and its exact arguments. */
function callPayload(name: string, callId: string | undefined, args: unknown): JsonValue {
  return { tool: name, callId: callId ?? null, arguments: parseArgs(args) };
}

function callIdOfItem(item: RunToolApprovalItem): string | undefined {
  const id = (item.rawItem as { callId?: unknown }).callId;
  return typeof id === 'string' ? id : undefined;
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

function currentAgentName(state: AnyRunState, fallback: AnyAgent): string {
  const interrupted = state.getInterruptions()[0];
  return interrupted?.agent.name ?? fallback.name;
}

/** A digest of the agent graph: every reachable agent's name, tools and handoff targets. */
export function graphDigest(start: AnyAgent): string {
  const seen = new Map<string, JsonValue>();
  const visit = (a: AnyAgent) => {
    if (seen.has(a.name)) return;
    const targets = (a.handoffs ?? []).map((h) =>
      'agent' in h && h.agent ? (h.agent as AnyAgent) : (h as AnyAgent),
    );
    seen.set(a.name, {
      tools: (a.tools ?? []).map((t) => t.name).sort(),
      handoffs: targets.map((t) => t.name).sort(),
    });
    for (const t of targets) visit(t);
  };
  visit(start);
  return sha256b64(
    canonicalJson(Object.fromEntries([...seen].sort(([x], [y]) => (x < y ? -1 : 1)))),
  );
}
