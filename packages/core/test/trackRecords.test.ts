import { describe, expect, it } from 'vitest';
import {
  type Actor,
  type BatonEvent,
  isBatonError,
  type Store,
  type TrackRecord,
  Workspace,
} from '../src/index.js';
import { world } from './world.js';

/**
 * The track record as `identities.record` computed it before the `records` projection: a scan
 * of the whole log. Kept here as the oracle the projection must agree with.
 */
async function scannedRecord(store: Store, id: string, name: string): Promise<TrackRecord> {
  const r: TrackRecord = {
    id,
    name,
    handoffs: { offered: 0, accepted: 0, completed: 0, returned: 0, declined: 0 },
    approvals: { requested: 0, granted: 0, denied: 0, approvedForOthers: 0, deniedForOthers: 0 },
    edits: { total: 0, reverted: 0 },
    cost: { entries: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 },
  };
  const edits: { artifact: string; version: number }[] = [];
  const hashes = new Map<string, Map<number, string>>();
  for await (const e of store.read() as AsyncIterable<BatonEvent>) {
    const d = e.data as Record<string, unknown>;
    const mine = e.actor === id;
    switch (e.type) {
      case 'handoff.offered@1':
        if (mine && d.kind === 'approval') r.approvals.requested++;
        else if (mine) r.handoffs.offered++;
        break;
      case 'handoff.accepted@1':
      case 'handoff.completed@1':
      case 'handoff.returned@1':
      case 'handoff.declined@1': {
        const k = e.type.slice('handoff.'.length, -2) as keyof TrackRecord['handoffs'];
        if (mine) r.handoffs[k]++;
        break;
      }
      case 'handoff.decided@1':
        if (d.requester === id) r.approvals[d.decision === 'approved' ? 'granted' : 'denied']++;
        if (mine)
          r.approvals[d.decision === 'approved' ? 'approvedForOthers' : 'deniedForOthers']++;
        break;
      case 'artifact.created@1':
      case 'artifact.edited@1': {
        const art = d.id as string;
        const version = (d.version as number | undefined) ?? 1;
        const m = hashes.get(art) ?? new Map<number, string>();
        m.set(version, d.contentHash as string);
        hashes.set(art, m);
        if (mine && e.type === 'artifact.edited@1') edits.push({ artifact: art, version });
        break;
      }
      case 'context.recorded@1':
        if (mine && d.type === 'usage') {
          const u =
            (
              d.fields as {
                usage?: { inputTokens?: number; outputTokens?: number; costUsd?: number };
              }
            ).usage ?? {};
          r.cost.entries++;
          r.cost.inputTokens += u.inputTokens ?? 0;
          r.cost.outputTokens += u.outputTokens ?? 0;
          r.cost.costUsd += u.costUsd ?? 0;
        }
        break;
    }
  }
  r.edits.total = edits.length;
  for (const { artifact, version } of edits) {
    const m = hashes.get(artifact)!;
    const before = m.get(version - 1);
    for (const [v, h] of m) {
      if (v > version && h === before) {
        r.edits.reverted++;
        break;
      }
    }
  }
  return r;
}

/** A small deterministic generator (mulberry32), so the varied log is the same on every run. */
function random(seed: number) {
  let a = seed;
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]! };
}

/**
 * Three identities working on four artifacts for `steps` steps: edits drawn from a few
 * contents (so many go back to an earlier version, some change nothing, some revert twice),
 * work handoffs offered and then accepted, completed, returned or declined, approvals asked
 * and granted or denied, usage recorded.
 */
async function variedLog(seed: number, steps: number) {
  const w = await world();
  const checker = await w.me.identities.create({ kind: 'agent', name: 'checker' });
  for (const to of [w.drafter.id, checker.id]) {
    await w.me.capabilities.grant({
      to,
      resource: 'artifact:*',
      actions: ['read', 'create', 'write', 'comment', 'handoff', 'publish'],
      requiresApproval: [{ action: 'publish' }],
    });
  }
  const people: { id: string; name: string; as: Actor }[] = [
    { id: w.ada.id, name: 'Ada', as: w.me },
    { id: w.drafter.id, name: 'drafter', as: w.agent },
    { id: checker.id, name: 'checker', as: w.ws.as(checker.id) },
  ];
  const rnd = random(seed);
  const docs: string[] = [];
  for (let i = 0; i < 4; i++) {
    const by = rnd.pick(people);
    docs.push((await by.as.artifacts.create({ kind: 'text', title: `d${i}`, content: 'a\n' })).id);
  }
  const contents = ['a\n', 'b\n', 'c\n', 'a\nb\n'];
  for (let step = 0; step < steps; step++) {
    const by = rnd.pick(people);
    const doc = rnd.pick(docs);
    const roll = rnd.next();
    if (roll < 0.55) {
      const head = await by.as.artifacts.get(doc);
      // Some edits start from the version before the head: merged over it, or refused.
      const stale = head.version > 1 && rnd.next() < 0.2;
      await by.as.artifacts
        .edit(doc, {
          content: rnd.pick(contents),
          baseVersion: stale ? head.version - 1 : head.version,
          reason: `step ${step}`,
        })
        .catch((err: unknown) => {
          if (!(stale && isBatonError(err, 'MERGE_CONFLICT'))) throw err;
        });
    } else if (roll < 0.75) {
      const to = rnd.pick(people.filter((p) => p !== by));
      const h = await by.as.handoffs.offer({ to: to.id, artifacts: [doc] });
      const end = rnd.next();
      if (end < 0.25) await to.as.handoffs.decline(h.id);
      else {
        await to.as.handoffs.accept(h.id);
        if (end < 0.6) await to.as.handoffs.complete(h.id);
        else if (end < 0.9) await to.as.handoffs.return(h.id);
      }
    } else if (roll < 0.87 && by.id !== w.ada.id) {
      const a = await by.as.handoffs.requestApproval({
        action: 'publish',
        resource: `artifact:${doc}`,
        payload: { step },
      });
      if (rnd.next() < 0.5) await w.me.handoffs.approve(a.id);
      else await w.me.handoffs.deny(a.id);
    } else {
      await by.as.context.record({
        type: 'usage',
        about: [doc],
        text: `work ${step}`,
        usage: {
          inputTokens: Math.floor(rnd.next() * 1000),
          outputTokens: Math.floor(rnd.next() * 100),
          costUsd: rnd.next() / 100,
        },
      });
    }
  }
  return { ...w, people };
}

describe('identities.record', () => {
  it('equals the count a scan of the whole log gives, for every identity of a varied log', async () => {
    const w = await variedLog(18, 120);
    let reverted = 0;
    for (const p of w.people) {
      const record = await w.me.identities.record(p.id);
      expect(record).toEqual(await scannedRecord(w.store, p.id, p.name));
      reverted += record.edits.reverted;
    }
    // The log does exercise reverts and merges.
    expect(reverted).toBeGreaterThan(3);
    const { items } = await w.me.log({ types: ['artifact.edited'], limit: 1000 });
    expect(items.some((e) => (e.data as { mergedFrom?: number }).mergedFrom)).toBe(true);
  });

  it('gives the same records after rebuildProjections, and in another instance', async () => {
    const w = await variedLog(7, 60);
    const before = await Promise.all(w.people.map((p) => w.me.identities.record(p.id)));
    await w.ws.rebuildProjections();
    expect(await Promise.all(w.people.map((p) => w.me.identities.record(p.id)))).toEqual(before);
    expect((await w.ws.verify()).ok).toBe(true);
    const peer = (await w.peer()).as(w.ada.id);
    expect(await Promise.all(w.people.map((p) => peer.identities.record(p.id)))).toEqual(before);
  });

  it('counts an edit reverted once, by the first later version that has the content before it', async () => {
    const w = await world();
    const doc = await w.me.artifacts.create({ kind: 'text', title: 't', content: 'a\n' });
    const edit = async (content: string, base: number) =>
      w.me.artifacts.edit(doc.id, { content, baseVersion: base, reason: 'r' });
    await edit('b\n', 1); // v2: reverted by v3
    await edit('a\n', 2); // v3: reverted by v4 (back to b)
    await edit('b\n', 3); // v4: reverted by v5 — and v2 is not counted again
    await edit('a\n', 4); // v5
    await edit('a\n', 5); // v6: changes nothing, and reverts nothing it follows (v5 was a)
    expect((await w.me.identities.record(w.ada.id)).edits).toEqual({ total: 5, reverted: 3 });
    expect(await w.me.identities.record(w.ada.id)).toEqual(
      await scannedRecord(w.store, w.ada.id, 'Ada'),
    );
  });
});

describe('identities.record cost', () => {
  it('reads as many rows after 40 edits as after 4', async () => {
    const { countingStore } = await import('./countingStore.js');
    const reads = async (edits: number) => {
      const w = await world();
      const doc = await w.me.artifacts.create({ kind: 'text', title: 't', content: 'a\n' });
      for (let v = 1; v <= edits; v++) {
        await w.me.artifacts.edit(doc.id, { content: `${v % 3}\n`, baseVersion: v, reason: 'r' });
      }
      const counted = countingStore(w.store.peer());
      const peer = await Workspace.open({
        store: counted.store,
        keyring: w.ws.keyring,
        tickIntervalMs: 0,
      });
      counted.reset();
      await peer.as(w.ada.id).identities.record(w.ada.id);
      return { ...counted.counts };
    };
    expect(await reads(40)).toEqual(await reads(4));
  });
});
