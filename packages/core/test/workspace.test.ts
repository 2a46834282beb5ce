import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { z } from 'zod';
import {
  type BatonEvent,
  defineEventType,
  MemoryKeyring,
  MemoryStore,
  Workspace,
} from '../src/index.js';
import { KeyDirectory } from '../src/node/index.js';
import { countingStore } from './countingStore.js';
import { world } from './world.js';

describe('Workspace', () => {
  it('refuses to bootstrap twice and refuses commands before bootstrap', async () => {
    const w = await world();
    await expect(w.ws.bootstrap({ name: 'Eve' })).rejects.toMatchObject({ code: 'INVALID_STATE' });
    const empty = await Workspace.open();
    await expect(
      empty.as('id_nobody').identities.create({ kind: 'agent', name: 'x' }),
    ).rejects.toMatchObject({
      code: 'INVALID_STATE',
      message: expect.stringMatching(/bootstrap/),
    });
  });

  it('opens on a long log from its newest checkpoint, replaying only the events after it', async () => {
    const w = await world();
    for (let i = 0; i < 300; i++) await w.me.identities.create({ kind: 'agent', name: `a${i}` });
    await w.ws.checkpoint();
    for (let i = 0; i < 2; i++) await w.me.identities.create({ kind: 'agent', name: `b${i}` });
    const { store, counts: counter } = countingStore(w.store.peer());
    const ws2 = await Workspace.open({ store, keyring: w.ws.keyring, clock: () => w.clock.now });
    // The checkpointed event, the bootstrap event (the signer's key), and the two after it.
    expect(counter.events).toBeLessThanOrEqual(4);
    expect(ws2.info?.owners).toEqual([w.ada.id]);
    expect((await ws2.as(w.ada.id).identities.list({ limit: 1000 })).items).toHaveLength(304);
    await ws2.as(w.ada.id).identities.create({ kind: 'agent', name: 'after-open' });
    expect((await ws2.verify()).ok).toBe(true);
  });

  it('builds the same view by opening as by replaying', async () => {
    const w = await world();
    const g = await w.me.capabilities.grant({
      to: w.drafter.id,
      resource: 'email:*',
      actions: ['email.send'],
      maxUses: 3,
    });
    await w.agent.authorize('email.send', 'email:1');
    await w.me.identities.suspend(w.drafter.id);
    const ws2 = await w.peer();
    expect(ws2._view.grant(g.id)).toEqual(w.ws._view.grant(g.id));
    expect(ws2._view.identity(w.drafter.id)).toEqual(w.ws._view.identity(w.drafter.id));
    expect(ws2._view.grant(g.id)?.uses).toBe(1);
  });

  it('subscribes with catch-up then live, across instances, in commit order', async () => {
    const w = await world({ pollIntervalMs: 1_000 });
    const ws2 = await w.peer({ pollIntervalMs: 1_000 });
    const seen: number[] = [];
    const stop = ws2.subscribe({ after: 0 }, (e) => {
      seen.push(e.seq);
    });
    await expect.poll(() => seen.length).toBe(2);
    for (let i = 0; i < 5; i++) await w.me.identities.create({ kind: 'agent', name: `a${i}` });
    await expect.poll(() => seen.length, { timeout: 500 }).toBe(7);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7]);
    stop();
  });

  it('gives a slow consumer every event in order while holding at most a page', async () => {
    const w = await world({ pollIntervalMs: 10 });
    const seen: number[] = [];
    const stop = w.ws.subscribe({ after: 0 }, async (e) => {
      seen.push(e.seq);
      if (e.seq % 100 === 0) await new Promise((r) => setTimeout(r, 5));
    });
    for (let i = 0; i < 600; i++) await w.me.identities.create({ kind: 'agent', name: `a${i}` });
    await expect.poll(() => seen.length, { timeout: 5_000 }).toBe(602);
    expect(seen).toEqual(Array.from({ length: 602 }, (_, i) => i + 1));
    stop();
  });

  it('watches as an async iterator with filters and stops on abort', async () => {
    const w = await world({ pollIntervalMs: 10 });
    const ac = new AbortController();
    const got: BatonEvent[] = [];
    const done = (async () => {
      for await (const e of w.ws.watch({ types: ['grant.issued'], signal: ac.signal })) {
        got.push(e);
        if (got.length === 2) ac.abort();
      }
    })();
    await w.me.identities.create({ kind: 'agent', name: 'x' });
    await w.me.capabilities.grant({ to: w.drafter.id, resource: 'a:*', actions: ['read'] });
    await w.me.capabilities.grant({ to: w.drafter.id, resource: 'b:*', actions: ['read'] });
    await done;
    expect(got.map((e) => e.type)).toEqual(['grant.issued@1', 'grant.issued@1']);
  });

  it('pages through the log with a cursor, missing nothing and repeating nothing', async () => {
    const w = await world();
    for (let i = 0; i < 25; i++) await w.me.identities.create({ kind: 'agent', name: `a${i}` });
    const seqs: number[] = [];
    let after: number | undefined;
    for (;;) {
      const page = await w.me.log({ after, limit: 10 });
      seqs.push(...page.items.map((e) => e.seq));
      if (!page.next) break;
      after = Number(page.next);
    }
    expect(seqs).toEqual(Array.from({ length: 27 }, (_, i) => i + 1));
    const agents = await w.me.log({ types: ['identity.created@1'], limit: 5 });
    expect(agents.items.every((e) => e.type === 'identity.created@1')).toBe(true);
    // A type's name stands for all its versions, as in watch().
    const byName = await w.me.log({ types: ['identity.created'], limit: 5 });
    expect(byName.items.map((e) => e.id)).toEqual(agents.items.map((e) => e.id));
  });

  it('calls onAppend and logs through the injected logger', async () => {
    const appended: number[] = [];
    const lines: string[] = [];
    const log = (m: string) => lines.push(m);
    const w = await world({
      hooks: { onAppend: (es) => appended.push(...es.map((e) => e.seq)) },
      logger: { debug: log, info: log, warn: log, error: log },
    });
    await w.me.identities.create({ kind: 'agent', name: 'x' });
    expect(appended).toEqual([1, 2, 3]);
    expect(lines).toContain('appended');
  });

  it('keeps working when a hook throws', async () => {
    const w = await world({
      hooks: {
        onAppend: () => {
          throw new Error('boom');
        },
      },
    });
    await expect(w.me.identities.create({ kind: 'agent', name: 'x' })).resolves.toBeDefined();
  });

  it('records app-defined event types in the same signed log', async () => {
    const deployed = defineEventType({
      name: 'app.deployed',
      schema: z.object({ env: z.enum(['prod', 'staging']), version: z.string() }),
      stream: (d) => `deploy/${d.env}`,
    });
    const w = await world({ eventTypes: [deployed as never] });
    await expect(
      w.agent.emit('app.deployed', { env: 'prod', version: '1.2' }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await w.me.capabilities.grant({ to: w.drafter.id, resource: 'deploy:*', actions: ['write'] });
    const e = await w.agent.emit(
      'app.deployed',
      { env: 'prod', version: '1.2' },
      { refs: ['v1.2'] },
    );
    expect(e).toMatchObject({ type: 'app.deployed@1', stream: 'deploy/prod', actor: w.drafter.id });
    await expect(w.agent.emit('app.deployed', { env: 'moon', version: '1' })).rejects.toMatchObject(
      { code: 'VALIDATION' },
    );
    await expect(w.agent.emit('grant.issued', {})).rejects.toMatchObject({ code: 'VALIDATION' });
    expect((await w.ws.verify()).ok).toBe(true);
  });
});

describe('verify and ingest', () => {
  it('reports the first tampered event by seq', async () => {
    const w = await world();
    for (let i = 0; i < 5; i++) await w.me.identities.create({ kind: 'agent', name: `a${i}` });
    const events: BatonEvent[] = [];
    for await (const e of w.store.read()) events.push(structuredClone(e));
    (events[3]!.data as { name: string }).name = 'mallory';
    const copy = new MemoryStore();
    let head = { seq: 0, hash: '' };
    for (const e of events) head = await copy.append({ events: [e], expectedHead: head });
    const ws2 = await Workspace.open({ store: copy });
    const report = await ws2.verify();
    expect(report).toMatchObject({
      ok: false,
      problem: { seq: 4, reason: expect.stringMatching(/hash/) },
    });
  });

  it('copies a log into a fresh store by ingest, and refuses a tampered one writing nothing', async () => {
    const w = await world();
    await w.me.capabilities.grant({
      to: w.drafter.id,
      resource: 'email:*',
      actions: ['email.send'],
    });
    await w.agent.authorize('email.send', 'email:1');
    const events: BatonEvent[] = [];
    for await (const e of w.store.read()) events.push(e);
    const target = await Workspace.open({ clock: () => w.clock.now });
    const head = await target.ingest(events);
    expect(head).toEqual(await w.store.head());
    expect((await target.verify()).ok).toBe(true);

    const bad = events.map((e) => structuredClone(e));
    bad[2]!.sig = bad[1]!.sig;
    const other = await Workspace.open({ clock: () => w.clock.now });
    await expect(other.ingest(bad)).rejects.toMatchObject({ code: 'INTEGRITY' });
    expect(await other.store.head()).toEqual({ seq: 0, hash: '' });
  });
});

describe('keys', () => {
  it('rotates a key in an event signed by the old one; the old key can no longer sign', async () => {
    const w = await world();
    const ring = w.ws.keyring as MemoryKeyring;
    const old = (await ring.signer(w.drafter.id))!;
    await w.agent.identities.rotateKey();
    const after = await w.me.identities.get(w.drafter.id);
    expect(after?.keys).toHaveLength(2);
    expect(after?.keys[0]).toMatchObject({ key: old.publicKey, until: expect.any(Number) });
    await w.me.capabilities.grant({
      to: w.drafter.id,
      resource: 'email:*',
      actions: ['email.send'],
    });
    await expect(w.agent.authorize('email.send', 'email:1')).resolves.toBeDefined();
    await expect(
      w.ws.as(w.drafter.id, { signer: old }).authorize('email.send', 'email:2'),
    ).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: expect.stringMatching(/not registered/),
    });
    expect((await w.ws.verify()).ok).toBe(true);
  });

  it('lets a second owner recover a first owner whose key is lost', async () => {
    const keyring = new MemoryKeyring();
    const ws = await Workspace.open({ keyring });
    const ada = await ws.bootstrap({ name: 'Ada', owners: [{ name: 'Bob' }] });
    const bob = ws.info!.owners[1]!;
    await ws.as(bob).identities.rotateKey(ada.id);
    expect((await ws.as(ada.id).me()).keys.filter((k) => k.until === undefined)).toHaveLength(1);
    expect((await ws.verify()).ok).toBe(true);
  });

  it('leaves no key behind when creating an identity is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-keys-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const keys = new KeyDirectory({ path: dir });
    const ws = await Workspace.open({ keyring: keys });
    const ada = await ws.bootstrap({ name: 'Ada' });
    const drafter = await ws
      .as(ada.id)
      .identities.create({ kind: 'agent', name: 'drafter', generateKey: true });
    const before = readdirSync(dir).sort();
    // The agent holds no grant to create identities: refused, and its would-be key is gone.
    await expect(
      ws.as(drafter.id).identities.create({ kind: 'agent', name: 'helper', generateKey: true }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(readdirSync(dir).sort()).toEqual(before);
    // The same with keys kept in memory: no signer remains for an identity that never was.
    const memory = new MemoryKeyring();
    const ws2 = await Workspace.open({ keyring: memory });
    const bob = await ws2.bootstrap({ name: 'Bob' });
    const agent = await ws2.as(bob.id).identities.create({ kind: 'agent', name: 'a' });
    let made: string | undefined;
    const spy = {
      ...memory,
      generate: async (id: string) => {
        made = id;
        return memory.generate(id);
      },
      signer: memory.signer.bind(memory),
      discard: memory.discard.bind(memory),
    };
    const ws3 = await Workspace.open({ store: ws2.store, keyring: spy });
    await expect(
      ws3.as(agent.id).identities.create({ kind: 'agent', name: 'b', generateKey: true }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(made).toBeDefined();
    expect(await memory.signer(made!)).toBeUndefined();
  });

  it('gives an agent process only its own key file (0600) so it cannot sign as its owner', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-keys-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const ownerKeys = new KeyDirectory({ path: join(dir, 'owner') });
    const store = new MemoryStore();
    const ws = await Workspace.open({ store, keyring: ownerKeys });
    const ada = await ws.bootstrap({ name: 'Ada' });
    const agentKeys = new KeyDirectory({ path: join(dir, 'agent') });
    const drafterKey = await agentKeys.generate('pending');
    const drafter = await ws
      .as(ada.id)
      .identities.create({ kind: 'agent', name: 'drafter', key: drafterKey });
    // The agent's process holds only the file for its own identity.
    const { renameSync } = await import('node:fs');
    renameSync(
      agentKeys.fileOf('pending'),
      agentKeys.fileOf(drafter.id).replace('pending', drafter.id),
    );
    const { writeFileSync, readFileSync } = await import('node:fs');
    const file = JSON.parse(readFileSync(agentKeys.fileOf(drafter.id), 'utf8'));
    writeFileSync(agentKeys.fileOf(drafter.id), JSON.stringify({ ...file, identity: drafter.id }), {
      mode: 0o600,
    });
    for (const f of readdirSync(join(dir, 'owner')))
      expect(statSync(join(dir, 'owner', f)).mode & 0o777).toBe(0o600);

    const agentWs = await Workspace.open({
      store: store.peer(),
      keyring: new KeyDirectory({ path: join(dir, 'agent') }),
    });
    await expect(
      agentWs.as(ada.id).identities.create({ kind: 'agent', name: 'evil', generateKey: true }),
    ).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: expect.stringMatching(/holds no key for Ada/),
    });
    await ws
      .as(ada.id)
      .capabilities.grant({ to: drafter.id, resource: 'email:*', actions: ['email.send'] });
    await expect(agentWs.as(drafter.id).authorize('email.send', 'email:1')).resolves.toBeDefined();
    expect((await agentWs.verify()).ok).toBe(true);
  });
});

describe('identities for the host that displays the workspace', () => {
  it('gives copies of the identities this instance knows, so changing one changes nothing', async () => {
    const ws = await Workspace.open({ tickIntervalMs: 0 });
    const ada = await ws.bootstrap({ name: 'Ada' });
    const copy = ws.identity(ada.id)!;
    expect(copy.name).toBe('Ada');
    copy.name = 'Mallory';
    expect(ws.identity(ada.id)?.name).toBe('Ada');
    expect(ws.identityList().map((i) => i.name)).toEqual(['Ada']);
    expect(ws.identity('id_nobody')).toBeUndefined();
    expect(() => ws.identity(42 as never)).toThrow(expect.objectContaining({ code: 'VALIDATION' }));
    await ws.close();
  });
});
