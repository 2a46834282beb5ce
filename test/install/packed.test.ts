/**
 * Baton installed as a user installs it today: each package packed into a tarball
 * (`npm run tarballs`, which is scripts/tarballs.mjs), then installed with plain
 * `npm install <tarballs>` into a fresh project outside the repository, which gets the
 * third-party dependencies from the registry and builds better-sqlite3 itself. One install
 * serves every case; it is removed afterwards, and nothing is cached in the repository.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/spawnTs.js';
import { cleanEnv, type RunResult, run } from './tools.js';

/** The first ```ts block under `heading` in the root README. */
function readmeBlock(heading: string): string {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const m = /```ts\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf(heading)));
  if (!m) throw new Error(`README.md has no ts block under "${heading}"`);
  return m[1]!;
}

/**
 * An ES module program as CommonJS: each `import { a, b } from 'x'` becomes
 * `const { a, b } = require('x')`, and the rest runs in an async function (CommonJS has no
 * top-level await), whose failure sets a non-zero exit code.
 */
function asCommonJs(esm: string): string {
  const requires: string[] = [];
  const body = esm.replace(/^import \{([^}]+)\} from ('[^']+');\n/gm, (_, names, from) => {
    requires.push(`const {${names}} = require(${from});`);
    return '';
  });
  if (/^import /m.test(body)) throw new Error(`an import asCommonJs cannot rewrite:\n${body}`);
  return `${requires.join('\n')}\n(async () => {\n${body}\n})().catch((err) => {\n  console.error(err);\n  process.exitCode = 1;\n});\n`;
}

const TARBALL = /\/baton-(core|sqlite|mcp|cli)-\d+\.\d+\.\d+\.tgz$/;

let root: string;
let app: string;
let tarballs: string[];
const env = cleanEnv;
const node = (args: string[], cwd = app): Promise<RunResult> =>
  run(process.execPath, args, { cwd, env: env(), timeoutMs: 60_000 });

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'baton-install-'));
  // Builds four packages (each with its declarations) before packing: minutes on a busy machine.
  const packed = await run(
    process.execPath,
    [join(REPO_ROOT, 'scripts/tarballs.mjs'), join(root, 'tarballs')],
    { cwd: root, env: env(), timeoutMs: 300_000 },
  );
  expect(packed.code, packed.stderr).toBe(0);
  tarballs = packed.stdout.trim().split('\n');
  app = join(root, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), '{ "name": "app", "private": true }\n');
  const install = await run('npm', ['install', '--no-audit', '--no-fund', ...tarballs], {
    cwd: app,
    env: env(),
    timeoutMs: 300_000,
  });
  expect(install.code, `npm install failed:\n${install.stdout}\n${install.stderr}`).toBe(0);
}, 720_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('Baton packed into tarballs and installed with npm outside the repository', () => {
  it('packs core, sqlite, mcp and cli into tarballs whose dependencies name versions, not the workspace', () => {
    expect(tarballs).toHaveLength(4);
    for (const t of tarballs) expect(t).toMatch(TARBALL);
    for (const name of ['core', 'sqlite', 'mcp', 'cli']) {
      const dir = join(app, 'node_modules', '@baton', name);
      // A copy in the app, not a link back into the repository.
      expect(realpathSync(dir).startsWith(realpathSync(app))).toBe(true);
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      const ranges = Object.values({ ...pkg.dependencies, ...pkg.peerDependencies }).join(' ');
      expect(ranges).not.toMatch(/workspace:|catalog:/);
    }
  });

  it('runs the README quick start as an ES module', async () => {
    writeFileSync(join(app, 'quickstart.mjs'), readmeBlock('## Quick start'));
    const r = await node(['quickstart.mjs']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/allowed: false/);
    expect(r.stdout).toMatch(/only after approval/);
    expect(r.stdout).toMatch(/workspace\.bootstrapped@1/);
    expect(r.stdout).toMatch(/ok: true/);
  });

  it('runs the README quick start as CommonJS, with require', async () => {
    const program = asCommonJs(readmeBlock('## Quick start'));
    expect(program).toContain("const { Workspace } = require('@baton/core');");
    writeFileSync(join(app, 'quickstart.cjs'), program);
    const r = await node(['quickstart.cjs']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/allowed: false/);
    expect(r.stdout).toMatch(/workspace\.bootstrapped@1/);
    expect(r.stdout).toMatch(/ok: true/);
  });

  it('runs the durable-storage snippet on the better-sqlite3 that install built, creating then reopening', async () => {
    const addon = join(app, 'node_modules', 'better-sqlite3');
    expect(existsSync(join(addon, 'build', 'Release', 'better_sqlite3.node'))).toBe(true);
    const dir = join(app, 'durable');
    mkdirSync(dir);
    writeFileSync(join(dir, 'durable.mjs'), readmeBlock('## Durable storage'));
    for (const pass of ['first', 'second']) {
      const r = await node(['durable.mjs'], dir);
      expect(r.stderr, pass).toBe('');
      expect(r.code, pass).toBe(0);
      expect(r.stdout, pass).toBe("Ada's workspace true\n");
    }
    expect(existsSync(join(dir, 'baton.db'))).toBe(true);
  });

  it('runs the durable-storage snippet as CommonJS, with require', async () => {
    const dir = join(app, 'durable-cjs');
    mkdirSync(dir);
    const program = asCommonJs(readmeBlock('## Durable storage'));
    expect(program).toContain("const { SqliteStore } = require('@baton/sqlite');");
    writeFileSync(join(dir, 'durable.cjs'), program);
    for (const pass of ['first', 'second']) {
      const r = await node(['durable.cjs'], dir);
      expect(r.stderr, pass).toBe('');
      expect(r.code, pass).toBe(0);
      expect(r.stdout, pass).toBe("Ada's workspace true\n");
    }
  });

  it('installs the baton command, which shows its help, creates a workspace and reads the inbox', async () => {
    const bin = join(app, 'node_modules', '.bin', 'baton');
    const dir = join(app, 'cli');
    mkdirSync(dir);
    const baton = (args: string[]) => run(bin, args, { cwd: dir, env: env(), timeoutMs: 60_000 });

    const help = await baton(['--help']);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Usage: baton /);
    expect(help.stdout).toMatch(/\binit\b/);

    const version = await baton(['--version']);
    expect(version.code, version.stderr).toBe(0);
    expect(version.stdout.trim()).toBe(
      (
        JSON.parse(readFileSync(join(REPO_ROOT, 'packages/cli/package.json'), 'utf8')) as {
          version: string;
        }
      ).version,
    );

    const init = await baton(['init', '--name', 'Ada']);
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toContain("Ada's workspace");
    expect(existsSync(join(dir, '.baton'))).toBe(true);

    const inbox = await baton(['--json', 'inbox']);
    expect(inbox.code, inbox.stderr).toBe(0);
    expect(JSON.parse(inbox.stdout)).toEqual([]);

    // `baton mcp` loads @baton/mcp and the MCP SDK as installed; stdin already at its end
    // ends the connection at once, with nothing written to stdout.
    const mcp = await baton(['mcp', '--as', 'Ada']);
    expect(mcp.code, mcp.stderr).toBe(0);
    expect(mcp.stdout).toBe('');
    expect(mcp.stderr).toContain('serving as Ada');
  });
});
