/**
 * The fuzz of every public input of `@baton/core` (issue 12, finding 15), shared by the
 * script (`pnpm fuzz`, 10⁵ calls) and the sweep in `pnpm test` (fuzz.test.ts).
 *
 * A realistic workspace (owner, agent, approver, an identity with no grants; grants, one
 * needing approval; text and json artifacts with tags; context entries with an open
 * question; work, approval and question handoffs) is called through every public entry
 * point with fast-check-made arguments: a valid call, a valid call with one to three places
 * mutated (wrong type, null, huge, deeply nested, NaN, negative, unknown keys, control
 * characters, emoji, lone surrogates, `__proto__`…), or wholly random arguments.
 *
 * Each call must succeed or throw an error `isBatonError` accepts; a call that throws must
 * leave the store head `{ seq, hash }` as it was; and it must settle within a time bound.
 * Everything else is recorded, grouped by entry point + error name + first message line,
 * with the smallest input seen (as JavaScript source) and, when asked, one fast-check shrank.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Actor,
  type BatonEvent,
  type Checkpoint,
  canonicalJson,
  decodeCursor,
  defineEventType,
  didKeyFromRaw,
  encodeCursor,
  eventHash,
  fromBase64url,
  type Identity,
  isBatonError,
  MemoryKeyring,
  MemoryStore,
  mergeJson,
  mergeText,
  parseType,
  rawFromDidKey,
  type SignedFields,
  type Store,
  sha256b64,
  signedFieldsOf,
  signingText,
  silentLogger,
  streamResource,
  toBase64url,
  verifySignature,
  WebhookNotifier,
  Workspace,
} from '@baton/core';
import { SqliteStore } from '@baton/sqlite';
import fc from 'fast-check';
import { z } from 'zod';

// ------------------------------------------------------------------ the workspace

/** The app event type `emit` is fuzzed with. */
const noted = defineEventType({
  name: 'app.noted',
  schema: z.object({
    text: z.string().max(1_000),
    topic: z.string().min(1).max(50).optional(),
    body: z.string().optional(),
  }),
  stream: (d) => `notes/${d.topic ?? 'general'}`,
  blobs: (d) => (d.body ? [d.body] : []),
});

const point = z.object({ x: z.number(), y: z.number() });

/** Fixed start of the fuzz clock: calls are deterministic in time, not only in input. */
const EPOCH = Date.parse('2026-06-01T12:00:00.000Z');

type ActorName = 'owner' | 'agent' | 'approver' | 'stranger';
const ACTORS: ActorName[] = ['owner', 'agent', 'approver', 'stranger'];

const ID_NAMES = [
  'owner',
  'agent',
  'approver',
  'stranger',
  'victim',
  'text',
  'json',
  'point',
  'archivable',
  'note',
  'question',
  'secret',
  'noteBody',
  'secretBody',
  'agentGrant',
  'strayGrant',
  'rootGrant',
  'workOffered',
  'workOffered2',
  'workAccepted',
  'approvalPending',
  'approvalPending2',
  'questionHo',
  'schemaQuestion',
  'spareKey',
  'agentKey',
  'ws',
] as const;

/** The ids a fixture's valid calls name. */
export type Ids = Record<(typeof ID_NAMES)[number], string>;

/** The workspace every call runs against, and the ids its valid calls name. */
export interface Fixture {
  ws: Workspace;
  store: Store;
  keyring: MemoryKeyring;
  kind: 'memory' | 'sqlite';
  clock: { now: number };
  actors: Record<ActorName, Actor>;
  people: Record<ActorName | 'victim', Identity>;
  /** Ids by name, for valid calls and for `ref` values that mix them up. */
  ids: Ids;
  checkpoint: Checkpoint;
  exportLines: string[];
  events: BatonEvent[];
  /** The seq after setup: setup's own events are not the calls'. */
  setupSeq: number;
  cleanup: () => Promise<void>;
}

export async function makeFixture(kind: 'memory' | 'sqlite' = 'memory'): Promise<Fixture> {
  let dir: string | undefined;
  let store: Store;
  if (kind === 'sqlite') {
    dir = mkdtempSync(join(tmpdir(), 'baton-fuzz-'));
    store = new SqliteStore({ path: join(dir, 'fuzz.db') });
  } else store = new MemoryStore();
  const keyring = new MemoryKeyring();
  const clock = { now: EPOCH };
  const ws = await Workspace.open({
    store,
    keyring,
    clock: () => clock.now,
    tickIntervalMs: 0,
    eventTypes: [noted as never],
    schemas: { point },
  });
  const iso = (ms: number) => new Date(clock.now + ms).toISOString();
  const owner = await ws.bootstrap({ name: 'Ada' });
  const me = ws.as(owner.id);
  const agentId = await me.identities.create({ kind: 'agent', name: 'drafter' });
  const approverId = await me.identities.create({ kind: 'human', name: 'Bea' });
  const strangerId = await me.identities.create({ kind: 'agent', name: 'stranger' });
  const victim = await me.identities.create({ kind: 'agent', name: 'victim' });
  const agent = ws.as(agentId.id, { session: 'run-1' });
  const approver = ws.as(approverId.id);
  const stranger = ws.as(strangerId.id);
  const agentGrant = await me.capabilities.grant({
    to: agentId.id,
    resource: 'artifact:*',
    actions: ['read', 'write', 'create', 'comment', 'handoff', 'publish'],
    requiresApproval: [{ action: 'publish', approvers: [approverId.id] }],
  });
  await me.capabilities.grant({
    to: agentId.id,
    resource: 'workspace',
    actions: ['read', 'comment', 'handoff'],
  });
  await me.capabilities.grant({ to: agentId.id, resource: 'notes:*', actions: ['write', 'read'] });
  await me.capabilities.grant({
    to: agentId.id,
    resource: 'mail:*',
    actions: ['email.send'],
    maxUses: 1_000,
    requiresApproval: [{ action: 'email.send' }],
  });
  await me.capabilities.grant({
    to: approverId.id,
    resource: 'artifact:*',
    actions: ['read', 'approve', 'comment'],
  });
  await me.capabilities.grant({ to: approverId.id, resource: 'mail:*', actions: ['approve'] });
  const strayGrant = await me.capabilities.grant({
    to: strangerId.id,
    resource: 'artifact:tag/launch',
    actions: ['read'],
    expiresAt: iso(86_400_000),
  });
  const text = await me.artifacts.create({
    kind: 'text',
    title: 'Launch post',
    content: 'Line one\nLine two\nLine three\n',
    tags: ['draft', 'launch'],
    meta: { channel: 'blog' },
  });
  await me.artifacts.edit(text.id, {
    content: 'Line one\nLine 2\nLine three\nLine four\n',
    baseVersion: 1,
    reason: 'tighter',
  });
  const json = await me.artifacts.create({
    kind: 'json',
    title: 'Plan',
    content: { title: 'plan', items: [1, 2, 3], nested: { a: { b: 1 } } },
    tags: ['plan'],
  });
  await agent.artifacts.edit(json.id, {
    patch: [{ op: 'replace', path: '/title', value: 'the plan' }],
    baseVersion: 1,
    reason: 'rename',
  });
  const pointArt = await me.artifacts.create({
    kind: 'json',
    title: 'Point',
    content: { x: 1, y: 2 },
    schema: 'point',
  });
  const archivable = await me.artifacts.create({ kind: 'text', title: 'Old', content: 'old\n' });
  const note = await agent.context.record({ type: 'note', about: [text.id], text: 'a note' });
  await agent.context.record({
    type: 'decision',
    about: [text.id],
    text: 'ship Tuesday',
    why: 'traffic',
    alternatives: ['Monday'],
  });
  const question = await agent.context.record({
    type: 'question',
    about: [text.id],
    text: 'Which title?',
    options: ['A', 'B'],
  });
  await agent.context.record({
    type: 'usage',
    about: [text.id],
    text: 'drafting',
    usage: { model: 'm', inputTokens: 10, outputTokens: 5, costUsd: 0.01 },
  });
  const secret = await agent.context.record({ type: 'note', text: 'secret to erase' });
  const workOffered = await me.handoffs.offer({
    to: agentId.id,
    artifacts: [text.id],
    note: 'please finish',
    questions: ['Tone?'],
    due: iso(3_600_000),
  });
  const workOffered2 = await me.handoffs.offer({ to: agentId.id, artifacts: [json.id] });
  const workAccepted = await me.handoffs.offer({ to: agentId.id, artifacts: [archivable.id] });
  await agent.handoffs.accept(workAccepted.id);
  const approvalPending = await agent.handoffs.requestApproval({
    action: 'publish',
    resource: `artifact:${text.id}`,
    summary: 'publish the post',
    payload: { amount: 10 },
  });
  const approvalPending2 = await agent.handoffs.requestApproval({
    action: 'publish',
    resource: `artifact:${json.id}`,
  });
  const questionHo = await me.handoffs.ask({
    to: agentId.id,
    question: 'A or B?',
    options: ['a', 'b'],
  });
  const schemaQuestion = await me.handoffs.ask({
    to: agentId.id,
    question: 'Where?',
    schema: 'point',
  });
  const checkpoint = await ws.checkpoint();
  const exportLines: string[] = [];
  for await (const line of ws.export()) exportLines.push(line);
  const events: BatonEvent[] = [];
  for await (const e of store.read()) events.push(e);
  const spare = await keyring.generate('spare');
  const head = await store.head();
  return {
    ws,
    store,
    keyring,
    kind,
    clock,
    actors: { owner: me, agent, approver, stranger },
    people: { owner, agent: agentId, approver: approverId, stranger: strangerId, victim },
    ids: {
      owner: owner.id,
      agent: agentId.id,
      approver: approverId.id,
      stranger: strangerId.id,
      victim: victim.id,
      text: text.id,
      json: json.id,
      point: pointArt.id,
      archivable: archivable.id,
      note: note.id,
      question: question.id,
      secret: secret.id,
      noteBody: note.body!,
      secretBody: secret.body!,
      agentGrant: agentGrant.id,
      strayGrant: strayGrant.id,
      rootGrant: `gr_root_${owner.id}`,
      workOffered: workOffered.id,
      workOffered2: workOffered2.id,
      workAccepted: workAccepted.id,
      approvalPending: approvalPending.id,
      approvalPending2: approvalPending2.id,
      questionHo: questionHo.id,
      schemaQuestion: schemaQuestion.id,
      spareKey: spare,
      agentKey: agentId.keys[0]!.key,
      ws: ws.id!,
    },
    checkpoint,
    exportLines,
    events,
    setupSeq: head.seq,
    async cleanup() {
      await ws.close().catch(() => undefined);
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ------------------------------------------------------------------ values

/** How `toSource` shows the fixture's own objects (a store handle, its keyring, its clock). */
const NAMES = new WeakMap<object, string>();
function named<T extends object>(o: T, name: string): T {
  NAMES.set(o, name);
  return o;
}

/** A value the harness builds at call time (fresh objects, fixture ids, big values). */
export class Token {
  constructor(
    readonly kind: 'ref' | 'make' | 'huge' | 'deep',
    readonly a: string | number,
    readonly b?: string | number,
  ) {}
  toString(): string {
    switch (this.kind) {
      case 'ref':
        return `fx.ids.${this.a}`;
      case 'make':
        return `make(${JSON.stringify(this.a)})`;
      case 'huge':
        return `${JSON.stringify(this.b)}.repeat(${this.a})`;
      default:
        return `deep(${this.a}, ${JSON.stringify(this.b)})`;
    }
  }
}

const REFS = [
  'owner',
  'agent',
  'approver',
  'stranger',
  'victim',
  'text',
  'json',
  'point',
  'archivable',
  'note',
  'question',
  'noteBody',
  'agentGrant',
  'rootGrant',
  'workOffered',
  'workAccepted',
  'approvalPending',
  'questionHo',
  'spareKey',
  'ws',
];

const MAKES = [
  'bigint',
  'symbol',
  'function',
  'date',
  'invalidDate',
  'uint8array',
  'emptyBytes',
  'map',
  'set',
  'nullProto',
  'protoKey',
  'constructorKey',
  'regexp',
  'error',
  'promise',
  'sparseArray',
  'boxedString',
  'float64array',
  'arraybuffer',
  'classInstance',
  'frozen',
  'cyclicObject',
  'cyclicArray',
  'longArray',
  'wideObject',
  'abortedSignal',
  'fakeSignal',
  'fakeStore',
  'fakeKeyring',
];

class Thing {
  x = 1;
}

function make(kind: string): unknown {
  switch (kind) {
    case 'bigint':
      return 10n;
    case 'symbol':
      return Symbol('s');
    case 'function':
      return () => 'f';
    case 'date':
      return new Date(EPOCH);
    case 'invalidDate':
      return new Date(Number.NaN);
    case 'uint8array':
      return new Uint8Array([1, 2, 3]);
    case 'emptyBytes':
      return new Uint8Array(0);
    case 'map':
      return new Map([['a', 1]]);
    case 'set':
      return new Set([1]);
    case 'nullProto':
      return Object.assign(Object.create(null), { a: 1 });
    case 'protoKey':
      return JSON.parse('{"__proto__":{"polluted":true},"a":1}');
    case 'constructorKey':
      return { constructor: { prototype: { polluted: true } } };
    case 'regexp':
      return /x/g;
    case 'error':
      return new Error('an error value');
    case 'promise':
      return Promise.resolve(1);
    case 'sparseArray':
      // biome-ignore lint/suspicious/noSparseArray: a sparse array is the point
      return [1, , 3];
    case 'boxedString':
      return Object('boxed');
    case 'float64array':
      return new Float64Array([Number.NaN]);
    case 'arraybuffer':
      return new ArrayBuffer(4);
    case 'classInstance':
      return new Thing();
    case 'frozen':
      return Object.freeze({ a: Object.freeze([1]) });
    case 'cyclicObject': {
      const o: Record<string, unknown> = { a: 1 };
      o.self = o;
      return o;
    }
    case 'cyclicArray': {
      const a: unknown[] = [1];
      a.push(a);
      return a;
    }
    case 'longArray':
      return Array.from({ length: 20_000 }, (_, i) => `item${i}`);
    case 'wideObject':
      return Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`k${i}`, i]));
    case 'abortedSignal':
      return AbortSignal.abort();
    case 'fakeSignal':
      return { aborted: false };
    case 'fakeStore':
      return { append: () => undefined };
    case 'fakeKeyring':
      return { signer: () => 'not a signer' };
    default:
      return undefined;
  }
}

/** `n` levels of one-element arrays (or one-key objects) around `leaf`. */
export function deep(n: number, shape: 'array' | 'object', leaf: unknown = 1): unknown {
  let v = leaf;
  for (let i = 0; i < n; i++) v = shape === 'array' ? [v] : { a: v };
  return v;
}

/** A copy of the plain arrays and objects in `v` (so a mutation never changes a shared value). */
function copyPlain(v: unknown, depth = 0): unknown {
  if (depth > 12 || !isPlain(v)) return v;
  if (Array.isArray(v)) {
    const out: unknown[] = new Array(v.length);
    v.forEach((x, i) => {
      out[i] = copyPlain(x, depth + 1);
    });
    return out;
  }
  const out = Object.create(Object.getPrototypeOf(v));
  for (const k of Object.keys(v))
    Object.defineProperty(out, k, {
      value: copyPlain(v[k], depth + 1),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  return out;
}

function resolve(v: unknown, fx: Fixture): unknown {
  if (!(v instanceof Token)) return copyPlain(v);
  switch (v.kind) {
    case 'ref':
      return fx.ids[v.a as keyof Ids];
    case 'make':
      return make(v.a as string);
    case 'huge':
      return (v.b as string).repeat(v.a as number);
    default:
      return deep(v.a as number, v.b as 'array' | 'object');
  }
}

const SPECIALS: unknown[] = [
  null,
  undefined,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  -0,
  0,
  -1,
  1.5,
  2 ** 53 + 2,
  -(2 ** 31),
  Number.MAX_VALUE,
  1e21,
  true,
  false,
  '',
  ' ',
  '\u0000',
  '\t\n',
  '\u0007bell',
  '\u202eRTL',
  '😀',
  '👩‍👩‍👧‍👦',
  '\ud800',
  'x\udc00',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  '../../etc/passwd',
  '/',
  '~1',
  '*',
  'artifact:*',
  'workspace',
  'null',
  '[]',
  '{}',
  '2026-01-01T00:00:00Z',
  'not a date',
  '@@ -1 +1 @@\n-a\n+b\n',
  '--- a\n+++ b\n@@ -1,99 +1,1 @@\n-x\n+y\n',
  [],
  {},
  [null],
  [42],
  [[]],
  { '': '' },
  [{ op: 'replace', path: 7, value: 1 }],
  [{ op: 'add', path: 'items', value: 1 }],
  [{ op: 'move', from: '/nope', path: '/x' }],
  [{ op: 'test', path: '/title', value: 'x' }],
  [{ op: 'copy', path: '/a' }],
  [{ op: 'remove', path: '' }],
  [{ op: 'nope' }],
  [null],
];

const codeUnit = fc.nat({ max: 0xffff }).map((n) => String.fromCharCode(n));

/** Anything that may go wrong in a public input. */
export const nasty: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: fc.constantFrom(...SPECIALS), weight: 6 },
  { arbitrary: fc.constantFrom(...REFS).map((r) => new Token('ref', r)), weight: 2 },
  { arbitrary: fc.constantFrom(...MAKES).map((m) => new Token('make', m)), weight: 3 },
  {
    arbitrary: fc
      .tuple(
        fc.constantFrom(201, 401, 2_001, 4_001, 10_001, 100_001, 1_000_001),
        fc.constantFrom('x', '😀', 'é', ' '),
      )
      .map(([n, ch]) => new Token('huge', n, ch)),
    weight: 2,
  },
  {
    arbitrary: fc
      .tuple(
        fc.constantFrom(64, 1_000, 2_500, 3_000, 5_000, 10_000, 100_000),
        fc.constantFrom('array', 'object'),
      )
      .map(([n, s]) => new Token('deep', n, s)),
    weight: 2,
  },
  { arbitrary: fc.string({ unit: codeUnit, maxLength: 24 }), weight: 3 },
  { arbitrary: fc.string({ maxLength: 24 }), weight: 1 },
  { arbitrary: fc.double(), weight: 1 },
  { arbitrary: fc.integer(), weight: 1 },
  { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 2 },
  {
    arbitrary: fc.anything({
      maxDepth: 3,
      maxKeys: 4,
      withBigInt: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withTypedArray: true,
      withNullPrototype: true,
      withSparseArray: true,
      withBoxedValues: true,
      withObjectString: true,
      withUnicodeString: true,
    }),
    weight: 2,
  },
);

const FRAGMENTS = ['\u0000', '\n', '\u001b[2J', '\u007f', '😀', '\ud800', '\udfff', ' ', '%s'];
const KEYS = ['__proto__', 'constructor', 'prototype', 'extra', '', '\u0000', '😀', 'then'];

type MutationKind = 'replace' | 'delete' | 'addKey' | 'nest' | 'append' | 'stringify' | 'grow';

export interface Mutation {
  at: number;
  kind: MutationKind;
  value: unknown;
  key: string;
  fragment: string;
  depth: number;
}

const mutation: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat({ max: 1_000 }),
  kind: fc.oneof(
    { arbitrary: fc.constant<MutationKind>('replace'), weight: 8 },
    { arbitrary: fc.constant<MutationKind>('delete'), weight: 2 },
    { arbitrary: fc.constant<MutationKind>('addKey'), weight: 2 },
    { arbitrary: fc.constant<MutationKind>('nest'), weight: 1 },
    { arbitrary: fc.constant<MutationKind>('append'), weight: 2 },
    { arbitrary: fc.constant<MutationKind>('stringify'), weight: 1 },
    { arbitrary: fc.constant<MutationKind>('grow'), weight: 1 },
  ),
  value: nasty,
  key: fc.constantFrom(...KEYS),
  fragment: fc.constantFrom(...FRAGMENTS),
  depth: fc.constantFrom(50, 1_000, 10_000),
});

/** One generated call. */
export interface CallSpec {
  entry: string;
  actor: ActorName;
  mode: 'valid' | 'mutate' | 'random';
  variant: number;
  mutations: Mutation[];
  random: unknown[];
}

// ------------------------------------------------------------------ entry points

type Target = { fx: Fixture; actor: Actor; fresh?: Workspace };

interface Entry {
  name: string;
  /** An Actor method (runs as a generated actor) rather than a Workspace one. */
  onActor?: boolean;
  weight?: number;
  /** Needs its own empty workspace (bootstrap, import). */
  fresh?: boolean;
  /** Valid argument lists; one is picked, then mutated. */
  variants(t: Target): unknown[][] | Promise<unknown[][]>;
  /** Runs after mutation, before the call (e.g. signing a mutated event). */
  finalize?(args: unknown[], t: Target, variant: number): Promise<unknown[]> | unknown[];
  call(t: Target, args: unknown[]): unknown;
}

const iso = (fx: Fixture, ms: number) => new Date(fx.clock.now + ms).toISOString();

async function headOf(fx: Fixture, id: string): Promise<{ version: number; content: unknown }> {
  const a = await fx.actors.owner.artifacts.get(id);
  return { version: a.head, content: a.content };
}

/** Drains an async iterable, at most `max` items. */
async function drain(it: AsyncIterable<unknown>, max = 10_000): Promise<number> {
  let n = 0;
  for await (const _ of it) if (++n >= max) break;
  return n;
}

/** Reads the first item of a watch, or gives up after `ms`; always stops the watch. */
async function firstOf(
  it: AsyncIterableIterator<unknown>,
  controller: AbortController,
  ms: number,
): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      it.next(),
      new Promise((r) => {
        timer = setTimeout(() => r('pending'), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

let eventCounter = 0;

/** An event of `actor`, as a remote party would sign it (the signature is made after mutation). */
function unsigned(
  fx: Fixture,
  actor: string,
  type: string,
  stream: string,
  data: unknown,
  refs: string[],
  auth?: string,
): Record<string, unknown> {
  const e: Record<string, unknown> = {
    ws: fx.ids.ws,
    id: `ev_fuzz_${++eventCounter}`,
    stream,
    type,
    actor,
    at: iso(fx, 0),
    data,
    refs,
    sig: SIGN,
  };
  if (auth !== undefined) e.auth = auth;
  return e;
}

/** Marks a signature the harness makes once the event's fields are final. */
const SIGN = '<sign me>';

async function signEvents(list: unknown, fx: Fixture): Promise<unknown> {
  if (!Array.isArray(list)) return list;
  return Promise.all(
    list.map(async (e) => {
      if (typeof e !== 'object' || e === null || (e as { sig?: unknown }).sig !== SIGN) return e;
      const ev = e as SignedFields & { sig: string };
      try {
        const signer = await fx.keyring.signer(String(ev.actor));
        const text = signingText(signedFieldsOf(ev), false);
        ev.sig = signer
          ? toBase64url(await signer.sign(new TextEncoder().encode(text)))
          : 'A'.repeat(86);
      } catch {
        ev.sig = 'A'.repeat(86);
      }
      return ev;
    }),
  );
}

const WS_ENTRIES: Entry[] = [
  {
    name: 'Workspace.open',
    variants: ({ fx }) => [
      [
        {
          store:
            fx.store instanceof MemoryStore
              ? named(fx.store.peer(), 'fx.store.peer()')
              : new MemoryStore(),
          keyring: named(fx.keyring, 'fx.keyring'),
          clock: named(() => fx.clock.now, '() => fx.clock.now'),
          logger: { ...silentLogger },
          hooks: { onAppend() {}, onConflictRetry() {} },
          tickIntervalMs: 0,
        },
      ],
      [{ tickIntervalMs: 0 }],
      [
        {
          tickIntervalMs: 0,
          keyring: new MemoryKeyring(),
          clock: () => EPOCH,
          logger: { ...silentLogger },
          hooks: { onAppend() {} },
          eventTypes: [{ ...noted }],
          schemas: { p: point },
          pollIntervalMs: 50,
          notifyLeaseMs: 1_000,
          notifyBackoffMs: 10,
          maxRetries: 3,
          service: 'id_none',
        },
      ],
    ],
    async call({ fx }, args) {
      const ws = await (Workspace.open as (...a: unknown[]) => Promise<Workspace>)(...args);
      try {
        // A second instance on the fixture's store: its options must also hold when it writes.
        if (ws.id === fx.ids.ws)
          await ws.as(fx.ids.owner).context.record({ type: 'note', text: 'from a peer' });
      } finally {
        await ws.close();
      }
    },
  },
  {
    name: 'workspace.bootstrap',
    fresh: true,
    variants: ({ fx }) => [
      [{ name: 'Ada' }],
      [
        {
          name: 'Ada',
          workspace: 'Team',
          kind: 'human',
          owners: [{ name: 'Bo', kind: 'service', meta: { a: 1 } }],
          meta: { team: 'x' },
          skewMs: 60_000,
        },
      ],
      [{ name: 'Ada', recoveryKey: fx.ids.spareKey }],
    ],
    call: ({ fresh }, args) => (fresh!.bootstrap as (...a: unknown[]) => unknown)(...args),
  },
  {
    name: 'workspace.as',
    variants: ({ fx }) => [[fx.ids.agent], [fx.ids.agent, { session: 'run-2' }], [fx.ids.owner]],
    async call({ fx }, args) {
      const a = (fx.ws.as as (...a: unknown[]) => Actor)(...args);
      await a.me();
    },
  },
  {
    name: 'workspace.submit',
    weight: 3,
    variants: ({ fx }) => {
      const { ids } = fx;
      return [
        [
          [
            unsigned(
              fx,
              ids.agent,
              'artifact.claimed@1',
              `artifact/${ids.text}`,
              { id: ids.text, until: iso(fx, 60_000) },
              [ids.text],
              ids.agentGrant,
            ),
          ],
        ],
        [
          [
            unsigned(
              fx,
              ids.agent,
              'context.recorded@1',
              `context/ctx_fuzz_${eventCounter}`,
              {
                id: `ctx_fuzz_${eventCounter}`,
                type: 'note',
                about: [ids.text],
                body: ids.noteBody,
                fields: {},
              },
              [ids.text],
              ids.agentGrant,
            ),
          ],
        ],
        [
          [
            unsigned(
              fx,
              ids.agent,
              'grant.exercised@1',
              `grant/${ids.agentGrant}`,
              { action: 'write', resource: `artifact:${ids.text}`, grant: ids.agentGrant },
              [`artifact:${ids.text}`, ids.agent],
              ids.agentGrant,
            ),
          ],
        ],
        [
          [
            unsigned(
              fx,
              ids.owner,
              'identity.suspended@1',
              `identity/${ids.victim}`,
              { id: ids.victim, reason: 'fuzz' },
              [ids.victim],
              ids.rootGrant,
            ),
            unsigned(
              fx,
              ids.owner,
              'identity.reinstated@1',
              `identity/${ids.victim}`,
              { id: ids.victim },
              [ids.victim],
              ids.rootGrant,
            ),
          ],
        ],
      ];
    },
    finalize: async (args, { fx }) => [await signEvents(args[0], fx), ...args.slice(1)],
    call: ({ fx }, args) => (fx.ws.submit as (...a: unknown[]) => unknown)(...args),
  },
  {
    name: 'workspace.ingest',
    weight: 2,
    variants: ({ fx }) => {
      const copy = (e: BatonEvent) => structuredClone(e);
      const last = fx.events.at(-1)!;
      // What a replica would send next: an event continuing the head (its hash is then wrong).
      const next = { ...copy(last), id: 'ev_next', seq: last.seq + 1, prev: last.hash };
      return [[[copy(fx.events[0]!)]], [[copy(last)]], [[next]], [fx.events.slice(1, 3).map(copy)]];
    },
    call: ({ fx }, args) => (fx.ws.ingest as (...a: unknown[]) => unknown)(...args),
  },
  {
    name: 'workspace.import',
    weight: 2,
    fresh: true,
    variants: ({ fx }) => [
      [fx.exportLines.join('\n')],
      [[...fx.exportLines]],
      [fx.exportLines.map((l) => JSON.parse(l))],
      [fx.exportLines.slice(0, 4).map((l) => JSON.parse(l))],
    ],
    finalize: (args, _t, variant) => {
      if (variant < 2 || !Array.isArray(args[0])) return args;
      const lines = (args[0] as unknown[]).map((item) => {
        if (typeof item !== 'object' || item === null) return item;
        try {
          return JSON.stringify(item) ?? item;
        } catch {
          return item;
        }
      });
      return [lines, ...args.slice(1)];
    },
    call: ({ fresh }, args) => (fresh!.import as (...a: unknown[]) => unknown)(...args),
  },
  {
    name: 'workspace.verify',
    weight: 0.5,
    variants: ({ fx }) => [
      [],
      [{ from: structuredClone(fx.checkpoint) }],
      [{ onProgress: () => {} }],
    ],
    call: ({ fx }, args) => (fx.ws.verify as (...a: unknown[]) => unknown)(...args),
  },
  {
    name: 'workspace.checkpoint',
    weight: 0.5,
    variants: ({ fx }) => [[], [{ as: fx.ids.owner }], [{ as: fx.ids.agent }]],
    call: ({ fx }, args) => (fx.ws.checkpoint as (...a: unknown[]) => unknown)(...args),
  },
  {
    name: 'workspace.blob',
    variants: ({ fx }) => [[fx.ids.noteBody], [fx.ids.secretBody]],
    call: ({ fx }, args) => (fx.ws.blob as (...a: unknown[]) => unknown)(...args),
  },
  {
    name: 'workspace.text',
    variants: ({ fx }) => [[fx.ids.noteBody]],
    call: ({ fx }, args) => (fx.ws.text as (...a: unknown[]) => unknown)(...args),
  },
  {
    name: 'workspace.watch',
    variants: ({ fx }) => {
      const c = new AbortController();
      return [
        [{ after: 0, signal: c.signal }, c],
        [{ after: 0, stream: `artifact/${fx.ids.text}`, signal: c.signal }, c],
        [{ after: 1, ref: fx.ids.text, types: ['artifact.edited'], signal: c.signal }, c],
      ];
    },
    call: ({ fx }, args) => {
      const c = args[1] instanceof AbortController ? args[1] : new AbortController();
      return firstOf(fx.ws.watch(args[0] as never), c, 50);
    },
  },
  {
    name: 'workspace.subscribe',
    variants: ({ fx }) => [
      [{ after: 0 }, () => {}],
      [{ stream: `artifact/${fx.ids.text}` }, () => {}],
    ],
    async call({ fx }, args) {
      const stop = (fx.ws.subscribe as (...a: unknown[]) => () => void)(...args);
      await new Promise((r) => setTimeout(r, 5));
      if (typeof stop === 'function') stop();
    },
  },
  {
    name: 'workspace.rebuildProjections',
    weight: 0.2,
    variants: () => [[]],
    call: ({ fx }, args) =>
      (fx.ws.rebuildProjections as (...a: unknown[]) => unknown).apply(fx.ws, args),
  },
  {
    name: 'workspace.tick',
    weight: 0.3,
    variants: () => [[]],
    call: ({ fx }, args) => (fx.ws.tick as (...a: unknown[]) => unknown).apply(fx.ws, args),
  },
  {
    name: 'workspace.upcast',
    weight: 0.5,
    variants: ({ fx }) => [[structuredClone(fx.events[1]!)]],
    call: ({ fx }, args) => (fx.ws.upcast as (...a: unknown[]) => unknown).apply(fx.ws, args),
  },
  {
    name: 'workspace.head',
    weight: 0.2,
    variants: () => [[]],
    call: ({ fx }) => fx.ws.head(),
  },
];

/** `actor.<group>.<method>(...args)`, called with the generated actor. */
function method(path: string): (t: Target, args: unknown[]) => unknown {
  const parts = path.split('.');
  return ({ actor }, args) => {
    let self: unknown = actor;
    for (const p of parts.slice(0, -1)) self = (self as Record<string, unknown>)[p];
    const fn = (self as Record<string, (...a: unknown[]) => unknown>)[parts.at(-1)!]!;
    return fn.apply(self, args);
  };
}

function actorEntry(name: string, variants: Entry['variants'], extra: Partial<Entry> = {}): Entry {
  return { name: `actor.${name}`, onActor: true, variants, call: method(name), ...extra };
}

const ACTOR_ENTRIES: Entry[] = [
  actorEntry('me', () => [[]], { weight: 0.2 }),
  actorEntry('can', ({ fx }) => [
    ['read', `artifact:${fx.ids.text}`],
    ['publish', `artifact:${fx.ids.text}`],
    ['admin', 'workspace'],
  ]),
  actorEntry(
    'authorize',
    ({ fx }) => [
      ['publish', `artifact:${fx.ids.text}`, { summary: 'ship it', payload: { amount: 10 } }],
      ['write', `artifact:${fx.ids.text}`],
      ['email.send', 'mail:x', { idempotencyKey: 'k1', payload: { to: 'a@b' } }],
    ],
    { weight: 2 },
  ),
  actorEntry(
    'emit',
    () => {
      const b = 'a body';
      return [
        ['app.noted', { text: 'hi' }],
        [
          'app.noted',
          { text: 'hi', topic: 'x', body: sha256b64(b) },
          { blobs: [b], refs: ['notes:x'], idempotencyKey: 'e1' },
        ],
        [
          'app.noted',
          { text: 'bytes', body: sha256b64(new Uint8Array([1])) },
          { blobs: [new Uint8Array([1])] },
        ],
      ];
    },
    { weight: 2 },
  ),
  actorEntry('log', ({ fx }) => [
    [],
    [
      {
        after: 1,
        stream: `artifact/${fx.ids.text}`,
        types: ['artifact.edited'],
        limit: 5,
        raw: true,
      },
    ],
    [{ ref: fx.ids.text }],
  ]),
  actorEntry('inbox', () => [[], [{ kinds: ['approval'], status: ['offered'], limit: 10 }]]),
  actorEntry(
    'erase',
    ({ fx }) => [
      [fx.ids.secretBody, 'leaked'],
      [fx.ids.noteBody, 'pii'],
    ],
    {
      weight: 0.5,
    },
  ),
  actorEntry('export', () => [[]], {
    weight: 0.3,
    call: ({ actor }, args) =>
      drain((actor.export as (...a: unknown[]) => AsyncIterable<unknown>).apply(actor, args)),
  }),
  actorEntry(
    'watch',
    ({ fx }) => {
      const c = new AbortController();
      return [
        [{ after: 0, signal: c.signal }, c],
        [{ after: 0, types: ['context.recorded'], ref: fx.ids.text, signal: c.signal }, c],
      ];
    },
    {
      call: ({ actor }, args) => {
        const c = args[1] instanceof AbortController ? args[1] : new AbortController();
        return firstOf(actor.watch(args[0] as never), c, 50);
      },
    },
  ),
  actorEntry('subscribe', () => [[{ after: 0 }, () => {}]], {
    async call({ actor }, args) {
      const stop = (actor.subscribe as (...a: unknown[]) => () => void).apply(actor, args);
      await new Promise((r) => setTimeout(r, 5));
      if (typeof stop === 'function') stop();
    },
  }),
  // identities
  actorEntry('identities.create', ({ fx }) => [
    [{ kind: 'agent', name: 'helper' }],
    [
      {
        kind: 'service',
        name: 'svc',
        owner: fx.ids.owner,
        meta: { model: 'x' },
        key: fx.ids.spareKey,
        idempotencyKey: 'i1',
      },
    ],
    [{ kind: 'human', name: 'Cy' }],
  ]),
  actorEntry('identities.get', ({ fx }) => [[fx.ids.agent], [fx.ids.victim]]),
  actorEntry('identities.list', () => [
    [],
    [{ kind: 'agent', status: 'active', limit: 2, after: 'id_' }],
  ]),
  actorEntry('identities.record', ({ fx }) => [[fx.ids.agent]], { weight: 0.5 }),
  actorEntry('identities.suspend', ({ fx }) => [[fx.ids.victim, { reason: 'fuzz' }]]),
  actorEntry('identities.reinstate', ({ fx }) => [[fx.ids.victim]]),
  actorEntry('identities.rotateKey', ({ fx }) => [[], [fx.ids.victim]], { weight: 0.5 }),
  // capabilities
  actorEntry(
    'capabilities.grant',
    ({ fx }) => [
      [{ to: fx.ids.stranger, resource: `artifact:${fx.ids.text}`, actions: ['read'] }],
      [
        {
          to: fx.ids.agent,
          resource: 'artifact:*',
          actions: ['read', 'publish'],
          expiresAt: iso(fx, 86_400_000),
          notBefore: 0,
          maxUses: 3,
          requiresApproval: [{ action: 'publish', approvers: [fx.ids.approver] }],
          depth: 1,
          idempotencyKey: 'g1',
        },
      ],
      [{ to: fx.ids.victim, resource: 'artifact:tag/launch', actions: ['read', 'comment'] }],
    ],
    { weight: 2 },
  ),
  actorEntry('capabilities.revoke', ({ fx }) => [[fx.ids.strayGrant, { reason: 'fuzz' }]]),
  actorEntry('capabilities.get', ({ fx }) => [[fx.ids.agentGrant]]),
  actorEntry('capabilities.list', ({ fx }) => [
    [],
    [{ audience: fx.ids.agent, issuer: fx.ids.owner, includeRevoked: true }],
  ]),
  // artifacts
  actorEntry(
    'artifacts.create',
    () => [
      [
        {
          kind: 'text',
          title: 'T',
          content: 'a\nb\n',
          tags: ['x'],
          meta: { k: 1 },
          reason: 'r',
          idempotencyKey: 'a1',
        },
      ],
      [{ kind: 'json', title: 'J', content: { a: [1, 2] } }],
      [{ kind: 'json', title: 'P', content: { x: 1, y: 2 }, schema: 'point' }],
    ],
    { weight: 2 },
  ),
  actorEntry('artifacts.get', ({ fx }) => [[fx.ids.text], [fx.ids.json, { version: 1 }]]),
  actorEntry('artifacts.list', ({ fx }) => [
    [],
    [{ tag: 'draft', includeArchived: true, limit: 5 }],
    [{ kind: 'json', updatedSince: iso(fx, -86_400_000) }],
    [{ holder: fx.ids.agent }],
  ]),
  actorEntry('artifacts.history', ({ fx }) => [[fx.ids.text, { limit: 2 }]]),
  actorEntry(
    'artifacts.edit',
    async ({ fx }) => {
      const t = await headOf(fx, fx.ids.text);
      const j = await headOf(fx, fx.ids.json);
      const p = await headOf(fx, fx.ids.point);
      const body = typeof t.content === 'string' ? t.content : '';
      const firstLine = body.split('\n')[0] ?? '';
      const patch = `--- content\n+++ content\n@@ -1,1 +1,1 @@\n-${firstLine}\n+${firstLine}!\n`;
      return [
        [fx.ids.text, { content: `${body}more\n`, baseVersion: t.version, reason: 'append' }],
        [fx.ids.text, { patch, baseVersion: t.version, reason: 'patch' }],
        [
          fx.ids.json,
          {
            patch: [
              { op: 'replace', path: '/title', value: 'x' },
              { op: 'add', path: '/items/-', value: 4 },
            ],
            baseVersion: j.version,
            reason: 'json patch',
          },
        ],
        [fx.ids.json, { content: { title: 't', items: [] }, baseVersion: j.version, reason: 'c' }],
        [fx.ids.text, { content: 'Line one\nchanged\n', baseVersion: 1, reason: 'stale base' }],
        [fx.ids.point, { content: { x: 3, y: 4 }, baseVersion: p.version, reason: 'move' }],
      ];
    },
    { weight: 4 },
  ),
  actorEntry('artifacts.diff', async ({ fx }) => [
    [fx.ids.text, 1, (await headOf(fx, fx.ids.text)).version],
    [fx.ids.json, 1, 2],
  ]),
  actorEntry('artifacts.archive', ({ fx }) => [[fx.ids.archivable, { reason: 'old' }]], {
    weight: 0.5,
  }),
  actorEntry('artifacts.claim', ({ fx }) => [[fx.ids.text, { ttl: 60_000 }], [fx.ids.json]]),
  actorEntry('artifacts.release', ({ fx }) => [[fx.ids.text]]),
  actorEntry('artifacts.markSeen', ({ fx }) => [[fx.ids.text, 1], [fx.ids.json]]),
  actorEntry('artifacts.seen', ({ fx }) => [[fx.ids.text]]),
  actorEntry('artifacts.changesSince', ({ fx }) => [[fx.ids.text, { since: 0 }], [fx.ids.json]]),
  // context
  actorEntry(
    'context.record',
    ({ fx }) => {
      const about = [fx.ids.text];
      return [
        [{ type: 'note', about, text: 'n' }],
        [{ type: 'attempt', about, text: 'tried', outcome: 'failed', idempotencyKey: 'c1' }],
        [{ type: 'decision', about, text: 'd', why: 'w', alternatives: ['x'] }],
        [{ type: 'learned', text: 'l' }],
        [{ type: 'question', about, text: 'q?', options: ['a', 'b'] }],
        [{ type: 'answer', about, text: 'a', answers: fx.ids.question }],
        [{ type: 'todo', text: 't' }],
        [{ type: 'summary', about, text: 's', replaces: [fx.ids.note] }],
        [
          {
            type: 'tool',
            text: 'called',
            tool: { name: 'search', argsDigest: 'a', resultDigest: 'b', durationMs: 12 },
          },
        ],
        [
          {
            type: 'usage',
            about,
            text: 'u',
            usage: { model: 'm', inputTokens: 1, outputTokens: 2, costUsd: 0.5 },
          },
        ],
      ];
    },
    { weight: 4 },
  ),
  actorEntry('context.get', ({ fx }) => [[fx.ids.note], [fx.ids.question]]),
  actorEntry('context.query', ({ fx }) => [
    [],
    [
      {
        about: fx.ids.text,
        types: ['note', 'decision'],
        actor: fx.ids.agent,
        session: 'run-1',
        since: iso(fx, -86_400_000),
        text: 'note',
        open: true,
        includeSummarized: true,
        limit: 5,
      },
    ],
    [{ about: [fx.ids.text, fx.ids.json] }],
  ]),
  actorEntry(
    'context.compact',
    ({ fx }) => [
      [{ about: fx.ids.text, before: iso(fx, 3_600_000), summarize: () => 'summary' }],
      [{ about: [fx.ids.text], summarize: async () => 'async summary' }],
    ],
    { weight: 0.5 },
  ),
  actorEntry('context.costs', () => [
    [{ by: 'actor' }],
    [{ by: 'handoff', since: 0 }],
    [{ by: 'artifact' }],
  ]),
  actorEntry('context.openQuestions', ({ fx }) => [[fx.ids.text], []]),
  // handoffs
  actorEntry(
    'handoffs.offer',
    ({ fx }) => [
      [
        {
          to: fx.ids.agent,
          artifacts: [fx.ids.text],
          note: 'n',
          questions: ['q?'],
          priority: 'high',
          due: iso(fx, 3_600_000),
          escalateTo: fx.ids.approver,
          idempotencyKey: 'o1',
        },
      ],
      [{ to: fx.ids.approver, artifacts: [fx.ids.json] }],
    ],
    { weight: 2 },
  ),
  actorEntry('handoffs.accept', ({ fx }) => [[fx.ids.workOffered], [fx.ids.workOffered2]]),
  actorEntry('handoffs.decline', ({ fx }) => [[fx.ids.workOffered2, { note: 'busy' }]]),
  actorEntry('handoffs.return', ({ fx }) => [[fx.ids.workAccepted, { note: 'stuck' }]]),
  actorEntry('handoffs.complete', ({ fx }) => [[fx.ids.workAccepted]]),
  actorEntry('handoffs.cancel', ({ fx }) => [[fx.ids.workOffered, { note: 'never mind' }]]),
  actorEntry(
    'handoffs.requestApproval',
    ({ fx }) => [
      [
        {
          action: 'publish',
          resource: `artifact:${fx.ids.text}`,
          summary: 's',
          payload: { amount: 5 },
          due: iso(fx, 3_600_000),
          onTimeout: 'deny',
        },
      ],
      [{ action: 'email.send', resource: 'mail:x' }],
    ],
    { weight: 1.5 },
  ),
  actorEntry(
    'handoffs.approve',
    ({ fx }) => [
      [fx.ids.approvalPending, { note: 'ok', payload: { amount: 7 } }],
      [[fx.ids.approvalPending, fx.ids.approvalPending2]],
    ],
    { weight: 1.5 },
  ),
  actorEntry('handoffs.deny', ({ fx }) => [[fx.ids.approvalPending2, { note: 'no' }]]),
  actorEntry('handoffs.ask', ({ fx }) => [
    [
      {
        to: fx.ids.agent,
        question: '?',
        options: ['a', 'b'],
        about: [fx.ids.text],
        due: iso(fx, 60_000),
        priority: 'low',
      },
    ],
    [{ to: fx.ids.approver, question: 'where?', schema: 'point' }],
  ]),
  actorEntry(
    'handoffs.answer',
    ({ fx }) => [
      [fx.ids.questionHo, 'a'],
      [fx.ids.schemaQuestion, { x: 1, y: 2 }],
    ],
    { weight: 1.5 },
  ),
  actorEntry('handoffs.get', ({ fx }) => [[fx.ids.workOffered], [fx.ids.approvalPending]]),
  actorEntry('handoffs.briefing', ({ fx }) => [[fx.ids.workOffered], [fx.ids.questionHo]]),
  actorEntry(
    'handoffs.wait',
    ({ fx }) => [
      [fx.ids.workOffered, { timeoutMs: 5 }],
      [fx.ids.workAccepted, {}],
    ],
    {
      call({ actor }, args) {
        const p = (actor.handoffs.wait as (...a: unknown[]) => Promise<unknown>).apply(
          actor.handoffs,
          args,
        );
        const o = args[1] as { timeoutMs?: unknown } | undefined;
        const bounded =
          typeof o?.timeoutMs === 'number' && o.timeoutMs >= 0 && o.timeoutMs <= 1_000;
        if (bounded) return p;
        // Without a short timeout, waiting for an open handoff until it is decided is what
        // wait() promises: a wait still pending after 300 ms is not a hang.
        p.catch(() => undefined);
        return Promise.race([p, new Promise((r) => setTimeout(() => r('still waiting'), 300))]);
      },
    },
  ),
  actorEntry('handoffs.inbox', () => [[{}]], {
    call: ({ actor }, args) => (actor.inbox as (...a: unknown[]) => unknown).apply(actor, args),
  }),
];

/** Exported helpers that take caller input. */
const UTIL_ENTRIES: Entry[] = (
  [
    ['mergeText', mergeText, () => [['a\nb\n', 'a\nc\n', 'a\nb\nd\n']]],
    [
      'mergeJson',
      mergeJson,
      () => [
        [
          { a: 1, b: [1] },
          { a: 2, b: [1] },
          { a: 1, b: [1, 2] },
        ],
      ],
    ],
    ['canonicalJson', canonicalJson, () => [[{ b: 1, a: [true, null, 'x'] }]]],
    ['fromBase64url', fromBase64url, () => [['AQID']]],
    ['toBase64url', toBase64url, () => [[new Uint8Array([1, 2, 3])]]],
    ['sha256b64', sha256b64, () => [['text'], [new Uint8Array([1])]]],
    ['decodeCursor', decodeCursor, () => [[encodeCursor(['a', 'b']), 2]]],
    ['encodeCursor', encodeCursor, () => [[['a', 'b']]]],
    ['parseType', parseType, () => [['grant.issued@1']]],
    ['streamResource', streamResource, () => [['artifact/x']]],
    ['rawFromDidKey', rawFromDidKey, ({ fx }: Target) => [[fx.ids.spareKey]]],
    ['didKeyFromRaw', didKeyFromRaw, () => [[new Uint8Array(32)]]],
    [
      'verifySignature',
      verifySignature,
      ({ fx }: Target) => [[fx.ids.spareKey, 'A'.repeat(86), new Uint8Array([1])]],
    ],
    [
      'signingText',
      signingText,
      ({ fx }: Target) => [[structuredClone(signedFieldsOf(fx.events[1]!))]],
    ],
    ['eventHash', eventHash, ({ fx }: Target) => [[structuredClone(fx.events[1]!)]]],
    [
      'new WebhookNotifier',
      (...a: unknown[]) => new WebhookNotifier(...(a as [never])),
      () => [[{ url: 'https://hooks.example/baton', secret: 's'.repeat(32), timeoutMs: 1_000 }]],
    ],
    [
      'defineEventType',
      defineEventType as (...a: unknown[]) => unknown,
      () => [[{ name: 'app.fuzzed', schema: z.object({ n: z.number() }), stream: () => 'fuzz/x' }]],
    ],
    [
      'new MemoryKeyring',
      (...a: unknown[]) => new MemoryKeyring(...(a as [never])),
      () => [[{ extractable: true }]],
    ],
  ] as [string, (...a: unknown[]) => unknown, Entry['variants']][]
).map(([name, fn, variants]) => ({
  name: `util.${name}`,
  weight: 0.3,
  variants,
  call: (_t: Target, args: unknown[]) => fn(...args),
}));

export const ENTRIES: Entry[] = [...WS_ENTRIES, ...ACTOR_ENTRIES, ...UTIL_ENTRIES];
const BY_NAME = new Map(ENTRIES.map((e) => [e.name, e]));

/** The arbitrary of one call, over the given entry points (default: all of them). */
export function callSpec(entries: Entry[] = ENTRIES): fc.Arbitrary<CallSpec> {
  return fc.oneof(
    ...entries.map((e) => ({
      weight: Math.max(1, Math.round((e.weight ?? 1) * 4)),
      arbitrary: fc.record({
        entry: fc.constant(e.name),
        actor: fc.constantFrom<ActorName>('agent', 'owner', 'approver', 'stranger'),
        mode: fc.oneof(
          { arbitrary: fc.constant<'valid'>('valid'), weight: 1 },
          { arbitrary: fc.constant<'mutate'>('mutate'), weight: 7 },
          { arbitrary: fc.constant<'random'>('random'), weight: 2 },
        ),
        variant: fc.nat({ max: 20 }),
        mutations: fc.array(mutation, { minLength: 1, maxLength: 3 }),
        random: fc.array(nasty, { maxLength: 4 }),
      }),
    })),
  );
}

// ------------------------------------------------------------------ mutation

type Path = (string | number)[];

function isPlain(v: unknown): v is Record<string, unknown> | unknown[] {
  if (Array.isArray(v)) return true;
  if (typeof v !== 'object' || v === null) return false;
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

/** Every place in `args` a mutation can hit (not the argument list itself). */
function pathsOf(args: unknown[]): Path[] {
  const out: Path[] = [];
  const walk = (v: unknown, path: Path, depth: number) => {
    if (path.length) out.push(path);
    if (depth > 5 || out.length > 300 || !isPlain(v)) return;
    if (Array.isArray(v)) {
      for (const [i, x] of v.slice(0, 20).entries()) walk(x, [...path, i], depth + 1);
    } else for (const k of Object.keys(v).slice(0, 30)) walk(v[k], [...path, k], depth + 1);
  };
  walk(args, [], 0);
  return out;
}

function parentOf(root: unknown[], path: Path): Record<string | number, unknown> {
  let p: unknown = root;
  for (const k of path.slice(0, -1)) p = (p as Record<string | number, unknown>)[k];
  return p as Record<string | number, unknown>;
}

function pathText(path: Path): string {
  return `args${path.map((k) => (typeof k === 'number' ? `[${k}]` : /^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`)).join('')}`;
}

/** Applies `m` to `args` in place; returns what it did, as a line of JavaScript. */
function mutate(args: unknown[], m: Mutation, fx: Fixture): string {
  const paths = pathsOf(args);
  const shown = (v: unknown) => toSource(v, fx.ids, 200);
  // With no argument at all, a mutation adds one.
  if (paths.length === 0) {
    const v = resolve(m.value, fx);
    args.push(v);
    return `args.push(${shown(m.value)})`;
  }
  const path = paths[m.at % paths.length]!;
  const parent = parentOf(args, path);
  const key = path.at(-1)!;
  const here = parent[key];
  const at = pathText(path);
  const value = () => resolve(m.value, fx);
  switch (m.kind) {
    case 'replace':
      parent[key] = value();
      return `${at} = ${shown(m.value)}`;
    case 'delete':
      if (Array.isArray(parent)) parent.splice(Number(key), 1);
      else delete parent[key];
      return Array.isArray(parent)
        ? `${pathText(path.slice(0, -1))}.splice(${key}, 1)`
        : `delete ${at}`;
    case 'addKey':
      if (isPlain(here) && !Array.isArray(here)) {
        Object.defineProperty(here, m.key, {
          value: value(),
          enumerable: true,
          writable: true,
          configurable: true,
        });
        return `Object.defineProperty(${at}, ${JSON.stringify(m.key)}, { value: ${shown(m.value)}, enumerable: true })`;
      }
      parent[key] = value();
      return `${at} = ${shown(m.value)}`;
    case 'nest': {
      const shape = m.at % 2 ? 'object' : 'array';
      parent[key] = deep(m.depth, shape, here);
      return `${at} = deep(${m.depth}, '${shape}', ${at})`;
    }
    case 'append':
      if (typeof here === 'string') {
        parent[key] = `${here}${m.fragment}`;
        return `${at} += ${JSON.stringify(m.fragment)}`;
      }
      parent[key] = value();
      return `${at} = ${shown(m.value)}`;
    case 'stringify':
      try {
        parent[key] = typeof here === 'string' ? Number(here) : (JSON.stringify(here) ?? null);
      } catch {
        parent[key] = String(here);
      }
      return `${at} = ${shown(parent[key])}`;
    case 'grow':
      if (typeof here === 'string') {
        const times = Math.ceil(1_000_001 / (here.length || 1));
        parent[key] = here.repeat(times);
        return `${at} = ${at}.repeat(${times})`;
      }
      if (Array.isArray(here)) {
        parent[key] = Array.from({ length: 1_001 }, (_, i) => here[i % (here.length || 1)]);
        return `${at} = ${at} repeated to 1001 items`;
      }
      if (typeof here === 'number') {
        parent[key] = here * 1e12;
        return `${at} *= 1e12`;
      }
      parent[key] = value();
      return `${at} = ${shown(m.value)}`;
  }
}

/**
 * The arguments of a generated call, ready to pass, and how they were made: `valid call
 * #<variant>`, then each mutation as a line of JavaScript (or the random arguments).
 */
export async function argsOf(
  spec: CallSpec,
  t: Target,
): Promise<{ args: unknown[]; recipe: string }> {
  const entry = BY_NAME.get(spec.entry)!;
  const variants = await entry.variants(t);
  const variant = spec.variant % variants.length;
  let args: unknown[];
  let recipe: string;
  if (spec.mode === 'random') {
    args = spec.random.map((v) => resolve(v, t.fx));
    recipe = `args = ${toSource(spec.random, t.fx.ids, 400)}`;
  } else {
    args = variants[variant]!;
    const steps = [`valid call #${variant}`];
    if (spec.mode === 'mutate') {
      for (const m of spec.mutations) {
        try {
          steps.push(mutate(args, m, t.fx));
        } catch (err) {
          // A frozen value, or one too deep to show: this mutation is left out.
          steps.push(
            `/* a ${m.kind} could not be applied: ${String((err as Error).message).slice(0, 60)} */`,
          );
        }
      }
    }
    recipe = steps.join('; ');
  }
  return { args: entry.finalize ? await entry.finalize(args, t, variant) : args, recipe };
}

// ------------------------------------------------------------------ showing inputs

/** `v` as JavaScript source that builds it again (long strings, deep nesting and cycles abbreviated). */
export function toSource(v: unknown, ids: Record<string, string> = {}, budget = 2_000): string {
  const names = new Map(Object.entries(ids).map(([k, id]) => [id, `fx.ids.${k}`]));
  const seen = new Set<unknown>();
  let left = budget;
  const str = (s: string): string => {
    const named = names.get(s);
    if (named) return named;
    if (s.length > 120) {
      const unit = [...s.slice(0, 2)][0] ?? '';
      if (unit && s === unit.repeat(s.length / unit.length)) {
        return `${JSON.stringify(unit)}.repeat(${s.length / unit.length})`;
      }
      return `${JSON.stringify(s.slice(0, 80))} /* …${s.length} characters */`;
    }
    for (const [id, n] of names)
      if (id.length > 8 && s.includes(id))
        return `\`${s.split(id).join(`\${${n}}`).replace(/`/g, '\\`')}\``;
    return JSON.stringify(s);
  };
  const go = (x: unknown, depth: number): string => {
    if (left <= 0) return '/*…*/';
    left -= 1;
    switch (typeof x) {
      case 'undefined':
        return 'undefined';
      case 'number':
        return Object.is(x, -0) ? '-0' : String(x);
      case 'bigint':
        return `${x}n`;
      case 'boolean':
        return String(x);
      case 'symbol':
        return `Symbol(${JSON.stringify(x.description ?? '')})`;
      case 'function':
        return NAMES.get(x) ?? (x.length ? '(...a) => {}' : '() => {}');
      case 'string': {
        const s = str(x);
        left -= s.length / 8;
        return s;
      }
    }
    if (x === null) return 'null';
    if (x instanceof Token) return String(x);
    const known = NAMES.get(x as object);
    if (known) return known;
    if (seen.has(x)) return '/* cycle */ self';
    // A chain of one-element arrays or one-key objects is shown as deep(n).
    let n = 0;
    let inner: unknown = x;
    while (
      n < 1_000_000 &&
      (n === 0 || inner !== x) &&
      ((Array.isArray(inner) && inner.length === 1) ||
        (isPlain(inner) &&
          !Array.isArray(inner) &&
          Object.keys(inner).length === 1 &&
          'a' in inner))
    ) {
      const arr = Array.isArray(inner);
      inner = arr ? (inner as unknown[])[0] : (inner as { a: unknown }).a;
      n++;
      if (n > 60 && arr !== Array.isArray(inner)) break;
    }
    if (n > 60)
      return `deep(${n}, '${Array.isArray(x) ? 'array' : 'object'}', ${go(inner, depth + 1)})`;
    if (depth > 40) return '/* deeper */';
    seen.add(x);
    try {
      if (Array.isArray(x)) {
        const shown = x.slice(0, 12).map((y, i) => (i in x ? go(y, depth + 1) : '/*hole*/'));
        if (x.length > 12) shown.push(`/* …${x.length} items */`);
        return `[${shown.join(', ')}]`;
      }
      if (x instanceof Uint8Array)
        return `new Uint8Array([${[...x.slice(0, 16)].join(', ')}${x.length > 16 ? ', …' : ''}])`;
      if (ArrayBuffer.isView(x)) return `new ${x.constructor.name}(…)`;
      if (x instanceof ArrayBuffer) return `new ArrayBuffer(${x.byteLength})`;
      if (x instanceof Date) return `new Date(${x.getTime()})`;
      if (x instanceof Map) return `new Map(${go([...x], depth + 1)})`;
      if (x instanceof Set) return `new Set(${go([...x], depth + 1)})`;
      if (x instanceof RegExp) return String(x);
      if (x instanceof Error) return `new Error(${JSON.stringify(x.message)})`;
      if (x instanceof Promise) return 'Promise.resolve(…)';
      if (x instanceof AbortController) return 'new AbortController()';
      if (typeof AbortSignal !== 'undefined' && x instanceof AbortSignal)
        return x.aborted ? 'AbortSignal.abort()' : 'controller.signal';
      if (x instanceof MemoryStore) return 'new MemoryStore()';
      if (x instanceof MemoryKeyring) return 'new MemoryKeyring()';
      const proto = Object.getPrototypeOf(x);
      const keys = Object.keys(x as object);
      const body = keys.slice(0, 24).map((k) => {
        const key =
          k === '__proto__'
            ? '["__proto__"]'
            : /^[A-Za-z_$][\w$]*$/.test(k)
              ? k
              : JSON.stringify(k);
        return `${key}: ${go((x as Record<string, unknown>)[k], depth + 1)}`;
      });
      if (keys.length > 24) body.push(`/* …${keys.length} keys */`);
      const obj = `{ ${body.join(', ')} }`;
      if (proto === null) return `Object.assign(Object.create(null), ${obj})`;
      if (proto !== Object.prototype) return `/* ${proto?.constructor?.name ?? 'object'} */ ${obj}`;
      return obj;
    } finally {
      seen.delete(x);
    }
  };
  return go(v, 0);
}

// ------------------------------------------------------------------ running calls

export interface Outcome {
  kind: 'ok' | 'baton' | 'other' | 'hang' | 'skip';
  code?: string;
  error?: unknown;
  ms: number;
  /** Set when the call threw and the head moved. */
  headChange?: { before: string; after: string; types: string[]; legitimate: boolean };
}

/** How a call's input is shown: how it was made, and the arguments when they are short. */
function shownInput(recipe: string, args: unknown[], ids: Record<string, string>): string {
  const full = toSource(args, ids, 600);
  return full.length <= 400 && full !== recipe.replace(/^args = /, '')
    ? `${recipe}\n      args: ${full}`
    : recipe;
}

/** How long a call may take before it counts as a hang. */
export const DEFAULT_TIMEOUT_MS = 5_000;

export async function runCall(
  fx: Fixture,
  spec: CallSpec,
  timeoutMs = DEFAULT_TIMEOUT_MS,
  onReady?: (recipe: string) => void,
): Promise<{ outcome: Outcome; args: unknown[]; recipe: string }> {
  const entry = BY_NAME.get(spec.entry)!;
  fx.clock.now += 100;
  let fresh: Workspace | undefined;
  if (entry.fresh) {
    fresh = await Workspace.open({ tickIntervalMs: 0, clock: () => fx.clock.now });
    if (entry.name === 'workspace.bootstrap' && spec.variant % 7 === 6) fresh = fx.ws;
  }
  const t: Target = { fx, actor: fx.actors[entry.onActor ? spec.actor : 'owner'], fresh };
  let args: unknown[];
  let recipe: string;
  try {
    ({ args, recipe } = await argsOf(spec, t));
  } catch (err) {
    // The harness could not build the input (the workspace is broken by an earlier call).
    if (fresh && fresh !== fx.ws) await fresh.close().catch(() => undefined);
    return { outcome: { kind: 'skip', error: err, ms: 0 }, args: [], recipe: '' };
  }
  onReady?.(recipe);
  const store = fresh && fresh !== fx.ws ? fresh.store : fx.store;
  const before = await store.head();
  const fxBefore = store === fx.store ? before : await fx.store.head();
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const HANG = Symbol('hang');
  let outcome: Outcome;
  try {
    const r = await Promise.race([
      Promise.resolve().then(() => entry.call(t, args)),
      new Promise((res) => {
        timer = setTimeout(() => res(HANG), timeoutMs);
      }),
    ]);
    outcome =
      r === HANG ? { kind: 'hang', ms: performance.now() - started } : { kind: 'ok', ms: 0 };
  } catch (err) {
    outcome = isBatonError(err)
      ? { kind: 'baton', code: err.code, error: err, ms: 0 }
      : { kind: 'other', error: err, ms: 0 };
  } finally {
    clearTimeout(timer);
  }
  if (outcome.kind !== 'hang') outcome.ms = performance.now() - started;
  if (outcome.kind === 'baton' || outcome.kind === 'other') {
    const after = await store.head();
    const fxAfter = store === fx.store ? after : await fx.store.head();
    const changed =
      after.seq !== before.seq || after.hash !== before.hash
        ? { s: store, b: before, a: after }
        : fxAfter.seq !== fxBefore.seq || fxAfter.hash !== fxBefore.hash
          ? { s: fx.store, b: fxBefore, a: fxAfter }
          : undefined;
    if (changed) {
      const written: BatonEvent[] = [];
      for await (const e of changed.s.read({ after: changed.b.seq })) written.push(e);
      // authorize() raising a new approval request and then throwing APPROVAL_REQUIRED is
      // its documented behaviour: the request is what the approver decides.
      const legitimate =
        entry.name === 'actor.authorize' &&
        outcome.code === 'APPROVAL_REQUIRED' &&
        written.length > 0 &&
        written.every(
          (e) =>
            e.type === 'handoff.offered@1' && (e.data as { kind?: string }).kind === 'approval',
        );
      outcome.headChange = {
        before: `${changed.b.seq}:${changed.b.hash.slice(0, 8)}`,
        after: `${changed.a.seq}:${changed.a.hash.slice(0, 8)}`,
        types: written.map((e) => e.type),
        legitimate,
      };
    }
  }
  if (fresh && fresh !== fx.ws) await fresh.close().catch(() => undefined);
  return { outcome, args, recipe };
}

// ------------------------------------------------------------------ the run

/** One call's result, as the runner reports it (plain data: it may cross a process boundary). */
export interface CallResult {
  index: number;
  entry: string;
  actor: string;
  kind: Outcome['kind'];
  code?: string;
  name?: string;
  message?: string;
  origin?: string;
  batonFrame?: string;
  input?: string;
  ms: number;
  headChange?: Outcome['headChange'];
}

export interface Group {
  key: string;
  entry: string;
  name: string;
  message: string;
  /** The first stack frame (where it was thrown). */
  origin: string;
  /** The first frame in Baton's own sources (the file that should turn it into a BatonError). */
  batonFrame: string;
  count: number;
  actor: string;
  /** The smallest input seen: how it was made (a valid call and its mutations), and the arguments when short. */
  input: string;
  /** The run (fast-check path) it was seen in; `shrinkGroups` replays it. */
  runIndex: number;
  /** Filled by shrinkGroups(): fast-check's shrunk input, and whether it fails on a new workspace. */
  shrunk?: string;
  reproducesFresh?: boolean;
}

export interface FuzzReport {
  seed: number;
  calls: number;
  ok: number;
  baton: Record<string, number>;
  other: number;
  groups: Group[];
  headChanges: {
    entry: string;
    code: string;
    input: string;
    before: string;
    after: string;
    types: string[];
  }[];
  legitimateWrites: number;
  hangs: { entry: string; input: string; ms: number; index: number }[];
  slow: { entry: string; input: string; ms: number }[];
  /** Errors thrown outside any call (a timer, a dropped promise): each would end an app process. */
  unhandled: string[];
  /** Calls whose input the harness could not build (the workspace was broken before). */
  skipped: string[];
  byEntry: Record<string, { calls: number; ok: number; baton: number; other: number }>;
  fixtures: { memory: number; sqlite: number };
  ms: number;
}

export interface RunOptions {
  calls: number;
  seed: number;
  /** The first run to make (the ones before are generated and passed over). Defaults to `0`. */
  from?: number;
  /** Calls per workspace before a new one is set up. Defaults to `1_000`. */
  resetEvery?: number;
  /** Every n-th workspace is SQLite on a temp file; `0` for none. Defaults to `10`. */
  sqliteEvery?: number;
  timeoutMs?: number;
  /** Entry points to call (names, or parts of names). Defaults to all. */
  entries?: string[];
}

function firstLine(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  return (m.split('\n')[0] ?? '').slice(0, 160);
}

/** A message with its ids, positions and numbers blurred, so one bug is one group. */
function normalize(m: string): string {
  return m
    .replace(/\b(art|ho|id|gr|ctx|ev|ws|idem|ntf)_[A-Za-z0-9_-]+/g, '<id>')
    .replace(/did:key:[A-Za-z0-9]+/g, '<did>')
    .replace(/Received .*/, 'Received …')
    .replace(/"[^"]*"/g, '"…"')
    .replace(/'[^']*'/g, "'…'")
    .replace(/\d+/g, 'N');
}

function errorName(err: unknown): string {
  if (err instanceof Error) return err.name || err.constructor?.name || 'Error';
  return `thrown ${err === null ? 'null' : typeof err}`;
}

function frames(err: unknown): string[] {
  const stack = err instanceof Error ? (err.stack ?? '') : '';
  return stack
    .split('\n')
    .slice(1)
    .map((l) => l.trim().replace(/^at /, ''))
    .map((l) => l.replace(/.*?((?:packages|node_modules)\/.*?:\d+):\d+\)?$/, '$1'));
}

const batonFrameOf = (f: string[]) => f.find((l) => /packages\/[a-z-]+\/src\//.test(l)) ?? '?';

function groupKey(entry: string, err: unknown): string {
  return `${entry} | ${errorName(err)} | ${normalize(firstLine(err))}`;
}

function selectEntries(names?: string[]): Entry[] {
  return names
    ? ENTRIES.filter((e) => names.some((n) => e.name === n || e.name.includes(n)))
    : ENTRIES;
}

/**
 * Makes the calls, reporting each result (and each error thrown outside a call) as it
 * comes. `onStart`/`onReady` tell a watchdog which call runs (a call that blocks the event
 * loop cannot be timed out from inside the process).
 */
export async function runCalls(
  options: RunOptions,
  hooks: {
    onResult(r: CallResult): void;
    onUncaught(text: string): void;
    onStart?(index: number, entry: string): void;
    onReady?(index: number, recipe: string): void;
    onFixture?(kind: 'memory' | 'sqlite'): void;
  },
): Promise<void> {
  const resetEvery = options.resetEvery ?? 1_000;
  const sqliteEvery = options.sqliteEvery ?? 10;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const from = options.from ?? 0;
  let fx: Fixture | undefined;
  let epoch = 0;
  let sinceReset = 0;
  let lastEntry = '';
  // Errors thrown outside any call (in a timer, a dropped promise) would end the process:
  // they are recorded with the entry point called last and the Baton frame they came from.
  const onUnhandled = (reason: unknown) => {
    const f = frames(reason);
    hooks.onUncaught(
      `after ${lastEntry}: ${errorName(reason)}: ${firstLine(reason)} (at ${batonFrameOf(f) === '?' ? (f[0] ?? '?') : batonFrameOf(f)})`,
    );
  };
  process.on('unhandledRejection', onUnhandled);
  process.on('uncaughtException', onUnhandled);
  const reset = async () => {
    await fx?.cleanup();
    epoch++;
    const kind = sqliteEvery > 0 && epoch % sqliteEvery === 0 ? 'sqlite' : 'memory';
    fx = await makeFixture(kind);
    hooks.onFixture?.(kind);
    sinceReset = 0;
  };
  try {
    let index = 0;
    await fc.assert(
      fc.asyncProperty(callSpec(selectEntries(options.entries)), async (spec) => {
        const runIndex = index++;
        if (runIndex < from) return true;
        if (!fx || sinceReset >= resetEvery) await reset();
        sinceReset++;
        lastEntry = spec.entry;
        hooks.onStart?.(runIndex, spec.entry);
        const { outcome, args, recipe } = await runCall(fx!, spec, timeoutMs, (r) =>
          hooks.onReady?.(runIndex, r),
        );
        const r: CallResult = {
          index: runIndex,
          entry: spec.entry,
          actor: spec.actor,
          kind: outcome.kind,
          ms: outcome.ms,
        };
        if (outcome.code) r.code = outcome.code;
        if (outcome.headChange) r.headChange = outcome.headChange;
        if (outcome.kind !== 'ok' && outcome.kind !== 'baton') {
          r.input = shownInput(recipe, args, fx!.ids);
          r.name = errorName(outcome.error);
          r.message = firstLine(outcome.error);
          const f = frames(outcome.error);
          r.origin = f[0] ?? '?';
          r.batonFrame = batonFrameOf(f);
        } else if (outcome.headChange || outcome.ms > 1_000) {
          r.input = shownInput(recipe, args, fx!.ids);
        }
        // A hang may still write later, and a skip means the workspace is broken: start anew.
        if (outcome.kind === 'hang' || outcome.kind === 'skip') sinceReset = resetEvery;
        hooks.onResult(r);
        return true;
      }),
      { seed: options.seed, numRuns: options.calls, endOnFailure: true },
    );
  } finally {
    process.off('unhandledRejection', onUnhandled);
    process.off('uncaughtException', onUnhandled);
    await fx?.cleanup();
  }
}

/** Sums call results into a {@link FuzzReport}. */
export class Tally {
  readonly report: FuzzReport;
  readonly #groups = new Map<string, Group>();
  readonly #started = performance.now();

  constructor(seed: number) {
    this.report = {
      seed,
      calls: 0,
      ok: 0,
      baton: {},
      other: 0,
      groups: [],
      headChanges: [],
      legitimateWrites: 0,
      hangs: [],
      slow: [],
      unhandled: [],
      skipped: [],
      byEntry: {},
      fixtures: { memory: 0, sqlite: 0 },
      ms: 0,
    };
  }

  add(r: CallResult): void {
    const report = this.report;
    report.calls++;
    const by = report.byEntry[r.entry] ?? { calls: 0, ok: 0, baton: 0, other: 0 };
    report.byEntry[r.entry] = by;
    by.calls++;
    if (r.kind === 'ok') {
      report.ok++;
      by.ok++;
    } else if (r.kind === 'baton') {
      by.baton++;
      report.baton[r.code!] = (report.baton[r.code!] ?? 0) + 1;
    } else if (r.kind === 'other') {
      by.other++;
      report.other++;
      const key = `${r.entry} | ${r.name} | ${normalize(r.message ?? '')}`;
      const g = this.#groups.get(key);
      if (!g) {
        this.#groups.set(key, {
          key,
          entry: r.entry,
          name: r.name!,
          message: r.message!,
          origin: r.origin!,
          batonFrame: r.batonFrame!,
          count: 1,
          actor: r.actor,
          input: r.input!,
          runIndex: r.index,
        });
      } else {
        g.count++;
        if (r.input!.length < g.input.length) {
          g.input = r.input!;
          g.actor = r.actor;
          g.runIndex = r.index;
          g.message = r.message!;
        }
      }
    } else if (r.kind === 'skip') {
      report.skipped.push(`${r.entry}: ${r.name}: ${r.message}`);
    } else {
      report.hangs.push({ entry: r.entry, input: r.input ?? '?', ms: r.ms, index: r.index });
    }
    if (r.ms > 1_000 && r.kind !== 'hang')
      report.slow.push({ entry: r.entry, input: (r.input ?? '').slice(0, 300), ms: r.ms });
    if (r.headChange) {
      if (r.headChange.legitimate) report.legitimateWrites++;
      else
        report.headChanges.push({
          entry: r.entry,
          code: r.code ?? r.name ?? '?',
          input: r.input ?? '?',
          ...r.headChange,
        });
    }
  }

  finish(): FuzzReport {
    this.report.groups = [...this.#groups.values()].sort((a, b) => b.count - a.count);
    this.report.ms = performance.now() - this.#started;
    return this.report;
  }
}

export interface FuzzOptions extends RunOptions {
  onProgress?: (done: number, report: FuzzReport) => void;
}

/** Runs the fuzz in this process (a call that blocks the event loop blocks the run). */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const tally = new Tally(options.seed);
  await runCalls(options, {
    onResult: (r) => {
      tally.add(r);
      options.onProgress?.(tally.report.calls, tally.report);
    },
    onUncaught: (t) => tally.report.unhandled.push(t),
    onFixture: (k) => tally.report.fixtures[k]++,
  });
  return tally.finish();
}

/**
 * For each group: lets fast-check shrink its input from the run it was first seen in (the
 * same seed and path), then checks the smallest one on a workspace of its own.
 */
export async function shrinkGroups(
  report: FuzzReport,
  options: { entries?: string[]; timeLimitMs?: number; onGroup?: (g: Group) => void } = {},
): Promise<void> {
  const entries = selectEntries(options.entries);
  // Errors a shrinking call throws outside the call are the run's findings already.
  const ignore = () => undefined;
  process.on('unhandledRejection', ignore);
  process.on('uncaughtException', ignore);
  try {
    for (const g of report.groups) await shrinkGroup(g, report.seed, entries, options.timeLimitMs);
    for (const g of report.groups) options.onGroup?.(g);
  } finally {
    process.off('unhandledRejection', ignore);
    process.off('uncaughtException', ignore);
  }
}

async function shrinkGroup(
  g: Group,
  seed: number,
  entries: Entry[],
  timeLimitMs = 10_000,
): Promise<void> {
  let fx = await makeFixture('memory');
  const same = (o: Outcome) => o.kind === 'other' && groupKey(g.entry, o.error) === g.key;
  let first: CallSpec | undefined;
  let found: { spec: CallSpec; input: string } | undefined;
  try {
    await fc.check(
      fc.asyncProperty(callSpec(entries), async (spec) => {
        first ??= spec;
        if (spec.entry !== g.entry) return true;
        const { outcome, args, recipe } = await runCall(fx, spec);
        const input = shownInput(recipe, args, fx.ids);
        if (outcome.kind !== 'baton' || outcome.headChange) {
          // The call may have changed the workspace: shrink on against one as it was.
          await fx.cleanup();
          fx = await makeFixture('memory');
        }
        if (!same(outcome)) return true;
        if (!found || input.length <= found.input.length) found = { spec, input };
        return false;
      }),
      {
        seed,
        path: String(g.runIndex),
        numRuns: 1,
        interruptAfterTimeLimit: timeLimitMs,
        markInterruptAsFailure: false,
      },
    );
  } finally {
    await fx.cleanup();
  }
  if (found) g.shrunk = found.input;
  const spec = found?.spec ?? first;
  if (!spec) return;
  const probe = await makeFixture('memory');
  try {
    g.reproducesFresh = same((await runCall(probe, spec)).outcome);
  } finally {
    await probe.cleanup();
  }
}

// ------------------------------------------------------------------ the summary

/** Which source file should turn a group into a BatonError: its first frame in Baton's sources. */
function fileOf(g: Group): string {
  return g.batonFrame.replace(/:\d+$/, '');
}

export function formatReport(r: FuzzReport): string {
  const lines: string[] = [];
  const pct = (n: number) => `${((100 * n) / Math.max(1, r.calls)).toFixed(2)}%`;
  lines.push(
    `Fuzzed ${r.calls} public-API calls (seed ${r.seed}) in ${(r.ms / 1000).toFixed(1)} s on ${r.fixtures.memory} MemoryStore and ${r.fixtures.sqlite} SQLite workspaces.`,
    '',
    `succeeded                          ${r.ok} (${pct(r.ok)})`,
    `BatonErrors                        ${Object.values(r.baton).reduce((a, b) => a + b, 0)}`,
  );
  for (const [code, n] of Object.entries(r.baton).sort((a, b) => b[1] - a[1]))
    lines.push(`  ${code.padEnd(32)} ${n}`);
  lines.push(
    `other exceptions (not BatonError)  ${r.other} (${pct(r.other)}) in ${r.groups.length} distinct groups`,
    `head changed on a refused call     ${r.headChanges.length}`,
    `  (authorize's approval request then APPROVAL_REQUIRED, allowed: ${r.legitimateWrites})`,
    `hangs (> time bound)               ${r.hangs.length}`,
    `slow calls (> 1 s, not failed)     ${r.slow.length}`,
    `uncaught errors / rejections       ${r.unhandled.length}`,
    `calls skipped (input not buildable) ${r.skipped.length}`,
  );
  if (r.groups.length) {
    lines.push('', 'Non-BatonErrors, by the Baton source file they pass through:');
    const byFile = new Map<string, Group[]>();
    for (const g of r.groups) byFile.set(fileOf(g), [...(byFile.get(fileOf(g)) ?? []), g]);
    for (const [file, list] of [...byFile].sort((a, b) => a[0].localeCompare(b[0]))) {
      lines.push('', `## ${file}`);
      for (const g of list) {
        lines.push(
          `- ${g.entry}${g.entry.startsWith('actor.') ? ` (as ${g.actor})` : ''} → ${g.name}: ${g.message}`,
          `    ${g.count} calls; thrown at ${g.origin}; via ${g.batonFrame}`,
          `    input: ${g.input}`,
        );
        if (g.shrunk !== undefined && g.shrunk !== g.input) lines.push(`    shrunk: ${g.shrunk}`);
        if (g.reproducesFresh !== undefined)
          lines.push(
            `    reproduces on a new workspace: ${g.reproducesFresh ? 'yes' : 'no (depends on earlier calls)'}`,
          );
      }
    }
  }
  if (r.headChanges.length) {
    lines.push('', 'Head changed on a refused call:');
    for (const h of r.headChanges.slice(0, 30))
      lines.push(
        `- ${h.entry} threw ${h.code}; head ${h.before} → ${h.after} (${h.types.join(', ')})`,
        `    input: ${h.input}`,
      );
  }
  if (r.hangs.length) {
    lines.push('', 'Hangs:');
    for (const h of r.hangs.slice(0, 20))
      lines.push(`- ${h.entry} (${h.ms.toFixed(0)} ms): ${h.input}`);
  }
  if (r.slow.length) {
    lines.push('', 'Slow calls:');
    for (const h of r.slow.sort((a, b) => b.ms - a.ms).slice(0, 15))
      lines.push(`- ${h.entry} ${h.ms.toFixed(0)} ms: ${h.input}`);
  }
  if (r.skipped.length) {
    lines.push('', 'Skipped (the workspace was broken by an earlier call; a new one was set up):');
    for (const u of [...new Set(r.skipped)].slice(0, 10)) lines.push(`- ${u}`);
  }
  if (r.unhandled.length) {
    lines.push('', 'Uncaught errors and unhandled rejections (each would end an app process):');
    // Grouped by what was thrown; `after` names the calls made just before (a timer may fire later).
    const byError = new Map<string, Set<string>>();
    for (const u of r.unhandled) {
      const m = /^after (\S+): (.*)$/.exec(u);
      const key = m ? m[2]! : u;
      byError.set(key, (byError.get(key) ?? new Set()).add(m ? m[1]! : '?'));
    }
    for (const [what, after] of byError)
      lines.push(
        `- ${what}`,
        `    ${r.unhandled.filter((u) => u.endsWith(what)).length}×, after calls of ${[...after].slice(0, 6).join(', ')}${after.size > 6 ? ', …' : ''}`,
      );
  }
  lines.push('', 'Calls by entry point (calls / ok / BatonError / other):');
  for (const [e, c] of Object.entries(r.byEntry).sort((a, b) => a[0].localeCompare(b[0])))
    lines.push(
      `  ${e.padEnd(34)} ${String(c.calls).padStart(6)} ${String(c.ok).padStart(6)} ${String(c.baton).padStart(6)} ${String(c.other).padStart(6)}`,
    );
  return lines.join('\n');
}

/** True when the run found nothing: no other exception, no head change on refusal, no hang. */
export function passed(r: FuzzReport): boolean {
  return (
    r.other === 0 && r.headChanges.length === 0 && r.hangs.length === 0 && r.unhandled.length === 0
  );
}

export { ACTORS };
