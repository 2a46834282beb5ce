/**
 * Setting `baton` up as a careful user would: the workspace found like git finds `.git`, an
 * agent's key kept out of the owner's key directory, key files others can read refused, and
 * every error saying the command that fixes it.
 */
import { chmodSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Artifact, Identity } from '@baton/core';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliDir, cliDir } from './baton.js';

const dirs: CliDir[] = [];
function fresh(): CliDir {
  const d = cliDir();
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) d.remove();
});

describe('finding the workspace', () => {
  let cli: CliDir;
  beforeAll(async () => {
    cli = fresh();
    expect((await cli.run(['init', '--name', 'Ada'])).code).toBe(0);
    mkdirSync(join(cli.dir, 'src', 'deep'), { recursive: true });
  }, 60_000);

  it('finds .baton/ in the nearest parent directory, as git finds .git', async () => {
    const r = await cli.run(['--json', 'whoami'], { cwd: join(cli.dir, 'src', 'deep') });
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { db: string }).db).toBe(cli.db);
  });

  it('takes --dir over BATON_DIR, and BATON_DIR over the one found', async () => {
    const other = join(cli.dir, 'other');
    mkdirSync(other);
    expect((await cli.run(['--dir', join(other, '.baton'), 'init', '--name', 'Bob'])).code).toBe(0);
    const viaEnv = await cli.run(['--json', 'whoami'], {
      env: { BATON_DIR: join(other, '.baton') },
    });
    expect(JSON.parse(viaEnv.stdout)).toMatchObject({ identity: { name: 'Bob' } });
    const viaFlag = await cli.run(['--dir', join(cli.dir, '.baton'), '--json', 'whoami'], {
      env: { BATON_DIR: join(other, '.baton') },
    });
    expect(JSON.parse(viaFlag.stdout)).toMatchObject({ identity: { name: 'Ada' } });
    // A relative --dir is the caller's.
    const relative = await cli.run(['--dir', '.baton', '--json', 'whoami'], { cwd: other });
    expect(JSON.parse(relative.stdout)).toMatchObject({ identity: { name: 'Bob' } });
  });

  it('acts in the caller’s directory when run as a package script (INIT_CWD)', async () => {
    // pnpm and npm start a script in the package's root and leave the caller's directory in
    // INIT_CWD: here the "package" is a directory without a workspace.
    const root = fresh().dir;
    writeFileSync(join(root, 'package.json'), '{}');
    const script = {
      INIT_CWD: join(cli.dir, 'src', 'deep'),
      npm_lifecycle_event: 'baton',
      npm_package_json: join(root, 'package.json'),
    };
    writeFileSync(join(cli.dir, 'src', 'deep', 'body.txt'), 'from the caller\n');
    const made = await cli.run(['--json', 'new', '--title', 'Here', '--file', 'body.txt'], {
      cwd: root,
      env: script,
    });
    expect(made.code).toBe(0);
    expect((JSON.parse(made.stdout) as Artifact).content).toBe('from the caller\n');
    const who = await cli.run(['--json', 'whoami'], { cwd: root, env: script });
    expect((JSON.parse(who.stdout) as { db: string }).db).toBe(cli.db);
    // Outside a package script (no npm_lifecycle_event) INIT_CWD is not the caller's.
    const stray = await cli.run(['whoami'], { cwd: root, env: { INIT_CWD: script.INIT_CWD } });
    expect(stray.code).toBe(7);
    expect(stray.stderr).toContain(`No workspace at ${root}`);
  });

  it('makes a new workspace with init in the current directory, never in a parent’s', async () => {
    const sub = join(cli.dir, 'src');
    const r = await cli.run(['--json', 'init', '--name', 'Cy'], { cwd: sub });
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { db: string }).db).toBe(join(sub, '.baton', 'workspace.db'));
    const parent = await cli.run(['--json', 'whoami']);
    expect(JSON.parse(parent.stdout)).toMatchObject({ identity: { name: 'Ada' } });
  });
});

describe("an agent's key", () => {
  let cli: CliDir;
  beforeAll(async () => {
    cli = fresh();
    expect((await cli.run(['init', '--name', 'Ada'])).code).toBe(0);
  }, 60_000);
  const ownKeys = () => readdirSync(join(cli.dir, '.baton', 'keys'));

  it('is not made beside the owner’s by default: id create says the ways, and changes nothing', async () => {
    const r = await cli.run(['id', 'create', 'drafter']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('baton --keys <its key dir> keygen');
    expect(r.stderr).toContain('baton id create drafter --key did:key:');
    expect(r.stderr).toContain('baton id create drafter --key-dir <dir>');
    expect(r.stderr).toContain('--key-here');
    expect(ownKeys()).toHaveLength(1);
    expect(await cli.json<Identity[]>(['id', 'list'])).toHaveLength(1);
  });

  it('is made in a directory of its own with --key-dir, with the steps to hand it over', async () => {
    const r = await cli.run(['id', 'create', 'drafter', '--key-dir', 'drafter-keys']);
    expect(r.code).toBe(0);
    const id = /\((id_\w+)\)/.exec(r.stdout)![1]!;
    const dir = join(cli.dir, 'drafter-keys');
    expect(readdirSync(dir)).toEqual([`${id}.key.json`]);
    expect(statSync(join(dir, `${id}.key.json`)).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(r.stdout).toContain(`baton --keys ${dir} --as ${id} inbox`);
    expect(ownKeys()).toHaveLength(1);
    // This terminal cannot act as it; a process given that directory can.
    const here = await cli.run(['--as', 'drafter', 'whoami']);
    expect(here.code).toBe(4);
    expect(here.stderr).toMatch(/key of drafter .* is not here/);
    expect(here.stderr).toContain('--keys');
    const there = await cli.json<{ identity: Identity }>([
      '--keys',
      'drafter-keys',
      '--as',
      id,
      'whoami',
    ]);
    expect(there.identity.name).toBe('drafter');
    // It cannot act as the owner with only its own directory.
    expect((await cli.run(['--keys', 'drafter-keys', '--as', 'Ada', 'inbox'])).code).toBe(4);
  });

  it('is made by the agent’s own process with keygen, registered with --key, and found on first use', async () => {
    const made = await cli.run(['--keys', 'bot-keys', 'keygen']);
    expect(made.code).toBe(0);
    const did = made.stdout.trim();
    expect(did).toMatch(/^did:key:z6Mk\w+$/);
    expect(made.stderr).toContain(`baton id create <name> --key ${did}`);
    const bot = await cli.json<Identity>(['id', 'create', 'bot', '--key', did]);
    expect(bot.keys.map((k) => k.key)).toEqual([did]);
    const who = await cli.json<{ identity: Identity }>([
      '--keys',
      'bot-keys',
      '--as',
      bot.id,
      'whoami',
    ]);
    expect(who.identity.id).toBe(bot.id);
    // Filed under the identity's id now.
    expect(readdirSync(join(cli.dir, 'bot-keys'))).toEqual([`${bot.id}.key.json`]);
    expect(ownKeys()).toHaveLength(1);
  });

  it('keygen refuses to guess where the key goes', async () => {
    const r = await cli.run(['keygen']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--keys <dir>/);
  });

  it('stays beside the owner’s only when asked with --key-here', async () => {
    const r = await cli.run(['id', 'create', 'helper', '--key-here']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('beside yours');
    expect(ownKeys()).toHaveLength(2);
    const same = await cli.run(['id', 'create', 'x', '--key-dir', '.baton/keys']);
    expect(same.code).toBe(2);
    expect(same.stderr).toMatch(/this workspace's own key directory/);
    const both = await cli.run(['id', 'create', 'x', '--key-here', '--key-dir', 'x-keys']);
    expect(both.code).toBe(2);
  });

  it('refuses key files and directories that others may read, saying the chmod to run', async () => {
    const file = readdirSync(join(cli.dir, 'drafter-keys'))[0]!;
    const path = join(cli.dir, 'drafter-keys', file);
    const id = file.replace('.key.json', '');
    chmodSync(path, 0o644);
    const r = await cli.run(['--keys', 'drafter-keys', '--as', id, 'whoami']);
    expect(r.code).toBe(9);
    expect(r.stderr).toContain(`has mode 0644`);
    expect(r.stderr).toContain(`chmod 600 ${path}`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    chmodSync(path, 0o600);
    chmodSync(join(cli.dir, 'drafter-keys'), 0o755);
    const dir = await cli.run(['--json', '--keys', 'drafter-keys', '--as', id, 'whoami']);
    expect(dir.code).toBe(9);
    expect(JSON.parse(dir.stderr)).toMatchObject({ error: { code: 'STORE' } });
    expect(dir.stderr).toContain('chmod 700');
    chmodSync(join(cli.dir, 'drafter-keys'), 0o700);
    expect((await cli.run(['--keys', 'drafter-keys', '--as', id, 'whoami'])).code).toBe(0);
  });
});

describe('advice in errors', () => {
  let cli: CliDir;
  let drafter: Identity;
  let doc: Artifact;
  beforeAll(async () => {
    cli = fresh();
    await cli.run(['init', '--name', 'Ada']);
    drafter = await cli.json<Identity>(['id', 'create', 'drafter', '--key-here']);
    doc = await cli.json<Artifact>(['new', '--title', 'Plan'], { input: 'one\n' });
  }, 60_000);

  it('names the grant command for a missing grant, not a library call', async () => {
    const r = await cli.run(['--as', 'drafter', 'note', 'hello']);
    expect(r.code).toBe(4);
    expect(r.stderr).not.toMatch(/actor\.|capabilities\.grant/);
    expect(r.stderr).toContain('baton grant drafter --resource workspace --actions comment');
    // Creating: the grant is on the kind, not on an id nobody knows yet.
    const create = await cli.run(['--as', 'drafter', 'new', '--title', 'x'], { input: 'x\n' });
    expect(create.stderr).toContain("baton grant drafter --resource 'artifact:*' --actions create");
    const json = await cli.run(['--json', '--as', 'drafter', 'note', 'hello']);
    const err = JSON.parse(json.stderr) as { error: { advice: string; message: string } };
    expect(err.error.advice).toContain('baton grant drafter');
    expect(err.error.message).not.toContain('actor.capabilities');
  });

  it('names the read grant a recipient needs before work is handed to it', async () => {
    const r = await cli.run(['offer', '--to', 'drafter', '--artifact', doc.id, '--note', 'x']);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`baton grant drafter --resource artifact:${doc.id} --actions read`);
    expect(r.stderr).not.toContain('actor.capabilities');
    // Following the advice works.
    expect(
      (await cli.run(['grant', 'drafter', '--resource', `artifact:${doc.id}`, '--actions', 'read']))
        .code,
    ).toBe(0);
    expect(
      (await cli.run(['offer', '--to', drafter.id, '--artifact', doc.id, '--note', 'x'])).code,
    ).toBe(0);
  });

  it('names the flag for a database held locked, not busyTimeoutMs', async () => {
    const db = new Database(cli.db);
    db.exec('BEGIN EXCLUSIVE');
    try {
      const r = await cli.run(['--busy-timeout', '50', 'note', 'locked out']);
      expect(r.code).toBe(9);
      expect(r.stderr).toContain('--busy-timeout <ms>');
      expect(r.stderr).toContain('BATON_BUSY_TIMEOUT_MS');
      expect(r.stderr).not.toContain('busyTimeoutMs');
      const env = await cli.run(['note', 'locked out'], { env: { BATON_BUSY_TIMEOUT_MS: 'soon' } });
      expect(env.code).toBe(2);
      expect(env.stderr).toMatch(/BATON_BUSY_TIMEOUT_MS must be a whole number/);
    } finally {
      db.exec('ROLLBACK');
      db.close();
    }
  }, 60_000);
});
