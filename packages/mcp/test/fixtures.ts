import { type Identity, MemoryKeyring, MemoryStore, Workspace } from '@baton/core';
// The tests drive the server with the registry's `latest` client line (1.x), the one most
// MCP hosts embed; test/v2Client.test.ts connects the 2.x client too.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { InMemoryTransport } from '@modelcontextprotocol/server';
import { type CreateMcpServerOptions, createMcpServer } from '../src/index.js';

/** A workspace in memory with Ada (owner) and drafter (agent) allowed to read, create, write, comment and hand off, publish gated by Ada. */
export async function memoryWorkspace(): Promise<{
  ws: Workspace;
  ada: Identity;
  drafter: Identity;
}> {
  const ws = await Workspace.open({
    store: new MemoryStore(),
    keyring: new MemoryKeyring(),
    tickIntervalMs: 0,
  });
  const ada = await ws.bootstrap({ name: 'Ada' });
  const me = ws.as(ada.id);
  const drafter = await me.identities.create({ kind: 'agent', name: 'drafter' });
  await me.capabilities.grant({
    to: drafter.id,
    resource: 'artifact:*',
    actions: ['read', 'create', 'write', 'comment', 'handoff', 'publish'],
    requiresApproval: [{ action: 'publish' }],
  });
  return { ws, ada, drafter };
}

/** An SDK client (1.x line) connected in memory to a Baton MCP server. */
export async function connect(
  options: CreateMcpServerOptions,
  clientOptions: ConstructorParameters<typeof Client>[1] = {},
): Promise<{ client: Client; close(): Promise<void> }> {
  const server = createMcpServer(options);
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(a);
  const client = new Client({ name: 'test', version: '1.0.0' }, clientOptions);
  // Both lines' transports have the same shape (start, send, close, on*).
  await client.connect(b as unknown as Transport);
  return {
    client,
    async close() {
      await client.close();
      await server.close();
    },
  };
}

/** The text of a tool result, its parts joined. */
export function textOf(r: unknown): string {
  const content = (r as { content?: { type: string; text?: string }[] }).content ?? [];
  return content.map((c) => c.text ?? '').join('\n');
}
