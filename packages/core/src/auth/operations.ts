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
 * Every built-in operation and the (action, resource) it needs. The write path, `verify()`
 * and the docs all read this one table.
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
]);

/** The resource an event's stream stands for when reading: `artifact/x` → `artifact:x`. */
export function streamResource(stream: string): string {
  const slash = stream.indexOf('/');
  return slash < 0 ? stream : `${stream.slice(0, slash)}:${stream.slice(slash + 1)}`;
}
