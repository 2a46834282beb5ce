import { describe, expect, it } from 'vitest';
import { AuthorityView } from '../src/auth/view.js';
import { type BatonEvent, EMPTY_HEAD, eventHash, Workspace } from '../src/index.js';
import { StoredEvents, type StoredEventsOptions } from '../src/log/storedEvents.js';

/** A log whose streams outnumber a small memory: six identities, then the last one suspended. */
async function manyStreams(): Promise<BatonEvent[]> {
  const ws = await Workspace.open({ tickIntervalMs: 0 });
  const ada = await ws.bootstrap({ name: 'Ada' });
  const me = ws.as(ada.id);
  let last = await me.identities.create({ kind: 'agent', name: 'a0' });
  for (let i = 1; i < 6; i++) last = await me.identities.create({ kind: 'agent', name: `a${i}` });
  await me.identities.suspend(last.id, { reason: 'done' });
  const events: BatonEvent[] = [];
  for await (const e of ws.store.read()) events.push(structuredClone(e));
  await ws.close();
  return events;
}

/** Steps every event into a new view; the first problem, or undefined. */
async function replay(events: BatonEvent[], options: Partial<StoredEventsOptions> = {}) {
  const view = new AuthorityView();
  const checker = new StoredEvents((await Workspace.open({ tickIntervalMs: 0 }))._types, {
    after: EMPTY_HEAD,
    ...options,
  });
  for (const e of events) {
    const tx = view.begin();
    const r = checker.step(e, tx);
    if ('problem' in r) return (await checker.flush()) ?? r.problem;
    tx.commit();
  }
  return checker.flush();
}

describe('StoredEvents stream versions', () => {
  it('follows a genuine log after forgetting the versions of its streams', async () => {
    const events = await manyStreams();
    expect(await replay(events)).toBeUndefined();
    expect(await replay(events, { forgetAfter: 3 })).toBeUndefined();
  });

  it('still refuses a version out of order on a stream seen since it forgot', async () => {
    const events = await manyStreams();
    const last = events.at(-1)!;
    expect(last.version).toBe(2);
    last.version = 3;
    last.hash = eventHash(last);
    const problem = await replay(events, { forgetAfter: 3 });
    expect(problem).toMatchObject({ seq: last.seq, reason: expect.stringMatching(/version 3/) });
    expect(await replay(events)).toEqual(problem);
  });

  it('keeps the versions in the map it is given', async () => {
    const versions = new Map<string, number>();
    const events = await manyStreams();
    expect(await replay(events, { versions })).toBeUndefined();
    expect(versions.get(events.at(-1)!.stream)).toBe(2);
    expect(versions.size).toBe(new Set(events.map((e) => e.stream)).size);
  });
});
