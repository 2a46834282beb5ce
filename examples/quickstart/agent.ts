// The agent's process in the quickstart story. It holds only its own key (its own key
// directory) and talks to Ada only through the shared workspace file.
//
//   agent.ts key <dir>                         make a key, print its did:key
//   agent.ts draft <dir> <db> <id> <ada>       draft the post, record a decision, hand it to Ada
//   agent.ts resume <dir> <db> <id> <handoff>  hours later: accept Ada's handoff, print the briefing
import { Workspace } from '@baton/core';
import { KeyDirectory } from '@baton/core/node';
import { SqliteStore } from '@baton/sqlite';

const [step, dir, db, id, other] = process.argv.slice(2);
const keys = new KeyDirectory({ path: dir! });

if (step === 'key') {
  console.log(await keys.generate('me'));
} else {
  await keys.assign('me', id!).catch(() => {}); // first run after the key was made
  const ws = await Workspace.open({
    store: new SqliteStore({ path: db! }),
    keyring: keys,
    tickIntervalMs: 0,
  });
  const agent = ws.as(id!, { session: `run-${step}` });
  if (step === 'draft') {
    const draft = 'Launch post\n\nWe are launching.\nIt is fast.\nPricing later.\n';
    const doc = await agent.artifacts.create({
      kind: 'text',
      title: 'Launch post',
      content: draft,
      reason: 'first draft',
    });
    await agent.context.record({
      type: 'decision',
      about: [doc.id],
      text: 'Lead with the launch',
      why: 'it is the news',
    });
    const h = await agent.handoffs.offer({
      to: other!,
      artifacts: [doc.id],
      note: 'Draft ready',
      questions: ['Is the tone right?'],
    });
    console.log(JSON.stringify({ doc: doc.id, handoff: h.id }));
  } else if (step === 'resume') {
    const brief = await agent.handoffs.accept(other!);
    console.log(brief.toMarkdown({ maxTokens: 1500 }));
  }
  await ws.close();
}
