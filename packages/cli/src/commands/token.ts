import type { Workspace } from '@baton/core';
import type { TokenInfo, Tokens } from '@baton/mcp';
import type { Command } from 'commander';
import { EXIT, type Output, usage } from '../output.js';
import type { Runner } from '../runner.js';
import { namer } from './identities.js';

/**
 * @baton/mcp (and the MCP SDK under it) loads only for the token commands, so every other
 * command starts as fast as before.
 */
async function tokensOf(
  workspace: Workspace,
): Promise<{ tokens: Tokens; tokenIdOf: (t: string) => string | undefined }> {
  const mcp = await import('@baton/mcp');
  return { tokens: new mcp.Tokens({ workspace }), tokenIdOf: mcp.tokenIdOf };
}

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * An expiry as typed: an ISO time, or a duration from now (`90m`, `12h`, `30d`).
 * Returns an ISO time.
 */
export function expiryOf(value: string, now = Date.now()): string {
  const m = /^(\d{1,6})([mhd])$/.exec(value.trim());
  if (m) return new Date(now + Number(m[1]) * UNITS[m[2]!]!).toISOString();
  const t = Date.parse(value);
  if (Number.isNaN(t) || !/^\d{4}-\d{2}-\d{2}/.test(value))
    throw usage(
      `--expires: "${value}" is neither an ISO time (2026-12-31T18:00:00Z) nor a duration (90m, 12h, 30d).`,
    );
  return new Date(t).toISOString();
}

/** What a token's state is now, in a word. */
function stateOf(t: TokenInfo, now = Date.now()): 'revoked' | 'expired' | 'live' {
  if (t.revokedAt !== undefined) return 'revoked';
  if (t.expiresAt !== undefined && Date.parse(t.expiresAt) <= now) return 'expired';
  return 'live';
}

function describeToken(out: Output, t: TokenInfo, name: (id: string) => string): string[] {
  const state = stateOf(t);
  const c = out.c;
  return [
    c.bold(t.id),
    name(t.identity),
    t.createdAt.slice(0, 19).replace('T', ' '),
    t.expiresAt ? t.expiresAt.slice(0, 19).replace('T', ' ') : '—',
    state === 'live'
      ? c.green('live')
      : state === 'revoked'
        ? c.red(`revoked by ${name(t.revokedBy ?? '?')}`)
        : c.yellow('expired'),
    t.label ?? '',
  ];
}

/** `token create|list|revoke`: bearer tokens for `baton mcp --http`. */
export function registerTokenCommands(program: Command, run: Runner): void {
  const token = program
    .command('token')
    .description(
      'Bearer tokens for `baton mcp --http`: each lets an MCP client act as one identity. Only their hash is kept.',
    );

  token
    .command('create')
    .description(
      'Issue a token for an identity (needs admin on it: an owner has it). Printed once: copy it now.',
    )
    .argument('<identity>', 'who the token acts as (id or name)')
    .option(
      '--expires <time>',
      'an ISO time, or a duration from now: 90m, 12h, 30d (default: never)',
    )
    .option('--label <text>', 'what it is for, shown by `token list` ("Cursor on my laptop")')
    .action(
      run(async ({ session, out }, ref: string, o: { expires?: string; label?: string }) => {
        const me = await session.actor();
        const ws = await session.open();
        const who = await session.identity(ref);
        const { tokens } = await tokensOf(ws);
        const issued = await tokens.issue({
          as: me.id,
          identity: who.id,
          ...(o.expires !== undefined ? { expiresAt: expiryOf(o.expires) } : {}),
          ...(o.label !== undefined ? { label: o.label } : {}),
        });
        out.show({ token: issued.token, ...issued.info }, () => {
          // The token alone on stdout (for `$(baton token create …)`); the words on stderr.
          out.line(issued.token);
          out.note(
            `Token ${issued.info.id} acts as ${who.name}${issued.info.expiresAt ? ` until ${issued.info.expiresAt}` : ''}. It is shown this once: only its hash is kept. Revoke it with \`baton token revoke ${issued.info.id}\`.`,
          );
        });
        return EXIT.OK;
      }),
    );

  token
    .command('list')
    .description(
      'The tokens of the identities you may manage: id, identity, times, state — never the token.',
    )
    .argument('[identity]', 'only this identity’s tokens (id or name)')
    .action(
      run(async ({ session, out }, ref: string | undefined) => {
        const me = await session.actor();
        const ws = await session.open();
        const only = ref !== undefined ? (await session.identity(ref)).id : undefined;
        const { tokens } = await tokensOf(ws);
        const list = await tokens.list({
          as: me.id,
          ...(only !== undefined ? { identity: only } : {}),
        });
        const name = await namer(session);
        out.show(
          list.map((t) => ({ ...t, state: stateOf(t) })),
          () => {
            if (list.length === 0)
              return out.note('No tokens. `baton token create <identity>` issues one.');
            out.table(
              ['TOKEN', 'IDENTITY', 'CREATED', 'EXPIRES', 'STATE', 'LABEL'],
              list.map((t) => describeToken(out, t, name)),
            );
          },
        );
        return EXIT.OK;
      }),
    );

  token
    .command('revoke')
    .description(
      'Revoke a token (by its id or the token itself), or every live token of an identity: it stops working at the next request.',
    )
    .argument(
      '<token-or-identity>',
      'a token id (tok_…), a token (baton_…), or an identity (id or name)',
    )
    .action(
      run(async ({ session, out }, ref: string) => {
        const me = await session.actor();
        const ws = await session.open();
        const { tokens, tokenIdOf } = await tokensOf(ws);
        let revoked: TokenInfo[];
        if (ref.startsWith('tok_') || tokenIdOf(ref) !== undefined) {
          revoked = [await tokens.revoke({ as: me.id, token: ref })];
        } else {
          const who = await session.identity(ref);
          const live = (await tokens.list({ as: me.id, identity: who.id })).filter(
            (t) => stateOf(t) === 'live',
          );
          revoked = [];
          for (const t of live) revoked.push(await tokens.revoke({ as: me.id, token: t.id }));
        }
        const name = await namer(session);
        out.show(revoked, () => {
          if (revoked.length === 0) return out.line(`No live token of ${ref} to revoke.`);
          for (const t of revoked)
            out.line(`${out.c.green('✓')} Revoked ${out.c.bold(t.id)} (${name(t.identity)}).`);
        });
        return EXIT.OK;
      }),
    );
}
