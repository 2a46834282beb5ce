import { Writable } from 'node:stream';
import { BatonError, ErrorCode, isBatonError, MergeConflictError } from '@baton/core';
import { CommanderError } from 'commander';
import pc from 'picocolors';

/** The exit codes of `baton`: scripts can tell what went wrong without parsing messages. */
export const EXIT = {
  OK: 0,
  /** Something unexpected failed (a bug, or the system): the message says what. */
  FAILURE: 1,
  /** Bad arguments or input (`VALIDATION`): nothing was changed. */
  USAGE: 2,
  /** The identity, artifact, handoff or grant named does not exist (`NOT_FOUND`). */
  NOT_FOUND: 3,
  /** No grant allows it (`FORBIDDEN`). */
  FORBIDDEN: 4,
  /** It needs an approver's yes first (`APPROVAL_REQUIRED`); the request id is printed. */
  APPROVAL_REQUIRED: 5,
  /** Someone else changed it meanwhile (`CONFLICT`, `MERGE_CONFLICT`). */
  CONFLICT: 6,
  /** Not valid now (`INVALID_STATE`): e.g. no workspace here yet, a handoff already closed. */
  INVALID_STATE: 7,
  /** The log does not check out (`INTEGRITY`): `verify` found tampering. */
  INTEGRITY: 8,
  /** The database could not be opened, read or written (`STORE`). */
  STORE: 9,
} as const;

/** Each exit code with its name and meaning: for `--help` and the reference. */
export const EXIT_CODES: readonly { code: number; name: keyof typeof EXIT; meaning: string }[] = [
  { code: EXIT.OK, name: 'OK', meaning: 'done' },
  {
    code: EXIT.FAILURE,
    name: 'FAILURE',
    meaning: 'something unexpected failed; the message says what',
  },
  { code: EXIT.USAGE, name: 'USAGE', meaning: 'bad arguments or input; nothing was changed' },
  {
    code: EXIT.NOT_FOUND,
    name: 'NOT_FOUND',
    meaning: 'no such identity, artifact, handoff or grant',
  },
  {
    code: EXIT.FORBIDDEN,
    name: 'FORBIDDEN',
    meaning: 'no grant allows it (or the key is not here)',
  },
  {
    code: EXIT.APPROVAL_REQUIRED,
    name: 'APPROVAL_REQUIRED',
    meaning: 'it needs an approver’s yes first; the request id is printed',
  },
  {
    code: EXIT.CONFLICT,
    name: 'CONFLICT',
    meaning: 'someone else changed it meanwhile (a merge conflict)',
  },
  {
    code: EXIT.INVALID_STATE,
    name: 'INVALID_STATE',
    meaning: 'not valid now: no workspace here, a handoff already closed …',
  },
  { code: EXIT.INTEGRITY, name: 'INTEGRITY', meaning: 'the log does not check out (`verify`)' },
  { code: EXIT.STORE, name: 'STORE', meaning: 'the database could not be opened, read or written' },
];

const EXIT_OF: Record<ErrorCode, number> = {
  VALIDATION: EXIT.USAGE,
  NOT_FOUND: EXIT.NOT_FOUND,
  FORBIDDEN: EXIT.FORBIDDEN,
  APPROVAL_REQUIRED: EXIT.APPROVAL_REQUIRED,
  CONFLICT: EXIT.CONFLICT,
  MERGE_CONFLICT: EXIT.CONFLICT,
  INVALID_STATE: EXIT.INVALID_STATE,
  INTEGRITY: EXIT.INTEGRITY,
  STORE: EXIT.STORE,
};

/** Where `baton` reads and writes: the process's streams, or a test's. */
export interface CliIo {
  stdout: Writable;
  stderr: Writable;
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Whether stdout is a terminal (colour, progress bars, prompts). */
  isTTY: boolean;
}

type Colors = ReturnType<typeof pc.createColors>;

/** Printing for people (colour when the terminal takes it) and for scripts (`--json`). */
export class Output {
  readonly c: Colors;
  json = false;

  constructor(readonly io: CliIo) {
    const env = io.env;
    const colour =
      env.NO_COLOR === undefined &&
      (env.FORCE_COLOR !== undefined ? env.FORCE_COLOR !== '0' : io.isTTY && env.TERM !== 'dumb');
    this.c = pc.createColors(colour);
  }

  /** A line on stdout. */
  line(text = ''): void {
    this.io.stdout.write(`${text}\n`);
  }

  /** A value as JSON on stdout (for `--json`). */
  data(value: unknown): void {
    this.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** Prints `value` as JSON under `--json`, otherwise calls `human`. */
  show<T>(value: T, human: (value: T) => void): void {
    if (this.json) this.data(value);
    else human(value);
  }

  /** A note for people on stderr (kept out of stdout, so pipes get only the data). */
  note(text: string): void {
    this.io.stderr.write(`${text}\n`);
  }

  /** Rows as aligned columns; the header dimmed. */
  table(head: string[], rows: string[][]): void {
    if (rows.length === 0) return;
    const width = (s: string) => [...stripAnsi(s)].length;
    const widths = head.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ''))));
    const pad = (s: string, w: number) => s + ' '.repeat(Math.max(0, w - width(s)));
    const render = (r: string[]) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : pad(cell, widths[i]!)))
        .join('  ')
        .trimEnd();
    this.line(this.c.dim(render(head)));
    for (const r of rows) this.line(render(r));
  }

  /** Prints an error for a person (or as JSON) and returns the exit code it maps to. */
  error(err: unknown): number {
    if (err instanceof CommanderError) {
      // Commander has printed its own message (unknown option, missing argument …).
      return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    if (isBatonError(err)) {
      const code = EXIT_OF[err.code] ?? EXIT.FAILURE;
      if (this.json) {
        this.io.stderr.write(
          `${JSON.stringify({ error: { code: err.code, message: err.message, details: err.details } })}\n`,
        );
        return code;
      }
      this.io.stderr.write(`${this.c.red(`✗ ${err.message}`)} ${this.c.dim(`[${err.code}]`)}\n`);
      if (err instanceof MergeConflictError) this.#conflict(err);
      const approval = err.details.approvalId;
      if (err.code === ErrorCode.APPROVAL_REQUIRED && typeof approval === 'string') {
        this.io.stderr.write(
          `${this.c.dim(`  An approver runs \`baton approve ${approval}\` (or \`baton deny ${approval}\`); then run this again.`)}\n`,
        );
      }
      return code;
    }
    const message = err instanceof Error ? err.message : String(err);
    this.io.stderr.write(`${this.c.red(`✗ ${message}`)}\n`);
    if (err instanceof Error && this.io.env.BATON_DEBUG && err.stack)
      this.io.stderr.write(`${err.stack}\n`);
    return EXIT.FAILURE;
  }

  #conflict(err: MergeConflictError): void {
    const c = this.c;
    for (const r of err.regions) {
      this.io.stderr.write(`\n${c.bold(`Conflict at ${r.at}:`)}\n`);
      this.io.stderr.write(`${c.yellow(`<<<<<<< yours\n${ensureNewline(r.yours)}`)}`);
      this.io.stderr.write(`${c.dim(`||||||| base\n${ensureNewline(r.base)}`)}`);
      this.io.stderr.write(
        `=======\n${c.cyan(`${ensureNewline(r.theirs)}>>>>>>> theirs (version ${err.theirsVersion})`)}\n`,
      );
    }
  }
}

function ensureNewline(s: string): string {
  return s === '' || s.endsWith('\n') ? s : `${s}\n`;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching the escape character is the point
const ANSI = /\u001b\[[0-9;]*m/g;

/** The text without colour codes. */
function stripAnsi(s: string): string {
  return s.replace(ANSI, '');
}

/** A `BatonError` of code `VALIDATION` for a bad command-line argument. */
export function usage(message: string): BatonError {
  return new BatonError(ErrorCode.VALIDATION, message);
}

/** A writable that keeps what is written, for tests and for capturing output. */
export class MemoryWritable extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}
