import type { Command } from 'commander';
import { type CliIo, EXIT, type Output } from './output.js';
import { CliSession, type GlobalOptions } from './session.js';

/** What a command's body gets: the session (files, workspace, identity) and the output. */
export interface CommandContext {
  session: CliSession;
  out: Output;
  io: CliIo;
}

/** Wraps a command body: opens a session on the global options, maps errors to exit codes. */
export type Runner = <A extends unknown[]>(
  body: (ctx: CommandContext, ...args: A) => Promise<number | undefined>,
) => (...args: unknown[]) => Promise<void>;

/**
 * The {@link Runner} every command registers its body with: each run opens a session on the
 * global options, writes to `out`, closes the session, and hands its exit code to `exit`.
 */
export function createRunner(out: Output, exit: (code: number) => void): Runner {
  return (body) =>
    async (...args) => {
      const command = args.at(-1) as Command;
      const globals = command.optsWithGlobals() as GlobalOptions;
      out.json = globals.json === true;
      let session: CliSession | undefined;
      try {
        session = new CliSession(out.io, globals);
        exit((await body({ session, out, io: out.io }, ...(args as never))) ?? EXIT.OK);
      } catch (err) {
        exit(out.error(err, (id) => session?.nameOf(id) ?? id));
      } finally {
        await session?.close().catch(() => undefined);
      }
    };
}
