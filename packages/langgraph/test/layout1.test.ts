import { readFileSync } from 'node:fs';
import type { Store } from '@baton/core';
import { describe, expect, it } from 'vitest';
import { BatonCheckpointSaver } from '../src/index.js';
import { backends } from './backends.js';

// Entries written by the saver's first record layout (writes interleaved with the records,
// lists in up to 12 runs), with what it read back then: see fixtures/makeLayout1.ts.
const fixture = JSON.parse(
  readFileSync(new URL('./fixtures/layout1.json', import.meta.url), 'utf8'),
) as {
  entries: [string, string][];
  tuples: string[];
  latest: { config: { configurable: Record<string, string> }; tuple: string }[];
};

const stores = backends();

async function loaded(make: () => Store): Promise<{ store: Store; saver: BatonCheckpointSaver }> {
  const store = make();
  for (const [key, value] of fixture.entries) {
    await store.kv.put(key, new Uint8Array(Buffer.from(value, 'base64')));
  }
  return { store, saver: new BatonCheckpointSaver({ store }) };
}

describe.each(stores)('BatonCheckpointSaver reading the first layout on %s', (_name, make) => {
  it('lists every checkpoint of a file written in the first layout as that version read it', async () => {
    const { saver } = await loaded(make);
    const expected = await Promise.all(
      fixture.tuples.map((t) => saver.serde.loadsTyped('json', t)),
    );
    const got = [];
    for await (const t of saver.list({})) got.push(t);
    expect(got).toEqual(expected);
    // Each one also by its id.
    for (const t of expected as { config: { configurable: Record<string, string> } }[]) {
      expect(await saver.getTuple(t.config)).toEqual(t);
    }
  });

  it('reads the latest checkpoint of each thread of the first layout, pending writes and all', async () => {
    const { saver } = await loaded(make);
    for (const { config, tuple } of fixture.latest) {
      expect(await saver.getTuple(config)).toEqual(await saver.serde.loadsTyped('json', tuple));
    }
  });

  it('continues a thread of the first layout: a checkpoint put on top of it reads back whole', async () => {
    const { store, saver } = await loaded(make);
    // Its messages are in runs, which the new checkpoint shares.
    const config = { configurable: { thread_id: 'graph' } };
    const latest = (await saver.getTuple(config))!;
    const messages = [...(latest.checkpoint.channel_values.messages as unknown[]), 'one more'];
    const next = {
      ...latest.checkpoint,
      id: `${latest.checkpoint.id.slice(0, -1)}z`,
      channel_values: { ...latest.checkpoint.channel_values, messages },
      channel_versions: { ...latest.checkpoint.channel_versions, messages: 99 },
    };
    const put = await saver.put(latest.config, next, latest.metadata!, { messages: 99 });
    // Read by a saver that did not write it, as another process would.
    const back = await new BatonCheckpointSaver({ store }).getTuple(config);
    expect(back?.config).toEqual(put);
    expect(back?.checkpoint).toEqual(next);
    // It stored the new element, not the list again.
    const record = (await store.kv.get(`lg/c/graph//${next.id}`)) as Uint8Array;
    expect(record.length).toBeLessThan(JSON.stringify(messages).length / 2);
  });
});
