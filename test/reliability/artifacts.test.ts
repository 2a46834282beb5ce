import { type JsonValue, MemoryStore, type SignedFields, sha256b64, Workspace } from '@baton/core';
import { describe, expect, it } from 'vitest';
import { signedBy } from './signedBy.js';

/** A workspace with an agent that may create and edit artifacts, and a way to sign its events by hand. */
async function desk() {
  const clock = { now: Date.parse('2026-11-21T12:00:00.000Z') };
  const store = new MemoryStore();
  const ws = await Workspace.open({ store, clock: () => clock.now });
  const ada = await ws.bootstrap({ name: 'Ada' });
  const owner = ws.as(ada.id);
  const agentId = (await owner.identities.create({ kind: 'agent', name: 'agent' })).id;
  await owner.capabilities.grant({
    to: agentId,
    resource: 'artifact:*',
    actions: ['read', 'create', 'write', 'comment'],
  });
  const agent = ws.as(agentId);
  /** Signs an `artifact.edited` of `id` with `data`, as an outside party holding the agent's key would. */
  const forgedEdit = async (id: string, data: Record<string, JsonValue>) => {
    const d = await agent.can('write', `artifact:${id}`);
    const fields: SignedFields = {
      ws: ws.id!,
      id: `ev_forged_${Math.random().toString(36).slice(2)}`,
      stream: `artifact/${id}`,
      type: 'artifact.edited@1',
      actor: agentId,
      auth: d.allowed ? d.grant.id : '',
      at: new Date(clock.now).toISOString(),
      data: { id, reason: 'forged', ...data },
      refs: [id],
    };
    return signedBy(ws.keyring, fields);
  };
  /** The body hash of a stored body with `text` (stored as the content of a scratch artifact). */
  const stored = async (text: string) => {
    await agent.artifacts.create({ kind: 'text', title: 'scratch', content: text });
    return sha256b64(text);
  };
  return { ws, store, owner, agent, agentId, clock, forgedEdit, stored };
}

async function refusal(p: Promise<unknown>): Promise<{ code?: string; message: string }> {
  return p.then(
    () => ({ message: 'it succeeded' }),
    (err: { code?: string; message: string }) => err,
  );
}

describe('#13 artifact events consistent with state', () => {
  it('#13 refuses a signed artifact.edited whose version is not the head + 1, and the artifact stays readable', async () => {
    const w = await desk();
    const doc = await w.agent.artifacts.create({ kind: 'text', title: 'Doc', content: 'a\n' });
    const change = await w.stored('@@ -1,1 +1,1 @@\n-a\n+b\n');
    const head = await w.store.head();
    const forged = await w.forgedEdit(doc.id, {
      version: 1000,
      baseVersion: 1,
      change,
      contentHash: sha256b64('b\n'),
    });
    const err = await refusal(w.ws.submit([forged]));
    expect(err.code).toBe('INVALID_STATE');
    expect(err.message).toContain('version 1000');
    expect(await w.store.head()).toEqual(head);
    expect((await w.agent.artifacts.get(doc.id)).content).toBe('a\n');
    // The same edit with the right version commits, and reads back.
    await w.ws.submit([
      await w.forgedEdit(doc.id, {
        version: 2,
        baseVersion: 1,
        change,
        contentHash: sha256b64('b\n'),
      }),
    ]);
    expect((await w.agent.artifacts.get(doc.id)).content).toBe('b\n');
    expect((await w.ws.verify()).ok).toBe(true);
  });

  it('#13 refuses an edit whose change does not apply to the head, or gives other content than its contentHash', async () => {
    const w = await desk();
    const doc = await w.agent.artifacts.create({ kind: 'text', title: 'Doc', content: 'a\n' });
    const notADiff = await w.stored('just words');
    const otherBase = await w.stored('@@ -1,1 +1,1 @@\n-z\n+b\n');
    const good = await w.stored('@@ -1,1 +1,1 @@\n-a\n+b\n');
    const head = await w.store.head();
    for (const [change, contentHash] of [
      [notADiff, sha256b64('b\n')],
      [otherBase, sha256b64('b\n')],
      [good, sha256b64('c\n')],
    ] as const) {
      const err = await refusal(
        w.ws.submit([
          await w.forgedEdit(doc.id, { version: 2, baseVersion: 1, change, contentHash }),
        ]),
      );
      expect(err.code).toBe('VALIDATION');
    }
    expect(await w.store.head()).toEqual(head);
  });

  it('#13 refuses a JSON artifact’s change that points at a non-JSON body or would leave non-JSON', async () => {
    const w = await desk();
    const doc = await w.agent.artifacts.create({ kind: 'json', title: 'Cfg', content: { a: 1 } });
    const notJson = await w.stored('not json at all');
    const head = await w.store.head();
    const err = await refusal(
      w.ws.submit([
        await w.forgedEdit(doc.id, {
          version: 2,
          baseVersion: 1,
          change: notJson,
          contentHash: notJson,
        }),
      ]),
    );
    expect(err.code).toBe('VALIDATION');
    expect(err.message).toContain('JSON');
    expect(await w.store.head()).toEqual(head);
    expect((await w.agent.artifacts.get(doc.id)).content).toEqual({ a: 1 });
  });

  it('#13 refuses an edit whose change body does not exist', async () => {
    const w = await desk();
    const doc = await w.agent.artifacts.create({ kind: 'text', title: 'Doc', content: 'a\n' });
    const err = await refusal(
      w.ws.submit([
        await w.forgedEdit(doc.id, {
          version: 2,
          baseVersion: 1,
          change: sha256b64('never stored'),
          contentHash: sha256b64('b\n'),
        }),
      ]),
    );
    expect(err.code).toBe('NOT_FOUND');
  });

  it('#13 still commits and rebuilds ordinary edits, merges, and edits after an erasure', async () => {
    const w = await desk();
    const doc = await w.agent.artifacts.create({
      kind: 'text',
      title: 'Doc',
      content: 'one\ntwo\nthree\nfour\nfive\n',
    });
    await w.agent.artifacts.edit(doc.id, {
      content: 'ONE\ntwo\nthree\nfour\nfive\n',
      baseVersion: 1,
      reason: 'r',
    });
    const merged = await w.agent.artifacts.edit(doc.id, {
      content: 'one\ntwo\nthree\nfour\nFIVE\n',
      baseVersion: 1,
      reason: 'merged',
    });
    expect(merged.content).toBe('ONE\ntwo\nthree\nfour\nFIVE\n');
    for (let i = 0; i < 20; i++)
      await w.agent.artifacts.edit(doc.id, {
        content: `${i}\n`,
        baseVersion: 3 + i,
        reason: `edit ${i}`,
      });
    await w.owner.erase(sha256b64('one\ntwo\nthree\nfour\nfive\n'), 'a secret');
    await w.agent.artifacts.edit(doc.id, { content: 'after\n', baseVersion: 23, reason: 'after' });
    await w.ws.rebuildProjections();
    expect((await w.agent.artifacts.get(doc.id)).content).toBe('after\n');
    expect((await w.ws.verify()).ok).toBe(true);
  });
});

describe('#13 state rules on logs with erased bodies', () => {
  it('#13 imports and rebuilds a log whose artifact and context bodies were erased', async () => {
    const w = await desk();
    const doc = await w.agent.artifacts.create({ kind: 'text', title: 'T', content: 'secret\n' });
    const v2 = await w.agent.artifacts.edit(doc.id, {
      content: 'another secret\n',
      baseVersion: 1,
      reason: 'r',
    });
    await w.agent.artifacts.edit(doc.id, { content: 'public\n', baseVersion: 2, reason: 'r' });
    const note = await w.agent.context.record({ type: 'note', about: [doc.id], text: 'secret' });
    const change = (await w.store.get(
      'artifact-versions',
      `${doc.id}/${'2'.padStart(10, '0')}`,
    )) as {
      change: string;
    };
    for (const h of [sha256b64('secret\n'), change.change, note.body!])
      await w.owner.erase(h, 'a leak');
    expect(v2.version).toBe(2);
    const lines: string[] = [];
    for await (const line of w.ws.export()) lines.push(line);
    const copy = await Workspace.open({
      store: new MemoryStore(),
      keyring: w.ws.keyring,
      clock: () => w.clock.now,
    });
    await copy.import(lines);
    await copy.rebuildProjections();
    await w.ws.rebuildProjections();
    for (const ws of [w.ws, copy]) {
      expect((await ws.verify()).ok).toBe(true);
      // Version 3 is patched forward from the erased bodies: it reads as erased.
      expect((await ws.as(w.agentId).artifacts.get(doc.id)).content).toMatch(/^\[erased by Ada/);
      expect((await ws.as(w.agentId).context.get(note.id)).text).toMatch(/^\[erased by Ada/);
    }
  });
});

describe('#15 artifact edits with bad patches', () => {
  it('#15 refuses an invalid unified-diff patch with VALIDATION naming `patch`, writing nothing', async () => {
    const w = await desk();
    const doc = await w.agent.artifacts.create({ kind: 'text', title: 'Doc', content: 'a\n' });
    const head = await w.store.head();
    for (const patch of ['@@ -1,1 +1,1 @@\n garbage', 'not a diff', '@@ -x +y @@\n']) {
      const err = await refusal(
        w.agent.artifacts.edit(doc.id, { patch, baseVersion: 1, reason: 'r' }),
      );
      expect(err.code, patch).toBe('VALIDATION');
      expect(err.message).toContain('`patch`');
    }
    expect(await w.store.head()).toEqual(head);
  });

  it('#15 refuses a JSON Patch operation whose path is not a string with VALIDATION', async () => {
    const w = await desk();
    const doc = await w.agent.artifacts.create({ kind: 'json', title: 'Cfg', content: { a: 1 } });
    const head = await w.store.head();
    for (const path of [42, null, { x: 1 }, ['a']]) {
      const err = await refusal(
        w.agent.artifacts.edit(doc.id, {
          patch: [{ op: 'replace', path, value: 2 }] as never,
          baseVersion: 1,
          reason: 'r',
        }),
      );
      expect(err.code, JSON.stringify(path)).toBe('VALIDATION');
      expect(err.message).toContain('patch');
    }
    expect(await w.store.head()).toEqual(head);
  });

  it('#15 refuses a JSON Patch path without a leading slash instead of committing an unchanged version', async () => {
    const w = await desk();
    const doc = await w.agent.artifacts.create({ kind: 'json', title: 'Cfg', content: { a: 1 } });
    const head = await w.store.head();
    const err = await refusal(
      w.agent.artifacts.edit(doc.id, {
        patch: [{ op: 'replace', path: 'a', value: 2 }],
        baseVersion: 1,
        reason: 'r',
      }),
    );
    expect(err.code).toBe('VALIDATION');
    expect(err.message).toContain('JSON Pointer');
    expect(await w.store.head()).toEqual(head);
    expect((await w.agent.artifacts.get(doc.id)).head).toBe(1);
    // With the slash it applies.
    const edited = await w.agent.artifacts.edit(doc.id, {
      patch: [{ op: 'replace', path: '/a', value: 2 }],
      baseVersion: 1,
      reason: 'r',
    });
    expect(edited.content).toEqual({ a: 2 });
  });

  it('#15 refuses JSON Patch operations that are not operations, or do not apply, with VALIDATION', async () => {
    const w = await desk();
    const doc = await w.agent.artifacts.create({ kind: 'json', title: 'Cfg', content: { a: [1] } });
    for (const patch of [
      [{ op: 'frobnicate', path: '/a' }],
      [{ op: 'add', path: '/b' }],
      [{ op: 'move', path: '/b' }],
      [{ op: 'remove', path: '/nope/deeper' }],
      [{ op: 'test', path: '/a', value: 2 }],
      [{ op: 'copy', from: '/a', path: '/a/0/x' }],
      [{ op: 'remove', path: '' }],
      'a text patch for a json artifact',
    ]) {
      const err = await refusal(
        w.agent.artifacts.edit(doc.id, { patch: patch as never, baseVersion: 1, reason: 'r' }),
      );
      expect(err.code, JSON.stringify(patch)).toBe('VALIDATION');
    }
  });
});

describe('#19 edit() under concurrent edits', () => {
  it('#19 returns the version each edit created, with its own author and reason, when two actors race with stale bases', async () => {
    const w = await desk();
    const bobId = (await w.owner.identities.create({ kind: 'agent', name: 'bob' })).id;
    await w.owner.capabilities.grant({
      to: bobId,
      resource: 'artifact:*',
      actions: ['read', 'write'],
    });
    const lines = Array.from({ length: 200 }, (_, i) => `line ${i}`);
    const doc = await w.agent.artifacts.create({
      kind: 'text',
      title: 'Doc',
      content: `${lines.join('\n')}\n`,
    });
    // Two more instances on the same memory. The first lets the second edit right after each
    // of its appends — before its edit() returns — as a concurrent process would.
    const mine = w.store.peer();
    let interject: (() => Promise<unknown>) | undefined;
    const append = mine.append.bind(mine);
    mine.append = async (batch) => {
      const out = await append(batch);
      const f = interject;
      interject = undefined;
      if (f) await f();
      return out;
    };
    const opts = { keyring: w.ws.keyring, clock: () => w.clock.now };
    const first = (await Workspace.open({ store: mine, ...opts })).as(w.agentId);
    const second = (await Workspace.open({ store: w.store.peer(), ...opts })).as(bobId);
    /** An edit of one line of version 1 (far from the other's), from that stale base. */
    const edit = async (actor: typeof first, who: number, k: number) => {
      const text = [...lines];
      text[k * 10 + who * 5] = `edited by ${who} (${k})`;
      const reason = `racer ${who} edit ${k}`;
      const a = await actor.artifacts.edit(doc.id, {
        content: `${text.join('\n')}\n`,
        baseVersion: 1,
        reason,
      });
      return { a, reason, line: text[k * 10 + who * 5]!, who };
    };
    const results = [];
    for (let k = 0; k < 5; k++) {
      let theirs: Promise<Awaited<ReturnType<typeof edit>>> | undefined;
      interject = () => {
        theirs = edit(second, 1, k);
        return theirs;
      };
      results.push(await edit(first, 0, k));
      results.push(await theirs!);
    }
    // And free-running races, both instances at once.
    const raced = await Promise.all(
      [first, second].map(async (actor, who) => {
        const out = [];
        for (let k = 5; k < 15; k++) out.push(await edit(actor, who, k));
        return out;
      }),
    );
    results.push(...raced.flat());
    const history = (await w.agent.artifacts.history(doc.id)).items;
    const actors = [w.agentId, bobId];
    for (const { a, reason, line, who } of results) {
      const v = history.find((h) => h.version === a.version)!;
      expect(v.reason).toBe(reason);
      expect(v.author).toBe(actors[who]);
      expect(a.content as string).toContain(line);
    }
    expect(history).toHaveLength(31);
  });
});
