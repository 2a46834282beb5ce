import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BatonError, ErrorCode, parseInput, type Workspace } from '@baton/core';
import {
  isInitializeRequest,
  type McpServer,
  WebStandardStreamableHTTPServerTransport,
} from '@modelcontextprotocol/server';
import { z } from 'zod';
import { createMcpServer } from '../createMcpServer.js';
import { type TokenCheck, Tokens } from '../tokens.js';

/** Makes the MCP server a connection talks to, acting as `identity` (one per session). */
export type McpServerFor = (identity: string) => McpServer | Promise<McpServer>;

/** Options of {@link serveHttp}. */
export interface ServeHttpOptions {
  /** The open workspace served; its keyring holds the keys of the identities served. */
  workspace: Workspace;
  /**
   * Makes one MCP server per session, acting as the identity the session's token names.
   * Defaults to `createMcpServer({ workspace, as })`.
   */
  createServer?: McpServerFor;
  /** The TCP port. `0` picks a free one (read it from the result). */
  port: number;
  /**
   * The address to listen on. Defaults to `'127.0.0.1'`: only this machine can connect.
   * Anything else exposes the keys this process holds to the network behind a bearer token;
   * put TLS in front.
   */
  host?: string;
  /** The URL path of the MCP endpoint. Defaults to `'/mcp'`. */
  path?: string;
  /**
   * Only these identities (ids) are served, even with a live token. Defaults to every
   * identity whose key the workspace's keyring holds.
   */
  identities?: string[];
  /**
   * How often open sessions are checked again, so that a revoked token's open event stream
   * closes too (every request is checked regardless). `0` turns it off. Defaults to `10_000`.
   */
  recheckMs?: number;
  /**
   * The host names a request's `Host` header may name (the port aside): the defence against
   * DNS rebinding, where a web page's script reaches a local server under a name of the
   * page's choosing. Defaults to `localhost`, `127.0.0.1` and `[::1]` when listening on a
   * loopback address, and to no check otherwise.
   */
  allowedHosts?: string[];
  /** Largest request body accepted, in bytes. Defaults to `4_194_304` (4 MiB). */
  maxBodyBytes?: number;
  /** The tokens checker. Defaults to `new Tokens({ workspace })`. */
  tokens?: Tokens;
}

/** A running Streamable HTTP server: where it listens and how to stop it. */
export interface HttpServing {
  /** The endpoint's URL, e.g. `http://127.0.0.1:7777/mcp`. */
  url: URL;
  /** The port it listens on (the chosen one when `port` was `0`). */
  port: number;
  /** How many sessions are open. */
  sessions(): number;
  /** Closes every session and stops listening. Idempotent. */
  close(): Promise<void>;
}

interface Session {
  id: string;
  identity: string;
  tokenId: string;
  transport: WebStandardStreamableHTTPServerTransport;
  server: McpServer;
}

const optionsSchema = z.object({
  workspace: z.custom<Workspace>(
    (w) => typeof w === 'object' && w !== null && 'store' in w && 'keyring' in w,
    { message: 'must be an open Workspace' },
  ),
  createServer: z
    .custom<McpServerFor>((f) => typeof f === 'function', {
      message: 'must be a function (identity) => McpServer',
    })
    .optional(),
  port: z.number().int().min(0).max(65_535),
  host: z.string().min(1).max(255).optional(),
  path: z
    .string()
    .regex(/^\/[A-Za-z0-9._~/-]*$/, 'must be a URL path starting with /')
    .optional(),
  identities: z.array(z.string().min(1)).optional(),
  recheckMs: z.number().int().min(0).optional(),
  allowedHosts: z.array(z.string().min(1).max(255)).optional(),
  maxBodyBytes: z.number().int().min(1).optional(),
  tokens: z.instanceof(Tokens).optional(),
});

const REALM = 'baton';
const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * Serves the workspace over MCP's Streamable HTTP transport to several identities at once,
 * each connection authenticated by a bearer token an owner issued ({@link Tokens}).
 *
 * @remarks
 * Trust model: this process holds the private keys of every identity it serves, and signs as
 * one of them only for a request carrying that identity's live token. Every request is
 * checked — token known, hash matching, signed by an issuer still allowed to manage the
 * identity, not revoked, not expired; identity active — with nothing cached, so a revocation
 * made by any process holding the workspace counts at the next request. A session is bound
 * to the token that opened it: the same session id with another token is refused.
 * Answers: no, malformed, unknown, revoked or expired token → `401` with `WWW-Authenticate:
 * Bearer`; a token of a suspended identity, or of one this server does not serve → `403`;
 * a session of another token → `403`; an unknown session → `404`.
 *
 * @example
 * ```ts
 * const serving = await serveHttp({ workspace, port: 7777 });
 * // clients connect to serving.url with `Authorization: Bearer baton_…`
 * ```
 */
export async function serveHttp(options: ServeHttpOptions): Promise<HttpServing> {
  const o = parseInput(optionsSchema, options, 'serveHttp(options)');
  const ws = o.workspace;
  const tokens = o.tokens ?? new Tokens({ workspace: ws });
  const host = o.host ?? '127.0.0.1';
  const path = o.path ?? '/mcp';
  const maxBody = o.maxBodyBytes ?? 4 * 1024 * 1024;
  const served = o.identities ? new Set(o.identities) : undefined;
  const allowedHosts = o.allowedHosts
    ? new Set(o.allowedHosts.map((h) => h.toLowerCase()))
    : LOOPBACK.has(host)
      ? new Set(['localhost', '127.0.0.1', '[::1]'])
      : undefined;
  const sessions = new Map<string, Session>();
  const makeServer: McpServerFor = (as) => createMcpServer({ workspace: ws, as });

  const endSession = async (s: Session) => {
    if (!sessions.delete(s.id)) return;
    await s.transport.close().catch(() => undefined);
    await s.server.close().catch(() => undefined);
  };
  const endSessionsOf = async (tokenId: string) => {
    for (const s of [...sessions.values()]) if (s.tokenId === tokenId) await endSession(s);
  };

  const serves = async (identity: string) =>
    (served === undefined || served.has(identity)) &&
    (await ws.keyring.signer(identity)) !== undefined;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', `http://${req.headers.host ?? host}`);
    } catch {
      return plain(res, 400, 'Bad request: the Host header or the path is not valid.');
    }
    if (allowedHosts && !allowedHosts.has(url.hostname.toLowerCase()))
      return plain(res, 403, `Host ${url.hostname} is not allowed here.`);
    if (url.pathname !== path) return plain(res, 404, `Not found. The MCP endpoint is ${path}.`);

    const check = await tokens.authenticate(bearerOf(req.headers.authorization));
    if (!check.ok) {
      // The token no longer holds: its open sessions (and their event streams) end too.
      if (check.tokenId) await endSessionsOf(check.tokenId);
      return refuse(res, check);
    }
    if (!(await serves(check.identity))) {
      const name = ws.identity(check.identity)?.name ?? check.identity;
      return jsonError(
        res,
        403,
        `This server does not serve ${name}: it does not hold its key (or was not asked to serve it).`,
      );
    }

    const sessionId = header(req.headers['mcp-session-id']);
    let body: unknown;
    if (req.method === 'POST') {
      const text = await readBody(req, maxBody);
      if (text === undefined)
        return jsonError(res, 413, `The request body exceeds ${maxBody} bytes.`);
      try {
        body = JSON.parse(text);
      } catch {
        return jsonError(res, 400, 'The request body is not JSON.', -32700);
      }
    }

    let session: Session | undefined;
    if (sessionId !== undefined) {
      session = sessions.get(sessionId);
      if (!session) return jsonError(res, 404, 'Session not found. Start a new one (initialize).');
      if (session.tokenId !== check.tokenId)
        return jsonError(res, 403, 'This session was opened with another token.');
    } else if (req.method === 'POST' && isInitializeRequest(body)) {
      session = await openSession(check);
    } else {
      return jsonError(
        res,
        400,
        'No session: send an initialize request first (no Mcp-Session-Id).',
      );
    }

    const request = new Request(url, {
      method: req.method ?? 'GET',
      headers: headersOf(req),
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const response = await session.transport.handleRequest(request, {
      ...(body !== undefined ? { parsedBody: body } : {}),
      // What the tool handlers may read: the token's id, never the token.
      authInfo: {
        token: check.tokenId,
        clientId: check.tokenId,
        scopes: [],
        extra: { identity: check.identity },
      },
    });
    // An initialize the transport refused opened no session: drop what was made for it.
    if (sessionId === undefined && session.transport.sessionId === undefined)
      await session.server.close().catch(() => undefined);
    await send(res, response);
  };

  const openSession = async (check: TokenCheck & { ok: true }): Promise<Session> => {
    const id = randomUUID();
    const server = await (o.createServer ?? makeServer)(check.identity);
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => id,
      onsessioninitialized: () => {
        sessions.set(id, s);
      },
      onsessionclosed: () => {
        void endSession(s);
      },
    });
    const s: Session = { id, identity: check.identity, tokenId: check.tokenId, transport, server };
    transport.onclose = () => {
      void endSession(s);
    };
    await server.connect(transport);
    return s;
  };

  const http: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      jsonError(res, 500, `The server failed: ${err instanceof Error ? err.message : String(err)}`);
    });
  });

  const recheckMs = o.recheckMs ?? 10_000;
  const timer =
    recheckMs > 0
      ? setInterval(() => {
          void recheck();
        }, recheckMs)
      : undefined;
  timer?.unref();
  const recheck = async () => {
    const seen = new Map<string, boolean>();
    for (const s of [...sessions.values()]) {
      let live = seen.get(s.tokenId);
      if (live === undefined) {
        live = await tokens.isLive(s.tokenId).catch(() => true);
        seen.set(s.tokenId, live);
      }
      if (!live) await endSession(s);
    }
  };

  await new Promise<void>((resolve, reject) => {
    http.once('error', (err) =>
      reject(
        new BatonError(
          ErrorCode.STORE,
          `serveHttp: cannot listen on ${host}:${o.port}: ${err.message}`,
          {
            cause: err,
          },
        ),
      ),
    );
    http.listen(o.port, host, () => resolve());
  });
  const port = (http.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: new URL(`http://${shownHost}:${port}${path}`),
    port,
    sessions: () => sessions.size,
    close: () => {
      closing ??= (async () => {
        if (timer) clearInterval(timer);
        for (const s of [...sessions.values()]) await endSession(s);
        await new Promise<void>((resolve) => {
          http.close(() => resolve());
          http.closeAllConnections();
        });
      })();
      return closing;
    },
  };
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** The token of an `Authorization: Bearer <token>` header, if it has that form. */
function bearerOf(auth: string | undefined): string | undefined {
  if (!auth) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
  return m ? m[1] : '';
}

function headersOf(req: IncomingMessage): Headers {
  const h = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) h.append(k, one);
  }
  return h;
}

async function readBody(req: IncomingMessage, max: number): Promise<string | undefined> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function send(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string> = {};
  response.headers.forEach((v, k) => {
    headers[k] = v;
  });
  res.writeHead(response.status, headers);
  if (!response.body) {
    res.end();
    return;
  }
  res.flushHeaders();
  const reader = response.body.getReader();
  res.on('close', () => {
    reader.cancel().catch(() => undefined);
  });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      res.write(value);
    }
  } catch {
    // The client went away mid-stream.
  }
  res.end();
}

/** The header value RFC 6750 asks for, with words safe inside a quoted string. */
function challenge(check: TokenCheck & { ok: false }): string {
  // A header carries printable ASCII only, and names (from the workspace) are untrusted.
  const words = check.message.replace(/[^\x20-\x7e]/g, '?').replace(/["\\]/g, "'");
  if (check.status === 403)
    return `Bearer realm="${REALM}", error="insufficient_scope", error_description="${words}"`;
  // No token at all: a bare challenge (RFC 6750 §3.1).
  if (check.reason === 'missing') return `Bearer realm="${REALM}"`;
  return `Bearer realm="${REALM}", error="invalid_token", error_description="${words}"`;
}

function refuse(res: ServerResponse, check: TokenCheck & { ok: false }): void {
  jsonError(res, check.status, check.message, -32001, { 'WWW-Authenticate': challenge(check) });
}

function jsonError(
  res: ServerResponse,
  status: number,
  message: string,
  code = -32000,
  extra: Record<string, string> = {},
): void {
  const body = JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null });
  res.writeHead(status, { 'Content-Type': 'application/json', ...extra });
  res.end(body);
}

function plain(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(`${message}\n`);
}
