/**
 * The example program quoted by docs/security.md on authority: a refused call, an approval
 * gate, delegation with attenuation (the most senior approval rule governs), erasure, and
 * revocation. test/docs.test.ts runs it and checks what it prints.
 */
import { ErrorCode, isBatonError, Workspace } from '@baton/core';

const ws = await Workspace.open({ tickIntervalMs: 0 });
const ada = await ws.bootstrap({ name: 'Ada' });
const me = ws.as(ada.id);
const post = await me.artifacts.create({ kind: 'text', title: 'Launch post', content: 'Hello\n' });
const drafter = await me.identities.create({ kind: 'agent', name: 'drafter' });
const checker = await me.identities.create({ kind: 'agent', name: 'checker' });
const name = (id: string) => (id === ada.id ? 'Ada' : id === drafter.id ? 'drafter' : id);

// #region forbidden
const agent = ws.as(drafter.id);
try {
  await agent.artifacts.edit(post.id, { content: 'Hi\n', baseVersion: 1, reason: 'shorter' });
} catch (err) {
  if (!isBatonError(err, ErrorCode.FORBIDDEN)) throw err;
  console.log(`refused: ${err.code}: ${err.message}`); // nothing was written
}
// #endregion forbidden

// #region approval
const grant = await me.capabilities.grant({
  to: drafter.id,
  resource: 'artifact:*',
  actions: ['read', 'write', 'comment', 'grant', 'publish'],
  requiresApproval: [{ action: 'publish' }], // approver: the issuer, Ada
  expiresAt: Date.now() + 86_400_000, // for a day
});
const publish = { summary: 'Publish v1', payload: { artifact: post.id, version: 1 } };
let request = '';
try {
  await agent.authorize('publish', `artifact:${post.id}`, publish);
} catch (err) {
  if (!isBatonError(err, ErrorCode.APPROVAL_REQUIRED)) throw err;
  request = err.details.approvalId as string; // an approval handoff in Ada's inbox
}
await me.handoffs.approve(request, { note: 'Go ahead' });
const allowed = await agent.authorize('publish', `artifact:${post.id}`, publish);
console.log(
  `approved: used request ${allowed.approval === request}, grant ${allowed.grant.id === grant.id}`,
);
const again = await agent.can('publish', `artifact:${post.id}`); // an approval is used once
console.log(`publish again without asking: ${again.allowed}`);
// #endregion approval

// #region delegation
try {
  await agent.capabilities.grant({
    to: checker.id,
    resource: `artifact:${post.id}`,
    actions: ['read'],
    expiresAt: Date.now() + 2 * 86_400_000, // the drafter's own grant ends sooner
  });
} catch (err) {
  if (!isBatonError(err, ErrorCode.FORBIDDEN)) throw err;
  console.log(`widening refused: ${err.message}`);
}
const narrower = await agent.capabilities.grant({
  to: checker.id,
  resource: `artifact:${post.id}`, // one artifact instead of all
  actions: ['read', 'publish'], // fewer actions
  requiresApproval: [{ action: 'publish', approvers: [drafter.id] }], // the drafter's own rule
});
const rules = narrower.constraints.requiresApproval ?? []; // the parent's rules are added
console.log(
  `delegated rules: ${rules.map((r) => `${r.action} by ${r.approvers?.map(name)}`).join('; ')}`,
);
const gate = await ws.as(checker.id).can('publish', `artifact:${post.id}`);
if (!gate.allowed)
  console.log(`checker publishes after approval by: ${gate.approval?.approvers.map(name)}`);
// #endregion delegation

// #region erase
const leak = await agent.context.record({
  type: 'note',
  about: [post.id],
  text: 'API key: sk-123',
});
await me.erase(leak.body!, 'leaked API key'); // owners only; deletes the bytes, appends blob.erased
console.log(`reads as: ${(await me.context.get(leak.id)).text}`);
const report = await ws.verify();
console.log(
  `verify after erasure: ok=${report.ok}, erased: ${report.erased.map((b) => b.reason).join(', ')}`,
);
// #endregion erase

// #region revoke
await me.capabilities.revoke(grant.id, { reason: 'launch done' });
const after = await ws.as(checker.id).can('read', `artifact:${post.id}`);
if (!after.allowed) console.log(`after revocation: ${after.reason}`);
console.log(`earlier events still verify: ${(await ws.verify()).ok}`);
// #endregion revoke
await ws.close();
