import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { BatonError, ErrorCode, isBatonError, MergeConflictError } from '@baton/core';
import { CommanderError } from 'commander';
import pc from 'picocolors';
import { adviceFor } from './advice.js';
import { displayWidth, visible } from './terminal.js';

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
  /** The database or a key file could not be opened, read or written, or a key file is open to others (`STORE`). */
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
  {
    code: EXIT.STORE,
    name: 'STORE',
    meaning:
      'the database or a key file could not be opened, read or written (or is open to others)',
  },
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

/**
 * Thrown by a write once stdout is closed (the reader of a pipe went away, as `| head` does):
 * the command stops there and `baton` exits 0, quietly.
 */
export class StdoutClosed extends Error {
  constructor() {
    super('stdout was closed');
    this.name = 'StdoutClosed';
  }
}

/**
 * Printing for people (colour when the terminal takes it) and for scripts (`--json`).
 *
 * @remarks
 * Everything printed goes through {@link Output.io}, whose streams show every control and
 * formatting character as `\uXXXX` (see {@link visible}): text from the workspace cannot
 * drive the terminal, whichever command prints it. Baton's own colour is written as marks
 * only this process knows and turned into colour codes after that.
 */
export class Output {
  readonly c: Colors;
  json = false;
  /** The streams to print on: every write made safe for a terminal. */
  readonly io: CliIo;
  /** The streams as given, for bytes that must pass unchanged (a progress bar's cursor moves). */
  readonly raw: CliIo;
  /** Set when stdout's reader went away (EPIPE): further writes throw {@link StdoutClosed}. */
  closed = false;
  readonly #whenClosed: Promise<void>;

  constructor(io: CliIo) {
    this.raw = io;
    const env = io.env;
    const colour =
      env.NO_COLOR === undefined &&
      (env.FORCE_COLOR !== undefined ? env.FORCE_COLOR !== '0' : io.isTTY && env.TERM !== 'dumb');
    // A mark for each colour code that text from the workspace cannot forge: it does not know
    // the nonce.
    const nonce = randomBytes(12).toString('base64url');
    const mark = (sgr: string) => `\ue000${nonce}${sgr.slice(2, -1)}\ue001`;
    const marks = new RegExp(`\ue000${nonce}([0-9;]*)\ue001`, 'g');
    this.c = markedColors(colour, mark);
    const render = (text: string) => visible(text).replace(marks, '\u001b[$1m');
    this.#marks = marks;
    let closedNow: () => void = () => undefined;
    this.#whenClosed = new Promise((done) => {
      closedNow = done;
    });
    io.stdout.on?.('error', (err: NodeJS.ErrnoException) => {
      // The reader went away: stop quietly. Any other failure is reported by the next write.
      if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') {
        this.closed = true;
        closedNow();
      }
    });
    // A closed stderr (`2>&1 | head`) loses the notes and nothing else.
    io.stderr.on?.('error', () => undefined);
    this.io = {
      ...io,
      stdout: safeStream(io.stdout, render, () => {
        if (this.closed) throw new StdoutClosed();
      }),
      stderr: safeStream(io.stderr, render, () => undefined),
    };
  }

  readonly #marks: RegExp;

  /** `text` without Baton's colour marks (to measure it). */
  plain(text: string): string {
    return text.replace(this.#marks, '');
  }

  /** A line on stdout. */
  line(text = ''): void {
    this.io.stdout.write(`${text}\n`);
  }

  /**
   * Writes `text` on stdout and waits while the reader is behind (backpressure); throws
   * {@link StdoutClosed} once the reader has gone.
   */
  async write(text: string): Promise<void> {
    if (this.io.stdout.write(text)) return;
    await Promise.race([once(this.raw.stdout, 'drain'), this.#whenClosed]);
    if (this.closed) throw new StdoutClosed();
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

  /**
   * Rows as aligned columns; the header dimmed. Each cell is shown on one line (a newline in
   * a title shows as `\n`) and measured as the terminal shows it: CJK and emoji take two
   * columns, combining marks none.
   */
  table(head: string[], rows: string[][]): void {
    if (rows.length === 0) return;
    const cells = rows.map((r) => r.map((cell) => visible(cell, { oneLine: true })));
    const width = (s: string) => displayWidth(this.plain(s));
    const widths = head.map((h, i) => Math.max(width(h), ...cells.map((r) => width(r[i] ?? ''))));
    const pad = (s: string, w: number) => s + ' '.repeat(Math.max(0, w - width(s)));
    const render = (r: string[]) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : pad(cell, widths[i]!)))
        .join('  ')
        .trimEnd();
    this.line(this.c.dim(render(head)));
    for (const r of cells) this.line(render(r));
  }

  /**
   * Prints an error for a person (or as JSON) and returns the exit code it maps to. The
   * message is the CLI's: library advice is replaced by the command that fixes it (see
   * {@link adviceFor}).
   */
  error(err: unknown, nameOf: (id: string) => string = (id) => id): number {
    if (err instanceof CommanderError) {
      // Commander has printed its own message (unknown option, missing argument …).
      return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    if (err instanceof StdoutClosed) return EXIT.OK;
    if (isBatonError(err)) {
      const code = EXIT_OF[err.code] ?? EXIT.FAILURE;
      const { message, advice } = adviceFor(err, nameOf);
      if (this.json) {
        this.jsonError({
          code: err.code,
          message,
          ...(advice.length ? { advice: advice.join(' ') } : {}),
          details: err.details,
        });
        return code;
      }
      this.io.stderr.write(`${this.c.red(`✗ ${message}`)} ${this.c.dim(`[${err.code}]`)}\n`);
      if (err instanceof MergeConflictError) this.#conflict(err);
      for (const a of advice) this.io.stderr.write(`${this.c.dim(`  ${a}`)}\n`);
      return code;
    }
    const message = err instanceof Error ? err.message : String(err);
    if (this.json) this.jsonError({ code: 'FAILURE', message });
    else this.io.stderr.write(`${this.c.red(`✗ ${message}`)}\n`);
    if (err instanceof Error && this.raw.env.BATON_DEBUG && err.stack)
      this.io.stderr.write(`${err.stack}\n`);
    return EXIT.FAILURE;
  }

  /** `{ "error": { … } }` on stderr, one line. */
  jsonError(error: Record<string, unknown>): void {
    this.io.stderr.write(`${JSON.stringify({ error })}\n`);
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

/** picocolors' colours, each writing `mark(code)` where picocolors writes the code itself. */
function markedColors(enabled: boolean, mark: (sgr: string) => string): Colors {
  const plain = pc.createColors(false);
  if (!enabled) return plain;
  const real = pc.createColors(true) as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = { ...plain, isColorSupported: true };
  for (const [name, fn] of Object.entries(real)) {
    if (typeof fn !== 'function') continue;
    const [open, close] = String((fn as (s: string) => string)('\u0000')).split('\u0000') as [
      string,
      string,
    ];
    const o = mark(open);
    const c = mark(close);
    // As picocolors does: a close inside reopens this colour, so nesting keeps it.
    out[name] = (s: unknown) => `${o}${String(s).replaceAll(c, c + o)}${c}`;
  }
  return out as unknown as Colors;
}

/**
 * `stream`, with every string written through `render` first; `check` runs before each write
 * (and may throw). Everything else (events, `end`, properties) is the stream's own.
 */
function safeStream(
  stream: Writable,
  render: (text: string) => string,
  check: () => void,
): Writable {
  const text = (chunk: unknown) =>
    typeof chunk === 'string'
      ? render(chunk)
      : Buffer.isBuffer(chunk)
        ? render(chunk.toString('utf8'))
        : chunk;
  return new Proxy(stream, {
    get(target, prop) {
      if (prop === 'write')
        return (chunk: unknown, ...rest: unknown[]) => {
          check();
          return (target.write as (...a: unknown[]) => boolean)(text(chunk), ...rest);
        };
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

function ensureNewline(s: string): string {
  return s === '' || s.endsWith('\n') ? s : `${s}\n`;
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
