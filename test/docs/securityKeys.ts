/**
 * The example program quoted by docs/security.md on keys and time: a key directory with one
 * 0600 file per identity, a recovery key kept offline, key rotation, suspension, and the
 * skew rule refusing an instance whose clock is off. Works in a temporary directory and
 * removes it. test/docs.test.ts runs it and checks what it prints.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isBatonError, MemoryStore, Workspace } from '@baton/core';
import { KeyDirectory } from '@baton/core/node';

const dir = mkdtempSync(join(tmpdir(), 'baton-docs-keys-'));
try {
  // #region keys
  const keys = new KeyDirectory({ path: join(dir, 'keys') }); // one 0600 file per identity
  const offline = new KeyDirectory({ path: join(dir, 'offline') }); // in practice: not this host
  const recoveryKey = await offline.generate('recovery'); // its did:key
  const store = new MemoryStore();
  const ws = await Workspace.open({ store, keyring: keys, tickIntervalMs: 0 });
  const ada = await ws.bootstrap({ name: 'Ada', recoveryKey }); // a second root of authority
  const me = ws.as(ada.id);
  // This process acts as drafter too, so its key is kept here on purpose (`generateKey`); an
  // agent in its own process makes its key there and is created with `key: <its did:key>`.
  const drafter = await me.identities.create({ kind: 'agent', name: 'drafter', generateKey: true });
  const mode = statSync(keys.fileOf(drafter.id)).mode & 0o777;
  console.log(`owners: ${ws.info?.owners.length}, drafter's key file mode: ${mode.toString(8)}`);
  // #endregion keys

  // #region rotate
  const agent = ws.as(drafter.id);
  const rotated = await agent.identities.rotateKey(); // the new key is added by an event signed with the old one
  console.log(
    'drafter keys:',
    rotated.keys
      .map((k) => (k.until === undefined ? 'current' : `retired at seq ${k.until}`))
      .join(', '),
  );
  // #endregion rotate

  // #region suspend
  await me.identities.suspend(drafter.id, { reason: 'misbehaving' });
  try {
    await agent.context.record({ type: 'note', text: 'still here?' });
  } catch (err) {
    if (!isBatonError(err)) throw err;
    console.log(`suspended: ${err.code}: ${err.message}`);
  }
  // #endregion suspend

  // #region clock
  // Another instance on the same store whose clock runs ten minutes slow.
  const slow = await Workspace.open({
    store: store.peer(),
    keyring: keys,
    clock: () => Date.now() - 10 * 60_000,
    tickIntervalMs: 0,
  });
  try {
    await slow.as(ada.id).context.record({ type: 'note', text: 'from the past' });
  } catch (err) {
    if (!isBatonError(err)) throw err;
    console.log(`slow clock: ${err.code}: ${err.message}`);
  }
  // #endregion clock
  await slow.close();

  // #region recover
  // Ada lost her key. On the offline machine, the recovery owner gives her a new one.
  const recoveryId = ws.info!.owners.find((id) => id !== ada.id)!;
  await offline.assign('recovery', recoveryId); // file the key under the id bootstrap gave it
  const rescue = await Workspace.open({ store: store.peer(), keyring: offline, tickIntervalMs: 0 });
  const ada2 = await rescue.as(recoveryId).identities.rotateKey(ada.id); // needs admin on identity:<ada>
  console.log(
    `Ada's keys after recovery: ${ada2.keys.filter((k) => k.until === undefined).length} current, ${ada2.keys.length - 1} retired`,
  );
  // #endregion recover
  await rescue.close();
  await ws.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
