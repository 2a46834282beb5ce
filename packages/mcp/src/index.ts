/**
 * @packageDocumentation
 * @module @baton/mcp
 */

// Types
export type { HttpServing, McpServerFor, ServeHttpOptions } from './http/serveHttp.js';
export { serveHttp } from './http/serveHttp.js';
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
