/**
 * @packageDocumentation
 * @module @baton/langgraph
 */

export {};
