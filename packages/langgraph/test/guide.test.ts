import { afterEach, describe, expect, it } from 'vitest';
import { killSpawned, runTs } from '../../../test/helpers/spawnTs.js';

afterEach(killSpawned);

describe('the program docs/langgraph.md quotes', () => {
  it('pauses on a question to Ada, resumes with her answer once, and refuses an unknown handoff', async () => {
    const r = await runTs('packages/langgraph/test/docs/askAPerson.ts', [], { timeoutMs: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^paused on question ho_[\w-]+$/m);
    expect(r.stdout).toContain("Ada's inbox: Which day do we launch?");
    expect(r.stdout).toContain('resumed with response: day = Tuesday');
    expect(r.stdout).toContain('second resume ran anything: false; node runs: 2');
    expect(r.stdout).toContain('unknown handoff: NOT_FOUND');
  }, 90_000);
});
