import type { Identity } from '@baton/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { serveMcpHttp } from '../../packages/cli/src/commands/mcpHttp.js';
import { MemoryWritable, Output } from '../../packages/cli/src/output.js';
import { CliSession } from '../../packages/cli/src/session.js';
import { killSpawned } from '../helpers/spawnTs.js';
import { type CliDir, cliDir } from './baton.js';

/** One JSON-RPC message over Streamable HTTP; the answer is read from JSON or from the SSE stream. */
async function rpc(url: string, token: string, body: unknown, session?: string) {
  const headers: Record<string, string> = {
    Authorization: `Bearer ${token}`,
    'Content-Type': 'application/json',
    Accept: 'application/json, text/event-stream',
  };
  if (session) {
    headers['Mcp-Session-Id'] = session;
    headers['Mcp-Protocol-Version'] = '2025-06-18';
  }
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
  const text = await res.text();
  const data = text
    .split('\n')
    .filter((l) => l.startsWith('data: '))
    .map((l) => l.slice(6))
    .find((l) => l.startsWith('{'));
  const json = data ? JSON.parse(data) : text.startsWith('{') ? JSON.parse(text) : undefined;
  return { status: res.status, session: res.headers.get('mcp-session-id') ?? undefined, json };
}

describe('baton mcp --http', () => {
  let cli: CliDir;
  let drafter: Identity;
  afterEach(killSpawned);
  beforeAll(async () => {
    cli = cliDir();
    await cli.json(['init', '--name', 'Ada']);
    drafter = await cli.json<Identity>([
      'id',
      'create',
      'drafter',
      '--kind',
      'agent',
      '--key-here',
    ]);
  }, 120_000);
  afterAll(() => cli.remove());

  it('serves an identity whose key is here to a token made by the CLI, until another process revokes it', async () => {
    const { token, id } = await cli.json<{ token: string; id: string }>([
      'token',
      'create',
      'drafter',
    ]);
    const ownerToken = await cli.json<{ token: string }>(['token', 'create', 'Ada']);
    const stdout = new MemoryWritable();
    const io = {
      stdout,
      stderr: new MemoryWritable(),
      stdin: process.stdin,
      env: { NO_COLOR: '1' },
      cwd: cli.dir,
      isTTY: false,
    };
    const session = new CliSession(io, { db: cli.db });
    const out = new Output(io);
    out.json = true;
    const stop = new AbortController();
    const served = serveMcpHttp({ session, out, io }, { port: 0, signal: stop.signal });
    try {
      await expect.poll(() => stdout.text, { timeout: 20_000 }).toContain('"url"');
      const info = JSON.parse(stdout.text) as { url: string; serves: string[] };
      expect(info.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
      // The owner's key is in the directory too, but an owner is served only when named.
      expect(info.serves).toEqual(['drafter']);
      const initialize = {
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 't', version: '1' },
        },
      };
      expect((await rpc(info.url, ownerToken.token, initialize)).status).toBe(403);
      const init = await rpc(info.url, token, initialize);
      expect(init.status).toBe(200);
      const call = {
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: { name: 'whoami', arguments: {} },
      };
      const who = await rpc(info.url, token, call, init.session);
      expect(who.json.result.structuredContent).toMatchObject({ id: drafter.id, name: 'drafter' });
      // `baton token revoke`, another process, on the same database file.
      const revoked = await cli.run(['token', 'revoke', id]);
      expect(revoked.code).toBe(0);
      const after = await rpc(info.url, token, { ...call, id: 3 }, init.session);
      expect(after.status).toBe(401);
      expect(after.json.error.message).toContain('revoked');
    } finally {
      stop.abort();
      expect(await served).toBe(0);
      await session.close();
    }
  });

  it('runs as `baton mcp --http 0` in its own process, prints where, and stops on SIGTERM', async () => {
    const { token } = await cli.json<{ token: string }>(['token', 'create', 'drafter']);
    const server = cli.spawn(['--json', 'mcp', '--http', '0', '--serve', 'drafter']);
    const line = await server.waitForLine(/"url"/, 30_000);
    const url = /"url": "([^"]+)"/.exec(line)![1]!;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    const init = await rpc(url, token, {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 't', version: '1' },
      },
    });
    expect(init.status).toBe(200);
    const who = await rpc(
      url,
      token,
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'whoami', arguments: {} } },
      init.session,
    );
    expect(who.json.result.structuredContent).toMatchObject({ id: drafter.id });
    const ended = await server.kill('SIGTERM');
    expect(ended.code).toBe(0);
  });

  it('refuses --serve or --host without --http, and --approver with it', async () => {
    for (const args of [
      ['mcp', '--as', 'drafter', '--serve', 'drafter'],
      ['mcp', '--as', 'drafter', '--host', '0.0.0.0'],
      ['mcp', '--http', '0', '--approver', 'Ada'],
    ]) {
      const r = await cli.run(args);
      expect(r.code, args.join(' ')).toBe(2);
    }
  });
});
