/**
 * Baton over MCP: any MCP client (Claude Code, Cursor, an SDK client) joins a Baton workspace
 * as its own identity — reads and edits artifacts, records what it learned and decided,
 * hands work to a person and asks for approval, every act signed by its own key.
 *
 * @example
 * ```ts
 * import { createMcpServer } from '@baton/mcp';
 * import { StdioServerTransport } from '@modelcontextprotocol/server/stdio';
 * const server = createMcpServer({ workspace, as: drafter.id });
 * await server.connect(new StdioServerTransport());
 * ```
 *
 * @packageDocumentation
 * @module @baton/mcp
 */

export { artifactUri, briefingUri, INBOX_URI } from './batonResources.js';
export { MAX_WAIT_MS } from './batonTools.js';
// Types
export type { CreateMcpServerOptions } from './createMcpServer.js';
export { createMcpServer, DEFAULT_WAIT_MS } from './createMcpServer.js';
export type { HttpServing, McpServerFor, ServeHttpOptions } from './http/serveHttp.js';
export { serveHttp } from './http/serveHttp.js';
export type { McpStdioServer, ServeMcpStdioOptions } from './serveMcpStdio.js';
export { serveMcpStdio } from './serveMcpStdio.js';
export type {
  IssuedToken,
  IssueTokenInput,
  ListTokensOptions,
  RevokeTokenInput,
  TokenCheck,
  TokenInfo,
  TokenRefusal,
  TokensOptions,
} from './tokens.js';
export { TOKEN_KV_PREFIX, TOKEN_PREFIX, Tokens, tokenIdOf } from './tokens.js';
