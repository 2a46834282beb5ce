/**
 * `@baton/cli`: the `baton` command, for people taking part in a Baton workspace from a
 * terminal. The package also exports {@link runCli}, to run the command in-process (tests,
 * or a tool embedding it).
 *
 * @packageDocumentation
 */

export { runCli } from './cli.js';
export type { CliIo } from './output.js';
export { EXIT, EXIT_CODES, MemoryWritable } from './output.js';
export { DEFAULT_DB } from './session.js';
