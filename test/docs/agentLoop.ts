/**
 * The example program quoted by docs/agents.md: an agent's loop against a workspace it
 * shares with a person through one SQLite file. The agent makes its own key in its own key
 * directory; Ada registers it by its did:key and grants it work; the agent waits on its
 * inbox, takes the work, asks Ada a question, hits an action that needs her approval and
 * waits for it, records its tool calls and model usage, and hands the work back. The two
 * sides are two Workspace instances on the file, as two processes would be; Ada's side
 * answers from a watch loop. Works in a temporary directory and removes it.
 * test/docs.test.ts runs it and checks what it prints.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Actor, type InboxItem, isBatonError, Workspace } from '@baton/core';
import { KeyDirectory } from '@baton/core/node';
import { SqliteStore } from '@baton/sqlite';

const dir = mkdtempSync(join(tmpdir(), 'baton-docs-agents-'));
try {
  const path = join(dir, 'baton.db');
  const agentKeyDir = join(dir, 'agent-keys');
  const people = await Workspace.open({
    store: new SqliteStore({ path }),
    keyring: new KeyDirectory({ path: join(dir, 'ada-keys') }),
    tickIntervalMs: 0,
  });
  const ada = await people.bootstrap({ name: 'Ada' });
  const me = people.as(ada.id);

  // #region key
  // The agent's process: a key of its own, in a directory only it reads (0700, files 0600).
  const keys = new KeyDirectory({ path: agentKeyDir });
  const did = await keys.generate('pending'); // did:key:z6Mk… — public, safe to hand over
  // #endregion key

  // #region register
  // Ada's side (or `baton id create drafter --kind agent --key did:key:…`): register the
  // agent by its public key and grant it what its work needs. `handoff` lets it hand work
  // back; `publish` needs her yes each time; `handoff` on `workspace` lets it ask her a
  // question that is not about one artifact's handoff.
  const drafter = await me.identities.create({ kind: 'agent', name: 'drafter', key: did });
  await me.capabilities.grant({
    to: drafter.id,
    resource: 'artifact:*',
    actions: ['read', 'create', 'write', 'comment', 'handoff', 'publish'],
    requiresApproval: [{ action: 'publish' }],
  });
  await me.capabilities.grant({ to: drafter.id, resource: 'workspace', actions: ['handoff'] });
  // #endregion register

  // #region open
  // Back in the agent's process, told its identity id (an argument, or BATON_AS): the key
  // file takes the id's name, and every call it makes is signed with that key alone.
  const agentId = drafter.id;
  await keys.assign('pending', agentId);
  const ws = await Workspace.open({
    store: new SqliteStore({ path }),
    keyring: keys,
    tickIntervalMs: 0,
  });
  const agent = ws.as(agentId, { session: 'run-1' });
  // #endregion open

  // Ada hands over a draft to work on.
  const doc = await me.artifacts.create({
    kind: 'text',
    title: 'Launch post',
    content: 'We launch today.\n',
  });
  await me.handoffs.offer({ to: agentId, artifacts: [doc.id], note: 'Make it shine' });

  // Ada's side, running meanwhile: she answers what the agent asks and approves its request.
  const stop = new AbortController();
  const adaAnswers = (async () => {
    for await (const e of me.watch({ types: ['handoff.offered'], signal: stop.signal })) {
      const h = await me.handoffs.get((e.data as { id: string }).id);
      if (h.kind === 'question') await me.handoffs.answer(h.id, 'Today');
      if (h.kind === 'approval') await me.handoffs.approve(h.id, { note: 'Go' });
    }
  })().catch((err) => {
    if (!stop.signal.aborted) throw err;
  });

  // #region wait
  /** The next work handed to this agent: from its inbox, or, if none, the next offer. */
  async function nextWork(ws: Workspace, agent: Actor): Promise<InboxItem> {
    for (;;) {
      const after = (await ws.head()).seq; // before reading: no offer slips by
      const { items } = await agent.inbox({ status: ['offered'] });
      const work = items.find((h) => h.kind === 'work');
      if (work) return work;
      for await (const _ of agent.watch({ after, types: ['handoff.offered'] })) break;
    }
  }

  const work = await nextWork(ws, agent);
  const brief = await agent.handoffs.accept(work.id); // what changed, decisions, questions
  console.log(`took the work from ${brief.from.name}: ${brief.note}`);
  // #endregion wait

  // #region ask
  // A question for the person: it waits in their inbox (and `baton answer` answers it).
  const q = await agent.handoffs.ask({
    to: work.from,
    question: 'Publish today or Monday?',
    options: ['Today', 'Monday'],
    about: [doc.id],
  });
  const answered = await agent.handoffs.wait(q.id, { timeoutMs: 60_000 });
  console.log(`asked; answer: ${JSON.stringify(answered.answer?.value)}`);
  // #endregion ask

  // #region tools
  // What the agent did on the way: each tool call (digests, not the data) and the model's
  // usage, in the ContextLog: the person reads them with `context.query`, and `costs()`
  // adds the usage up by actor, artifact, session or handoff.
  const digest = (v: unknown) => createHash('sha256').update(JSON.stringify(v)).digest('base64url');
  const args = { query: 'launch pricing' };
  const started = Date.now();
  const result = ['Free for teams under 10.']; // what the tool returned
  await agent.context.record({
    type: 'tool',
    about: [doc.id],
    text: 'searched the pricing page',
    tool: {
      name: 'web.search',
      argsDigest: digest(args),
      resultDigest: digest(result),
      durationMs: Date.now() - started,
    },
  });
  await agent.context.record({
    type: 'usage',
    about: [doc.id],
    text: 'rewrite',
    usage: { model: 'some-model', inputTokens: 1200, outputTokens: 300, costUsd: 0.004 },
  });
  const current = await agent.artifacts.get(doc.id);
  await agent.artifacts.edit(doc.id, {
    content: `${current.content}${result[0]}\n`,
    baseVersion: current.version,
    reason: 'say what it costs',
  });
  // #endregion tools

  // #region approval
  // An action that needs the person's yes: the first call raises the request and throws
  // APPROVAL_REQUIRED; wait for the decision, then call again with the same payload.
  const payload = { channel: 'blog', version: 2 };
  async function publish() {
    for (;;) {
      try {
        return await agent.authorize('publish', `artifact:${doc.id}`, {
          summary: 'Publish the launch post',
          payload,
        });
      } catch (err) {
        if (!isBatonError(err) || err.code !== 'APPROVAL_REQUIRED') throw err;
        const request = (err.details as { approvalId: string }).approvalId;
        const decided = await agent.handoffs.wait(request, { timeoutMs: 60_000 });
        if (decided.status !== 'approved') throw new Error(`not approved: ${decided.status}`);
      }
    }
  }
  const use = await publish();
  console.log(`published under approval ${use.approval ? 'yes' : 'no'}`);
  // #endregion approval

  // #region handback
  // Hand the work back, with a note and a question for the next round, and close the
  // handoff it came in.
  await agent.handoffs.offer({
    to: work.from,
    artifacts: [doc.id],
    note: 'Published; pricing line added',
    questions: ['Shall I draft the follow-up?'],
  });
  await agent.handoffs.complete(work.id);
  const [cost] = await agent.context.costs({ by: 'session' });
  console.log(`handed back; run-1 cost $${cost?.costUsd} for ${cost?.outputTokens} tokens out`);
  // #endregion handback

  const { items } = await me.inbox();
  console.log(`Ada's inbox: ${items.map((h) => `${h.kind}: ${h.noteText}`).join('; ')}`);
  const tools = await me.context.query({ about: doc.id, types: ['tool'] });
  console.log(`tool calls Ada sees: ${tools.items.map((t) => `${t.tool?.name}: ${t.text}`)}`);

  stop.abort();
  await adaAnswers;
  await ws.close();
  await people.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
