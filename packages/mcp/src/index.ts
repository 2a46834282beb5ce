/**
 * @packageDocumentation
 * @module @baton/mcp
 */

export {};
