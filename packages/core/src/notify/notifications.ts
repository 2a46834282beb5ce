import { z } from 'zod';
import type { JsonValue } from '../crypto/canonical.js';
import { BatonError, ErrorCode } from '../errors.js';
import { type EventTypeDef, rules } from '../log/eventTypes.js';
import type { ProjectionWrite } from '../store/store.js';
import { idString, isoTime } from '../validation.js';

/** A message for an identity about something that waits on it, as a {@link Notifier} gets it. */
export interface Notification {
  /** The stable delivery id: the same on every retry, so a receiver can drop a repeat. */
  id: string;
  /** The identity it is for. */
  to: string;
  /** The handoff it is about. */
  handoff: string;
  /** What happened, in one line a chat app can show. */
  text: string;
  /** The event that caused it. */
  event: string;
  /** Delivery attempt, from 1. */
  attempt: number;
}

/**
 * Tells people where they already are (a webhook, Slack, email…). `deliver` resolves when
 * the notification is delivered and throws when it is not (it will be retried with
 * backoff). Deliveries are at least once: use `notification.id` to drop repeats.
 */
export interface Notifier {
  /** Stable name, recorded with each attempt. */
  readonly name: string;
  deliver(notification: Notification): Promise<void>;
}

/** An outbox row: one notification and where its delivery stands. */
export interface OutboxRow {
  id: string;
  to: string;
  handoff: string;
  text: string;
  event: string;
  status: 'pending' | 'delivered';
  attempts: number;
  /** Not to be tried before this time (backoff), ISO. */
  nextAt: string;
  /** Claimed by an instance until this time: no other instance delivers it meanwhile. */
  leaseUntil?: string;
  lastError?: string;
  deliveredAt?: string;
}

const queued = z.object({
  id: idString,
  to: idString,
  handoff: idString,
  text: z.string().max(2_000),
  event: idString,
});
const claimed = z.object({ id: idString, until: isoTime });
const attempted = z.object({
  id: idString,
  notifier: z.string().max(200),
  ok: z.boolean(),
  error: z.string().max(2_000).optional(),
  nextAt: isoTime.optional(),
});

function put(row: OutboxRow): ProjectionWrite {
  return {
    collection: 'outbox',
    key: row.id,
    value: row as unknown as JsonValue,
    indexes: row.status === 'pending' ? { pending: `${row.nextAt}\u0000${row.id}` } : {},
  };
}

function serviceOnly(kind: string | undefined) {
  if (kind !== 'service')
    throw new BatonError(ErrorCode.FORBIDDEN, 'The outbox is written by a service identity.');
}

/** The outbox event types: queued, claimed (a lease), attempted (delivered or retry later). */
export const notificationEvents = [
  {
    name: 'notification.queued',
    version: 1,
    schema: queued,
    stream: (d) => `notification/${d.id}`,
    authorize: () => rules.self(),
    check: (e, view) => serviceOnly(view.identity(e.actor)?.kind),
    project: (e: { at: string; data: z.output<typeof queued> }) => [
      put({ ...e.data, status: 'pending', attempts: 0, nextAt: e.at }),
      { collection: 'notified', key: `${e.data.event}/${e.data.to}`, value: { id: e.data.id } },
    ],
  } satisfies EventTypeDef<z.output<typeof queued>>,
  {
    name: 'notification.claimed',
    version: 1,
    schema: claimed,
    stream: (d) => `notification/${d.id}`,
    authorize: () => rules.self(),
    check: (e, view) => serviceOnly(view.identity(e.actor)?.kind),
    async project(e, rows) {
      const row = (await rows.get('outbox', e.data.id)) as unknown as OutboxRow | undefined;
      return row ? [put({ ...row, leaseUntil: e.data.until })] : [];
    },
  } satisfies EventTypeDef<z.output<typeof claimed>>,
  {
    name: 'notification.attempted',
    version: 1,
    schema: attempted,
    stream: (d) => `notification/${d.id}`,
    authorize: () => rules.self(),
    check: (e, view) => serviceOnly(view.identity(e.actor)?.kind),
    async project(e, rows) {
      const row = (await rows.get('outbox', e.data.id)) as unknown as OutboxRow | undefined;
      if (!row) return [];
      const { leaseUntil: _, ...rest } = row;
      const next: OutboxRow = { ...rest, attempts: row.attempts + 1 };
      if (e.data.ok) {
        next.status = 'delivered';
        next.deliveredAt = e.at;
      } else {
        next.nextAt = e.data.nextAt ?? e.at;
        if (e.data.error !== undefined) next.lastError = e.data.error;
      }
      return [put(next)];
    },
  } satisfies EventTypeDef<z.output<typeof attempted>>,
] as unknown as EventTypeDef<never>[];
