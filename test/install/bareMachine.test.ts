/**
 * The README's two commands on a bare machine: a fresh clone, Node and npm on PATH but no
 * pnpm, nothing installed. `npm run demo` and `npm test` each set the checkout up first
 * (scripts/setup.mjs: the pinned pnpm through npx, the locked dependencies, better-sqlite3
 * built for this Node), then run. The clone is of this checkout's HEAD commit, so the test
 * checks what is committed.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/spawnTs.js';
import { bareEnv, run } from './tools.js';

let root: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'baton-bare-'));
  env = bareEnv(join(root, 'bin'));
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

/** A fresh clone of this checkout's HEAD in the temp folder. */
async function freshClone(name: string): Promise<string> {
  const dir = join(root, name);
  const r = await run('git', ['clone', '--quiet', REPO_ROOT, dir], {
    cwd: root,
    env,
    timeoutMs: 60_000,
  });
  expect(r.code, r.stderr).toBe(0);
  expect(existsSync(join(dir, 'node_modules'))).toBe(false);
  return dir;
}

/** `text` without its colours. */
const COLOUR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');
const plain = (text: string) => text.replace(COLOUR, '');

const npm = (cwd: string, args: string[]) => run('npm', args, { cwd, env, timeoutMs: 400_000 });

describe('the README commands on a machine with only Node and npm', () => {
  it('are `npm run demo` and `npm test`, and `.ci/run` runs that same test command', () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const commands = /```sh\n([\s\S]*?)```/.exec(readme)![1]!;
    const run = commands.split('\n').map((line) => line.replace(/\s+#.*$/, '').trim());
    expect(run.filter(Boolean)).toEqual(['npm run demo', 'npm test']);
    const ci = readFileSync(join(REPO_ROOT, '.ci/run'), 'utf8');
    expect(ci).toMatch(/\bnpm test\b/);
    expect(ci).not.toMatch(/^\s*pnpm test\s*$/m);
  });

  it('has no pnpm on the PATH it runs them with', async () => {
    const r = await run('sh', ['-c', 'command -v pnpm || echo none'], {
      cwd: root,
      env,
      timeoutMs: 10_000,
    });
    expect(r.stdout.trim()).toBe('none');
  });

  it('`npm run demo` in a fresh clone installs what it needs, then tells the story; `npm test` then just runs', async () => {
    const clone = await freshClone('demo');
    const demo = await npm(clone, ['run', 'demo']);
    expect(demo.code, `${demo.stdout}\n${demo.stderr}`).toBe(0);
    expect(demo.stderr).toContain('setup: installing dependencies');
    expect(demo.stderr).toMatch(/setup: npx --yes pnpm@\d+\.\d+\.\d+ install --frozen-lockfile/);
    expect(demo.stdout).toMatch(/verified: true/);

    // Everything is in place now: the test command sets nothing up again.
    const test = await npm(clone, ['test', '--', 'test/readme.test.ts']);
    expect(test.code, `${test.stdout}\n${test.stderr}`).toBe(0);
    expect(test.stderr).not.toContain('setup:');
    expect(plain(test.stdout)).toMatch(/Tests\s+\d+ passed \(\d+\)/);
  }, 600_000);

  it('`npm test` in a fresh clone installs what it needs, then runs the tests', async () => {
    const clone = await freshClone('test');
    // The README's command; the file arguments keep this run to a few files of the suite.
    // The clone sits in a folder only its owner may read (mkdtemp makes it 0700), where the
    // process test, whose child runs as another user, used to fail.
    const test = await npm(clone, ['test', '--', 'test/readme.test.ts', 'test/sqlite/process']);
    expect(test.code, `${test.stdout}\n${test.stderr}`).toBe(0);
    expect(test.stderr).toContain('setup: installing dependencies');
    expect(plain(test.stdout)).toMatch(/Tests\s+\d+ passed \(\d+\)/);
    expect(plain(test.stdout)).toContain('sqlite/process.test.ts');
  }, 600_000);
});
