import { join } from 'node:path';
import type { ReadQuery } from '@baton/core';
import { conformanceEvents } from '@baton/core/testing';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../src/index.js';
import { tempDir } from './helpers.js';

// Each read must walk one index in the order it returns (its cost follows its result, not the
// log): no full scan of a table and no sort of every match. The statements the store runs are
// caught as SQLite runs them (better-sqlite3's `verbose` gives them with their parameters) and
// asked for their plan.

let db: Database.Database;
let store: SqliteStore;
const ran: string[] = [];

beforeEach(async () => {
  db = new Database(join(tempDir(), 'plans.db'), { verbose: (sql) => ran.push(String(sql)) });
  store = new SqliteStore({ database: db });
  const head = await store.head();
  const events = conformanceEvents(head, 200, (i) => ({
    stream: `s/${i % 10}`,
    type: `t${i % 4}.happened@1`,
    refs: [`r/${i % 7}`],
  }));
  const projections = events.map((_, i) => ({
    collection: 'items',
    key: `k/${i}`,
    value: { i },
    indexes: { tag: `t/${i % 5}` },
  }));
  await store.append({ events, expectedHead: head, projections });
  await store.kv.batch(projections.map((p) => ({ key: p.key, value: p.value })));
});

afterEach(async () => {
  await store.close();
  db.close();
});

/** The query plan of every statement `run` makes the store execute, one string per statement. */
async function plansOf(run: () => Promise<unknown>): Promise<string[]> {
  ran.length = 0;
  await run();
  const statements = ran.filter((sql) => /^\s*SELECT/i.test(sql));
  expect(statements.length).toBeGreaterThan(0);
  return statements.map((sql) =>
    (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[])
      .map((r) => r.detail)
      .join('; '),
  );
}

async function readPlans(q: ReadQuery): Promise<string[]> {
  return plansOf(async () => {
    for await (const _ of store.read(q));
  });
}

/** No table scanned whole, no temporary sort. */
function walksAnIndex(plan: string): void {
  expect(plan).not.toMatch(/\bSCAN\b/);
  expect(plan).not.toMatch(/TEMP B-TREE/);
}

describe('SqliteStore query plans', () => {
  it('reads one type along the (type, seq) index', async () => {
    for (const plan of await readPlans({ types: ['t1.happened@1'], after: 10, until: 150 })) {
      walksAnIndex(plan);
      expect(plan).toMatch(/USING INDEX baton_events_by_type \(type=\? AND seq>\? AND seq<\?\)/);
    }
  });

  it('reads several types as one index range per type, merged without sorting the matches', async () => {
    const plans = await readPlans({ types: ['t1.happened@1', 't2.happened@1', 't1.happened@1'] });
    expect(plans).toHaveLength(2);
    for (const plan of plans) {
      walksAnIndex(plan);
      expect(plan).toMatch(/USING INDEX baton_events_by_type \(type=\? AND seq>\?\)/);
    }
  });

  it('reads a stream along the stream index, also when types narrow it', async () => {
    for (const q of [
      { stream: 's/3' },
      { stream: 's/3', types: ['t1.happened@1', 't3.happened@1'] },
    ])
      for (const plan of await readPlans(q)) {
        walksAnIndex(plan);
        expect(plan).toMatch(/USING INDEX baton_events_by_stream \(stream=\? AND seq>\?\)/);
      }
  });

  it('reads a ref along the ref index, also when a stream or types narrow it', async () => {
    for (const q of [
      { ref: 'r/2' },
      { ref: 'r/2', stream: 's/3' },
      { ref: 'r/2', types: ['t1.happened@1', 't3.happened@1'], until: 100 },
    ])
      for (const plan of await readPlans(q)) {
        walksAnIndex(plan);
        expect(plan).toMatch(/SEARCH r USING PRIMARY KEY \(ref=\? AND seq>\?/);
        expect(plan).toMatch(/SEARCH e USING INTEGER PRIMARY KEY \(rowid=\?\)/);
      }
  });

  it('reads after a seq from that seq on', async () => {
    for (const plan of await readPlans({ after: 190 })) {
      walksAnIndex(plan);
      expect(plan).toMatch(/USING INTEGER PRIMARY KEY \(rowid>\?\)/);
    }
  });

  it('pages a secondary index, the row keys and kv keys along their indexes, either way', async () => {
    const first = await store.query('items', 'tag', { gte: 't/1' }, { limit: 3 });
    const runs = [
      () => store.query('items', 'tag', { eq: 't/2' }, { limit: 5 }),
      () => store.query('items', 'tag', { gte: 't/1' }, { limit: 3, after: first.next }),
      () => store.query('items', 'tag', { prefix: 't/' }, { limit: 3, reverse: true }),
      () => store.query('items', '$key', { prefix: 'k/1' }, { limit: 3 }),
      () => store.kv.list('k/1', { limit: 3, reverse: true }),
    ];
    for (const run of runs) for (const plan of await plansOf(run)) walksAnIndex(plan);
  });
});
