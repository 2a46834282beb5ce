import { ErrorCode, isBatonError } from '@baton/core';
import { AIMessage, type BaseMessage } from '@langchain/core/messages';
import { fakeModel } from '@langchain/core/testing';
import { tool } from '@langchain/core/tools';
import {
  Annotation,
  type BaseCheckpointSaver,
  Command,
  END,
  MemorySaver,
  MessagesAnnotation,
  START,
  StateGraph,
} from '@langchain/langgraph';
import {
  type HumanInterrupt,
  type HumanResponse,
  ToolNode,
  toolsCondition,
} from '@langchain/langgraph/prebuilt';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  answerHandoff,
  BatonCheckpointSaver,
  batonConfig,
  humanInterrupts,
  requestHuman,
  resumeHandoff,
} from '../src/index.js';
import { events, world } from './world.js';

const State = Annotation.Root({
  answer: Annotation<HumanResponse | undefined>(),
  after: Annotation<number>({ reducer: (a, b) => a + b, default: () => 0 }),
});

const ask = (action: string): HumanInterrupt => ({
  action_request: { action, args: { channel: 'blog' } },
  config: { allow_accept: true, allow_edit: true, allow_respond: true, allow_ignore: true },
  description: `${action}?`,
});

/** A one-node graph whose node asks, counting how often it ran and how often it went past the question. */
function graph(
  request: Parameters<typeof requestHuman>[0],
  checkpointer: BaseCheckpointSaver = new MemorySaver(),
) {
  const counts = { runs: 0, after: 0 };
  const g = new StateGraph(State)
    .addNode('ask', async () => {
      counts.runs++;
      const answer = await requestHuman(request);
      counts.after++;
      return { answer, after: 1 };
    })
    .addEdge(START, 'ask')
    .addEdge('ask', END)
    .compile({ checkpointer });
  return { g, counts, checkpointer };
}

async function paused(g: ReturnType<typeof graph>['g'], config: ReturnType<typeof batonConfig>) {
  return humanInterrupts(await g.invoke({}, config))[0]!;
}

async function refusal(p: Promise<unknown>) {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isBatonError(err), String(err)).toBe(true);
  return err as { code: string; message: string };
}

describe('requestHuman', () => {
  it('asks a named person a question once, and resumes with their answer as a response', async () => {
    const w = await world();
    const { g, counts } = graph({ to: 'ada', interrupt: ask('Which day?') });
    const config = batonConfig({ workspace: w.workspace, agent: w.drafter.id, threadId: 't1' });
    const p = await paused(g, config);
    expect(p.baton.kind).toBe('question');
    expect(p.baton.to).toEqual([w.ada.id]);
    expect(p.action_request).toEqual({ action: 'Which day?', args: { channel: 'blog' } });
    const inbox = await w.me.inbox();
    expect(inbox.items.map((i) => [i.id, i.questionText])).toEqual([
      [p.baton.handoff, 'Which day??'],
    ]);

    await w.me.handoffs.answer(p.baton.handoff, 'Tuesday');
    const r = await resumeHandoff(g, p.baton.handoff, {
      workspace: w.workspace,
      agent: w.drafter.id,
    });
    expect(r).toMatchObject({
      resumed: true,
      threadId: 't1',
      response: { type: 'response', args: 'Tuesday' },
    });
    expect((r.result as { answer: HumanResponse }).answer).toEqual({
      type: 'response',
      args: 'Tuesday',
    });
    // The node ran twice (paused, resumed) but asked once.
    expect(counts).toEqual({ runs: 2, after: 1 });
    const asked = (await events(w.store)).filter((e) => e.type.startsWith('handoff.offered@'));
    expect(asked).toHaveLength(1);
  });

  it('returns accept at once, without pausing, for an action the grants allow without approval', async () => {
    const w = await world();
    const { g, counts } = graph({
      action: 'read',
      resource: `artifact:${w.doc.id}`,
      interrupt: ask('read'),
    });
    const out = await g.invoke(
      {},
      batonConfig({ workspace: w.workspace, agent: w.drafter.id, threadId: 't' }),
    );
    expect(out.answer).toEqual({ type: 'accept', args: null });
    expect(counts).toEqual({ runs: 1, after: 1 });
  });

  it('refuses an action no grant allows even with approval (FORBIDDEN), asking nobody', async () => {
    const w = await world();
    const { g } = graph({
      action: 'delete',
      resource: `artifact:${w.doc.id}`,
      interrupt: ask('delete'),
    });
    const before = (await events(w.store)).length;
    const err = await refusal(
      g.invoke({}, batonConfig({ workspace: w.workspace, agent: w.drafter.id, threadId: 't' })),
    );
    expect(err.code).toBe(ErrorCode.FORBIDDEN);
    expect((await events(w.store)).length).toBe(before);
  });

  it('refuses a run without the Baton config, a malformed request and an unknown person (BatonError)', async () => {
    const w = await world();
    const plain = graph({ to: 'Ada', interrupt: ask('x') });
    const e1 = await refusal(plain.g.invoke({}, { configurable: { thread_id: 't' } }));
    expect(e1.code).toBe(ErrorCode.VALIDATION);
    expect(e1.message).toMatch(/configurable\.baton.*batonConfig/);
    const config = batonConfig({ workspace: w.workspace, agent: w.drafter.id, threadId: 't' });
    const bad = graph({
      to: 'Ada',
      interrupt: { action_request: { action: 'x' } } as unknown as HumanInterrupt,
    });
    expect((await refusal(bad.g.invoke({}, config))).code).toBe(ErrorCode.VALIDATION);
    const both = graph({
      to: 'Ada',
      action: 'publish',
      resource: 'artifact:x',
      interrupt: ask('x'),
    } as never);
    expect((await refusal(both.g.invoke({}, config))).code).toBe(ErrorCode.VALIDATION);
    const nobody = graph({ to: 'Zed', interrupt: ask('x') });
    expect((await refusal(nobody.g.invoke({}, config))).code).toBe(ErrorCode.NOT_FOUND);
    expect(() => batonConfig({ workspace: w.workspace, agent: '', threadId: 't' })).toThrow(
      /agent/,
    );
  });
});

describe('resumeHandoff', () => {
  async function pausedApproval() {
    const w = await world();
    const request = {
      action: 'publish',
      resource: `artifact:${w.doc.id}`,
      interrupt: ask('publish'),
    };
    const made = graph(request, new BatonCheckpointSaver({ store: w.store }));
    const config = batonConfig({ workspace: w.workspace, agent: w.drafter.id, threadId: 't1' });
    const p = await paused(made.g, config);
    return { w, ...made, config, p, request };
  }

  it('maps approve to accept, approve with an edited payload to edit, deny with a note to response and without to ignore', async () => {
    for (const [decide, expected] of [
      [
        (w: Awaited<ReturnType<typeof world>>, id: string) => w.me.handoffs.approve(id),
        { type: 'accept', args: null },
      ],
      [
        (w: Awaited<ReturnType<typeof world>>, id: string) =>
          w.me.handoffs.approve(id, { payload: { channel: 'news' } }),
        { type: 'edit', args: { action: 'publish', args: { channel: 'news' } } },
      ],
      [
        (w: Awaited<ReturnType<typeof world>>, id: string) =>
          w.me.handoffs.deny(id, { note: 'Not yet' }),
        { type: 'response', args: 'Not yet' },
      ],
      [
        (w: Awaited<ReturnType<typeof world>>, id: string) => w.me.handoffs.deny(id),
        { type: 'ignore', args: null },
      ],
    ] as const) {
      const { w, g, p } = await pausedApproval();
      expect(p.baton.kind).toBe('approval');
      expect(p.baton.to).toEqual([w.ada.id]);
      await decide(w, p.baton.handoff);
      const r = await resumeHandoff(g, p.baton.handoff, {
        workspace: w.workspace,
        agent: w.drafter.id,
      });
      expect(r.response).toEqual(expected);
      expect((r.result as { answer: HumanResponse }).answer).toEqual(expected);
    }
  });

  it('refuses an undecided handoff, then does nothing on a second resume', async () => {
    const { w, g, p, counts } = await pausedApproval();
    const opts = { workspace: w.workspace, agent: w.drafter.id };
    const err = await refusal(resumeHandoff(g, p.baton.handoff, opts));
    expect(err.code).toBe(ErrorCode.INVALID_STATE);
    expect(err.message).toMatch(/still offered, waiting on Ada/);
    await w.me.handoffs.approve(p.baton.handoff);
    expect((await resumeHandoff(g, p.baton.handoff, opts)).resumed).toBe(true);
    const again = await resumeHandoff(g, p.baton.handoff, opts);
    expect(again).toMatchObject({ resumed: false, threadId: 't1' });
    expect(counts).toEqual({ runs: 2, after: 1 });
  });

  it('refuses an unknown handoff, another thread, another graph and another agent, changing nothing', async () => {
    const { w, g, p, request, config } = await pausedApproval();
    await w.me.handoffs.approve(p.baton.handoff);
    const opts = { workspace: w.workspace, agent: w.drafter.id };
    const someone = await w.me.identities.create({ kind: 'agent', name: 'someone' });
    // Another graph on the same checkpointer sees thread t1, but has no node "ask".
    const sharing = new StateGraph(State)
      .addNode('other', () => ({ after: 1 }))
      .addEdge(START, 'other')
      .addEdge('other', END)
      .compile({ checkpointer: new BatonCheckpointSaver({ store: w.store }) });
    const before = (await events(w.store)).length;
    const kvBefore = (await w.store.kv.list('')).items;
    const unknown = await refusal(resumeHandoff(g, 'ho_nope', opts));
    expect(unknown.code).toBe(ErrorCode.NOT_FOUND);
    expect(unknown.message).toMatch(/no LangGraph thread paused on handoff ho_nope/);
    const thread = await refusal(
      resumeHandoff(g, p.baton.handoff, {
        ...opts,
        config: { configurable: { thread_id: 'other' } },
      }),
    );
    expect(thread.code).toBe(ErrorCode.VALIDATION);
    expect(thread.message).toMatch(/paused thread t1, not other/);
    const other = graph(request).g;
    const graphErr = await refusal(resumeHandoff(other, p.baton.handoff, opts));
    expect(graphErr.code).toBe(ErrorCode.VALIDATION);
    expect(graphErr.message).toMatch(/this graph has no thread t1/);
    const shared = await refusal(resumeHandoff(sharing, p.baton.handoff, opts));
    expect(shared.code).toBe(ErrorCode.VALIDATION);
    expect(shared.message).toMatch(
      /paused node "ask" of thread t1, and this graph has no such node/,
    );
    const agentErr = await refusal(
      resumeHandoff(g, p.baton.handoff, { ...opts, agent: someone.id }),
    );
    expect(agentErr.code).toBe(ErrorCode.VALIDATION);
    expect(agentErr.message).toMatch(/asked by agent/);
    expect((await refusal(resumeHandoff({} as never, p.baton.handoff, opts))).code).toBe(
      ErrorCode.VALIDATION,
    );
    expect((await refusal(resumeHandoff(g, '', opts))).code).toBe(ErrorCode.VALIDATION);
    expect(
      (await refusal(resumeHandoff(g, p.baton.handoff, { agent: w.drafter.id } as never))).code,
    ).toBe(ErrorCode.VALIDATION);
    // Nothing changed: no event, no kv entry (checkpoints, the handoff's record), and the
    // thread still waits on the handoff.
    expect((await events(w.store)).length).toBe(before);
    expect((await w.store.kv.list('')).items).toEqual(kvBefore);
    const state = await g.getState(config);
    expect(state.next).toEqual(['ask']);
    expect((await resumeHandoff(g, p.baton.handoff, opts)).resumed).toBe(true);
  });
});

describe('answerHandoff (Agent Inbox responses from the person)', () => {
  it('approves with "allow from now on": the next request of the same action passes without asking', async () => {
    const { w, g, p, request } = await pausedApproval2();
    const decided = await answerHandoff(
      w.me,
      p.baton.handoff,
      { type: 'accept', args: null },
      { allowFromNowOn: true },
    );
    expect(decided.status).toBe('approved');
    await resumeHandoff(g, p.baton.handoff, { workspace: w.workspace, agent: w.drafter.id });
    const next = graph(request);
    const out = await next.g.invoke(
      {},
      batonConfig({ workspace: w.workspace, agent: w.drafter.id, threadId: 't2' }),
    );
    expect(out.answer).toEqual({ type: 'accept', args: null });
    expect(next.counts.runs).toBe(1);
    // The grant is Ada's own act, in the log.
    const grants = (await w.me.capabilities.list({ audience: w.drafter.id })).items;
    expect(
      grants.some((x) => x.actions.includes('publish') && !x.constraints.requiresApproval),
    ).toBe(true);

    async function pausedApproval2() {
      const w = await world();
      const request = {
        action: 'publish',
        resource: `artifact:${w.doc.id}`,
        interrupt: ask('publish'),
      };
      const made = graph(request);
      const p = await paused(
        made.g,
        batonConfig({ workspace: w.workspace, agent: w.drafter.id, threadId: 't1' }),
      );
      return { w, ...made, p, request };
    }
  });

  it('maps edit to an approval of the edited payload, response to a denial with the note, and a question answer passes through', async () => {
    const w = await world();
    const r1 = await w.workspace.as(w.drafter.id).handoffs.requestApproval({
      action: 'publish',
      resource: `artifact:${w.doc.id}`,
      payload: { channel: 'blog' },
    });
    const edited = await answerHandoff(w.me, r1.id, {
      type: 'edit',
      args: { action: 'publish', args: { channel: 'news' } },
    });
    expect(edited.approvedPayload).toEqual({ channel: 'news' });
    const r2 = await w.workspace.as(w.drafter.id).handoffs.requestApproval({
      action: 'publish',
      resource: `artifact:${w.doc.id}`,
      payload: { channel: 'x' },
    });
    const denied = await answerHandoff(w.me, r2.id, { type: 'response', args: 'no' });
    expect(denied.status).toBe('denied');
    const q = await w.workspace.as(w.drafter.id).handoffs.ask({ to: w.ada.id, question: 'Day?' });
    const answered = await answerHandoff(w.me, q.id, {
      type: 'edit',
      args: { action: 'x', args: { day: 'Tue' } },
    });
    expect(answered.answer?.value).toEqual({
      type: 'edit',
      args: { action: 'x', args: { day: 'Tue' } },
    });
    const bad = await refusal(answerHandoff(w.me, q.id, { type: 'maybe', args: null } as never));
    expect(bad.code).toBe(ErrorCode.VALIDATION);
  });
});

describe('requestHuman with the Agent Inbox schema', () => {
  it('pauses with a list of HumanInterrupts as the interrupt value, and returns whatever HumanResponse a UI resumes with (accept, edit, respond, ignore)', async () => {
    const responses: HumanResponse[] = [
      { type: 'accept', args: null },
      { type: 'edit', args: { action: 'publish', args: { channel: 'news' } } },
      { type: 'response', args: 'Not this week' },
      { type: 'ignore', args: null },
    ];
    for (const response of responses) {
      const w = await world();
      const { g, counts } = graph({
        action: 'publish',
        resource: `artifact:${w.doc.id}`,
        interrupt: ask('publish'),
      });
      const config = batonConfig({ workspace: w.workspace, agent: w.drafter.id, threadId: 't' });
      const out = (await g.invoke({}, config)) as { __interrupt__?: { value: unknown }[] };
      // What an Agent Inbox reads: one interrupt whose value is a list of HumanInterrupts.
      const value = out.__interrupt__![0]!.value as HumanInterrupt[];
      expect(value).toHaveLength(1);
      expect(value[0]).toMatchObject(ask('publish'));
      // What it sends back: a list of HumanResponses, straight to LangGraph.
      const resumed = await g.invoke(new Command({ resume: [response] }), config);
      expect(resumed.answer).toEqual(response);
      expect(counts).toEqual({ runs: 2, after: 1 });
    }
  });

  it("asks the approvers the agent's grant names for the action, not the grantor", async () => {
    const w = await world();
    const bob = await w.me.identities.create({ kind: 'human', name: 'Bob' });
    const reviewer = await w.me.identities.create({ kind: 'agent', name: 'reviewer' });
    await w.me.capabilities.grant({
      to: reviewer.id,
      resource: 'artifact:*',
      actions: ['publish'],
      requiresApproval: [{ action: 'publish', approvers: [bob.id] }],
    });
    const { g } = graph({
      action: 'publish',
      resource: `artifact:${w.doc.id}`,
      interrupt: ask('publish'),
    });
    const p = await paused(
      g,
      batonConfig({ workspace: w.workspace, agent: reviewer.id, threadId: 't' }),
    );
    expect(p.baton).toMatchObject({ kind: 'approval', to: [bob.id] });
    expect((await w.workspace.as(bob.id).inbox()).items.map((i) => i.id)).toEqual([
      p.baton.handoff,
    ]);
    expect((await w.me.inbox()).items).toEqual([]);
  });
});

describe('requestHuman inside a tool', () => {
  it('asks from a tool the model called, once, and the tool returns the answer when resumed', async () => {
    const w = await world();
    let asked = 0;
    const askAda = tool(
      async ({ question }) => {
        asked++;
        const answer = await requestHuman({
          to: 'Ada',
          interrupt: {
            action_request: { action: question, args: {} },
            config: {
              allow_accept: false,
              allow_edit: false,
              allow_respond: true,
              allow_ignore: true,
            },
          },
        });
        return answer.type === 'response' ? `Ada says: ${answer.args}` : 'Ada did not answer';
      },
      { name: 'ask_ada', description: 'Ask Ada.', schema: z.object({ question: z.string() }) },
    );
    const model = fakeModel()
      .respondWithTools([{ name: 'ask_ada', args: { question: 'Which day?' }, id: 'c1' }])
      .respond(new AIMessage('ok'));
    const g = new StateGraph(MessagesAnnotation)
      .addNode('agent', async (s) => ({
        messages: [await model.bindTools([askAda]).invoke(s.messages)],
      }))
      .addNode('tools', new ToolNode([askAda]))
      .addEdge(START, 'agent')
      .addConditionalEdges('agent', toolsCondition, ['tools', END])
      .addEdge('tools', 'agent')
      .compile({ checkpointer: new BatonCheckpointSaver({ store: w.store }) });
    const config = batonConfig({ workspace: w.workspace, agent: w.drafter.id, threadId: 't' });
    const [p] = humanInterrupts(
      await g.invoke({ messages: [{ role: 'user', content: 'ask' }] }, config),
    );
    expect(p!.baton).toMatchObject({ kind: 'question', to: [w.ada.id] });
    await w.me.handoffs.answer(p!.baton.handoff, 'Tuesday');
    const r = await resumeHandoff(g, p!.baton.handoff, { workspace: w.workspace });
    const messages = (r.result as { messages: BaseMessage[] }).messages;
    expect(messages.filter((m) => m.getType() === 'tool').map((m) => m.content)).toEqual([
      'Ada says: Tuesday',
    ]);
    expect(asked).toBe(2);
    const offered = (await events(w.store)).filter((e) => e.type.startsWith('handoff.offered@'));
    expect(offered).toHaveLength(1);
  });
});

describe('resumeHandoff(graph, handoffId)', () => {
  it('needs only the graph and the handoff when the graph is bound to the run, or only the workspace', async () => {
    const w = await world();
    const saver = new BatonCheckpointSaver({ store: w.store });
    const { g, counts } = graph({ to: 'Ada', interrupt: ask('Which day?') }, saver);
    const config = batonConfig({ workspace: w.workspace, agent: w.drafter.id, threadId: 't' });
    const p = await paused(g, config);
    await w.me.handoffs.answer(p.baton.handoff, 'Friday');
    const r = await resumeHandoff(g.withConfig(config), p.baton.handoff);
    expect(r).toMatchObject({ resumed: true, response: { type: 'response', args: 'Friday' } });
    expect(counts).toEqual({ runs: 2, after: 1 });
    expect((await resumeHandoff(g, p.baton.handoff, { workspace: w.workspace })).resumed).toBe(
      false,
    );
    const none = await refusal(resumeHandoff(g, p.baton.handoff));
    expect(none.code).toBe(ErrorCode.VALIDATION);
    expect(none.message).toMatch(/no workspace\. Pass \{ workspace \}/);
  });

  it('refuses while a process on another host holds the resume, and takes over only when told to', async () => {
    const w = await world();
    const { g, counts } = graph(
      { action: 'publish', resource: `artifact:${w.doc.id}`, interrupt: ask('publish') },
      new BatonCheckpointSaver({ store: w.store }),
    );
    const config = batonConfig({ workspace: w.workspace, agent: w.drafter.id, threadId: 't' });
    const p = await paused(g, config);
    await w.me.handoffs.approve(p.baton.handoff);
    // A resume claimed by a process on another machine, which may still be running.
    const key = `langgraph/human/${p.baton.handoff}`;
    const record = (await w.store.kv.get(key)) as Record<string, unknown>;
    const claim = { id: 'elsewhere', at: new Date().toISOString(), host: 'other-host', pid: 1 };
    await w.store.kv.put(key, { ...record, claim });
    const opts = { workspace: w.workspace };
    const busy = await refusal(resumeHandoff(g, p.baton.handoff, opts));
    expect(busy.code).toBe(ErrorCode.CONFLICT);
    expect(busy.message).toMatch(/pid 1 on other-host.*pass \{ takeOver: true \}/);
    expect(counts.runs).toBe(1);
    const r = await resumeHandoff(g, p.baton.handoff, { ...opts, takeOver: true });
    expect(r.resumed).toBe(true);
    expect(counts).toEqual({ runs: 2, after: 1 });
  });

  it('releases its claim when the resumed node throws, so the resume can be retried', async () => {
    const w = await world();
    let fail = true;
    const g = new StateGraph(State)
      .addNode('ask', async () => {
        const answer = await requestHuman({ to: 'Ada', interrupt: ask('Day?') });
        if (fail) throw new Error('the mail server is down');
        return { answer, after: 1 };
      })
      .addEdge(START, 'ask')
      .addEdge('ask', END)
      .compile({ checkpointer: new BatonCheckpointSaver({ store: w.store }) });
    const config = batonConfig({ workspace: w.workspace, agent: w.drafter.id, threadId: 't' });
    const p = await paused(g, config);
    await w.me.handoffs.answer(p.baton.handoff, 'Monday');
    const opts = { workspace: w.workspace };
    await expect(resumeHandoff(g, p.baton.handoff, opts)).rejects.toThrow(/mail server/);
    fail = false;
    const r = await resumeHandoff(g, p.baton.handoff, opts);
    expect(r.resumed).toBe(true);
    expect((r.result as { answer: HumanResponse }).answer).toEqual({
      type: 'response',
      args: 'Monday',
    });
  });
});
