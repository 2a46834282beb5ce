import { type Actor, parseInput, type RecordInput, sha256b64 } from '@baton/core';
import { BaseCallbackHandler } from '@langchain/core/callbacks/base';
import type { Serialized } from '@langchain/core/load/serializable';
import type { LLMResult } from '@langchain/core/outputs';
import type { ChainValues } from '@langchain/core/utils/types';
import { z } from 'zod';
import { type BatonRun, parseRun } from './batonRun.js';

/** Options of {@link BatonCallbackHandler}. */
export interface BatonCallbackHandlerOptions extends BatonRun {
  /**
   * The artifacts the run's entries are about. The agent needs `comment` on each — or on
   * `workspace` when there are none. Defaults to none (about the workspace).
   */
  about?: string[];
  /** The session of runs whose config has no `thread_id`. Defaults to none. */
  session?: string;
}

const optionsSchema = z.object({
  about: z.array(z.string().min(1).max(200)).max(64).optional(),
  session: z.string().min(1).max(200).optional(),
});

/** What a run started with, kept until it ends. */
interface Started {
  kind: 'node' | 'tool' | 'model';
  name: string;
  session: string | undefined;
  at: number;
  args?: string;
  model?: string;
}

/** A record that could not be written, with why. */
export interface RecordFailure {
  entry: RecordInput;
  error: unknown;
}

const digest = (text: string) => sha256b64(text);

/**
 * A LangChain callback handler that writes what the agent did to the ContextLog, as the agent
 * (signed by its key) and in the thread's session: each node run (an `attempt`: succeeded,
 * failed or interrupted), each tool call (a `tool` entry: name, digest of the arguments and
 * of the result, duration, error) and each model call's token usage (a `usage` entry, which
 * `actor.context.costs()` sums).
 *
 * @remarks
 * Its writes are awaited by LangChain (`awaitHandlers` is on), so they are complete when
 * `graph.invoke` returns; {@link BatonCallbackHandler.flush} waits for any still running
 * (say, after a stream was abandoned). A write Baton refuses (the agent lacks `comment`)
 * never fails the run: it is kept in {@link BatonCallbackHandler.failures}.
 *
 * @example
 * ```ts
 * const handler = new BatonCallbackHandler({ workspace, agent: drafter.id });
 * await graph.invoke(input, { ...batonConfig({ workspace, agent: drafter.id, threadId }), callbacks: [handler] });
 * ```
 */
export class BatonCallbackHandler extends BaseCallbackHandler {
  /** The handler's name, as LangChain lists it. */
  name = 'BatonCallbackHandler';
  /** Writes Baton refused or that failed, in order. */
  readonly failures: RecordFailure[] = [];
  readonly #run: BatonRun;
  readonly #about: string[] | undefined;
  readonly #session: string | undefined;
  readonly #started = new Map<string, Started>();
  readonly #pending = new Set<Promise<void>>();
  readonly #actors = new Map<string, Actor>();

  constructor(options: BatonCallbackHandlerOptions) {
    super({ _awaitHandler: true });
    this.#run = parseRun(
      { workspace: options?.workspace, agent: options?.agent, signer: options?.signer },
      'new BatonCallbackHandler',
    );
    const o = parseInput(
      optionsSchema,
      { about: options.about, session: options.session },
      'new BatonCallbackHandler',
    );
    this.#about = o.about;
    this.#session = o.session;
  }

  /** Resolves when every write started so far has finished. */
  async flush(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  #actor(session: string | undefined): Actor {
    const k = session ?? '';
    let a = this.#actors.get(k);
    if (!a) {
      a = this.#run.workspace.as(this.#run.agent, {
        ...(session !== undefined ? { session } : {}),
        ...(this.#run.signer ? { signer: this.#run.signer } : {}),
      });
      this.#actors.set(k, a);
    }
    return a;
  }

  #sessionOf(metadata: Record<string, unknown> | undefined): string | undefined {
    const t = metadata?.thread_id;
    return typeof t === 'string' && t !== '' ? t : this.#session;
  }

  async #record(session: string | undefined, entry: RecordInput): Promise<void> {
    const e: RecordInput = this.#about ? { ...entry, about: this.#about } : entry;
    const p = this.#actor(session)
      .context.record(e)
      .then(
        () => undefined,
        (error: unknown) => {
          this.failures.push({ entry: e, error });
        },
      );
    this.#pending.add(p);
    try {
      await p;
    } finally {
      this.#pending.delete(p);
    }
  }

  /** @internal */
  override async handleChainStart(
    _chain: Serialized,
    _inputs: ChainValues,
    runId: string,
    // The callback manager passes (…, runId, parentRunId, tags, metadata, runType, runName),
    // whatever the declaration names the parameters.
    _parentRunId?: string,
    tags?: string[],
    metadata?: Record<string, unknown>,
    _runType?: string,
    runName?: string,
  ): Promise<void> {
    // A node's own run: named after the node and tagged with its step (its inner runnables
    // carry the node's metadata too, but not the step tag).
    const node = metadata?.langgraph_node;
    if (typeof node !== 'string' || runName !== node) return;
    if (!tags?.some((t) => t.startsWith('graph:step:'))) return;
    if (tags.includes('langsmith:hidden')) return;
    this.#started.set(runId, {
      kind: 'node',
      name: node,
      session: this.#sessionOf(metadata),
      at: Date.now(),
    });
  }

  /** @internal */
  override async handleChainEnd(_outputs: ChainValues, runId: string): Promise<void> {
    await this.#nodeEnd(runId, 'succeeded');
  }

  /** @internal */
  override async handleChainError(err: Error, runId: string): Promise<void> {
    const interrupted = err?.name === 'GraphInterrupt' || err?.name === 'NodeInterrupt';
    await this.#nodeEnd(
      runId,
      interrupted ? 'interrupted' : 'failed',
      interrupted ? undefined : err,
    );
  }

  async #nodeEnd(runId: string, outcome: string, err?: Error): Promise<void> {
    const s = this.#started.get(runId);
    if (s?.kind !== 'node') return;
    this.#started.delete(runId);
    const ms = Date.now() - s.at;
    const text = `LangGraph node ${s.name} ${outcome} (${ms} ms)${err ? `: ${String(err.message).slice(0, 2_000)}` : ''}`;
    await this.#record(s.session, { type: 'attempt', text, outcome });
  }

  /** @internal */
  override async handleToolStart(
    _tool: Serialized,
    input: string,
    runId: string,
    _parentRunId?: string,
    _tags?: string[],
    metadata?: Record<string, unknown>,
    runName?: string,
  ): Promise<void> {
    this.#started.set(runId, {
      kind: 'tool',
      name: runName ?? 'tool',
      session: this.#sessionOf(metadata),
      at: Date.now(),
      args: typeof input === 'string' ? input : JSON.stringify(input ?? null),
    });
  }

  /** @internal */
  override async handleToolEnd(output: unknown, runId: string): Promise<void> {
    const o = output as { content?: unknown; status?: unknown } | string | undefined;
    const content =
      typeof o === 'string'
        ? o
        : typeof o?.content === 'string'
          ? o.content
          : JSON.stringify(o?.content ?? o ?? null);
    const failed = typeof o === 'object' && o?.status === 'error';
    await this.#toolEnd(runId, content, failed ? content : undefined);
  }

  /** @internal */
  override async handleToolError(err: Error, runId: string): Promise<void> {
    await this.#toolEnd(runId, undefined, String(err?.message ?? err));
  }

  async #toolEnd(
    runId: string,
    result: string | undefined,
    error: string | undefined,
  ): Promise<void> {
    const s = this.#started.get(runId);
    if (s?.kind !== 'tool') return;
    this.#started.delete(runId);
    const tool: NonNullable<RecordInput['tool']> = {
      name: s.name.slice(0, 200),
      argsDigest: digest(s.args ?? ''),
      durationMs: Date.now() - s.at,
    };
    if (result !== undefined) tool.resultDigest = digest(result);
    const text = error
      ? `tool ${s.name} failed: ${error.slice(0, 2_000)}`
      : `tool ${s.name} succeeded`;
    await this.#record(s.session, {
      type: 'tool',
      text,
      outcome: error ? 'failed' : 'succeeded',
      tool,
    });
  }

  /** @internal */
  override async handleChatModelStart(
    llm: Serialized,
    _messages: unknown[][],
    runId: string,
    _parentRunId?: string,
    extraParams?: Record<string, unknown>,
    _tags?: string[],
    metadata?: Record<string, unknown>,
    runName?: string,
  ): Promise<void> {
    this.#modelStart(llm, runId, extraParams, metadata, runName);
  }

  /** @internal */
  override async handleLLMStart(
    llm: Serialized,
    _prompts: string[],
    runId: string,
    _parentRunId?: string,
    extraParams?: Record<string, unknown>,
    _tags?: string[],
    metadata?: Record<string, unknown>,
    runName?: string,
  ): Promise<void> {
    this.#modelStart(llm, runId, extraParams, metadata, runName);
  }

  #modelStart(
    llm: Serialized,
    runId: string,
    extraParams: Record<string, unknown> | undefined,
    metadata: Record<string, unknown> | undefined,
    runName: string | undefined,
  ): void {
    const params = extraParams?.invocation_params as
      | { model?: unknown; model_name?: unknown }
      | undefined;
    const model =
      (typeof params?.model === 'string' && params.model) ||
      (typeof params?.model_name === 'string' && params.model_name) ||
      (typeof metadata?.ls_model_name === 'string' && metadata.ls_model_name) ||
      runName ||
      llm?.id?.at(-1) ||
      'model';
    this.#started.set(runId, {
      kind: 'model',
      name: String(model),
      session: this.#sessionOf(metadata),
      at: Date.now(),
      model: String(model).slice(0, 200),
    });
  }

  /** @internal */
  override async handleLLMEnd(output: LLMResult, runId: string): Promise<void> {
    const s = this.#started.get(runId);
    if (s?.kind !== 'model') return;
    this.#started.delete(runId);
    let input = 0;
    let out = 0;
    let found = false;
    for (const gens of output?.generations ?? []) {
      for (const g of gens) {
        const u = (
          g as { message?: { usage_metadata?: { input_tokens?: number; output_tokens?: number } } }
        ).message?.usage_metadata;
        if (u) {
          found = true;
          input += u.input_tokens ?? 0;
          out += u.output_tokens ?? 0;
        }
      }
    }
    const t = output?.llmOutput?.tokenUsage as
      | { promptTokens?: number; completionTokens?: number }
      | undefined;
    if (!found && t) {
      found = true;
      input = t.promptTokens ?? 0;
      out = t.completionTokens ?? 0;
    }
    if (!found) return;
    const usage: NonNullable<RecordInput['usage']> = {
      inputTokens: input,
      outputTokens: out,
    };
    if (s.model) usage.model = s.model;
    await this.#record(s.session, {
      type: 'usage',
      text: `${s.model ?? 'model'}: ${input} tokens in, ${out} out`,
      usage,
    });
  }

  /** @internal */
  override async handleLLMError(_err: Error, runId: string): Promise<void> {
    this.#started.delete(runId);
  }
}
