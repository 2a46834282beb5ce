/**
 * MemoryStore import against the length of the log (issue 18: the growth bench's MemoryStore
 * copies are made by `export` → `import`). Exports a cached growth fixture (test/bench/
 * growthFixture.ts) once, then imports the first n events of it into a new MemoryStore for
 * each n, the prefixes alternating round by round, and prints the time per event and its
 * ratio to the smallest prefix's (linear: ≈ 1×).
 *
 *   BATON_GROWTH_CACHE=<dir> pnpm exec tsx --conditions=source test/bench/growthImport.ts \
 *     [--fixture 1e5] [--prefixes 1e4,4e4,1e5] [--rounds 1]
 *
 * The fixture must be cached already (run test/bench/growth.ts to build it).
 */
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { MemoryStore, Workspace } from '@baton/core';
import { SqliteStore } from '@baton/sqlite';
import { fmtInt, fmtRatio, table } from './format.js';
import { fixtureFiles } from './growthFixture.js';

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at >= 0 ? (process.argv[at + 1] ?? fallback) : fallback;
}

const size = Number(option('--fixture', '1e5'));
const prefixes = option('--prefixes', '1e4,4e4,1e5').split(',').map(Number);
const rounds = Number(option('--rounds', '1'));
const path = fixtureFiles(size).db;
if (!existsSync(path))
  throw new Error(`No cached ${size}-event fixture at ${path}: run test/bench/growth.ts first.`);

// The export, once: its header, and each line with the seq of the event it is or precedes.
const source = await Workspace.open({ store: new SqliteStore({ path }), tickIntervalMs: 0 });
const lines: { seq: number; line: string }[] = [];
let header: Record<string, unknown> = {};
let pending: string[] = [];
for await (const line of source.export()) {
  const item = JSON.parse(line) as { event?: { seq: number }; blob?: unknown };
  if (item.event) {
    for (const l of pending) lines.push({ seq: item.event.seq, line: l });
    pending = [];
    lines.push({ seq: item.event.seq, line });
  } else if (item.blob) pending.push(line);
  else header = item as Record<string, unknown>;
}
await source.close();

/** The export of the log's first `n` events, as an export of that log would read. */
function prefix(n: number): string[] {
  const kept = lines.filter((l) => l.seq <= n);
  const last = JSON.parse(kept.at(-1)!.line) as { event: { seq: number; hash: string } };
  const head = { seq: last.event.seq, hash: last.event.hash };
  return [JSON.stringify({ ...header, head }), ...kept.map((l) => l.line)];
}

const runs = new Map<number, { events: number; ms: number[] }>();
for (let r = 0; r < rounds; r++) {
  for (const n of prefixes) {
    const input = prefix(n);
    const started = performance.now();
    const ws = await Workspace.open({ store: new MemoryStore(), tickIntervalMs: 0 });
    const head = await ws.import(input);
    const ms = performance.now() - started;
    await ws.close();
    const run = runs.get(n) ?? { events: head.seq, ms: [] };
    run.ms.push(ms);
    runs.set(n, run);
  }
}
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
const base = runs.get(prefixes[0]!)!;
const basePerEvent = median(base.ms) / base.events;
table(
  ['events', 'import', 'per event', `vs ${fmtInt(base.events)}`],
  prefixes.map((n) => {
    const run = runs.get(n)!;
    const perEvent = median(run.ms) / run.events;
    return [
      fmtInt(run.events),
      `${(median(run.ms) / 1_000).toFixed(1)} s`,
      `${(perEvent * 1_000).toFixed(0)} µs`,
      fmtRatio(perEvent / basePerEvent),
    ];
  }),
);
