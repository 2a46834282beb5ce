/**
 * Baton for LangGraph JS: agents that act as their own identity, pause for people through
 * durable handoffs, and leave what they did in the ContextLog.
 *
 * @example
 * ```ts
 * import { batonConfig, requestHuman, resumeHandoff } from '@baton/langgraph';
 * const answer = await requestHuman({ action: 'publish', resource: `artifact:${id}`, interrupt });
 * // later, any process:
 * await resumeHandoff(graph, handoffId, { workspace, agent: drafter.id });
 * ```
 *
 * @packageDocumentation
 * @module @baton/langgraph
 */

// Types
export type { BatonCallbackHandlerOptions, RecordFailure } from './batonCallbackHandler.js';
export { BatonCallbackHandler } from './batonCallbackHandler.js';
export type { BatonConfigOptions, BatonRun, RunContext } from './batonRun.js';
export { batonActor, batonConfig, batonKey } from './batonRun.js';
export type {
  BatonToolName,
  BatonToolsOptions,
  GatedRunContext,
  GatedToolOptions,
} from './batonTools.js';
export { batonTools, gatedTool } from './batonTools.js';
export type {
  AnswerHandoffOptions,
  BatonHumanInterrupt,
  RequestHumanInput,
  ResumableGraph,
  ResumeHandoffOptions,
  ResumeHandoffResult,
} from './requestHuman.js';
export {
  answerHandoff,
  handoffResponse,
  humanInterrupts,
  requestHuman,
  resumeHandoff,
} from './requestHuman.js';
