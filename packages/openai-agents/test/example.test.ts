import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { killSpawned, REPO_ROOT, runTs } from '../../../test/helpers/spawnTs.js';

const EXAMPLE = join(REPO_ROOT, 'examples/openai-agents-approvals');
const BATON = join(REPO_ROOT, 'packages/cli/src/baton.ts');

afterEach(killSpawned);

describe('examples/openai-agents-approvals', () => {
  it('pauses on publish, is approved through the baton CLI, and another process publishes exactly once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-oa-example-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const env = {
      BATON_DIR: join(dir, '.baton'),
      BATON_DB: undefined,
      BATON_AS: undefined,
      BATON_KEYS: undefined,
      NO_COLOR: '1',
    };
    const example = (...args: string[]) =>
      runTs(join(EXAMPLE, 'main.ts'), args, { cwd: EXAMPLE, env, timeoutMs: 60_000 });

    const start = await example('start');
    expect(start.code, start.stderr).toBe(0);
    expect(start.stdout).toContain(
      'Paused: writer wants to call publish with {"title":"Launch day"}',
    );
    const id = /approve (ho_\w+)/.exec(start.stdout)![1]!;

    const approve = await runTs(
      BATON,
      ['--dir', join(dir, '.baton'), '--as', 'Ada', 'approve', id],
      { env, timeoutMs: 60_000 },
    );
    expect(approve.code, approve.stderr).toBe(0);
    expect(approve.stdout).toContain(`${id} is approved`);

    const resumed = await example('resume', id);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('Finished: Published "Launch day".');
    const again = await example('resume', id);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('INVALID_STATE: The run behind handoff');
    expect(readFileSync(join(dir, '.baton', 'published.txt'), 'utf8')).toBe('Launch day\n');

    const log = await runTs(BATON, ['--dir', join(dir, '.baton'), '--as', 'Ada', 'verify'], {
      env,
      timeoutMs: 60_000,
    });
    expect(log.code, log.stderr + log.stdout).toBe(0);
  }, 180_000);
});
