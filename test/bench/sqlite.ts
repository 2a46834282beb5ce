/**
 * @baton/sqlite benchmarks: part of `pnpm bench`, or alone with
 * `pnpm exec tsx --conditions=source test/bench/sqlite.ts`.
 *
 * S1. Append throughput on SqliteStore (WAL, synchronous NORMAL, BEGIN IMMEDIATE) for 1 and
 *     100 events per append, null signer and Ed25519, against a raw better-sqlite3
 *     transaction (BEGIN IMMEDIATE, same pragmas, same schema) inserting exactly the rows
 *     the store writes for those events: events, refs, projection rows and index keys.
 * S2. Cross-process change latency: one process commits, another process's
 *     `workspace.subscribe` delivers it; p50 and p99.
 * S3. Open time and RSS of a workspace of 10⁶ events against one of 10³, each opened in
 *     fresh processes. The 10⁶ log is built once and kept under test/bench/.fixtures.
 *
 * Results are printed and written to test/bench/results/sqlite.json.
 */

import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  type Actor,
  type AppendBatch,
  type BatonEvent,
  cryptoKeySigner,
  didKeyOf,
  eventHash,
  generateEd25519,
  type Head,
  type JsonValue,
  type Signer,
  Workspace,
} from '@baton/core';
import { SCHEMA_VERSION, SqliteStore, type SqliteStoreOptions } from '@baton/sqlite';
import Database from 'better-sqlite3';
// The fixture signs its checkpoint over a view it builds itself: core's own helper, from source.
import { makeCheckpoint, snapshotKey } from '../../packages/core/src/log/checkpoint.js';
import { spawnTs } from '../helpers/spawnTs.js';
import { ACTION, commitBatch, nullSigner, RESOURCE, renumber } from './fixture.js';
import { fmtInt, fmtMb, fmtRatio, fmtUs, table, verdict } from './format.js';
import {
  pairedRatio,
  quantile,
  type Timing,
  type TimingOptions,
  timeInterleaved,
} from './timing.js';

const GOAL_THROUGHPUT_RATIO = 1 / 3;
const GOAL_LATENCY_P99_MS = 50;
const GOAL_OPEN_RATIO = 1.2;
const BATCH = 100;
const TIMING: TimingOptions = { warmupMs: 200, roundMs: 150, rounds: 9 };
const WRITE_PATH_WARMUP_MS = 2_000;
const LATENCY_SAMPLES = 200;
const OPEN_RUNS = 9;
const BIG = 1_000_000;
const SMALL = 1_000;

const FIXTURES = fileURLToPath(new URL('./.fixtures/', import.meta.url));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ------------------------------------------------------------------ fixtures

/** A SqliteStore that remembers the last batch appended, to replay it in isolation. */
class RecordingSqliteStore extends SqliteStore {
  last: AppendBatch | undefined;

  override async append(batch: AppendBatch): Promise<Head> {
    this.last = batch;
    return super.append(batch);
  }
}

interface SqliteFixture {
  ws: Workspace;
  store: RecordingSqliteStore;
  path: string;
  agentId: string;
  grantId: string;
  agent: Actor;
  agentNull: Actor;
  realSigner: Signer;
  zeroSigner: Signer;
}

/** A workspace on a new SQLite file: an owner, an agent whose key the bench holds, a grant. */
async function makeSqliteFixture(
  dir: string,
  name: string,
  options: Omit<SqliteStoreOptions, 'path' | 'database'> = {},
): Promise<SqliteFixture> {
  const path = join(dir, `${name}.db`);
  const store = new RecordingSqliteStore({ path, ...options });
  const ws = await Workspace.open({ store });
  const owner = await ws.bootstrap({ name: 'Ada' });
  const me = ws.as(owner.id);
  const pair = await generateEd25519();
  const did = await didKeyOf(pair.publicKey);
  const agent = await me.identities.create({ kind: 'agent', name: 'bench', key: did });
  const grant = await me.capabilities.grant({
    to: agent.id,
    resource: 'email:*',
    actions: [ACTION],
  });
  const realSigner = cryptoKeySigner(pair.privateKey, did);
  const zeroSigner = nullSigner(did);
  return {
    ws,
    store,
    path,
    agentId: agent.id,
    grantId: grant.id,
    agent: ws.as(agent.id, { signer: realSigner }),
    agentNull: ws.as(agent.id, { signer: zeroSigner }),
    realSigner,
    zeroSigner,
  };
}

/** Appends `batch` again on each call, re-numbered, to a SqliteStore of its own: the store's share. */
function storeReplay(dir: string, name: string, batch: AppendBatch): () => Promise<Head> {
  const store = new SqliteStore({ path: join(dir, `${name}.db`) });
  const n = { count: 0 };
  let head: Head = { seq: 0, hash: '' };
  return async () => {
    const events = renumber(batch.events, head, n);
    head = await store.append({ events, expectedHead: head, projections: batch.projections });
    return head;
  };
}

/**
 * The raw baseline: one BEGIN IMMEDIATE transaction on a file with the store's schema and
 * pragmas, inserting exactly the rows SqliteStore writes for `batch` — each event's row
 * (its JSON body rendered once, up front) and ref rows, each projection row and its index
 * keys, each blob. No validation, no head check.
 */
function rawReplay(
  dir: string,
  name: string,
  batch: AppendBatch,
  synchronous: 'normal' | 'full' = 'normal',
): () => void {
  const path = join(dir, `${name}.db`);
  // The store's schema, made by the store itself.
  void new SqliteStore({ path, synchronous }).close();
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  const insertEvent = db.prepare(
    'INSERT INTO baton_events (seq, id, stream, type, hash, body) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const insertRef = db.prepare('INSERT OR IGNORE INTO baton_event_refs (ref, seq) VALUES (?, ?)');
  const dropIndex = db.prepare('DELETE FROM baton_row_index WHERE collection = ? AND key = ?');
  const dropRow = db.prepare('DELETE FROM baton_rows WHERE collection = ? AND key = ?');
  const putRow = db.prepare(
    'INSERT OR REPLACE INTO baton_rows (collection, key, value) VALUES (?, ?, ?)',
  );
  const putIndex = db.prepare(
    'INSERT OR IGNORE INTO baton_row_index (collection, name, ikey, key) VALUES (?, ?, ?, ?)',
  );
  const putBlob = db.prepare('INSERT OR IGNORE INTO baton_blobs (hash, bytes) VALUES (?, ?)');
  const events = batch.events.map((e) => ({ ...e, body: JSON.stringify(e) }));
  const projections = (batch.projections ?? []).map((w) => ({
    ...w,
    json: w.value === null ? null : JSON.stringify(w.value),
    keys: Object.entries(w.indexes ?? {}).flatMap(([index, k]) =>
      (Array.isArray(k) ? k : [k]).map((ik) => [index, ik] as const),
    ),
  }));
  let seq = 0;
  const tx = db.transaction(() => {
    for (const e of events) {
      seq++;
      insertEvent.run(seq, `ev_raw_${seq}`, e.stream, e.type, `h_${seq}`, e.body);
      for (const ref of e.refs) insertRef.run(ref, seq);
    }
    for (const w of projections) {
      dropIndex.run(w.collection, w.key);
      if (w.json === null) dropRow.run(w.collection, w.key);
      else {
        putRow.run(w.collection, w.key, w.json);
        for (const [index, ik] of w.keys) putIndex.run(w.collection, index, ik, w.key);
      }
    }
    for (const b of batch.blobs ?? []) putBlob.run(b.hash, b.bytes);
  });
  return () => tx.immediate();
}

// ------------------------------------------------------------------ 4. append throughput

async function appendBench(dir: string) {
  // Warm the write path (and SQLite's caches) on a throwaway workspace.
  const warm = await makeSqliteFixture(dir, 'warm');
  const warmBatch = commitBatch(warm, warm.zeroSigner, BATCH);
  const end = performance.now() + WRITE_PATH_WARMUP_MS;
  for (let n = 0; performance.now() < end; n++) {
    if (n % 25 === 0) await warmBatch();
    else await warm.agentNull.authorize(ACTION, RESOURCE);
  }
  await warm.ws.close();

  const [f1, f2, f3, f4, f5] = await Promise.all(
    ['b1-real', 'b1-null', 'b100-real', 'b100-null'].map((n) => makeSqliteFixture(dir, n)),
  ).then(async (list) => [
    ...list,
    await makeSqliteFixture(dir, 'b1-null-full', { synchronous: 'full' }),
  ]);
  // The batches the store writes, recorded from the write path.
  await f2!.agentNull.authorize(ACTION, RESOURCE);
  const batch1 = f2!.store.last!;
  await commitBatch(f4!, f4!.zeroSigner, BATCH)();
  const batch100 = f4!.store.last!;

  const timings = await timeInterleaved(
    [
      { name: 'authorize() · 1 event · Ed25519', fn: () => f1!.agent.authorize(ACTION, RESOURCE) },
      {
        name: 'authorize() · 1 event · null signer',
        fn: () => f2!.agentNull.authorize(ACTION, RESOURCE),
      },
      {
        name: `_commit() · ${BATCH} events · Ed25519`,
        fn: commitBatch(f3!, f3!.realSigner, BATCH),
      },
      {
        name: `_commit() · ${BATCH} events · null signer`,
        fn: commitBatch(f4!, f4!.zeroSigner, BATCH),
      },
      {
        name: 'authorize() · 1 event · null signer · synchronous full',
        fn: () => f5!.agentNull.authorize(ACTION, RESOURCE),
      },
      { name: 'SqliteStore.append · 1 event', fn: storeReplay(dir, 'store1', batch1) },
      { name: `SqliteStore.append · ${BATCH} events`, fn: storeReplay(dir, 'store100', batch100) },
      { name: 'raw better-sqlite3 · rows of 1 event', fn: rawReplay(dir, 'raw1', batch1) },
      {
        name: `raw better-sqlite3 · rows of ${BATCH} events`,
        fn: rawReplay(dir, 'raw100', batch100),
      },
      {
        name: 'raw better-sqlite3 · rows of 1 event · synchronous full',
        fn: rawReplay(dir, 'raw1full', batch1, 'full'),
      },
    ],
    TIMING,
  );
  for (const f of [f1, f2, f3, f4, f5]) await f!.ws.close();
  const [b1Real, b1Null, b100Real, b100Null, b1NullFull, store1, store100, raw1, raw100, raw1Full] =
    timings as [Timing, Timing, Timing, Timing, Timing, Timing, Timing, Timing, Timing, Timing];
  const rows = {
    batch1: batch1.events.length,
    batch100: batch100.events.length,
    projections1: batch1.projections?.length ?? 0,
    projections100: batch100.projections?.length ?? 0,
  };
  return {
    b1Real,
    b1Null,
    b100Real,
    b100Null,
    b1NullFull,
    store1,
    store100,
    raw1,
    raw100,
    raw1Full,
    rows,
  };
}

// ------------------------------------------------------------------ 5. cross-process latency

async function latencyBench(dir: string) {
  const fx = await makeSqliteFixture(dir, 'latency');
  const watcher = spawnTs('test/bench/sqliteWatcher.ts', [fx.path]);
  try {
    await watcher.waitForLine(/^ready$/, 60_000);
    // Signed for real: the watcher verifies every event it catches up on (a zero signature
    // would stop it with INTEGRITY). Warm both ends before measuring.
    for (let i = 0; i < 20; i++) {
      const { event } = await fx.agent.authorize(ACTION, RESOURCE);
      await watcher.waitForLine((l) => l === `seen ${event.id}`, 10_000);
    }
    const samples: number[] = [];
    for (let i = 0; i < LATENCY_SAMPLES; i++) {
      // Random gaps, so commits do not fall in step with the watcher's poll.
      await sleep(Math.random() * 30);
      const { event } = await fx.agent.authorize(ACTION, RESOURCE);
      const committed = performance.now();
      await watcher.waitForLine((l) => l === `seen ${event.id}`, 10_000);
      samples.push(performance.now() - committed);
    }
    return {
      samples,
      p50: quantile(samples, 0.5),
      p90: quantile(samples, 0.9),
      p99: quantile(samples, 0.99),
      max: Math.max(...samples),
    };
  } finally {
    await watcher.kill();
    await fx.ws.close();
  }
}

// ------------------------------------------------------------------ 6. open time and RSS

interface LogFixture {
  path: string;
  events: number;
  buildSeconds: number;
  builtAt: string;
  cached: boolean;
}

/**
 * A workspace file holding `n` events, built once and kept under test/bench/.fixtures:
 * bootstraps a real workspace, records one `authorize()` append, then appends copies of
 * that event chained onto the log (new id, seq, version, prev and hash) straight to the
 * store in chunks, with the stream-version projection they move. The copies keep the
 * template's signature, so the log does not verify; it ends with a checkpoint at its head,
 * signed by the owner over the view the copies make, kept in kv as `checkpoint()` keeps it —
 * what opening starts from (a process that holds an owner's key makes one every 1,000
 * events), so open replays nothing and its cost is the checkpoint's, not the log's.
 */
async function logFixture(n: number): Promise<LogFixture> {
  mkdirSync(FIXTURES, { recursive: true });
  // v2: carries a checkpoint at its head (open verifies what it replays since issue 12).
  const path = join(FIXTURES, `sqlite-v2-${n}.db`);
  const metaPath = join(FIXTURES, `sqlite-v2-${n}.json`);
  if (existsSync(path) && existsSync(metaPath)) {
    const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as LogFixture & {
      schema: number;
    };
    if (meta.schema === SCHEMA_VERSION && meta.events === n) return { ...meta, path, cached: true };
  }
  const started = performance.now();
  const building = `${path}.building`;
  for (const suffix of ['', '-wal', '-shm']) rmSync(building + suffix, { force: true });
  const dir = mkdtempSync(join(os.tmpdir(), 'baton-fixture-'));
  const fx = await makeSqliteFixture(dir, 'template');
  await fx.agentNull.authorize(ACTION, RESOURCE);
  const template = fx.store.last!.events[0]!;
  const setupLog: BatonEvent[] = [];
  for await (const e of fx.store.read()) setupLog.push(e);
  const rows: { collection: string; key: string; value: JsonValue }[] = [];
  for (const collection of ['meta', 'identities', 'grants', 'streams']) {
    let after: string | undefined;
    do {
      const page = await fx.store.query(collection, '$key', {}, { limit: 500, after });
      for (const r of page.items) rows.push({ collection, ...r });
      after = page.next;
    } while (after);
  }
  // The template's view, moved along by each copy as a replay would: the checkpoint's snapshot.
  const view = fx.ws._view;
  const ownerId = fx.ws.info!.owners[0]!;
  const ownerSigner = (await fx.ws.keyring.signer(ownerId))!;

  const store = new SqliteStore({ path: building });
  let head = await store.append({
    events: setupLog,
    expectedHead: { seq: 0, hash: '' },
    projections: rows,
  });
  let version = template.version;
  const CHUNK = 10_000;
  while (head.seq < n) {
    const events: BatonEvent[] = [];
    let prev = head;
    for (let i = 0; i < CHUNK && prev.seq < n; i++) {
      version++;
      const body = {
        ...template,
        id: `ev_fixture_${prev.seq + 1}`,
        seq: prev.seq + 1,
        version,
        prev: prev.hash,
      };
      const { hash: _template, ...unhashed } = body;
      const e: BatonEvent = { ...unhashed, hash: eventHash(unhashed) };
      const tx = view.begin();
      fx.ws._types.apply(e, tx);
      tx.commit();
      events.push(e);
      prev = { seq: e.seq, hash: e.hash };
    }
    head = await store.append({
      events,
      expectedHead: head,
      projections: [{ collection: 'streams', key: template.stream, value: { version } }],
    });
    if (head.seq % 100_000 === 0) console.log(`   … ${fmtInt(head.seq)} events`);
  }
  const at = new Date().toISOString();
  const { checkpoint, snapshot } = await makeCheckpoint(view, head, ownerId, ownerSigner, at);
  await store.kv.put(snapshotKey(head.seq), snapshot);
  await store.kv.put('baton/checkpoints/latest', { ...checkpoint });
  await fx.ws.close();
  rmSync(dir, { recursive: true, force: true });
  await store.close();
  renameSync(building, path);
  const meta = {
    events: n,
    buildSeconds: (performance.now() - started) / 1_000,
    builtAt: new Date().toISOString(),
    schema: SCHEMA_VERSION,
    fixture: 2,
  };
  await writeFile(metaPath, `${JSON.stringify(meta, null, 2)}\n`);
  return { ...meta, path, cached: false };
}

interface OpenSample {
  /** The process's first open; then the median of ten more opens in the same process. */
  firstMs: number;
  ms: number;
  rssBefore: number;
  rssAfter: number;
  seq: number;
}

async function openOnce(path: string): Promise<OpenSample> {
  const p = spawnTs('test/bench/sqliteOpen.ts', [path]);
  const line = await p.waitForLine(/^\{/, 60_000);
  await p.exited;
  return JSON.parse(line) as OpenSample;
}

async function openBench() {
  const small = await logFixture(SMALL);
  const big = await logFixture(BIG);
  const runs: { small: OpenSample[]; big: OpenSample[] } = { small: [], big: [] };
  // Alternate, and swap which goes first, so drift in the machine falls on both alike; the
  // first pair only warms the OS cache.
  for (let i = 0; i <= OPEN_RUNS; i++) {
    let s: OpenSample;
    let b: OpenSample;
    if (i % 2 === 0) {
      s = await openOnce(small.path);
      b = await openOnce(big.path);
    } else {
      b = await openOnce(big.path);
      s = await openOnce(small.path);
    }
    if (i === 0) continue;
    runs.small.push(s);
    runs.big.push(b);
  }
  const med = (xs: OpenSample[], f: (s: OpenSample) => number) => quantile(xs.map(f), 0.5);
  const summary = (xs: OpenSample[]) => ({
    firstMs: med(xs, (s) => s.firstMs),
    ms: med(xs, (s) => s.ms),
    rss: med(xs, (s) => s.rssAfter),
    rssGrowth: med(xs, (s) => s.rssAfter - s.rssBefore),
    seq: xs[0]!.seq,
  });
  return { small, big, smallRuns: summary(runs.small), bigRuns: summary(runs.big), runs };
}

// ------------------------------------------------------------------ main

/** Prints table S1 and returns the two goal ratios. */
function printAppend(a: Awaited<ReturnType<typeof appendBench>>) {
  const throughput1 = pairedRatio(a.raw1, a.b1Null).median;
  const throughput100 = pairedRatio(a.raw100, a.b100Null).median;
  console.log(
    `S1. Append throughput on SqliteStore vs raw better-sqlite3 rows (same file schema, same BEGIN IMMEDIATE) — goal: Baton (null signer) ≥ ${GOAL_THROUGHPUT_RATIO.toFixed(2)}× raw events/s`,
  );
  console.log(
    `   Rows per append: batch 1 = ${a.rows.batch1} event + its refs + ${a.rows.projections1} projection writes; batch ${BATCH} = ${a.rows.batch100} events + refs + ${a.rows.projections100} projection writes.`,
  );
  const row = (t: Timing, events: number, base: Timing) => [
    t.name,
    fmtUs(t.ns),
    fmtUs(t.ns / events),
    fmtInt((1e9 * events) / t.ns),
    fmtUs(t.cpuNs / events),
    fmtRatio(pairedRatio(base, t).median),
  ];
  table(
    ['scenario', 'per append', 'per event', 'events/s', 'cpu/event', 'events/s vs raw'],
    [
      row(a.raw1, 1, a.raw1),
      row(a.b1Null, 1, a.raw1),
      row(a.b1Real, 1, a.raw1),
      row(a.store1, 1, a.raw1),
      row(a.raw100, BATCH, a.raw100),
      row(a.b100Null, BATCH, a.raw100),
      row(a.b100Real, BATCH, a.raw100),
      row(a.store100, BATCH, a.raw100),
      row(a.raw1Full, 1, a.raw1Full),
      row(a.b1NullFull, 1, a.raw1Full),
    ],
  );
  return { throughput1, throughput100 };
}

/** Runs the SQLite benchmarks, prints tables S1–S3 and writes results/sqlite.json. */
export async function sqliteBench(): Promise<void> {
  const started = performance.now();
  const dir = mkdtempSync(join(os.tmpdir(), 'baton-bench-sqlite-'));
  try {
    console.log('');
    console.log(
      `SQLite (better-sqlite3, WAL, synchronous NORMAL unless marked) — files in ${os.tmpdir()}; medians of ${TIMING.rounds} alternating rounds`,
    );
    console.log('');
    const a = await appendBench(dir);
    const { throughput1, throughput100 } = printAppend(a);

    const lat = await latencyBench(dir);
    console.log(
      `S2. Cross-process change latency — commit in one process → subscribe() delivers it in another (${LATENCY_SAMPLES} commits) — goal p99 ≤ ${GOAL_LATENCY_P99_MS} ms`,
    );
    table(
      ['p50', 'p90', 'p99', 'max'],
      [[lat.p50, lat.p90, lat.p99, lat.max].map((v) => `${v.toFixed(1)} ms`)],
    );
    console.log('');

    const open = await openBench();
    const firstRatio = open.bigRuns.firstMs / open.smallRuns.firstMs;
    const openRatio = open.bigRuns.ms / open.smallRuns.ms;
    const rssRatio = open.bigRuns.rss / open.smallRuns.rss;
    console.log(
      `S3. Workspace.open on SQLite: 10⁶ events vs 10³ — ${OPEN_RUNS} fresh processes each, alternating; medians — goal ≤ ${GOAL_OPEN_RATIO}×`,
    );
    console.log(
      '   "first open": the process\'s first Workspace.open + head() (native addon already loaded); "re-open": the median of 10 more in that process.',
    );
    for (const f of [open.small, open.big]) {
      console.log(
        `   ${fmtInt(f.events)}-event fixture: ${f.cached ? 'cached, ' : ''}built in ${f.buildSeconds.toFixed(1)} s (${f.builtAt})`,
      );
    }
    table(
      ['log', 'first open', 're-open', 'RSS after open', 'RSS growth during open'],
      [
        ...[open.smallRuns, open.bigRuns].map((r) => [
          `${fmtInt(r.seq)} events`,
          `${r.firstMs.toFixed(1)} ms`,
          `${r.ms.toFixed(2)} ms`,
          fmtMb(r.rss),
          fmtMb(r.rssGrowth),
        ]),
        ['ratio', fmtRatio(firstRatio), fmtRatio(openRatio), fmtRatio(rssRatio), ''],
      ],
    );
    console.log('');

    const goals = [
      {
        goal: `append batch 1, null signer ≥ ${GOAL_THROUGHPUT_RATIO.toFixed(2)}× raw events/s`,
        measured: `${throughput1.toFixed(2)}×`,
        pass: throughput1 >= GOAL_THROUGHPUT_RATIO,
      },
      {
        goal: `append batch ${BATCH}, null signer ≥ ${GOAL_THROUGHPUT_RATIO.toFixed(2)}× raw events/s`,
        measured: `${throughput100.toFixed(2)}×`,
        pass: throughput100 >= GOAL_THROUGHPUT_RATIO,
      },
      {
        goal: `cross-process latency p99 ≤ ${GOAL_LATENCY_P99_MS} ms`,
        measured: `${lat.p99.toFixed(1)} ms (p50 ${lat.p50.toFixed(1)} ms)`,
        pass: lat.p99 <= GOAL_LATENCY_P99_MS,
      },
      {
        goal: `open time 10⁶ vs 10³ ≤ ${GOAL_OPEN_RATIO}×`,
        measured: `first open ${firstRatio.toFixed(2)}×, re-open ${openRatio.toFixed(2)}×`,
        pass: Math.max(firstRatio, openRatio) <= GOAL_OPEN_RATIO,
      },
      {
        goal: `RSS 10⁶ vs 10³ ≤ ${GOAL_OPEN_RATIO}×`,
        measured: `${rssRatio.toFixed(2)}×`,
        pass: rssRatio <= GOAL_OPEN_RATIO,
      },
    ];
    console.log('Goals (SQLite)');
    for (const g of goals) console.log(`  ${verdict(g.pass)}  ${g.goal}: ${g.measured}`);

    const seconds = (performance.now() - started) / 1_000;
    const file = new URL('./results/sqlite.json', import.meta.url);
    const report = {
      date: new Date().toISOString(),
      node: process.version,
      cpu: `${os.cpus()[0]?.model.trim() ?? 'unknown CPU'} ×${os.cpus().length}`,
      load: os.loadavg()[0],
      seconds: Number(seconds.toFixed(1)),
      timing: TIMING,
      units: 'ns per call; ns = median wall time, cpuNs = median CPU time (all threads)',
      append: { ...a, ratios: { batch1: throughput1, [`batch${BATCH}`]: throughput100 } },
      latencyMs: { ...lat, samples: undefined },
      open: { ...open, ratio: { firstMs: firstRatio, ms: openRatio, rss: rssRatio } },
      goals,
    };
    const round = (_key: string, v: unknown) =>
      typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(6)) : v;
    await writeFile(file, `${JSON.stringify(report, round, 2)}\n`);
    console.log(`\nWrote ${file.pathname} in ${seconds.toFixed(1)} s.`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv[2] === 'append') {
    // S1 alone: `pnpm exec tsx --conditions=source test/bench/sqlite.ts append`
    const dir = mkdtempSync(join(os.tmpdir(), 'baton-bench-sqlite-'));
    try {
      printAppend(await appendBench(dir));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } else if (process.argv[2] === 'open') {
    // S3 alone: `pnpm exec tsx --conditions=source test/bench/sqlite.ts open`
    const o = await openBench();
    const ratio = o.bigRuns.ms / o.smallRuns.ms;
    const first = o.bigRuns.firstMs / o.smallRuns.firstMs;
    const rss = o.bigRuns.rss / o.smallRuns.rss;
    console.log(
      `S3. open 10⁶ vs 10³ events: first open ${o.bigRuns.firstMs.toFixed(1)} vs ${o.smallRuns.firstMs.toFixed(1)} ms = ${first.toFixed(2)}×, re-open ${o.bigRuns.ms.toFixed(1)} vs ${o.smallRuns.ms.toFixed(1)} ms = ${ratio.toFixed(2)}×, RSS ${rss.toFixed(2)}× — goal ≤ ${GOAL_OPEN_RATIO}×`,
    );
  } else await sqliteBench();
}
