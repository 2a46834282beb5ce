/**
 * Runs the real `baton` command (packages/cli/src/baton.ts, from sources, in a child process)
 * in a temporary directory: the workspace is `./.baton/workspace.db` there, as for a user.
 */

import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  REPO_ROOT,
  type RunTsResult,
  runTs,
  spawnTs,
  TSX_LOADER,
  type TsProcess,
} from '../helpers/spawnTs.js';

export const BATON = join(REPO_ROOT, 'packages/cli/src/baton.ts');
export { TSX_LOADER };

/** A temporary directory holding one `.baton/` and the scripts a test writes. */
export interface CliDir {
  dir: string;
  db: string;
  /** Runs `baton ...args` in the directory (or in `cwd`); `input` goes to stdin. */
  run(
    args: string[],
    options?: { input?: string; env?: Record<string, string | undefined>; cwd?: string },
  ): Promise<RunTsResult>;
  /** Runs it and parses stdout as JSON (the command gets `--json`); fails on a non-zero exit. */
  json<T = unknown>(
    args: string[],
    options?: { input?: string; env?: Record<string, string> },
  ): Promise<T>;
  /** Starts `baton ...args` and leaves it running. */
  spawn(args: string[]): TsProcess;
  /** Writes a file in the directory and returns its path. */
  file(name: string, text: string): string;
  /** Writes an executable shell script and returns its path. */
  script(name: string, body: string): string;
  remove(): void;
}

/** A fresh directory for `baton` to work in. */
export function cliDir(): CliDir {
  const dir = mkdtempSync(join(tmpdir(), 'baton-cli-'));
  mkdirSync(join(dir, '.tmp'));
  // No colour, no inherited identity or database: exactly what a user's fresh shell has.
  // Its own temp folder inside the directory, so what baton leaves there (a file from
  // $EDITOR kept after a failed edit) goes with the directory.
  const env = {
    TMPDIR: join(dir, '.tmp'),
    NO_COLOR: '1',
    BATON_DB: undefined,
    BATON_AS: undefined,
    BATON_DIR: undefined,
    BATON_KEYS: undefined,
    INIT_CWD: undefined,
    npm_lifecycle_event: undefined,
    EDITOR: undefined,
    VISUAL: undefined,
  };
  const run: CliDir['run'] = (args, options = {}) =>
    runTs(BATON, args, {
      cwd: options.cwd ?? dir,
      env: { ...env, ...options.env },
      input: options.input ?? '',
      timeoutMs: 60_000,
    });
  return {
    dir,
    db: join(dir, '.baton', 'workspace.db'),
    run,
    async json<T>(args: string[], options: { input?: string; env?: Record<string, string> } = {}) {
      const r = await run(['--json', ...args], options);
      if (r.code !== 0) {
        throw new Error(
          `baton ${args.join(' ')} exited ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`,
        );
      }
      return JSON.parse(r.stdout) as T;
    },
    spawn: (args) => spawnTs(BATON, args, { cwd: dir, env }),
    file(name, text) {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
    script(name, body) {
      const path = join(dir, name);
      writeFileSync(path, `#!/bin/sh\n${body}\n`);
      chmodSync(path, 0o755);
      return path;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
