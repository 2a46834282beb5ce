/**
 * Baton benchmarks: `pnpm bench`.
 *
 * 1. Append throughput on MemoryStore (1 and 100 events per append), and one append's
 *    time split into its stages, each timed alone with the real functions.
 * 2. Canonicalize + sign against a bare `crypto.subtle.sign` of the same bytes.
 * 3. `actor.can()` (warm) against a bare `await store.head()`.
 * 4. `actor.can()` through a 10-link delegation chain, warm and cold (the first call after a
 *    change to the grants), against the same baseline.
 *
 * Every figure is also given as a ratio to a baseline measured in the same run, and the
 * rows of each table are timed in alternating rounds so that load from other processes
 * falls on all of them alike. Results are printed and written to
 * test/bench/results/latest.json. Then the SQLite (S1–S3), briefing and verify benches run,
 * each in a process of its own (sqlite.ts, briefing.ts, verify.ts, and the adapters' benches
 * beside their packages: the LangGraph checkpointer's checkpointSaver.ts, the OpenAI Agents
 * session's sessionBench.ts, the MCP round trip's roundTrip.ts), so none measures with the
 * heap another left behind.
 */

import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import {
  type AppendBatch,
  type BatonEvent,
  EMPTY_HEAD,
  evaluate,
  eventHash,
  type Head,
  MemoryStore,
  type SignedFields,
  signedFieldsOf,
  signingBytes,
  signingText,
} from '@baton/core';
import {
  ACTION,
  CHAIN_ACTION,
  CHAIN_RESOURCE,
  type ChainChange,
  type ChainFixture,
  commitBatch,
  type Fixture,
  makeChainFixture,
  makeFixture,
  RESOURCE,
  renumber,
} from './fixture.js';
import { cpuName, fmtInt, fmtPct, fmtRatio, fmtUs, gitRevision, table, verdict } from './format.js';
import { pairedRatio, type Timing, type TimingOptions, timeInterleaved } from './timing.js';

const textEncoder = new TextEncoder();

/**
 * The bytes the write path signs: canonical JSON of the signed fields, without re-checking
 * data that admit() (the validate stage) has just checked is plain JSON.
 */
function writePathBytes(fields: Parameters<typeof signingText>[0]): Uint8Array {
  return textEncoder.encode(signingText(fields, false));
}

const GOAL_SIGN_RATIO = 1.2;
const GOAL_CAN_US = 20;
/** Delegated links between the owner's root grant and the holder in bench 4. */
const CHAIN_LINKS = 10;
/**
 * Cold calls each follow an untimed change (a signed commit, ~0.5 ms): fewer calls per round
 * and a short warm-up (counted in timed ms only) keep bench 4 to a few seconds.
 */
const COLD = { warmupMs: 25, maxPerRound: 80 };
const BATCH = 100;
const TIMING: TimingOptions = { warmupMs: 200, roundMs: 120, rounds: 9 };
/** Benches 2 and 3 are cheap per call: more, shorter rounds make their ratios steadier. */
const TIMING_RATIO: TimingOptions = { warmupMs: 200, roundMs: 80, rounds: 15 };
/** The write path is a lot of code: V8 needs a few thousand commands before it runs at speed. */
const WRITE_PATH_WARMUP_MS = 3_000;

const subtle = globalThis.crypto.subtle;
const ED25519 = { name: 'Ed25519' };

// ------------------------------------------------------------------ helpers

/** The signed fields of `e` as a command hands them to `admit`: no `auth` yet, a fresh time. */
function admitInput(e: BatonEvent): SignedFields {
  const f = signedFieldsOf(e);
  delete f.auth;
  f.at = new Date().toISOString();
  return f;
}

/**
 * Appends `batch` again on each call — its events re-numbered and re-chained, its
 * projection writes as they were — to a MemoryStore of its own: the store's share of one
 * append. (Re-numbering costs a spread per event, well under 1 % of an append.)
 */
function storeReplay(batch: AppendBatch): () => Promise<Head> {
  const store = new MemoryStore();
  const { events: templates, projections } = batch;
  let head: Head = EMPTY_HEAD;
  const n = { count: 0 };
  return async () => {
    const events = renumber(templates, head, n);
    head = await store.append({ events, expectedHead: head, projections });
    return head;
  };
}

// ------------------------------------------------------------------ benches

/** Runs the write path on a throwaway workspace until V8 has optimized it. */
async function warmWritePath(ms: number): Promise<number> {
  const fx = await makeFixture();
  const batchNull = commitBatch(fx, fx.zeroSigner, BATCH);
  const batchReal = commitBatch(fx, fx.realSigner, BATCH);
  const end = performance.now() + ms;
  let n = 0;
  while (performance.now() < end) {
    n++;
    if (n % 50 === 0) await batchReal();
    else if (n % 50 === 25) await batchNull();
    else if (n % 2) await fx.agent.authorize(ACTION, RESOURCE);
    else await fx.agentNull.authorize(ACTION, RESOURCE);
  }
  return n;
}

async function appendBench() {
  await warmWritePath(WRITE_PATH_WARMUP_MS);
  // End to end, a fresh workspace per scenario.
  const [f1, f2, f3, f4] = await Promise.all([1, 2, 3, 4].map(() => makeFixture()));
  // The stages, on the events the write path produced in a workspace of their own.
  const fx = await makeFixture();
  await fx.agent.authorize(ACTION, RESOURCE);
  const batch1 = fx.store.last!;
  await commitBatch(fx, fx.realSigner, BATCH)();
  const batch100 = fx.store.last!;
  const sample = batch1.events[0]!;
  const fields = signedFieldsOf(sample);
  const bytes = signingBytes(fields);
  const input = admitInput(sample);
  const now = Date.parse(input.at);

  const [b1Real, b1Null, b100Real, b100Null, canon, sign, hash, admit, store1, store100] =
    await timeInterleaved(
      [
        {
          name: 'authorize() · 1 event · Ed25519',
          fn: () => f1!.agent.authorize(ACTION, RESOURCE),
        },
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
          name: 'canonicalize (signingText as the write path runs it)',
          fn: () => writePathBytes(fields),
        },
        {
          name: 'sign (crypto.subtle.sign Ed25519)',
          fn: () => subtle.sign(ED25519, fx.privateKey, bytes as BufferSource),
        },
        { name: 'hash (eventHash)', fn: () => eventHash(sample) },
        {
          name: 'validate+authorize (_types.admit)',
          fn: () =>
            fx.ws._types.admit({ ...input }, fx.ws._view.begin(), {
              now,
              pickAuth: true,
              pending: new Map(),
            }),
        },
        { name: 'store (MemoryStore.append)', fn: storeReplay(batch1) },
        { name: `store (MemoryStore.append, ${BATCH} events)`, fn: storeReplay(batch100) },
      ],
      TIMING,
    );
  return {
    endToEnd: [
      { t: b1Real!, events: 1 },
      { t: b1Null!, events: 1 },
      { t: b100Real!, events: BATCH },
      { t: b100Null!, events: BATCH },
    ],
    stages: { canon: canon!, sign: sign!, hash: hash!, admit: admit! },
    store1: store1!,
    store100: store100!,
    b1Real: b1Real!,
    b1Null: b1Null!,
    b100Real: b100Real!,
    b100Null: b100Null!,
  };
}

async function signBench(fx: Fixture) {
  const fields = signedFieldsOf(fx.sample);
  const bytes = signingBytes(fields);
  const [bare, canonSign, canonOnly] = await timeInterleaved(
    [
      {
        name: 'bare crypto.subtle.sign (same bytes)',
        fn: () => subtle.sign(ED25519, fx.privateKey, bytes as BufferSource),
      },
      {
        name: 'canonicalize + crypto.subtle.sign',
        fn: () => subtle.sign(ED25519, fx.privateKey, writePathBytes(fields) as BufferSource),
      },
      { name: 'canonicalize alone (write path)', fn: () => writePathBytes(fields) },
      { name: 'signingBytes (with the plain-JSON re-check)', fn: () => signingBytes(fields) },
    ],
    TIMING_RATIO,
  );
  return { bare: bare!, canonSign: canonSign!, canonOnly: canonOnly! };
}

async function canBench(fx: Fixture) {
  const needs = [{ action: ACTION, resource: RESOURCE }];
  const [head, allowed, denied, floor] = await timeInterleaved(
    [
      { name: 'await store.head() (baseline)', fn: () => fx.store.head() },
      {
        name: `can('${ACTION}', '${RESOURCE}') → allowed`,
        fn: () => fx.agent.can(ACTION, RESOURCE),
      },
      {
        name: `can('email.delete', '${RESOURCE}') → denied`,
        fn: () => fx.agent.can('email.delete', RESOURCE),
      },
      {
        name: 'floor: await ws._catchUp() + evaluate()',
        fn: async () => {
          await fx.ws._catchUp();
          return evaluate(fx.ws._view, fx.agentId, needs, new Date(fx.ws._now()).toISOString());
        },
      },
    ],
    TIMING_RATIO,
  );
  if (!(await fx.agent.can(ACTION, RESOURCE)).allowed) throw new Error('can() should allow');
  if ((await fx.agent.can('email.delete', RESOURCE)).allowed) throw new Error('can() should deny');
  return { head: head!, allowed: allowed!, denied: denied!, floor: floor! };
}

async function chainBench(cx: ChainFixture) {
  const can = () => cx.holder.can(CHAIN_ACTION, CHAIN_RESOURCE);
  const cold = (change: ChainChange, what: string) => ({
    name: `can() · ${CHAIN_LINKS}-link chain · cold: first call after ${what}`,
    fn: can,
    prepare: () => cx.change(change),
    ...COLD,
  });
  const d = await can();
  if (!d.allowed || d.chain.map((g) => g.id).join() !== cx.chain.join()) {
    throw new Error(`can() should allow through the ${CHAIN_LINKS}-link chain`);
  }
  const [head, warm, issued, issuedByPeer, used] = await timeInterleaved(
    [
      { name: 'await store.head() (baseline)', fn: () => cx.store.head() },
      {
        name: `can('${CHAIN_ACTION}', '${CHAIN_RESOURCE}') · ${CHAIN_LINKS}-link chain · warm`,
        fn: can,
      },
      cold('issued', 'a grant.issued by this instance'),
      cold('issued-by-peer', 'a grant.issued by another instance (catch-up included)'),
      cold('used', 'a use of the chain (every link’s use count changed)'),
    ],
    TIMING_RATIO,
  );
  const after = await can();
  if (!after.allowed || after.chain.length !== CHAIN_LINKS + 1) {
    throw new Error('can() should still allow through the chain');
  }
  return {
    head: head!,
    warm: warm!,
    issued: issued!,
    issuedByPeer: issuedByPeer!,
    used: used!,
  };
}

// ------------------------------------------------------------------ main

/** The commit measured, with `+dirty` when the work tree has changes. */
async function main(): Promise<void> {
  const started = performance.now();
  const cpu = cpuName();
  const loadBefore = os.loadavg()[0]!;
  const revision = gitRevision();
  console.log(
    `Baton benchmarks — ${revision} · Node ${process.version} · ${process.platform}/${process.arch} · ${cpu} · load ${loadBefore.toFixed(1)}`,
  );
  console.log(
    `Medians of ${TIMING.rounds} (tables 2–4: ${TIMING_RATIO.rounds}) rounds after warm-up; the rows of a table run in alternating rounds, ratios are medians of same-round ratios.`,
  );
  const cores = os.cpus().length;
  if (loadBefore > cores) {
    console.log(
      `Note: the load average (${loadBefore.toFixed(1)}) exceeds the CPU count (${cores}); wall times are inflated — compare ratios and the cpu column.`,
    );
  }
  console.log('');

  const append = await appendBench();
  const fx = await makeFixture();
  const sign = await signBench(fx);
  const can = await canBench(fx);
  const chain = await chainBench(await makeChainFixture(CHAIN_LINKS));

  // ---- 1
  console.log(`1. Append throughput — MemoryStore, grant.exercised events`);
  table(
    ['scenario', 'per append', 'per event', 'events/s', 'cpu/event', '× bare sign'],
    append.endToEnd.map(({ t, events }) => [
      t.name,
      fmtUs(t.ns),
      fmtUs(t.ns / events),
      fmtInt((1e9 * events) / t.ns),
      fmtUs(t.cpuNs / events),
      fmtRatio(pairedRatio(t, append.stages.sign).median / events),
    ]),
  );
  console.log('');

  // Every row but the two "by difference" ones is a measurement; together they add up to
  // the Ed25519 total: the null-signer run is the same write path without the signature.
  const { canon, sign: s, hash, admit } = append.stages;
  const split = (k: number, store: Timing, real: Timing, nul: Timing) => {
    const handOff = real.ns - nul.ns - s.ns * k;
    const measured = (canon.ns + hash.ns + admit.ns) * k + store.ns;
    const rows: [string, number][] = [
      [canon.name, canon.ns * k],
      [s.name, s.ns * k],
      ['sign: extra inside the write path (Ed25519 − null signer − bare sign)', handOff],
      [hash.name, hash.ns * k],
      [admit.name, admit.ns * k],
      ['store (MemoryStore.append)', store.ns],
      ['rest of the write path (null-signer total − the 4 stages above)', nul.ns - measured],
    ];
    return { rows, total: real.ns };
  };
  const s1 = split(1, append.store1, append.b1Real, append.b1Null);
  const s100 = split(BATCH, append.store100, append.b100Real, append.b100Null);
  console.log(
    `   One append by stage (Ed25519 signer). Each stage is timed alone, warm, on the events the write path made; batch ${BATCH} = ${BATCH} × the per-event stages + one ${BATCH}-event store append.`,
  );
  console.log(
    '   Inside the write path the stages run colder than alone, so the two rows found by difference also hold that gap.',
  );
  table(
    ['stage', 'batch 1', 'share', `batch ${BATCH}`, 'share'],
    [
      ...s1.rows.map(([name, v], i) => {
        const w = s100.rows[i]![1];
        return [name, fmtUs(v), fmtPct(v, s1.total), fmtUs(w), fmtPct(w, s100.total)];
      }),
      ['total (Ed25519, end to end, above)', fmtUs(s1.total), '100 %', fmtUs(s100.total), '100 %'],
    ],
  );
  console.log('');

  // ---- 2
  const signStats = pairedRatio(sign.canonSign, sign.bare);
  const signRatio = signStats.median;
  const signCpuRatio = sign.canonSign.cpuNs / sign.bare.cpuNs;
  console.log(`2. Canonicalize + sign vs bare sign — goal ≤ ${GOAL_SIGN_RATIO.toFixed(2)}×`);
  table(
    ['operation', 'per call', 'ratio', 'cpu', 'cpu ratio', 'goal'],
    [
      [sign.bare, 'baseline'],
      [sign.canonSign, verdict(signRatio <= GOAL_SIGN_RATIO)],
      [sign.canonOnly, 'info'],
    ].map(([t, g]) => {
      const tm = t as Timing;
      return [
        tm.name,
        fmtUs(tm.ns),
        fmtRatio(pairedRatio(tm, sign.bare).median),
        fmtUs(tm.cpuNs),
        fmtRatio(tm.cpuNs / sign.bare.cpuNs),
        g as string,
      ];
    }),
  );
  console.log('');

  // ---- 3
  const canUs = can.allowed.ns / 1_000;
  console.log(`3. actor.can() warm — goal ≤ ${GOAL_CAN_US} µs per call`);
  table(
    ['operation', 'per call', 'ratio', 'cpu', 'goal'],
    [
      [can.head, 'baseline'],
      [can.allowed, verdict(canUs <= GOAL_CAN_US)],
      [can.denied, 'info'],
      [can.floor, 'info'],
    ].map(([t, g]) => {
      const tm = t as Timing;
      return [
        tm.name,
        fmtUs(tm.ns),
        fmtRatio(pairedRatio(tm, can.head).median),
        fmtUs(tm.cpuNs),
        g as string,
      ];
    }),
  );
  console.log('');

  // ---- 4
  const chainUs = chain.warm.ns / 1_000;
  console.log(
    `4. can() through a ${CHAIN_LINKS}-link chain (${CHAIN_LINKS} delegated grants + the owner's root, every link checked) — goal ≤ ${GOAL_CAN_US} µs per call, warm`,
  );
  console.log(
    `   Cold rows time only the first can() after each change (the change itself is untimed), ${COLD.maxPerRound} per round.`,
  );
  table(
    ['operation', 'per call', 'ratio', 'cpu', 'goal'],
    [
      [chain.head, 'baseline'],
      [chain.warm, verdict(chainUs <= GOAL_CAN_US)],
      [chain.issued, 'info'],
      [chain.issuedByPeer, 'info'],
      [chain.used, 'info'],
    ].map(([t, g]) => {
      const tm = t as Timing;
      return [
        tm.name,
        fmtUs(tm.ns),
        fmtRatio(pairedRatio(tm, chain.head).median),
        fmtUs(tm.cpuNs),
        g as string,
      ];
    }),
  );
  console.log('');

  const goals = [
    {
      goal: `canonicalize + sign ≤ ${GOAL_SIGN_RATIO}× bare sign`,
      measured: `${signRatio.toFixed(2)}× (quartiles of the same-round ratios ${signStats.q1.toFixed(2)}–${signStats.q3.toFixed(2)}; cpu ${signCpuRatio.toFixed(2)}×)`,
      value: signRatio,
      pass: signRatio <= GOAL_SIGN_RATIO,
    },
    {
      goal: `actor.can() ≤ ${GOAL_CAN_US} µs`,
      measured: `${canUs.toFixed(1)} µs (cpu ${(can.allowed.cpuNs / 1_000).toFixed(1)} µs)`,
      value: canUs,
      pass: canUs <= GOAL_CAN_US,
    },
    {
      goal: `actor.can() through a ${CHAIN_LINKS}-link chain, warm ≤ ${GOAL_CAN_US} µs`,
      measured: `${chainUs.toFixed(1)} µs (cpu ${(chain.warm.cpuNs / 1_000).toFixed(1)} µs; cold after a grant.issued ${(chain.issued.ns / 1_000).toFixed(1)} µs)`,
      value: chainUs,
      pass: chainUs <= GOAL_CAN_US,
    },
  ];
  console.log('Goals');
  for (const g of goals) console.log(`  ${verdict(g.pass)}  ${g.goal}: ${g.measured}`);

  const seconds = (performance.now() - started) / 1_000;
  const loadAfter = os.loadavg()[0]!;
  const dir = new URL('./results/', import.meta.url);
  await mkdir(dir, { recursive: true });
  const file = new URL('latest.json', dir);
  const report = {
    date: new Date().toISOString(),
    revision,
    node: process.version,
    platform: `${process.platform}/${process.arch}`,
    cpu,
    load: { before: loadBefore, after: loadAfter },
    seconds: Number(seconds.toFixed(1)),
    timing: {
      append: TIMING,
      ratios: TIMING_RATIO,
      cold: COLD,
      writePathWarmupMs: WRITE_PATH_WARMUP_MS,
    },
    units: 'ns per call; ns = median wall time, cpuNs = median CPU time (all threads)',
    append: {
      endToEnd: append.endToEnd.map(({ t, events }) => ({
        ...t,
        events,
        eventsPerSecond: (1e9 * events) / t.ns,
        perEventVsBareSign: pairedRatio(t, append.stages.sign).median / events,
      })),
      stages: [canon, s, hash, admit, append.store1, append.store100],
      split: {
        batch1: { ...Object.fromEntries(s1.rows), total: s1.total },
        [`batch${BATCH}`]: { ...Object.fromEntries(s100.rows), total: s100.total },
      },
    },
    sign: { ...sign, ratio: signStats, cpuRatio: signCpuRatio, goal: GOAL_SIGN_RATIO },
    can: { ...can, us: canUs, vsHead: pairedRatio(can.allowed, can.head), goalUs: GOAL_CAN_US },
    chain: {
      links: CHAIN_LINKS,
      ...chain,
      us: chainUs,
      vsHead: pairedRatio(chain.warm, chain.head),
      coldVsWarm: {
        issued: pairedRatio(chain.issued, chain.warm),
        issuedByPeer: pairedRatio(chain.issuedByPeer, chain.warm),
        used: pairedRatio(chain.used, chain.warm),
      },
      goalUs: GOAL_CAN_US,
    },
    goals,
  };
  const round = (_key: string, v: unknown) =>
    typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(6)) : v;
  await writeFile(file, `${JSON.stringify(report, round, 2)}\n`);
  console.log(
    `\nWrote ${file.pathname} in ${seconds.toFixed(1)} s (load ${loadAfter.toFixed(1)}).`,
  );
}

/**
 * Runs a bench module in a process of its own, so it measures with a fresh heap: the
 * fixtures of benches 1–4 stay alive in this process, and the garbage collector's work
 * grows with the live heap.
 */
function inOwnProcess(module: string): void {
  const file = fileURLToPath(new URL(module, import.meta.url));
  const r = spawnSync(process.execPath, [...process.execArgv, file], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${module} exited with ${r.status ?? r.signal}`);
}

await main();
inOwnProcess('./sqlite.ts');
inOwnProcess('./briefing.ts');
inOwnProcess('./verify.ts');
// 7. Artifact storage against git, and a 1 MB text artifact's edit, merge and changesSince (issue 18).
inOwnProcess('./artifacts.ts');
// 8. Growth (issue 18): every public read at 10³–10⁶ events, SQLite and MemoryStore.
inOwnProcess('./growth.ts');
// Beside its package, so it resolves the LangGraph packages that package depends on.
inOwnProcess('../../packages/langgraph/test/bench/checkpointSaver.ts');
inOwnProcess('../../packages/openai-agents/bench/sessionBench.ts');
// 6. MCP tool-call round trip over stdio (issue 16); lives with @baton/mcp, whose SDK it needs.
inOwnProcess('../../packages/mcp/test/bench/roundTrip.ts');
