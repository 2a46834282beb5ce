import type { Grant, GrantConstraints } from './view.js';

/**
 * How constraints `c` (for `actions`) would widen what grant `parent` allows, in words, or
 * `undefined` when they only narrow it: time bounds nested inside the parent's, a smaller
 * remaining depth, and every approval rule of the parent kept.
 */
export function wideningOf(
  c: GrantConstraints,
  actions: readonly string[],
  parent: Grant,
  issuer: string,
): string | undefined {
  if (parent.root) return undefined;
  const p = parent.constraints;
  if (p.expiresAt && (!c.expiresAt || Date.parse(c.expiresAt) > Date.parse(p.expiresAt))) {
    return `it would outlive its parent (expiresAt must be on or before ${p.expiresAt})`;
  }
  if (p.notBefore && (!c.notBefore || Date.parse(c.notBefore) < Date.parse(p.notBefore))) {
    return `it would start before its parent (notBefore must be on or after ${p.notBefore})`;
  }
  if (p.depth !== undefined) {
    if (p.depth < 1) return `the parent may not be delegated further (its depth is 0)`;
    if (c.depth === undefined || c.depth > p.depth - 1) {
      return `its depth must be at most ${p.depth - 1}`;
    }
  }
  const all = actions.includes('admin');
  for (const rule of p.requiresApproval ?? []) {
    if (!all && !actions.includes(rule.action)) continue;
    // A rule without approvers means the issuer of the grant that carries it.
    const kept = c.requiresApproval?.some(
      (r) =>
        r.action === rule.action &&
        sameSet(r.approvers ?? [issuer], rule.approvers ?? [parent.issuer]),
    );
    if (!kept) return `it would drop the parent's approval rule on "${rule.action}"`;
  }
  return undefined;
}

/**
 * Constraints for a grant delegated from `parent`: what the caller asked for, with the
 * parent's bounds filled in where the caller left them out (constraints accumulate).
 */
export function inheritConstraints(
  c: GrantConstraints,
  actions: readonly string[],
  parent: Grant,
): GrantConstraints {
  if (parent.root) return c;
  const p = parent.constraints;
  const out: GrantConstraints = { ...c };
  if (p.expiresAt && !out.expiresAt) out.expiresAt = p.expiresAt;
  if (p.notBefore && !out.notBefore) out.notBefore = p.notBefore;
  if (p.depth !== undefined && out.depth === undefined) out.depth = Math.max(0, p.depth - 1);
  const all = actions.includes('admin');
  for (const rule of p.requiresApproval ?? []) {
    if (!all && !actions.includes(rule.action)) continue;
    const approvers = rule.approvers ?? [parent.issuer];
    if (
      !out.requiresApproval?.some(
        (r) => r.action === rule.action && sameSet(r.approvers ?? [], approvers),
      )
    ) {
      out.requiresApproval = [...(out.requiresApproval ?? []), { action: rule.action, approvers }];
    }
  }
  return out;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}
