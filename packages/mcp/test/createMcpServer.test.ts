import { isBatonError, MemoryKeyring, MemoryStore, Workspace } from '@baton/core';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { createMcpServer } from '../src/index.js';
import { connect, memoryWorkspace, textOf } from './fixtures.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

async function setup(options: { approver?: boolean; waitMs?: number; elicit?: boolean } = {}) {
  const { ws, ada, drafter } = await memoryWorkspace();
  const conn = await connect(
    {
      workspace: ws,
      as: drafter.id,
      ...(options.approver ? { approver: ada.id } : {}),
      ...(options.waitMs !== undefined ? { waitMs: options.waitMs } : {}),
    },
    options.elicit ? { capabilities: { elicitation: {} } } : {},
  );
  closers.push(conn.close, () => ws.close());
  return { ws, ada, drafter, client: conn.client };
}

describe('createMcpServer', () => {
  it('lists every tool with a truthful read-only or non-destructive annotation and a described input schema', async () => {
    const { client } = await setup();
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name).sort();
    expect(names).toEqual(
      [
        'accept_handoff',
        'ask_person',
        'can',
        'complete_handoff',
        'create_artifact',
        'edit_artifact',
        'get_briefing',
        'list_artifacts',
        'my_inbox',
        'offer_handoff',
        'query_context',
        'read_artifact',
        'record_context',
        'request_approval',
        'return_handoff',
        'search_artifacts',
        'whoami',
      ].sort(),
    );
    const reads = [
      'can',
      'get_briefing',
      'list_artifacts',
      'my_inbox',
      'query_context',
      'read_artifact',
      'search_artifacts',
      'whoami',
    ];
    for (const t of tools) {
      expect(t.description, t.name).toBeTruthy();
      expect(t.annotations?.readOnlyHint, t.name).toBe(reads.includes(t.name));
      if (!reads.includes(t.name)) expect(t.annotations?.destructiveHint, t.name).toBe(false);
      for (const [field, schema] of Object.entries(
        (t.inputSchema.properties ?? {}) as Record<string, { description?: string }>,
      ))
        expect(schema.description, `${t.name}.${field}`).toBeTruthy();
    }
  });

  it('reads, edits with a reason and records context as the agent, signed by its key', async () => {
    const { ws, ada, drafter, client } = await setup();
    const doc = await ws
      .as(ada.id)
      .artifacts.create({ kind: 'text', title: 'Launch post', content: 'Hello\n' });
    const read = await client.callTool({ name: 'read_artifact', arguments: { id: doc.id } });
    expect(read.isError).toBeFalsy();
    expect(textOf(read)).toContain('Hello');
    expect(read.structuredContent).toMatchObject({ id: doc.id, title: 'Launch post', version: 1 });

    const edit = await client.callTool({
      name: 'edit_artifact',
      arguments: {
        id: doc.id,
        baseVersion: 1,
        content: 'Hello, world\n',
        reason: 'warmer greeting',
      },
    });
    expect(edit.isError, textOf(edit)).toBeFalsy();
    const rec = await client.callTool({
      name: 'record_context',
      arguments: {
        type: 'decision',
        text: 'Lead with the greeting',
        why: 'it is friendlier',
        about: [doc.id],
      },
    });
    expect(rec.isError, textOf(rec)).toBeFalsy();

    const head = await ws.as(ada.id).artifacts.get(doc.id);
    expect(head.content).toBe('Hello, world\n');
    expect(head.updatedBy).toBe(drafter.id);
    // The edit replaced the head, not the version before it (why edit is not destructive).
    const before = await client.callTool({
      name: 'read_artifact',
      arguments: { id: doc.id, version: 1 },
    });
    expect(before.structuredContent).toMatchObject({ version: 1, head: 2 });
    expect(textOf(before)).toContain('Hello\n');
    const page = await ws.as(ada.id).log({ types: ['artifact.edited', 'context.recorded'] });
    expect(page.items.map((e) => e.actor)).toEqual([drafter.id, drafter.id]);
    expect((await ws.verify()).ok).toBe(true);
  });

  it('reads the artifact as it stands after any commit, and refuses a read once the grant expired', async () => {
    let now = Date.now();
    const ws = await Workspace.open({
      store: new MemoryStore(),
      keyring: new MemoryKeyring(),
      tickIntervalMs: 0,
      clock: () => now,
    });
    const ada = await ws.bootstrap({ name: 'Ada' });
    const me = ws.as(ada.id);
    const reader = await me.identities.create({ kind: 'agent', name: 'reader' });
    await me.capabilities.grant({
      to: reader.id,
      resource: 'artifact:*',
      actions: ['read'],
      expiresAt: new Date(now + 60_000).toISOString(),
    });
    const doc = await me.artifacts.create({ kind: 'text', title: 'Doc', content: 'one\n' });
    const conn = await connect({ workspace: ws, as: reader.id });
    closers.push(conn.close, () => ws.close());
    const read = () => conn.client.callTool({ name: 'read_artifact', arguments: { id: doc.id } });
    expect(textOf(await read())).toContain('one');
    expect(textOf(await read())).toContain('one');
    await me.artifacts.edit(doc.id, { baseVersion: 1, content: 'two\n', reason: 'r' });
    expect(textOf(await read())).toContain('two');
    expect((await read()).structuredContent).toMatchObject({ version: 2 });
    now += 120_000; // past the grant's expiry, with nothing committed
    const refused = await read();
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toMatch(/NOT_FOUND|FORBIDDEN/);
  });

  it('records every kind of context — note, attempt, learned, decision, question, todo, usage — and queries it back', async () => {
    const { ws, ada, drafter, client } = await setup();
    const doc = await ws
      .as(ada.id)
      .artifacts.create({ kind: 'text', title: 'Launch post', content: 'Hello\n' });
    const records = [
      { type: 'note', text: 'The intro is long' },
      { type: 'attempt', text: 'Shortened to one line', outcome: 'failed' },
      { type: 'learned', text: 'Ada prefers short intros' },
      { type: 'decision', text: 'Two lines', why: 'clearer', alternatives: ['one line'] },
      { type: 'question', text: 'Which title?', options: ['A', 'B'] },
      { type: 'todo', text: 'Check the pricing line' },
      { type: 'usage', text: 'drafting', usage: { model: 'm', inputTokens: 10, outputTokens: 5 } },
    ];
    for (const r of records) {
      const res = await client.callTool({
        name: 'record_context',
        arguments: { ...r, about: [doc.id] },
      });
      expect(res.isError, textOf(res)).toBeFalsy();
      expect(res.structuredContent).toMatchObject({
        type: r.type,
        actor: drafter.id,
        text: r.text,
      });
    }
    const q = await client.callTool({
      name: 'query_context',
      arguments: { about: [doc.id], actor: drafter.id },
    });
    expect(q.isError, textOf(q)).toBeFalsy();
    const entries = (q.structuredContent as { entries: { type: string; text: string }[] }).entries;
    expect(entries.map((e) => e.type).sort()).toEqual(records.map((r) => r.type).sort());
    const todos = await client.callTool({
      name: 'query_context',
      arguments: { types: ['todo'], text: 'pricing' },
    });
    expect(
      (todos.structuredContent as { entries: { text: string }[] }).entries.map((e) => e.text),
    ).toEqual(['Check the pricing line']);
    const page = await ws.as(ada.id).log({ types: ['context.recorded'] });
    expect(page.items.map((e) => e.actor)).toEqual(records.map(() => drafter.id));
    expect((await ws.verify()).ok).toBe(true);
  });

  it('merges an edit made from an old version, and returns a conflict the agent can act on without writing', async () => {
    const { ws, ada, client } = await setup();
    const me = ws.as(ada.id);
    const doc = await me.artifacts.create({ kind: 'text', title: 'Plan', content: 'a\nb\nc\n' });
    await me.artifacts.edit(doc.id, { baseVersion: 1, content: 'A\nb\nc\n', reason: 'caps' });
    const merged = await client.callTool({
      name: 'edit_artifact',
      arguments: { id: doc.id, baseVersion: 1, content: 'a\nb\nC\n', reason: 'caps at the end' },
    });
    expect(merged.isError, textOf(merged)).toBeFalsy();
    expect(textOf(merged)).toContain('merged');
    expect((await me.artifacts.get(doc.id)).content).toBe('A\nb\nC\n');

    const conflict = await client.callTool({
      name: 'edit_artifact',
      arguments: {
        id: doc.id,
        baseVersion: 1,
        content: 'x\nb\nc\n',
        reason: 'different first line',
      },
    });
    expect(conflict.isError).toBe(true);
    expect(textOf(conflict)).toMatch(/MERGE_CONFLICT/);
    expect(textOf(conflict)).toMatch(/baseVersion 3/);
    expect((await me.artifacts.get(doc.id)).version).toBe(3);
  });

  it('refuses an edit without a write grant as a tool error naming the missing grant, and writes nothing', async () => {
    const { ws, ada } = await setup();
    const me = ws.as(ada.id);
    const reader = await me.identities.create({ kind: 'agent', name: 'reader' });
    await me.capabilities.grant({ to: reader.id, resource: 'artifact:*', actions: ['read'] });
    const doc = await me.artifacts.create({ kind: 'text', title: 'Doc', content: 'one\n' });
    const conn = await connect({ workspace: ws, as: reader.id });
    closers.push(conn.close);
    const head = await ws.head();
    const r = await conn.client.callTool({
      name: 'edit_artifact',
      arguments: { id: doc.id, baseVersion: 1, content: 'two\n', reason: 'try' },
    });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/FORBIDDEN/);
    expect(textOf(r)).toContain(`\`write\` on \`artifact:${doc.id}\``);
    expect(await ws.head()).toEqual(head);
  });

  it('answers malformed arguments with a validation error naming the field, and writes nothing', async () => {
    const { ws, ada, client } = await setup();
    const doc = await ws
      .as(ada.id)
      .artifacts.create({ kind: 'text', title: 'Doc', content: 'one\n' });
    const head = await ws.head();
    const r = await client.callTool({
      name: 'edit_artifact',
      arguments: { id: doc.id, baseVersion: 'one', content: 'two\n', reason: 'x' },
    });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain('baseVersion');
    const missing = await client.callTool({
      name: 'edit_artifact',
      arguments: { id: doc.id, baseVersion: 1, content: 'two\n' },
    });
    expect(missing.isError).toBe(true);
    expect(textOf(missing)).toContain('reason');
    const extra = await client.callTool({
      name: 'record_context',
      arguments: { type: 'note', text: 'x', bogus: 1 },
    });
    expect(extra.isError).toBe(true);
    expect(textOf(extra)).toContain('bogus');
    expect(await ws.head()).toEqual(head);
  });

  it('lists, searches and creates artifacts, and says what the agent may do', async () => {
    const { client } = await setup();
    const made = await client.callTool({
      name: 'create_artifact',
      arguments: { title: 'Pricing notes', content: 'Tiers: free, pro\n', reason: 'start' },
    });
    expect(made.isError, textOf(made)).toBeFalsy();
    const id = (made.structuredContent as { id: string }).id;
    const list = await client.callTool({ name: 'list_artifacts', arguments: {} });
    expect(
      (list.structuredContent as { artifacts: { id: string }[] }).artifacts.map((a) => a.id),
    ).toEqual([id]);
    const found = await client.callTool({ name: 'search_artifacts', arguments: { query: 'PRO' } });
    expect(
      (found.structuredContent as { artifacts: { id: string }[] }).artifacts.map((a) => a.id),
    ).toEqual([id]);
    const none = await client.callTool({
      name: 'search_artifacts',
      arguments: { query: 'enterprise' },
    });
    expect((none.structuredContent as { artifacts: unknown[] }).artifacts).toEqual([]);
    const can = await client.callTool({
      name: 'can',
      arguments: { action: 'write', resource: `artifact:${id}` },
    });
    expect(can.structuredContent).toMatchObject({ allowed: true });
    const gated = await client.callTool({
      name: 'can',
      arguments: { action: 'publish', resource: `artifact:${id}` },
    });
    expect(gated.structuredContent).toMatchObject({ allowed: false, needsApproval: true });
  });

  it('hands work over: offers, reads the inbox and briefing, accepts, completes and returns', async () => {
    const { ws, ada, drafter, client } = await setup();
    const me = ws.as(ada.id);
    const doc = await me.artifacts.create({ kind: 'text', title: 'Post', content: 'v1\n' });
    await me.capabilities
      .grant({ to: ada.id, resource: 'artifact:*', actions: ['handoff'] })
      .catch(() => undefined);
    const h = await me.handoffs.offer({
      to: drafter.id,
      artifacts: [doc.id],
      note: 'Tighten the intro',
      questions: ['Too long?'],
    });
    const inbox = await client.callTool({ name: 'my_inbox', arguments: {} });
    expect((inbox.structuredContent as { items: { id: string }[] }).items.map((i) => i.id)).toEqual(
      [h.id],
    );
    const brief = await client.callTool({ name: 'get_briefing', arguments: { handoff: h.id } });
    expect(textOf(brief)).toContain('Tighten the intro');
    const accepted = await client.callTool({
      name: 'accept_handoff',
      arguments: { handoff: h.id },
    });
    expect(accepted.isError, textOf(accepted)).toBeFalsy();
    const done = await client.callTool({
      name: 'complete_handoff',
      arguments: { handoff: h.id, note: 'done' },
    });
    expect(done.structuredContent).toMatchObject({ status: 'completed' });

    const back = await client.callTool({
      name: 'offer_handoff',
      arguments: { to: 'Ada', artifacts: [doc.id], note: 'Your turn', questions: ['Ship it?'] },
    });
    expect(back.isError, textOf(back)).toBeFalsy();
    const hid = (back.structuredContent as { id: string }).id;
    expect((await me.inbox()).items.map((i) => i.id)).toContain(hid);
    const h2 = await me.handoffs.offer({ to: drafter.id, artifacts: [doc.id], note: 'again' });
    await client.callTool({ name: 'accept_handoff', arguments: { handoff: h2.id } });
    const returned = await client.callTool({
      name: 'return_handoff',
      arguments: { handoff: h2.id, note: 'not mine' },
    });
    expect(returned.structuredContent).toMatchObject({ status: 'returned' });
    const again = await client.callTool({ name: 'return_handoff', arguments: { handoff: h2.id } });
    expect(again.isError).toBe(true);
    expect(textOf(again)).toMatch(/INVALID_STATE/);
  });

  it('asks a person, returns the pending question on a short wait, and the answer on a later call', async () => {
    const { ws, ada, drafter, client } = await setup();
    // Asking a question is a handoff about the workspace.
    await ws.as(ada.id).capabilities.grant({
      to: drafter.id,
      resource: 'workspace',
      actions: ['handoff', 'comment'],
    });
    const doc = await ws
      .as(drafter.id)
      .artifacts.create({ kind: 'text', title: 'Post', content: 'x\n' });
    const first = await client.callTool({
      name: 'ask_person',
      arguments: {
        to: 'Ada',
        question: 'Which tone?',
        options: ['formal', 'casual'],
        about: [doc.id],
        waitMs: 0,
      },
    });
    const id = (first.structuredContent as { id: string; status: string }).id;
    expect(first.structuredContent).toMatchObject({ status: 'offered' });
    expect(textOf(first)).toContain(id);
    await ws.as(ada.id).handoffs.answer(id, 'casual');
    const later = await client.callTool({
      name: 'ask_person',
      arguments: { questionId: id, waitMs: 0 },
    });
    expect(later.structuredContent).toMatchObject({
      status: 'answered',
      answer: { value: 'casual' },
    });
  });

  it('requests approval, returns the pending id on a short wait, and a later call returns approved and uses it', async () => {
    const { ws, ada, drafter, client } = await setup();
    const doc = await ws
      .as(drafter.id)
      .artifacts.create({ kind: 'text', title: 'Post', content: 'x\n' });
    const args = {
      action: 'publish',
      resource: `artifact:${doc.id}`,
      summary: 'Publish the post',
      waitMs: 0,
    };
    const first = await client.callTool({ name: 'request_approval', arguments: args });
    expect(first.isError, textOf(first)).toBeFalsy();
    expect(first.structuredContent).toMatchObject({ status: 'pending' });
    const id = (first.structuredContent as { id: string }).id;
    // Asking again for the same thing gives the same request.
    const again = await client.callTool({ name: 'request_approval', arguments: args });
    expect((again.structuredContent as { id: string }).id).toBe(id);
    expect((await ws.as(ada.id).inbox({ kinds: ['approval'] })).items.map((i) => i.id)).toEqual([
      id,
    ]);

    const waiting = client.callTool({
      name: 'request_approval',
      arguments: { ...args, approvalId: id, waitMs: 20_000 },
    });
    await new Promise((r) => setTimeout(r, 50));
    await ws.as(ada.id).handoffs.approve(id);
    const done = await waiting;
    expect(done.isError, textOf(done)).toBeFalsy();
    expect(done.structuredContent).toMatchObject({ status: 'approved', id });
    expect((await ws.as(ada.id).handoffs.get(id)).status).toBe('consumed');
  });

  it('asks the approver in place when the client can show a form and their key is held', async () => {
    const { ws, ada, drafter } = await setup();
    const conn = await connect(
      { workspace: ws, as: drafter.id, approver: ada.id, waitMs: 0 },
      { capabilities: { elicitation: {} } },
    );
    closers.push(conn.close);
    const asked: string[] = [];
    conn.client.setRequestHandler(ElicitRequestSchema, async (req) => {
      asked.push(String(req.params.message));
      return { action: 'accept', content: { decision: 'approve', note: 'go' } };
    });
    const doc = await ws
      .as(drafter.id)
      .artifacts.create({ kind: 'text', title: 'Post', content: 'x\n' });
    const r = await conn.client.callTool({
      name: 'request_approval',
      arguments: { action: 'publish', resource: `artifact:${doc.id}` },
    });
    expect(r.structuredContent, textOf(r)).toMatchObject({ status: 'approved' });
    expect(asked[0]).toContain('publish');
    const h = await ws.as(ada.id).handoffs.get((r.structuredContent as { id: string }).id);
    expect(h.decision?.by).toBe(ada.id);
  });

  it('refuses options naming no identity', async () => {
    const { ws } = await memoryWorkspace();
    let caught: unknown;
    try {
      createMcpServer({ workspace: ws, as: 'id_nobody' });
    } catch (err) {
      caught = err;
    }
    expect(isBatonError(caught)).toBe(true);
    await ws.close();
  });
});
