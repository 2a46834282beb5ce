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

  it('embeds the server in an app: an edit goes through, a create without the grant is refused naming it', async () => {
    const r = await runTs('examples/mcp-agent/embed.ts', [], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^edit: Saved art_\S+ as version 2\.$/m);
    expect(r.stdout).toContain('refused: true Missing grant: `create` on `artifact:');
    expect(r.stdout).toContain("baton grant drafter --resource 'artifact:*' --actions create");
    expect(r.stdout).toContain('head: v2 by drafter');
  }, 90_000);
});
