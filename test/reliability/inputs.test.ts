import {
  type BatonEvent,
  defineEventType,
  isBatonError,
  MAX_SUBMIT_BYTES,
  MemoryStore,
  type SignedEvent,
  Workspace,
} from '@baton/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { signedBy } from './signedBy.js';

/** The code a call refused with, `'ok'` when it did not throw, or the foreign error's name. */
async function outcome(call: () => unknown): Promise<string> {
  try {
    await call();
    return 'ok';
  } catch (err) {
    return isBatonError(err) ? err.code : `${(err as Error).name}: ${String(err)}`;
  }
}

async function desk() {
  const store = new MemoryStore();
  const ws = await Workspace.open({ store, tickIntervalMs: 0 });
  const ada = await ws.bootstrap({ name: 'Ada' });
  return { ws, store, me: ws.as(ada.id) };
}

const fakeSignal = { aborted: false } as unknown as AbortSignal;

describe('#15 inputs the fuzz found escaping as TypeErrors', () => {
  it('#15 refuses watch and subscribe filters that are not filters, and signals that are not AbortSignals, with VALIDATION', async () => {
    const { ws, me } = await desk();
    const cases: [string, () => unknown][] = [
      ['actor.watch(null)', () => me.watch(null as never)],
      ['actor.watch({ types: 0 })', () => me.watch({ types: 0 as never })],
      ['actor.watch({ types: [1.5] })', () => me.watch({ types: [1.5 as never] })],
      ['actor.watch({ after: Infinity })', () => me.watch({ after: Number.POSITIVE_INFINITY })],
      ['actor.watch({ signal: fake })', () => me.watch({ signal: fakeSignal })],
      ['actor.subscribe()', () => (me.subscribe as (...a: unknown[]) => unknown)()],
      ['actor.subscribe({}, 42)', () => me.subscribe({}, 42 as never)],
      ['workspace.watch({ signal: fake })', () => ws.watch({ signal: fakeSignal })],
      ['handoffs.wait({ signal: fake })', () => me.handoffs.wait('ho_x', { signal: fakeSignal })],
    ];
    for (const [name, call] of cases)
      expect([name, await outcome(call)]).toEqual([name, 'VALIDATION']);
    await ws.close();
  });

  it('#15 refuses a wait longer than a timer can hold instead of ending it at once', async () => {
    const { ws, me } = await desk();
    expect(await outcome(() => me.handoffs.wait('ho_x', { timeoutMs: 2 ** 31 }))).toBe(
      'VALIDATION',
    );
    await ws.close();
  });

  it('#15 refuses upcast() of something that is not an event with VALIDATION', async () => {
    const { ws } = await desk();
    for (const e of [undefined, null, 42, { type: Number.NaN, data: {} }, { data: {} }])
      expect(await outcome(() => ws.upcast(e as unknown as BatonEvent))).toBe('VALIDATION');
    await ws.close();
  });

  it('#15 refuses a logger without all four methods and an event type that is not one, at open', async () => {
    const store = new MemoryStore();
    expect(
      await outcome(() =>
        Workspace.open({ store, logger: { info() {}, warn() {}, error() {} } as never }),
      ),
    ).toBe('VALIDATION');
    expect(await outcome(() => Workspace.open({ store, eventTypes: [undefined as never] }))).toBe(
      'VALIDATION',
    );
    expect((await store.head()).seq).toBe(0);
  });

  it('#15 a logger that throws never turns a commit that happened into an error', async () => {
    const boom = () => {
      throw new Error('logger down');
    };
    const store = new MemoryStore();
    const ws = await Workspace.open({
      store,
      tickIntervalMs: 0,
      logger: { debug: boom, info: boom, warn: boom, error: boom },
    });
    const ada = await ws.bootstrap({ name: 'Ada' });
    const doc = await ws.as(ada.id).artifacts.create({ kind: 'text', title: 'T', content: 'x' });
    expect(doc.version).toBe(1);
    expect((await ws.verify()).ok).toBe(true);
    await ws.close();
  });
});

describe('#18 a per-call total for submit', () => {
  it('#18 refuses one submit() carrying more than MAX_SUBMIT_BYTES of event data, writing nothing', async () => {
    const noted = defineEventType({
      name: 'app.noted',
      schema: z.object({ note: z.string() }),
      stream: () => 'app/notes',
    });
    const store = new MemoryStore();
    const ws = await Workspace.open({ store, tickIntervalMs: 0, eventTypes: [noted as never] });
    const ada = await ws.bootstrap({ name: 'Ada' });
    const note = 'é'.repeat(100 * 1024); // 200 KiB of UTF-8, 100 K UTF-16 units
    const count = Math.ceil(MAX_SUBMIT_BYTES / (200 * 1024)) + 1;
    const events: SignedEvent[] = [];
    for (let i = 0; i < count; i++) {
      const fields = {
        ws: ws.id!,
        id: `ev_big_${i}`,
        stream: 'app/notes',
        type: 'app.noted@1',
        actor: ada.id,
        auth: `gr_root_${ada.id}`,
        at: new Date().toISOString(),
        data: { note },
        refs: [],
      };
      events.push(await signedBy(ws.keyring, fields));
    }
    const before = await store.head();
    expect(await outcome(() => ws.submit(events))).toBe('VALIDATION');
    expect(await store.head()).toEqual(before);
    // Under the bound, the same events go in.
    expect((await ws.submit(events.slice(0, 10))).length).toBe(10);
    await ws.close();
  });
});

describe('#15 error helpers on values that fight back', () => {
  it('#15 isBatonError, storeError and rootGrantId answer odd values without throwing something else', async () => {
    const { isBatonError: is, storeError, rootGrantId } = await import('@baton/core');
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('no reading me');
        },
      },
    );
    expect(is(hostile)).toBe(false);
    const wrapped = storeError('append', Object.create(null));
    expect(wrapped.code).toBe('STORE');
    expect(await outcome(() => rootGrantId(Symbol() as never))).toBe('VALIDATION');
  });
});

describe('#15 ingest of events whose chain fields are not what they claim', () => {
  it('#15 refuses an event whose seq is a symbol or a deep array with INTEGRITY, not a TypeError', async () => {
    const { ws, store, me } = await desk();
    await me.artifacts.create({ kind: 'text', title: 'T', content: 'x' });
    const [last] = (await me.log({ limit: 1, reverse: true } as never)).items;
    let deep: unknown = 1;
    for (let i = 0; i < 5_000; i++) deep = [deep];
    const before = await store.head();
    for (const seq of [Symbol('seq'), deep, 1.5])
      expect(await outcome(() => ws.ingest([{ ...last!, seq } as never]))).toBe('INTEGRITY');
    expect(await store.head()).toEqual(before);
    await ws.close();
  });
});
