// The open bench of issue 18 (authority view): builds a SQLite workspace of N events that are
// mostly tagged artifacts (created with 1–2 of 20 tags, a fifth of them edited), two
// `artifact:tag/<t>` grants and one checkpoint at the head, then times `Workspace.open` in
// fresh processes (test/bench/sqliteOpen.ts), alternating the sizes round by round.
//
//   pnpm exec tsx --conditions=source test/bench/authOpen.ts 1000 100000
//
// Then times `identities.record(owner)` on each, alternating the sizes round by round.
// Fixtures are kept in $TMPDIR/baton-auth-open/<n> (build time printed); pass --fresh to
// rebuild them, --checkpoint to make a new checkpoint with this code (from a full replay)
// before timing: the snapshot's shape is the code's, so before/after each need their own.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Workspace } from '@baton/core';
import { KeyDirectory } from '@baton/core/node';
import { SqliteStore } from '@baton/sqlite';

const args = process.argv.slice(2);
const sizes = args.filter((a) => /^\d+$/.test(a)).map(Number);
const fresh = args.includes('--fresh');
const recheckpoint = args.includes('--checkpoint');
const ROUNDS = 5;
const TAGS = Array.from({ length: 20 }, (_, i) => `t${i}`);

async function build(n: number, dir: string): Promise<void> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const started = performance.now();
  const keyring = new KeyDirectory({ path: join(dir, 'keys') });
  // Written on SQLite directly: a MemoryStore's catch-up reads scan its whole log.
  const mem = await Workspace.open({
    store: new SqliteStore({ path: join(dir, 'ws.db') }),
    keyring,
    tickIntervalMs: 0,
  });
  const ada = await mem.bootstrap({ name: 'Ada' });
  const me = mem.as(ada.id);
  const agent = await me.identities.create({ kind: 'agent', name: 'drafter', generateKey: true });
  await me.capabilities.grant({ to: agent.id, resource: 'artifact:tag/t0', actions: ['read'] });
  await me.capabilities.grant({ to: agent.id, resource: 'artifact:tag/t1', actions: ['write'] });
  const ids: string[] = [];
  let i = 0;
  while ((await mem.head()).seq < n) {
    if (i % 5 === 4 && ids.length > 0) {
      const id = ids[(i * 7) % ids.length]!;
      const a = await me.artifacts.get(id);
      await me.artifacts.edit(id, {
        content: `${a.content}edit ${i}\n`,
        baseVersion: a.version,
        reason: 'more',
      });
    } else {
      const tags = [TAGS[i % 20]!, TAGS[(i * 7 + 3) % 20]!];
      const a = await me.artifacts.create({
        kind: 'text',
        title: `doc ${i}`,
        content: `doc ${i}\n`,
        tags: [...new Set(tags)],
      });
      ids.push(a.id);
    }
    i++;
  }
  await mem.checkpoint();
  await mem.close();
  console.log(`built ${n} events in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

/** A new checkpoint made by this code, from a view it replayed from the first event. */
async function checkpointWithThisCode(dir: string): Promise<void> {
  const keyring = new KeyDirectory({ path: join(dir, 'keys') });
  const store = new SqliteStore({ path: join(dir, 'ws.db') });
  await store.kv.delete('baton/checkpoints/latest');
  const ws = await Workspace.open({ store, keyring, tickIntervalMs: 0 });
  await ws.checkpoint();
  await ws.close();
}

const root = join(tmpdir(), 'baton-auth-open');
for (const n of sizes) {
  const dir = join(root, String(n));
  if (fresh || !existsSync(join(dir, 'ws.db'))) await build(n, dir);
  if (recheckpoint) await checkpointWithThisCode(dir);
}

const results = new Map<number, { first: number[]; ms: number[]; rss: number[] }>();
for (let r = 0; r < ROUNDS; r++) {
  for (const n of sizes) {
    const out = execFileSync(
      process.execPath,
      [
        '--conditions=source',
        '--import',
        'tsx',
        join(import.meta.dirname, 'sqliteOpen.ts'),
        join(root, String(n), 'ws.db'),
      ],
      { encoding: 'utf8' },
    );
    const m = JSON.parse(out.trim().split('\n').at(-1)!) as {
      firstMs: number;
      ms: number;
      rssBefore: number;
      rssAfter: number;
    };
    const e = results.get(n) ?? { first: [], ms: [], rss: [] };
    e.first.push(m.firstMs);
    e.ms.push(m.ms);
    e.rss.push((m.rssAfter - m.rssBefore) / 2 ** 20);
    results.set(n, e);
  }
}
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
const base = sizes[0]!;
for (const n of sizes) {
  const e = results.get(n)!;
  const b = results.get(base)!;
  console.log(
    `${n} events: first open ${median(e.first).toFixed(1)} ms (${(median(e.first) / median(b.first)).toFixed(2)}× ${base}), open again ${median(e.ms).toFixed(1)} ms (${(median(e.ms) / median(b.ms)).toFixed(2)}×), RSS +${median(e.rss).toFixed(1)} MB (${(median(e.rss) / median(b.rss)).toFixed(2)}×)`,
  );
}

// identities.record of the owner, in this process, the sizes alternating round by round.
const stores = new Map<number, Workspace>();
for (const n of sizes) {
  const dir = join(root, String(n));
  stores.set(
    n,
    await Workspace.open({
      store: new SqliteStore({ path: join(dir, 'ws.db') }),
      keyring: new KeyDirectory({ path: join(dir, 'keys') }),
      tickIntervalMs: 0,
    }),
  );
}
const recordMs = new Map<number, number[]>();
for (let r = 0; r < ROUNDS; r++) {
  for (const [n, ws] of stores) {
    const owner = ws.info!.owners[0]!;
    const started = performance.now();
    await ws.as(owner).identities.record(owner);
    recordMs.set(n, [...(recordMs.get(n) ?? []), performance.now() - started]);
  }
}
for (const [n, ws] of stores) {
  const ms = median(recordMs.get(n)!);
  console.log(
    `${n} events: identities.record ${ms.toFixed(2)} ms (${(ms / median(recordMs.get(base)!)).toFixed(2)}× ${base})`,
  );
  await ws.close();
}
