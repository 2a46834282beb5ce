import type { Readable, Writable } from 'node:stream';
import type { McpServer } from '@modelcontextprotocol/server';
import { StdioServerTransport } from '@modelcontextprotocol/server/stdio';
import { type CreateMcpServerOptions, createMcpServer } from './createMcpServer.js';

/** Options of {@link serveMcpStdio}: the server's, and the streams to speak on. */
export interface ServeMcpStdioOptions extends CreateMcpServerOptions {
  /** Where requests arrive. Defaults to `process.stdin`. */
  stdin?: Readable;
  /** Where responses go — nothing else is written there. Defaults to `process.stdout`. */
  stdout?: Writable;
}

/** A Baton MCP server speaking on stdio. */
export interface McpStdioServer {
  server: McpServer;
  /** Resolves when the connection ends (stdin closed, or {@link McpStdioServer.close}). */
  closed: Promise<void>;
  /** Ends the connection and stops the subscriptions it opened. */
  close(): Promise<void>;
}

/**
 * Serves {@link createMcpServer} over stdio (newline-delimited JSON-RPC), as an MCP client
 * that spawns the process expects: only protocol messages go to `stdout`.
 *
 * @example
 * ```ts
 * const { closed } = await serveMcpStdio({ workspace, as: drafter.id });
 * await closed; // the client went away
 * ```
 */
export async function serveMcpStdio(options: ServeMcpStdioOptions): Promise<McpStdioServer> {
  const { stdin, stdout, ...rest } = options;
  const server = createMcpServer(rest);
  const transport = new StdioServerTransport(stdin, stdout);
  let done!: () => void;
  const closed = new Promise<void>((resolve) => {
    done = resolve;
  });
  // Set before connecting: `connect` keeps it and calls it when the transport closes.
  transport.onclose = () => done();
  await server.connect(transport);
  return {
    server,
    closed,
    async close() {
      await server.close();
      done();
    },
  };
}
