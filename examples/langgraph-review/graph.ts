// The review graph: a model drafts a launch post into a Baton artifact, then asks to publish
// it with a tool Baton gates — publishing needs Ada's approval, so the graph pauses there
// until she decides, in another process, any time later.
import { appendFileSync } from 'node:fs';
import { batonActor, batonKey, batonTools, gatedTool } from '@baton/langgraph';
import { AIMessage, type BaseMessage } from '@langchain/core/messages';
import { fakeModel } from '@langchain/core/testing';
import {
  Annotation,
  type BaseCheckpointSaver,
  END,
  MessagesAnnotation,
  START,
  StateGraph,
} from '@langchain/langgraph';
import { ToolNode, toolsCondition } from '@langchain/langgraph/prebuilt';
import { z } from 'zod';

const State = Annotation.Root({
  ...MessagesAnnotation.spec,
  doc: Annotation<string>(),
});

const usage = { input_tokens: 120, output_tokens: 40, total_tokens: 160 };

/**
 * A scripted model (no network): it drafts, then calls publish_artifact once, then — when
 * the tool's answer is in — says what happened. Each process builds a fresh one, so its
 * replies depend on the conversation, not on how many calls came before.
 */
function scriptedModel() {
  const reply = (messages: BaseMessage[]) => {
    const last = messages.at(-1);
    if (last?.getType() === 'tool')
      return new AIMessage({ content: `Done: ${String(last.content)}`, usage_metadata: usage });
    const doc = /art_[\w-]+/.exec(String(last?.content ?? ''))?.[0];
    if (doc)
      return new AIMessage({
        content: '',
        tool_calls: [
          { id: 'call_publish', name: 'publish_artifact', args: { id: doc, channel: 'blog' } },
        ],
        usage_metadata: usage,
      });
    return new AIMessage({
      content: 'Launch post\n\nWe are launching today. It is twice as fast.\n',
      usage_metadata: usage,
    });
  };
  let m = fakeModel();
  for (let i = 0; i < 8; i++) m = m.respond(reply);
  return m;
}

/** The review graph, publishing into `outbox` (one JSON line per publication). */
export function reviewGraph(checkpointer: BaseCheckpointSaver, outbox: string) {
  const model = scriptedModel();
  // #region gatedTool
  const publish = gatedTool({
    name: 'publish_artifact',
    description: 'Publish an artifact to a channel.',
    schema: z.object({ id: z.string(), channel: z.string() }),
    action: 'publish',
    resource: (a) => `artifact:${a.id}`,
    summary: (a) => `Publish ${a.id} to ${a.channel}`,
    run: async (a, { actor, idempotencyKey }) => {
      appendFileSync(outbox, `${JSON.stringify({ ...a, by: actor.id })}\n`);
      await actor.context.record({
        type: 'note',
        about: [a.id],
        text: `published to ${a.channel}`,
        idempotencyKey,
      });
      return `published ${a.id} to ${a.channel}`;
    },
  });
  // #endregion gatedTool
  const tools = [publish, ...batonTools({ only: ['read_artifact'] })];
  return new StateGraph(State)
    .addNode('draft', async (s) => {
      const text = await model.invoke(s.messages);
      // The node may run again after a crash: the key makes its artifact once.
      const doc = await batonActor().artifacts.create({
        kind: 'text',
        title: 'Launch post',
        content: String(text.content),
        reason: 'first draft',
        idempotencyKey: batonKey('draft'),
      });
      return { doc: doc.id, messages: [new AIMessage(`Drafted ${doc.id}`)] };
    })
    .addNode('agent', async (s) => ({
      messages: [await model.bindTools(tools).invoke(s.messages)],
    }))
    .addNode('tools', new ToolNode(tools))
    .addEdge(START, 'draft')
    .addEdge('draft', 'agent')
    .addConditionalEdges('agent', toolsCondition, ['tools', END])
    .addEdge('tools', 'agent')
    .compile({ checkpointer, name: 'review' });
}
