import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BatonEvent, signingBytes, verifySignature, Workspace } from '@baton/core';
import { SqliteStore } from '@baton/sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { killSpawned, runTs } from '../../../test/helpers/spawnTs.js';

// The example's own programs, each run in its own process: Ada's (person.ts) and the
// agent's (agent.ts), sharing only the folder with the workspace and checkpoint files.
const EXAMPLE = 'examples/langgraph-review';

const dirs: string[] = [];
afterEach(async () => {
  await killSpawned();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function step(script: 'person' | 'agent', ...args: string[]) {
  const r = await runTs(`${EXAMPLE}/${script}.ts`, args, { timeoutMs: 90_000 });
  return r;
}

async function ok(script: 'person' | 'agent', ...args: string[]): Promise<string> {
  const r = await step(script, ...args);
  expect(r.stderr, `${script} ${args[0]} wrote to stderr`).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

/** Reads the log and files the processes left, in this process. */
async function inspect(dir: string) {
  const ids = JSON.parse(readFileSync(join(dir, 'ids.json'), 'utf8')) as {
    ada: string;
    drafter: string;
  };
  const ws = await Workspace.open({
    store: new SqliteStore({ path: join(dir, 'workspace.db') }),
    tickIntervalMs: 0,
  });
  const events: BatonEvent[] = [];
  for await (const e of ws.store.read({})) events.push(e);
  const outbox = join(dir, 'outbox.jsonl');
  const published = existsSync(outbox)
    ? readFileSync(outbox, 'utf8').trim().split('\n').filter(Boolean)
    : [];
  return { ids, ws, events, published };
}

async function pausedRun(): Promise<{ dir: string; handoff: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'baton-lg-review-'));
  dirs.push(dir);
  await ok('person', 'setup', dir);
  const paused = await ok('agent', 'start', dir);
  const handoff = /handoff (ho_[\w-]+)/.exec(paused)?.[1];
  expect(handoff, paused).toBeDefined();
  return { dir, handoff: handoff! };
}

describe('the three-process review (pause → a person decides → resume)', () => {
  it('approve: the handoff is made once though the node re-ran, publishes exactly once, an undecided resume is refused and a second resume does nothing', async () => {
    const { dir, handoff } = await pausedRun();

    // Resuming before Ada decided is refused, and changes nothing.
    const before = await inspect(dir);
    await before.ws.close();
    const early = await step('agent', 'resume', dir, handoff);
    expect(early.code).not.toBe(0);
    expect(early.stderr).toMatch(
      /BatonError: resumeHandoff: handoff ho_\S+ is still offered, waiting on Ada/,
    );
    const unchanged = await inspect(dir);
    expect(unchanged.events.length).toBe(before.events.length);
    await unchanged.ws.close();

    await ok('person', 'approve', dir, handoff);
    expect(await ok('agent', 'resume', dir, handoff)).toContain(
      'resumed with accept: Done: published',
    );
    expect(await ok('agent', 'resume', dir, handoff)).toContain(
      'nothing to do: thread review-1 was resumed already',
    );

    const { ids, ws, events, published } = await inspect(dir);
    try {
      expect(published).toHaveLength(1);
      expect(JSON.parse(published[0]!)).toMatchObject({ channel: 'blog', by: ids.drafter });
      const approvals = events.filter(
        (e) =>
          e.type.startsWith('handoff.offered@') && (e.data as { kind: string }).kind === 'approval',
      );
      expect(approvals.map((e) => (e.data as { id: string }).id)).toEqual([handoff]);
      // The approval was used once, by the one authorization the tool recorded.
      expect(events.filter((e) => e.type.startsWith('handoff.consumed@'))).toHaveLength(1);
      expect(events.filter((e) => e.type.startsWith('grant.exercised@'))).toHaveLength(1);

      // The tools node ran twice (paused, then resumed): the ContextLog says so.
      const agent = ws.as(ids.drafter);
      const runs = await agent.context.query({ types: ['attempt'], session: 'review-1' });
      const tools = runs.items.filter((e) => e.text.startsWith('LangGraph node tools'));
      expect(tools.map((e) => e.outcome)).toEqual(['interrupted', 'succeeded']);
    } finally {
      await ws.close();
    }
  }, 240_000);

  it('edit: publishes once, with the arguments Ada edited', async () => {
    const { dir, handoff } = await pausedRun();
    await ok('person', 'edit', dir, handoff);
    expect(await ok('agent', 'resume', dir, handoff)).toContain(
      'resumed with edit: Done: published',
    );
    expect(await ok('agent', 'resume', dir, handoff)).toContain('nothing to do');
    const { ids, ws, published, events } = await inspect(dir);
    await ws.close();
    expect(published.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({ channel: 'newsletter', by: ids.drafter }),
    ]);
    expect(
      events.filter(
        (e) =>
          e.type.startsWith('handoff.offered@') && (e.data as { kind: string }).kind === 'approval',
      ),
    ).toHaveLength(1);
  }, 240_000);

  it('reject: never publishes; the model reads why, and a second resume does nothing', async () => {
    const { dir, handoff } = await pausedRun();
    await ok('person', 'reject', dir, handoff);
    expect(await ok('agent', 'resume', dir, handoff)).toContain(
      'resumed with response: Done: Not done: publish on artifact:',
    );
    expect(await ok('agent', 'resume', dir, handoff)).toContain('nothing to do');
    const { ws, published, events } = await inspect(dir);
    await ws.close();
    expect(published).toEqual([]);
    expect(events.filter((e) => e.type.startsWith('grant.exercised@'))).toHaveLength(0);
  }, 240_000);

  it("takes Ada's approval from the baton CLI, and records the run in the ContextLog as the agent, signed by its own key, with costs by actor and session", async () => {
    const { dir, handoff } = await pausedRun();
    const cli = await runTs(
      'packages/cli/src/baton.ts',
      [
        '--db',
        join(dir, 'workspace.db'),
        '--keys',
        join(dir, 'ada-keys'),
        '--as',
        'Ada',
        'approve',
        handoff,
      ],
      { timeoutMs: 90_000 },
    );
    expect(cli.stderr).toBe('');
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain(`${handoff} is approved`);
    await ok('agent', 'resume', dir, handoff);
    const { ids, ws, events } = await inspect(dir);
    try {
      const recorded = events.filter(
        (e) => e.type.startsWith('context.recorded@') && e.session === 'review-1',
      );
      const types = new Set(recorded.map((e) => (e.data as { type: string }).type));
      expect([...types].sort()).toEqual(['attempt', 'note', 'tool', 'usage']);
      const drafter = await ws.as(ids.ada).identities.get(ids.drafter);
      const ada = await ws.as(ids.ada).identities.get(ids.ada);
      for (const e of recorded) {
        expect(e.actor).toBe(ids.drafter);
        expect(await verifySignature(drafter!.keys[0]!.key, e.sig, signingBytes(e))).toBe(true);
        expect(await verifySignature(ada!.keys[0]!.key, e.sig, signingBytes(e))).toBe(false);
      }
      const tool = await ws.as(ids.drafter).context.query({ types: ['tool'] });
      expect(tool.items.map((e) => e.tool?.name)).toEqual(['publish_artifact', 'publish_artifact']);
      for (const e of tool.items) {
        expect(e.tool?.argsDigest).toMatch(/^[\w-]{43}$/);
        expect(e.tool?.durationMs).toBeGreaterThanOrEqual(0);
      }
      // Three model calls (draft, ask to publish, after publishing), 120 in and 40 out each.
      const me = ws.as(ids.ada);
      expect(await me.context.costs({ by: 'actor' })).toEqual([
        expect.objectContaining({
          key: ids.drafter,
          entries: 3,
          inputTokens: 360,
          outputTokens: 120,
        }),
      ]);
      expect(await me.context.costs({ by: 'session' })).toEqual([
        expect.objectContaining({ key: 'review-1', entries: 3, inputTokens: 360 }),
      ]);
      expect((await ws.verify()).ok).toBe(true);
    } finally {
      await ws.close();
    }
  }, 240_000);
});
