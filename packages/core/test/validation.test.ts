import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  type BatonError,
  checkBatch,
  compareKeys,
  cryptoKeySigner,
  decodeCursor,
  defineEventType,
  didKeyFromRaw,
  didKeyOf,
  EMPTY_HEAD,
  encodeCursor,
  eventHash,
  findNonJson,
  fromBase64url,
  generateEd25519,
  inRange,
  type JsonValue,
  MAX_JSON_DEPTH,
  MemoryKeyring,
  mergeJson,
  mergeText,
  parseType,
  rawFromDidKey,
  sha256,
  sha256b64,
  signedFieldsOf,
  signingBytes,
  signingText,
  streamResource,
  toBase64url,
  verifySignature,
  Workspace,
} from '../src/index.js';
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

/** `n` levels of one-element arrays around 1. */
function nestedArrays(n: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < n; i++) v = [v];
  return v;
}

const nullProto = Object.assign(Object.create(null), { a: 1 });
const goodEvent = (): Any => ({
  ws: 'ws_1',
  id: 'ev_1',
  stream: 'workspace',
  type: 'note.added@1',
  actor: 'id_1',
  at: '2026-01-01T00:00:00.000Z',
  data: { a: 1 },
  refs: [],
  sig: 'AAAA',
  version: 1,
  seq: 1,
  prev: 'ws_1',
});

/**
 * The exported helpers, called wrongly: [what, the call, the function and argument the
 * message must name].
 */
const badHelperCalls: [string, () => unknown, string, string][] = [
  [
    'toBase64url with an array of numbers',
    () => toBase64url([1, 2, 3] as Any),
    'toBase64url',
    'bytes',
  ],
  [
    'toBase64url with deeply nested arrays',
    () => toBase64url(nestedArrays(10_000) as Any),
    'toBase64url',
    'bytes',
  ],
  ['toBase64url with nothing', () => (toBase64url as Any)(), 'toBase64url', 'bytes'],
  ['fromBase64url with an object', () => fromBase64url({} as Any), 'fromBase64url', 'text'],
  [
    'fromBase64url with a letter outside the alphabet',
    () => fromBase64url('AQ😀'),
    'fromBase64url',
    'text',
  ],
  ['fromBase64url with = padding', () => fromBase64url('AQ=='), 'fromBase64url', 'text'],
  [
    'fromBase64url with a length no encoding has',
    () => fromBase64url('9'),
    'fromBase64url',
    'text',
  ],
  ['fromBase64url with leftover bits set', () => fromBase64url('AR'), 'fromBase64url', 'text'],
  ['sha256b64 with a number', () => sha256b64(5 as Any), 'sha256b64', 'data'],
  [
    'sha256b64 with an ArrayBuffer',
    () => sha256b64(new ArrayBuffer(4) as Any),
    'sha256b64',
    'data',
  ],
  ['sha256 with null', () => sha256(null as Any), 'sha256', 'data'],
  ['didKeyFromRaw with nothing', () => (didKeyFromRaw as Any)(), 'didKeyFromRaw', 'raw'],
  ['didKeyFromRaw with 31 bytes', () => didKeyFromRaw(new Uint8Array(31)), 'didKeyFromRaw', 'raw'],
  [
    'didKeyFromRaw with an array of 32 numbers',
    () => didKeyFromRaw(new Array(32).fill(1) as Any),
    'didKeyFromRaw',
    'raw',
  ],
  [
    'rawFromDidKey with an object without a prototype',
    () => rawFromDidKey(nullProto),
    'rawFromDidKey',
    'did',
  ],
  ['rawFromDidKey with a symbol', () => rawFromDidKey(Symbol('k') as Any), 'rawFromDidKey', 'did'],
  [
    'rawFromDidKey with a did:web',
    () => rawFromDidKey('did:web:example.com'),
    'rawFromDidKey',
    'did',
  ],
  [
    'verifySignature with bytes given as a string',
    () => verifySignature(KEY, 'A'.repeat(86), '{"0":1}' as Any),
    'verifySignature',
    'data',
  ],
  [
    'verifySignature with a signature that is a number',
    () => verifySignature(KEY, 7 as Any, new Uint8Array(1)),
    'verifySignature',
    'signature',
  ],
  [
    'verifySignature with a key that is not a did:key',
    () => verifySignature('did:web:x', 'A'.repeat(86), new Uint8Array(1)),
    'verifySignature',
    'did',
  ],
  ['parseType with NaN', () => parseType(Number.NaN as Any), 'parseType', 'type'],
  ['parseType with nothing', () => (parseType as Any)(), 'parseType', 'type'],
  ['signingText with nothing', () => (signingText as Any)(), 'signingText', 'e'],
  [
    'signingText with unchecked fields holding a bigint',
    () => signingText({ ...goodEvent(), actor: 10n }, false),
    'signingText',
    'e',
  ],
  [
    'signingText with unchecked refs nested too deep to serialize',
    () => signingText({ ...goodEvent(), refs: [nestedArrays(100_000)] }, false),
    'signingText',
    'e',
  ],
  ['signedFieldsOf with a string', () => signedFieldsOf('x' as Any), 'signedFieldsOf', 'e'],
  ['signingBytes with null', () => signingBytes(null as Any), 'signingText', 'e'],
  ['eventHash with nothing', () => (eventHash as Any)(), 'eventHash', 'e'],
  [
    'eventHash with a signing text that is a number',
    () => eventHash(goodEvent(), 5 as Any),
    'eventHash',
    'text',
  ],
  [
    'eventHash with a symbol as prev',
    () => eventHash({ ...goodEvent(), prev: Symbol('p') }),
    'eventHash',
    'e',
  ],
  ['streamResource with a number', () => streamResource(8 as Any), 'streamResource', 'stream'],
  [
    'mergeText with a Date as theirs',
    () => mergeText('a', new Date() as Any, 'b'),
    'mergeText',
    'theirs',
  ],
  ['mergeText without yours', () => (mergeText as Any)('a\nb\n', 'a\nc\n'), 'mergeText', 'yours'],
  [
    'mergeJson with a typed array as base',
    () => mergeJson(new Uint8ClampedArray(2) as Any, { a: 2 }, { a: 3 }),
    'mergeJson',
    'base',
  ],
  [
    'mergeJson with yours nested 5,000 deep',
    () => mergeJson({ a: 1 }, { a: 2 }, nestedArrays(5_000) as Any),
    'mergeJson',
    'yours',
  ],
  ['encodeCursor with nothing', () => (encodeCursor as Any)(), 'encodeCursor', 'parts'],
  [
    'encodeCursor with strings nested 10,000 deep',
    () => encodeCursor(nestedArrays(10_000) as Any),
    'encodeCursor',
    'parts',
  ],
  [
    'decodeCursor with a cursor nested 10,000 deep',
    () => decodeCursor(nestedArrays(10_000) as Any, 2),
    'decodeCursor',
    'after',
  ],
  [
    'decodeCursor with a size that is a byte array',
    () => decodeCursor(encodeCursor(['a']), new Uint8Array() as Any),
    'decodeCursor',
    'size',
  ],
  [
    'decodeCursor with a cursor of a million characters',
    () => decodeCursor('x'.repeat(1_000_001), 1),
    'decodeCursor',
    'after',
  ],
  ['defineEventType with nothing', () => (defineEventType as Any)(), 'defineEventType', ''],
  [
    'defineEventType without a stream function',
    () => defineEventType({ name: 'app.x', schema: z.object({}) } as Any),
    'defineEventType',
    'stream',
  ],
  [
    'defineEventType with a name holding a version',
    () => defineEventType({ name: 'app.x@1', schema: z.object({}), stream: () => 'x' }),
    'defineEventType',
    'name',
  ],
  [
    'defineEventType with a schema that is not zod',
    () => defineEventType({ name: 'app.x', schema: {} as Any, stream: () => 'x' }),
    'defineEventType',
    'schema',
  ],
  [
    'new MemoryKeyring with null',
    () => new MemoryKeyring(null as Any),
    'new MemoryKeyring',
    'options',
  ],
  [
    'new MemoryKeyring with extractable "yes"',
    () => new MemoryKeyring({ extractable: 'yes' as Any }),
    'new MemoryKeyring',
    'options.extractable',
  ],
  [
    'MemoryKeyring.add with a signer that cannot sign',
    () => new MemoryKeyring().add('a', { publicKey: KEY } as Any),
    'MemoryKeyring.add',
    'signer',
  ],
  [
    'findNonJson with a seen that is not a Set',
    () => findNonJson({ a: 1 }, '', [] as Any),
    'findNonJson',
    'seen',
  ],
  [
    'findNonJson asked to allow a depth past any stack',
    () => findNonJson(nestedArrays(20_000), '', new Set(), 1e9),
    'findNonJson',
    'maxDepth',
  ],
  [
    'findNonJson with a symbol as path',
    () => findNonJson(1, Symbol('p') as Any),
    'findNonJson',
    'path',
  ],
  ['didKeyOf with a number', () => didKeyOf(5 as Any), 'didKeyOf', 'publicKey'],
  [
    'generateEd25519 with extractable "no"',
    () => generateEd25519('no' as Any),
    'generateEd25519',
    'extractable',
  ],
  [
    'cryptoKeySigner with a private key that is a string',
    () => cryptoKeySigner('key' as Any, KEY),
    'cryptoKeySigner',
    'privateKey',
  ],
  ['compareKeys with null', () => compareKeys(null as Any, 'a'), 'compareKeys', 'a'],
  ['inRange with no range', () => inRange('a', null as Any), 'inRange', 'range'],
  ['inRange with a numeric bound', () => inRange('a', { gt: 5 } as Any), 'inRange', 'range.gt'],
  ['checkBatch with no head', () => checkBatch(null as Any, { events: [] }), 'checkBatch', 'head'],
  [
    'checkBatch with events that are not a list',
    () => checkBatch(EMPTY_HEAD, { events: 5 } as Any),
    'checkBatch',
    'batch',
  ],
  [
    'checkBatch with a null event',
    () => checkBatch(EMPTY_HEAD, { events: [null] } as Any),
    'checkBatch',
    'batch.events[0]',
  ],
];

const KEY = 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK';

describe('bad arguments to the exported helpers', () => {
  for (const [what, call, fn, field] of badHelperCalls) {
    it(`refuses ${what} with VALIDATION naming the argument`, async () => {
      const err = await (async () => call())().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ name: 'BatonError', code: 'VALIDATION' });
      const message = (err as Error).message;
      expect(message.length).toBeLessThan(600);
      if (field) {
        expect(message).toContain(`\`${field}\``);
        expect((err as BatonError).details.field).toBe(field);
      }
      expect(message.startsWith(`${fn}:`) || fn === 'decodeCursor').toBe(true);
    });
  }

  it('still answers a malformed signature string with false, not an error', async () => {
    const data = new Uint8Array([1]);
    for (const sig of ['', '!!!', 'A'.repeat(85), 'AQ==', 'A'.repeat(86)])
      expect(await verifySignature(KEY, sig, data)).toBe(false);
  });

  it('says what a wrong argument was, without running code on it or printing all of it', () => {
    const hostile = new Proxy(
      {},
      {
        getPrototypeOf() {
          throw new Error('trap');
        },
      },
    );
    expect(() => rawFromDidKey(hostile as Any)).toThrow(/got a value that cannot be inspected/);
    expect(() => toBase64url('x'.repeat(10_000) as Any)).toThrow(
      /got a string of 10000 characters/,
    );
    expect(() => toBase64url(new Uint16Array(3) as Any)).toThrow(/got a Uint16Array of length 3/);
    expect(() => parseType(10n as Any)).toThrow(/got bigint 10n/);
  });

  it('accepts what each helper is documented to accept', () => {
    expect(fromBase64url(toBase64url(new Uint8Array([1, 2, 3])))).toEqual(
      new Uint8Array([1, 2, 3]),
    );
    expect(sha256b64('text')).toBe(sha256b64(new TextEncoder().encode('text')));
    expect(decodeCursor(encodeCursor(['a', '😀']), 2)).toEqual(['a', '😀']);
    expect(parseType('grant.issued@2')).toEqual({ name: 'grant.issued', version: 2 });
    expect(streamResource('artifact/x')).toBe('artifact:x');
    expect(new MemoryKeyring(undefined)).toBeInstanceOf(MemoryKeyring);
    expect(findNonJson(nestedArrays(3), 'x', new Set(), 2)).toMatch(/nests deeper than 2/);
    expect(compareKeys('\uffff', '😀')).toBeLessThan(0);
    expect(inRange('ab', { prefix: 'a', lt: 'b' })).toBe(true);
    expect(eventHash(goodEvent())).toBe(eventHash(goodEvent(), signingText(goodEvent())));
    const t = defineEventType({
      name: 'app.deployed',
      version: 2,
      schema: z.object({ env: z.string() }),
      stream: () => 'deploys',
      upcast: { 1: (d) => d },
    });
    expect(t).toMatchObject({ name: 'app.deployed', version: 2 });
  });

  it('makes a signer of a generated pair that refuses to sign what is not bytes', async () => {
    const pair = await generateEd25519();
    const did = await didKeyOf(pair.publicKey);
    const signer = cryptoKeySigner(pair.privateKey, did);
    const sig = await signer.sign(new Uint8Array([1]));
    expect(await verifySignature(did, toBase64url(sig), new Uint8Array([1]))).toBe(true);
    await expect(signer.sign('x' as Any)).rejects.toMatchObject({
      code: 'VALIDATION',
      details: { field: 'data' },
    });
    await expect(didKeyOf(pair.privateKey)).rejects.toMatchObject({ code: 'VALIDATION' });
    expect(() => cryptoKeySigner(pair.publicKey, did)).toThrow(/privateKey/);
  });
});
