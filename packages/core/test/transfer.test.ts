import { describe, expect, it } from 'vitest';
import { AuthorityView } from '../src/auth/view.js';
import { MemoryStore, Workspace } from '../src/index.js';
import { ProjectionOverlay } from '../src/log/eventTypes.js';
import { stateReader } from '../src/log/projectionRebuild.js';
import { countingStore } from './countingStore.js';
import { world } from './world.js';

/** The export of a log of about `n` events: tagged artifacts created and edited, notes on them. */
async function exported(n: number): Promise<string[]> {
  const w = await world();
  const doc = await w.me.artifacts.create({
    kind: 'text',
    title: 'doc',
    content: '0\n',
    tags: ['t'],
  });
  for (let i = 0; i < n; i++) {
    if (i % 3 === 0) {
      await w.me.artifacts.create({
        kind: 'text',
        title: `d${i}`,
        content: `${i}\n`,
        tags: ['t'],
      });
    } else if (i % 3 === 1) {
      await w.me.context.record({ type: 'note', about: [doc.id], text: `n${i}` });
    } else {
      const a = await w.me.artifacts.get(doc.id);
      await w.me.artifacts.edit(doc.id, {
        content: `${a.content}${i}\n`,
        baseVersion: a.version,
        reason: 'more',
      });
    }
  }
  const lines: string[] = [];
  for await (const line of w.ws.export()) lines.push(line);
  return lines;
}

/** Imports `lines` into a new MemoryStore; the store calls it made and the events it read back. */
async function imported(lines: string[]) {
  const counted = countingStore(new MemoryStore());
  const ws = await Workspace.open({ store: counted.store, tickIntervalMs: 0 });
  counted.reset();
  const head = await ws.import(lines);
  const counts = { ...counted.counts };
  await ws.close();
  return { head, counts };
}

describe('import', () => {
  it('reads the store a bounded number of times per imported event, and never the log back', async () => {
    const small = await imported(await exported(40));
    const large = await imported(await exported(160));
    expect(large.head.seq).toBeGreaterThan(3.5 * small.head.seq);
    expect(small.counts.events).toBe(0);
    expect(large.counts.events).toBe(0);
    // Linear in the events: a log four times as long costs at most four times the calls
    // (plus a few fixed ones), never a call per event already imported.
    const perEvent = small.counts.calls / small.head.seq;
    expect(large.counts.calls).toBeLessThanOrEqual(perEvent * large.head.seq + 20);
  });
});

describe('the state an import is admitted against', () => {
  it('finds each given body by its hash without going through the list again', async () => {
    const n = 2_000;
    const blobs = Array.from({ length: n }, (_, i) => ({
      hash: `h${i}`,
      bytes: new TextEncoder().encode(String(i)),
    }));
    // Counts every element of the list read, by index.
    let reads = 0;
    const given = new Proxy(blobs, {
      get(target, key, receiver) {
        if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
        return Reflect.get(target, key, receiver);
      },
    });
    const state = stateReader(
      new ProjectionOverlay(async () => undefined),
      new AuthorityView().begin(),
      given,
      async () => undefined,
    );
    for (let i = 0; i < n; i++) {
      expect(new TextDecoder().decode(await state.blob(`h${i}`))).toBe(String(i));
    }
    expect(await state.blob('missing')).toBeUndefined();
    // One pass over the list, not one per body read (n² / 2 reads).
    expect(reads).toBeLessThanOrEqual(n);
  });

  it('takes the first body given under a hash', async () => {
    const state = stateReader(
      new ProjectionOverlay(async () => undefined),
      new AuthorityView().begin(),
      [
        { hash: 'h', bytes: new Uint8Array([1]) },
        { hash: 'h', bytes: new Uint8Array([2]) },
      ],
      async () => new Uint8Array([3]),
    );
    expect(await state.blob('h')).toEqual(new Uint8Array([1]));
    expect(await state.blob('other')).toEqual(new Uint8Array([3]));
  });
});
