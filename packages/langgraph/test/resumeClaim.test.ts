import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, isBatonError } from '@baton/core';
import { afterEach, describe, expect, it } from 'vitest';
import { killSpawned, spawnTs } from '../../../test/helpers/spawnTs.js';
import { batonConfig, humanInterrupts, resumeHandoff } from '../src/index.js';
import { claimGraph, files, openWorkspace } from './fixtures/claimGraph.js';

const RESUMER = 'packages/langgraph/test/fixtures/resumer.ts';
const dirs: string[] = [];
afterEach(async () => {
  await killSpawned();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A SQLite workspace where drafter's thread "t1" waits on an approval Ada has given. */
async function approvedPause(): Promise<{ dir: string; handoff: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'baton-lg-claim-'));
  dirs.push(dir);
  const ws = await openWorkspace(dir);
  try {
    const ada = await ws.bootstrap({ name: 'Ada' });
    const me = ws.as(ada.id);
    const drafter = await me.identities.create({
      kind: 'agent',
      name: 'drafter',
      generateKey: true,
    });
    await me.capabilities.grant({
      to: drafter.id,
      resource: 'artifact:*',
      actions: ['create', 'publish'],
      requiresApproval: [{ action: 'publish' }],
    });
    const doc = await ws.as(drafter.id).artifacts.create({
      kind: 'text',
      title: 'Post',
      content: 'Hi\n',
      reason: 'draft',
    });
    writeFileSync(files(dir).ids, JSON.stringify({ doc: doc.id }));
    const graph = claimGraph(ws, dir, doc.id);
    const out = await graph.invoke(
      {},
      batonConfig({ workspace: ws, agent: drafter.id, threadId: 't1' }),
    );
    const handoff = humanInterrupts(out)[0]!.baton.handoff;
    await me.handoffs.approve(handoff);
    return { dir, handoff };
  } finally {
    await ws.close();
  }
}

const runs = (dir: string) =>
  existsSync(files(dir).runs)
    ? readFileSync(files(dir).runs, 'utf8').trim().split('\n').filter(Boolean)
    : [];

describe('resumeHandoff from two processes at once', () => {
  it('lets exactly one of two processes resuming the same handoff together run the node; the other is refused or finds it done', async () => {
    const { dir, handoff } = await approvedPause();
    const a = spawnTs(RESUMER, [dir, handoff]);
    const b = spawnTs(RESUMER, [dir, handoff]);
    await Promise.all([a.waitForLine(/^ready$/, 60_000), b.waitForLine(/^ready$/, 60_000)]);
    a.child.stdin!.write('go\n');
    b.child.stdin!.write('go\n');
    const [ra, rb] = await Promise.all([a.exited, b.exited]);
    for (const r of [ra, rb]) {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
    const said = [ra.stdout.trim(), rb.stdout.trim()].map((s) => s.split('\n').at(-1)!);
    expect(said.filter((s) => s === 'resumed true')).toHaveLength(1);
    const other = said.find((s) => s !== 'resumed true')!;
    expect(other).toMatch(
      /^(resumed false|refused CONFLICT: resumeHandoff: another process is resuming handoff \S+ right now)/,
    );
    // The node went past the approval once, in the winner.
    expect(runs(dir)).toHaveLength(1);
    const ws = await openWorkspace(dir);
    try {
      const { doc } = JSON.parse(readFileSync(files(dir).ids, 'utf8')) as { doc: string };
      const again = await resumeHandoff(claimGraph(ws, dir, doc), handoff, { workspace: ws });
      expect(again.resumed).toBe(false);
      expect(runs(dir)).toHaveLength(1);
    } finally {
      await ws.close();
    }
  }, 180_000);

  it('refuses to resume while the claiming process is alive, and takes over once it died', async () => {
    const { dir, handoff } = await approvedPause();
    const stalled = spawnTs(RESUMER, [dir, handoff], { env: { LG_HANG: '1' } });
    await stalled.waitForLine(/^ready$/, 60_000);
    stalled.child.stdin!.write('go\n');
    await stalled.waitForLine(/^running$/, 60_000);
    const { doc } = JSON.parse(readFileSync(files(dir).ids, 'utf8')) as { doc: string };
    const ws = await openWorkspace(dir);
    try {
      const graph = claimGraph(ws, dir, doc);
      const busy = await resumeHandoff(graph, handoff, { workspace: ws }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isBatonError(busy, ErrorCode.CONFLICT), String(busy)).toBe(true);
      expect((busy as Error).message).toContain(`pid ${stalled.child.pid}`);
      expect(runs(dir)).toHaveLength(1);

      // It dies without finishing (the thread never moved on): its pid is gone on this host.
      await stalled.kill('SIGKILL');
      const r = await resumeHandoff(graph, handoff, { workspace: ws });
      expect(r).toMatchObject({ resumed: true, response: { type: 'accept', args: null } });
      expect(runs(dir)).toEqual([String(stalled.child.pid), String(process.pid)]);
      expect((await resumeHandoff(graph, handoff, { workspace: ws })).resumed).toBe(false);
    } finally {
      await ws.close();
    }
  }, 180_000);
});
