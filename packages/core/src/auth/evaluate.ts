import type { Grant, ViewReader } from './view.js';

/** One (action, resource) pair an operation needs. */
export interface Requirement {
  action: string;
  resource: string;
  /**
   * Set when the pair is checked because it is being delegated (granted on), not done:
   * approval rules on it do not gate the delegation. Defaults to `false`.
   */
  delegating?: boolean;
}

/** The answer of `can()`: the allowing chain, or the reason there is none. */
export type Decision =
  | {
      allowed: true;
      /** The grant that allows it (named in the event's `auth`). */
      grant: Grant;
      /** The grant, then its parent, up to an owner's root grant. */
      chain: Grant[];
    }
  | {
      allowed: false;
      /** Why not, in words: which grant, which rule. */
      reason: string;
      /** Set when a grant covers it but only after an approver says yes. */
      approval?: { grant: Grant; action: string; approvers: string[] };
    };

/**
 * True when resource pattern `pattern` covers `resource` (itself a resource or a narrower
 * pattern). `*` covers everything; a trailing `*` covers every resource with that prefix
 * (`artifact:*` covers `artifact:launch-post` and `artifact:tag/draft`); anything else
 * covers exactly itself.
 */
export function coversResource(pattern: string, resource: string): boolean {
  if (pattern === '*' || pattern === resource) return true;
  return pattern.endsWith('*') && resource.startsWith(pattern.slice(0, -1));
}

/** True when a grant's action list covers `action` (`admin` covers every action). */
export function coversAction(actions: readonly string[], action: string): boolean {
  return actions.includes(action) || actions.includes('admin');
}

function covers(g: Grant, needs: readonly Requirement[]): boolean {
  return needs.every(
    (n) => coversResource(g.resource, n.resource) && coversAction(g.actions, n.action),
  );
}

/**
 * Why grant `g` does not allow `needs` at time `at` — or `undefined` when it does. Walks
 * the whole chain up to the owner's root grant and checks every link: it covers every
 * (action, resource) asked for, is not revoked, is inside its time bounds, has uses left
 * (a use of a grant is a use of each of its ancestors, so a parent's `maxUses` bounds all
 * delegated use), and was issued by an identity that is still active. No link can widen
 * what the links above it allow.
 *
 * @param pending - Uses of each grant already claimed earlier in the same batch.
 */
export function notInForce(
  view: ViewReader,
  g: Grant,
  at: string,
  pending?: ReadonlyMap<string, number>,
  needs: readonly Requirement[] = [],
): string | undefined {
  const t = Date.parse(at);
  let link: Grant | undefined = g;
  const seen = new Set<string>();
  while (link) {
    if (seen.has(link.id)) return `grant ${link.id} is part of a delegation cycle`;
    seen.add(link.id);
    const which = link === g ? `grant ${link.id}` : `grant ${link.id} (in the chain of ${g.id})`;
    if (link.revoked) return `${which} was revoked by ${link.revoked.by} at ${link.revoked.at}`;
    for (const n of needs) {
      if (!coversResource(link.resource, n.resource) || !coversAction(link.actions, n.action)) {
        return `${which} does not cover ${n.action} on ${n.resource}`;
      }
    }
    const c = link.constraints;
    if (c.notBefore && t < Date.parse(c.notBefore))
      return `${which} is not valid before ${c.notBefore}`;
    if (c.expiresAt && t >= Date.parse(c.expiresAt)) return `${which} expired at ${c.expiresAt}`;
    if (c.maxUses !== undefined && link.uses + (pending?.get(link.id) ?? 0) >= c.maxUses) {
      return `${which} is used up (${link.uses} of ${c.maxUses} uses)`;
    }
    if (link.root) return undefined;
    const issuer = view.identity(link.issuer);
    if (!issuer) return `${which} was issued by an unknown identity ${link.issuer}`;
    if (issuer.status !== 'active')
      return `${which} was issued by ${issuer.name}, who is suspended`;
    if (!link.parent) return `${which} has no parent grant`;
    const parent = view.grant(link.parent);
    if (!parent) return `${which} names a missing parent grant ${link.parent}`;
    link = parent;
  }
  return undefined;
}

/** The approval rule of the chain of `g` that gates one of `needs`, if any (rules accumulate down a chain). */
export function approvalRuleFor(
  view: ViewReader,
  g: Grant,
  needs: readonly Requirement[],
): { grant: Grant; action: string; approvers: string[] } | undefined {
  for (const link of chainOf(view, g)) {
    for (const n of needs) {
      if (n.delegating) continue;
      const rule = link.constraints.requiresApproval?.find((r) => r.action === n.action);
      if (rule)
        return { grant: link, action: n.action, approvers: rule.approvers ?? [link.issuer] };
    }
  }
  return undefined;
}

/** The grant chain from `g` up to its root. */
export function chainOf(view: ViewReader, g: Grant | undefined): Grant[] {
  const out: Grant[] = [];
  let link: Grant | undefined = g;
  while (link && out.length < 64) {
    out.push(link);
    link = link.parent ? view.grant(link.parent) : undefined;
  }
  return out;
}

/** Options for {@link evaluate}. */
export interface EvaluateOptions {
  /** Only consider this grant (checking an event's `auth`). */
  grantId?: string;
  /** Uses of each grant already claimed earlier in the same batch. */
  pending?: ReadonlyMap<string, number>;
}

/**
 * Decides whether `audience` may do everything in `needs` at time `at` under one grant.
 * The first grant in force that covers all of it wins; otherwise the answer says why not.
 */
export function evaluate(
  view: ViewReader,
  audience: string,
  needs: readonly Requirement[],
  at: string,
  options: EvaluateOptions = {},
): Decision {
  const who = view.identity(audience);
  const what = needs.map((n) => `${n.action} on ${n.resource}`).join(', ');
  if (!who)
    return { allowed: false, reason: `identity ${audience} does not exist in this workspace` };
  if (who.status !== 'active')
    return { allowed: false, reason: `${who.name} (${who.id}) is suspended` };
  let candidates = view.grantsOf(audience);
  if (options.grantId !== undefined) {
    candidates = candidates.filter((g) => g.id === options.grantId);
    if (candidates.length === 0) {
      return {
        allowed: false,
        reason: `grant ${options.grantId} is not held by ${who.name} (${who.id})`,
      };
    }
  }
  let reason: string | undefined;
  let approval: Extract<Decision, { allowed: false }>['approval'];
  for (const g of candidates) {
    if (!covers(g, needs)) continue;
    const why = notInForce(view, g, at, options.pending, needs);
    if (why) {
      reason ??= why;
      continue;
    }
    const gate = approvalRuleFor(view, g, needs);
    if (gate) {
      approval ??= gate;
      continue;
    }
    return { allowed: true, grant: g, chain: chainOf(view, g) };
  }
  if (approval) {
    return {
      allowed: false,
      reason: `grant ${approval.grant.id} lets ${who.name} ${approval.action} only after approval by ${approval.approvers.join(' or ')}`,
      approval,
    };
  }
  return {
    allowed: false,
    reason: reason ?? `no grant held by ${who.name} (${who.id}) covers ${what}`,
  };
}
