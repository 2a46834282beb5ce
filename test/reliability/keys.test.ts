import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore, Workspace } from '@baton/core';
import { KeyDirectory } from '@baton/core/node';
import { afterEach, describe, expect, it } from 'vitest';

const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'baton-keys-'));
  temps.push(dir);
  return dir;
}

const posix = process.platform !== 'win32';

describe('keys', () => {
  it('#20 does not write a new agent’s private key into its creator’s key directory unless asked to', async () => {
    const dir = tempDir();
    const adaKeys = new KeyDirectory({ path: join(dir, 'ada') });
    const store = new MemoryStore();
    const ws = await Workspace.open({ store, keyring: adaKeys, tickIntervalMs: 0 });
    const ada = await ws.bootstrap({ name: 'Ada' });
    const me = ws.as(ada.id);
    const files = () => readdirSync(join(dir, 'ada')).sort();
    const before = files();
    const head = await ws.head();

    // Without `key`, a KeyDirectory keyring is not silently given the agent's key.
    await expect(me.identities.create({ kind: 'agent', name: 'drafter' })).rejects.toMatchObject({
      code: 'VALIDATION',
      message: expect.stringMatching(/`key` is required.*generateKey: true/s),
      details: { field: 'key' },
    });
    expect(files()).toEqual(before);
    expect(await ws.head()).toEqual(head);

    // The agent's own process makes its key; the creator registers only the public half.
    const agentKeys = new KeyDirectory({ path: join(dir, 'agent') });
    const did = await agentKeys.generate('me');
    const drafter = await me.identities.create({ kind: 'agent', name: 'drafter', key: did });
    await agentKeys.assign('me', drafter.id);
    await me.capabilities.grant({ to: drafter.id, resource: 'workspace', actions: ['comment'] });
    expect(files()).toEqual(before);
    expect(await adaKeys.signer(drafter.id)).toBeUndefined();
    const agentWs = await Workspace.open({
      store: store.peer(),
      keyring: agentKeys,
      tickIntervalMs: 0,
    });
    await expect(
      agentWs.as(drafter.id).context.record({ type: 'note', text: 'signed by my own key' }),
    ).resolves.toMatchObject({ actor: drafter.id });

    // Asked for explicitly, the key is kept in the creator's keyring (and this process can act as it).
    const helper = await me.identities.create({ kind: 'agent', name: 'helper', generateKey: true });
    expect(files()).toEqual([...before, `${helper.id}.key.json`].sort());
    await expect(
      me.identities.create({ kind: 'agent', name: 'x', key: did, generateKey: true }),
    ).rejects.toMatchObject({ code: 'VALIDATION', details: { field: 'generateKey' } });

    // The in-memory default stays as convenient as before.
    const mem = await Workspace.open({ tickIntervalMs: 0 });
    const bob = await mem.bootstrap({ name: 'Bob' });
    const a = await mem.as(bob.id).identities.create({ kind: 'agent', name: 'a' });
    await mem
      .as(bob.id)
      .capabilities.grant({ to: a.id, resource: 'workspace', actions: ['comment'] });
    await expect(mem.as(a.id).context.record({ type: 'note', text: 'hi' })).resolves.toBeDefined();
    await agentWs.close();
    await ws.close();
    await mem.close();
  });

  it.runIf(posix)(
    '#20 refuses a key directory that others may read, saying how to fix its mode',
    async () => {
      const dir = join(tempDir(), 'keys');
      mkdirSync(dir);
      chmodSync(dir, 0o755);
      const store = new MemoryStore();
      const ws = await Workspace.open({
        store,
        keyring: new KeyDirectory({ path: dir }),
        tickIntervalMs: 0,
      });
      await expect(ws.bootstrap({ name: 'Ada' })).rejects.toMatchObject({
        code: 'STORE',
        message: expect.stringContaining(`chmod 700 ${dir}`),
      });
      expect(readdirSync(dir)).toEqual([]);
      expect((await ws.head()).seq).toBe(0);
      await ws.close();

      chmodSync(dir, 0o700);
      const fixed = await Workspace.open({
        store: store.peer(),
        keyring: new KeyDirectory({ path: dir }),
        tickIntervalMs: 0,
      });
      const ada = await fixed.bootstrap({ name: 'Ada' });
      await fixed.close();

      // A key file others may read is refused too, naming its own chmod.
      const keys = new KeyDirectory({ path: dir });
      chmodSync(keys.fileOf(ada.id), 0o644);
      await expect(keys.signer(ada.id)).rejects.toMatchObject({
        code: 'STORE',
        message: expect.stringContaining(`chmod 600 ${keys.fileOf(ada.id)}`),
      });
      chmodSync(keys.fileOf(ada.id), 0o600);
      await expect(new KeyDirectory({ path: dir }).signer(ada.id)).resolves.toBeDefined();
    },
  );
});
