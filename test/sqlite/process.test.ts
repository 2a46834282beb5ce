import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EMPTY_HEAD } from '@baton/core';
import { conformanceEvents } from '@baton/core/testing';
import { SqliteStore } from '@baton/sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT, runTs } from '../helpers/spawnTs.js';

const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'baton-sqlite-proc-'));
  temps.push(dir);
  return dir;
}

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** The smallest part of esbuild's API this file uses. */
interface Esbuild {
  build(options: Record<string, unknown>): Promise<unknown>;
}

/**
 * test/fixtures/sqliteOpen.ts made runnable by a user who cannot read the checkout (as
 * when it sits in a `mktemp -d` folder): bundled with the workspace packages into one file
 * in a fresh temp folder that everyone may read, beside a copy of the better-sqlite3 it
 * loads (its JavaScript, its build for this Node, and what it requires to find that build).
 */
async function fixtureForNobody(): Promise<string> {
  const dir = tempDir();
  chmodSync(dir, 0o755);
  // esbuild comes with tsup; ask for it where tsup finds it.
  const fromTsup = createRequire(createRequire(import.meta.url).resolve('tsup'));
  const esbuild = (await import(pathToFileURL(fromTsup.resolve('esbuild')).href)) as Esbuild;
  const entry = join(dir, 'sqliteOpen.mjs');
  await esbuild.build({
    entryPoints: [join(REPO_ROOT, 'test/fixtures/sqliteOpen.ts')],
    outfile: entry,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['source'],
    external: ['better-sqlite3'],
    logLevel: 'silent',
  });
  // better-sqlite3 and the packages its require('bindings') needs, each copied whole but for
  // the compiler's leftovers.
  const fromSqlite = createRequire(join(REPO_ROOT, 'packages/sqlite/package.json'));
  const addon = dirname(fromSqlite.resolve('better-sqlite3/package.json'));
  const fromAddon = createRequire(join(addon, 'package.json'));
  const bindings = dirname(fromAddon.resolve('bindings/package.json'));
  const uriToPath = dirname(
    createRequire(join(bindings, 'package.json')).resolve('file-uri-to-path/package.json'),
  );
  const modules = join(dir, 'node_modules');
  const target = join(modules, 'better-sqlite3');
  for (const part of ['package.json', 'lib', 'build/Release/better_sqlite3.node'])
    cpSync(join(addon, part), join(target, part), { recursive: true });
  cpSync(bindings, join(modules, 'bindings'), { recursive: true });
  cpSync(uriToPath, join(modules, 'file-uri-to-path'), { recursive: true });
  return entry;
}

/**
 * Runs test/fixtures/sqliteOpen.ts as the unprivileged user `nobody`: root ignores file
 * permissions, so a read-only file is only read-only to another user. The child runs the
 * bundle {@link fixtureForNobody} makes, from its folder, so the checkout may sit where
 * `nobody` cannot read.
 */
async function openAsNobody(
  path: string,
): Promise<{ code?: string; message?: string; ok?: boolean }> {
  const entry = await fixtureForNobody();
  const child = spawn(process.execPath, [entry, 'open', path], {
    cwd: dirname(entry),
    uid: 65534,
    gid: 65534,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    out += c;
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    err += c;
  });
  return new Promise((resolve, reject) =>
    child.once('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`child failed (${code}): ${err}`)),
    ),
  );
}

describe('SqliteStore in a process', () => {
  it('refuses a read-only file with STORE and leaves it unchanged', async () => {
    const dir = tempDir();
    const path = join(dir, 'baton.db');
    const store = new SqliteStore({ path });
    await store.append({ events: conformanceEvents(EMPTY_HEAD, 3), expectedHead: EMPTY_HEAD });
    await store.close();
    chmodSync(path, 0o444);
    const before = sha(path);
    let result: { code?: string; message?: string };
    if (process.getuid?.() === 0) {
      chmodSync(dir, 0o755);
      result = await openAsNobody(path);
    } else {
      try {
        new SqliteStore({ path });
        result = {};
      } catch (e) {
        result = e as { code: string; message: string };
      }
    }
    expect(result.code).toBe('STORE');
    expect(result.message).toMatch(/read-only/);
    expect(result.message).toMatch(/check the permissions/);
    expect(sha(path)).toBe(before);
  }, 30_000);

  it('lets a process with a watcher it never stopped exit on its own', async () => {
    const path = join(tempDir(), 'watch.db');
    const result = await runTs('test/fixtures/sqliteOpen.ts', ['watch', path], {
      timeoutMs: 20_000,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('watching\n');
  }, 30_000);
});
