/**
 * The growth benchmark (issue 18): does each public read cost what its result costs, or
 * what the history costs? Part of `pnpm bench`, or alone:
 *
 *   pnpm exec tsx --conditions=source test/bench/growth.ts [--sizes 1e3,1e5] [--quick]
 *     [--all] [--memory-huge] [--rebuild-projections] [--sqlite-only]
 *
 * Sizes default to 10³, 10⁵ and 10⁶ events (`--quick`: 10³ and 10⁴). Each size is a realistic
 * SQLite log built through the public API (test/bench/growthFixture.ts) around a fixed target
 * set, so every read returns the same result at every size; the logs are cached under
 * test/bench/.cache/ and built (in a process of their own, resumably) only when missing. Each
 * below 10⁶ is also loaded into a MemoryStore (`export` → `import`, not timed as a read; at
 * 10⁶ with `--memory-huge`, as that import takes minutes).
 *
 * Every read runs at every size on both stores in alternating rounds (test/bench/timing.ts);
 * its growth is the median of same-round ratios to its time at the smallest size, goal ≤ 1.2×.
 * At 10⁶ only the reads the issue names there run: `head()`, the briefing and the inbox (the
 * others take seconds a call there today). `Workspace.open` is timed in fresh processes
 * (alternating sizes), with the RSS it adds. Figures go to test/bench/results/growth.json.
 *
 * What each read returns is kept beside its fixture on the first run and checked on later
 * ones: after a change that adds projection rows, a log built by older code lacks them and
 * the reads would answer from nothing; `--rebuild-projections` rebuilds them in the cached
 * files first (`--all`: every read at 10⁶ too).
 */

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { getHeapStatistics } from 'node:v8';
import { MemoryStore, Workspace } from '@baton/core';
import { SqliteStore } from '@baton/sqlite';
import {
  cpuName,
  fmtInt,
  fmtMb,
  fmtRatio,
  fmtUs,
  gitRevision,
  table,
  writeResults,
} from './format.js';
import { cachedFixture, fixtureFiles, type GrowthFixture } from './growthFixture.js';
import { describe, READS, type Subject, subject } from './growthReads.js';
import { pairedRatio, quantile, type Timing, timeInterleaved } from './timing.js';

/** Growth allowed from the smallest size to each larger one (issue 18's goal). */
const GOAL_RATIO = 1.2;
/** Sizes at or above this run only the reads marked `atHuge`. */
const HUGE = 1_000_000;
/** A MemoryStore of 10⁶ events and its import need more than Node's default heap. */
const HEAP_MB = 12_288;

// ------------------------------------------------------------------ arguments

interface Args {
  sizes: number[];
  quick: boolean;
  /** Every read at every size, 10⁶ included (`--all`). */
  all: boolean;
  /** The MemoryStore at 10⁶ too (`--memory-huge`): its import alone takes minutes. */
  memoryHuge: boolean;
  /** `rebuildProjections()` on each SQLite fixture first (`--rebuild-projections`). */
  rebuild: boolean;
  /** SQLite only, no MemoryStore copies (`--sqlite-only`). */
  sqliteOnly: boolean;
}

function parseArgs(argv: string[]): Args {
  const quick = argv.includes('--quick');
  const all = argv.includes('--all');
  const memoryHuge = argv.includes('--memory-huge');
  const rebuild = argv.includes('--rebuild-projections');
  const sqliteOnly = argv.includes('--sqlite-only');
  const at = argv.indexOf('--sizes');
  let sizes = quick ? [1_000, 10_000] : [1_000, 100_000, 1_000_000];
  if (at >= 0) {
    const list = argv[at + 1];
    const parsed = (list ?? '').split(',').map(Number);
    if (!list || parsed.some((n) => !Number.isInteger(n) || n < 1_000 || n > 10_000_000))
      throw new Error(
        `--sizes takes a comma-separated list of event counts from 1e3 to 1e7 (e.g. --sizes 1e3,1e5); got ${JSON.stringify(list)}.`,
      );
    sizes = [...new Set(parsed)].sort((a, b) => a - b);
  }
  if (sizes.length < 2) throw new Error('--sizes needs at least two sizes to compare.');
  return { sizes, quick, all, memoryHuge, rebuild, sqliteOnly };
}

const SUPERSCRIPT = '⁰¹²³⁴⁵⁶⁷⁸⁹';
/** 100000 → "10⁵"; other numbers as they are. */
function label(n: number): string {
  const e = Math.log10(n);
  if (Number.isInteger(e)) return `10${[...String(e)].map((d) => SUPERSCRIPT[Number(d)]).join('')}`;
  return fmtInt(n);
}

// ------------------------------------------------------------------ fixtures

function inProcess(module: string, args: string[]) {
  const file = fileURLToPath(new URL(module, import.meta.url));
  return spawnSync(process.execPath, [...process.execArgv, file, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 24,
  });
}

/** The cached fixture of `size`, built (in a process of its own) when missing. */
function fixture(size: number): GrowthFixture {
  const cached = cachedFixture(size);
  if (cached) return cached;
  console.log(`  building the ${label(size)} fixture (cached for later runs)…`);
  const file = fileURLToPath(new URL('./growthFixture.ts', import.meta.url));
  const r = spawnSync(process.execPath, [...process.execArgv, file, String(size)], {
    stdio: 'inherit',
  });
  const built = cachedFixture(size);
  if (r.status !== 0 || !built)
    throw new Error(`building the ${size}-event fixture failed (${r.status ?? r.signal})`);
  return { ...built, built: true };
}

/** A MemoryStore workspace holding the fixture's log: `export` from SQLite, `import` here. */
async function memoryCopy(from: Workspace): Promise<{ ws: Workspace; ms: number }> {
  const started = performance.now();
  const ws = await Workspace.open({ store: new MemoryStore(), tickIntervalMs: 0 });
  await ws.import(from.export());
  return { ws, ms: performance.now() - started };
}

/** `Workspace.open` of each fixture in fresh processes, sizes alternating round by round. */
function openBench(fixtures: GrowthFixture[], runs: number) {
  type Sample = { ms: number; rss: number; added: number };
  const samples = new Map<number, Sample[]>(fixtures.map((f) => [f.size, []]));
  for (let r = 0; r < runs; r++) {
    for (const f of fixtures) {
      const out = inProcess('./growthOpen.ts', [f.path]);
      if (out.status !== 0) throw new Error(`growthOpen.ts ${f.path} exited with ${out.status}`);
      const o = JSON.parse(out.stdout.trim().split('\n').pop()!) as {
        ms: number;
        rssBefore: number;
        rssAfter: number;
      };
      samples.get(f.size)!.push({ ms: o.ms, rss: o.rssAfter, added: o.rssAfter - o.rssBefore });
    }
  }
  const median = (s: Sample[], k: keyof Sample) =>
    quantile(
      s.map((x) => x[k]),
      0.5,
    );
  const base = samples.get(fixtures[0]!.size)!;
  return fixtures.map((f) => {
    const s = samples.get(f.size)!;
    return {
      size: f.size,
      ms: median(s, 'ms'),
      /** RSS after the open. */
      rss: median(s, 'rss'),
      /** RSS the open added. */
      added: median(s, 'added'),
      ratio: quantile(
        s.map((x, i) => x.ms / base[i]!.ms),
        0.5,
      ),
      rssRatio: median(s, 'rss') / median(base, 'rss'),
      samples: s,
    };
  });
}

/**
 * Compares what each read returned with what it returned the first time the bench ran on
 * the fixture (kept beside it; the first run keeps its own). A read whose result changed
 * reads rows the fixture lacks: timing it would compare nothing with something.
 */
function checkResults(fixtures: GrowthFixture[], seen: Map<number, Record<string, string>>) {
  const out: string[] = [];
  for (const f of fixtures) {
    const file = fixtureFiles(f.size).expected;
    const now = seen.get(f.size) ?? {};
    if (!existsSync(file)) {
      writeFileSync(file, `${JSON.stringify(now, null, 2)}\n`);
      continue;
    }
    const before = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
    for (const [read, what] of Object.entries(now))
      if (before[read] !== undefined && before[read] !== what)
        out.push(`${label(f.size)} · ${read}: ${what} (first run: ${before[read]})`);
  }
  return out;
}

// ------------------------------------------------------------------ main

async function main(): Promise<void> {
  const { sizes, quick, all, memoryHuge, rebuild, sqliteOnly } = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const cpu = cpuName();
  const loadBefore = os.loadavg()[0]!;
  const revision = gitRevision();
  console.log(
    `\nGrowth (issue 18) — ${revision} · Node ${process.version} · ${cpu} · load ${loadBefore.toFixed(1)}`,
  );
  console.log(
    `Every public read at ${sizes.map(label).join(', ')} events on SQLite and MemoryStore, the same target set read at each size; goal ≤ ${GOAL_RATIO}× the time at ${label(sizes[0]!)}.`,
  );

  // Fixtures, and the MemoryStore copies.
  const fixtures = sizes.map(fixture);
  const subjects: Subject[] = [];
  const loads: {
    size: number;
    events: number;
    buildMs: number;
    built: boolean;
    memoryMs: number | null;
  }[] = [];
  for (const f of fixtures) {
    const ws = await Workspace.open({
      store: new SqliteStore({ path: f.path }),
      tickIntervalMs: 0,
    });
    if (rebuild) {
      const t0 = performance.now();
      await ws.rebuildProjections();
      console.log(
        `  fixture ${label(f.size)}: projections rebuilt in ${((performance.now() - t0) / 1_000).toFixed(1)} s`,
      );
    }
    subjects.push(subject('SQLite', f.size, ws, f.targets));
    const mem = !sqliteOnly && (f.size < HUGE || memoryHuge) ? await memoryCopy(ws) : undefined;
    if (mem) subjects.push(subject('MemoryStore', f.size, mem.ws, f.targets));
    loads.push({
      size: f.size,
      events: f.targets.events,
      buildMs: f.buildMs,
      built: f.built,
      memoryMs: mem?.ms ?? null,
    });
    console.log(
      `  fixture ${label(f.size).padEnd(4)} ${fmtInt(f.targets.events).padStart(9)} events · built in ${(f.buildMs / 1_000).toFixed(1)} s (${((f.buildMs / f.targets.events) * 100).toFixed(0)} s per 10⁵${f.built ? ', this run' : ', cached'}) · ${mem ? `MemoryStore import ${(mem.ms / 1_000).toFixed(1)} s` : sqliteOnly ? 'no MemoryStore copy (--sqlite-only)' : 'no MemoryStore copy (--memory-huge makes one)'}`,
    );
  }

  // The reads: per read, every (store, size) in alternating rounds.
  const seen = new Map<number, Record<string, string>>();
  const timing = quick
    ? { warmupMs: 20, roundMs: 40, rounds: 3 }
    : { warmupMs: 40, roundMs: 80, rounds: 7 };
  const results: {
    read: string;
    store: Subject['store'];
    result: Record<number, string>;
    timings: Record<number, Timing>;
    ratios: Record<number, number>;
    pass: boolean;
  }[] = [];
  for (const [i, read] of READS.entries()) {
    // Slow reads take minutes on a large log: say which one runs, on a terminal.
    if (process.stderr.isTTY)
      process.stderr.write(`\r  timing ${i + 1}/${READS.length}: ${read.name}\x1b[K`);
    const runs = subjects.filter((s) => s.size < HUGE || read.atHuge || all);
    // What each returned: kept from its calls (a slow read is not run once more to see it).
    const shown = new Map<Subject, string>();
    const timings = await timeInterleaved(
      runs.map((s) => ({
        name: `${read.name} · ${s.store} · ${label(s.size)}`,
        fn: async () => {
          const r = await read.run(s);
          if (!shown.has(s)) shown.set(s, describe(r));
          return r;
        },
      })),
      timing,
    );
    for (const s of runs)
      (seen.get(s.size) ?? seen.set(s.size, {}).get(s.size)!)[`${s.store} · ${read.name}`] =
        shown.get(s)!;
    for (const store of ['SQLite', 'MemoryStore'] as const) {
      const mine = runs.flatMap((s, i) => (s.store === store ? [{ s, t: timings[i]! }] : []));
      if (mine.length < 2) continue;
      const base = mine[0]!.t;
      const ratios = Object.fromEntries(
        mine.slice(1).map(({ s, t }) => [s.size, pairedRatio(t, base).median]),
      );
      results.push({
        read: read.name,
        store,
        result: Object.fromEntries(mine.map(({ s }) => [s.size, shown.get(s)!])),
        timings: Object.fromEntries(mine.map(({ s, t }) => [s.size, t])),
        ratios,
        pass: Object.values(ratios).every((r) => r <= GOAL_RATIO),
      });
    }
  }

  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  // Open, in fresh processes.
  const open = openBench(fixtures, quick ? 3 : 5);

  const larger = sizes.slice(1);
  const small = label(sizes[0]!);
  for (const store of ['SQLite', 'MemoryStore'] as const) {
    if (!results.some((r) => r.store === store)) continue;
    console.log(`\n  ${store}`);
    const rows = results
      .filter((r) => r.store === store)
      .map((r) => {
        const results = [...new Set(Object.values(r.result))];
        return [
          r.read,
          results.length === 1 ? results[0]! : `${results.join(' / ')} (differs!)`,
          ...sizes.map((n) => (r.timings[n] ? fmtUs(r.timings[n]!.ns) : '–')),
          ...larger.map((n) => (r.ratios[n] !== undefined ? fmtRatio(r.ratios[n]!) : '–')),
          r.pass ? 'PASS' : 'FAIL',
        ];
      });
    if (store === 'SQLite') {
      const row = (name: string, cells: string[], ratios: number[], goal: boolean) =>
        rows.push([
          name,
          name.startsWith('Workspace') ? 'head' : '',
          ...cells,
          ...ratios.map(fmtRatio),
          goal ? (ratios.every((r) => r <= GOAL_RATIO) ? 'PASS' : 'FAIL') : 'info',
        ]);
      const later = open.slice(1);
      row(
        'Workspace.open (fresh process)',
        open.map((o) => fmtUs(o.ms * 1e6)),
        later.map((o) => o.ratio),
        true,
      );
      row(
        'RSS after the open',
        open.map((o) => fmtMb(o.rss)),
        later.map((o) => o.rssRatio),
        true,
      );
      row(
        '  of which the open added',
        open.map((o) => fmtMb(o.added)),
        later.map((o) => o.added / open[0]!.added),
        false,
      );
    }
    table(
      [
        'read',
        'result',
        ...sizes.map(label),
        ...larger.map((n) => `${label(n)}/${small}`),
        `goal ≤ ${GOAL_RATIO}×`,
      ],
      rows,
    );
  }
  const mismatches = checkResults(fixtures, seen);
  if (mismatches.length) {
    console.log(
      `\n  Results differ from the first run on these fixtures — rows the code reads may be missing from a log built by older code; run again with --rebuild-projections (or delete test/bench/.cache/ to build anew):`,
    );
    for (const m of mismatches) console.log(`    ${m}`);
  }
  const failed = results.filter((r) => !r.pass);
  console.log(
    `\n  ${results.length - failed.length} of ${results.length} (read, store) pairs within ${GOAL_RATIO}×; open ${open.slice(1).every((o) => o.ratio <= GOAL_RATIO) ? 'within' : 'over'}. Ratios are medians of same-round ratios${all ? '' : `; at ${label(HUGE)} only head, inbox and briefing run (--all runs every read)`}.`,
  );

  const seconds = (performance.now() - started) / 1_000;
  const report = {
    machine: { revision, node: process.version, cpu, date: new Date().toISOString() },
    load: { before: loadBefore, after: os.loadavg()[0]! },
    seconds: Number(seconds.toFixed(1)),
    sizes,
    goalRatio: GOAL_RATIO,
    timing,
    units:
      'ns per call (median wall time); ratios: median of same-round ratios to the smallest size',
    fixtures: loads,
    mismatches,
    reads: results.map((r) => ({
      read: r.read,
      store: r.store,
      result: r.result,
      ns: Object.fromEntries(Object.entries(r.timings).map(([n, t]) => [n, t.ns])),
      cpuNs: Object.fromEntries(Object.entries(r.timings).map(([n, t]) => [n, t.cpuNs])),
      ratios: r.ratios,
      pass: r.pass,
    })),
    open: open.map((o) => ({ ...o, samples: undefined })),
  };
  const path = await writeResults('growth.json', report);
  console.log(`\nWrote ${path} in ${seconds.toFixed(1)} s.`);
  for (const s of subjects) await s.ws.close();
}

// A MemoryStore of 10⁶ events (--memory-huge) needs a larger heap than Node gives by default:
// run again with one.
const args = parseArgs(process.argv.slice(2));
if (
  args.memoryHuge &&
  args.sizes.at(-1)! >= HUGE &&
  getHeapStatistics().heap_size_limit < HEAP_MB * 2 ** 20 * 0.9
) {
  const r = spawnSync(
    process.execPath,
    [`--max-old-space-size=${HEAP_MB}`, ...process.execArgv, ...process.argv.slice(1)],
    { stdio: 'inherit' },
  );
  process.exitCode = r.status ?? 1;
} else await main();
