// createMcpServer in an app's own process: the server acts as one identity of a workspace the
// app opened, on whatever transport the app connects it to. Here an SDK client is linked in
// memory; over stdio it would be `new StdioServerTransport()` (or just `baton mcp --as …`).
// docs/mcp.md quotes the regions below; packages/mcp/test/example.test.ts runs this file.
import { Workspace } from '@baton/core';
import { createMcpServer } from '@baton/mcp';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { InMemoryTransport } from '@modelcontextprotocol/server';

const workspace = await Workspace.open({ tickIntervalMs: 0 });
const ada = await workspace.bootstrap({ name: 'Ada' });
const me = workspace.as(ada.id);
const drafter = await me.identities.create({ kind: 'agent', name: 'drafter' });
await me.capabilities.grant({ to: drafter.id, resource: 'artifact:*', actions: ['read', 'write'] });
const doc = await me.artifacts.create({ kind: 'text', title: 'Launch post', content: 'Hi\n' });

// #region embed
const server = createMcpServer({ workspace, as: drafter.id });
const [serverSide, clientSide] = InMemoryTransport.createLinkedPair();
await server.connect(serverSide);

const client = new Client({ name: 'my-agent', version: '1.0.0' });
await client.connect(clientSide as unknown as Transport);
const edit = await client.callTool({
  name: 'edit_artifact',
  arguments: { id: doc.id, baseVersion: 1, content: 'Hello\n', reason: 'warmer' },
});
// #endregion embed
console.log(`edit: ${(edit.content as { text: string }[])[0]!.text}`);

// #region refused
const refused = await client.callTool({
  name: 'create_artifact',
  arguments: { title: 'Another', content: 'x' },
});
// refused.isError === true; its text names the grant drafter lacks:
// FORBIDDEN: drafter may not create on artifact:… Missing grant: `create` on `artifact:…`.
// #endregion refused
console.log(
  `refused: ${refused.isError === true} ${(refused.content as { text: string }[])[0]!.text.split('\n')[1]}`,
);
const head = await me.artifacts.get(doc.id);
console.log(`head: v${head.version} by ${workspace.identity(head.updatedBy)?.name}`);
await client.close();
await workspace.close();
