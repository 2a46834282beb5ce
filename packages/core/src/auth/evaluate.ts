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

const TAG_PATTERN = 'artifact:tag/';

/**
 * True when resource pattern `pattern` covers `resource` (itself a resource or a narrower
 * pattern). `*` covers everything; a trailing `*` covers every resource with that prefix
 * (`artifact:*` covers `artifact:launch-post` and `artifact:tag/draft`);
 * `artifact:tag/<tag>` covers every artifact created with that tag (`tagsOf` tells an
 * artifact's tags); anything else covers exactly itself.
 */
export function coversResource(
  pattern: string,
  resource: string,
  tagsOf?: (artifactId: string) => readonly string[] | undefined,
): boolean {
  if (pattern === '*' || pattern === resource) return true;
  // (`artifact:tag/*` stays a prefix pattern: it covers every tag pattern, not a tag "*".)
  if (
    pattern.startsWith(TAG_PATTERN) &&
    !pattern.endsWith('*') &&
    resource.startsWith('artifact:') &&
    tagsOf
  ) {
    const id = resource.slice('artifact:'.length);
    if (id.startsWith('tag/') || id.endsWith('*')) return false;
    return tagsOf(id)?.includes(pattern.slice(TAG_PATTERN.length)) ?? false;
  }
  return pattern.endsWith('*') && resource.startsWith(pattern.slice(0, -1));
}

/** True when a grant's action list covers `action` (`admin` covers every action). */
export function coversAction(actions: readonly string[], action: string): boolean {
  return actions.includes(action) || actions.includes('admin');
}

function covers(view: ViewReader, g: Grant, needs: readonly Requirement[]): boolean {
  const tagsOf = (id: string) => view.tagsOf(id);
  return needs.every(
    (n) => coversResource(g.resource, n.resource, tagsOf) && coversAction(g.actions, n.action),
  );
}

// Parsed constraint times, per constraints object: a grant is replaced, never changed, when
// it is used (its `uses` count), and the copy keeps the same constraints object.
const times = new WeakMap<Grant['constraints'], { notBefore: number; expiresAt: number }>();

function timesOf(g: Grant): { notBefore: number; expiresAt: number } {
  const c = g.constraints;
  let t = times.get(c);
  if (!t) {
    t = {
      notBefore: c.notBefore ? Date.parse(c.notBefore) : Number.NEGATIVE_INFINITY,
      expiresAt: c.expiresAt ? Date.parse(c.expiresAt) : Number.POSITIVE_INFINITY,
    };
    times.set(c, t);
  }
  return t;
}

/** One walk up a grant's chain: why it does not allow, or the chain and the approval rule that gates it. */
interface Walk {
  reason?: string;
  chain: Grant[];
  approval?: { grant: Grant; action: string; approvers: string[] };
}

function walk(
  view: ViewReader,
  g: Grant,
  t: number,
  pending: ReadonlyMap<string, number> | undefined,
  needs: readonly Requirement[],
): Walk {
  const chain: Grant[] = [];
  let approval: Walk['approval'];
  let link: Grant | undefined = g;
  // Reasons are built only when something fails: the allowed path makes no strings.
  const which = (l: Grant) =>
    l === g ? `grant ${l.id}` : `grant ${l.id} (in the chain of ${g.id})`;
  while (link) {
    if (chain.includes(link))
      return { chain, reason: `grant ${link.id} is part of a delegation cycle` };
    chain.push(link);
    if (link.revoked)
      return {
        chain,
        reason: `${which(link)} was revoked by ${link.revoked.by} at ${link.revoked.at}`,
      };
    for (const n of needs) {
      if (
        !coversResource(link.resource, n.resource, (id) => view.tagsOf(id)) ||
        !coversAction(link.actions, n.action)
      ) {
        return { chain, reason: `${which(link)} does not cover ${n.action} on ${n.resource}` };
      }
    }
    const c = link.constraints;
    const lt = timesOf(link);
    if (t < lt.notBefore)
      return { chain, reason: `${which(link)} is not valid before ${c.notBefore}` };
    if (t >= lt.expiresAt) return { chain, reason: `${which(link)} expired at ${c.expiresAt}` };
    if (c.maxUses !== undefined && link.uses + (pending?.get(link.id) ?? 0) >= c.maxUses) {
      return { chain, reason: `${which(link)} is used up (${link.uses} of ${c.maxUses} uses)` };
    }
    if (c.requiresApproval) {
      for (const n of needs) {
        if (n.delegating) continue;
        const rule = c.requiresApproval.find((r) => r.action === n.action);
        // The most senior rule in the chain governs: a delegate cannot stand in for the
        // approver its own grant answers to.
        if (rule)
          approval = { grant: link, action: n.action, approvers: rule.approvers ?? [link.issuer] };
      }
    }
    if (link.root) return approval ? { chain, approval } : { chain };
    const issuer = view.identity(link.issuer);
    if (!issuer)
      return { chain, reason: `${which(link)} was issued by an unknown identity ${link.issuer}` };
    if (issuer.status !== 'active')
      return { chain, reason: `${which(link)} was issued by ${issuer.name}, who is suspended` };
    if (!link.parent) return { chain, reason: `${which(link)} has no parent grant` };
    const parent = view.grant(link.parent);
    if (!parent)
      return { chain, reason: `${which(link)} names a missing parent grant ${link.parent}` };
    link = parent;
  }
  return { chain };
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
  return walk(view, g, Date.parse(at), pending, needs).reason;
}

/** The approval rule of the chain of `g` that gates one of `needs` — the most senior one — if any. */
export function approvalRuleFor(
  view: ViewReader,
  g: Grant,
  needs: readonly Requirement[],
): { grant: Grant; action: string; approvers: string[] } | undefined {
  return walk(
    view,
    g,
    Number.NaN,
    undefined,
    needs.map((n) => ({ ...n })),
  ).approval;
}

/**
 * How many delegation links a chain may have below an owner's root grant: a grant issued
 * under a root grant is link 1, one issued under that is link 2, and so on.
 *
 * @remarks
 * Every use of a grant walks its whole chain (each link's bounds are checked and each
 * link's `maxUses` counted), so the bound keeps `can()`, `authorize()` and `verify()` fast
 * whatever a chain of delegates does. Issuing a grant that would be link 33 is refused
 * with `FORBIDDEN` on every path (commands, `submit`, `ingest`, `verify()`).
 */
export const MAX_DELEGATION_DEPTH = 32;

/**
 * The grant chain from `g` up to its root: every link, however long the chain (issuing
 * refuses chains longer than {@link MAX_DELEGATION_DEPTH} links, so it is bounded).
 */
export function chainOf(view: ViewReader, g: Grant | undefined): Grant[] {
  const out: Grant[] = [];
  let link: Grant | undefined = g;
  // A cycle cannot come out of the log (a parent exists before its child); the check only
  // keeps a damaged view from looping.
  while (link && !out.includes(link)) {
    out.push(link);
    link = link.parent ? view.grant(link.parent) : undefined;
  }
  return out;
}

/**
 * The link number of `g` in its delegation chain: 0 for an owner's root grant, 1 for a
 * grant issued under one, and so on (see {@link MAX_DELEGATION_DEPTH}).
 */
export function delegationDepth(view: ViewReader, g: Grant): number {
  let n = 0;
  for (const link of chainOf(view, g)) if (!link.root) n++;
  return n;
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
  const what = () => needs.map((n) => `${n.action} on ${n.resource}`).join(', ');
  if (!who)
    return { allowed: false, reason: `identity ${audience} does not exist in this workspace` };
  if (who.status !== 'active')
    return { allowed: false, reason: `${who.name} (${who.id}) is suspended` };
  // In issue order, so every instance picks the same grant whatever order it loaded them in.
  let candidates = view.grantsOf(audience).sort((a, b) => a.issuedSeq - b.issuedSeq);
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
  const t = Date.parse(at);
  for (const g of candidates) {
    if (!covers(view, g, needs)) continue;
    const w = walk(view, g, t, options.pending, needs);
    if (w.reason) {
      reason ??= w.reason;
      continue;
    }
    if (w.approval) {
      approval ??= w.approval;
      continue;
    }
    return { allowed: true, grant: g, chain: w.chain };
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
    reason: reason ?? `no grant held by ${who.name} (${who.id}) covers ${what()}`,
  };
}
