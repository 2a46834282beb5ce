import { afterEach, describe, expect, it } from 'vitest';
import { signatureWorkersForTests as threads } from '../src/crypto/signatureWorkers.js';
import {
  type BatonEvent,
  eventHash,
  type JsonValue,
  type Logger,
  MemoryStore,
  Workspace,
} from '../src/index.js';
import { serving } from './servingStore.js';

const opened: Workspace[] = [];
afterEach(async () => {
  for (const ws of opened.splice(0)) await ws.close();
});

async function open(options: Parameters<typeof Workspace.open>[0] = {}): Promise<Workspace> {
  const ws = await Workspace.open({ tickIntervalMs: 0, ...options });
  opened.push(ws);
  return ws;
}

/** A log of a bootstrap, an agent with a grant, and `n` of its grant uses and notes. */
async function signedLog(n: number) {
  const store = new MemoryStore();
  const ws = await Workspace.open({ store: store.peer(), tickIntervalMs: 0 });
  const ada = await ws.bootstrap({ name: 'Ada' });
  const me = ws.as(ada.id);
  const drafter = await me.identities.create({ kind: 'agent', name: 'drafter' });
  const grant = await me.capabilities.grant({
    to: drafter.id,
    resource: 'email:*',
    actions: ['email.send'],
  });
  for (let done = 0; done < n; done += 100) {
    const drafts: { type: string; data: JsonValue; refs: string[] }[] = [];
    for (let i = done; i < Math.min(n, done + 100); i++)
      drafts.push({
        type: 'grant.exercised',
        data: { grant: grant.id, action: 'email.send', resource: `email:${i}` },
        refs: [],
      });
    await ws._commit({ actor: drafter.id, plan: () => ({ drafts }) });
  }
  await me.context.record({ type: 'note', text: 'the last word' });
  const events: BatonEvent[] = [];
  for await (const e of store.read()) events.push(structuredClone(e));
  await ws.close();
  return { store, events };
}

/** The events again from `from` on, each linked to the one before, as a forger would re-chain them. */
function rechain(events: BatonEvent[], from: number): void {
  for (let i = from; i < events.length; i++) {
    const e = events[i]!;
    e.prev = i === 0 ? e.ws : events[i - 1]!.hash;
    e.hash = eventHash(e);
  }
}

/** Each way of tampering with the log, applied to a copy. */
const tampers: Record<string, (events: BatonEvent[]) => void> = {
  'a signature flipped in one character': (events) => {
    const e = events[300]!;
    e.sig = `${e.sig[0] === 'A' ? 'B' : 'A'}${e.sig.slice(1)}`;
    rechain(events, 300);
  },
  'a signature padded with "="': (events) => {
    events[120]!.sig = `${events[120]!.sig}=`;
    rechain(events, 120);
  },
  'a signature with its unused last bits set': (events) => {
    const e = events[77]!;
    const last = e.sig.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    e.sig = `${e.sig.slice(0, -1)}${alphabet[alphabet.indexOf(last) | 1]}`;
    rechain(events, 77);
  },
  'two signatures swapped': (events) => {
    const [a, b] = [events[200]!, events[201]!];
    [a.sig, b.sig] = [b.sig, a.sig];
    rechain(events, 200);
  },
  'signed data changed and re-chained': (events) => {
    (events[330]!.data as { resource: string }).resource = 'email:forged';
    rechain(events, 330);
  },
  'an event signed by another actor': (events) => {
    const owner = events[0]!.actor;
    events[350]!.actor = owner;
    rechain(events, 350);
  },
  'a bad signature and, later, a broken link': (events) => {
    events[40]!.sig = events[41]!.sig;
    rechain(events, 40);
    events[380]!.prev = 'not the hash before';
  },
};

describe('verify() on worker threads', () => {
  it('reports the same problems with worker threads as without, for every tampering', async () => {
    const { store, events } = await signedLog(400);
    for (const [name, tamper] of Object.entries(tampers)) {
      const copy = structuredClone(events);
      tamper(copy);
      const onThreads = await open({ store: serving(copy, store) });
      const inThread = await open({ store: serving(copy, store), verifyWorkers: false });
      const a = await onThreads.verify();
      const b = await inThread.verify();
      expect(a.ok, name).toBe(false);
      expect(a, name).toEqual(b);
      expect(threads.running, 'the checks ran on worker threads').toBeGreaterThan(0);
    }
  });

  it('reports an untouched log as whole on both paths, with the same progress', async () => {
    const { store } = await signedLog(600);
    const onThreads = await open({ store: store.peer() });
    const inThread = await open({ store: store.peer(), verifyWorkers: false });
    const seen: [unknown[], unknown[]] = [[], []];
    const a = await onThreads.verify({ onProgress: (p) => seen[0].push(p) });
    const b = await inThread.verify({ onProgress: (p) => seen[1].push(p) });
    expect(a).toMatchObject({ ok: true, events: 604 });
    expect(a).toEqual(b);
    expect(seen[0]).toEqual(seen[1]);
  });

  it('refuses the same forged event on open and catch-up with worker threads as without', async () => {
    const { store, events } = await signedLog(400);
    const copy = structuredClone(events);
    tampers['a signature flipped in one character']!(copy);
    const onThreads = await open({ store: serving(copy, store) });
    const inThread = await open({ store: serving(copy, store), verifyWorkers: false });
    const a = await onThreads.head().catch((e: Error) => e);
    const b = await inThread.head().catch((e: Error) => e);
    expect(a).toMatchObject({ code: 'INTEGRITY', details: { seq: 301 } });
    expect((a as Error).message).toBe((b as Error).message);
  });

  it('ends its worker threads when the last workspace that uses them closes', async () => {
    const { store } = await signedLog(300);
    const first = await Workspace.open({ store: store.peer(), tickIntervalMs: 0 });
    const second = await Workspace.open({ store: store.peer(), tickIntervalMs: 0 });
    expect((await first.verify()).ok).toBe(true);
    expect((await second.verify()).ok).toBe(true);
    expect(threads.running).toBeGreaterThan(0);
    await first.close();
    expect(threads.running, 'shared with the workspace still open').toBeGreaterThan(0);
    await second.close();
    expect(threads.running).toBe(0);
    await first.close();
    expect(threads.holders).toBe(0);
  });

  it('answers a verify() running when its workspace closes, on the main thread', async () => {
    const { store, events } = await signedLog(1_500);
    const ws = await Workspace.open({ store: serving(events, store), tickIntervalMs: 0 });
    const running = ws.verify();
    await ws.close();
    expect(await running).toMatchObject({ ok: true, events: 1_504 });
    expect(threads.running).toBe(0);
  });

  it('checks the batch on the main thread when a worker thread dies, logging it once, and the answer is the same', async () => {
    const { store, events } = await signedLog(2_000);
    const copy = structuredClone(events);
    tampers['a signature flipped in one character']!(copy);
    const warnings: string[] = [];
    const logger: Logger = {
      debug() {},
      info() {},
      warn: (message) => warnings.push(message),
      error() {},
    };
    const ws = await open({ store: serving(copy, store), logger });
    const plain = await open({ store: serving(copy, store), verifyWorkers: false });
    await ws.verify();
    const running = ws.verify();
    threads.crashOne();
    const report = await running;
    expect(report).toEqual(await plain.verify());
    expect(report.problem?.seq).toBe(301);
    // A new thread takes the dead one's place for the next run.
    expect(await ws.verify()).toEqual(report);
    expect(warnings).toEqual([
      'checking signatures on worker threads failed; checking them on the main thread',
    ]);
  });

  it('refuses a verifyWorkers that is not a boolean, naming it', async () => {
    await expect(Workspace.open({ verifyWorkers: 'yes' as never })).rejects.toMatchObject({
      code: 'VALIDATION',
      message: expect.stringMatching(/verifyWorkers/),
    });
  });
});
