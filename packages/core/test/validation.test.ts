import { describe, expect, it } from 'vitest';
import { type JsonValue, MAX_JSON_DEPTH, Workspace } from '../src/index.js';
import { fitsBytes, utf8Length } from '../src/validation.js';
import { world } from './world.js';

type World = Awaited<ReturnType<typeof world>>;
// biome-ignore lint/suspicious/noExplicitAny: the point of these tests is calling with wrong types
type Any = any;

class Thing {
  x = 1;
}
const big = 'x'.repeat(20_000);

/** Objects nested `depth` deep. */
function deep(depth: number): JsonValue {
  let v: JsonValue = 1;
  for (let i = 0; i < depth; i++) v = { v };
  return v;
}

/** Every public entry point, called wrongly: wrong types, missing fields, oversized or non-JSON values. */
const badCalls: [string, (w: World) => unknown][] = [
  ['Workspace.open with a store that is not a Store', () => Workspace.open({ store: {} as Any })],
  ['Workspace.open with a clock that is not a function', () => Workspace.open({ clock: 5 as Any })],
  ['Workspace.open with a negative pollIntervalMs', () => Workspace.open({ pollIntervalMs: -1 })],
  [
    'bootstrap on a new workspace without a name',
    async () => (await Workspace.open()).bootstrap({} as Any),
  ],
  ['bootstrap with an empty name', async () => (await Workspace.open()).bootstrap({ name: '' })],
  [
    'bootstrap with a non-numeric skew window',
    async () => (await Workspace.open()).bootstrap({ name: 'A', skewMs: '1' as Any }),
  ],
  ['workspace.as with a number', (w) => w.ws.as(5 as Any)],
  ['workspace.as with an empty id', (w) => w.ws.as('')],
  [
    'workspace.as with a session that is an object',
    (w) => w.ws.as(w.ada.id, { session: {} as Any }),
  ],
  ['workspace.submit with no events', (w) => w.ws.submit([])],
  ['workspace.submit with a string', (w) => w.ws.submit('x' as Any)],
  ['workspace.submit with an event missing its fields', (w) => w.ws.submit([{ id: 'e1' } as Any])],
  ['workspace.ingest with a number', (w) => w.ws.ingest(1 as Any)],
  ['workspace.watch with a negative cursor', (w) => w.ws.watch({ after: -1 })],
  ['workspace.subscribe without a listener', (w) => w.ws.subscribe({}, undefined as Any)],
  ['identities.create without kind', (w) => w.me.identities.create({ name: 'x' } as Any)],
  [
    'identities.create with an unknown kind',
    (w) => w.me.identities.create({ kind: 'robot' as Any, name: 'x' }),
  ],
  [
    'identities.create with a 1000-character name',
    (w) => w.me.identities.create({ kind: 'agent', name: 'n'.repeat(1000) }),
  ],
  [
    'identities.create with oversized meta',
    (w) => w.me.identities.create({ kind: 'agent', name: 'x', meta: { big } }),
  ],
  [
    'identities.create with NaN in meta',
    (w) => w.me.identities.create({ kind: 'agent', name: 'x', meta: { n: Number.NaN } }),
  ],
  [
    'identities.create with undefined in meta',
    (w) => w.me.identities.create({ kind: 'agent', name: 'x', meta: { u: undefined } as Any }),
  ],
  [
    'identities.create with a class instance in meta',
    (w) => w.me.identities.create({ kind: 'agent', name: 'x', meta: { t: new Thing() } as Any }),
  ],
  [
    'identities.create with a Date in meta',
    (w) => w.me.identities.create({ kind: 'agent', name: 'x', meta: { d: new Date() } as Any }),
  ],
  [
    'identities.create with a key that is not a did:key',
    (w) => w.me.identities.create({ kind: 'agent', name: 'x', key: 'ssh-ed25519 AAAA' }),
  ],
  [
    'identities.create with a control character in the idempotency key',
    (w) => w.me.identities.create({ kind: 'agent', name: 'x', idempotencyKey: 'a\nb' }),
  ],
  ['identities.get with a number', (w) => w.me.identities.get(1 as Any)],
  ['identities.list with a zero limit', (w) => w.me.identities.list({ limit: 0 })],
  [
    'identities.list with an unknown status',
    (w) => w.me.identities.list({ status: 'gone' as Any }),
  ],
  ['identities.suspend with no id', (w) => w.me.identities.suspend(undefined as Any)],
  [
    'identities.suspend with a numeric reason',
    (w) => w.me.identities.suspend(w.drafter.id, { reason: 5 as Any }),
  ],
  ['identities.reinstate with an object id', (w) => w.me.identities.reinstate({} as Any)],
  ['identities.rotateKey with an empty id', (w) => w.me.identities.rotateKey('')],
  [
    'capabilities.grant without actions',
    (w) => w.me.capabilities.grant({ to: w.drafter.id, resource: 'doc:*' } as Any),
  ],
  [
    'capabilities.grant with empty actions',
    (w) => w.me.capabilities.grant({ to: w.drafter.id, resource: 'doc:*', actions: [] }),
  ],
  [
    'capabilities.grant with a resource containing spaces',
    (w) => w.me.capabilities.grant({ to: w.drafter.id, resource: 'doc *', actions: ['read'] }),
  ],
  [
    'capabilities.grant with an unparseable expiresAt',
    (w) =>
      w.me.capabilities.grant({
        to: w.drafter.id,
        resource: 'doc:*',
        actions: ['read'],
        expiresAt: 'tomorrow',
      }),
  ],
  [
    'capabilities.grant with a fractional maxUses',
    (w) =>
      w.me.capabilities.grant({
        to: w.drafter.id,
        resource: 'doc:*',
        actions: ['read'],
        maxUses: 1.5,
      }),
  ],
  [
    'capabilities.grant with notBefore after expiresAt',
    (w) =>
      w.me.capabilities.grant({
        to: w.drafter.id,
        resource: 'doc:*',
        actions: ['read'],
        notBefore: w.iso(2000),
        expiresAt: w.iso(1000),
      }),
  ],
  [
    'capabilities.grant with approvers that are not a list',
    (w) =>
      w.me.capabilities.grant({
        to: w.drafter.id,
        resource: 'doc:*',
        actions: ['read'],
        requiresApproval: [{ action: 'read', approvers: 'ada' as Any }],
      }),
  ],
  ['capabilities.revoke with a number', (w) => w.me.capabilities.revoke(7 as Any)],
  ['capabilities.get with null', (w) => w.me.capabilities.get(null as Any)],
  [
    'capabilities.list with a non-boolean includeRevoked',
    (w) => w.me.capabilities.list({ includeRevoked: 'yes' as Any }),
  ],
  ['can without a resource', (w) => w.agent.can('read', undefined as Any)],
  ['can with a numeric action', (w) => w.agent.can(3 as Any, 'doc:1')],
  [
    'authorize with a NaN payload',
    (w) => w.agent.authorize('email.send', 'email:1', { payload: Number.NaN }),
  ],
  [
    'authorize with a class instance payload',
    (w) => w.agent.authorize('email.send', 'email:1', { payload: new Thing() as Any }),
  ],
  [
    'authorize with undefined inside the payload',
    (w) => w.agent.authorize('email.send', 'email:1', { payload: { a: undefined } as Any }),
  ],
  [
    'authorize with an oversized summary',
    (w) => w.agent.authorize('email.send', 'email:1', { summary: big }),
  ],
  [
    'artifacts.create with JSON content nested past the depth limit',
    (w) => w.me.artifacts.create({ kind: 'json', title: 't', content: deep(MAX_JSON_DEPTH + 1) }),
  ],
  [
    'artifacts.create with metadata over 16 KiB of UTF-8 (but under 16 Ki characters)',
    (w) =>
      w.me.artifacts.create({
        kind: 'text',
        title: 't',
        content: '',
        meta: { m: 'é'.repeat(9_000) },
      }),
  ],
  ['artifacts.get with null options', (w) => w.me.artifacts.get('art_x', null as Any)],
  [
    'artifacts.changesSince with a string since',
    (w) => w.me.artifacts.changesSince('art_x', { since: '1' as Any }),
  ],
  [
    'authorize with a payload nested past the depth limit',
    (w) => w.agent.authorize('email.send', 'email:1', { payload: deep(10_000) }),
  ],
  ['log with a limit above the maximum', (w) => w.me.log({ limit: 10_000 })],
  ['log with a string cursor', (w) => w.me.log({ after: '3' as Any })],
];

describe('bad input', () => {
  for (const [name, call] of badCalls) {
    it(`refuses ${name} with VALIDATION and writes nothing`, async () => {
      const w = await world();
      await w.me.capabilities.grant({
        to: w.drafter.id,
        resource: 'email:*',
        actions: ['email.send'],
      });
      const head = await w.store.head();
      const err = await (async () => call(w))().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ name: 'BatonError', code: 'VALIDATION' });
      expect((err as Error).message.length).toBeGreaterThan(20);
      expect(await w.store.head()).toEqual(head);
    });
  }

  it('names the offending field in the message and in details', async () => {
    const w = await world();
    const err = await w.me.identities
      .create({ kind: 'agent', name: 'x', meta: { n: Number.NaN } })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'VALIDATION', details: { field: 'meta' } });
    expect((err as Error).message).toMatch(/identities\.create: `meta`/);
  });
});

describe('sizes in UTF-8 bytes', () => {
  it('counts the bytes a string takes in UTF-8, without encoding it', () => {
    for (const text of ['', 'abc', 'é', '€', '😀', 'a😀b€é', '\ud800', '\udc00x', 'x\ud83d']) {
      expect(utf8Length(text), JSON.stringify(text)).toBe(new TextEncoder().encode(text).length);
    }
    expect(fitsBytes('😀'.repeat(10), 40)).toBe(true);
    expect(fitsBytes('😀'.repeat(10), 39)).toBe(false);
  });
});
