// The agent graph of the example: a triage agent hands the request to a writer, which drafts
// the post as a Baton artifact and asks to publish it. Publishing needs Ada's approval.
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Workspace } from '@baton/core';
import { BatonAgents } from '@baton/openai-agents';
import { Agent, type Model, Usage } from '@openai/agents-core';
import { assistantMessage, functionCall, ScriptedModel } from '@openai/agents-core/testing';
import { z } from 'zod';

/** The agents' Baton identity ids, by SDK agent name (written by `main.ts start`). */
export type AgentIds = { triage: string; writer: string };

const usage = (input: number, output: number) =>
  new Usage({ requests: 1, inputTokens: input, outputTokens: output, totalTokens: input + output });

/**
 * The models: scripted by default (no network, no API key). To use a real model, give each
 * agent a model name (e.g. `'gpt-5'`) and install a provider such as `@openai/agents-openai`.
 */
export function scriptedModels(step: 'start' | 'resume'): { triage: Model; writer: Model } {
  if (step === 'start')
    return {
      triage: new ScriptedModel([
        {
          output: [functionCall('transfer_to_writer', {}, { callId: 'route-1' })],
          usage: usage(120, 8),
        },
      ]),
      writer: new ScriptedModel([
        {
          output: [
            functionCall(
              'save_draft',
              { title: 'Launch day', text: 'We launch today.' },
              { callId: 'draft-1' },
            ),
          ],
          usage: usage(300, 60),
        },
        {
          output: [functionCall('publish', { title: 'Launch day' }, { callId: 'publish-1' })],
          usage: usage(380, 12),
        },
      ]),
    };
  return {
    triage: new ScriptedModel([]),
    writer: new ScriptedModel([
      { output: [assistantMessage('Published "Launch day".')], usage: usage(420, 9) },
    ]),
  };
}

// #region graph
export function buildAgents(
  ws: Workspace,
  ids: AgentIds,
  models: { triage: Model; writer: Model },
  site: string,
) {
  const baton = new BatonAgents({
    workspace: ws,
    agents: ids,
    runConfig: { tracingDisabled: true },
  });
  const saveDraft = baton.tool({
    agent: 'writer',
    name: 'save_draft',
    description: 'Save the draft of a post',
    parameters: z.object({ title: z.string(), text: z.string() }),
    action: 'create',
    resource: 'artifact:*',
    execute: async ({ title, text }, { actor }) => {
      const doc = await actor.artifacts.create({
        kind: 'text',
        title,
        content: text,
        reason: 'first draft',
      });
      return `Saved draft ${doc.id}`;
    },
  });
  const publish = baton.tool({
    agent: 'writer',
    name: 'publish',
    description: 'Publish a post on the blog',
    parameters: z.object({ title: z.string() }),
    action: 'publish',
    resource: 'site:blog',
    execute: ({ title }) => {
      appendFileSync(site, `${title}\n`); // the side effect: runs once, after Ada's yes
      return `Published "${title}"`;
    },
  });
  const writer = new Agent({
    name: 'writer',
    instructions: baton.instructions('You draft posts and publish them.'),
    model: models.writer,
    tools: [saveDraft, publish],
  });
  const triage = new Agent({
    name: 'triage',
    instructions: 'Route requests.',
    model: models.triage,
    handoffs: [writer],
  });
  return { baton, triage };
}
// #endregion graph

/** Where the example's "blog" is: one line per published post. */
export function sitePath(dir: string): string {
  return join(dir, 'published.txt');
}
