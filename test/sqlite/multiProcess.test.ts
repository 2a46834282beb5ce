import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BatonEvent, Workspace } from '@baton/core';
import { KeyDirectory } from '@baton/core/node';
import { SqliteStore } from '@baton/sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { NOTE_TYPES, noteWorkspace } from '../fixtures/sqliteNotes.js';
import { killSpawned, spawnTs } from '../helpers/spawnTs.js';

const temps: string[] = [];
afterEach(async () => {
  await killSpawned();
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Commands each process appends. */
const PER_PROCESS = 30;
const PROCESSES = 3;

describe('SqliteStore across processes', () => {
  it('lets three processes append to one file and delivers every event to each exactly once, in the same order, in a log that verifies', {
    timeout: 90_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-sqlite-mp-'));
    temps.push(dir);
    const {
      path,
      keys,
      agents,
      seq: setupSeq,
    } = await noteWorkspace(
      dir,
      Array.from({ length: PROCESSES }, (_, i) => `worker-${i}`),
      [{ resource: 'email:*', actions: ['email.send'] }],
    );
    const total = setupSeq + PROCESSES * PER_PROCESS;

    const workers = agents.map((agent, lane) =>
      spawnTs('test/fixtures/sqliteWorker.ts', [
        path,
        keys,
        agent,
        String(lane),
        String(PER_PROCESS),
        String(total),
      ]),
    );
    await Promise.all(workers.map((w) => w.waitForLine(/^ready$/, 60_000)));
    // All three start appending at once, so their appends race for the log head.
    for (const w of workers) w.child.stdin!.write('go\n');
    const reports = (await Promise.all(
      workers.map((w) => w.waitForLine(/^\{/, 60_000).then((l) => JSON.parse(l))),
    )) as { lane: string; seen: string[]; retries: number }[];
    for (const w of workers) expect((await w.exited).code, w.stderr()).toBe(0);

    const ws = await Workspace.open({
      store: new SqliteStore({ path }),
      keyring: new KeyDirectory({ path: keys }),
      eventTypes: NOTE_TYPES,
    });
    try {
      const log: BatonEvent[] = [];
      for await (const e of ws.store.read()) log.push(e);
      expect(log).toHaveLength(total);
      expect(log.map((e) => e.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      const order = log.map((e) => `${e.seq} ${e.id}`);
      for (const r of reports) expect(r.seen, `process ${r.lane}`).toEqual(order);
      for (const [lane, agent] of agents.entries()) {
        const mine = log.filter((e) => e.actor === agent);
        expect(mine, `process ${lane}`).toHaveLength(PER_PROCESS);
        expect(new Set(mine.map((e) => e.session))).toEqual(new Set([`lane-${lane}`]));
      }
      const report = await ws.verify();
      expect(report, JSON.stringify(report.problem)).toMatchObject({ ok: true, events: total });
    } finally {
      await ws.close();
    }
  });
});
