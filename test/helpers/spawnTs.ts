import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { isAbsolute, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The repository root: relative entry points resolve against it, and children start in it. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

// tsx's loader as an absolute URL: a bare `--import tsx` would be resolved from the child's
// cwd, which need not be inside the repository.
export const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** Options for {@link spawnTs}. */
export interface SpawnTsOptions {
  /** The child's working directory. Defaults to {@link REPO_ROOT}. */
  cwd?: string;
  /** Variables added to (or, when `undefined`, removed from) the inherited environment. */
  env?: Record<string, string | undefined>;
  /** Extra Node flags, placed before the entry point. Defaults to none. */
  nodeArgs?: string[];
}

/** Options for {@link runTs}. */
export interface RunTsOptions extends SpawnTsOptions {
  /** Written to the child's stdin, which is then closed. Defaults to nothing. */
  input?: string;
  /** Kills the child (SIGKILL) and rejects after this many ms. Defaults to `60_000`. */
  timeoutMs?: number;
}

/** How a child ended, with everything it printed. */
export interface RunTsResult {
  /** The exit code, or `null` when a signal ended the child. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A running TypeScript child process and helpers to follow it. */
export interface TsProcess {
  child: ChildProcess;
  /** Every complete stdout line so far, in order. */
  readonly lines: readonly string[];
  /** Everything written to stderr so far. */
  stderr(): string;
  /**
   * Resolves with the first stdout line after the previously matched one that satisfies
   * `match`. Rejects if the child exits first or after `timeoutMs` (defaults to `30_000`).
   */
  waitForLine(match: RegExp | ((line: string) => boolean), timeoutMs?: number): Promise<string>;
  /** Resolves when the child has exited and its output is fully read. */
  exited: Promise<RunTsResult>;
  /** Sends `signal` (defaults to `SIGTERM`) and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<RunTsResult>;
}

const live = new Set<ChildProcess>();

/**
 * Runs a TypeScript entry point in a child Node process, from sources:
 * `node --import tsx --conditions=source <entry> ...args`.
 *
 * @param entry - A path to a `.ts` file; relative paths resolve against {@link REPO_ROOT}.
 * @example
 * ```ts
 * const p = spawnTs('test/fixtures/server.ts', ['--port', '0']);
 * const ready = await p.waitForLine(/^listening on/);
 * await p.kill();
 * ```
 */
export function spawnTs(
  entry: string,
  args: string[] = [],
  options: SpawnTsOptions = {},
): TsProcess {
  const file = isAbsolute(entry) ? entry : resolve(REPO_ROOT, entry);
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  const child = spawn(
    process.execPath,
    ['--import', TSX_LOADER, '--conditions=source', ...(options.nodeArgs ?? []), file, ...args],
    { cwd: options.cwd ?? REPO_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  live.add(child);

  const lines: string[] = [];
  let stdout = '';
  let stderr = '';
  let cursor = 0;
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of [...waiters]) w();
  };

  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr!.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const reader = createInterface({ input: child.stdout!, crlfDelay: Number.POSITIVE_INFINITY });
  reader.on('line', (line) => {
    lines.push(line);
    wake();
  });
  const stdoutDone = new Promise<void>((done) => reader.once('close', done));
  const stderrDone = new Promise<void>((done) => child.stderr!.once('end', done));

  let ended = false;
  const exited = new Promise<RunTsResult>((settle, fail) => {
    child.once('error', (error) => {
      live.delete(child);
      ended = true;
      wake();
      fail(error);
    });
    child.once('exit', async (code, signal) => {
      live.delete(child);
      await Promise.all([stdoutDone, stderrDone]);
      ended = true;
      wake();
      settle({ code, signal, stdout, stderr });
    });
  });
  // Callers that only follow lines must not see an unhandled rejection from a spawn error.
  exited.catch(() => {});

  function waitForLine(
    match: RegExp | ((line: string) => boolean),
    timeoutMs = 30_000,
  ): Promise<string> {
    const test = typeof match === 'function' ? match : (line: string) => match.test(line);
    return new Promise<string>((settle, fail) => {
      const check = () => {
        while (cursor < lines.length) {
          const line = lines[cursor++]!;
          if (test(line)) {
            stop();
            settle(line);
            return;
          }
        }
        if (ended) {
          stop();
          fail(
            new Error(
              `${entry} exited before printing a line matching ${String(match)}.\n` +
                `stdout:\n${stdout}\nstderr:\n${stderr}`,
            ),
          );
        }
      };
      const timer = setTimeout(() => {
        stop();
        fail(
          new Error(
            `${entry} printed no line matching ${String(match)} within ${timeoutMs} ms.\n` +
              `stdout:\n${stdout}\nstderr:\n${stderr}`,
          ),
        );
      }, timeoutMs);
      const stop = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  }

  return {
    child,
    lines,
    stderr: () => stderr,
    waitForLine,
    exited,
    kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/**
 * Runs a TypeScript entry point to completion (see {@link spawnTs}) and resolves with its
 * exit code and output. A non-zero exit resolves too; only a spawn failure or the timeout
 * rejects.
 */
export async function runTs(
  entry: string,
  args: string[] = [],
  options: RunTsOptions = {},
): Promise<RunTsResult> {
  const { input, timeoutMs = 60_000, ...spawnOptions } = options;
  const p = spawnTs(entry, args, spawnOptions);
  p.child.stdin!.end(input ?? '');
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, fail) => {
    timer = setTimeout(() => {
      p.child.kill('SIGKILL');
      fail(
        new Error(
          `${entry} did not exit within ${timeoutMs} ms.\nstdout:\n${p.lines.join('\n')}\n` +
            `stderr:\n${p.stderr()}`,
        ),
      );
    }, timeoutMs);
  });
  try {
    return await Promise.race([p.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Kills every child {@link spawnTs} started that is still running; for `afterEach`. */
export async function killSpawned(): Promise<void> {
  await Promise.all(
    [...live].map(
      (child) =>
        new Promise<void>((done) => {
          if (child.exitCode !== null || child.signalCode !== null) return done();
          child.once('exit', () => done());
          child.kill('SIGKILL');
        }),
    ),
  );
}
