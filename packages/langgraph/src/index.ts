/**
 * Baton for LangGraph JS: checkpoints ({@link BatonCheckpointSaver}) and long-term memory
 * ({@link BatonStore}) in a Baton store; agents that act as their own identity, pause for
 * people through durable handoffs ({@link requestHuman}, {@link resumeHandoff}), and leave
 * what they did in the ContextLog ({@link BatonCallbackHandler}).
 *
 * @example
 * ```ts
 * import { BatonCheckpointSaver, requestHuman, resumeHandoff } from '@baton/langgraph';
 * const graph = builder.compile({ checkpointer: new BatonCheckpointSaver({ store: workspace.store }) });
 * // in a node: const answer = await requestHuman({ action: 'publish', resource, interrupt });
 * // later, any process: await resumeHandoff(graph, handoffId, { workspace, agent: drafter.id });
 * ```
 *
 * @packageDocumentation
 * @module @baton/langgraph
 */

// Types
export type { BatonCallbackHandlerOptions, RecordFailure } from './batonCallbackHandler.js';
export { BatonCallbackHandler } from './batonCallbackHandler.js';
export type { BatonCheckpointSaverOptions } from './batonCheckpointSaver.js';
export { BatonCheckpointSaver } from './batonCheckpointSaver.js';
export type { BatonConfigOptions, BatonRun, RunContext } from './batonRun.js';
export { batonActor, batonConfig, batonKey } from './batonRun.js';
export type { BatonStoreOptions } from './batonStore.js';
export { BatonStore } from './batonStore.js';
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
