import { describe, expect, it } from 'vitest';
import { type HandoffRow, handoffWrite } from '../src/handoffs/handoffRows.js';
import { type JsonValue, MemoryStore, type ProjectionWrite, Workspace } from '../src/index.js';
import { StreamedRows } from '../src/log/streamedRows.js';
import { world } from './world.js';

/** Writes `projections` into the store behind core's back, as anyone with write access to it can. */
async function plant(store: MemoryStore, projections: ProjectionWrite[]): Promise<void> {
  await store.append({ events: [], expectedHead: await store.head(), projections });
}

async function handedOver() {
  const w = await world();
  await w.me.capabilities.grant({
    to: w.drafter.id,
    resource: 'artifact:*',
    actions: ['read', 'create', 'write', 'comment', 'handoff'],
  });
  await w.me.identities.create({ kind: 'service', name: 'scheduler' });
  const doc = await w.agent.artifacts.create({ kind: 'text', title: 'T', content: 'x' });
  return { ...w, doc };
}

describe('verify() against stored rows', () => {
  it('accepts a handoff escalated to one of its own recipients, whose inbox lists that recipient twice', async () => {
    const w = await handedOver();
    const h = await w.agent.handoffs.offer({
      to: w.ada.id,
      artifacts: [w.doc.id],
      due: w.iso(60_000),
      escalateTo: w.ada.id,
    });
    w.tick(61_000);
    expect((await w.ws.tick()).escalated).toEqual([h.id]);
    const report = await w.ws.verify();
    expect(report.problem).toBeUndefined();
    expect(report.ok).toBe(true);
  });

  it('reports an inbox entry moved to another identity, the row itself unchanged, naming the row', async () => {
    const w = await handedOver();
    const bob = await w.me.identities.create({ kind: 'human', name: 'Bob' });
    await w.me.capabilities.grant({ to: bob.id, resource: 'artifact:*', actions: ['read'] });
    const bobs = await w.agent.handoffs.offer({ to: bob.id, artifacts: [w.doc.id] });
    await w.agent.handoffs.offer({ to: w.ada.id, artifacts: [w.doc.id] });
    expect((await w.ws.verify()).ok).toBe(true);
    // Bob's handoff moved into Ada's inbox, where it comes first (a move that keeps the
    // order of the index cannot be seen: a store's pages do not show the index keys).
    const row = (await w.store.get('handoffs', bobs.id)) as unknown as HandoffRow;
    const write = handoffWrite(row);
    const inbox = (write.indexes!.inbox as string[]).map((k) => k.replace(bob.id, w.ada.id));
    await plant(w.store, [{ ...write, indexes: { ...write.indexes, inbox } }]);
    expect(await w.store.get('handoffs', bobs.id)).toEqual(row);
    const report = await w.ws.verify();
    expect(report.ok).toBe(false);
    expect(report.problem?.row).toMatch(/^handoffs\//);
    expect(report.problem?.reason).toMatch(/index "inbox" of handoffs does not match/);
  });

  it('names a row changed at the start of a longer log, one a late edit reads again', async () => {
    const w = await handedOver();
    for (let i = 0; i < 300; i++)
      await w.agent.context.record({ type: 'note', about: [w.doc.id], text: `note ${i}` });
    // The edit reads the artifact's first version row, compared with the store long before.
    await w.agent.artifacts.edit(w.doc.id, { content: 'y', baseVersion: 1, reason: 'late edit' });
    expect((await w.ws.verify()).problem).toBeUndefined();

    const copy = w.store.peer();
    const version = `${w.doc.id}/${String(1).padStart(10, '0')}`;
    const stored = (await copy.get('artifact-versions', version)) as Record<string, unknown>;
    await plant(copy, [
      { collection: 'artifact-versions', key: version, value: { ...stored, author: w.ada.id } },
    ]);
    const other = await Workspace.open({ store: copy, tickIntervalMs: 0 });
    const report = await other.verify();
    expect(report.problem?.row).toBe(`artifact-versions/${version}`);
    expect(report.problem?.reason).toMatch(/author is .* in the store/);
    await other.close();
  });
});

describe('StreamedRows', () => {
  const row = (key: string, value: JsonValue | null, indexes?: Record<string, string>) => ({
    collection: 'docs',
    key,
    value,
    ...(indexes ? { indexes } : {}),
  });

  it('reads a row it compared and let go of back from the store, and a row never written as absent whatever the store holds', async () => {
    const store = new MemoryStore();
    await plant(store, [row('kept', { v: 1 }), row('other', { v: 2 }), row('planted', { v: 9 })]);
    const rows = new StreamedRows(store, { settleRows: 1, recentRows: 1 });
    rows.put(row('kept', { v: 1 }));
    await rows.settle();
    rows.put(row('other', { v: 2 }));
    await rows.settle();
    expect(rows.peek('docs', 'kept')).toBe('stored');
    expect(await rows.get('docs', 'kept')).toEqual({ v: 1 });
    expect(await rows.get('docs', 'planted')).toBeUndefined();
    expect(rows.peek('docs', 'planted')).toBeUndefined();
  });

  it('agrees with the store only when it holds exactly the rows written last, with their index entries', async () => {
    const store = new MemoryStore();
    const written = [row('a', { v: 1 }, { tag: 'x' }), row('b', { v: 2 }, { tag: 'w' })];
    await plant(store, written);
    const finish = async (...extra: ProjectionWrite[]) => {
      const rows = new StreamedRows(store, { settleRows: 1, recentRows: 1 });
      rows.put(row('a', { v: 0 }));
      for (const w of [...written, ...extra]) {
        rows.put(w);
        await rows.settle();
      }
      return rows.finish(['docs']);
    };
    expect(await finish()).toBe(true);
    // A row deleted after the store's copy was written: the store still holds it.
    expect(await finish(row('a', null))).toBe(false);
    // Index entries the store does not have.
    expect(await finish(row('b', { v: 2 }, { tag: 'y' }))).toBe(false);
    await plant(store, [row('c', { v: 3 })]);
    expect(await finish()).toBe(false);
    expect(await finish(row('c', { v: 3 }))).toBe(true);
  });
});
