import { Command, CommanderError } from 'commander';
import { registerArtifactCommands } from './commands/artifacts.js';
import { registerContextCommands } from './commands/context.js';
import { registerHandoffCommands } from './commands/handoffs.js';
import { registerIdentityCommands } from './commands/identities.js';
import { registerLogCommands } from './commands/log.js';
import { registerMcpCommand } from './commands/mcp.js';
import { registerTokenCommands } from './commands/token.js';
import {
  registerKeyCommands,
  registerTrustCommands,
  registerWorkspaceCommands,
} from './commands/workspace.js';
import { intArg } from './intArg.js';
import { type CliIo, EXIT, EXIT_CODES, Output } from './output.js';
import { createRunner } from './runner.js';
import { callerDir, DB_FILE, WORKSPACE_DIR } from './session.js';
import { VERSION } from './version.js';

/**
 * Runs `baton` with `argv` (without the node and script paths) against `io`, and resolves
 * with the exit code. Never calls `process.exit`.
 */
export async function runCli(argv: readonly string[], given: CliIo): Promise<number> {
  // Relative paths and the workspace search start where the user is (see callerDir).
  const io = { ...given, cwd: callerDir(given) };
  const out = new Output(io);
  // Under --json even a usage error (found before any command runs) is a JSON object.
  const end = argv.indexOf('--');
  out.json = (end < 0 ? argv : argv.slice(0, end)).includes('--json');
  let usageError: string | undefined;
  let code: number = EXIT.OK;
  // Help wraps to the terminal; elsewhere (pipes, tests, the generated reference) to 100 columns.
  const width = () => (io.isTTY && 'columns' in io.stdout ? Number(io.stdout.columns) || 100 : 100);
  const output = {
    writeOut: (s: string) => out.io.stdout.write(s),
    // Under --json, commander's text (the error, "(add --help for usage)") is kept back and
    // the error printed as JSON instead.
    writeErr: (s: string) => (out.json ? undefined : out.io.stderr.write(s)),
    outputError: (s: string, write: (s: string) => void) => {
      if (out.json) usageError ??= s.trim().replace(/^error: /, '');
      else write(out.c.red(s));
    },
    getOutHelpWidth: width,
    getErrHelpWidth: width,
  };
  const program = new Command('baton');
  program
    .description(
      'Take part in a Baton workspace from a terminal: see what waits on you, read the briefing, edit with reasons, hand back, approve.',
    )
    .option(
      '--dir <path>',
      `the workspace directory (env BATON_DIR; default: the nearest ${WORKSPACE_DIR}/ here or above)`,
    )
    .option('--db <path>', `the workspace database (env BATON_DB; default <dir>/${DB_FILE})`)
    .option('--keys <dir>', 'the key directory to sign with (env BATON_KEYS; default <dir>/keys)')
    .option(
      '--as <identity>',
      'act as this identity (id or name; env BATON_AS; default: `baton use`)',
    )
    .option(
      '--busy-timeout <ms>',
      'wait this long for a database another process holds locked (env BATON_BUSY_TIMEOUT_MS; default 5000)',
      intArg(0),
    )
    .option('--json', 'print machine-readable JSON instead of text (errors as JSON on stderr)')
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .configureOutput(output)
    .addHelpText(
      'after',
      `\nExit codes:\n${EXIT_CODES.map((e) => `  ${String(e.code).padStart(2)}  ${e.meaning}`).join('\n')}\n\nColour follows the terminal; NO_COLOR=1 turns it off, FORCE_COLOR=1 on.\n\`baton --version\` prints the version.`,
    );

  const run = createRunner(out, (exit) => {
    code = exit;
  });

  registerWorkspaceCommands(program, run);
  registerIdentityCommands(program, run);
  registerKeyCommands(program, run);
  registerArtifactCommands(program, run);
  registerHandoffCommands(program, run);
  registerContextCommands(program, run);
  registerLogCommands(program, run);
  registerTrustCommands(program, run);
  registerMcpCommand(program, run);
  registerTokenCommands(program, run);
  // Every subcommand prints errors and help the same way, and never exits the process.
  const configure = (cmd: Command) => {
    for (const sub of cmd.commands) {
      sub.exitOverride().showHelpAfterError('(add --help for usage)');
      sub.configureOutput(output);
      configure(sub);
    }
  };
  configure(program);

  // `--version` before any command (commander's own would also catch `show … --version 2`).
  if (asksVersion(argv)) {
    io.stdout.write(
      `${argv.includes('--json') ? JSON.stringify({ version: VERSION }) : VERSION}\n`,
    );
    return EXIT.OK;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // `--help` and `--version` end here with exit code 0; usage errors with 1 → USAGE.
      if (err.exitCode === 0) return EXIT.OK;
      if (out.json) {
        const message =
          usageError ??
          (err.code === 'commander.help' || err.message === '(outputHelp)'
            ? 'This command needs a subcommand: add --help to see them.'
            : err.message.replace(/^error: /, ''));
        out.jsonError({ code: 'VALIDATION', message, details: { usage: err.code } });
      }
      return EXIT.USAGE;
    }
    return out.error(err);
  }
  return code;
}

/** Whether `--version` (or `-V`) comes before any command word. */
function asksVersion(argv: readonly string[]): boolean {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--version' || a === '-V') return true;
    if (a === '--db' || a === '--as') i++;
    else if (!a.startsWith('-')) return false;
  }
  return false;
}
