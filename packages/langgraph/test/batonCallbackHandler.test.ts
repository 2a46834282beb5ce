import { ErrorCode, isBatonError, signingBytes, verifySignature } from '@baton/core';
import { AIMessage } from '@langchain/core/messages';
import { fakeModel } from '@langchain/core/testing';
import { tool } from '@langchain/core/tools';
import { END, MemorySaver, MessagesAnnotation, START, StateGraph } from '@langchain/langgraph';
import { ToolNode, toolsCondition } from '@langchain/langgraph/prebuilt';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { BatonCallbackHandler, batonConfig } from '../src/index.js';
import { events, world } from './world.js';

const usage = (i: number, o: number) => ({
  input_tokens: i,
  output_tokens: o,
  total_tokens: i + o,
});

function graph() {
  const echo = tool(async ({ x }) => `echo ${x}`, {
    name: 'echo',
    description: 'echo',
    schema: z.object({ x: z.string() }),
  });
  const boom = tool(
    async () => {
      throw new Error('the disk is full');
    },
    { name: 'boom', description: 'fails', schema: z.object({}) },
  );
  const model = fakeModel()
    .respond(
      new AIMessage({
        content: '',
        tool_calls: [
          { id: 'c1', name: 'echo', args: { x: 'hi' } },
          { id: 'c2', name: 'boom', args: {} },
        ],
        usage_metadata: usage(100, 20),
      }),
    )
    .respond(new AIMessage({ content: 'done', usage_metadata: usage(150, 5) }));
  return new StateGraph(MessagesAnnotation)
    .addNode('agent', async (s) => ({ messages: [await model.invoke(s.messages)] }))
    .addNode('tools', new ToolNode([echo, boom]))
    .addEdge(START, 'agent')
    .addConditionalEdges('agent', toolsCondition, ['tools', END])
    .addEdge('tools', 'agent')
    .compile({ checkpointer: new MemorySaver() });
}

describe('BatonCallbackHandler', () => {
  it('has recorded node runs, tool calls and token usage as the agent, in the thread session, when invoke returns', async () => {
    const w = await world();
    const handler = new BatonCallbackHandler({ workspace: w.workspace, agent: w.drafter.id });
    await graph().invoke(
      { messages: [{ role: 'user', content: 'go' }] },
      {
        ...batonConfig({ workspace: w.workspace, agent: w.drafter.id, threadId: 'run-1' }),
        callbacks: [handler],
      },
    );
    // No flush: the writes are complete already.
    const all = (await w.me.context.query({ session: 'run-1' })).items;
    const nodes = all
      .filter((e) => e.type === 'attempt')
      .map((e) => e.text.replace(/ \(\d+ ms\)/, ''));
    expect(nodes).toEqual([
      'LangGraph node agent succeeded',
      'LangGraph node tools succeeded',
      'LangGraph node agent succeeded',
    ]);
    const tools = all.filter((e) => e.type === 'tool');
    expect(tools.map((e) => [e.tool?.name, e.outcome])).toEqual(
      expect.arrayContaining([
        ['echo', 'succeeded'],
        ['boom', 'failed'],
      ]),
    );
    const boom = tools.find((e) => e.tool?.name === 'boom')!;
    expect(boom.text).toMatch(/the disk is full/);
    for (const e of tools) {
      expect(e.tool?.argsDigest).toMatch(/^[\w-]{43}$/);
      expect(e.tool?.durationMs).toBeGreaterThanOrEqual(0);
    }
    expect(all.every((e) => e.actor === w.drafter.id && e.session === 'run-1')).toBe(true);
    expect(handler.failures).toEqual([]);

    // Signed by the agent's own key, not the owner's.
    const drafter = w.workspace.identity(w.drafter.id)!;
    const ada = w.workspace.identity(w.ada.id)!;
    const recorded = (await events(w.store)).filter((e) => e.type.startsWith('context.recorded@'));
    expect(recorded.length).toBe(all.length);
    for (const e of recorded) {
      expect(e.actor).toBe(w.drafter.id);
      expect(await verifySignature(drafter.keys[0]!.key, e.sig, signingBytes(e))).toBe(true);
      expect(await verifySignature(ada.keys[0]!.key, e.sig, signingBytes(e))).toBe(false);
    }

    expect(await w.me.context.costs({ by: 'actor' })).toEqual([
      expect.objectContaining({
        key: w.drafter.id,
        entries: 2,
        inputTokens: 250,
        outputTokens: 25,
      }),
    ]);
    expect(await w.me.context.costs({ by: 'session' })).toEqual([
      expect.objectContaining({ key: 'run-1', entries: 2, inputTokens: 250, outputTokens: 25 }),
    ]);
  });

  it('lets costs() sum token usage by actor and by session across agents and threads', async () => {
    const w = await world();
    const second = await w.me.identities.create({ kind: 'agent', name: 'second' });
    await w.me.capabilities.grant({ to: second.id, resource: 'workspace', actions: ['comment'] });
    const runAs = (agent: string, threadId: string) =>
      graph().invoke(
        { messages: [{ role: 'user', content: 'go' }] },
        {
          ...batonConfig({ workspace: w.workspace, agent, threadId }),
          callbacks: [new BatonCallbackHandler({ workspace: w.workspace, agent })],
        },
      );
    // Each run: two model calls, 250 tokens in and 25 out.
    await runAs(w.drafter.id, 'a');
    await runAs(w.drafter.id, 'b');
    await runAs(second.id, 'b');
    const byActor = await w.me.context.costs({ by: 'actor' });
    expect(byActor.map((c) => [c.key, c.entries, c.inputTokens, c.outputTokens]).sort()).toEqual(
      [
        [w.drafter.id, 4, 500, 50],
        [second.id, 2, 250, 25],
      ].sort(),
    );
    const bySession = await w.me.context.costs({ by: 'session' });
    expect(bySession.map((c) => [c.key, c.entries, c.inputTokens, c.outputTokens]).sort()).toEqual(
      [
        ['a', 2, 250, 25],
        ['b', 4, 500, 50],
      ].sort(),
    );
  });

  it('keeps the writes Baton refuses in failures and never fails the run', async () => {
    const w = await world();
    const mute = await w.me.identities.create({ kind: 'agent', name: 'mute' });
    const handler = new BatonCallbackHandler({ workspace: w.workspace, agent: mute.id });
    const out = await graph().invoke(
      { messages: [{ role: 'user', content: 'go' }] },
      {
        ...batonConfig({ workspace: w.workspace, agent: mute.id, threadId: 'r' }),
        callbacks: [handler],
      },
    );
    expect(out.messages.at(-1)!.content).toBe('done');
    await handler.flush();
    expect(handler.failures.length).toBeGreaterThan(0);
    expect(isBatonError(handler.failures[0]!.error, ErrorCode.FORBIDDEN)).toBe(true);
  });

  it('refuses bad options with a BatonError', async () => {
    const w = await world();
    for (const bad of [
      {},
      { workspace: w.workspace },
      { workspace: {}, agent: w.drafter.id },
      { workspace: w.workspace, agent: w.drafter.id, about: 'x' },
    ]) {
      let err: unknown;
      try {
        new BatonCallbackHandler(bad as never);
      } catch (e) {
        err = e;
      }
      expect(isBatonError(err, ErrorCode.VALIDATION), JSON.stringify(Object.keys(bad))).toBe(true);
    }
  });
});
