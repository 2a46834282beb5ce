// Until the full quickstart story lands: open a workspace, do a few real things, and print
// the head that verify() recomputed from the signed, hash-chained log.
import { Workspace } from '@baton/core';

const ws = await Workspace.open();
const ada = await ws.bootstrap({ name: 'Ada' });
const me = ws.as(ada.id);
const drafter = await me.identities.create({
  kind: 'agent',
  name: 'drafter',
  meta: { model: 'any' },
});
await me.capabilities.grant({ to: drafter.id, resource: 'artifact:*', actions: ['read', 'write'] });
const agent = ws.as(drafter.id, { session: 'run-1' });
console.log(
  'drafter may write artifact:launch-post →',
  (await agent.can('write', 'artifact:launch-post')).allowed,
);
console.log(
  'drafter may publish artifact:launch-post →',
  (await agent.can('publish', 'artifact:launch-post')).allowed,
);

const report = await ws.verify();
console.log(
  `verified: ${report.ok} — ${report.events} events, head seq ${report.head.seq}, hash ${report.head.hash}`,
);
await ws.close();
if (!report.ok) process.exit(1);
