import { ErrorCode, isBatonError } from '@baton/core';
import { AIMessage, type BaseMessage, type ToolMessage } from '@langchain/core/messages';
import { fakeModel } from '@langchain/core/testing';
import {
  Command,
  END,
  MemorySaver,
  MessagesAnnotation,
  START,
  StateGraph,
} from '@langchain/langgraph';
import { ToolNode, toolsCondition } from '@langchain/langgraph/prebuilt';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  batonConfig,
  batonTools,
  gatedTool,
  humanInterrupts,
  resumeHandoff,
} from '../src/index.js';
import { events, world } from './world.js';

type Tools = ReturnType<typeof batonTools>;

/** agent → tools → agent → END, the model scripted: the tool calls given, then "done". */
function agentGraph(tools: Tools, calls: { name: string; args: Record<string, unknown> }[]) {
  const model = fakeModel()
    .respondWithTools(calls.map((c, i) => ({ ...c, id: `call_${i}` })))
    .respond(new AIMessage('done'));
  return new StateGraph(MessagesAnnotation)
    .addNode('agent', async (s) => ({
      messages: [await model.bindTools(tools).invoke(s.messages)],
    }))
    .addNode('tools', new ToolNode(tools))
    .addEdge(START, 'agent')
    .addConditionalEdges('agent', toolsCondition, ['tools', END])
    .addEdge('tools', 'agent')
    .compile({ checkpointer: new MemorySaver() });
}

const toolMessages = (messages: BaseMessage[]) =>
  messages.filter((m): m is ToolMessage => m.getType() === 'tool');

describe('batonTools', () => {
  it("refuses a grantless agent's tool calls: nothing is written and the graph goes on with the tool errors", async () => {
    const w = await world();
    const nobody = await w.me.identities.create({ kind: 'agent', name: 'nobody' });
    const g = agentGraph(batonTools(), [
      {
        name: 'edit_artifact',
        args: { id: w.doc.id, content: 'Hacked\n', baseVersion: 1, reason: 'x' },
      },
      { name: 'record_context', args: { type: 'decision', text: 'I decide', about: [w.doc.id] } },
    ]);
    const before = (await events(w.store)).length;
    const out = await g.invoke(
      { messages: [{ role: 'user', content: 'edit it' }] },
      batonConfig({ workspace: w.workspace, agent: nobody.id, threadId: 't' }),
    );
    const refused = toolMessages(out.messages);
    expect(refused.map((m) => m.status)).toEqual(['error', 'error']);
    for (const m of refused)
      expect(String(m.content)).toMatch(/^Refused \(FORBIDDEN\): nobody may not/);
    expect(out.messages.at(-1)!.content).toBe('done');
    expect((await events(w.store)).length).toBe(before);
    expect((await w.me.artifacts.get(w.doc.id)).content).toBe('We are launching.\n');
  });

  it('reads, lists, edits with a reason, records a decision and offers a handoff as the agent, in the thread session', async () => {
    const w = await world();
    const g = agentGraph(batonTools(), [
      { name: 'read_artifact', args: { id: w.doc.id } },
      { name: 'list_artifacts', args: {} },
      {
        name: 'edit_artifact',
        args: { id: w.doc.id, content: 'We launch today.\n', baseVersion: 1, reason: 'say when' },
      },
      {
        name: 'record_context',
        args: { type: 'decision', text: 'Say when', why: 'news', about: [w.doc.id] },
      },
      { name: 'offer_handoff', args: { to: 'Ada', artifacts: [w.doc.id], note: 'Have a look' } },
    ]);
    const out = await g.invoke(
      { messages: [{ role: 'user', content: 'go' }] },
      batonConfig({ workspace: w.workspace, agent: w.drafter.id, threadId: 'run-7' }),
    );
    const results = toolMessages(out.messages);
    expect(results.map((m) => m.status)).toEqual([
      'success',
      'success',
      'success',
      'success',
      'success',
    ]);
    expect(JSON.parse(String(results[0]!.content))).toMatchObject({
      id: w.doc.id,
      content: 'We are launching.\n',
    });
    expect(JSON.parse(String(results[1]!.content))).toEqual([
      expect.objectContaining({ id: w.doc.id }),
    ]);
    const head = await w.me.artifacts.history(w.doc.id);
    expect(head.items.at(-1)).toMatchObject({ author: w.drafter.id, reason: 'say when' });
    const decisions = await w.me.context.query({ types: ['decision'], session: 'run-7' });
    expect(decisions.items.map((e) => [e.actor, e.text, e.why])).toEqual([
      [w.drafter.id, 'Say when', 'news'],
    ]);
    expect((await w.me.inbox()).items.map((i) => i.noteText)).toEqual(['Have a look']);
  });

  it('writes once when the same tool call runs again (a task re-run after a resume)', async () => {
    const w = await world();
    const [edit] = batonTools({ only: ['edit_artifact'] });
    const config = {
      ...batonConfig({ workspace: w.workspace, agent: w.drafter.id, threadId: 't' }),
      toolCall: { id: 'call_1', name: 'edit_artifact', args: {}, type: 'tool_call' as const },
    };
    const args = { id: w.doc.id, content: 'v2\n', baseVersion: 1, reason: 'r' };
    const call = { id: 'call_1', name: 'edit_artifact', args, type: 'tool_call' as const };
    const a = await edit!.invoke(call, config);
    const b = await edit!.invoke(call, config);
    expect(String(a.content)).toBe(String(b.content));
    expect((await w.me.artifacts.history(w.doc.id)).items.length).toBe(2);
  });

  it('refuses bad options with a BatonError', () => {
    expect(() => batonTools({ only: ['drop_tables' as never] })).toThrow(/batonTools/);
    let err: unknown;
    try {
      gatedTool({
        name: 'x',
        description: 'x',
        schema: z.object({}),
        action: 'go',
        resource: 'nope' as never,
        run: () => 1,
      });
    } catch (e) {
      err = e;
    }
    expect(isBatonError(err, ErrorCode.VALIDATION)).toBe(true);
  });
});

describe('gatedTool', () => {
  function publisher(log: string[]) {
    return gatedTool({
      name: 'publish',
      description: 'Publish an artifact.',
      schema: z.object({ id: z.string(), channel: z.string() }),
      action: 'publish',
      resource: (a) => `artifact:${a.id}`,
      run: (a) => {
        log.push(a.channel);
        return `published to ${a.channel}`;
      },
    });
  }

  it('pauses for the approval its grant requires, and runs exactly once when approved', async () => {
    const w = await world();
    const log: string[] = [];
    const g = agentGraph([publisher(log)] as Tools, [
      { name: 'publish', args: { id: w.doc.id, channel: 'blog' } },
    ]);
    const config = batonConfig({ workspace: w.workspace, agent: w.drafter.id, threadId: 't' });
    const out = await g.invoke({ messages: [{ role: 'user', content: 'publish' }] }, config);
    expect(humanInterrupts(out)).toHaveLength(1);
    expect(log).toEqual([]);
    const [approval] = (await w.me.inbox({ kinds: ['approval'] })).items;
    expect(approval!.requestedPayload).toEqual({ id: w.doc.id, channel: 'blog' });
    await w.me.handoffs.approve(approval!.id);
    const r = await resumeHandoff(g, approval!.id, { workspace: w.workspace, agent: w.drafter.id });
    expect(log).toEqual(['blog']);
    const msgs = (r.result as { messages: BaseMessage[] }).messages;
    expect(toolMessages(msgs).map((m) => [m.status, m.content])).toEqual([
      ['success', 'published to blog'],
    ]);
    expect(
      (await resumeHandoff(g, approval!.id, { workspace: w.workspace, agent: w.drafter.id }))
        .resumed,
    ).toBe(false);
    expect(log).toEqual(['blog']);
  });

  it('runs at once when the grant needs no approval, and is a tool error when no grant allows it', async () => {
    const w = await world();
    const free = await w.me.identities.create({ kind: 'agent', name: 'free' });
    await w.me.capabilities.grant({ to: free.id, resource: 'artifact:*', actions: ['publish'] });
    const log: string[] = [];
    const call = [{ name: 'publish', args: { id: w.doc.id, channel: 'blog' } }];
    const ok = await agentGraph([publisher(log)] as Tools, call).invoke(
      { messages: [{ role: 'user', content: 'go' }] },
      batonConfig({ workspace: w.workspace, agent: free.id, threadId: 't' }),
    );
    expect(toolMessages(ok.messages).map((m) => m.status)).toEqual(['success']);
    expect(log).toEqual(['blog']);
    const nobody = await w.me.identities.create({ kind: 'agent', name: 'nobody' });
    const before = (await events(w.store)).length;
    const no = await agentGraph([publisher(log)] as Tools, call).invoke(
      { messages: [{ role: 'user', content: 'go' }] },
      batonConfig({ workspace: w.workspace, agent: nobody.id, threadId: 't' }),
    );
    const [refused] = toolMessages(no.messages);
    expect(refused!.status).toBe('error');
    expect(String(refused!.content)).toMatch(/^Refused \(FORBIDDEN\)/);
    expect(log).toEqual(['blog']);
    // Nothing written (no approval asked, no use recorded), and the graph went on.
    expect((await events(w.store)).length).toBe(before);
    expect(no.messages.at(-1)!.content).toBe('done');
  });

  it("does not run on an accept sent straight to the thread (an Agent Inbox resume) while Baton's approval is undecided", async () => {
    const w = await world();
    const log: string[] = [];
    const g = agentGraph([publisher(log)] as Tools, [
      { name: 'publish', args: { id: w.doc.id, channel: 'blog' } },
    ]);
    const config = batonConfig({ workspace: w.workspace, agent: w.drafter.id, threadId: 't' });
    await g.invoke({ messages: [{ role: 'user', content: 'publish' }] }, config);
    const out = await g.invoke(new Command({ resume: [{ type: 'accept', args: null }] }), config);
    const [msg] = toolMessages(out.messages);
    expect(msg!.status).toBe('error');
    expect(String(msg!.content)).toMatch(
      /^Refused \(APPROVAL_REQUIRED\): publish on artifact:\S+ needs approval by Ada/,
    );
    expect(log).toEqual([]);
    const [approval] = (await w.me.inbox({ kinds: ['approval'] })).items;
    expect((await w.me.handoffs.get(approval!.id)).status).toBe('offered');
  });

  it('does not run, nor use the approval, when the approver edited the arguments into ones the tool refuses', async () => {
    const w = await world();
    const log: string[] = [];
    const g = agentGraph([publisher(log)] as Tools, [
      { name: 'publish', args: { id: w.doc.id, channel: 'blog' } },
    ]);
    await g.invoke(
      { messages: [{ role: 'user', content: 'publish' }] },
      batonConfig({ workspace: w.workspace, agent: w.drafter.id, threadId: 't' }),
    );
    const [approval] = (await w.me.inbox({ kinds: ['approval'] })).items;
    await w.me.handoffs.approve(approval!.id, { payload: { id: w.doc.id, channel: 42 } });
    const r = await resumeHandoff(g, approval!.id, { workspace: w.workspace, agent: w.drafter.id });
    const [msg] = toolMessages((r.result as { messages: BaseMessage[] }).messages);
    expect(msg!.status).toBe('error');
    expect(String(msg!.content)).toMatch(
      /^Refused \(VALIDATION\): publish: the approved arguments/,
    );
    expect(log).toEqual([]);
    expect((await w.me.handoffs.get(approval!.id)).status).toBe('approved');
  });

  it('asks once and runs once for each of two parallel gated calls, however many resumes it takes', async () => {
    const w = await world();
    const log: string[] = [];
    const g = agentGraph([publisher(log)] as Tools, [
      { name: 'publish', args: { id: w.doc.id, channel: 'blog' } },
      { name: 'publish', args: { id: w.doc.id, channel: 'news' } },
    ]);
    const config = batonConfig({ workspace: w.workspace, agent: w.drafter.id, threadId: 't' });
    let pending = humanInterrupts(
      await g.invoke({ messages: [{ role: 'user', content: 'publish both' }] }, config),
    );
    for (let round = 0; pending.length > 0 && round < 4; round++) {
      for (const a of (await w.me.inbox({ kinds: ['approval'] })).items)
        await w.me.handoffs.approve(a.id);
      const r = await resumeHandoff(g, pending[0]!.baton.handoff, {
        workspace: w.workspace,
        agent: w.drafter.id,
      });
      pending = humanInterrupts(r.result);
    }
    expect(pending).toEqual([]);
    expect(log.sort()).toEqual(['blog', 'news']);
    const asked = (await events(w.store)).filter(
      (e) =>
        e.type.startsWith('handoff.offered@') && (e.data as { kind: string }).kind === 'approval',
    );
    expect(asked).toHaveLength(2);
    const messages = (await g.getState(config)).values.messages as BaseMessage[];
    expect(toolMessages(messages).map((m) => m.content)).toEqual([
      'published to blog',
      'published to news',
    ]);
  });
});
