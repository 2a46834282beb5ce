import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, symlinkSync } from 'node:fs';
import { delimiter, dirname, join, resolve, sep } from 'node:path';

/** How a command ended, with everything it printed. */
export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `command` to completion with `args`, resolving with its exit code and output (a
 * non-zero exit resolves too). Kills it (SIGKILL) and rejects after `timeoutMs`.
 */
export function run(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<RunResult> {
  return new Promise((settle, fail) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(
        new Error(
          `\`${command} ${args.join(' ')}\` did not end within ${options.timeoutMs} ms.\n` +
            `stdout:\n${stdout}\nstderr:\n${stderr}`,
        ),
      );
    }, options.timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      fail(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      settle({ code, stdout, stderr });
    });
  });
}

/** The commands a bare machine lacks: pnpm, and corepack, which could provide it. */
const NOT_ON_A_BARE_MACHINE = new Set(['pnpm', 'pnpx', 'corepack']);

/**
 * The environment of a person's shell on a machine with Node and npm but no pnpm:
 * {@link cleanEnv}, with PATH replaced by `binDir` (created here), which links every command
 * of the current PATH but pnpm's (and but those in node_modules/.bin folders). The running Node's directory comes first, so `node` is the
 * one the test runs on.
 */
export function bareEnv(binDir: string): NodeJS.ProcessEnv {
  mkdirSync(binDir, { recursive: true });
  // Not the node_modules/.bin folders npm and pnpm put on PATH for their scripts either.
  const dirs = [dirname(process.execPath), ...(process.env.PATH ?? '').split(delimiter)].filter(
    (dir) => dir && !dir.split(sep).includes('node_modules'),
  );
  const linked = new Set<string>();
  for (const dir of dirs) {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) continue;
    for (const name of readdirSync(dir)) {
      if (NOT_ON_A_BARE_MACHINE.has(name) || linked.has(name)) continue;
      linked.add(name);
      symlinkSync(join(dir, name), join(binDir, name));
    }
  }
  return { ...cleanEnv(), PATH: binDir };
}

/**
 * The current environment without the variables npm, pnpm and vitest set for their
 * children, so a command behaves as it would from a person's shell; `npm_config_nodedir` is
 * kept when set, or pointed at the running Node's own headers when it carries them (see
 * {@link nodeHeaders}), as the native build of better-sqlite3 needs them on this machine.
 */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|pnpm_|PNPM_|VITEST|NODE_OPTIONS$|NODE_ENV$|TEST$)/.test(key)) continue;
    env[key] = value;
  }
  const nodedir = nodeHeaders();
  if (nodedir) env.npm_config_nodedir = nodedir;
  return env;
}

/**
 * Where native builds find the running Node's headers: `npm_config_nodedir` when set,
 * else the Node installation itself when it carries `include/node`.
 */
export function nodeHeaders(): string | undefined {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = resolve(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include', 'node', 'node.h')) ? prefix : undefined;
}
