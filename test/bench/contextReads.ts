/**
 * Issue 18, context reads: `context.query` by types, open, text and several `about`s,
 * `context.costs` by actor and handoff, and a briefing — on a log of N context entries about
 * other artifacts (noise) plus a fixed target set read at every size. Each read is timed on
 * the indexed path ("after") and, in the same alternating rounds, on the path taken for a
 * store whose rows predate the indexes ("before": the same code as before issue 18 for
 * queries and costs), reached through a handle that hides the `meta/context` marker row.
 *
 *   pnpm exec tsx --conditions=source test/bench/contextReads.ts [sizes…] [--sqlite|--memory]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Actor,
  didKeyOf,
  generateEd25519,
  type JsonValue,
  MemoryStore,
  type Store,
  sha256b64,
  Workspace,
} from '@baton/core';
import { SqliteStore } from '@baton/sqlite';
import { nullSigner } from './fixture.js';
import { timeInterleaved } from './timing.js';

const encoder = new TextEncoder();
const TYPES = ['note', 'attempt', 'learned', 'decision', 'todo', 'tool', 'usage'] as const;

/**
 * The store, hiding the marker row while `hide.on`: reads then take the path of a store whose
 * rows predate the indexes.
 */
function hidingMarker(store: Store, hide: { on: boolean }): Store {
  return new Proxy(store, {
    get(target, p) {
      if (p === 'get')
        return (c: string, k: string) =>
          hide.on && c === 'meta' && k === 'context'
            ? Promise.resolve(undefined)
            : target.get(c, k);
      const v = Reflect.get(target, p, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

async function scenario(entries: number, kind: 'memory' | 'sqlite', dir: string) {
  const store =
    kind === 'memory' ? new MemoryStore() : new SqliteStore({ path: join(dir, `${entries}.db`) });
  const hide = { on: false };
  const ws = await Workspace.open({ store: hidingMarker(store, hide), tickIntervalMs: 0 });
  const ada = await ws.bootstrap({ name: 'Ada' });
  const me = ws.as(ada.id);
  const drafter = await me.identities.create({ kind: 'agent', name: 'drafter' });
  await me.capabilities.grant({
    to: drafter.id,
    resource: 'artifact:*',
    actions: ['read', 'create', 'write', 'comment', 'handoff'],
  });
  const pair = await generateEd25519();
  const noise = await me.identities.create({
    kind: 'agent',
    name: 'noise',
    key: await didKeyOf(pair.publicKey),
  });
  await me.capabilities.grant({ to: noise.id, resource: 'artifact:*', actions: ['comment'] });
  const signer = nullSigner(noise.keys[0]!.key);
  const started = performance.now();
  for (let n = 0; n < entries; ) {
    const blobs: { hash: string; bytes: Uint8Array }[] = [];
    const drafts: { type: string; data: JsonValue; refs: string[] }[] = [];
    for (let i = 0; i < 100 && n < entries; i++, n++) {
      const type = TYPES[n % TYPES.length]!;
      const bytes = encoder.encode(JSON.stringify({ text: `noise ${n} lorem ipsum dolor` }));
      const hash = sha256b64(bytes);
      blobs.push({ hash, bytes });
      const about = [`art_noise_${n % 50}`];
      const fields: Record<string, JsonValue> =
        type === 'usage' ? { usage: { inputTokens: 10, outputTokens: 5, costUsd: 0.001 } } : {};
      drafts.push({
        type: 'context.recorded',
        data: { id: `ctx_noise_${n}`, type, about, body: hash, fields },
        refs: about,
      });
    }
    await ws._commit({ actor: noise.id, signer, plan: () => ({ drafts, blobs }) });
  }
  const buildMs = performance.now() - started;
  const agent = ws.as(drafter.id);
  const a = await agent.artifacts.create({ kind: 'text', title: 'A', content: 'a\n' });
  const b = await agent.artifacts.create({ kind: 'text', title: 'B', content: 'b\n' });
  for (let i = 0; i < 6; i++)
    await agent.context.record({ type: 'question', about: [i % 2 ? a.id : b.id], text: `q${i}?` });
  await agent.context.record({ type: 'decision', about: [a.id], text: 'zebracorn', why: 'w' });
  for (let i = 0; i < 4; i++)
    await agent.context.record({
      type: 'usage',
      about: [a.id],
      text: 'u',
      usage: { inputTokens: 100, costUsd: 0.01 },
    });
  const h = await agent.handoffs.offer({ to: ada.id, artifacts: [a.id, b.id], note: 'n' });
  await me.handoffs.accept(h.id);
  await me.context.record({ type: 'usage', about: [a.id], text: 'u', usage: { costUsd: 0.5 } });
  return { ws, hide, me, a: a.id, b: b.id, h: h.id, buildMs };
}

type Scenario = Awaited<ReturnType<typeof scenario>>;
const reads: [string, (me: Actor, s: Scenario) => Promise<unknown>][] = [
  ["query({ types: ['question'] })", (me) => me.context.query({ types: ['question'] })],
  ['query({ open: true })', (me) => me.context.query({ open: true })],
  ["query({ text: 'zebracorn' })", (me) => me.context.query({ text: 'zebracorn' })],
  ['query({ about: [A, B] })', (me, s) => me.context.query({ about: [s.a, s.b] })],
  ["costs({ by: 'actor' })", (me) => me.context.costs({ by: 'actor' })],
  ["costs({ by: 'handoff' })", (me) => me.context.costs({ by: 'handoff' })],
  ['briefing of a 2-artifact handoff', (me, s) => me.handoffs.briefing(s.h)],
];

/** `fn` on the path of a store whose rows predate the indexes. */
async function before(s: Scenario, fn: (me: Actor, s: Scenario) => Promise<unknown>) {
  s.hide.on = true;
  try {
    return await fn(s.me, s);
  } finally {
    s.hide.on = false;
  }
}

async function main() {
  const args = process.argv.slice(2);
  const sizes = args.filter((x) => /^\d+$/.test(x)).map(Number);
  const kinds = (['memory', 'sqlite'] as const).filter(
    (k) => !args.includes(`--${k === 'memory' ? 'sqlite' : 'memory'}`),
  );
  const [small, large] = sizes.length ? sizes : [1_000, 10_000];
  const dir = mkdtempSync(join(tmpdir(), 'baton-ctx-bench-'));
  try {
    for (const kind of kinds) {
      const s = await scenario(small!, kind, dir);
      const l = await scenario(large!, kind, dir);
      console.log(
        `\n${kind}: ${small} vs ${large} noise entries (building took ${(s.buildMs / 1000).toFixed(1)} s / ${(l.buildMs / 1000).toFixed(1)} s); µs per call, median of rounds`,
      );
      console.log(`${'read'.padEnd(36)} ${'after'.padStart(26)} ${'before'.padStart(28)}`);
      for (const [name, fn] of reads) {
        const [as, al, bs, bl] = await timeInterleaved(
          [
            { name: 'after small', fn: () => fn(s.me, s) },
            { name: 'after large', fn: () => fn(l.me, l) },
            { name: 'before small', fn: () => before(s, fn) },
            { name: 'before large', fn: () => before(l, fn) },
          ],
          { rounds: 5, roundMs: 100, warmupMs: 50 },
        );
        const us = (t: { ns: number }) => (t.ns / 1000).toFixed(0).padStart(7);
        const r = (x: { ns: number }, y: { ns: number }) =>
          `${(y.ns / x.ns).toFixed(2)}×`.padStart(8);
        console.log(
          `${name.padEnd(36)} ${us(as!)} → ${us(al!)} ${r(as!, al!)}   ${us(bs!)} → ${us(bl!)} ${r(bs!, bl!)}`,
        );
      }
      for (const x of [s, l]) await x.ws.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
