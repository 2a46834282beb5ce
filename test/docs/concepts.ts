/**
 * The example program quoted by docs/concepts.md: the story of DESIGN §1 — an agent drafts,
 * hands off to Ada with a question, Ada edits three times with reasons and hands back, and
 * the agent's briefing shows her edits, reasons and answer — then events, sessions,
 * idempotency keys and watching. test/docs.test.ts runs it and checks what it prints.
 */
import { isBatonError, MemoryKeyring, MemoryStore, Workspace } from '@baton/core';

// #region setup
const store = new MemoryStore();
const keyring = new MemoryKeyring();
const ws = await Workspace.open({ store, keyring });
const ada = await ws.bootstrap({ name: 'Ada' }); // the first owner: root of authority
const me = ws.as(ada.id);
const drafter = await me.identities.create({ kind: 'agent', name: 'drafter' });
await me.capabilities.grant({
  to: drafter.id,
  resource: 'artifact:*',
  actions: ['read', 'create', 'write', 'comment', 'handoff', 'publish'],
  requiresApproval: [{ action: 'publish' }], // "publishing needs my approval"
});
// #endregion setup

// #region draft
const agent = ws.as(drafter.id, { session: 'run-1' }); // the agent acts as itself
const doc = await agent.artifacts.create({
  title: 'Launch post',
  kind: 'text',
  reason: 'first draft',
  content: 'Launch post\n\nWe are launching.\nIt is fast.\nPricing later.\n',
});
await agent.context.record({
  about: [doc.id],
  type: 'decision',
  text: 'Keep it under 100 words',
  why: 'it goes on the home page',
});
const offer = await agent.handoffs.offer({
  artifacts: [doc.id],
  to: ada.id,
  note: 'Draft ready',
  questions: ['Is the tone right?'],
});
// #endregion draft

// #region accept
const inbox = await me.inbox(); // everything waiting on Ada
console.log('inbox:', inbox.items.map((h) => `${h.kind} from drafter: ${h.noteText}`).join('; '));
const brief = await me.handoffs.accept(offer.id); // the hold moves to Ada
console.log('open questions:', brief.questions.map((q) => q.text).join('; '));
// #endregion accept

// #region edits
const edits: [content: string, reason: string][] = [
  ['Launch post\n\nWe launch today.\nIt is fast.\nPricing later.\n', 'say when'],
  ['Launch post\n\nWe launch today.\nIt is twice as fast.\nPricing later.\n', 'be concrete'],
  [
    'Launch post\n\nWe launch today.\nIt is twice as fast.\nFree for teams under 10.\n',
    'lead with pricing',
  ],
];
let version = brief.artifacts[0]!.version;
for (const [content, reason] of edits) {
  version = (await me.artifacts.edit(doc.id, { content, baseVersion: version, reason })).version;
}
await me.context.record({
  type: 'answer',
  about: [doc.id],
  answers: brief.questions[0]!.id,
  text: 'Warmer, please',
});
const back = await me.handoffs.offer({ to: drafter.id, artifacts: [doc.id], note: 'Your turn' });
await me.handoffs.complete(offer.id);
// #endregion edits

// #region briefing
// A second Workspace on the same storage, as a new agent process hours later would open
// (here a MemoryStore peer; in production the same SQLite file or Postgres database).
const later = await Workspace.open({ store: store.peer(), keyring });
const briefing = await later.as(drafter.id, { session: 'run-2' }).handoffs.accept(back.id);
console.log(briefing.toMarkdown({ maxTokens: 1500 }));
// #endregion briefing

// #region events
const { items } = await me.log({ stream: `artifact/${doc.id}` });
for (const e of items) console.log(`event ${e.seq} ${e.type} (v${e.version} of its stream)`);
const history = await me.artifacts.history(doc.id); // read from a projection: no replay
console.log('reasons:', history.items.map((v) => v.reason).join(' → '));
// #endregion events

// #region sessions
const run1 = await me.context.query({ session: 'run-1' });
console.log('run-1 recorded:', run1.items.map((e) => `${e.type}: ${e.text}`).join('; '));
// #endregion sessions

// #region idempotency
const resumed = ws.as(drafter.id, { session: 'run-2' });
const note = { type: 'note' as const, about: [doc.id], text: 'Links checked' };
const first = await resumed.context.record({ ...note, idempotencyKey: 'run-2/step-7' });
const retry = await resumed.context.record({ ...note, idempotencyKey: 'run-2/step-7' });
console.log('retry returns the first entry:', retry.id === first.id);
try {
  await resumed.context.record({ ...note, text: 'Other text', idempotencyKey: 'run-2/step-7' });
} catch (err) {
  if (!isBatonError(err)) throw err;
  console.log('same key, different request:', err.code);
}
// #endregion idempotency

// #region watch
const events = me.watch({ after: (await ws.head()).seq, types: ['artifact.edited'] });
const head = (await resumed.artifacts.get(doc.id)).version;
await resumed.artifacts.edit(doc.id, {
  content: 'Launch post\n\nWe launch today!\nIt is twice as fast.\nFree for teams under 10.\n',
  baseVersion: head,
  reason: 'warmer',
});
const { value: edited } = await events.next(); // resolves when the edit commits
console.log('watched:', edited?.type, 'by', edited?.actor === drafter.id ? 'drafter' : '?');
await events.return?.(undefined);
// #endregion watch

await later.close();
await ws.close();
