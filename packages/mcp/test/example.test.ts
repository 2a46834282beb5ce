import { describe, expect, it } from 'vitest';
import { runTs } from '../../../test/helpers/spawnTs.js';

describe('examples/mcp-agent', () => {
  it('runs the story: the agent reads the briefing, edits with a reason, asks to publish, and Ada approves from the CLI', async () => {
    const r = await runTs('examples/mcp-agent/main.ts', [], { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Tighten the intro, then ask me before publishing.');
    expect(r.stdout).toMatch(/Saved art_\S+ as version 2/);
    expect(r.stdout).toContain('Approved by Ada');
    expect(r.stdout).toMatch(/drafter\s+artifact\.edited/);
    expect(r.stdout).toMatch(/Ada\s+handoff\.decided/);
    expect(r.stdout).toContain('baton verify: the log checks out.');
  }, 150_000);
});
