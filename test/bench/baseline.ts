/**
 * This checkout against an earlier one, in the same process and the same rounds:
 *
 *   pnpm exec tsx --conditions=source test/bench/baseline.ts <earlier-checkout>
 *
 * `<earlier-checkout>` is another clone of Baton with its dependencies installed (e.g.
 * `git worktree add ../baton-before <commit> && (cd ../baton-before && pnpm install)`); its
 * `@baton/core` is loaded from its sources. Both run the same operations on their own
 * in-memory workspaces, timed in alternating rounds, and each figure is printed as a ratio
 * of this checkout to the earlier one:
 *
 * 1. a batch-1 signed append (`authorize()`, one Ed25519-signed `grant.exercised`);
 * 2. a batch-1 signed edit of a text artifact with a reason (admission reads the artifact's
 *    head and body now);
 * 3. a signed ContextLog note about the artifact;
 * 4. catch-up of 1,000 events another instance committed (a mix of edits, notes and
 *    authorizations): the earlier checkout applied them unchecked, this one verifies chain,
 *    hash, admission and signatures — and, for scale, this checkout's `verify({ from })` of
 *    the same 1,000 events.
 */

import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as current from '@baton/core';
import { fmtRatio, fmtUs, table, verdict } from './format.js';
import { pairedRatio, timeInterleaved } from './timing.js';

type Core = typeof current;

const dir = process.argv[2];
if (!dir) {
  console.error('usage: tsx --conditions=source test/bench/baseline.ts <earlier-checkout>');
  process.exit(2);
}
const before = (await import(
  pathToFileURL(resolve(dir, 'packages/core/src/index.ts')).href
)) as Core;

/** A workspace with an owner, an agent holding `email.send`, `write` and `comment`, and a text artifact. */
async function world(core: Core) {
  const store = new core.MemoryStore();
  const keyring = new core.MemoryKeyring();
  const ws = await core.Workspace.open({ store, keyring, tickIntervalMs: 0 });
  const owner = await ws.bootstrap({ name: 'Ada' });
  const me = ws.as(owner.id);
  const bot = await me.identities.create({ kind: 'agent', name: 'bench' });
  await me.capabilities.grant({ to: bot.id, resource: 'email:*', actions: ['email.send'] });
  await me.capabilities.grant({
    to: bot.id,
    resource: 'artifact:*',
    actions: ['read', 'write', 'create', 'comment'],
  });
  const agent = ws.as(bot.id, { session: 'bench' });
  const lines = Array.from({ length: 40 }, (_, i) => `Line ${i} of the launch post.`);
  const doc = await agent.artifacts.create({
    kind: 'text',
    title: 'Launch post',
    content: lines.join('\n'),
    reason: 'first draft',
  });
  let version = 1;
  let n = 0;
  const edit = async () => {
    n++;
    lines[n % lines.length] = `Line ${n % lines.length}, edit ${n}.`;
    const v = await agent.artifacts.edit(doc.id, {
      content: lines.join('\n'),
      baseVersion: version,
      reason: `edit ${n}`,
    });
    version = v.version;
  };
  const note = () =>
    agent.context.record({ type: 'note', about: [doc.id], text: `note ${n++} about the draft` });
  const authorize = () => agent.authorize('email.send', 'email:x');
  return { core, store, keyring, ws, agent, edit, note, authorize };
}

type World = Awaited<ReturnType<typeof world>>;

/** A reader instance on `w`'s store, and a prepare step that has the writer commit 1,000 events. */
async function catchUpCase(w: World) {
  const reader = await w.core.Workspace.open({
    store: w.store,
    keyring: w.keyring,
    tickIntervalMs: 0,
  });
  let from: current.Checkpoint | undefined;
  const commit1000 = async () => {
    await reader.head();
    from = await reader.checkpoint().catch(() => undefined);
    for (let i = 0; i < 1_000; ) {
      await w.edit();
      await w.note();
      await w.authorize();
      i += 3;
    }
  };
  return { reader, commit1000, from: () => from };
}

const [a, b] = [await world(before), await world(current)];
const rows: string[][] = [];
const pairs: [string, () => unknown, () => unknown, number?][] = [
  ['authorize() · 1 signed event', () => b.authorize(), () => a.authorize()],
  ['artifacts.edit() · text, reason', () => b.edit(), () => a.edit()],
  ['context.record() · note', () => b.note(), () => a.note()],
];
for (const [name, now, then] of pairs) {
  const [tNow, tThen] = await timeInterleaved(
    [
      { name: `${name} · now`, fn: now },
      { name: `${name} · before`, fn: then },
    ],
    { rounds: 9, maxPerRound: 400 },
  );
  const r = pairedRatio(tNow!, tThen!);
  rows.push([
    name,
    fmtUs(tThen!.ns),
    fmtUs(tNow!.ns),
    fmtRatio(r.median),
    name.startsWith('authorize') ? `${verdict(r.median <= 1.15)} (≤ 1.15×)` : '',
  ]);
}

const ca = await catchUpCase(a);
const cb = await catchUpCase(b);
const [upNow, upThen, verifyNow] = await timeInterleaved(
  [
    { name: 'catch-up now', fn: () => cb.reader.head(), prepare: cb.commit1000, maxPerRound: 1 },
    { name: 'catch-up before', fn: () => ca.reader.head(), prepare: ca.commit1000, maxPerRound: 1 },
    {
      name: 'verify({ from }) now, same 1,000 events',
      fn: async () => {
        const from = cb.from();
        const report = await b.ws.verify(from ? { from } : {});
        if (!report.ok) throw new Error(`verify failed: ${report.problem?.reason}`);
      },
      prepare: cb.commit1000,
      maxPerRound: 1,
    },
  ],
  { rounds: 5, warmupMs: 0 },
);
rows.push([
  'catch-up of 1,000 foreign events',
  fmtUs(upThen!.ns),
  fmtUs(upNow!.ns),
  fmtRatio(pairedRatio(upNow!, upThen!).median),
  'unchecked before; verified now',
]);
const vr = pairedRatio(upNow!, verifyNow!).median;
rows.push([
  '  … against verify({ from }) of the same events, now',
  fmtUs(verifyNow!.ns),
  fmtUs(upNow!.ns),
  fmtRatio(vr),
  `${verdict(vr <= 1.2)} (≤ 1.2×)`,
]);
console.log(
  `\nThis checkout against ${dir} (same process, alternating rounds; median µs per call)\n`,
);
table(['operation', 'before', 'now', 'now / before', 'goal'], rows);
for (const w of [a, b]) await w.ws.close();
await ca.reader.close();
await cb.reader.close();
