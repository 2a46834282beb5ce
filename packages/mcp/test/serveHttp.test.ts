import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { type BatonEvent, signingBytes, verifySignature, type Workspace } from '@baton/core';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as V1Transport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/server';
import { describe, expect, it, onTestFinished } from 'vitest';
import { z } from 'zod';
import { type HttpServing, serveHttp } from '../src/http/serveHttp.js';
import { Tokens } from '../src/tokens.js';
import { tempWorkspace } from './tempWorkspace.js';

/** A tiny MCP server acting as `as`: `whoami` says who it is, `draft` creates an artifact as it. */
function echoServer(ws: Workspace, as: string): McpServer {
  const server = new McpServer({ name: 'echo', version: '1.0.0' });
  server.registerTool('whoami', { description: 'Who this server acts as' }, async () => ({
    content: [{ type: 'text', text: as }],
  }));
  server.registerTool(
    'draft',
    { description: 'Create an artifact', inputSchema: z.object({ title: z.string() }) },
    async ({ title }) => {
      const doc = await ws
        .as(as)
        .artifacts.create({ kind: 'text', title, content: 'x', reason: 'test' });
      return { content: [{ type: 'text', text: doc.id }] };
    },
  );
  return server;
}

async function serve(ws: Workspace, extra: { recheckMs?: number } = {}): Promise<HttpServing> {
  const serving = await serveHttp({
    workspace: ws,
    port: 0,
    createServer: (as) => echoServer(ws, as),
    ...extra,
  });
  onTestFinished(() => serving.close());
  return serving;
}

async function connect(url: URL, token: string | undefined, line: 'v1' | 'v2' | 'v2-auto' = 'v2') {
  const headers: Record<string, string> =
    token !== undefined ? { Authorization: `Bearer ${token}` } : {};
  if (line === 'v1') {
    const client = new V1Client({ name: 'test-v1', version: '1.0.0' });
    const transport = new V1Transport(url, { requestInit: { headers } });
    await client.connect(transport);
    onTestFinished(() => client.close());
    return {
      call: async (name: string, args: Record<string, unknown> = {}) =>
        textOf(await client.callTool({ name, arguments: args })),
      sessionId: () => transport.sessionId,
      end: () => transport.terminateSession(),
    };
  }
  const client = new Client(
    { name: 'test-v2', version: '1.0.0' },
    line === 'v2-auto' ? { versionNegotiation: { mode: 'auto' } } : {},
  );
  const transport = new StreamableHTTPClientTransport(url, { requestInit: { headers } });
  await client.connect(transport);
  onTestFinished(() => client.close());
  return {
    call: async (name: string, args: Record<string, unknown> = {}) =>
      textOf(await client.callTool({ name, arguments: args })),
    sessionId: () => transport.sessionId,
    end: () => transport.terminateSession(),
  };
}

function textOf(result: unknown): string {
  const r = result as { content: { type: string; text?: string }[]; isError?: boolean };
  if (r.isError) throw new Error(`tool error: ${r.content[0]?.text}`);
  return r.content[0]?.text ?? '';
}

/** A raw JSON-RPC POST, to see the status and headers a refused request gets. */
async function post(url: URL, token: string | undefined, body: unknown, session?: string) {
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    Accept: 'application/json, text/event-stream',
  };
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  if (session !== undefined) {
    headers['Mcp-Session-Id'] = session;
    headers['Mcp-Protocol-Version'] = '2025-06-18';
  }
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
  await res.body?.cancel();
  return res;
}

const initialize = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: {
    protocolVersion: '2025-06-18',
    capabilities: {},
    clientInfo: { name: 'raw', version: '1' },
  },
};
const listTools = { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} };

async function eventOf(ws: Workspace, artifactId: string): Promise<BatonEvent> {
  const owner = ws.as(ws.info!.owners[0]!);
  const page = await owner.log({ stream: `artifact/${artifactId}` });
  return page.items[0]!;
}

describe('serveHttp', () => {
  it('listens on 127.0.0.1 by default', async () => {
    const { ws } = await tempWorkspace();
    const serving = await serve(ws);
    expect(serving.url.hostname).toBe('127.0.0.1');
    expect(serving.url.pathname).toBe('/mcp');
  });

  it('refuses a request naming another host, as a DNS-rebinding page would', async () => {
    const { ws, ada, drafter } = await tempWorkspace();
    const { token } = await new Tokens({ workspace: ws }).issue({
      as: ada.id,
      identity: drafter.id,
    });
    const serving = await serve(ws);
    const status = (hostHeader: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port: serving.port,
            path: '/mcp',
            method: 'POST',
            headers: {
              Host: hostHeader,
              Authorization: `Bearer ${token}`,
              'Content-Type': 'application/json',
            },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end(JSON.stringify(initialize));
      });
    expect(await status('evil.example:80')).toBe(403);
    expect(await status(`localhost:${serving.port}`)).not.toBe(403);
  });

  it('serves two identities over two connections and attributes each tool call to its own identity', async () => {
    const { ws, path, ada, drafter, reviewer } = await tempWorkspace();
    const tokens = new Tokens({ workspace: ws });
    const d = await tokens.issue({ as: ada.id, identity: drafter.id });
    const r = await tokens.issue({ as: ada.id, identity: reviewer.id });
    const serving = await serve(ws);
    // One client of each SDK line: the server serves both.
    const asDrafter = await connect(serving.url, d.token, 'v2');
    const asReviewer = await connect(serving.url, r.token, 'v1');
    expect(await asDrafter.call('whoami')).toBe(drafter.id);
    expect(await asReviewer.call('whoami')).toBe(reviewer.id);
    const docD = await asDrafter.call('draft', { title: 'by drafter' });
    const docR = await asReviewer.call('draft', { title: 'by reviewer' });
    for (const [doc, who] of [
      [docD, drafter],
      [docR, reviewer],
    ] as const) {
      const e = await eventOf(ws, doc);
      expect(e.actor).toBe(who.id);
      expect(await verifySignature(who.keys[0]!.key, e.sig, signingBytes(e))).toBe(true);
    }
    expect(serving.sessions()).toBe(2);
    expect((await ws.verify()).ok).toBe(true);
    // The tokens went through every request, yet no byte of them is in the database files.
    for (const file of [path, `${path}-wal`]) {
      const bytes = existsSync(file) ? readFileSync(file).toString('latin1') : '';
      for (const t of [d.token, r.token]) expect(bytes.includes(t.split('.')[1]!)).toBe(false);
    }
  });

  it('serves the Baton tools by default, each connection signing as its own identity', async () => {
    const { ws, ada, drafter, reviewer } = await tempWorkspace();
    const tokens = new Tokens({ workspace: ws });
    const serving = await serveHttp({ workspace: ws, port: 0 });
    onTestFinished(() => serving.close());
    const made: Record<string, string> = {};
    for (const [who, line] of [
      [drafter, 'v1'],
      [reviewer, 'v2'],
    ] as const) {
      const { token } = await tokens.issue({ as: ada.id, identity: who.id });
      const client = await connect(serving.url, token, line);
      expect(JSON.parse(await client.call('whoami'))).toMatchObject({ id: who.id, name: who.name });
      const created = await client.call('create_artifact', {
        title: `by ${who.name}`,
        content: 'hi\n',
        reason: 'over HTTP',
      });
      made[who.id] = /Created (\S+)/.exec(created)![1]!;
    }
    for (const who of [drafter, reviewer]) {
      const e = await eventOf(ws, made[who.id]!);
      expect(e.actor).toBe(who.id);
      expect(await verifySignature(who.keys[0]!.key, e.sig, signingBytes(e))).toBe(true);
    }
  });

  it('serves a client of the newer line that probes for the 2026 protocol first', async () => {
    const { ws, ada, drafter } = await tempWorkspace();
    const { token } = await new Tokens({ workspace: ws }).issue({
      as: ada.id,
      identity: drafter.id,
    });
    const serving = await serve(ws);
    const client = await connect(serving.url, token, 'v2-auto');
    expect(await client.call('whoami')).toBe(drafter.id);
  });

  it('refuses a missing, malformed, unknown or expired token with 401 and a Bearer challenge', async () => {
    const { ws, ada, drafter } = await tempWorkspace();
    let now = Date.now();
    const tokens = new Tokens({ workspace: ws, now: () => now });
    const serving = await serveHttp({
      workspace: ws,
      port: 0,
      tokens,
      createServer: (as) => echoServer(ws, as),
    });
    onTestFinished(() => serving.close());
    const missing = await post(serving.url, undefined, initialize);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="baton"');
    const wrong = await post(
      serving.url,
      'baton_AAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      initialize,
    );
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect((await post(serving.url, 'not-a-token', initialize)).status).toBe(401);
    const soon = await tokens.issue({
      as: ada.id,
      identity: drafter.id,
      expiresAt: new Date(now + 60_000).toISOString(),
    });
    expect((await post(serving.url, soon.token, initialize)).status).toBe(200);
    now += 61_000;
    const expired = await post(serving.url, soon.token, initialize);
    expect(expired.status).toBe(401);
    expect(expired.headers.get('www-authenticate')).toContain('expired');
    // A real client is refused too: connect() fails.
    await expect(connect(serving.url, undefined)).rejects.toThrow();
    expect(serving.sessions()).toBe(0);
  });

  it('refuses a suspended identity’s token with 403', async () => {
    const { ws, ada, drafter } = await tempWorkspace();
    const { token } = await new Tokens({ workspace: ws }).issue({
      as: ada.id,
      identity: drafter.id,
    });
    const serving = await serve(ws);
    const client = await connect(serving.url, token);
    expect(await client.call('whoami')).toBe(drafter.id);
    await ws.as(ada.id).identities.suspend(drafter.id);
    const res = await post(serving.url, token, listTools, client.sessionId());
    expect(res.status).toBe(403);
    expect((await post(serving.url, token, initialize)).status).toBe(403);
    // A name is the workspace's (untrusted) text: the challenge header stays plain ASCII.
    const odd = await ws.as(ada.id).identities.create({ kind: 'agent', name: 'Zoë "\\x"' });
    const t2 = await new Tokens({ workspace: ws }).issue({ as: ada.id, identity: odd.id });
    await ws.as(ada.id).identities.suspend(odd.id);
    const refused = await post(serving.url, t2.token, initialize);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('www-authenticate')).toMatch(
      /^Bearer realm="baton", error="insufficient_scope", error_description="[^"]*"$/,
    );
  });

  it('stops honouring a token at the next request once another process revokes it', async () => {
    const { ws, open, ada, drafter } = await tempWorkspace();
    const { token, info } = await new Tokens({ workspace: ws }).issue({
      as: ada.id,
      identity: drafter.id,
    });
    const serving = await serve(ws);
    const client = await connect(serving.url, token);
    expect(await client.call('whoami')).toBe(drafter.id);
    const sessionId = client.sessionId()!;
    // Another Workspace on the same SQLite file, as another process has: it revokes the token.
    const other = await open();
    await new Tokens({ workspace: other }).revoke({ as: ada.id, token: info.id });
    await expect(client.call('whoami')).rejects.toThrow();
    const res = await post(serving.url, token, listTools, sessionId);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('revoked');
    // Its session ended with it.
    expect(serving.sessions()).toBe(0);
  });

  it('binds a session to the token that opened it', async () => {
    const { ws, ada, drafter } = await tempWorkspace();
    const tokens = new Tokens({ workspace: ws });
    const a = await tokens.issue({ as: ada.id, identity: drafter.id });
    const b = await tokens.issue({ as: ada.id, identity: 'reviewer' });
    const c = await tokens.issue({ as: ada.id, identity: drafter.id });
    const serving = await serve(ws);
    const client = await connect(serving.url, a.token);
    const sessionId = client.sessionId()!;
    expect((await post(serving.url, b.token, listTools, sessionId)).status).toBe(403);
    // Even another token of the same identity cannot use it.
    expect((await post(serving.url, c.token, listTools, sessionId)).status).toBe(403);
    expect((await post(serving.url, a.token, listTools, 'no-such-session')).status).toBe(404);
    expect((await post(serving.url, a.token, listTools)).status).toBe(400);
    expect(await client.call('whoami')).toBe(drafter.id);
  });

  it('ends a session the client terminates', async () => {
    const { ws, ada, drafter } = await tempWorkspace();
    const { token } = await new Tokens({ workspace: ws }).issue({
      as: ada.id,
      identity: drafter.id,
    });
    const serving = await serve(ws);
    const client = await connect(serving.url, token);
    const sessionId = client.sessionId()!;
    expect(serving.sessions()).toBe(1);
    await client.end();
    expect(serving.sessions()).toBe(0);
    expect((await post(serving.url, token, listTools, sessionId)).status).toBe(404);
  });

  it('refuses a live token of an identity whose key the server does not hold', async () => {
    const { ws, ada, drafter, keyring } = await tempWorkspace();
    const { token } = await new Tokens({ workspace: ws }).issue({
      as: ada.id,
      identity: drafter.id,
    });
    const serving = await serveHttp({
      workspace: ws,
      port: 0,
      identities: [ada.id],
      createServer: (as) => echoServer(ws, as),
    });
    onTestFinished(() => serving.close());
    expect(keyring).toBeDefined();
    expect((await post(serving.url, token, initialize)).status).toBe(403);
  });

  it('closes the open sessions of a token revoked meanwhile, when it checks them again', async () => {
    const { ws, open, ada, drafter } = await tempWorkspace();
    const { token, info } = await new Tokens({ workspace: ws }).issue({
      as: ada.id,
      identity: drafter.id,
    });
    const serving = await serve(ws, { recheckMs: 50 });
    await connect(serving.url, token);
    expect(serving.sessions()).toBe(1);
    await new Tokens({ workspace: await open() }).revoke({ as: ada.id, token: info.id });
    await expect.poll(() => serving.sessions(), { timeout: 5_000 }).toBe(0);
  });
});
