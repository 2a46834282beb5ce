import { describe, expect, it } from 'vitest';
import { type BatonError, isBatonError, MAX_CONTENT } from '../src/index.js';
import { world } from './world.js';

/** The BatonError a call is refused with. */
const refusal = (p: Promise<unknown>): Promise<BatonError> =>
  p.then(
    () => Promise.reject(new Error('expected a refusal')),
    (e: unknown) => (isBatonError(e) ? e : Promise.reject(e)),
  );

describe('identities.find', () => {
  it('finds an identity by id, by name whatever the case, or by a unique id prefix', async () => {
    const w = await world();
    expect((await w.me.identities.find(w.drafter.id))?.name).toBe('drafter');
    expect((await w.me.identities.find('DRAFTER'))?.id).toBe(w.drafter.id);
    // The shortest prefix of the agent's id that the owner's id does not share.
    let n = 4;
    while (w.ada.id.startsWith(w.drafter.id.slice(0, n))) n++;
    expect((await w.me.identities.find(w.drafter.id.slice(0, n)))?.id).toBe(w.drafter.id);
  });

  it('gives undefined for a reference that names no one, and for one the actor may not read', async () => {
    const w = await world();
    expect(await w.me.identities.find('nobody')).toBeUndefined();
    // The agent holds no grant: it reads itself, not its owner.
    expect((await w.agent.identities.find('drafter'))?.id).toBe(w.drafter.id);
    expect(await w.agent.identities.find('Ada')).toBeUndefined();
  });

  it('refuses a prefix that several identities share, listing them', async () => {
    const w = await world();
    const err = await refusal(w.me.identities.find('id_'));
    expect(err.code).toBe('VALIDATION');
    expect(err.details.candidates).toEqual(expect.arrayContaining([w.ada.id, w.drafter.id]));
  });

  it('refuses a malformed reference, naming the call', async () => {
    const w = await world();
    const err = await refusal(w.me.identities.find(''));
    expect(err.code).toBe('VALIDATION');
    expect(err.message).toMatch(/identities\.find\(ref\)/);
  });
});

describe('values handed out by the authority view', () => {
  it('an identity read cannot be changed, nor its meta, and the next read is as before', async () => {
    const w = await world();
    const meta = { team: 'docs', tags: ['a'] };
    const made = await w.me.identities.create({ kind: 'agent', name: 'Scribe', meta });
    // The caller's own object stays the caller's: changing it changes nothing in the workspace.
    meta.team = 'changed';
    meta.tags.push('b');
    const who = (await w.me.identities.get(made.id))!;
    expect(() => {
      (who as { name: string }).name = 'Mallory';
    }).toThrow(TypeError);
    expect(() => {
      (who.meta as Record<string, unknown>).team = 'ops';
    }).toThrow(TypeError);
    expect(() => {
      (made.meta.tags as string[]).push('c');
    }).toThrow(TypeError);
    const again = (await w.me.identities.get(made.id))!;
    expect(again.name).toBe('Scribe');
    expect(again.meta).toEqual({ team: 'docs', tags: ['a'] });
    expect((await w.me.identities.list()).items.find((i) => i.id === made.id)?.meta).toEqual({
      team: 'docs',
      tags: ['a'],
    });
  });

  it('a grant read cannot be changed, and the next read is as before', async () => {
    const w = await world();
    const g = await w.me.capabilities.grant({
      to: w.drafter.id,
      resource: 'artifact:*',
      actions: ['read'],
    });
    expect(() => {
      (g.actions as string[]).push('admin');
    }).toThrow(TypeError);
    expect(() => {
      (g as { resource: string }).resource = '*';
    }).toThrow(TypeError);
    const again = (await w.me.capabilities.get(g.id))!;
    expect(again.actions).toEqual(['read']);
    expect(again.resource).toBe('artifact:*');
    expect((await w.agent.can('admin', 'artifact:x')).allowed).toBe(false);
  });
});

describe('limits in bytes', () => {
  // '€' is one UTF-16 unit and three bytes of UTF-8.
  const euros = (bytes: number) => '€'.repeat(Math.floor(bytes / 3)) + 'a'.repeat(bytes % 3);

  it('an entry text of exactly 1,000,000 bytes of UTF-8 is recorded; one byte more is refused', async () => {
    const w = await world();
    const text = euros(1_000_000);
    expect(text.length).toBeLessThan(400_000);
    const entry = await w.me.context.record({ type: 'note', text });
    expect(entry.text).toBe(text);
    const err = await refusal(w.me.context.record({ type: 'note', text: `${text}a` }));
    expect(err.code).toBe('VALIDATION');
    expect(err.details.field).toBe('text');
  });

  it('text content of exactly MAX_CONTENT bytes of UTF-8 is taken; one byte more is refused', async () => {
    const w = await world();
    const content = euros(MAX_CONTENT);
    const a = await w.me.artifacts.create({ kind: 'text', title: 'Full', content });
    expect(a.content).toBe(content);
    const err = await refusal(
      w.me.artifacts.create({ kind: 'text', title: 'Over', content: `${content}a` }),
    );
    expect(err.code).toBe('VALIDATION');
    expect(err.details.field).toBe('content');
  });

  it('JSON Patch copies are counted in bytes of UTF-8: the copy that passes MAX_CONTENT is named', async () => {
    const w = await world();
    const big = euros(3_000_000);
    const a = await w.me.artifacts.create({ kind: 'json', title: 'Doc', content: { big } });
    const err = await refusal(
      w.me.artifacts.edit(a.id, {
        baseVersion: 1,
        reason: 'copies',
        patch: [
          { op: 'copy', from: '/big', path: '/c1' },
          { op: 'copy', from: '/big', path: '/c2' },
          { op: 'copy', from: '/big', path: '/c3' },
        ],
      }),
    );
    expect(err.code).toBe('VALIDATION');
    expect(err.details.field).toBe('patch.2');
  });
});
