// The story of DESIGN §1, end to end, on the embedded default store (a SQLite file): an agent
// — a separate process holding only its own key — drafts a post and hands it to Ada; Ada
// makes three edits with reasons, answers its question and hands it back; the agent, in a
// new process, is briefed with exactly her edits and her answer. Nothing is pasted.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Workspace } from '@baton/core';
import { KeyDirectory } from '@baton/core/node';
import { SqliteStore } from '@baton/sqlite';

const dir = mkdtempSync(join(tmpdir(), 'baton-quickstart-'));
// The story's files go when it ends, however it ends.
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const db = join(dir, 'workspace.db');
const agentKeys = join(dir, 'agent-keys');
const agentScript = fileURLToPath(new URL('./agent.ts', import.meta.url));
const agent = (...args: string[]) =>
  execFileSync(process.execPath, [...process.execArgv, agentScript, ...args], {
    encoding: 'utf8',
  }).trim();
const say = (text: string) => console.log(`\n— ${text}`);

const ws = await Workspace.open({
  store: new SqliteStore({ path: db }),
  keyring: new KeyDirectory({ path: join(dir, 'ada-keys') }),
  tickIntervalMs: 0,
});
const ada = await ws.bootstrap({ name: 'Ada' });
const me = ws.as(ada.id);
const drafter = await me.identities.create({
  kind: 'agent',
  name: 'drafter',
  key: agent('key', agentKeys),
});
await me.capabilities.grant({
  to: drafter.id,
  resource: 'artifact:*',
  actions: ['read', 'create', 'write', 'comment', 'handoff', 'publish'],
  requiresApproval: [{ action: 'publish' }],
});
say(
  `Ada set up a workspace in ${db} and an agent, "drafter", that may draft and hand off; publishing needs her approval.`,
);

const { doc, handoff } = JSON.parse(agent('draft', agentKeys, db, drafter.id, ada.id)) as {
  doc: string;
  handoff: string;
};
say('The agent (its own process, its own key) drafted the post and handed it to Ada. Her inbox:');
for (const item of (await me.inbox()).items)
  console.log(`  ${item.priority} · ${item.kind} from drafter: ${item.noteText}`);

const brief = await me.handoffs.accept(handoff);
say('Ada accepted. Her briefing:');
console.log(brief.toMarkdown({ maxTokens: 600 }));

let v = brief.artifacts[0]!.version;
for (const [content, reason] of [
  ['Launch post\n\nWe are launching today.\nIt is fast.\nPricing later.\n', 'say when'],
  ['Launch post\n\nWe are launching today.\nIt is twice as fast.\nPricing later.\n', 'be concrete'],
  [
    'Launch post\n\nWe are launching today.\nIt is twice as fast.\nFree for teams under 10.\n',
    'lead with pricing',
  ],
] as const) {
  v = (await me.artifacts.edit(doc, { content, baseVersion: v, reason })).version;
  say(`Ada edited: "${reason}" (now version ${v}).`);
}
await me.context.record({
  type: 'answer',
  about: [doc],
  answers: brief.questions[0]!.id,
  text: 'Warmer, please',
});
const back = await me.handoffs.offer({ to: drafter.id, artifacts: [doc], note: 'Your turn' });
await me.handoffs.complete(handoff);
say('Ada answered the question and handed the post back.');
await ws.close();

say('Hours later, a new agent process accepts the handoff. Its briefing — computed, not pasted:');
console.log(agent('resume', agentKeys, db, drafter.id, back.id));

const check = await Workspace.open({ store: new SqliteStore({ path: db }), tickIntervalMs: 0 });
const report = await check.verify();
say(
  `verified: ${report.ok} — ${report.events} signed events, head seq ${report.head.seq}, hash ${report.head.hash}`,
);
await check.close();
if (!report.ok) process.exit(1);
