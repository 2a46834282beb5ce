import type {
  Agent,
  FunctionTool,
  RunResult,
  RunState,
  ToolInputParameters,
} from '@openai/agents-core';

// The SDK's agents, states and tools are generic in the app's context and output types, which
// this adapter never looks into: it takes any of them.

/** Any SDK agent, whatever its context and output types. */
// biome-ignore lint/suspicious/noExplicitAny: any context, any output type
export type AnyAgent = Agent<any, any>;
/** Any SDK run state. */
// biome-ignore lint/suspicious/noExplicitAny: any context
export type AnyRunState = RunState<any, AnyAgent>;
/** Any SDK run result. */
// biome-ignore lint/suspicious/noExplicitAny: any context
export type AnyRunResult = RunResult<any, AnyAgent>;
/** A function tool usable in any agent. */
// biome-ignore lint/suspicious/noExplicitAny: any context
export type AnyFunctionTool<P extends ToolInputParameters, R = unknown> = FunctionTool<any, P, R>;
