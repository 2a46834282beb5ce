/**
 * The example program quoted by docs/notifications.md: telling people that something waits
 * on them. A webhook receiver checks each delivery's HMAC signature and drops repeats; the
 * workspace's service identity queues and delivers notifications on `tick()`; a handoff
 * past its due is escalated; a notifier of one's own fails once and is retried after the
 * backoff. The clock is a variable, so the program moves time instead of waiting.
 * test/docs.test.ts runs it and checks what it prints.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Notification, type Notifier, WebhookNotifier, Workspace } from '@baton/core';

// #region receiver
// The receiving end (your server): trust a delivery only when its signature is the
// HMAC-SHA256 of the exact body with the shared secret, and act once per delivery id —
// deliveries are at least once, so the same id may come again after a lost answer.
const secret = process.env.BATON_WEBHOOK_SECRET ?? 'a long shared secret, 16+ chars';
const seen = new Set<string>();
const server = createServer(async (req, res) => {
  let body = '';
  for await (const chunk of req) body += chunk;
  const expected = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  const given = String(req.headers['x-baton-signature'] ?? '');
  const ok =
    given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
  if (!ok) return void res.writeHead(401).end();
  const id = String(req.headers['x-baton-delivery']);
  if (!seen.has(id)) {
    seen.add(id);
    const n = JSON.parse(body) as { to: string; text: string; attempt: number };
    console.log(`webhook: ${n.text}`); // e.g. post n.text to a chat channel
  }
  res.writeHead(204).end();
});
await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/baton`;
// #endregion receiver

// A notifier of one's own: anything with a name and a deliver() that throws when it fails.
// This one fails its first attempt, to show the retry.
// #region custom
let pagerDown = true;
const pager: Notifier = {
  name: 'pager',
  async deliver(n: Notification) {
    if (pagerDown) throw new Error('pager service unavailable'); // retried with backoff
    console.log(`pager: attempt ${n.attempt}: ${n.text}`);
  },
};
// #endregion custom

try {
  // #region open
  let now = Date.parse('2026-03-02T09:00:00Z');
  const ws = await Workspace.open({
    notifiers: [new WebhookNotifier({ url, secret }), pager],
    tickIntervalMs: 0, // no timer here: the program calls tick() itself
    notifyBackoffMs: 1_000, // the first retry after 1 s, then 2 s, 4 s… up to an hour
    clock: () => now,
  });
  const ada = await ws.bootstrap({ name: 'Ada' });
  const me = ws.as(ada.id);
  // tick() writes as a service identity whose key this process holds (or `service`).
  await me.identities.create({ kind: 'service', name: 'notifier' });
  // #endregion open

  const bob = await me.identities.create({ kind: 'human', name: 'Bob' });
  const doc = await me.artifacts.create({ kind: 'text', title: 'Launch post', content: 'x\n' });
  await me.capabilities.grant({ to: bob.id, resource: `artifact:${doc.id}`, actions: ['read'] });

  // #region tick
  // Every handoff event queues one notification per recipient in a durable outbox (in the
  // log itself), and tick() delivers what is due through every notifier.
  const review = await me.handoffs.offer({
    to: bob.id,
    artifacts: [doc.id],
    note: 'Please review',
    due: new Date(now + 60 * 60_000), // in an hour…
    escalateTo: ada.id, // …or it goes to Ada
  });
  const first = await ws.tick();
  console.log(`tick: queued ${first.queued.length}, failed ${first.failed.length}`);
  // #endregion tick

  // #region retry
  // The pager failed; its notification stays pending until its backoff has passed.
  pagerDown = false;
  now += 2_000;
  const second = await ws.tick();
  console.log(`retry: delivered ${second.delivered.length}`);
  // #endregion retry

  // #region escalate
  // Past the due, with nothing decided: tick() escalates the handoff to `escalateTo`, and
  // that is a handoff event too, so Ada hears of it.
  now += 61 * 60_000;
  const late = await ws.tick();
  console.log(`escalated: ${late.escalated.length}`);
  const h = await me.handoffs.get(review.id);
  console.log(`review: ${h.status}, escalated to ${h.escalatedTo === ada.id ? 'Ada' : '?'}`);
  // #endregion escalate

  await ws.close();
} finally {
  server.closeAllConnections();
  server.close();
}
