import { ErrorCode, isBatonError } from '@baton/core';
import { describe, expect, it } from 'vitest';
import { TOKEN_KV_PREFIX, Tokens } from '../src/tokens.js';
import { tempWorkspace } from './tempWorkspace.js';

async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (err) {
    if (isBatonError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('Tokens', () => {
  it('issues a token an owner can list without the token, and authenticates it as the identity', async () => {
    const { ws, ada, drafter } = await tempWorkspace();
    const tokens = new Tokens({ workspace: ws });
    const { token, info } = await tokens.issue({
      as: ada.id,
      identity: 'drafter',
      label: 'laptop',
    });
    expect(token).toMatch(/^baton_[A-Za-z0-9_-]{12}\.[A-Za-z0-9_-]{43}$/);
    expect(info).toMatchObject({ identity: drafter.id, createdBy: ada.id, label: 'laptop' });
    expect(await tokens.authenticate(token)).toEqual({
      ok: true,
      identity: drafter.id,
      tokenId: info.id,
    });
    const list = await tokens.list({ as: ada.id });
    expect(list).toEqual([info]);
    expect(JSON.stringify(list)).not.toContain(token.split('.')[1]);
  });

  it('keeps only a hash of the token in the store', async () => {
    const { ws, ada } = await tempWorkspace();
    const tokens = new Tokens({ workspace: ws });
    const { token } = await tokens.issue({ as: ada.id, identity: 'drafter' });
    const secret = token.split('.')[1]!;
    const page = await ws.store.kv.list('');
    const all = JSON.stringify(page.items);
    expect(all).toContain(TOKEN_KV_PREFIX);
    expect(all).not.toContain(secret);
    expect(all).not.toContain(token);
  });

  it('refuses to issue or revoke for an identity that may not manage the target, and writes nothing', async () => {
    const { ws, ada, drafter } = await tempWorkspace();
    const tokens = new Tokens({ workspace: ws });
    const r = await refusal(tokens.issue({ as: drafter.id, identity: 'reviewer' }));
    expect(r.code).toBe(ErrorCode.FORBIDDEN);
    expect(r.message).toContain('admin on identity:');
    expect((await ws.store.kv.list(TOKEN_KV_PREFIX)).items).toHaveLength(0);
    const { info } = await tokens.issue({ as: ada.id, identity: 'reviewer' });
    expect((await refusal(tokens.revoke({ as: drafter.id, token: info.id }))).code).toBe(
      ErrorCode.FORBIDDEN,
    );
    expect(await tokens.list({ as: drafter.id })).toEqual([]);
  });

  it('lets whoever holds admin on the identity issue, and voids its tokens when that grant is revoked', async () => {
    const { ws, ada, drafter, reviewer } = await tempWorkspace();
    const tokens = new Tokens({ workspace: ws });
    const g = await ws.as(ada.id).capabilities.grant({
      to: reviewer.id,
      resource: `identity:${drafter.id}`,
      actions: ['admin'],
    });
    const { token } = await tokens.issue({ as: reviewer.id, identity: drafter.id });
    expect(await tokens.authenticate(token)).toMatchObject({ ok: true, identity: drafter.id });
    await ws.as(ada.id).capabilities.revoke(g.id);
    expect(await tokens.authenticate(token)).toMatchObject({
      ok: false,
      status: 401,
      reason: 'revoked',
    });
  });

  it('refuses bad input naming the field', async () => {
    const { ws, ada } = await tempWorkspace();
    const tokens = new Tokens({ workspace: ws });
    const bad = await refusal(
      tokens.issue({ as: ada.id, identity: 'drafter', expiresAt: 'tomorrow' }),
    );
    expect(bad.code).toBe(ErrorCode.VALIDATION);
    expect(bad.message).toContain('expiresAt');
    const past = await refusal(
      tokens.issue({ as: ada.id, identity: 'drafter', expiresAt: '2001-01-01T00:00:00Z' }),
    );
    expect(past.code).toBe(ErrorCode.VALIDATION);
    expect((await refusal(tokens.issue({ as: ada.id, identity: 'nobody' }))).code).toBe(
      ErrorCode.NOT_FOUND,
    );
    expect((await refusal(tokens.revoke({ as: ada.id, token: 'tok_nope' }))).code).toBe(
      ErrorCode.VALIDATION,
    );
    expect((await refusal(tokens.issue({ as: ada.id } as never))).message).toContain('identity');
  });

  it('refuses a revoked, an expired, a forged and a suspended identity’s token', async () => {
    let now = Date.now();
    const { ws, ada, drafter } = await tempWorkspace();
    const tokens = new Tokens({ workspace: ws, now: () => now });
    const a = await tokens.issue({ as: ada.id, identity: drafter.id });
    const b = await tokens.issue({
      as: ada.id,
      identity: drafter.id,
      expiresAt: new Date(now + 60_000).toISOString(),
    });
    const revoked = await tokens.revoke({ as: ada.id, token: a.token });
    expect(revoked.revokedBy).toBe(ada.id);
    expect(await tokens.authenticate(a.token)).toMatchObject({
      ok: false,
      status: 401,
      reason: 'revoked',
    });
    expect(await tokens.authenticate(b.token)).toMatchObject({ ok: true });
    now += 120_000;
    expect(await tokens.authenticate(b.token)).toMatchObject({
      ok: false,
      status: 401,
      reason: 'expired',
    });
    now -= 120_000;
    // Someone who can write the database but holds no owner key cannot mint a token: a record
    // with another hash (and the old signature) is refused.
    const c = await tokens.issue({ as: ada.id, identity: drafter.id });
    const key = TOKEN_KV_PREFIX + c.info.id;
    const rec = (await ws.store.kv.get(key)) as Record<string, string>;
    const forged = `${c.token.slice(0, -4)}AAAA`;
    const { sha256b64 } = await import('@baton/core');
    await ws.store.kv.put(key, { ...rec, hash: sha256b64(forged) });
    expect(await tokens.authenticate(forged)).toMatchObject({
      ok: false,
      status: 401,
      reason: 'unknown',
    });
    await ws.store.kv.put(key, rec);
    await ws.as(ada.id).identities.suspend(drafter.id);
    expect(await tokens.authenticate(c.token)).toMatchObject({
      ok: false,
      status: 403,
      reason: 'suspended',
    });
    expect(await tokens.authenticate(undefined)).toMatchObject({ status: 401, reason: 'missing' });
    expect(await tokens.authenticate('baton_xxxxxxxxxxxx.nope')).toMatchObject({ status: 401 });
  });
});
