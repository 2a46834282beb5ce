import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryKeyring, Workspace } from '@baton/core';
import { SqliteStore } from '@baton/sqlite';
import { onTestFinished } from 'vitest';

/**
 * A workspace on a new SQLite file in a temp folder (closed and removed when the test ends),
 * with an owner Ada and agents drafter and reviewer that may read and create artifacts; and
 * `open()` for a second Workspace on the same file, as another process would have.
 */
export async function tempWorkspace() {
  const dir = mkdtempSync(join(tmpdir(), 'baton-mcp-http-'));
  const path = join(dir, 'ws.db');
  const keyring = new MemoryKeyring();
  const opened: Workspace[] = [];
  const open = async () => {
    const ws = await Workspace.open({
      store: new SqliteStore({ path }),
      keyring,
      tickIntervalMs: 0,
    });
    opened.push(ws);
    return ws;
  };
  onTestFinished(async () => {
    for (const ws of opened) await ws.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });
  const ws = await open();
  const ada = await ws.bootstrap({ name: 'Ada' });
  const me = ws.as(ada.id);
  const drafter = await me.identities.create({ kind: 'agent', name: 'drafter' });
  const reviewer = await me.identities.create({ kind: 'agent', name: 'reviewer' });
  for (const who of [drafter, reviewer])
    await me.capabilities.grant({
      to: who.id,
      resource: 'artifact:*',
      actions: ['read', 'create'],
    });
  return { dir, path, keyring, ws, open, ada, drafter, reviewer };
}
