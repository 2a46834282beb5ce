/**
 * Benchmark 6 (issue 3): verify() throughput in events/s (goal ≥ 20 000 on 2 cores), and
 * verify({ from }) from a checkpoint near the head (goal: time proportional to the events
 * after it). Issue 12: a catch-up of 1 000 foreign events — which now verifies each event
 * before applying it — against verify({ from }) of the same 1 000 events (goal ≤ 1.2×).
 *
 * Alone: `pnpm exec tsx --conditions=source test/bench/verify.ts` (add `catchup` for the
 * issue-12 figure only).
 */
import { type JsonValue, MemoryStore, Workspace } from '@baton/core';

async function signedLog(events: number) {
  const ws = await Workspace.open({ store: new MemoryStore(), tickIntervalMs: 0 });
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
  return { ws, buildMs: performance.now() - started };
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

export async function verifyBench(): Promise<Record<string, number>> {
  const size = 20_000;
  const { ws, buildMs } = await signedLog(size);
  const head = await ws.store.head();
  const report = await ws.verify();
  if (!report.ok) throw new Error(`the bench log does not verify: ${report.problem?.reason}`);
  const fullMs = await median(3, () => ws.verify());
  const perSec = (head.seq / fullMs) * 1000;
  // Baseline, same run: bare Ed25519 verification of as many signatures, all in flight at once
  // (WebCrypto spreads them over the thread pool) — the ceiling for any verify() that checks
  // every signature with the platform's Ed25519.
  const key = await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
  const bytes = new TextEncoder().encode('x'.repeat(300));
  const sig = await crypto.subtle.sign({ name: 'Ed25519' }, key.privateKey, bytes);
  const bareMs = await median(3, () =>
    Promise.all(
      Array.from({ length: head.seq }, () =>
        crypto.subtle.verify({ name: 'Ed25519' }, key.publicKey, sig, bytes),
      ),
    ),
  );
  const barePerSec = (head.seq / bareMs) * 1000;
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
    `\n6. verify() — goal ≥ 20 000 events/s; from a checkpoint, time proportional to the events after it (building ${size} signed events took ${(buildMs / 1000).toFixed(1)} s)`,
  );
  console.log(
    `  bare crypto.subtle.verify × ${head.seq} (baseline)   ${bareMs.toFixed(0)} ms   ${Math.round(barePerSec).toLocaleString('en')} signatures/s`,
  );
  console.log(
    `  full verify of ${head.seq} events      ${fullMs.toFixed(0)} ms   ${Math.round(perSec).toLocaleString('en')} events/s = ${(perSec / barePerSec).toFixed(2)}× the bare-signature ceiling   ${perSec >= 20_000 ? 'PASS' : 'MISS'}`,
  );
  console.log(
    `  verify({ from }) · ${fromReport.events} of ${(await checkpointed.w.store.head()).seq} events after the checkpoint   ${fromMs.toFixed(1)} ms = ${measured.toFixed(3)}× the full run (events ratio ${expected.toFixed(3)})   ${measured <= expected * 2 ? 'PASS' : 'MISS'}`,
  );
  const catchUp = await catchUpBench();
  return {
    catchUpForeignMs: catchUp.catchUpMs,
    catchUpVerifyMs: catchUp.verifyMs,
    catchUpRatio: catchUp.ratio,
    verifyEventsPerSec: perSec,
    verifyFullMs: fullMs,
    verifyFromMs: fromMs,
    verifyFromRatio: measured,
    verifyEventsRatio: expected,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv[2] === 'catchup') await catchUpBench();
  else await verifyBench();
}
