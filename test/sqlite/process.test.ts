import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

/**
 * Runs test/fixtures/sqliteOpen.ts as the unprivileged user `nobody`: root ignores file
 * permissions, so a read-only file is only read-only to another user.
 */
function openAsNobody(path: string): Promise<{ code?: string; message?: string; ok?: boolean }> {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const child = spawn(
    process.execPath,
    [
      '--import',
      tsx,
      '--conditions=source',
      join(REPO_ROOT, 'test/fixtures/sqliteOpen.ts'),
      'open',
      path,
    ],
    { cwd: REPO_ROOT, uid: 65534, gid: 65534, stdio: ['ignore', 'pipe', 'pipe'] },
  );
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
