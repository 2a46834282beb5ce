/**
 * Benchmark (issue 15): a 50-turn conversation through `BatonSession` on SQLite (a temp file)
 * and on MemoryStore, against the SDK's own `MemorySession` (the SDK ships no SQLite or file
 * session), measured in the same run. A turn is what the runner does each turn: read the
 * history (`getItems()`), then append the turn's items (`addItems`, a user message and the
 * assistant's reply). Turns alternate between the backends so that load from other processes
 * falls on all alike, and the "added" columns are per-turn differences to the baseline. Goal: a Baton-backed turn on SQLite adds ≤ 1 ms p99 over the
 * SDK's in-memory session.
 *
 * Run with `pnpm bench` (all benches) or
 * `pnpm exec tsx --conditions=source packages/openai-agents/bench/sessionBench.ts`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { MemoryStore } from '@baton/core';
import { SqliteStore } from '@baton/sqlite';
import { type AgentInputItem, MemorySession, type Session } from '@openai/agents-core';
import { BatonSession } from '../src/index.js';

const TURNS = 50;
/** Conversations per backend: 40 × 50 = 2,000 turns each, enough for a steady p99. */
const CONVERSATIONS = 40;
const WARMUP_CONVERSATIONS = 5;
const GOAL_ADDED_P99_MS = 1;

const turnItems = (c: number, t: number): AgentInputItem[] => [
  {
    type: 'message',
    role: 'user',
    content: `Conversation ${c}, turn ${t}: what changed since yesterday?`,
  },
  {
    type: 'message',
    role: 'assistant',
    status: 'completed',
    content: [
      {
        type: 'output_text',
        text: `Turn ${t}: three edits to the launch post, one open question.`,
      },
    ],
  },
];

interface Sample {
  turn: number[];
  get: number[];
  add: number[];
}

/** One turn: the history read, then the turn's items appended; its times go `into`. */
async function turn(
  session: Session,
  c: number,
  t: number,
  into: Sample | undefined,
): Promise<void> {
  const t0 = performance.now();
  await session.getItems();
  const t1 = performance.now();
  await session.addItems(turnItems(c, t));
  const t2 = performance.now();
  if (into) {
    into.get.push(t1 - t0);
    into.add.push(t2 - t1);
    into.turn.push(t2 - t0);
  }
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

const fmt = (ms: number) => (ms >= 1 ? `${ms.toFixed(2)} ms` : `${(ms * 1_000).toFixed(0)} µs`);

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'baton-bench-oa-'));
  const sqlite = new SqliteStore({ path: join(dir, 'ws.db') });
  const memory = new MemoryStore();
  const backends: [string, (c: number) => Session][] = [
    ['SDK MemorySession (baseline)', () => new MemorySession()],
    ['BatonSession on MemoryStore', (c) => new BatonSession({ store: memory, sessionId: `m${c}` })],
    ['BatonSession on SQLite', (c) => new BatonSession({ store: sqlite, sessionId: `s${c}` })],
  ];
  const samples = backends.map((): Sample => ({ turn: [], get: [], add: [] }));
  try {
    // Turn by turn across the backends: a burst of load or a GC pause falls on neighbours,
    // so the per-turn difference to the baseline (the "added" columns) stays fair.
    for (let c = 0; c < WARMUP_CONVERSATIONS + CONVERSATIONS; c++) {
      const sessions = backends.map(([, make]) => make(c));
      for (let t = 0; t < TURNS; t++)
        for (const [i, session] of sessions.entries())
          await turn(session, c, t, c < WARMUP_CONVERSATIONS ? undefined : samples[i]);
    }
  } finally {
    await sqlite.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const base = samples[0]!;
  /** Per turn: this backend's time minus the baseline's for the same turn. */
  const added = (s: Sample) => s.turn.map((x, i) => x - base.turn[i]!);
  console.log(
    `\nopenai-agents: BatonSession, ${TURNS}-turn conversations (getItems + addItems of 2 items per turn), ${CONVERSATIONS} per backend, load ${loadavg()[0]!.toFixed(1)}`,
  );
  const rows = backends.map(([name], i) => {
    const s = samples[i]!;
    const p50 = quantile(s.turn, 0.5);
    const p99 = quantile(s.turn, 0.99);
    return [
      name,
      fmt(quantile(s.get, 0.5)),
      fmt(quantile(s.get, 0.99)),
      fmt(quantile(s.add, 0.5)),
      fmt(quantile(s.add, 0.99)),
      fmt(p50),
      fmt(p99),
      `${(p50 / quantile(base.turn, 0.5)).toFixed(1)}×`,
      `${fmt(quantile(added(s), 0.5))}`,
      `${fmt(quantile(added(s), 0.99))}`,
    ];
  });
  const head = [
    'backend',
    'getItems p50',
    'getItems p99',
    'addItems p50',
    'addItems p99',
    'turn p50',
    'turn p99',
    'p50 ratio',
    'added p50',
    'added p99',
  ];
  const all = [head, ...rows];
  const widths = head.map((_, c) => Math.max(...all.map((r) => r[c]!.length)));
  for (const r of all)
    console.log(
      `  ${r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('   ')}`,
    );
  const sqliteAdded = quantile(added(samples[2]!), 0.99);
  console.log(
    `  goal: a turn on SQLite adds ≤ ${GOAL_ADDED_P99_MS} ms p99 over the SDK's MemorySession: ${sqliteAdded <= GOAL_ADDED_P99_MS ? 'PASS' : 'MISS'} (${fmt(sqliteAdded)})`,
  );
}

await main();
