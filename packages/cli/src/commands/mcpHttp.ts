import type { Workspace } from '@baton/core';
import { EXIT } from '../output.js';
import type { CommandContext } from '../runner.js';
import { servedWorkspace } from './servedWorkspace.js';

/** Options of `baton mcp --http <port>`. */
export interface McpHttpOptions {
  /** The port (`0`: any free one, printed). */
  port: number;
  /** The address to listen on. Defaults to `'127.0.0.1'`. */
  host?: string;
  /**
   * Only these identities (ids or names). Defaults to every identity whose key is here except
   * the workspace's owners: an owner is served only when named.
   */
  serve?: string[];
  /** How long `request_approval` / `ask_person` wait by default, in ms. Defaults to the server's. */
  waitMs?: number;
  /** Stops the server (else SIGINT or SIGTERM do). */
  signal?: AbortSignal;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * `baton mcp --http <port>`: serves the workspace over Streamable HTTP to every identity
 * whose key is in the key directory and which holds a live token (`baton token create`),
 * until SIGINT or SIGTERM.
 */
export async function serveMcpHttp(
  { session, out }: CommandContext,
  o: McpHttpOptions,
): Promise<number> {
  await session.open();
  const { createMcpServer, serveHttp } = await import('@baton/mcp');
  const only = o.serve ? await Promise.all(o.serve.map((ref) => session.idOf(ref))) : undefined;
  const host = o.host ?? '127.0.0.1';
  // A workspace of its own on the same file, whose keyring gives out only the keys of the
  // identities named, or else of every identity but the owners — so a token issued for an
  // owner opens nothing unless the owner chose to be served.
  const named = only ? new Set(only) : undefined;
  const ws = await servedWorkspace(session, (id, w) =>
    named ? named.has(id) : w?.identity(id)?.isOwner === false,
  );
  try {
    return await serveOn(ws, { session, out }, o, host, createMcpServer, serveHttp);
  } finally {
    await ws.close();
  }
}

async function serveOn(
  ws: Workspace,
  { session, out }: Pick<CommandContext, 'session' | 'out'>,
  o: McpHttpOptions,
  host: string,
  createMcpServer: typeof import('@baton/mcp').createMcpServer,
  serveHttp: typeof import('@baton/mcp').serveHttp,
): Promise<number> {
  const serving = await serveHttp({
    workspace: ws,
    port: o.port,
    host,
    createServer: (as) =>
      createMcpServer({
        workspace: ws,
        as,
        ...(o.waitMs !== undefined ? { waitMs: o.waitMs } : {}),
      }),
  });
  // Who can be served: the identities whose keys this process holds (the trust model).
  const held: string[] = [];
  for (const who of ws.identityList()) if (await ws.keyring.signer(who.id)) held.push(who.name);
  const info = { url: serving.url.href, port: serving.port, serves: held, keys: session.keys.path };
  out.show(info, () => {
    out.note(`Serving MCP over Streamable HTTP at ${serving.url.href}`);
    out.note(
      `  For a client holding a live token (baton token create <identity>) of: ${held.join(', ') || 'nobody yet'} — the identities whose keys are in ${session.keys.path}. Ctrl-C stops.`,
    );
    if (!LOOPBACK.has(host))
      out.note(
        `  Listening on ${host}: others on the network can reach it. Put TLS in front; a bearer token is all that stands between them and these keys.`,
      );
  });
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    if (o.signal?.aborted) return stop();
    o.signal?.addEventListener('abort', stop, { once: true });
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await serving.close();
  return EXIT.OK;
}
