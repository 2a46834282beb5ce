import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, runTs } from './helpers/spawnTs.js';

/** The first ```ts block under "## Quick start" in the root README. */
function quickStart(): string {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Quick start'));
  const m = /```ts\n([\s\S]*?)```/.exec(section);
  if (!m) throw new Error('README has no ts block under "## Quick start"');
  return m[1]!;
}

describe('the README', () => {
  it('keeps its quick start within 15 lines', () => {
    expect(quickStart().trim().split('\n').length).toBeLessThanOrEqual(15);
  });

  it('has a quick start that runs as written and does what its comments say', async () => {
    // Inside the repository, so `@baton/core` resolves to the workspace package.
    mkdirSync(join(REPO_ROOT, 'test', '.tmp'), { recursive: true });
    const dir = mkdtempSync(join(REPO_ROOT, 'test', '.tmp', 'readme-'));
    const file = join(dir, 'quickstart.ts');
    writeFileSync(file, quickStart());
    const r = await runTs(file, [], { timeoutMs: 60_000 });
    rmSync(dir, { recursive: true, force: true });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/allowed: false/);
    expect(r.stdout).toMatch(/only after approval/);
    expect(r.stdout).toMatch(/workspace\.bootstrapped@1/);
    expect(r.stdout).toMatch(/ok: true/);
  });
});
