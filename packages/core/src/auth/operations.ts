import { badArgument } from '../crypto/arguments.js';

/** One row of the operation table: what a built-in operation needs. */
export interface Operation {
  /** The operation as called: `identities.create`, `capabilities.grant`, … */
  operation: string;
  /** The event it writes (`noun.pastTense`), or `undefined` for reads. */
  event?: string;
  /** The action it needs, in words when it depends on the input. */
  action: string;
  /** The resource it needs the action on. */
  resource: string;
  /** Who may do it without a grant, when anyone may. */
  alsoAllowed?: string;
}

/**
 * Every built-in operation and the (action, resource) it needs, as the event types'
 * `authorize` rules (which the write path and `verify()` apply) state it. docs/operations.md
 * is rendered from this table, and its test checks the rows against the errors the code raises.
 *
 * @remarks
 * `admin` on a resource covers every action on it; a workspace owner holds `admin` on `*`
 * through its root grant.
 */
export const OPERATIONS: readonly Operation[] = Object.freeze([
  {
    operation: 'workspace.bootstrap',
    event: 'workspace.bootstrapped',
    action: '—',
    resource: 'workspace',
    alsoAllowed: 'anyone, once, on an empty store; the bootstrapper becomes the first owner',
  },
  {
    operation: 'identities.create',
    event: 'identity.created',
    action: 'create',
    resource: 'identity:<new id>',
  },
  {
    operation: 'identities.suspend',
    event: 'identity.suspended',
    action: 'admin',
    resource: 'identity:<id>',
  },
  {
    operation: 'identities.reinstate',
    event: 'identity.reinstated',
    action: 'admin',
    resource: 'identity:<id>',
  },
  {
    operation: 'identities.rotateKey',
    event: 'identity.keyRotated',
    action: 'admin',
    resource: 'identity:<id>',
    alsoAllowed: 'the identity itself, signing with its current key',
  },
  {
    operation: 'identities.get / list',
    action: 'read',
    resource: 'identity:<id>',
    alsoAllowed: 'the identity itself',
  },
  {
    operation: 'capabilities.grant',
    event: 'grant.issued',
    action: 'grant, plus every granted action',
    resource: 'the granted resource (the issuer’s grant must cover it)',
  },
  {
    operation: 'capabilities.revoke',
    event: 'grant.revoked',
    action: 'admin',
    resource: 'the grant’s resource',
    alsoAllowed: 'the grant’s issuer',
  },
  {
    operation: 'capabilities.get / list',
    action: 'read',
    resource: 'grant:<id>',
    alsoAllowed: 'the grant’s audience and issuer',
  },
  {
    operation: 'authorize',
    event: 'grant.exercised',
    action: '<the app’s action>',
    resource: '<the app’s resource>',
  },
  {
    operation: 'log / subscribe / watch',
    action: 'read',
    resource: 'each event’s stream as a resource (`identity/x` → `identity:x`)',
  },
  {
    operation: 'artifacts.create',
    event: 'artifact.created',
    action: 'create',
    resource: 'artifact:<new id>',
  },
  {
    operation: 'artifacts.edit',
    event: 'artifact.edited',
    action: 'write',
    resource: 'artifact:<id>',
  },
  {
    operation: 'artifacts.archive',
    event: 'artifact.archived',
    action: 'write',
    resource: 'artifact:<id>',
  },
  {
    operation: 'artifacts.claim / release',
    event: 'artifact.claimed / artifact.released',
    action: 'write',
    resource: 'artifact:<id>',
  },
  {
    operation: 'artifacts.markSeen',
    event: 'artifact.seen',
    action: 'read',
    resource: 'artifact:<id>',
  },
  {
    operation: 'artifacts.get / list / history / diff / changesSince',
    action: 'read',
    resource: 'artifact:<id> (an unreadable artifact reads as NOT_FOUND)',
  },
  {
    operation: 'context.record',
    event: 'context.recorded',
    action: 'comment',
    resource: 'artifact:<id> for each `about` artifact; `workspace` when `about` is empty',
  },
  {
    operation: 'handoffs.offer',
    event: 'handoff.offered',
    action: 'handoff (with `questions`, also comment)',
    resource: 'artifact:<id> for each artifact; `workspace` when there are none',
  },
  {
    operation: 'handoffs.ask',
    event: 'handoff.offered',
    action: 'handoff, and comment for the question it records',
    resource: '`workspace` (comment: each `about` artifact, or `workspace`)',
  },
  {
    operation: 'handoffs.requestApproval',
    event: 'handoff.offered',
    action: 'the action asked for (a grant covering it, gated by `requiresApproval`)',
    resource: 'the resource asked for',
  },
  {
    operation: 'handoffs.approve / deny',
    event: 'handoff.decided',
    action: 'approve',
    resource: 'the request’s resource',
    alsoAllowed: 'only an approver the grant names; never the requester',
  },
  {
    operation: 'handoffs.accept / decline / return / complete',
    event: 'handoff.accepted / declined / returned / completed',
    action: '—',
    resource: 'the handoff',
    alsoAllowed: 'its recipient',
  },
  {
    operation: 'handoffs.cancel',
    event: 'handoff.cancelled',
    action: '—',
    resource: 'the handoff',
    alsoAllowed: 'its offerer',
  },
  {
    operation: 'handoffs.answer',
    event: 'handoff.answered',
    action: 'comment, for the answer it records',
    resource: 'each artifact the question is about, or `workspace`',
    alsoAllowed: 'only its recipient answers',
  },
  {
    operation: 'erase',
    event: 'blob.erased',
    action: 'admin',
    resource: 'workspace',
    alsoAllowed: 'a workspace owner only, even with the grant',
  },
  { operation: 'export', action: 'admin', resource: 'workspace' },
  {
    operation: 'emit',
    event: 'the app’s type',
    action: 'write (or the type’s own `authorize` rule)',
    resource: 'the event’s stream as a resource',
  },
  {
    operation: 'workspace.checkpoint',
    action: '—',
    resource: 'workspace',
    alsoAllowed: 'an owner or service identity whose key the keyring holds',
  },
]);

/**
 * The resource an event's stream stands for when reading: `artifact/x` → `artifact:x`.
 *
 * @throws BatonError `VALIDATION` when `stream` is not a string.
 */
export function streamResource(stream: string): string {
  if (typeof stream !== 'string')
    throw badArgument('streamResource', 'stream', "a stream name such as 'artifact/x'", stream);
  const slash = stream.indexOf('/');
  return slash < 0 ? stream : `${stream.slice(0, slash)}:${stream.slice(slash + 1)}`;
}
