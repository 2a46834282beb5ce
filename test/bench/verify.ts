/**
 * Benchmark 6 (issue 3): verify() throughput in events/s (goal ≥ 20 000 on 2 cores), and
 * verify({ from }) from a checkpoint near the head (goal: time proportional to the events
 * after it).
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
    await ws._commit({ actor: drafter.id, plan: () => drafts });
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
      await w._commit({ actor: drafter.id, plan: () => drafts });
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
  return {
    verifyEventsPerSec: perSec,
    verifyFullMs: fullMs,
    verifyFromMs: fromMs,
    verifyFromRatio: measured,
    verifyEventsRatio: expected,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) await verifyBench();
