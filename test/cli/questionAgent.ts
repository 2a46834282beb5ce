// An agent process for the CLI tests: it holds only its own key (its own key directory) and
// meets the person only through the shared workspace file.
//
//   questionAgent.ts key <keys>                               make a key, print its did:key
//   questionAgent.ts ask <keys> <db> <me> <person>            draft, then hand it over with two questions
//   questionAgent.ts brief <keys> <db> <me> <handoff>         accept a handoff, print its briefing as JSON
import { Workspace } from '@baton/core';
import { KeyDirectory } from '@baton/core/node';
import { SqliteStore } from '@baton/sqlite';

const [step, dir, db, me, other] = process.argv.slice(2);
const keys = new KeyDirectory({ path: dir! });

if (step === 'key') {
  console.log(await keys.generate('me'));
} else {
  await keys.assign('me', me!).catch(() => undefined); // the first run after the key was made
  const ws = await Workspace.open({
    store: new SqliteStore({ path: db! }),
    keyring: keys,
    tickIntervalMs: 0,
  });
  const agent = ws.as(me!, { session: `run-${step}` });
  if (step === 'ask') {
    const doc = await agent.artifacts.create({
      kind: 'text',
      title: 'Launch post',
      content: 'Launch post\n\nWe launch soon.\n',
      reason: 'first draft',
    });
    const h = await agent.handoffs.offer({
      to: other!,
      artifacts: [doc.id],
      note: 'Draft ready',
      questions: ['Is the tone right?', 'Which day do we ship?'],
    });
    console.log(JSON.stringify({ doc: doc.id, handoff: h.id, questions: h.questions }));
  } else if (step === 'brief') {
    const b = await agent.handoffs.accept(other!);
    console.log(
      JSON.stringify({
        answered: b.answered.map((x) => ({ question: x.question.id, answer: x.answer.text })),
        questions: b.questions.map((q) => q.id),
        markdown: b.toMarkdown(),
      }),
    );
  }
  await ws.close();
}
