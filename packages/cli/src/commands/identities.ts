import {
  type Actor,
  type Decision,
  ErrorCode,
  type Grant,
  type GrantInput,
  type Identity,
  type IdKind,
  isBatonError,
  rootGrantId,
} from '@baton/core';
import type { Command } from 'commander';
import { collect, intArg } from '../intArg.js';
import { createIdentity, type NewKeyOptions } from '../newIdentity.js';
import { EXIT, type Output, usage } from '../output.js';
import { allPages } from '../pages.js';
import type { Runner } from '../runner.js';
import type { CliSession } from '../session.js';

/** One line about an identity: name, kind, id, status. */
export function describeIdentity(out: Output, who: Identity, short = (id: string) => id): string {
  const c = out.c;
  const tags = [
    who.kind,
    who.isOwner ? 'owner' : '',
    who.status === 'suspended' ? c.red('suspended') : '',
  ]
    .filter(Boolean)
    .join(', ');
  return `${c.bold(who.name)} ${c.dim(`(${short(who.id)})`)} · ${tags}`;
}

/** One line about a grant: what it allows, to whom, its bounds. */
function describeGrant(
  out: Output,
  g: Grant,
  name: (id: string) => string,
  short = (id: string) => id,
): string {
  const c = out.c;
  const bounds: string[] = [];
  const k = g.constraints;
  if (k.expiresAt) bounds.push(`until ${k.expiresAt}`);
  if (k.notBefore) bounds.push(`from ${k.notBefore}`);
  if (k.maxUses !== undefined) bounds.push(`${g.uses}/${k.maxUses} uses`);
  if (k.depth !== undefined) bounds.push(`depth ${k.depth}`);
  for (const r of k.requiresApproval ?? [])
    bounds.push(
      `${r.action} needs approval${r.approvers?.length ? ` by ${r.approvers.map(name).join(' or ')}` : ''}`,
    );
  if (g.revoked) bounds.push(c.red(`revoked by ${name(g.revoked.by)}`));
  return `${c.bold(short(g.id))} ${name(g.issuer)} → ${name(g.audience)}: ${g.actions.join(', ')} on ${g.resource}${bounds.length ? c.dim(` (${bounds.join('; ')})`) : ''}`;
}

/**
 * The full id a person typed: the id, or a unique prefix of it (with or without its kind's
 * prefix, `ho_01M8RC…` or `01M8RC…`). An ambiguous prefix is refused, naming the candidates.
 */
export async function fullId(actor: Actor, ref: string, kinds: IdKind[]): Promise<string> {
  return actor.resolveId(ref, kinds);
}

/**
 * A resource pattern with the artifact id in it resolved: `artifact:01M8RC` names the
 * artifact that id prefix stands for; patterns (`artifact:*`, `artifact:tag/…`) stay as given.
 */
export async function fullResource(actor: Actor, resource: string): Promise<string> {
  const m = /^artifact:(.+)$/.exec(resource);
  if (!m || m[1]!.includes('*') || m[1]!.startsWith('tag/')) return resource;
  // A pattern may name an artifact that does not exist (yet): kept as given, as core judges it.
  const id = await actor.resolveId(m[1]!, ['artifact']).catch((err: unknown) => {
    if (isBatonError(err, ErrorCode.NOT_FOUND)) return m[1]!;
    throw err;
  });
  return `artifact:${id}`;
}

/** A function giving each of `ids` its short form for tables (the full id under `--json`). */
export async function shortener(
  actor: Actor,
  ids: readonly string[],
): Promise<(id: string) => string> {
  const short = await actor.shortIds(ids);
  return (id) => short.get(id) ?? id;
}

/** A function naming identities from the workspace's view (falls back to the id). */
export async function namer(session: CliSession): Promise<(id: string) => string> {
  const ws = await session.open();
  return (id) => ws.identity(id)?.name ?? id;
}

interface GrantOptions {
  resource: string;
  actions: string;
  approval?: string[];
  expires?: string;
  notBefore?: string;
  maxUses?: number;
  depth?: number;
}

/** The options `grant` and `delegate` share. */
function grantOptions(cmd: Command): Command {
  return cmd
    .argument('<identity>', 'who receives it (id or name)')
    .requiredOption(
      '--resource <pattern>',
      "what it covers: 'artifact:*', 'email:team/*', 'workspace'",
    )
    .requiredOption('--actions <list>', "comma-separated actions: 'read,write,handoff'")
    .option(
      '--approval <action[=approver,…]>',
      'this action needs a yes first (from the approvers named, or the issuer); repeatable',
      collect,
    )
    .option('--expires <time>', 'ISO time after which it no longer holds')
    .option('--not-before <time>', 'ISO time before which it does not hold yet')
    .option('--max-uses <n>', 'how many times it may be used', intArg(1))
    .option('--depth <n>', 'how many further delegations it allows', intArg(0));
}

async function grantInput(
  session: CliSession,
  actor: Actor,
  to: string,
  o: GrantOptions,
): Promise<GrantInput> {
  const actions = o.actions
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  if (actions.length === 0)
    throw usage('--actions: name at least one action, e.g. --actions read,write.');
  const input: GrantInput = {
    to: await session.idOf(to),
    resource: await fullResource(actor, o.resource),
    actions,
  };
  if (o.expires !== undefined) input.expiresAt = o.expires;
  if (o.notBefore !== undefined) input.notBefore = o.notBefore;
  if (o.maxUses !== undefined) input.maxUses = o.maxUses;
  if (o.depth !== undefined) input.depth = o.depth;
  if (o.approval) {
    input.requiresApproval = [];
    for (const rule of o.approval) {
      const [action, approvers] = rule.split('=', 2) as [string, string | undefined];
      if (!action)
        throw usage(`--approval "${rule}": name the action, e.g. --approval publish=Ada.`);
      const list = approvers
        ? await Promise.all(
            approvers
              .split(',')
              .filter(Boolean)
              .map((a) => session.idOf(a.trim())),
          )
        : undefined;
      input.requiresApproval.push(list ? { action, approvers: list } : { action });
    }
  }
  return input;
}

function printDecision(
  out: Output,
  d: Decision,
  name: (id: string) => string,
  what: string,
): number {
  if (d.allowed) {
    out.line(`${out.c.green('✓')} allowed: ${what}`);
    for (const g of d.chain) out.line(`  ${describeGrant(out, g, name)}`);
    return EXIT.OK;
  }
  out.line(`${out.c.red('✗')} not allowed: ${what}`);
  out.line(`  ${d.reason}`);
  return d.approval ? EXIT.APPROVAL_REQUIRED : EXIT.FORBIDDEN;
}

/** What `baton grant --help` shows: the grants an agent needs for the usual story. */
const GRANT_EXAMPLES = `
Examples:
  # An agent that drafts, asks questions and hands work back. Asking needs comment:
  # questions (offer --question, baton question) are ContextLog entries about the artifacts.
  baton grant drafter --resource 'artifact:*' --actions read,create,write,comment,handoff

  # Questions about no artifact (baton ask, baton question without --about) and handoffs
  # of no artifact need comment and handoff on the workspace:
  baton grant drafter --resource workspace --actions comment,handoff

  # Publishing only after your yes:
  baton grant drafter --resource 'artifact:*' --actions publish --approval publish

Whoever answers a question needs comment on what it is about too (owners have every grant).`;

/** `id …`, `grant`, `delegate`, `revoke`, `grants`, `can`, `do`, `record`. */
export function registerIdentityCommands(program: Command, run: Runner): void {
  const id = program
    .command('id')
    .description('Identities: people, agents and services taking part.');

  id.command('create')
    .description(
      "Create an identity. Its key: --key registers a public key made in the identity's own process (`baton keygen`); --key-dir makes it in a directory of its own to hand over; --key-here keeps it in this workspace's keys/ on purpose.",
    )
    .argument('<name>', 'its display name')
    .option('--kind <kind>', 'human, agent or service', 'agent')
    .option('--owner <identity>', 'the person answerable for an agent or service (default: you)')
    .option(
      '--key <did>',
      "a did:key made by the identity's own process (its private key stays there)",
    )
    .option('--key-dir <dir>', "make its key in this directory (its own, not this workspace's)")
    .option('--key-here', "keep its key in this workspace's keys/, so this terminal can act as it")
    .action(
      run(
        async (
          { session, out },
          name: string,
          o: { kind: string; owner?: string } & NewKeyOptions,
        ) => {
          const actor = await session.actor();
          if (!['human', 'agent', 'service'].includes(o.kind))
            throw usage(`--kind must be human, agent or service, not "${o.kind}".`);
          const { identity: who, steps } = await createIdentity(
            session,
            actor,
            {
              kind: o.kind as Identity['kind'],
              name,
              ...(o.owner !== undefined ? { owner: await session.idOf(o.owner) } : {}),
            },
            o,
          );
          out.show(who, () => {
            out.line(`${out.c.green('✓')} ${describeIdentity(out, who)}`);
            for (const step of steps) out.line(`  ${step}`);
          });
          return EXIT.OK;
        },
      ),
    );

  id.command('list')
    .description('Everyone in the workspace.')
    .option('--kind <kind>', 'only humans, agents or services')
    .action(
      run(async ({ session, out }, o: { kind?: string }) => {
        const actor = await session.actor();
        const items = await allPages((after) =>
          actor.identities.list({
            ...(o.kind ? { kind: o.kind as Identity['kind'] } : {}),
            ...(after ? { after } : {}),
          }),
        );
        const short = await shortener(
          actor,
          items.map((i) => i.id),
        );
        out.show(items, () => {
          for (const who of items) out.line(describeIdentity(out, who, short));
        });
        return EXIT.OK;
      }),
    );

  id.command('show')
    .description('One identity: kind, owner, keys, grants held.')
    .argument('<identity>', 'id or name')
    .action(
      run(async ({ session, out }, ref: string) => {
        const actor = await session.actor();
        const who = await session.identity(ref, actor);
        const grants = (await actor.capabilities.list({ audience: who.id })).items;
        const name = await namer(session);
        out.show({ ...who, grants }, () => {
          out.line(describeIdentity(out, who));
          if (who.owner) out.line(`  owner: ${name(who.owner)}`);
          for (const k of who.keys)
            out.line(`  key: ${k.key}${k.until !== undefined ? out.c.dim(' (retired)') : ''}`);
          for (const g of grants) out.line(`  ${describeGrant(out, g, name)}`);
        });
        return EXIT.OK;
      }),
    );

  for (const [verb, done, what] of [
    ['suspend', 'Suspended', 'Suspend an identity: it can do nothing until reinstated.'],
    ['reinstate', 'Reinstated', 'Reinstate a suspended identity.'],
  ] as const) {
    id.command(verb)
      .description(what)
      .argument('<identity>', 'id or name')
      .option('--reason <text>', 'why (kept in the log)')
      .action(
        run(async ({ session, out }, ref: string, o: { reason?: string }) => {
          const actor = await session.actor();
          const who = await actor.identities[verb](
            await session.idOf(ref),
            o.reason !== undefined ? { reason: o.reason } : undefined,
          );
          out.show(who, () =>
            out.line(`${out.c.green('✓')} ${done} ${describeIdentity(out, who)}`),
          );
          return EXIT.OK;
        }),
      );
  }

  const issue = (verb: 'grant' | 'delegate') =>
    run(async ({ session, out }, to: string, o: GrantOptions) => {
      const actor = await session.actor();
      const g = await actor.capabilities.grant(await grantInput(session, actor, to, o));
      const name = await namer(session);
      out.show(g, () => {
        out.line(`${out.c.green('✓')} ${describeGrant(out, g, name)}`);
        if (g.parent && g.parent !== rootGrantId(g.issuer))
          out.line(out.c.dim(`  delegated from ${g.parent}, within its bounds`));
        else if (verb === 'delegate') out.line(out.c.dim('  a root grant: you are an owner'));
      });
      return EXIT.OK;
    });

  grantOptions(
    program
      .command('grant')
      .description('Give an identity a capability: actions on resources, with bounds.')
      .addHelpText('after', GRANT_EXAMPLES),
  ).action(issue('grant'));

  grantOptions(
    program
      .command('delegate')
      .description(
        'Pass on part of a grant you hold: the new grant nests inside it (never wider) and dies with it.',
      ),
  ).action(issue('delegate'));

  program
    .command('revoke')
    .description('Revoke a grant, and with it everything delegated from it.')
    .argument('<grant>', 'the grant id')
    .option('--reason <text>', 'why (kept in the log)')
    .action(
      run(async ({ session, out }, grantId: string, o: { reason?: string }) => {
        const actor = await session.actor();
        const g = await actor.capabilities.revoke(
          await fullId(actor, grantId, ['grant']),
          o.reason !== undefined ? { reason: o.reason } : undefined,
        );
        out.show(g, () => out.line(`${out.c.green('✓')} Revoked ${g.id}.`));
        return EXIT.OK;
      }),
    );

  program
    .command('grants')
    .description('Grants held by an identity (default: you).')
    .argument('[identity]', 'id or name')
    .option('--all', 'include revoked grants')
    .action(
      run(async ({ session, out }, ref: string | undefined, o: { all?: boolean }) => {
        const actor = await session.actor();
        const who = ref === undefined ? actor.id : await session.idOf(ref);
        const grants = (
          await actor.capabilities.list({ audience: who, includeRevoked: o.all === true })
        ).items;
        const name = await namer(session);
        const short = await shortener(
          actor,
          grants.map((g) => g.id),
        );
        out.show(grants, () => {
          if (grants.length === 0) out.line(out.c.dim('No grants.'));
          for (const g of grants) out.line(describeGrant(out, g, name, short));
        });
        return EXIT.OK;
      }),
    );

  program
    .command('can')
    .description(
      'May you (or, with --for, another identity) do <action> on <resource> now? Prints the allowing chain, or the exact reason. Exits 4 if not, 5 if it needs approval.',
    )
    .argument('<action>', "e.g. 'write', 'email.send'")
    .argument('<resource>', "e.g. 'artifact:art_…', 'email:launch'")
    .option(
      '--for <identity>',
      'ask about this identity instead of you (id or name; needs read on grant:*, as owners have)',
    )
    .action(
      run(async ({ session, out }, action: string, resource: string, o: { for?: string }) => {
        const actor = await session.actor();
        const who = o.for !== undefined ? await session.identity(o.for, actor) : undefined;
        const r = await fullResource(actor, resource);
        const d = await actor.can(action, r, who ? { for: who.id } : undefined);
        const name = await namer(session);
        if (out.json) {
          out.data(d);
          return d.allowed ? EXIT.OK : d.approval ? EXIT.APPROVAL_REQUIRED : EXIT.FORBIDDEN;
        }
        return printDecision(out, d, name, `${who ? `${who.name}: ` : ''}${action} on ${r}`);
      }),
    );

  program
    .command('do')
    .description(
      'Use a grant for an action of your own (recorded in the log, counted toward max uses). If it needs approval, asks for it and exits 5; run it again once approved.',
    )
    .argument('<action>', "e.g. 'publish'")
    .argument('<resource>', "e.g. 'artifact:art_…'")
    .option('--summary <text>', 'what you are about to do, for the approver')
    .action(
      run(async ({ session, out }, action: string, resource: string, o: { summary?: string }) => {
        const actor = await session.actor();
        const a = await actor.authorize(
          action,
          await fullResource(actor, resource),
          o.summary !== undefined ? { summary: o.summary } : undefined,
        );
        out.show(a, () => {
          out.line(
            `${out.c.green('✓')} ${action} on ${resource}: allowed by ${a.grant.id}${a.approval ? ` with approval ${a.approval}` : ''} (event ${a.event.seq}).`,
          );
        });
        return EXIT.OK;
      }),
    );

  program
    .command('record')
    .description("An identity's track record: handoffs, approvals, edits, costs.")
    .argument('<identity>', 'id or name')
    .action(
      run(async ({ session, out }, ref: string) => {
        const actor = await session.actor();
        const r = await actor.identities.record(await session.idOf(ref));
        out.show(r, () => {
          const c = out.c;
          out.line(`${c.bold(r.name)} ${c.dim(`(${r.id})`)}`);
          const h = r.handoffs;
          out.line(
            `  handoffs   offered ${h.offered} · accepted ${h.accepted} · completed ${h.completed} · returned ${h.returned} · declined ${h.declined}`,
          );
          const a = r.approvals;
          out.line(
            `  approvals  requested ${a.requested} · granted ${a.granted} · denied ${a.denied} · approved for others ${a.approvedForOthers} · denied for others ${a.deniedForOthers}`,
          );
          out.line(`  edits      ${r.edits.total} (${r.edits.reverted} reverted)`);
          out.line(
            `  cost       ${r.cost.inputTokens} in / ${r.cost.outputTokens} out tokens · $${r.cost.costUsd.toFixed(4)} over ${r.cost.entries} entries`,
          );
        });
        return EXIT.OK;
      }),
    );
}
