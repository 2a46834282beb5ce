import { InMemoryTransport } from '@modelcontextprotocol/server';
import { afterEach, describe, expect, it } from 'vitest';
import { killSpawned } from '../../../test/helpers/spawnTs.js';
import { createMcpServer } from '../src/index.js';
import { memoryWorkspace, resourceText, textOf } from './fixtures.js';
import { batonCommand, childEnv, type McpWorld, mcpWorld } from './stdioServer.js';

// The 2.x client, loaded by a specifier TypeScript does not follow: its declarations pull in
// `eventsource`, whose `source` export condition hands the type checker raw TypeScript
// sources. The shapes used here are typed by hand below.
const CLIENT = '@modelcontextprotocol/client';
const CLIENT_STDIO = '@modelcontextprotocol/client/stdio';

interface V2Client {
  connect(transport: unknown): Promise<void>;
  close(): Promise<void>;
  listTools(): Promise<{ tools: { name: string }[] }>;
  callTool(p: { name: string; arguments: Record<string, unknown> }): Promise<{
    isError?: boolean;
    content: unknown[];
    structuredContent?: Record<string, unknown>;
  }>;
  readResource(p: { uri: string }): Promise<{ contents: unknown[] }>;
  subscribeResource(p: { uri: string }): Promise<unknown>;
  setRequestHandler(
    method: string,
    handler: (req: { params: Record<string, unknown> }) => unknown,
  ): void;
  setNotificationHandler(method: string, handler: (n: { params: { uri: string } }) => void): void;
  getProtocolEra(): string | undefined;
}
type V2ClientClass = new (
  info: { name: string; version: string },
  options?: Record<string, unknown>,
) => V2Client;

async function v2(): Promise<{
  Client: V2ClientClass;
  StdioClientTransport: new (p: unknown) => unknown;
}> {
  const { Client } = (await import(CLIENT)) as { Client: V2ClientClass };
  const { StdioClientTransport } = (await import(CLIENT_STDIO)) as {
    StdioClientTransport: new (p: unknown) => unknown;
  };
  return { Client, StdioClientTransport };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  await killSpawned();
});

describe('with the 2.x SDK client', () => {
  it('is served in memory: tools, an edit signed by the agent, and approval asked in place by a form', async () => {
    const { Client } = await v2();
    const { ws, ada, drafter } = await memoryWorkspace();
    const server = createMcpServer({ workspace: ws, as: drafter.id, approver: ada.id, waitMs: 0 });
    const [a, b] = InMemoryTransport.createLinkedPair();
    await server.connect(a);
    const client = new Client(
      { name: 'v2', version: '1.0.0' },
      { capabilities: { elicitation: {} } },
    );
    client.setRequestHandler('elicitation/create', async () => ({
      action: 'accept',
      content: { decision: 'approve' },
    }));
    await client.connect(b);
    cleanups.push(
      () => client.close(),
      () => ws.close(),
    );
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('request_approval');
    const doc = await ws
      .as(ada.id)
      .artifacts.create({ kind: 'text', title: 'Post', content: 'a\n' });
    const edit = await client.callTool({
      name: 'edit_artifact',
      arguments: { id: doc.id, baseVersion: 1, content: 'b\n', reason: 'v2 client' },
    });
    expect(edit.isError, textOf(edit)).toBeFalsy();
    expect((await ws.as(ada.id).artifacts.get(doc.id)).updatedBy).toBe(drafter.id);
    const r = await client.callTool({
      name: 'request_approval',
      arguments: { action: 'publish', resource: `artifact:${doc.id}` },
    });
    expect(r.structuredContent, textOf(r)).toMatchObject({ status: 'approved' });
  });

  it('is served over stdio by `baton mcp`, also when the client probes for the newer protocol first', async () => {
    const { Client, StdioClientTransport } = await v2();
    const w: McpWorld = await mcpWorld();
    cleanups.push(() => w.remove());
    const ws = await w.open();
    const doc = await ws
      .as(w.ada.id)
      .artifacts.create({ kind: 'text', title: 'Doc', content: 'one\n' });
    const { command, args } = batonCommand(['--keys', w.agentKeys, 'mcp', '--as', 'drafter']);
    const client = new Client(
      { name: 'v2', version: '1.0.0' },
      { versionNegotiation: { mode: 'auto' } },
    );
    await client.connect(
      new StdioClientTransport({
        command,
        args,
        cwd: w.cli.dir,
        env: childEnv(),
        stderr: 'pipe',
      }),
    );
    cleanups.push(() => client.close());
    // `baton mcp` speaks the 2025 protocol revisions; the probing client settles on them.
    expect(client.getProtocolEra()).toBe('legacy');
    const read = await client.callTool({ name: 'read_artifact', arguments: { id: doc.id } });
    expect(textOf(read)).toContain('one');
    const updated = new Promise<string>((resolve) =>
      client.setNotificationHandler('notifications/resources/updated', (n) =>
        resolve(n.params.uri),
      ),
    );
    await client.subscribeResource({ uri: `baton://artifact/${doc.id}` });
    await ws
      .as(w.ada.id)
      .artifacts.edit(doc.id, { baseVersion: 1, content: 'two\n', reason: 'elsewhere' });
    expect(await updated).toBe(`baton://artifact/${doc.id}`);
    expect(resourceText(await client.readResource({ uri: `baton://artifact/${doc.id}` }))).toBe(
      'two\n',
    );
  });
});
