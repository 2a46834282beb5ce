import { type Actor, type Briefing, sha256b64 } from '@baton/core';
import type { RunContext, Runner, Tool } from '@openai/agents-core';
import type { AnyAgent } from './sdkTypes.js';

/** What the recorder needs from its {@link BatonAgents}: an actor per SDK agent name. */
export interface RecorderHost {
  actorFor(agentName: string, session?: string): Actor;
  /** Tool call ids a Baton tool refused: such calls wrote nothing and are not recorded. */
  readonly refused: Set<string>;
}

/** Token counts (a run's cumulative usage, as the recorder last attributed it). */
export interface RunTokens {
  input: number;
  output: number;
}

/**
 * Listens to one run's SDK `Runner` hooks and writes what happened to the ContextLog under
 * the acting agent's identity and the run's session: tool calls (name, args digest, duration,
 * outcome), agent-to-agent handoffs (as Baton handoffs between their identities) and token
 * usage per agent. Writes are queued in hook order; {@link RunRecorder.flush} waits for them.
 */
export class RunRecorder {
  readonly #host: RecorderHost;
  readonly #session: string;
  #queue: Promise<void> = Promise.resolve();
  #errors: unknown[] = [];
  #starts = new Map<string, number>();
  #last: RunTokens;
  #current: string | undefined;
  /** Briefings of SDK handoffs, by receiving agent name, for its instructions. */
  readonly briefings = new Map<string, Briefing>();
  /** The run context the hooks saw first. */
  context: RunContext<unknown> | undefined;

  constructor(host: RecorderHost, session: string, baseline: RunTokens, startAgent: string) {
    this.#host = host;
    this.#session = session;
    this.#last = baseline;
    this.#current = startAgent;
  }

  /** Attaches the listeners to `runner` (one runner per run). */
  attach(runner: Runner): void {
    runner.on('agent_start', (ctx, agent) => {
      this.context ??= ctx;
      this.#usage(ctx, this.#current);
      this.#current = agent.name;
    });
    runner.on('agent_tool_start', (ctx, agent, _tool, details) => {
      this.context ??= ctx;
      this.#usage(ctx, agent.name);
      const id = callIdOf(details.toolCall);
      if (id) this.#starts.set(id, Date.now());
    });
    runner.on('agent_tool_end', (ctx, agent, tool, result, details) => {
      this.#toolEnd(ctx, agent, tool, result, details.toolCall);
    });
    runner.on('agent_handoff', (ctx, from, to) => {
      this.#usage(ctx, from.name);
      this.#current = to.name;
      this.#enqueue(async () => {
        const offerer = this.#host.actorFor(from.name, this.#session);
        const recipient = this.#host.actorFor(to.name, this.#session);
        const h = await offerer.handoffs.offer({
          to: recipient.id,
          note: `SDK handoff: ${from.name} hands the conversation to ${to.name}.`,
        });
        this.briefings.set(to.name, await recipient.handoffs.accept(h.id));
      });
    });
    runner.on('agent_end', (ctx, agent) => {
      this.#usage(ctx, agent.name);
    });
  }

  /** Records the usage not yet attributed (to the agent acting last) and waits for every write. */
  async flush(ctx?: RunContext<unknown>): Promise<void> {
    const c = ctx ?? this.context;
    if (c) this.#usage(c, this.#current);
    for (;;) {
      const q = this.#queue;
      await q;
      if (q === this.#queue) break;
    }
    if (this.#errors.length > 0) throw this.#errors[0];
  }

  /** Waits for the writes queued so far (e.g. an SDK handoff's Baton handoff). */
  async settled(): Promise<void> {
    await this.#queue;
  }

  #enqueue(write: () => Promise<void>): void {
    this.#queue = this.#queue.then(write).catch((err: unknown) => {
      this.#errors.push(err);
    });
  }

  #usage(ctx: RunContext<unknown>, agentName: string | undefined): void {
    const now: RunTokens = { input: ctx.usage.inputTokens, output: ctx.usage.outputTokens };
    const d = { input: now.input - this.#last.input, output: now.output - this.#last.output };
    this.#last = now;
    if (!agentName || (d.input <= 0 && d.output <= 0)) return;
    this.#enqueue(async () => {
      await this.#host.actorFor(agentName, this.#session).context.record({
        type: 'usage',
        text: `${agentName} used ${d.input} input and ${d.output} output tokens`,
        usage: { inputTokens: Math.max(0, d.input), outputTokens: Math.max(0, d.output) },
      });
    });
  }

  #toolEnd(
    ctx: RunContext<unknown>,
    agent: AnyAgent,
    tool: Tool,
    result: string,
    call: unknown,
  ): void {
    this.#usage(ctx, agent.name);
    const id = callIdOf(call);
    if (id && this.#host.refused.delete(id)) return;
    const started = id ? this.#starts.get(id) : undefined;
    const args = (call as { arguments?: unknown }).arguments;
    const name = tool.name;
    const outcome = /^(An error occurred|Refused:)/.test(String(result)) ? 'failed' : 'succeeded';
    this.#enqueue(async () => {
      await this.#host.actorFor(agent.name, this.#session).context.record({
        type: 'tool',
        text: `${agent.name} called ${name}`,
        outcome,
        tool: {
          name,
          argsDigest: sha256b64(typeof args === 'string' ? args : JSON.stringify(args ?? null)),
          resultDigest: sha256b64(String(result)),
          durationMs: started === undefined ? 0 : Date.now() - started,
        },
      });
    });
  }
}

function callIdOf(call: unknown): string | undefined {
  const c = call as { callId?: unknown; id?: unknown };
  return typeof c?.callId === 'string' ? c.callId : undefined;
}
