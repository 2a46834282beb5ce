/**
 * @packageDocumentation
 * @module @baton/openai-agents
 */

export {};
