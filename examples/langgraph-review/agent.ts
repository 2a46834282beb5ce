// The agent's processes. It holds only its own key.
//
//   agent.ts start <dir>            draft, ask to publish, pause (the process exits)
//   agent.ts resume <dir> <handoff> once Ada decided: resume the thread, publish once
import { readFileSync } from 'node:fs';
import { Workspace } from '@baton/core';
import { KeyDirectory } from '@baton/core/node';
import {
  BatonCallbackHandler,
  BatonCheckpointSaver,
  batonConfig,
  humanInterrupts,
  resumeHandoff,
} from '@baton/langgraph';
import { SqliteStore } from '@baton/sqlite';
import { reviewGraph } from './graph.js';
import { paths, THREAD } from './paths.js';

const [step, dir, handoff] = process.argv.slice(2);
const p = paths(dir!);
const { drafter } = JSON.parse(readFileSync(p.ids, 'utf8')) as { drafter: string };
const workspace = await Workspace.open({
  store: new SqliteStore({ path: p.db }),
  keyring: new KeyDirectory({ path: p.agentKeys }),
  tickIntervalMs: 0,
});
// #region graph
// The thread's checkpoints live in the workspace's own store, beside the handoff.
const checkpointer = new BatonCheckpointSaver({ store: workspace.store });
const graph = reviewGraph(checkpointer, p.outbox);
// #endregion graph
const callbacks = [new BatonCallbackHandler({ workspace, agent: drafter })];

if (step === 'start') {
  // #region start
  const config = batonConfig({ workspace, agent: drafter, threadId: THREAD });
  const out = await graph.invoke(
    { messages: [{ role: 'user', content: 'Draft the launch post and publish it.' }] },
    { ...config, callbacks },
  );
  const [paused] = humanInterrupts(out);
  console.log(`paused: ${paused!.description}; handoff ${paused!.baton.handoff}`);
  // #endregion start
} else if (step === 'resume') {
  // #region resume
  const r = await resumeHandoff(graph, handoff!, {
    workspace,
    agent: drafter,
    config: { callbacks },
  });
  if (!r.resumed) console.log(`nothing to do: thread ${r.threadId} was resumed already`);
  else {
    const messages = (r.result as { messages: { content: unknown }[] }).messages;
    console.log(`resumed with ${r.response.type}: ${String(messages.at(-1)!.content)}`);
  }
  // #endregion resume
}
await workspace.close();
