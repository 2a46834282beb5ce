import type { Identity } from '@baton/core';
import { Workspace } from '@baton/core';
import { SqliteStore } from '@baton/sqlite';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Tokens } from '../../packages/mcp/src/tokens.js';
import { killSpawned } from '../helpers/spawnTs.js';
import { type CliDir, cliDir } from './baton.js';

interface Listed {
  id: string;
  identity: string;
  createdAt: string;
  expiresAt?: string;
  revokedAt?: string;
  state: string;
  token?: string;
}

/** Checks a token the way the HTTP server does, from another process's Workspace on the file. */
async function check(db: string, token: string) {
  const ws = await Workspace.open({ store: new SqliteStore({ path: db }), tickIntervalMs: 0 });
  try {
    return await new Tokens({ workspace: ws }).authenticate(token);
  } finally {
    await ws.close();
  }
}

describe('baton token', () => {
  let cli: CliDir;
  let drafter: Identity;
  afterEach(killSpawned);
  beforeAll(async () => {
    cli = cliDir();
    await cli.json(['init', '--name', 'Ada']);
    drafter = await cli.json<Identity>([
      'id',
      'create',
      'drafter',
      '--kind',
      'agent',
      '--key-here',
    ]);
  }, 120_000);
  afterAll(() => cli.remove());

  it('creates a token printed once, alone on stdout, that authenticates as the identity', async () => {
    const r = await cli.run(['token', 'create', 'drafter', '--label', 'laptop']);
    expect(r.code).toBe(0);
    const token = r.stdout.trim();
    expect(token).toMatch(/^baton_[A-Za-z0-9_-]{12}\.[A-Za-z0-9_-]{43}$/);
    expect(r.stderr).toContain('shown this once');
    expect(await check(cli.db, token)).toMatchObject({ ok: true, identity: drafter.id });
    // Listed without the token; never stored in clear.
    const list = await cli.json<Listed[]>(['token', 'list']);
    const mine = list.find((t) => token.includes(t.id.slice(4)))!;
    expect(mine).toMatchObject({ identity: drafter.id, state: 'live', label: 'laptop' });
    expect(JSON.stringify(list)).not.toContain(token.split('.')[1]);
    const db = new Database(cli.db, { readonly: true });
    const rows = db.prepare('SELECT * FROM sqlite_master').all() as {
      name: string;
      type: string;
    }[];
    for (const t of rows.filter((x) => x.type === 'table')) {
      const dump = JSON.stringify(db.prepare(`SELECT * FROM "${t.name}"`).all(), (_k, v) =>
        Buffer.isBuffer(v) ? v.toString('latin1') : v,
      );
      expect(dump.includes(token.split('.')[1]!), t.name).toBe(false);
    }
    db.close();
  });

  it('revokes a token by id, and it no longer authenticates; the list shows it revoked', async () => {
    const created = await cli.json<Listed>(['token', 'create', 'drafter', '--expires', '30d']);
    expect(Date.parse(created.expiresAt!)).toBeGreaterThan(Date.now() + 29 * 86_400_000);
    const revoked = await cli.json<Listed[]>(['token', 'revoke', created.id]);
    expect(revoked[0]).toMatchObject({ id: created.id });
    expect(await check(cli.db, created.token!)).toMatchObject({
      ok: false,
      status: 401,
      reason: 'revoked',
    });
    const list = await cli.json<Listed[]>(['token', 'list', 'drafter']);
    expect(list.find((t) => t.id === created.id)).toMatchObject({ state: 'revoked' });
    const text = await cli.run(['token', 'list']);
    expect(text.stdout).toContain(`${created.id}`);
    expect(text.stdout).toMatch(/revoked by Ada/);
  });

  it('revokes every live token of an identity named', async () => {
    const a = await cli.json<Listed>(['token', 'create', 'drafter']);
    const b = await cli.json<Listed>(['token', 'create', 'drafter']);
    const r = await cli.run(['token', 'revoke', 'drafter']);
    expect(r.code).toBe(0);
    for (const t of [a, b]) {
      expect(r.stdout).toContain(t.id);
      expect((await check(cli.db, t.token!)).ok).toBe(false);
    }
  });

  it('refuses an identity without authority over the target, and a bad expiry, changing nothing', async () => {
    const before = await cli.json<Listed[]>(['token', 'list']);
    const forbidden = await cli.run(['--as', 'drafter', 'token', 'create', 'Ada']);
    expect(forbidden.code).toBe(4);
    expect(forbidden.stderr).toContain('admin on identity:');
    const bad = await cli.run(['token', 'create', 'drafter', '--expires', 'soonish']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--expires');
    const past = await cli.run(['token', 'create', 'drafter', '--expires', '2001-01-01T00:00:00Z']);
    expect(past.code).toBe(2);
    expect(await cli.json<Listed[]>(['token', 'list'])).toEqual(before);
  });
});
