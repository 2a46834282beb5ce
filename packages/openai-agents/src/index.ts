/**
 * Baton for the OpenAI Agents SDK (`@openai/agents-core`): a `Session` on a Baton store,
 * each SDK agent acting as its own Baton identity, tools gated by its grants, approvals and
 * questions that survive the process as Baton handoffs (resumed from any process with
 * `resumeHandoff`), SDK handoffs recorded between identities, and tool calls and token usage
 * in the ContextLog.
 *
 * @packageDocumentation
 * @module @baton/openai-agents
 */

// Types
export type {
  ApproveHandoffOptions,
  AskToolOptions,
  BatonAgentsOptions,
  BatonRunOptions,
  BatonRunResult,
  BatonToolCall,
  BatonToolOptions,
  ResumeHandoffOptions,
} from './batonAgents.js';
export { approveHandoff, BatonAgents, graphDigest } from './batonAgents.js';
export type { BatonSessionOptions } from './batonSession.js';
export { BatonSession } from './batonSession.js';
export type { RecorderHost, RunTokens } from './runRecorder.js';
export { RunRecorder } from './runRecorder.js';
export type { AnyAgent, AnyFunctionTool, AnyRunResult, AnyRunState } from './sdkTypes.js';
