import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, runTs } from '../helpers/spawnTs.js';

/** The first ```ts block under `heading` in a README of the repository. */
function snippet(readme: string, heading: string): string {
  const text = readFileSync(join(REPO_ROOT, readme), 'utf8');
  const m = /```ts\n([\s\S]*?)```/.exec(text.slice(text.indexOf(heading)));
  if (!m) throw new Error(`${readme} has no ts block under "${heading}"`);
  return m[1]!;
}

describe('the SQLite READMEs', () => {
  it('keeps the package README snippet within 10 lines', () => {
    const code = snippet('packages/sqlite/README.md', '# @baton/sqlite');
    expect(code.trim().split('\n').length).toBeLessThanOrEqual(10);
  });

  it('has a "Durable storage" snippet that creates the workspace once and reopens it on the next run', async () => {
    // Inside the repository, so the workspace packages resolve; files land in the run's cwd.
    mkdirSync(join(REPO_ROOT, 'test', '.tmp'), { recursive: true });
    const dir = mkdtempSync(join(REPO_ROOT, 'test', '.tmp', 'readme-sqlite-'));
    try {
      const file = join(dir, 'durable.ts');
      writeFileSync(file, snippet('README.md', '## Durable storage'));
      for (const run of ['first', 'second']) {
        const r = await runTs(file, [], { cwd: dir, timeoutMs: 60_000 });
        expect(r.stderr, run).toBe('');
        expect(r.code, run).toBe(0);
        expect(r.stdout, run).toBe("Ada's workspace true\n");
      }
      expect(existsSync(join(dir, 'baton.db'))).toBe(true);
      expect(existsSync(join(dir, '.baton', 'keys'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
