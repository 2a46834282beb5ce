// The approvals example, in three processes (from this directory; see README.md):
//   pnpm start                   set the workspace up (first time), run until the run pauses
//   pnpm baton --dir .baton --as Ada approve <id>   the person says yes (or deny <id> --note …)
//   pnpm resume <id>             another process continues the run: the post is published once
// The workspace lives in $BATON_DIR (default ./.baton). The agents' process holds only the
// agents' keys (.baton/agent-keys); Ada's key stays in .baton/keys, where the CLI finds it.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isBatonError, Workspace } from '@baton/core';
import { KeyDirectory } from '@baton/core/node';
import { BatonSession } from '@baton/openai-agents';
import { SqliteStore } from '@baton/sqlite';
import { type AgentIds, buildAgents, scriptedModels, sitePath } from './agents.js';

const dir = resolve(process.env.BATON_DIR ?? '.baton');
const db = join(dir, 'workspace.db');
const idsFile = join(dir, 'agents.json');
const open = (keys: string) =>
  Workspace.open({
    store: new SqliteStore({ path: db }),
    keyring: new KeyDirectory({ path: keys }),
    tickIntervalMs: 0,
  });

/** First run: Ada, the two agents (each with its own key, made in the agents' key directory), grants. */
async function setup(): Promise<AgentIds> {
  if (existsSync(idsFile)) return JSON.parse(readFileSync(idsFile, 'utf8')) as AgentIds;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const agentKeys = new KeyDirectory({ path: join(dir, 'agent-keys') });
  const ws = await open(join(dir, 'keys'));
  const ada = ws.as((await ws.bootstrap({ name: 'Ada' })).id);
  // #region identities
  const ids = { triage: '', writer: '' };
  for (const name of ['triage', 'writer'] as const) {
    const key = await agentKeys.generate(name);
    ids[name] = (await ada.identities.create({ kind: 'agent', name, key })).id;
    await agentKeys.assign(name, ids[name]);
    await ada.capabilities.grant({
      to: ids[name],
      resource: 'workspace',
      actions: ['comment', 'handoff'],
    });
  }
  await ada.capabilities.grant({
    to: ids.writer,
    resource: 'artifact:*',
    actions: ['read', 'create'],
  });
  // The autonomy slider: the writer may publish, but only after Ada says yes.
  await ada.capabilities.grant({
    to: ids.writer,
    resource: 'site:blog',
    actions: ['publish'],
    requiresApproval: [{ action: 'publish' }],
  });
  // #endregion identities
  await ws.close();
  writeFileSync(idsFile, JSON.stringify(ids));
  return ids;
}

const [step, handoffId] = process.argv.slice(2);
const ids = await setup();
const ws = await open(join(dir, 'agent-keys'));
const session = new BatonSession({ store: ws.store, sessionId: 'launch-post' });
try {
  if (step === 'start') {
    // #region start
    const { baton, triage } = buildAgents(ws, ids, scriptedModels('start'), sitePath(dir));
    const paused = await baton.run(triage, 'Write the launch post and publish it.', { session });
    for (const h of paused.handoffs) {
      console.log(`Paused: ${h.approval?.summary ?? h.questionText}`);
      console.log(`  approve: pnpm baton --dir ${dir} --as Ada approve ${h.id}`);
      console.log(`  then:    pnpm resume ${h.id}`);
    }
    // #endregion start
  } else if (step === 'resume' && handoffId) {
    // #region resume
    const { baton, triage } = buildAgents(ws, ids, scriptedModels('resume'), sitePath(dir));
    const done = await baton.resumeHandoff({ handoffId, agent: triage, session });
    // #endregion resume
    console.log(`Finished: ${done.result.finalOutput}`);
    const blog = existsSync(sitePath(dir)) ? readFileSync(sitePath(dir), 'utf8').trim() : '';
    console.log(`Blog now holds: ${blog ? blog.split('\n').join(', ') : '(nothing)'}`);
  } else {
    console.error('usage: pnpm start | pnpm resume <handoff id>');
    process.exitCode = 2;
  }
} catch (err) {
  if (!isBatonError(err)) throw err;
  console.error(`${err.code}: ${err.message}`);
  process.exitCode = 1;
} finally {
  await ws.close();
}
