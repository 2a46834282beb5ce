import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJsonIfPlain, findNonJson } from '../src/crypto/canonical.js';
import { toBase64url, toBase64urlPortable, utf8 } from '../src/crypto/encoding.js';
import { sha256, sha256b64 } from '../src/crypto/hash.js';
import { randomId } from '../src/crypto/ids.js';
import { smallOrderPoints } from '../src/crypto/keys.js';
import {
  canonicalJson,
  didKeyFromRaw,
  eventHash,
  fromBase64url,
  MemoryKeyring,
  rawFromDidKey,
  type SignedFields,
  signedFieldsOf,
  signingBytes,
  signingText,
  Workspace,
} from '../src/index.js';
import { envelope } from '../src/log/eventTypes.js';

function fromBits(hex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${hex}`));
  return view.getFloat64(0);
}

describe('RFC 8785 canonical JSON', () => {
  it('serializes the RFC’s sample object exactly (§3.2.3)', () => {
    const input = JSON.parse(
      '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],' +
        '"string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals": [null, true, false]}',
    );
    expect(canonicalJson(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it('sorts property names by UTF-16 code units (§3.2.3)', () => {
    const input = {
      '€': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '😀': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      ö: 'Latin Small Letter O With Diaeresis',
    };
    expect(canonicalJson(input)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","ö":"Latin Small Letter O With Diaeresis",' +
        '"€":"Euro Sign","😀":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it.each([
    ['0000000000000000', '0'],
    ['8000000000000000', '0'],
    ['0000000000000001', '5e-324'],
    ['8000000000000001', '-5e-324'],
    ['7fefffffffffffff', '1.7976931348623157e+308'],
    ['ffefffffffffffff', '-1.7976931348623157e+308'],
    ['4340000000000000', '9007199254740992'],
    ['c340000000000000', '-9007199254740992'],
    ['4430000000000000', '295147905179352830000'],
    ['44b52d02c7e14af5', '9.999999999999997e+22'],
    ['44b52d02c7e14af6', '1e+23'],
    ['3eb0c6f7a0b5ed8d', '0.000001'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
    ['41b3de4355555555', '333333333.3333333'],
  ])('serializes the IEEE-754 number %s as %s (appendix B)', (bits, text) => {
    expect(canonicalJson([fromBits(bits)])).toBe(`[${text}]`);
  });

  it.each([
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['undefined', { a: undefined }],
    ['a Date', { at: new Date() }],
    ['a Map', new Map()],
    ['a function', { f: () => 1 }],
    ['a bigint', { n: 1n }],
  ])('refuses %s with VALIDATION', (_, value) => {
    expect(() => canonicalJson(value)).toThrow(expect.objectContaining({ code: 'VALIDATION' }));
  });

  it('writes the signing text of any event exactly as canonical JSON of its signed fields', () => {
    const text = fc.string({ unit: 'grapheme', maxLength: 12 });
    const event = fc.record(
      {
        ws: text,
        id: text,
        stream: text,
        type: text,
        actor: text,
        at: text,
        data: fc.jsonValue({ maxDepth: 3, stringUnit: 'grapheme' }),
        refs: fc.array(text, { maxLength: 4 }),
        auth: text,
        session: text,
      },
      { requiredKeys: ['ws', 'id', 'stream', 'type', 'actor', 'at', 'data', 'refs'] },
    );
    fc.assert(
      fc.property(event, (e) => {
        const fields = e as SignedFields;
        expect(signingText(fields)).toBe(canonicalize(signedFieldsOf(fields)));
        expect(signingText(fields, false)).toBe(canonicalJson(signedFieldsOf(fields)));
      }),
      { numRuns: 2_000 },
    );
  });

  it('agrees with an independent RFC 8785 implementation on random JSON', () => {
    // Keys and strings from the whole of Unicode (astral characters, escapes, quotes) and
    // doubles of every magnitude, nested; the reference is the `canonicalize` package.
    const json = fc.jsonValue({ maxDepth: 4, stringUnit: 'grapheme' });
    fc.assert(
      fc.property(json, (value) => {
        expect(canonicalJson(value)).toBe(canonicalize(value));
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('canonical JSON checked in one walk', () => {
  it('gives canonicalJson of every plain JSON value, and nothing for every value findNonJson refuses', () => {
    const odd = fc.oneof(
      fc.constant(undefined),
      fc.constant(Number.NaN),
      fc.constant(Number.POSITIVE_INFINITY),
      fc.constant(-Number.POSITIVE_INFINITY),
      fc.bigInt(),
      fc.constant(() => 1),
      fc.constant(Symbol('s')),
      fc.date(),
      fc.constant(new Map()),
      // A sparse array: a hole at index 1.
      fc.constant(Object.assign(new Array(3), { 0: 1, 2: 3 })),
      fc.constant({ [Symbol('k')]: 1 }),
      fc.constant(Object.create(null) as object),
    );
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        fc.jsonValue({ maxDepth: 2 }),
        odd,
        fc.array(tie('node'), { maxLength: 4 }),
        fc.dictionary(fc.string(), tie('node'), { maxKeys: 4 }),
      ),
    })).node;
    fc.assert(
      fc.property(value, (v) => {
        const one = canonicalJsonIfPlain(v);
        if (findNonJson(v) === undefined) expect(one).toBe(canonicalJson(v));
        else expect(one).toBeUndefined();
      }),
      { numRuns: 3_000 },
    );
  });

  it('refuses nesting at the depth findNonJson refuses it, and a cycle', () => {
    const nest = (levels: number): unknown => (levels === 0 ? 1 : [nest(levels - 1)]);
    for (const levels of [79, 80, 81]) {
      const v = nest(levels);
      expect(canonicalJsonIfPlain(v) === undefined).toBe(findNonJson(v) !== undefined);
    }
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(canonicalJsonIfPlain(cycle)).toBeUndefined();
  });
});

describe('signatures', () => {
  it('signs events that an independent Ed25519 implementation (node:crypto) verifies', async () => {
    const ws = await Workspace.open();
    const ada = await ws.bootstrap({ name: 'Ada' });
    const me = ws.as(ada.id);
    await me.identities.create({ kind: 'agent', name: 'drafter' });
    const { items } = await me.log();
    expect(items.length).toBe(2);
    for (const e of items) {
      const actor = e.seq === 1 ? ada : (await me.identities.get(e.actor))!;
      const raw = rawFromDidKey(actor.keys[0]!.key);
      const key = createPublicKey({
        key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') },
        format: 'jwk',
      });
      expect(nodeVerify(null, signingBytes(e), key, fromBase64url(e.sig))).toBe(true);
      expect(ed25519.verify(fromBase64url(e.sig), signingBytes(e), raw)).toBe(true);
      const { hash, ...rest } = e;
      expect(eventHash(rest)).toBe(hash);
    }
  });

  it('refuses a signature that verifies over other bytes', async () => {
    const ring = new MemoryKeyring();
    const did = await ring.generate('x');
    const signer = (await ring.signer('x'))!;
    const sig = await signer.sign(new TextEncoder().encode('a'));
    const raw = rawFromDidKey(did);
    expect(ed25519.verify(sig, new TextEncoder().encode('a'), raw)).toBe(true);
    expect(ed25519.verify(sig, new TextEncoder().encode('b'), raw)).toBe(false);
  });

  it('round-trips a did:key and refuses other encodings', () => {
    const raw = ed25519.getPublicKey(ed25519.utils.randomSecretKey());
    const did = didKeyFromRaw(raw);
    expect(did.startsWith('did:key:z6Mk')).toBe(true);
    expect(rawFromDidKey(did)).toEqual(raw);
    expect(() => rawFromDidKey('did:web:example.com')).toThrow(
      expect.objectContaining({ code: 'VALIDATION' }),
    );
    expect(() => rawFromDidKey('did:key:z111')).toThrow(
      expect.objectContaining({ code: 'VALIDATION' }),
    );
  });

  it('lists only small-order points, and refuses each as an identity key', () => {
    expect(smallOrderPoints.length).toBeGreaterThanOrEqual(8);
    for (const p of smallOrderPoints) {
      expect(ed25519.Point.fromBytes(p, true).isSmallOrder()).toBe(true);
      const bytes = new Uint8Array(34);
      bytes.set([0xed, 0x01]);
      bytes.set(p, 2);
      expect(() => rawFromDidKey(didKeyFromRawUnchecked(p))).toThrow(/small-order/);
    }
  });
});

function didKeyFromRawUnchecked(raw: Uint8Array): string {
  return didKeyFromRaw(raw);
}

describe('encodings, hashes and ids', () => {
  it('encodes base64url exactly as Node does, for every length and byte', () => {
    for (let n = 0; n < 200; n++) {
      const bytes = globalThis.crypto.getRandomValues(new Uint8Array(n));
      expect(toBase64url(bytes)).toBe(Buffer.from(bytes).toString('base64url'));
      expect(toBase64urlPortable(bytes)).toBe(Buffer.from(bytes).toString('base64url'));
      expect(fromBase64url(toBase64url(bytes))).toEqual(bytes);
    }
  });

  it('encodes only the bytes a view shows, not the rest of its buffer', () => {
    const whole = globalThis.crypto.getRandomValues(new Uint8Array(300));
    for (const [from, to] of [
      [0, 0],
      [1, 2],
      [7, 71],
      [100, 300],
    ] as const) {
      const view = whole.subarray(from, to);
      expect(toBase64url(view)).toBe(Buffer.from(whole.slice(from, to)).toString('base64url'));
      expect(toBase64urlPortable(view)).toBe(toBase64url(view));
    }
  });

  it('hashes natively on Node to the same digest as the portable implementation', () => {
    for (const text of ['', 'a', 'é✓😀', 'x'.repeat(10_000)]) {
      expect(sha256(text)).toEqual(nobleSha256(new TextEncoder().encode(text)));
      expect(sha256b64(text)).toBe(toBase64url(nobleSha256(new TextEncoder().encode(text))));
    }
  });

  it('makes ids that are unique and sort in the order they were made', () => {
    const ids = Array.from({ length: 20_000 }, () => randomId('ev'));
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^ev_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(ids.every((id, i) => i === 0 || id > ids[i - 1]!)).toBe(true);
    // The first ten characters are the clock: an id made now is later than one made before.
    const before = Date.now();
    const id = randomId('ev');
    const ms = [...id.slice(3, 13)].reduce(
      (n, c) => n * 32 + '0123456789ABCDEFGHJKMNPQRSTVWXYZ'.indexOf(c),
      0,
    );
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(Date.now());
  });
  it('keeps the ids made in one millisecond apart before their last characters', () => {
    const ids = Array.from({ length: 2_000 }, () => randomId('id'));
    const sameMs = ids.filter((id, i) => i > 0 && id.slice(0, 13) === ids[i - 1]!.slice(0, 13));
    expect(sameMs.length).toBeGreaterThan(0);
    // A prefix of 27 characters (the clock and 14 of the 16 random ones) tells each apart.
    for (let i = 1; i < ids.length; i++)
      expect(ids[i]!.slice(0, 27)).not.toBe(ids[i - 1]!.slice(0, 27));
  });
});

describe('the envelope check', () => {
  it('accepts what the write path makes', () => {
    const made = {
      ws: 'ws_01M80H1X3FC0DDXFVDV0JTCCZC',
      id: 'ev_01M80H1X3FC0DDXFVDV0JTCCZC',
      stream: 'grant/gr_01M80H1X3FC0DDXFVDV0JTCCZC',
      type: 'grant.exercised@1',
      actor: 'id_01M80H1X3FC0DDXFVDV0JTCCZC',
      at: new Date().toISOString(),
      data: {},
      refs: ['email:launch', 'id_01M80H1X3FC0DDXFVDV0JTCCZC'],
    };
    expect(envelope.safeParse(made).success).toBe(true);
  });
});

describe('utf8', () => {
  it('encodes as TextEncoder does, lone surrogates included, into a plain Uint8Array', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 64 }), (text) => {
        const bytes = utf8(text);
        expect(Object.getPrototypeOf(bytes)).toBe(Uint8Array.prototype);
        expect([...bytes]).toEqual([...new TextEncoder().encode(text)]);
      }),
      { numRuns: 2_000 },
    );
    expect([...utf8('a\ud800b')]).toEqual([...new TextEncoder().encode('a\ud800b')]);
  });
});
