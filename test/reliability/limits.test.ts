import {
  canonicalJson,
  defineEventType,
  findNonJson,
  type JsonValue,
  MAX_JSON_DEPTH,
  MemoryStore,
  type SignedFields,
  Workspace,
} from '@baton/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

const noted = defineEventType({
  name: 'app.noted',
  schema: z.object({ note: z.unknown() }),
  stream: () => 'app/notes',
  blobs: () => [],
});

async function desk() {
  const clock = { now: Date.parse('2026-11-21T12:00:00.000Z') };
  const store = new MemoryStore();
  const ws = await Workspace.open({ store, clock: () => clock.now, eventTypes: [noted as never] });
  const ada = await ws.bootstrap({ name: 'Ada' });
  const owner = ws.as(ada.id);
  const agentId = (await owner.identities.create({ kind: 'agent', name: 'agent' })).id;
  await owner.capabilities.grant({
    to: agentId,
    resource: 'artifact:*',
    actions: ['read', 'create', 'write', 'comment'],
  });
  return { ws, store, owner, ada, agent: ws.as(agentId), clock };
}

/** Arrays nested `depth` deep around 1. */
function nested(depth: number): JsonValue {
  let v: JsonValue = 1;
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { k: v };
  return v;
}

/** What a call threw: its code and message, or `'ok'` when it did not throw. */
async function outcome(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
    return 'ok';
  } catch (err) {
    const e = err as { name?: string; code?: string };
    return e.name === 'BatonError' ? (e.code ?? 'no code') : `${e.name}: ${String(err)}`;
  }
}

describe('#16 JSON nesting', () => {
  it('#16 refuses JSON nested 20,000 deep with VALIDATION wherever JSON enters, writing nothing', async () => {
    const w = await desk();
    const deep = nested(20_000);
    const doc = await w.agent.artifacts.create({ kind: 'json', title: 'Cfg', content: { a: 1 } });
    const head = await w.store.head();
    const calls: [string, () => unknown][] = [
      [
        'create content',
        () => w.agent.artifacts.create({ kind: 'json', title: 'x', content: deep }),
      ],
      [
        'create meta',
        () =>
          w.agent.artifacts.create({ kind: 'text', title: 'x', content: '', meta: { m: deep } }),
      ],
      [
        'edit content',
        () => w.agent.artifacts.edit(doc.id, { content: deep, baseVersion: 1, reason: 'r' }),
      ],
      [
        'edit patch value',
        () =>
          w.agent.artifacts.edit(doc.id, {
            patch: [{ op: 'add', path: '/b', value: deep }],
            baseVersion: 1,
            reason: 'r',
          }),
      ],
      ['emit data', () => w.owner.emit('app.noted', { note: deep })],
      [
        'identity meta',
        () => w.owner.identities.create({ kind: 'agent', name: 'deep', meta: { m: deep } }),
      ],
      [
        'approval payload',
        () => w.owner.handoffs.requestApproval({ action: 'publish', resource: 'x', payload: deep }),
      ],
      ['authorize payload', () => w.owner.authorize('publish', 'artifact:x', { payload: deep })],
      ['canonicalJson', () => canonicalJson(deep)],
      [
        'submit',
        async () => {
          const fields: SignedFields = {
            ws: w.ws.id!,
            id: 'ev_deep',
            stream: 'app/notes',
            type: 'app.noted@1',
            actor: w.ada.id,
            at: new Date(w.clock.now).toISOString(),
            data: { note: deep },
            refs: [],
          };
          // A signature cannot even be computed over it: submit it with any.
          return w.ws.submit([{ ...fields, sig: 'A'.repeat(86) }]);
        },
      ],
    ];
    for (const [what, call] of calls) expect(await outcome(call), what).toBe('VALIDATION');
    expect(findNonJson(deep)).toMatch(/nests deeper than/);
    expect(await w.store.head()).toEqual(head);
    // Nesting up to the limit is fine.
    const fine = await w.agent.artifacts.create({
      kind: 'json',
      title: 'deep but fine',
      content: nested(MAX_JSON_DEPTH),
    });
    expect(fine.content).toEqual(nested(MAX_JSON_DEPTH));
  });

  it('#16 refuses a JSON edit that would nest the artifact past the limit, so it never becomes unreadable', async () => {
    const w = await desk();
    const doc = await w.agent.artifacts.create({
      kind: 'json',
      title: 'Deep',
      content: nested(MAX_JSON_DEPTH - 2),
    });
    // A value 10 deep added 60 levels down: each part within the limit, the result past it.
    let path = '';
    for (let i = MAX_JSON_DEPTH - 3; i >= 0; i--) path += i % 2 ? '/0' : '/k';
    const head = await w.store.head();
    const err = await outcome(
      w.agent.artifacts.edit(doc.id, {
        patch: [{ op: 'replace', path, value: nested(10) }],
        baseVersion: 1,
        reason: 'deeper',
      }),
    );
    expect(err).toBe('VALIDATION');
    expect(await w.store.head()).toEqual(head);
    // Copies cannot stack it deeper either.
    expect(
      await outcome(
        w.agent.artifacts.edit(doc.id, {
          patch: [{ op: 'copy', from: '', path: `${path.slice(0, -2)}/x` }],
          baseVersion: 1,
          reason: 'copy',
        }),
      ),
    ).toBe('VALIDATION');
    await expect(w.agent.artifacts.get(doc.id)).resolves.toMatchObject({ version: 1 });
    await expect(w.agent.artifacts.diff(doc.id, 1, 1)).resolves.toBe('[]');
    await expect(
      w.agent.artifacts.edit(doc.id, { content: { flat: true }, baseVersion: 1, reason: 'flat' }),
    ).resolves.toMatchObject({ version: 2, content: { flat: true } });
  });

  it('#16 refuses a JSON Patch whose copies would grow the content past its size limit', async () => {
    const w = await desk();
    const doc = await w.agent.artifacts.create({
      kind: 'json',
      title: 'Big',
      content: { a: 'x'.repeat(1_000_000) },
    });
    const patch = Array.from({ length: 30 }, (_, i) => ({
      op: 'copy' as const,
      from: i === 0 ? '/a' : `/c${i - 1}`,
      path: `/c${i}`,
    }));
    const t = performance.now();
    expect(
      await outcome(w.agent.artifacts.edit(doc.id, { patch, baseVersion: 1, reason: 'grow' })),
    ).toBe('VALIDATION');
    expect(performance.now() - t).toBeLessThan(5_000);
  });
});

describe('#17 bounded text diffs', () => {
  it('#17 edits a full rewrite of a 40,000-line document in under a second, and reads it back', {
    timeout: 60_000,
  }, async () => {
    const w = await desk();
    const old = Array.from({ length: 40_000 }, (_, i) => `line ${i} of the old text`).join('\n');
    const next = Array.from({ length: 40_000 }, (_, i) => `line ${i} of the new text`).join('\n');
    const doc = await w.agent.artifacts.create({ kind: 'text', title: 'Long', content: old });
    const t = performance.now();
    const edited = await w.agent.artifacts.edit(doc.id, {
      content: next,
      baseVersion: 1,
      reason: 'rewrite',
    });
    const ms = performance.now() - t;
    console.log(`#17 full rewrite of 40,000 lines: edit took ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(3_000);
    expect(edited.content).toBe(next);
    expect((await w.agent.artifacts.get(doc.id, { version: 1 })).content).toBe(old);
    const d = performance.now();
    const diff = await w.agent.artifacts.diff(doc.id, 1, 2);
    console.log(`#17 diff of the two versions took ${(performance.now() - d).toFixed(0)} ms`);
    expect(diff).toContain('+line 39999 of the new text');
  });

  it('#17 merges a full rewrite from a stale base in bounded time (a conflict, not a hang)', {
    timeout: 60_000,
  }, async () => {
    const w = await desk();
    // Repeated lines are the worst case of LCS-based merges.
    const base = Array.from({ length: 20_000 }, (_, i) => (i % 2 ? '' : `b${i}`)).join('\n');
    const doc = await w.agent.artifacts.create({ kind: 'text', title: 'Long', content: base });
    await w.agent.artifacts.edit(doc.id, {
      content: base.replace('b0', 'B0'),
      baseVersion: 1,
      reason: 'small',
    });
    const yours = Array.from({ length: 20_000 }, (_, i) => (i % 2 ? '' : `y${i}`)).join('\n');
    const t = performance.now();
    const r = await outcome(
      w.agent.artifacts.edit(doc.id, { content: yours, baseVersion: 1, reason: 'rewrite' }),
    );
    const ms = performance.now() - t;
    console.log(`#17 stale-base rewrite of 20,000 lines: merge took ${ms.toFixed(0)} ms (${r})`);
    expect(ms).toBeLessThan(5_000);
    expect(r).toBe('MERGE_CONFLICT');
  });

  it('#17 gives diffs that turn each version into the next, as a patch through the public API', async () => {
    const w = await desk();
    const text = fc
      .array(fc.constantFrom('a', 'b', 'c', '', 'dd', 'é'), { maxLength: 30 })
      .map((l) => l.join('\n'));
    await fc.assert(
      fc.asyncProperty(text, text, async (a, b) => {
        const x = await w.agent.artifacts.create({ kind: 'text', title: 'x', content: a });
        await w.agent.artifacts.edit(x.id, { content: b, baseVersion: 1, reason: 'r' });
        const patch = await w.agent.artifacts.diff(x.id, 1, 2);
        const y = await w.agent.artifacts.create({ kind: 'text', title: 'y', content: a });
        const edited = await w.agent.artifacts.edit(y.id, { patch, baseVersion: 1, reason: 'p' });
        expect(edited.content).toBe(b);
      }),
      { numRuns: 60 },
    );
  });
});

describe('#18 sizes in UTF-8 bytes, and per call', () => {
  const emoji = '😀'; // two UTF-16 units, four bytes

  it('#18 refuses text content over 8 MiB of UTF-8 even when it is fewer UTF-16 units', async () => {
    const w = await desk();
    const head = await w.store.head();
    const content = emoji.repeat(3_000_000); // 6 M units, 12 MB
    expect(await outcome(w.agent.artifacts.create({ kind: 'text', title: 'big', content }))).toBe(
      'VALIDATION',
    );
    expect(await w.store.head()).toEqual(head);
  }, 30_000);

  it('#18 refuses inline event data and metadata over their limits in bytes', async () => {
    const w = await desk();
    const head = await w.store.head();
    // 200,000 units (under 256 Ki units) but 400,000 bytes.
    expect(await outcome(w.owner.emit('app.noted', { note: emoji.repeat(100_000) }))).toBe(
      'VALIDATION',
    );
    // 10,000 units of metadata (under 16 Ki) but 20,000 bytes.
    expect(
      await outcome(
        w.agent.artifacts.create({
          kind: 'text',
          title: 't',
          content: '',
          meta: { m: emoji.repeat(5_000) },
        }),
      ),
    ).toBe('VALIDATION');
    // Context words: 600,000 units (under 1,000,000) but 1.2 MB.
    expect(
      await outcome(w.owner.context.record({ type: 'note', text: emoji.repeat(300_000) })),
    ).toBe('VALIDATION');
    expect(await w.store.head()).toEqual(head);
  });

  it('#18 caps the bodies of one emit at 64 MiB in total', async () => {
    const w = await desk();
    const head = await w.store.head();
    const bodies = Array.from({ length: 5 }, (_, i) => new Uint8Array(16 * 1024 * 1024).fill(i));
    const err = await outcome(w.owner.emit('app.noted', { note: 'big' }, { blobs: bodies }));
    expect(err).toBe('VALIDATION');
    expect(await w.store.head()).toEqual(head);
  }, 30_000);
});
