import { describe, expect, it } from 'vitest';
import {
  type IndexRange,
  isBatonError,
  MemoryStore,
  PRIMARY_INDEX,
  type SignedFields,
  signingBytes,
  toBase64url,
} from '../src/index.js';
import { world } from './world.js';

async function refusal(p: Promise<unknown>) {
  return p.then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: unknown) => {
      if (!isBatonError(e)) throw e;
      return e;
    },
  );
}

/** A MemoryStore that records the index ranges queried. */
class RecordingStore extends MemoryStore {
  ranges: { collection: string; index: string; range: IndexRange }[] = [];
  override query(...args: Parameters<MemoryStore['query']>) {
    const [collection, index, range] = args;
    this.ranges.push({ collection, index, range });
    return super.query(...args);
  }
}

describe('ids by prefix', () => {
  it('resolves a unique prefix, with or without its kind, reading the primary index by range', async () => {
    const store = new RecordingStore();
    const w = await world({ store });
    const a = await w.me.artifacts.create({ kind: 'text', title: 'A', content: 'a' });
    expect(await w.me.resolveId(a.id)).toBe(a.id);
    store.ranges = [];
    expect(await w.me.resolveId(a.id.slice(0, 12))).toBe(a.id);
    expect(store.ranges).toEqual([
      { collection: 'artifacts', index: PRIMARY_INDEX, range: { prefix: a.id.slice(0, 12) } },
    ]);
    expect(await w.me.resolveId(a.id.slice(4, 14), ['artifact'])).toBe(a.id);
  });

  it('refuses an ambiguous prefix naming the candidates, and a prefix nothing starts with', async () => {
    const w = await world();
    const a = await w.me.artifacts.create({ kind: 'text', title: 'A', content: 'a' });
    const b = await w.me.artifacts.create({ kind: 'text', title: 'B', content: 'b' });
    const err = await refusal(w.me.resolveId('art_'));
    expect(err.code).toBe('VALIDATION');
    expect(err.message).toMatch(/ambiguous/);
    expect(err.details.candidates).toEqual([a.id, b.id]);
    expect((await refusal(w.me.resolveId('art_Z'))).code).toBe('NOT_FOUND');
    const kind = await refusal(w.me.resolveId(a.id, ['handoff']));
    expect(kind.code).toBe('VALIDATION');
    expect(kind.message).toMatch(/is an artifact id; give a handoff id/);
    expect((await refusal(w.me.resolveId(''))).code).toBe('VALIDATION');
    expect((await refusal(w.me.resolveId('x', ['planet' as never]))).code).toBe('VALIDATION');
  });

  it('gives short ids that are unique, at least eleven characters, and resolve back', async () => {
    const w = await world();
    const made = [];
    for (let i = 0; i < 5; i++)
      made.push((await w.me.artifacts.create({ kind: 'text', title: `A${i}`, content: 'a' })).id);
    const short = await w.me.shortIds([...made, 'ev_other']);
    expect(short.get('ev_other')).toBe('ev_other');
    for (const id of made) {
      const s = short.get(id)!;
      expect(s.length).toBeGreaterThanOrEqual(11);
      expect(id.startsWith(s)).toBe(true);
      expect(await w.me.resolveId(s)).toBe(id);
    }
    expect((await refusal(w.me.shortIds(['' as string]))).code).toBe('VALIDATION');
  });
});

describe('identity names', () => {
  it('refuses a name that differs from an existing one only in case, writing nothing', async () => {
    const w = await world();
    const head = await w.store.head();
    for (const name of ['Drafter', 'DRAFTER', 'ｄｒａｆｔｅｒ']) {
      const err = await refusal(w.me.identities.create({ kind: 'agent', name }));
      expect(err.code).toBe('INVALID_STATE');
      expect(err.message).toMatch(/An identity named "drafter" exists already/);
    }
    expect(await w.store.head()).toEqual(head);
  });

  it('refuses a pre-signed identity.created with a taken name through submit too, writing nothing', async () => {
    const w = await world();
    const did = await w.ws.keyring.generate('spare');
    const fields = {
      ws: w.ws.id!,
      id: 'ev_client_dup',
      stream: 'identity/id_client_dup',
      type: 'identity.created@1',
      actor: w.ada.id,
      auth: `gr_root_${w.ada.id}`,
      at: w.iso(0),
      data: { id: 'id_client_dup', kind: 'agent', name: 'DRAFTER', key: did, meta: {} },
      refs: ['id_client_dup'],
    } as SignedFields;
    const signer = (await w.ws.keyring.signer(w.ada.id))!;
    const head = await w.store.head();
    const err = await refusal(
      w.ws.submit([{ ...fields, sig: toBase64url(await signer.sign(signingBytes(fields))) }]),
    );
    expect(err.code).toBe('INVALID_STATE');
    expect(err.message).toMatch(/named "drafter" exists already/);
    expect(await w.store.head()).toEqual(head);
  });

  it('finds an identity by its name whatever the case, by id, or by a unique id prefix', async () => {
    const w = await world();
    expect(await w.agent.identities.resolve('ADA')).toBe(w.ada.id);
    expect(await w.agent.identities.resolve(w.drafter.id)).toBe(w.drafter.id);
    expect(await w.me.identities.resolve(w.drafter.id.slice(0, 27))).toBe(w.drafter.id);
    const err = await refusal(w.me.identities.resolve('nobody'));
    expect(err.code).toBe('NOT_FOUND');
    expect(err.message).toMatch(/No identity is named "nobody"/);
  });

  it('still verifies and opens a log written before names were unique, telling such identities apart by id', async () => {
    const w = await world();
    // Write the duplicate as an older version of Baton did: without the name rule.
    const def = w.ws._types.get('identity.created')!;
    const check = def.check!;
    def.check = (e, view) => check(e, view, {});
    let twin: string;
    try {
      twin = (await w.me.identities.create({ kind: 'agent', name: 'Drafter' })).id;
    } finally {
      def.check = check;
    }
    expect((await w.ws.verify()).ok).toBe(true);
    const again = await w.peer();
    expect((await again.verify()).ok).toBe(true);
    const me = again.as(w.ada.id);
    const err = await refusal(me.identities.resolve('drafter'));
    expect(err.code).toBe('VALIDATION');
    expect(err.details.candidates).toEqual([w.drafter.id, twin]);
    expect(await me.identities.resolve(twin)).toBe(twin);
    // New commits keep to the rule.
    expect((await refusal(me.identities.create({ kind: 'agent', name: 'DRAFTER' }))).code).toBe(
      'INVALID_STATE',
    );
    await again.close();
  });
});

describe('asking what another identity may do', () => {
  it('answers an owner for another identity, and refuses one without read on grants', async () => {
    const w = await world();
    await w.me.capabilities.grant({ to: w.drafter.id, resource: 'artifact:*', actions: ['read'] });
    expect((await w.me.can('read', 'artifact:x', { for: w.drafter.id })).allowed).toBe(true);
    expect((await w.me.can('write', 'artifact:x', { for: w.drafter.id })).allowed).toBe(false);
    expect((await w.me.can('write', 'artifact:x')).allowed).toBe(true);
    const err = await refusal(w.agent.can('read', 'workspace', { for: w.ada.id }));
    expect(err.code).toBe('FORBIDDEN');
    expect(err.message).toMatch(/read on grant:\*/);
    expect((await w.agent.can('read', 'artifact:x', { for: w.drafter.id })).allowed).toBe(true);
    expect((await refusal(w.me.can('read', 'workspace', { for: 'id_nope' }))).code).toBe(
      'NOT_FOUND',
    );
  });
});
