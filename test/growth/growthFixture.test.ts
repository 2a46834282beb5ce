// The growth benchmark's claim (test/bench/growth.ts, issue 18): its fixture keeps every read's
// result the same while the history around the target set grows, and a MemoryStore copy of the
// log answers as SQLite does. Checked here on two small fixtures built in a temp directory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore, Workspace } from '@baton/core';
import { SqliteStore } from '@baton/sqlite';
import { afterAll, beforeAll, expect, describe as group, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'baton-growth-'));
process.env.BATON_GROWTH_CACHE = dir;
const { growthFixture, cachedFixture } = await import('../bench/growthFixture.js');
const { READS, describe, subject } = await import('../bench/growthReads.js');

// The filler's pools (8 sessions, 20 artifacts on the first page) fill within the smaller size.
const SMALL = 400;
const LARGE = 800;

async function results(ws: Workspace, size: number, store: 'SQLite' | 'MemoryStore') {
  const fx = cachedFixture(size)!;
  const s = subject(store, size, ws, fx.targets);
  const out: Record<string, string> = {};
  for (const read of READS) out[read.name] = describe(await read.run(s));
  return out;
}

group('the growth fixture', () => {
  const opened: Workspace[] = [];
  beforeAll(async () => {
    await growthFixture(SMALL, () => {});
    await growthFixture(LARGE, () => {});
  }, 120_000);
  afterAll(async () => {
    for (const ws of opened) await ws.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const open = async (size: number) => {
    const ws = await Workspace.open({
      store: new SqliteStore({ path: cachedFixture(size)!.path }),
      tickIntervalMs: 0,
    });
    opened.push(ws);
    return ws;
  };

  it('holds about as many events as asked for, the target set first and the tail last', async () => {
    for (const size of [SMALL, LARGE]) {
      const fx = cachedFixture(size)!;
      expect(fx.targets.events).toBeGreaterThanOrEqual(size - 8);
      expect(fx.targets.events).toBeLessThan(size + 40);
      const ws = await open(size);
      expect((await ws.head()).seq).toBe(fx.targets.events);
    }
  });

  it('gives every read the same result at both sizes', { timeout: 60_000 }, async () => {
    const small = await results(await open(SMALL), SMALL, 'SQLite');
    const large = await results(await open(LARGE), LARGE, 'SQLite');
    expect(large).toEqual(small);
    expect(small["context.query({ types: ['question'] })"]).toBe('8 rows');
    expect(small['context.query({ text })']).toBe('1 row');
    expect(small['context.query({ since })']).toBe('2 rows');
    expect(small['log({ types }) → 3']).toBe('3 rows');
    expect(small['workspace.subscribe({ after: 0, types })']).toBe('3 events');
  });

  it('answers on a MemoryStore copy as on SQLite', { timeout: 60_000 }, async () => {
    const sqlite = await open(LARGE);
    const mem = await Workspace.open({ store: new MemoryStore(), tickIntervalMs: 0 });
    opened.push(mem);
    await mem.import(sqlite.export());
    expect(await results(mem, LARGE, 'MemoryStore')).toEqual(
      await results(sqlite, LARGE, 'SQLite'),
    );
  });

  it('resumes a build from its progress file instead of starting again', async () => {
    const again = await growthFixture(LARGE, () => {});
    expect(again.built).toBe(false);
  });
});
