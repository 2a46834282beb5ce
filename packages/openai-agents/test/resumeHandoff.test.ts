import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BatonEvent, sha256b64 } from '@baton/core';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { killSpawned, runTs } from '../../../test/helpers/spawnTs.js';
import { BatonSession } from '../src/index.js';
import { openWorld, published, setupWorld } from './fixtures/world.js';

const AGENT = 'packages/openai-agents/test/fixtures/agentProcess.ts';

afterEach(killSpawned);

function tempWorld() {
  const dir = mkdtempSync(join(tmpdir(), 'baton-oa-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs the agent process and returns the JSON line it printed. */
async function agent(...args: string[]): Promise<Record<string, unknown>> {
  const r = await runTs(AGENT, args, { timeoutMs: 60_000 });
  expect(r.code, r.stderr).toBe(0);
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  return JSON.parse(line!) as Record<string, unknown>;
}

async function events(dir: string): Promise<BatonEvent[]> {
  const ws = await openWorld(dir);
  const out: BatonEvent[] = [];
  for await (const e of ws.store.read({})) out.push(e);
  await ws.close();
  return out;
}

describe('an interrupted run resumed from another process', () => {
  it('publishes exactly once after the approval, even when two processes resume at once, and keeps every item once', async () => {
    const dir = tempWorld();
    const ids = await setupWorld(dir);
    const started = await agent('start', dir);
    const [handoffId] = started.handoffs as string[];
    expect(published(dir)).toEqual([]);

    const ws = await openWorld(dir);
    const paused = await ws.as(ids.ada).handoffs.get(handoffId!);
    expect(paused).toMatchObject({ kind: 'approval', from: ids.writer, status: 'offered' });
    expect(paused.requestedPayload).toEqual({
      tool: 'publish',
      callId: 'c1',
      arguments: { title: 'Launch' },
    });
    await ws.as(ids.ada).handoffs.approve(handoffId!);
    await ws.close();

    const both = await Promise.all([
      agent('resume', dir, handoffId!),
      agent('resume', dir, handoffId!),
    ]);
    const won = both.filter((r) => r.final === 'Done.');
    const lost = both.filter((r) => r.error);
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]!.error).toMatchObject({ code: 'INVALID_STATE' });
    expect(published(dir)).toEqual([`Launch by ${ids.writer}`]);

    const again = await agent('resume', dir, handoffId!);
    expect(again.error).toMatchObject({ code: 'INVALID_STATE' });
    expect(published(dir)).toHaveLength(1);

    const ws2 = await openWorld(dir);
    const items = await new BatonSession({ store: ws2.store, sessionId: 'conv-1' }).getItems();
    const keys = items.map((i) => {
      const x = i as { type: string; role?: string; callId?: string };
      return `${x.type}:${x.callId ?? x.role}`;
    });
    expect(keys).toEqual([
      'message:user',
      'function_call:h1',
      'function_call_result:h1',
      'function_call:c1',
      'function_call_result:c1',
      'message:assistant',
    ]);
    expect(JSON.stringify(items.at(-2))).toContain('Published \\"Launch\\"');

    // The tool call after the handoff is the writer's: authorized, signed and logged as it.
    const log = await events(dir);
    const exercised = log.filter((e) => e.type.startsWith('grant.exercised'));
    expect(exercised.map((e) => [e.actor, e.session])).toEqual([[ids.writer, 'conv-1']]);
    expect(log.find((e) => e.type.startsWith('handoff.consumed'))?.actor).toBe(ids.writer);
    const sdkHandoff = log.find(
      (e) => e.type.startsWith('handoff.offered') && (e.data as { kind: string }).kind === 'work',
    )!;
    expect(sdkHandoff.actor).toBe(ids.triage);
    expect((sdkHandoff.data as { to: string[] }).to).toEqual([ids.writer]);
    expect(log.some((e) => e.type.startsWith('handoff.accepted') && e.actor === ids.writer)).toBe(
      true,
    );

    const ada = ws2.as(ids.ada);
    const tools = await ada.context.query({ types: ['tool'] });
    expect(tools.items).toHaveLength(1);
    expect(tools.items[0]).toMatchObject({
      actor: ids.writer,
      session: 'conv-1',
      outcome: 'succeeded',
      tool: { name: 'publish', argsDigest: sha256b64('{"title":"Launch"}') },
    });
    expect(tools.items[0]!.tool!.durationMs).toBeGreaterThanOrEqual(0);
    const usage = await ada.context.query({ types: ['usage'] });
    expect(new Set(usage.items.map((u) => u.session))).toEqual(new Set(['conv-1']));
    const costs = await ada.context.costs({ by: 'actor' });
    const by = Object.fromEntries(costs.map((c) => [c.key, [c.inputTokens, c.outputTokens]]));
    expect(by).toEqual({ [ids.triage]: [10, 2], [ids.writer]: [50, 8] });
    expect((await ws2.verify()).ok).toBe(true);
    await ws2.close();
  }, 120_000);

  it('leaves a run whose resuming process died taken: later resumes are refused and the tool never runs twice', async () => {
    const dir = tempWorld();
    const ids = await setupWorld(dir);
    const [handoffId] = (await agent('start', dir)).handoffs as string[];
    const ws = await openWorld(dir);
    await ws.as(ids.ada).handoffs.approve(handoffId!);
    await ws.close();

    const crashed = await runTs(AGENT, ['resume', dir, handoffId!], {
      timeoutMs: 60_000,
      env: { BATON_TEST_CRASH_AFTER_PUBLISH: '1' },
    });
    expect(crashed.signal).toBe('SIGKILL');
    expect(published(dir)).toEqual([`Launch by ${ids.writer}`]);

    const after = await agent('resume', dir, handoffId!);
    expect(after.error).toMatchObject({ code: 'INVALID_STATE' });
    expect((after.error as { message: string }).message).toMatch(
      /if that process died, the run cannot be taken over \(nothing runs twice\): start a new run/,
    );
    expect(published(dir)).toEqual([`Launch by ${ids.writer}`]);
    const ws2 = await openWorld(dir);
    expect((await ws2.verify()).ok).toBe(true);
    await ws2.close();
  }, 120_000);

  it('never runs a rejected tool, and the model receives the person’s message', async () => {
    const dir = tempWorld();
    const ids = await setupWorld(dir);
    const [handoffId] = (await agent('start', dir)).handoffs as string[];
    const ws = await openWorld(dir);
    await ws.as(ids.ada).handoffs.deny(handoffId!, { note: 'Not yet: the title needs a date.' });
    await ws.close();

    const resumed = await agent('resume', dir, handoffId!);
    expect(resumed.final).toBe('Done.');
    expect(published(dir)).toEqual([]);
    const input = resumed.writerInput as { type: string; callId?: string; output?: unknown }[];
    const result = input.find((i) => i.type === 'function_call_result' && i.callId === 'c1');
    expect(JSON.stringify(result?.output)).toContain('Not yet: the title needs a date.');
    const log = await events(dir);
    expect(log.some((e) => e.type.startsWith('grant.exercised'))).toBe(false);
    const ws2 = await openWorld(dir);
    expect((await ws2.verify()).ok).toBe(true);
    await ws2.close();
  }, 120_000);
});
