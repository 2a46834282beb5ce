import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import { collect, intArg } from '../intArg.js';
import { EXIT, usage } from '../output.js';
import type { Runner } from '../runner.js';
import { serveMcpHttp } from './mcpHttp.js';
import { servedWorkspace } from './servedWorkspace.js';

interface McpOptions {
  approver?: string;
  wait?: number;
  http?: number;
  host?: string;
  serve?: string[];
}

/** `mcp`: the workspace as an MCP server on stdio, as one identity (or over HTTP, as several). */
export function registerMcpCommand(program: Command, run: Runner): void {
  program
    .command('mcp')
    .description(
      'Serve the workspace to an MCP client (Claude Code, Cursor, …) over stdio, as one identity (--as): every tool call is signed with that identity’s key, and only that key is used. stdout carries only MCP messages. With --http <port>: over Streamable HTTP to several identities, each connection acting as the identity whose bearer token it holds (`baton token create`).',
    )
    .option(
      '--http <port>',
      'serve over Streamable HTTP on this port instead of stdio (0: any free port, printed): to every non-owner identity whose key is in the key directory, each client authenticated by its bearer token',
      intArg(0),
    )
    .option(
      '--host <address>',
      'with --http: the address to listen on (default 127.0.0.1: this machine only)',
    )
    .option(
      '--serve <identity>',
      'with --http: serve exactly this identity (owners included); repeatable (default: every non-owner whose key is here)',
      collect,
    )
    .option(
      '--approver <identity>',
      'the person at the client: approvals they may give are asked in the client (if it can show a form), signed with their key, which must be in the key directory too',
    )
    .option(
      '--wait <ms>',
      'how long request_approval / ask_person wait for a person by default (at most 55000; default 25000)',
      intArg(0),
    )
    .action(
      run(async (ctx, o: McpOptions) => {
        const { session, io } = ctx;
        if (o.http !== undefined) {
          if (o.approver !== undefined)
            throw usage(
              '--approver is for stdio: over --http each client acts as its token’s identity.',
            );
          return serveMcpHttp(ctx, {
            port: o.http,
            ...(o.host !== undefined ? { host: o.host } : {}),
            ...(o.serve !== undefined ? { serve: o.serve } : {}),
            ...(o.wait !== undefined ? { waitMs: Math.min(o.wait, 55_000) } : {}),
          });
        }
        if (o.host !== undefined || o.serve !== undefined)
          throw usage('--host and --serve go with --http <port>.');
        await session.open();
        const me = await session.me();
        const ids = new Set([me.id]);
        let approver: string | undefined;
        if (o.approver !== undefined) {
          const who = await session.identity(o.approver);
          await session.requireKey(who);
          approver = who.id;
          ids.add(who.id);
        }
        // A workspace of its own on the same file whose keyring holds only those keys.
        const ws = await servedWorkspace(session, (id) => ids.has(id));
        try {
          // Loaded here, not with the CLI: only this command needs the MCP SDK.
          const { serveMcpStdio } = await import('@baton/mcp');
          const served = await serveMcpStdio({
            workspace: ws,
            as: me.id,
            ...(approver !== undefined ? { approver } : {}),
            ...(o.wait !== undefined ? { waitMs: Math.min(o.wait, 55_000) } : {}),
            stdin: io.stdin as Readable,
            stdout: io.stdout,
          });
          io.stderr.write(`baton mcp: serving as ${me.name} (${me.id}) on stdio\n`);
          const stop = () => void served.close();
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
          try {
            await served.closed;
          } finally {
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
          }
        } finally {
          await ws.close();
        }
        return EXIT.OK;
      }),
    );
}
