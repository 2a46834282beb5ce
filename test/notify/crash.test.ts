import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebhookNotifier, Workspace } from '@baton/core';
import { KeyDirectory } from '@baton/core/node';
import { SqliteStore } from '@baton/sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { killSpawned, spawnTs } from '../helpers/spawnTs.js';

const temps: string[] = [];
const servers: Server[] = [];
afterEach(async () => {
  await killSpawned();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the notification outbox through a crash', () => {
  it('delivers after a restart, with the same delivery id, a notification whose process was killed mid-delivery', {
    timeout: 60_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-notify-'));
    temps.push(dir);
    const path = join(dir, 'baton.db');
    const keys = join(dir, 'keys');
    const setup = await Workspace.open({
      store: new SqliteStore({ path }),
      keyring: new KeyDirectory({ path: keys }),
      tickIntervalMs: 0,
    });
    const ada = await setup.bootstrap({ name: 'Ada' });
    const me = setup.as(ada.id);
    // The test's processes act as both, so their keys are kept in the shared key directory.
    await me.identities.create({ kind: 'service', name: 'notifier', generateKey: true });
    const drafter = await me.identities.create({
      kind: 'agent',
      name: 'drafter',
      generateKey: true,
    });
    await me.capabilities.grant({
      to: drafter.id,
      resource: 'artifact:*',
      actions: ['read', 'create', 'handoff'],
    });
    const agent = setup.as(drafter.id);
    const doc = await agent.artifacts.create({ kind: 'text', title: 'Post', content: 'x' });
    await agent.handoffs.offer({ to: ada.id, artifacts: [doc.id], note: 'ready' });
    await setup.close();

    // The receiver hangs on the first request (the child dies holding it), then answers 200.
    const deliveries: string[] = [];
    let onFirst: () => void = () => {};
    const first = new Promise<void>((resolve) => {
      onFirst = resolve;
    });
    const server = createServer((req, res) => {
      deliveries.push(String(req.headers['x-baton-delivery']));
      req.resume();
      if (deliveries.length === 1) onFirst();
      else res.writeHead(200).end();
    });
    servers.push(server);
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;

    const child = spawnTs('test/fixtures/notifyChild.ts', [path, keys, url]);
    await child.waitForLine(/^ready$/, 30_000);
    await first;
    child.kill('SIGKILL');
    await child.exited;

    // Restart: once the dead process's lease has run out, the delivery is claimed again.
    await new Promise((done) => setTimeout(done, 600));
    const ws = await Workspace.open({
      store: new SqliteStore({ path }),
      keyring: new KeyDirectory({ path: keys }),
      notifiers: [new WebhookNotifier({ url, secret: 'a shared secret, long enough' })],
      notifyLeaseMs: 500,
      tickIntervalMs: 0,
    });
    const result = await ws.tick();
    expect(result.delivered).toEqual([deliveries[0]]);
    expect(deliveries).toEqual([deliveries[0], deliveries[0]]);
    expect((await ws.verify()).ok).toBe(true);
    await ws.close();
  });
});
