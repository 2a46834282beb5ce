/**
 * The server the MCP round-trip bench talks to: `createMcpServer` on a SQLite workspace,
 * plus one bare tool, `noop`, registered on the same SDK server — the baseline. Serves on
 * stdio. Arguments: the database file, the key directory, the identity id.
 */
import { Workspace } from '@baton/core';
import { KeyDirectory } from '@baton/core/node';
import { SqliteStore } from '@baton/sqlite';
import { StdioServerTransport } from '@modelcontextprotocol/server/stdio';
import { z } from 'zod';
import { createMcpServer } from '../../src/index.js';

const [db, keys, as] = process.argv.slice(2) as [string, string, string];
const workspace = await Workspace.open({
  store: new SqliteStore({ path: db }),
  keyring: new KeyDirectory({ path: keys }),
  tickIntervalMs: 0,
});
const server = createMcpServer({ workspace, as });
server.registerTool(
  'noop',
  { description: 'Does nothing (the bench baseline).', inputSchema: z.object({ id: z.string() }) },
  async () => ({ content: [{ type: 'text', text: 'ok' }] }),
);
const transport = new StdioServerTransport();
transport.onclose = () => void workspace.close();
await server.connect(transport);
