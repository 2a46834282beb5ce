// The guide's first program (docs/langgraph.md): a node asks Ada a question by name, the
// graph pauses; she answers; the thread resumes with her answer. One process here, but
// each step works from another process as well: they share only the store.
import { MemoryStore, Workspace } from '@baton/core';
import { Annotation, END, START, StateGraph } from '@langchain/langgraph';
import {
  BatonCheckpointSaver,
  batonConfig,
  humanInterrupts,
  requestHuman,
  resumeHandoff,
} from '../../src/index.js';

const workspace = await Workspace.open({ store: new MemoryStore(), tickIntervalMs: 0 });
const ada = await workspace.bootstrap({ name: 'Ada' });
const me = workspace.as(ada.id);
const drafter = await me.identities.create({ kind: 'agent', name: 'drafter' });
await me.capabilities.grant({
  to: drafter.id,
  resource: 'workspace',
  actions: ['comment', 'handoff'],
});

// #region node
const State = Annotation.Root({ day: Annotation<string>() });
let runs = 0;
const graph = new StateGraph(State)
  .addNode('plan', async () => {
    runs++; // runs again from its top on resume; the question is asked once
    const answer = await requestHuman({
      to: 'Ada',
      interrupt: {
        action_request: { action: 'Pick a launch day', args: {} },
        config: { allow_accept: false, allow_edit: false, allow_respond: true, allow_ignore: true },
        description: 'Which day do we launch?',
      },
    });
    return { day: answer.type === 'response' ? String(answer.args) : 'undecided' };
  })
  .addEdge(START, 'plan')
  .addEdge('plan', END)
  .compile({ checkpointer: new BatonCheckpointSaver({ store: workspace.store }) });
// #endregion node

// #region pause
const config = batonConfig({ workspace, agent: drafter.id, threadId: 'launch-1' });
const [waiting] = humanInterrupts(await graph.invoke({}, config));
console.log(`paused on ${waiting!.baton.kind} ${waiting!.baton.handoff}`);
// #endregion pause

// #region answer
// Ada, in her inbox (or `baton answer <id> Tuesday`):
const [item] = (await me.inbox()).items;
console.log(`Ada's inbox: ${item!.questionText}`);
await me.handoffs.answer(item!.id, 'Tuesday');
// #endregion answer

// #region resume
// Any process, any time later:
const r = await resumeHandoff(graph, waiting!.baton.handoff, { workspace, agent: drafter.id });
console.log(`resumed with ${r.response.type}: day = ${(r.result as { day: string }).day}`);
const again = await resumeHandoff(graph, waiting!.baton.handoff, { workspace, agent: drafter.id });
console.log(`second resume ran anything: ${again.resumed}; node runs: ${runs}`);
// #endregion resume

// #region refused
try {
  await resumeHandoff(graph, 'ho_unknown', { workspace, agent: drafter.id });
} catch (err) {
  console.log(`unknown handoff: ${(err as { code: string }).code}`);
}
// #endregion refused
await workspace.close();
