// Ada's processes: she owns the workspace and decides what the agent asks.
//
//   person.ts setup <dir>                           the workspace, the agent and its grants
//   person.ts approve|edit|reject|show <dir> <handoff>
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Workspace } from '@baton/core';
import { KeyDirectory } from '@baton/core/node';
import { SqliteStore } from '@baton/sqlite';
import { paths } from './paths.js';

const [step, dir, handoff] = process.argv.slice(2);
const p = paths(dir!);
mkdirSync(dir!, { recursive: true });
const ws = await Workspace.open({
  store: new SqliteStore({ path: p.db }),
  keyring: new KeyDirectory({ path: p.adaKeys }),
  tickIntervalMs: 0,
});

if (step === 'setup') {
  const ada = await ws.bootstrap({ name: 'Ada' });
  const me = ws.as(ada.id);
  // The agent's key is made in its own key folder; Ada only learns its public half.
  const agentKeys = new KeyDirectory({ path: p.agentKeys });
  const drafter = await me.identities.create({
    kind: 'agent',
    name: 'drafter',
    key: await agentKeys.generate('me'),
  });
  await agentKeys.assign('me', drafter.id);
  // #region grants
  await me.capabilities.grant({
    to: drafter.id,
    resource: 'artifact:*',
    actions: ['read', 'create', 'write', 'comment', 'publish'],
    requiresApproval: [{ action: 'publish' }],
  });
  // What the callback handler records is about the workspace.
  await me.capabilities.grant({ to: drafter.id, resource: 'workspace', actions: ['comment'] });
  // #endregion grants
  writeFileSync(p.ids, JSON.stringify({ ada: ada.id, drafter: drafter.id }));
  console.log(`set up: Ada ${ada.id}, drafter ${drafter.id}`);
} else if (!['approve', 'edit', 'reject', 'show'].includes(step!)) {
  console.error('usage: person.ts setup|approve|edit|reject|show <dir> [handoff]');
  process.exitCode = 2;
} else {
  const { ada } = JSON.parse(readFileSync(p.ids, 'utf8')) as { ada: string };
  const me = ws.as(ada);
  // #region decide
  const h = await me.handoffs.get(handoff!);
  console.log(`Ada reads: ${h.approval?.summary} — ${JSON.stringify(h.requestedPayload)}`);
  if (step === 'approve') await me.handoffs.approve(h.id);
  if (step === 'edit')
    await me.handoffs.approve(h.id, {
      payload: { ...(h.requestedPayload as object), channel: 'newsletter' },
    });
  if (step === 'reject') await me.handoffs.deny(h.id, { note: 'Not yet: pricing first' });
  // #endregion decide
  if (step !== 'show') console.log(`Ada: ${step} ${h.id}`);
}
await ws.close();
