import type { CommitPipeline } from '../commit/pipeline.js';
import type { JsonValue } from '../crypto/canonical.js';
import { derivedId } from '../crypto/ids.js';
import type { Keyring } from '../crypto/keyring.js';
import type { BatonEvent } from '../log/event.js';
import type { Store } from '../store/store.js';
import type { ViewSync } from '../workspace/viewSync.js';
import type { Notification, Notifier, OutboxRow } from './notifications.js';

/** The handoff events someone is told of. */
const NOTIFY_TYPES = [
  'handoff.offered@1',
  'handoff.escalated@1',
  'handoff.decided@1',
  'handoff.answered@1',
  'handoff.returned@1',
  'handoff.declined@1',
  'handoff.completed@1',
];

// Where the outbox keeps how far into the log it has queued notifications.
const CURSOR_KEY = 'baton/notify-cursor';

/** Who hears of a handoff event, and what they read. */
export function notificationsFor(
  e: BatonEvent,
  name: (id: string) => string,
): { to: string; handoff: string; text: string }[] {
  const d = e.data as {
    id: string;
    kind?: string;
    to?: string[] | string;
    requester?: string;
    decision?: string;
  };
  const by = name(e.actor);
  switch (e.type) {
    case 'handoff.offered@1': {
      const what =
        d.kind === 'approval'
          ? 'asks for your approval'
          : d.kind === 'question'
            ? 'has a question for you'
            : 'handed you work';
      return (d.to as string[]).map((to) => ({
        to,
        handoff: d.id,
        text: `${by} ${what} (${d.id})`,
      }));
    }
    case 'handoff.escalated@1':
      return [
        { to: d.to as string, handoff: d.id, text: `Past due and escalated to you: ${d.id}` },
      ];
    case 'handoff.decided@1':
      return [
        { to: d.requester!, handoff: d.id, text: `${by} ${d.decision} your request (${d.id})` },
      ];
    default:
      return [];
  }
}

/** What {@link Outbox} reads, writes and delivers through. */
export interface OutboxOptions {
  store: Store;
  keyring: Keyring;
  sync: ViewSync;
  pipeline: CommitPipeline;
  clock: () => number;
  /** The service identity named in the workspace's options, if any. */
  service: string | undefined;
  notifiers: Notifier[];
  /** How long one instance holds a delivery before another may retry it, in ms. */
  leaseMs: number;
  /** The first retry delay after a failed delivery (doubled each time, up to an hour), in ms. */
  backoffMs: number;
}

/**
 * The durable notification outbox, written by the service identity: a `notification.queued`
 * per recipient of each handoff event, then each due one claimed (a lease, so instances do
 * not deliver it twice at once), handed to every notifier, and its attempt recorded — a
 * failed one retried later with backoff.
 */
export class Outbox {
  readonly #o: OutboxOptions;

  constructor(options: OutboxOptions) {
    this.#o = options;
  }

  /** Whether any notifier is configured (without one, nothing is queued). */
  get active(): boolean {
    return this.#o.notifiers.length > 0;
  }

  /**
   * The service identity this process writes as: the one named in the options, else the
   * first active service identity whose key the keyring holds; `undefined` when none.
   */
  async serviceIdentity(): Promise<string | undefined> {
    const view = this.#o.sync.view;
    const candidates = this.#o.service
      ? [this.#o.service]
      : [...view.identities.values()]
          .filter((i) => i.kind === 'service' && i.status === 'active')
          .map((i) => i.id);
    for (const id of candidates) {
      const who = view.identity(id);
      for (const k of who?.keys.filter((key) => key.until === undefined) ?? []) {
        if (await this.#o.keyring.signer(id, k.key)) return id;
      }
    }
    return undefined;
  }

  /** Queues a notification per recipient of each handoff event since the cursor, then delivers what is due. */
  async run(service: string): Promise<{ queued: string[]; delivered: string[]; failed: string[] }> {
    const queued = await this.#queue(service);
    const { store, pipeline, clock, notifiers } = this.#o;
    const delivered: string[] = [];
    const failed: string[] = [];
    const now = clock();
    const due = await store.query(
      'outbox',
      'pending',
      { lt: `${new Date(now).toISOString()}\u0001` },
      { limit: 100 },
    );
    for (const { key } of due.items) {
      const claim = await pipeline.commit({
        actor: service,
        plan: async (_v, _i, at) => {
          const row = (await store.get('outbox', key)) as unknown as OutboxRow | undefined;
          if (row?.status !== 'pending' || Date.parse(row.nextAt) > now) return { drafts: [] };
          if (row.leaseUntil && Date.parse(row.leaseUntil) > Date.parse(at)) return { drafts: [] };
          const until = new Date(Date.parse(at) + this.#o.leaseMs).toISOString();
          return {
            drafts: [{ type: 'notification.claimed', data: { id: key, until }, refs: [key] }],
          };
        },
      });
      if (claim.length === 0) continue;
      const row = (await store.get('outbox', key)) as unknown as OutboxRow;
      const n: Notification = {
        id: row.id,
        to: row.to,
        handoff: row.handoff,
        text: row.text,
        event: row.event,
        attempt: row.attempts + 1,
      };
      let error: string | undefined;
      for (const notifier of notifiers) {
        try {
          await notifier.deliver(n);
        } catch (err) {
          error = `${notifier.name}: ${err instanceof Error ? err.message : String(err)}`.slice(
            0,
            2_000,
          );
        }
      }
      const data: Record<string, JsonValue> = {
        id: key,
        notifier: notifiers
          .map((x) => x.name)
          .join(', ')
          .slice(0, 200),
        ok: !error,
      };
      if (error) {
        data.error = error;
        data.nextAt = new Date(
          clock() + Math.min(3_600_000, this.#o.backoffMs * 2 ** row.attempts),
        ).toISOString();
      }
      await pipeline.commit({
        actor: service,
        plan: () => ({ drafts: [{ type: 'notification.attempted', data, refs: [key] }] }),
      });
      (error ? failed : delivered).push(key);
    }
    return { queued, delivered, failed };
  }

  /** Queues a notification per recipient of each handoff event after the cursor, and moves it. */
  async #queue(service: string): Promise<string[]> {
    const { store, sync, pipeline } = this.#o;
    const queued: string[] = [];
    const from = ((await store.kv.get(CURSOR_KEY)) as number | undefined) ?? 0;
    const head = await store.head();
    for await (const e of store.read({ after: from, until: head.seq, types: NOTIFY_TYPES })) {
      for (const n of notificationsFor(e, (id) => sync.view.identity(id)?.name ?? id)) {
        const id = derivedId('ntf', [e.id, n.to]);
        const events = await pipeline.commit({
          actor: service,
          plan: async () => ({
            drafts: (await store.get('notified', `${e.id}/${n.to}`))
              ? []
              : [
                  {
                    type: 'notification.queued',
                    data: { id, ...n, event: e.id },
                    refs: [id, n.to, n.handoff],
                  },
                ],
          }),
        });
        if (events.length) queued.push(id);
      }
    }
    await store.kv.put(CURSOR_KEY, head.seq);
    return queued;
  }
}
