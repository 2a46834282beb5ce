import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebhookNotifier } from '../src/index.js';
import { world } from './world.js';

const SECRET = 'a shared secret, long enough';

interface Received {
  delivery: string;
  signature: string;
  body: string;
  json: { id: string; to: string; text: string; attempt: number };
}

/** A local webhook receiver; `status` decides each answer (a number, or 'hang' to never answer). */
async function receiver(status: (r: Received) => number | 'hang' = () => 200) {
  const got: Received[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const server: Server = createServer(async (req: IncomingMessage, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    let body = '';
    for await (const chunk of req) body += chunk;
    const r: Received = {
      delivery: String(req.headers['x-baton-delivery']),
      signature: String(req.headers['x-baton-signature']),
      body,
      json: JSON.parse(body),
    };
    got.push(r);
    const s = status(r);
    await new Promise((done) => setTimeout(done, 20));
    inFlight--;
    if (s === 'hang') return;
    res.writeHead(s).end();
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  servers.push(server);
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    got,
    maxInFlight: () => maxInFlight,
  };
}

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections?.();
    s.close();
  }
});

async function withNotifier(url: string, extra = {}) {
  const notifier = new WebhookNotifier({ url, secret: SECRET, timeoutMs: 2_000 });
  const w = await world({ notifiers: [notifier], tickIntervalMs: 0, ...extra });
  await w.me.identities.create({ kind: 'service', name: 'notifier' });
  await w.me.capabilities.grant({
    to: w.drafter.id,
    resource: 'artifact:*',
    actions: ['read', 'create', 'handoff'],
  });
  const doc = await w.agent.artifacts.create({ kind: 'text', title: 'Post', content: 'x' });
  return { ...w, notifier, doc };
}

describe('notifications', () => {
  it('delivers a webhook with a valid HMAC, a Slack-style text and a stable delivery id', async () => {
    const r = await receiver();
    const w = await withNotifier(r.url);
    const h = await w.agent.handoffs.offer({
      to: w.ada.id,
      artifacts: [w.doc.id],
      note: 'Draft ready',
    });
    const result = await w.ws.tick();
    expect(result.queued).toHaveLength(1);
    expect(result.delivered).toEqual(result.queued);
    expect(r.got).toHaveLength(1);
    const [got] = r.got;
    expect(got!.signature).toBe(
      `sha256=${createHmac('sha256', SECRET).update(got!.body).digest('hex')}`,
    );
    expect(got!.delivery).toBe(result.queued[0]);
    expect(got!.json).toMatchObject({
      id: got!.delivery,
      to: w.ada.id,
      text: `drafter handed you work (${h.id})`,
      attempt: 1,
    });
    expect((await w.ws.tick()).delivered).toEqual([]);
    expect(r.got).toHaveLength(1);
    expect((await w.ws.verify()).ok).toBe(true);
  });

  it('retries a failing receiver with backoff, recording every attempt, and delivers once it recovers', async () => {
    let healthy = false;
    const r = await receiver(() => (healthy ? 200 : 503));
    const w = await withNotifier(r.url, { notifyBackoffMs: 10_000 });
    await w.agent.handoffs.offer({ to: w.ada.id, artifacts: [w.doc.id] });
    const first = await w.ws.tick();
    expect(first.failed).toHaveLength(1);
    expect((await w.ws.tick()).failed).toEqual([]); // backing off: not due yet
    w.tick(10_001);
    expect((await w.ws.tick()).failed).toHaveLength(1); // second attempt, next in 20 s
    w.tick(10_001);
    expect((await w.ws.tick()).failed).toEqual([]);
    healthy = true;
    w.tick(10_001);
    expect((await w.ws.tick()).delivered).toEqual(first.failed);
    expect(r.got.map((g) => [g.delivery, g.json.attempt])).toEqual([
      [first.failed[0], 1],
      [first.failed[0], 2],
      [first.failed[0], 3],
    ]);
    const attempts = await w.me.log({ types: ['notification.attempted@1'] });
    expect(attempts.items.map((e) => (e.data as { ok: boolean }).ok)).toEqual([false, false, true]);
  });

  it('never delivers the same notification concurrently from two instances ticking together', async () => {
    const r = await receiver();
    const w = await withNotifier(r.url);
    for (let i = 0; i < 5; i++)
      await w.agent.handoffs.offer({ to: w.ada.id, artifacts: [w.doc.id], note: `n${i}` });
    const notifier = new WebhookNotifier({ url: r.url, secret: SECRET });
    const [a, b] = [
      await w.peer({ notifiers: [notifier], tickIntervalMs: 0 }),
      await w.peer({ notifiers: [notifier], tickIntervalMs: 0 }),
    ];
    const results = await Promise.all([a.tick(), b.tick(), a.tick(), b.tick()]);
    const delivered = results.flatMap((x) => x.delivered);
    expect(new Set(delivered).size).toBe(delivered.length);
    expect(delivered).toHaveLength(5);
    expect(r.got.map((g) => g.delivery).sort()).toEqual([...delivered].sort());
  });
});
