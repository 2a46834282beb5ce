import { afterEach, describe, expect, it } from 'vitest';
import { killSpawned, runTs } from './helpers/spawnTs.js';

afterEach(async () => {
  await killSpawned();
});

describe('signature worker threads', () => {
  it('do not keep a process alive: a script that verifies and never closes its workspace exits on its own', async () => {
    const started = Date.now();
    const { code, stdout, stderr } = await runTs('test/fixtures/verifyWithoutClose.ts', []);
    expect(code, stderr).toBe(0);
    const out = JSON.parse(stdout) as { report: { ok: boolean; events: number }; threads: number };
    expect(out.report).toMatchObject({ ok: true, events: 303 });
    expect(out.threads, 'its signatures were checked on worker threads').toBeGreaterThan(0);
    // It ends when its work does, not after a timeout of some kind.
    expect(Date.now() - started).toBeLessThan(60_000);
  });
});
