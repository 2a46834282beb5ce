import { MemoryStore, Workspace } from '@baton/core';

/**
 * A workspace on a MemoryStore with Ada (the owner) and an agent, drafter, that may work on
 * artifacts and publish only with Ada's approval, and comment on the workspace.
 */
export async function world() {
  const store = new MemoryStore();
  const workspace = await Workspace.open({ store, tickIntervalMs: 0 });
  const ada = await workspace.bootstrap({ name: 'Ada' });
  const me = workspace.as(ada.id);
  const drafter = await me.identities.create({ kind: 'agent', name: 'drafter' });
  await me.capabilities.grant({
    to: drafter.id,
    resource: 'artifact:*',
    actions: ['read', 'create', 'write', 'comment', 'handoff', 'publish'],
    requiresApproval: [{ action: 'publish' }],
  });
  await me.capabilities.grant({
    to: drafter.id,
    resource: 'workspace',
    actions: ['comment', 'handoff'],
  });
  const doc = await workspace.as(drafter.id).artifacts.create({
    kind: 'text',
    title: 'Launch post',
    content: 'We are launching.\n',
    reason: 'first draft',
  });
  return { store, workspace, ada, me, drafter, doc };
}

/** Every event in the log, in commit order. */
export async function events(store: MemoryStore) {
  const out = [];
  for await (const e of store.read({})) out.push(e);
  return out;
}
