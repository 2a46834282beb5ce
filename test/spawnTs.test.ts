import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { killSpawned, REPO_ROOT, runTs, spawnTs } from './helpers/spawnTs.js';

const temps: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'baton-spawn-'));
  temps.push(dir);
  return dir;
}

afterEach(async () => {
  await killSpawned();
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('spawnTs', () => {
  it('runs a TypeScript entry from sources that verifies a workspace keyed by a KeyDirectory', async () => {
    const keys = join(tempDir(), 'keys');
    const { code, stdout, stderr } = await runTs('test/fixtures/verifyWithKeyDirectory.ts', [keys]);
    expect(code, stderr).toBe(0);
    const out = JSON.parse(stdout) as { report: { ok: boolean; events: number }; keyFile: string };
    expect(out.report.ok).toBe(true);
    expect(out.report.events).toBeGreaterThan(0);
    expect(out.keyFile.startsWith(keys)).toBe(true);
    expect(existsSync(out.keyFile)).toBe(true);
    expect(statSync(out.keyFile).mode & 0o777).toBe(0o600);
  });

  it('works from a working directory outside the repository', async () => {
    const cwd = tempDir();
    const result = await runTs('test/fixtures/verifyWithKeyDirectory.ts', ['keys'], { cwd });
    expect(result.code, result.stderr).toBe(0);
    const out = JSON.parse(result.stdout) as { report: { ok: boolean }; keyFile: string };
    expect(out.report.ok).toBe(true);
    expect(existsSync(join(cwd, 'keys'))).toBe(true);
  });

  it('follows stdout line by line and reports the exit', async () => {
    const p = spawnTs('examples/quickstart/main.ts');
    const line = await p.waitForLine(/^— verified:/);
    expect(line).toMatch(/^— verified: true/);
    const { code } = await p.exited;
    expect(code).toBe(0);
    expect(p.lines.length).toBeGreaterThan(1);
  });

  it('rejects a wait for a line the child never prints, once it exits', async () => {
    const p = spawnTs('examples/quickstart/main.ts');
    await expect(p.waitForLine(/^never printed$/)).rejects.toThrow(/exited before printing/);
  });

  it('resolves a failing child with its non-zero code and stderr', async () => {
    const result = await runTs('test/fixtures/verifyWithKeyDirectory.ts');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/usage: verifyWithKeyDirectory\.ts <directory>/);
  });
});

describe('the README demo command', () => {
  it('`pnpm demo` tells the story: the agent’s briefing holds Ada’s three edits with reasons, and the log verifies', async () => {
    const { stdout } = await promisify(execFile)('pnpm', ['demo'], {
      cwd: REPO_ROOT,
      timeout: 60_000,
    });
    expect(stdout).toMatch(/verified: true/);
    // The agent's briefing, printed by its second process, holds Ada's three edits with reasons.
    const briefing = stdout.slice(stdout.indexOf('Hours later'));
    for (const line of [
      'v2 by Ada: say when',
      'v3 by Ada: be concrete',
      'v4 by Ada: lead with pricing',
    ]) {
      expect(briefing).toContain(line);
    }
    expect(briefing).toContain('+Free for teams under 10.');
    expect(briefing).toContain('A (Ada): Warmer, please');
  });
});
