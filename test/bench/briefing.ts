/**
 * Benchmark 5 (issue 5): a briefing and an inbox on a log of 10³ events vs 10⁵. The work
 * they do depends on the handoff (its artifacts, their changes, their context), never on
 * the length of the log: goal ≤ 1.5× (a structural test in handoffs.test.ts asserts equal
 * store reads at both sizes).
 */
import {
  didKeyOf,
  generateEd25519,
  type JsonValue,
  MemoryStore,
  sha256b64,
  Workspace,
} from '@baton/core';
import { nullSigner } from './fixture.js';
import { timeInterleaved } from './timing.js';

const encoder = new TextEncoder();

async function scenario(events: number) {
  const ws = await Workspace.open({ store: new MemoryStore(), tickIntervalMs: 0 });
  const ada = await ws.bootstrap({ name: 'Ada' });
  const me = ws.as(ada.id);
  const drafter = await me.identities.create({ kind: 'agent', name: 'drafter' });
  await me.capabilities.grant({
    to: drafter.id,
    resource: 'artifact:*',
    actions: ['read', 'create', 'write', 'comment', 'handoff'],
  });
  // Unrelated history, written fast by a noise identity with a null signer (it never verifies).
  const pair = await generateEd25519();
  const noise = await me.identities.create({
    kind: 'agent',
    name: 'noise',
    key: await didKeyOf(pair.publicKey),
  });
  await me.capabilities.grant({
    to: noise.id,
    resource: 'artifact:*',
    actions: ['create', 'comment'],
  });
  const signer = nullSigner(noise.keys[0]!.key);
  const started = performance.now();
  let n = 0;
  while ((await ws.store.head()).seq < events) {
    const blobs: { hash: string; bytes: Uint8Array }[] = [];
    const drafts: { type: string; data: JsonValue; refs: string[] }[] = [];
    for (let i = 0; i < 100; i++, n++) {
      const bytes = encoder.encode(`noise ${n}\n`);
      const hash = sha256b64(bytes);
      blobs.push({ hash, bytes });
      const id = `art_noise_${n}`;
      drafts.push({
        type: 'artifact.created',
        data: {
          id,
          kind: 'text',
          title: `noise ${n}`,
          tags: [],
          meta: {},
          content: hash,
          contentHash: hash,
        },
        refs: [id],
      });
    }
    await ws._commit({ actor: noise.id, signer, plan: () => ({ drafts, blobs }) });
  }
  const buildMs = performance.now() - started;
  const agent = ws.as(drafter.id);
  const doc = await agent.artifacts.create({ kind: 'text', title: 'Work', content: 'a\n' });
  await agent.context.record({ type: 'decision', about: [doc.id], text: 'd', why: 'w' });
  const h = await agent.handoffs.offer({
    to: ada.id,
    artifacts: [doc.id],
    note: 'n',
    questions: ['q?'],
  });
  await me.handoffs.accept(h.id);
  let v = 1;
  for (let i = 0; i < 3; i++)
    v = (await me.artifacts.edit(doc.id, { content: `a\n${i}\n`, baseVersion: v, reason: `r${i}` }))
      .version;
  const back = await me.handoffs.offer({ to: drafter.id, artifacts: [doc.id], note: 'back' });
  return { ws, agent, back: back.id, head: (await ws.store.head()).seq, buildMs };
}

export async function briefingBench(): Promise<Record<string, number>> {
  const small = await scenario(1_000);
  const large = await scenario(100_000);
  const [bs, bl, is, il] = await timeInterleaved(
    [
      { name: 'briefing · 10³', fn: () => small.agent.handoffs.briefing(small.back) },
      { name: 'briefing · 10⁵', fn: () => large.agent.handoffs.briefing(large.back) },
      { name: 'inbox · 10³', fn: () => small.agent.inbox() },
      { name: 'inbox · 10⁵', fn: () => large.agent.inbox() },
    ],
    { rounds: 7, roundMs: 150 },
  );
  const rb = bl!.ns / bs!.ns;
  const ri = il!.ns / is!.ns;
  const us = (ns: number) => `${(ns / 1000).toFixed(0)} µs`;
  console.log(
    `\n5. Briefing and inbox vs the log's length — goal ≤ 1.5× (events: ${small.head} vs ${large.head}; building 10⁵ took ${(large.buildMs / 1000).toFixed(1)} s)`,
  );
  console.log(
    `  briefing   ${us(bs!.ns).padStart(9)} vs ${us(bl!.ns).padStart(9)}   ${rb.toFixed(2)}×   ${rb <= 1.5 ? 'PASS' : 'MISS'}`,
  );
  console.log(
    `  inbox      ${us(is!.ns).padStart(9)} vs ${us(il!.ns).padStart(9)}   ${ri.toFixed(2)}×   ${ri <= 1.5 ? 'PASS' : 'MISS'}`,
  );
  return {
    briefingSmallNs: bs!.ns,
    briefingLargeNs: bl!.ns,
    briefingRatio: rb,
    inboxSmallNs: is!.ns,
    inboxLargeNs: il!.ns,
    inboxRatio: ri,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) await briefingBench();
