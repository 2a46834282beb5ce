import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BatonError, ErrorCode, type JsonValue, type Workspace } from '@baton/core';
import { Agent, RunContext, tool, Usage } from '@openai/agents-core';
import { assistantMessage, functionCall, ScriptedModel } from '@openai/agents-core/testing';
import { describe, expect, it, onTestFinished } from 'vitest';
import { z } from 'zod';
import { approveHandoff, BatonAgents, BatonSession } from '../src/index.js';
import { buildGraph, type Ids, openWorld, published, setupWorld } from './fixtures/world.js';

async function world(): Promise<{ dir: string; ids: Ids; ws: Workspace }> {
  const dir = mkdtempSync(join(tmpdir(), 'baton-oa-'));
  const ids = await setupWorld(dir);
  const ws = await openWorld(dir);
  onTestFinished(async () => {
    await ws.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, ids, ws };
}

const toolNames = (m: ScriptedModel, i = 0) =>
  (m.calls[i]?.request.tools ?? []).map((t) => (t as { name: string }).name);

async function refusal(p: Promise<unknown>): Promise<BatonError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'expected a BatonError').toBeDefined();
  return err as BatonError;
}

/** Everything a refused call must leave as it was: the log head and the kv area. */
async function snapshot(ws: Workspace) {
  return { head: await ws.store.head(), kv: (await ws.store.kv.list('', { limit: 1_000 })).items };
}

/** The writer pauses on publish (call c1) and returns its run's first approval handoff. */
async function pausedPublish(w: { dir: string; ids: Ids; ws: Workspace }) {
  const writer = new ScriptedModel([
    [functionCall('publish', { title: 'Launch' }, { callId: 'c1' })],
  ]);
  const g = buildGraph(w.ws, w.ids, w.dir, { triage: new ScriptedModel([]), writer });
  const r = await g.baton.run(g.writer, 'Publish the launch post');
  expect(r.handoffs).toHaveLength(1);
  return { g, r, writer, handoffId: r.handoffs[0]!.id };
}

describe('tools that follow the acting agent’s grants', () => {
  it('hides a tool from an agent without a grant, and refuses a forced call writing nothing', async () => {
    const w = await world();
    const intern = new ScriptedModel([[assistantMessage('I cannot publish.')]]);
    const writer = new ScriptedModel([[assistantMessage('ok')]]);
    const g = buildGraph(w.ws, w.ids, w.dir, { triage: new ScriptedModel([]), writer, intern });
    await g.baton.run(g.intern, 'Publish it');
    expect(toolNames(intern)).not.toContain('publish');
    await g.baton.run(g.writer, 'Publish it');
    expect(toolNames(writer)).toContain('publish');
    // The writer's tool in the intern's hands stays hidden: it would act as the writer.
    const borrowed = new ScriptedModel([[assistantMessage('No.')]]);
    await g.baton.run(g.intern.clone({ model: borrowed, tools: g.writer.tools }), 'Publish it');
    expect(toolNames(borrowed)).toEqual([]);

    const before = await snapshot(w.ws);
    const forced = g.publishFor('intern');
    const out = await forced.invoke(new RunContext(), JSON.stringify({ title: 'Sneaky' }), {
      toolCall: functionCall('publish', { title: 'Sneaky' }, { callId: 'x1' }),
    });
    expect(String(out)).toMatch(/^Refused: .*may not publish on site:blog/);
    expect(published(w.dir)).toEqual([]);
    expect(await snapshot(w.ws)).toEqual(before);
  });

  it('lets a person always allow the call: a narrower grant without the approval rule, signed by them', async () => {
    const w = await world();
    const { handoffId } = await pausedPublish(w);
    // #region always
    await approveHandoff(w.ws.as(w.ids.ada), handoffId, {
      always: true,
      note: 'Go ahead from now on',
    });
    // #endregion always
    const grants = await w.ws.as(w.ids.ada).capabilities.list({ audience: w.ids.writer });
    const slider = grants.items.find(
      (x) => x.resource === 'site:blog' && !x.constraints?.requiresApproval,
    );
    expect(slider).toMatchObject({ issuer: w.ids.ada, actions: ['publish'] });

    const writer = new ScriptedModel([
      [assistantMessage('Published.')],
      [functionCall('publish', { title: 'Second' }, { callId: 'c2' })],
      [assistantMessage('Published again.')],
    ]);
    const g = buildGraph(w.ws, w.ids, w.dir, { triage: new ScriptedModel([]), writer });
    const resumed = await g.baton.resumeHandoff({ handoffId, agent: g.writer });
    expect(resumed.handoffs).toEqual([]);
    const next = await g.baton.run(g.writer, 'Publish the second post');
    expect(next.handoffs).toEqual([]);
    expect(published(w.dir)).toEqual([`Launch by ${w.ids.writer}`, `Second by ${w.ids.writer}`]);
    expect((await w.ws.verify()).ok).toBe(true);
  });
});

describe('always allow by an approver who may not grant', () => {
  it('refuses "always" before deciding anything, and the approval stays open', async () => {
    const w = await world();
    const ada = w.ws.as(w.ids.ada);
    const bob = (await ada.identities.create({ kind: 'human', name: 'Bob', generateKey: true })).id;
    await ada.capabilities.grant({ to: bob, resource: 'site:blog', actions: ['approve'] });
    const pub = await ada.capabilities.list({ audience: w.ids.writer });
    for (const g of pub.items.filter((x) => x.resource === 'site:blog'))
      await ada.capabilities.revoke(g.id);
    await ada.capabilities.grant({
      to: w.ids.writer,
      resource: 'site:blog',
      actions: ['publish'],
      requiresApproval: [{ action: 'publish', approvers: [bob] }],
    });
    const { handoffId } = await pausedPublish(w);
    const before = await snapshot(w.ws);
    const err = await refusal(approveHandoff(w.ws.as(bob), handoffId, { always: true }));
    expect(err.code).toBe(ErrorCode.FORBIDDEN);
    expect(err.message).toMatch(/cannot move the slider\. Approve without `always`/);
    expect(await snapshot(w.ws)).toEqual(before);
    expect((await ada.handoffs.get(handoffId)).status).toBe('offered');
    expect((await approveHandoff(w.ws.as(bob), handoffId)).status).toBe('approved');
  });
});

describe('approvals decided with edited arguments', () => {
  it('runs the tool once with the arguments the person approved, not the model’s', async () => {
    const w = await world();
    const { handoffId } = await pausedPublish(w);
    await approveHandoff(w.ws.as(w.ids.ada), handoffId, {
      arguments: { title: 'Launch day (edited)' },
    });
    const approved = await w.ws.as(w.ids.ada).handoffs.get(handoffId);
    expect(approved.approvedPayload).toEqual({
      tool: 'publish',
      callId: 'c1',
      arguments: { title: 'Launch day (edited)' },
    });
    const writer = new ScriptedModel([[assistantMessage('Published.')]]);
    const g = buildGraph(w.ws, w.ids, w.dir, { triage: new ScriptedModel([]), writer });
    const done = await g.baton.resumeHandoff({ handoffId, agent: g.writer });
    expect(done.result.finalOutput).toBe('Published.');
    expect(published(w.dir)).toEqual([`Launch day (edited) by ${w.ids.writer}`]);
    const input = writer.calls[0]!.request.input as { type: string; output?: unknown }[];
    expect(JSON.stringify(input.find((i) => i.type === 'function_call_result'))).toContain(
      'Published \\"Launch day (edited)\\"',
    );
    expect((await w.ws.verify()).ok).toBe(true);
  });

  it('refuses to resume with an edited payload the tool cannot take, running and changing nothing', async () => {
    const w = await world();
    const { g, handoffId } = await pausedPublish(w);
    const ada = w.ws.as(w.ids.ada);
    const notATitle = await refusal(approveHandoff(ada, 'ho_nope', { arguments: { title: 'x' } }));
    expect(notATitle.code).toBe(ErrorCode.NOT_FOUND);
    await ada.handoffs.approve(handoffId, {
      payload: { tool: 'publish', callId: 'c1', arguments: { title: 42 } },
    });
    const before = await snapshot(w.ws);
    const err = await refusal(g.baton.resumeHandoff({ handoffId, agent: g.writer }));
    expect(err.code).toBe(ErrorCode.VALIDATION);
    expect(err.message).toMatch(/edited payload that has arguments the tool refuses/);
    expect(err.details).toMatchObject({ field: 'approvedPayload' });
    expect(await snapshot(w.ws)).toEqual(before);
    expect(published(w.dir)).toEqual([]);
  });
});

/** A session that gets every history transaction twice, as a retry after a lost reply would. */
class RetriedSession extends BatonSession {
  transactions = 0;
  override async applyHistoryTransaction(
    args: Parameters<BatonSession['applyHistoryTransaction']>[0],
  ): Promise<void> {
    this.transactions++;
    await super.applyHistoryTransaction(args);
    await super.applyHistoryTransaction(structuredClone(args));
  }
}

describe('the conversation under the SDK’s history transactions', () => {
  it('holds each item once when the SDK’s transaction for a blocked output is retried', async () => {
    const w = await world();
    const g = buildGraph(w.ws, w.ids, w.dir, {
      triage: new ScriptedModel([]),
      writer: new ScriptedModel([]),
    });
    const lookup = tool({
      name: 'lookup',
      description: 'Look something up',
      parameters: z.object({ q: z.string() }),
      execute: () => 'found it',
    });
    const model = new ScriptedModel([
      [functionCall('lookup', { q: 'pricing' }, { callId: 'l1' })],
      [assistantMessage('Here is the secret.')],
    ]);
    // An output guardrail that trips: the SDK then keeps the turn's tool call through
    // applyHistoryTransaction({ operationId, … }).
    const writer = new Agent({
      name: 'writer',
      model,
      tools: [lookup],
      outputGuardrails: [
        { name: 'no secrets', execute: async () => ({ tripwireTriggered: true, outputInfo: {} }) },
      ],
    });
    const session = new RetriedSession({ store: w.ws.store, sessionId: 'guarded' });
    const err = await g.baton.run(writer, 'Find the price', { session }).catch((e: unknown) => e);
    expect((err as Error).name).toBe('OutputGuardrailTripwireTriggered');
    expect(session.transactions).toBe(1);
    const keys = (await session.getItems()).map((i) => {
      const x = i as { type: string; role?: string; callId?: string };
      return `${x.type}:${x.callId ?? x.role}`;
    });
    expect(keys).toEqual(['message:user', 'function_call:l1', 'function_call_result:l1']);
  });
});

describe('SDK handoffs between agents', () => {
  it('records the handoff between both identities and gives the receiving agent its briefing', async () => {
    const w = await world();
    const triage = new ScriptedModel([[functionCall('transfer_to_writer', {}, { callId: 'h1' })]]);
    const writer = new ScriptedModel([[assistantMessage('On it.')]]);
    const g = buildGraph(w.ws, w.ids, w.dir, { triage, writer });
    const r = await g.baton.run(g.triage, 'Write the launch post', { batonSession: 'run-7' });
    expect(r.result.finalOutput).toBe('On it.');
    expect(r.result.lastAgent?.name).toBe('writer');
    const offered: { actor: string; session?: string; to: string[] }[] = [];
    for await (const e of w.ws.store.read({}))
      if (e.type.startsWith('handoff.offered'))
        offered.push({ actor: e.actor, session: e.session, to: (e.data as { to: string[] }).to });
    expect(offered).toEqual([{ actor: w.ids.triage, session: 'run-7', to: [w.ids.writer] }]);
    expect(writer.calls[0]!.request.systemInstructions).toMatch(
      /^You write and publish posts\.\n\n## Briefing from the handoff\n\n# Handoff from triage to writer/,
    );
    expect((await w.ws.verify()).ok).toBe(true);
  });
});

describe('recording', () => {
  it('saves a paused run even when the agent may not write to the ContextLog, then says which grant is missing', async () => {
    const w = await world();
    const ada = w.ws.as(w.ids.ada);
    const mute = await ada.identities.create({ kind: 'agent', name: 'mute', generateKey: true });
    await ada.capabilities.grant({
      to: mute.id,
      resource: 'site:blog',
      actions: ['publish'],
      requiresApproval: [{ action: 'publish' }],
    });
    const baton = new BatonAgents({
      workspace: w.ws,
      agents: { mute: mute.id },
      runConfig: { tracingDisabled: true },
    });
    const publish = baton.tool({
      agent: 'mute',
      name: 'publish',
      description: 'Publish',
      parameters: z.object({ title: z.string() }),
      action: 'publish',
      resource: 'site:blog',
      execute: () => 'done',
    });
    const model = new ScriptedModel([
      {
        output: [functionCall('publish', { title: 'x' }, { callId: 'p1' })],
        usage: new Usage({ requests: 1, inputTokens: 5, outputTokens: 1, totalTokens: 6 }),
      },
    ]);
    const err = await refusal(
      baton.run(new Agent({ name: 'mute', model, tools: [publish] }), 'Publish', {
        runId: 'run-mute',
      }),
    );
    expect(err.code).toBe(ErrorCode.FORBIDDEN);
    expect(err.message).toMatch(
      /paused \(its handoffs are saved\).*Grant the agents comment and handoff on workspace/,
    );
    const [saved] = (err.details as { handoffs: string[] }).handoffs;
    expect((await ada.handoffs.get(saved!)).kind).toBe('approval');
    expect(await w.ws.store.kv.get(`openai-agents/handoff/${saved}`)).toEqual({ run: 'run-mute' });
  });
});

describe('questions to a person', () => {
  it('pauses on a question handoff and gives the model the answer after resume', async () => {
    const w = await world();
    const writer = new ScriptedModel([
      [functionCall('ask_person', { question: 'Which date goes in the title?' }, { callId: 'q1' })],
    ]);
    const g = buildGraph(w.ws, w.ids, w.dir, { triage: new ScriptedModel([]), writer });
    // Every history transaction is delivered twice, as a retry after a lost reply would be.
    const session = new RetriedSession({ store: w.ws.store, sessionId: 'ask' });
    const r = await g.baton.run(g.writer, 'Draft the title', { session });
    const [h] = r.handoffs;
    expect(h).toMatchObject({ kind: 'question', from: w.ids.writer, to: [w.ids.ada] });
    expect(h!.questionText).toBe('Which date goes in the title?');
    const early = await refusal(
      g.baton.resumeHandoff({ handoffId: h!.id, agent: g.writer, session }),
    );
    expect(early.code).toBe(ErrorCode.INVALID_STATE);

    await w.ws.as(w.ids.ada).handoffs.answer(h!.id, 'March 3');
    const writer2 = new ScriptedModel([[assistantMessage('Launch — March 3')]]);
    const g2 = buildGraph(w.ws, w.ids, w.dir, { triage: new ScriptedModel([]), writer: writer2 });
    const done = await g2.baton.resumeHandoff({ handoffId: h!.id, agent: g2.writer, session });
    expect(done.result.finalOutput).toBe('Launch — March 3');
    const input = writer2.calls[0]!.request.input as {
      type: string;
      callId?: string;
      output?: unknown;
    }[];
    const answer = input.find((i) => i.type === 'function_call_result' && i.callId === 'q1');
    expect(JSON.stringify(answer?.output)).toContain('March 3');
    const kinds = (await session.getItems()).map((i) => i.type);
    expect(kinds).toEqual(['message', 'function_call', 'function_call_result', 'message']);
  });
});

describe('bad input to resumeHandoff', () => {
  it('refuses an unknown handoff id, a state from another agent graph and a corrupted state, changing nothing', async () => {
    const w = await world();
    const { g, r, writer, handoffId } = await pausedPublish(w);
    await w.ws.as(w.ids.ada).handoffs.approve(handoffId);
    const before = await snapshot(w.ws);

    const unknown = await refusal(g.baton.resumeHandoff({ handoffId: 'ho_nope', agent: g.writer }));
    expect(unknown.code).toBe(ErrorCode.NOT_FOUND);
    expect(unknown.message).toMatch(/No paused run waits on handoff ho_nope/);

    const other = await refusal(g.baton.resumeHandoff({ handoffId, agent: g.intern }));
    expect(other.code).toBe(ErrorCode.VALIDATION);
    expect(other.message).toMatch(/another agent graph/);

    const wrongGraph = await refusal(g.baton.restoreState(g.intern, r.result.state.toString()));
    expect(wrongGraph.code).toBe(ErrorCode.VALIDATION);
    const garbage = await refusal(g.baton.restoreState(g.writer, '{"not":"a state"'));
    expect(garbage.code).toBe(ErrorCode.VALIDATION);
    expect(garbage.message).toMatch(/corrupted or belongs to another agent graph/);

    const key = `openai-agents/run/${r.runId}`;
    const record = (await w.ws.store.kv.get(key)) as Record<string, JsonValue>;
    await w.ws.store.kv.put(key, { ...record, state: `${String(record.state).slice(0, 40)}…` });
    const corrupted = await refusal(g.baton.resumeHandoff({ handoffId, agent: g.writer }));
    expect(corrupted.code).toBe(ErrorCode.VALIDATION);
    await w.ws.store.kv.put(key, record);
    expect(await snapshot(w.ws)).toEqual(before);
    expect(published(w.dir)).toEqual([]);

    writer.enqueue([assistantMessage('Published.')]);
    const ok = await g.baton.resumeHandoff({ handoffId, agent: g.writer });
    expect(ok.handoffs).toEqual([]);
    expect(published(w.dir)).toHaveLength(1);
  });

  it('refuses malformed tool options, naming the field', async () => {
    const w = await world();
    const g = buildGraph(w.ws, w.ids, w.dir, {
      triage: new ScriptedModel([]),
      writer: new ScriptedModel([]),
    });
    const good = {
      agent: 'writer',
      name: 'publish',
      description: 'Publish',
      parameters: z.object({ title: z.string() }),
      action: 'publish',
      resource: 'site:blog',
      execute: () => 'ok',
    };
    for (const [bad, field] of [
      [{ ...good, name: 'has spaces' }, 'name'],
      [{ ...good, parameters: { title: 'string' } }, 'parameters'],
      [{ ...good, resource: '' }, 'resource'],
      [{ ...good, execute: 'publish' }, 'execute'],
    ] as const) {
      const err = await refusal(Promise.resolve().then(() => g.baton.tool(bad as never)));
      expect(err.code).toBe(ErrorCode.VALIDATION);
      expect(err.details).toMatchObject({ field });
      expect(err.message).toMatch(/^BatonAgents\.tool: /);
    }
    const ask = await refusal(
      Promise.resolve().then(() => g.baton.askTool({ agent: 'writer', to: '' })),
    );
    expect(ask.details).toMatchObject({ field: 'to' });
  });

  it('refuses a run for an SDK agent that has no Baton identity', async () => {
    const w = await world();
    const g = buildGraph(w.ws, w.ids, w.dir, {
      triage: new ScriptedModel([]),
      writer: new ScriptedModel([]),
    });
    const stranger = new Agent({ name: 'stranger', model: new ScriptedModel([]) });
    const err = await refusal(g.baton.run(stranger, 'hi'));
    expect(err.code).toBe(ErrorCode.VALIDATION);
    expect(err.message).toMatch(/"stranger" has no Baton identity/);
  });
});
