/**
 * Benchmark 6: verify() throughput on a realistic log against the machine's ceiling (issue
 * 18: ≥ 0.9× bare Ed25519 verification of the same events' signing bytes with Node's
 * `crypto.verify` on N worker threads, N = available parallelism, measured in the same run in
 * alternating rounds), and its peak RSS at each size (goal: flat); verify({ from }) from a
 * checkpoint near the head (goal: time proportional to the events after it). Issue 12: a
 * catch-up of 1 000 foreign events — which verifies each event before applying it — against
 * verify({ from }) of the same 1 000 events (goal ≤ 1.2×).
 *
 * The realistic logs (artifacts created, tagged and edited, context entries of several types,
 * handoffs offered and accepted, grants issued and exercised, by four identities) are SQLite
 * files built once through the public API and kept under test/bench/.fixtures.
 *
 * Alone: `pnpm exec tsx --conditions=source test/bench/verify.ts` (add `catchup` for the
 * issue-12 figure only, `ceiling` for the realistic logs only; `VERIFY_SIZES=10000,100000,1000000` for other sizes, `VERIFY_UNIFORM=20000` for the size
 * of the grant.exercised log, `VERIFY_ROUNDS=3` for fewer rounds).
 */
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  type BatonEvent,
  type JsonValue,
  MemoryStore,
  rawFromDidKey,
  type Store,
  signingText,
  Workspace,
} from '@baton/core';
import { SqliteStore } from '@baton/sqlite';
import { verdict } from './format.js';

async function signedLog(events: number) {
  const store = new MemoryStore();
  const ws = await Workspace.open({ store: store.peer(), tickIntervalMs: 0 });
  const ada = await ws.bootstrap({ name: 'Ada' });
  const me = ws.as(ada.id);
  const drafter = await me.identities.create({ kind: 'agent', name: 'drafter' });
  const grant = await me.capabilities.grant({
    to: drafter.id,
    resource: 'email:*',
    actions: ['email.send'],
  });
  const started = performance.now();
  let n = 0;
  while ((await ws.store.head()).seq < events) {
    const drafts: { type: string; data: JsonValue; refs: string[] }[] = [];
    for (let i = 0; i < 100; i++, n++) {
      drafts.push({
        type: 'grant.exercised',
        data: { grant: grant.id, action: 'email.send', resource: `email:${n}` },
        refs: [],
      });
    }
    await ws._commit({ actor: drafter.id, plan: () => ({ drafts }) });
  }
  return { ws, store, buildMs: performance.now() - started };
}

async function median(runs: number, fn: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}

/**
 * Followers opened on a shared store, then 1 000 events of a realistic mix committed by
 * another instance (notes, artifact edits, authorizations, identities, grants, handoffs);
 * each follower's catch-up (its next `head()`) timed, against `verify({ from })` of the
 * same 1 000 events from a checkpoint taken just before them.
 */
export async function catchUpBench(
  runs = 7,
): Promise<{ catchUpMs: number; verifyMs: number; ratio: number }> {
  const FOREIGN = 1_000;
  const store = new MemoryStore();
  const writer = await Workspace.open({ store, tickIntervalMs: 0 });
  const ada = await writer.bootstrap({ name: 'Ada' });
  const me = writer.as(ada.id);
  const drafter = await me.identities.create({ kind: 'agent', name: 'drafter' });
  const agent = writer.as(drafter.id);
  await me.capabilities.grant({
    to: drafter.id,
    resource: 'artifact:*',
    actions: ['read', 'create', 'write', 'comment', 'handoff'],
  });
  await me.capabilities.grant({ to: drafter.id, resource: 'workspace', actions: ['comment'] });
  await me.capabilities.grant({
    to: drafter.id,
    resource: 'email:*',
    actions: ['email.send'],
  });
  const doc = await agent.artifacts.create({ kind: 'text', title: 'Post', content: 'v0\n' });
  const followers: Workspace[] = [];
  for (let i = 0; i < runs; i++) {
    const f = await Workspace.open({ store: store.peer(), tickIntervalMs: 0 });
    await f.head();
    followers.push(f);
  }
  const cp = await writer.checkpoint();
  let version = 1;
  for (let n = 0; (await store.head()).seq < cp.seq + FOREIGN; n++) {
    switch (n % 8) {
      case 0:
      case 1:
        await agent.context.record({ type: 'note', about: [doc.id], text: `note ${n}` });
        break;
      case 2:
      case 3:
        version = (
          await agent.artifacts.edit(doc.id, {
            content: `v${n}\nline\n`,
            baseVersion: version,
            reason: `edit ${n}`,
          })
        ).version;
        break;
      case 4:
        await agent.authorize('email.send', `email:${n}`, { summary: `mail ${n}` });
        break;
      case 5:
        await me.identities.create({ kind: 'agent', name: `a${n}` });
        break;
      case 6:
        await me.capabilities.grant({ to: drafter.id, resource: `doc:${n}`, actions: ['read'] });
        break;
      default:
        await me.context.record({ type: 'decision', text: `decided ${n}` });
    }
  }
  const head = await store.head();
  const check = await writer.verify({ from: cp });
  if (!check.ok || check.events !== head.seq - cp.seq)
    throw new Error(`verify from the checkpoint failed: ${check.problem?.reason}`);
  // Interleaved, alternating which goes first, so drift in the machine's load falls on both.
  const catchUps: number[] = [];
  const verifies: number[] = [];
  for (const [i, f] of followers.entries()) {
    const timeCatchUp = async () => {
      const t = performance.now();
      const reached = await f.head();
      catchUps.push(performance.now() - t);
      if (reached.seq !== head.seq) throw new Error('a follower did not catch up');
    };
    const timeVerify = async () => {
      const t = performance.now();
      await writer.verify({ from: cp });
      verifies.push(performance.now() - t);
    };
    if (i % 2 === 0) {
      await timeCatchUp();
      await timeVerify();
    } else {
      await timeVerify();
      await timeCatchUp();
    }
  }
  const mid = <T>(xs: T[]) => xs[Math.floor(xs.length / 2)]!;
  const catchUpMs = mid([...catchUps].sort((a, b) => a - b));
  const verifyMs = mid([...verifies].sort((a, b) => a - b));
  // The median of the paired ratios.
  const ratio = mid(catchUps.map((c, i) => c / verifies[i]!).sort((a, b) => a - b));
  console.log(
    `\n6b. catch-up of ${head.seq - cp.seq} foreign events (a follower opened before; each verified before it is applied) — goal ≤ 1.2× verify({ from }) of the same events`,
  );
  console.log(
    `  catch-up ${catchUpMs.toFixed(1)} ms   verify({ from }) ${verifyMs.toFixed(1)} ms   = ${ratio.toFixed(2)}×   ${ratio <= 1.2 ? 'PASS' : 'MISS'}`,
  );
  return { catchUpMs, verifyMs, ratio };
}

const FIXTURES = fileURLToPath(new URL('./.fixtures/', import.meta.url));
// Bump when the fixture's mix changes.
const FIXTURE_VERSION = 1;

/**
 * A realistic signed log of about `events` events in a SQLite file, built once through the
 * public API and kept under test/bench/.fixtures, ending with a checkpoint (so opening it
 * replays nothing). Returns its path and how long building it took (0 when cached).
 */
async function realisticLog(events: number): Promise<{ path: string; buildMs: number }> {
  mkdirSync(FIXTURES, { recursive: true });
  const path = join(FIXTURES, `verify-v${FIXTURE_VERSION}-${events}.db`);
  if (existsSync(path)) return { path, buildMs: 0 };
  const building = `${path}.building`;
  for (const suffix of ['', '-wal', '-shm']) rmSync(building + suffix, { force: true });
  const started = performance.now();
  const store = new SqliteStore({ path: building });
  const ws = await Workspace.open({ store, tickIntervalMs: 0 });
  const ada = await ws.bootstrap({ name: 'Ada' });
  const me = ws.as(ada.id);
  const agents = [];
  for (const name of ['drafter', 'reviewer', 'researcher']) {
    const a = await me.identities.create({ kind: 'agent', name });
    await me.capabilities.grant({
      to: a.id,
      resource: 'artifact:*',
      actions: ['read', 'create', 'write', 'comment', 'handoff'],
    });
    await me.capabilities.grant({ to: a.id, resource: 'workspace', actions: ['comment'] });
    await me.capabilities.grant({ to: a.id, resource: 'email:*', actions: ['email.send'] });
    agents.push({ id: a.id, actor: ws.as(a.id) });
  }
  const docs: { id: string; version: number; lines: string[] }[] = [];
  const types = ['note', 'decision', 'learned', 'attempt', 'todo', 'question'] as const;
  let lastProgress = performance.now();
  for (let n = 0; (await store.head()).seq < events; n++) {
    const who = agents[n % agents.length]!;
    const step = n % 10;
    if (docs.length === 0 || n % 97 === 0) {
      const lines = Array.from({ length: 40 }, (_, i) => `line ${i} of document ${docs.length}`);
      const a = await who.actor.artifacts.create({
        kind: 'text',
        title: `Document ${docs.length}`,
        content: `${lines.join('\n')}\n`,
        tags: [`team-${docs.length % 5}`, 'draft'],
      });
      docs.push({ id: a.id, version: a.version, lines });
    } else if (step < 3) {
      const d = docs[n % docs.length]!;
      d.lines[n % d.lines.length] = `line edited at step ${n}`;
      const a = await who.actor.artifacts.edit(d.id, {
        content: `${d.lines.join('\n')}\n`,
        baseVersion: d.version,
        reason: `edit ${n}`,
      });
      d.version = a.version;
    } else if (step < 7) {
      const d = docs[n % docs.length]!;
      await who.actor.context.record({
        type: types[n % types.length]!,
        about: [d.id],
        text: `entry ${n} about ${d.id}: what was seen, tried or decided at this point`,
      });
    } else if (step === 7 && n % 40 === 7) {
      const d = docs[n % docs.length]!;
      const to = agents[(n + 1) % agents.length]!;
      const h = await who.actor.handoffs.offer({
        to: to.id,
        artifacts: [d.id],
        note: `over to you ${n}`,
      });
      await to.actor.handoffs.accept(h.id);
    } else if (step === 8 && n % 100 === 8) {
      await me.capabilities.grant({ to: who.id, resource: `doc:${n}`, actions: ['read'] });
    } else {
      await who.actor.authorize('email.send', `email:${n}`, { summary: `mail ${n}` });
    }
    if (performance.now() - lastProgress > 30_000) {
      lastProgress = performance.now();
      console.log(`  building the ${events}-event log: ${(await store.head()).seq} events so far`);
    }
  }
  await ws.checkpoint();
  await ws.close();
  renameSync(building, path);
  return { path, buildMs: performance.now() - started };
}

/**
 * Bare Ed25519 verification with Node's `crypto.verify` over pre-encoded bytes and imported
 * keys, split across `threads` worker threads: the ceiling of any verify() that checks every
 * signature with the platform's Ed25519. Loaded once; each `run()` times one pass over them all.
 */
async function bareVerifiers(
  items: { text: string; sig: string; key: string }[],
  threads: number,
): Promise<{ run(): Promise<number>; close(): Promise<void> }> {
  const source = `
const { parentPort } = require('node:worker_threads');
const { createPublicKey, verify } = require('node:crypto');
const keys = new Map();
let items = [];
parentPort.on('message', (m) => {
  if (m.load) {
    items = m.load.map(([text, sig, x]) => {
      if (!keys.has(x)) keys.set(x, createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' }));
      return [Buffer.from(text, 'utf8'), Buffer.from(sig, 'base64url'), keys.get(x)];
    });
    parentPort.postMessage(0);
    return;
  }
  let ok = 0;
  for (const [msg, sig, key] of items) if (verify(null, msg, key, sig)) ok++;
  parentPort.postMessage(ok);
});`;
  const workers = Array.from({ length: threads }, () => new Worker(source, { eval: true }));
  const answer = (w: Worker) => new Promise<number>((resolve) => w.once('message', resolve));
  const per = Math.ceil(items.length / threads);
  await Promise.all(
    workers.map((w, i) => {
      const load = items.slice(i * per, (i + 1) * per).map((t) => [t.text, t.sig, t.key]);
      const done = answer(w);
      w.postMessage({ load });
      return done;
    }),
  );
  return {
    async run() {
      const t = performance.now();
      const oks = await Promise.all(
        workers.map((w) => {
          const done = answer(w);
          w.postMessage({ go: true });
          return done;
        }),
      );
      const ms = performance.now() - t;
      if (oks.reduce((a, b) => a + b, 0) !== items.length)
        throw new Error('a signature of the bench log does not verify');
      return ms;
    },
    close: async () => {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

/** The events' signing texts, signatures and signers' raw keys (as the ceiling checks them). */
async function signedItems(ws: Workspace, limit: number) {
  const items: { text: string; sig: string; key: string }[] = [];
  for await (const e of ws.store.read()) {
    const did = e.type.startsWith('workspace.bootstrapped')
      ? (e.data as { owners: { id: string; key: string }[] }).owners.find((o) => o.id === e.actor)!
          .key
      : ws.identity(e.actor)!.keys.at(-1)!.key;
    items.push({
      text: signingText(e as BatonEvent),
      sig: e.sig,
      key: Buffer.from(rawFromDidKey(did)).toString('base64url'),
    });
    if (items.length >= limit) break;
  }
  return items;
}

interface SizeResult {
  log: string;
  events: number;
  verifyMs: number;
  ceilingMs: number;
  /** Median of the paired ratios of throughput: verify() over the ceiling. */
  ratio: number;
  /** The same for CPU time (all threads) per event: what the ratio is on an otherwise idle machine. */
  cpuRatio: number;
  verifyCpuUs: number;
  ceilingCpuUs: number;
  inThreadMs: number;
  peakRssMb: number;
  buildMs: number;
}

const mid = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * verify() of the log in `store` in rounds alternating with the ceiling (bare crypto.verify
 * on N threads over the same events' signing bytes — for a log larger than 10⁵ events, over
 * its first 10⁵, scaled), each timed in wall and CPU time (all threads), and the in-thread
 * WebCrypto path (`verifyWorkers: false`), the three in rotating order each round; and the
 * peak RSS during verify() above the RSS before.
 */
async function verifyAgainstCeiling(
  log: string,
  open: () => Store,
  rounds: number,
  buildMs: number,
): Promise<SizeResult> {
  const ws = await Workspace.open({ store: open(), tickIntervalMs: 0 });
  const plain = await Workspace.open({ store: open(), tickIntervalMs: 0, verifyWorkers: false });
  const head = await ws.store.head();
  const sample = await signedItems(ws, 100_000);
  const ceiling = await bareVerifiers(sample, os.availableParallelism());
  const scale = head.seq / sample.length;
  const first = await ws.verify();
  if (!first.ok) throw new Error(`the bench log does not verify: ${first.problem?.reason}`);
  const verifies: number[] = [];
  const verifyCpu: number[] = [];
  const ceilings: number[] = [];
  const ceilingCpu: number[] = [];
  const inThreads: number[] = [];
  let peakRss = 0;
  const cpuMs = (since: NodeJS.CpuUsage) => {
    const c = process.cpuUsage(since);
    return (c.user + c.system) / 1000;
  };
  for (let r = 0; r < rounds; r++) {
    const timeVerify = async () => {
      const before = process.memoryUsage().rss;
      let peak = before;
      const c = process.cpuUsage();
      const t = performance.now();
      const report = await ws.verify({
        onProgress: () => {
          peak = Math.max(peak, process.memoryUsage().rss);
        },
      });
      verifies.push(performance.now() - t);
      verifyCpu.push(cpuMs(c));
      if (!report.ok) throw new Error(`verify failed: ${report.problem?.reason}`);
      peakRss = Math.max(peakRss, peak - before);
    };
    const timeCeiling = async () => {
      const c = process.cpuUsage();
      ceilings.push((await ceiling.run()) * scale);
      ceilingCpu.push(cpuMs(c) * scale);
    };
    const timeInThread = async () => {
      const t = performance.now();
      const inThread = await plain.verify();
      inThreads.push(performance.now() - t);
      if (!inThread.ok || inThread.events !== first.events)
        throw new Error('the in-thread verify() disagrees with the one on worker threads');
    };
    const order = [timeVerify, timeCeiling, timeInThread];
    for (let i = 0; i < order.length; i++) await order[(i + r) % order.length]!();
  }
  await ceiling.close();
  await ws.close();
  await plain.close();
  return {
    log,
    events: head.seq,
    verifyMs: mid(verifies),
    ceilingMs: mid(ceilings),
    ratio: mid(ceilings.map((c, i) => c / verifies[i]!)),
    cpuRatio: mid(ceilingCpu.map((c, i) => c / verifyCpu[i]!)),
    verifyCpuUs: (mid(verifyCpu) * 1000) / head.seq,
    ceilingCpuUs: (mid(ceilingCpu) * 1000) / head.seq,
    inThreadMs: mid(inThreads),
    peakRssMb: peakRss / 2 ** 20,
    buildMs,
  };
}

/**
 * verify() against its ceiling, and its peak RSS, at each of `VERIFY_SIZES` (printed): on the
 * realistic SQLite logs, and on a MemoryStore log of `grant.exercised` events only (the log
 * of the issue's first figure, whose events cost the least to admit).
 */
export async function ceilingBench(): Promise<{ results: SizeResult[]; rssRatio: number }> {
  const sizes = (process.env.VERIFY_SIZES ?? '10000,100000').split(',').map(Number);
  const threads = os.availableParallelism();
  const results: SizeResult[] = [];
  for (const size of sizes) {
    const { path, buildMs } = await realisticLog(size);
    results.push(
      await verifyAgainstCeiling(
        'realistic, SQLite',
        () => new SqliteStore({ path }),
        Number(process.env.VERIFY_ROUNDS ?? (size >= 500_000 ? 3 : 5)),
        buildMs,
      ),
    );
  }
  const uniformSize = Number(process.env.VERIFY_UNIFORM ?? Math.min(sizes.at(-1)!, 100_000));
  const uniform = await signedLog(uniformSize);
  results.push(
    await verifyAgainstCeiling(
      'grant.exercised only, MemoryStore',
      () => uniform.store.peer(),
      Number(process.env.VERIFY_ROUNDS ?? 5),
      uniform.buildMs,
    ),
  );
  await uniform.ws.close();
  const perSec = (events: number, ms: number) =>
    Math.round((events / ms) * 1000).toLocaleString('en');
  console.log(
    `\n6. verify() — goal ≥ 0.9× the ceiling: bare crypto.verify of the same events' signing bytes on ${threads} worker threads (os.availableParallelism()), alternating rounds; peak RSS flat`,
  );
  for (const r of results) {
    console.log(
      `  ${r.log}, ${r.events} events${r.buildMs ? ` (built in ${(r.buildMs / 1000).toFixed(0)} s)` : ''}: verify() ${perSec(r.events, r.verifyMs)} events/s, ceiling ${perSec(r.events, r.ceilingMs)} signatures/s = ${r.ratio.toFixed(2)}× ${verdict(r.ratio >= 0.9)}; CPU per event (all threads) ${r.verifyCpuUs.toFixed(0)} µs vs ${r.ceilingCpuUs.toFixed(0)} µs = ${r.cpuRatio.toFixed(2)}×; in-thread WebCrypto ${perSec(r.events, r.inThreadMs)} events/s; peak RSS +${r.peakRssMb.toFixed(0)} MB`,
    );
  }
  const realistic = results.filter((r) => r.log.startsWith('realistic'));
  const small = realistic[0]!;
  const large = realistic.at(-1)!;
  const rssRatio = large.peakRssMb / Math.max(small.peakRssMb, 1);
  console.log(
    `  peak RSS during verify() of the realistic logs: ${large.events} events +${large.peakRssMb.toFixed(0)} MB vs ${small.events} events +${small.peakRssMb.toFixed(0)} MB = ${rssRatio.toFixed(2)}× ${verdict(rssRatio <= 1.2)}`,
  );
  return { results, rssRatio };
}

export async function verifyBench(): Promise<Record<string, number>> {
  const { results, rssRatio } = await ceilingBench();
  const large = results.filter((r) => r.log.startsWith('realistic')).at(-1)!;

  // verify({ from }): a log of grant.exercised events with a checkpoint 1 000 events before the head.
  const size = 20_000;
  // A checkpoint 1 000 events before the head.
  const tail = 1_000;
  const checkpointed = await (async () => {
    // Re-open a workspace at head - tail by checkpointing before appending the tail.
    const { ws: w } = await signedLog(size - tail);
    const cp = await w.checkpoint();
    const me = w.as(w.info!.owners[0]!);
    const drafter = (await me.identities.list({ kind: 'agent' })).items[0]!;
    const grant = (await me.capabilities.list({ audience: drafter.id })).items[0]!;
    let n = 0;
    while ((await w.store.head()).seq < size) {
      const drafts: { type: string; data: JsonValue; refs: string[] }[] = [];
      for (let i = 0; i < 100; i++, n++)
        drafts.push({
          type: 'grant.exercised',
          data: { grant: grant.id, action: 'email.send', resource: `email:t${n}` },
          refs: [],
        });
      await w._commit({ actor: drafter.id, plan: () => ({ drafts }) });
    }
    return { w, cp };
  })();
  const fromReport = await checkpointed.w.verify({ from: checkpointed.cp });
  if (!fromReport.ok)
    throw new Error(`verify from the checkpoint failed: ${fromReport.problem?.reason}`);
  const fromMs = await median(5, () => checkpointed.w.verify({ from: checkpointed.cp }));
  const fullMs2 = await median(3, () => checkpointed.w.verify());
  const expected = fromReport.events / (await checkpointed.w.store.head()).seq;
  const measured = fromMs / fullMs2;
  console.log(
    `  verify({ from }) · ${fromReport.events} of ${(await checkpointed.w.store.head()).seq} events after the checkpoint   ${fromMs.toFixed(1)} ms = ${measured.toFixed(3)}× the full run (events ratio ${expected.toFixed(3)})   ${measured <= expected * 2 ? 'PASS' : 'MISS'}`,
  );
  const catchUp = await catchUpBench();
  return {
    catchUpForeignMs: catchUp.catchUpMs,
    catchUpVerifyMs: catchUp.verifyMs,
    catchUpRatio: catchUp.ratio,
    verifyEventsPerSec: (large.events / large.verifyMs) * 1000,
    verifyCeilingPerSec: (large.events / large.ceilingMs) * 1000,
    verifyCeilingRatio: large.ratio,
    verifyPeakRssMb: large.peakRssMb,
    verifyPeakRssRatio: rssRatio,
    verifyFullMs: large.verifyMs,
    verifyFromMs: fromMs,
    verifyFromRatio: measured,
    verifyEventsRatio: expected,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv[2] === 'catchup') await catchUpBench();
  else if (process.argv[2] === 'ceiling') await ceilingBench();
  else await verifyBench();
}
