import { z } from 'zod';
import type { JsonValue } from '../crypto/canonical.js';
import type { Keyring } from '../crypto/keyring.js';
import { checkpointSchema } from '../log/checkpoint.js';
import type { BatonEvent, Head, SignedEvent } from '../log/event.js';
import type { EventTypeDef } from '../log/eventTypes.js';
import type { VerifyProgress } from '../log/verifier.js';
import type { Logger } from '../logger.js';
import type { Notifier } from '../notify/notifications.js';
import type { Store } from '../store/store.js';
import { idString, name } from '../validation.js';

/** Observability hooks. Exceptions they throw are logged and ignored. */
export interface WorkspaceHooks {
  /** After every successful append, with the committed events. */
  onAppend?(events: readonly BatonEvent[]): void;
  /** When an append lost a race for the log head and is being retried. */
  onConflictRetry?(info: { attempt: number; expected: Head; actual: Head }): void;
}

/** Options for {@link Workspace.open}. */
export interface WorkspaceOptions {
  /** Where the log lives. Defaults to a new {@link MemoryStore} (nothing survives the process). */
  store?: Store;
  /** Where private keys live. Defaults to a new {@link MemoryKeyring}. */
  keyring?: Keyring;
  /** The committer's clock in epoch milliseconds. Defaults to `Date.now`. */
  clock?: () => number;
  /** Defaults to a logger that prints nothing. */
  logger?: Logger;
  hooks?: WorkspaceHooks;
  /** App-defined event types (see `defineEventType`). Defaults to none. */
  eventTypes?: EventTypeDef<never>[];
  /**
   * Zod schemas for `json` artifacts, by name (an artifact names its schema at creation).
   * Defaults to none.
   */
  schemas?: Record<string, z.ZodType>;
  /**
   * The service identity `tick()` writes escalations as (its key must be in the keyring).
   * Defaults to the first active service identity whose key the keyring holds.
   */
  service?: string;
  /**
   * How often `tick()` runs on its own, in ms; `0` turns the timer off (call `tick()`
   * yourself). It also runs once on open. Defaults to `60_000`.
   */
  tickIntervalMs?: number;
  /**
   * Where to tell people that something waits on them (e.g. a `WebhookNotifier`). The
   * service identity's `tick()` queues a notification per recipient of each handoff event
   * in a durable outbox and delivers it, retrying with backoff. Defaults to none.
   */
  notifiers?: Notifier[];
  /** How long one instance holds a delivery before another may retry it, in ms. Defaults to `30_000`. */
  notifyLeaseMs?: number;
  /** The first retry delay after a failed delivery, doubled each time up to an hour, in ms. Defaults to `1_000`. */
  notifyBackoffMs?: number;
  /** How often watchers poll the store when no wake-up hint arrives, in ms. Defaults to `1_000`. */
  pollIntervalMs?: number;
  /** How many times a write retries after losing the race for the log head. Defaults to `50`. */
  maxRetries?: number;
  /**
   * Check stored events' signatures (`verify()`, open, catch-up) on worker threads, where
   * the runtime has them (Node): one thread per core, shared by every workspace of the
   * process, idle threads never keeping it alive, ended when the last workspace using them
   * closes. `false` checks them on the main thread through WebCrypto, as browsers always do.
   * The answers are the same either way. Defaults to `true`.
   */
  verifyWorkers?: boolean;
}

/** Options for {@link Workspace.bootstrap}. */
export interface BootstrapOptions {
  /** The first owner's name (the person bootstrapping). */
  name: string;
  /** The workspace's name. Defaults to `"<name>'s workspace"`. */
  workspace?: string;
  /** The first owner's kind. Defaults to `'human'`. */
  kind?: 'human' | 'service';
  /** More owners, each a root of authority, so losing one key never locks the workspace. */
  owners?: {
    name: string;
    kind?: 'human' | 'service';
    key?: string;
    meta?: Record<string, JsonValue>;
  }[];
  /** The `did:key` of an offline recovery key, registered as an owner named "recovery". */
  recoveryKey?: string;
  /** The first owner's metadata. Defaults to `{}`. */
  meta?: Record<string, JsonValue>;
  /** The skew window for event times, in ms. Defaults to `120_000` (2 minutes). */
  skewMs?: number;
}

// The zod schemas of the workspace's own inputs: each public call parses its input with one.

export const optionsSchema = z.object({
  store: z
    .custom<Store>(
      (s) => typeof s === 'object' && s !== null && typeof (s as Store).append === 'function',
      {
        message: 'must be a Store (e.g. new MemoryStore())',
      },
    )
    .optional(),
  keyring: z
    .custom<Keyring>(
      (k) => typeof k === 'object' && k !== null && typeof (k as Keyring).signer === 'function',
      {
        message: 'must be a Keyring (e.g. new MemoryKeyring())',
      },
    )
    .optional(),
  clock: z.function().optional(),
  logger: z
    .custom<Logger>(
      (l) =>
        typeof l === 'object' &&
        l !== null &&
        (['debug', 'info', 'warn', 'error'] as const).every(
          (m) => typeof (l as Logger)[m] === 'function',
        ),
      { message: 'must be a Logger with debug, info, warn and error methods (e.g. console)' },
    )
    .optional(),
  hooks: z
    .object({ onAppend: z.function().optional(), onConflictRetry: z.function().optional() })
    .optional(),
  eventTypes: z
    .array(
      z.custom<EventTypeDef<never>>(
        (d) =>
          typeof d === 'object' &&
          d !== null &&
          typeof (d as EventTypeDef).name === 'string' &&
          Number.isInteger((d as EventTypeDef).version) &&
          (d as EventTypeDef).schema instanceof z.ZodType &&
          typeof (d as EventTypeDef).stream === 'function' &&
          typeof (d as EventTypeDef).authorize === 'function',
        { message: 'must be an event type made with defineEventType()' },
      ),
    )
    .optional(),
  schemas: z
    .record(
      z.string(),
      z.custom<z.ZodType>((s) => s instanceof z.ZodType, { message: 'must be a zod schema' }),
    )
    .optional(),
  pollIntervalMs: z.number().int().min(5).max(3_600_000).optional(),
  service: idString.optional(),
  notifiers: z
    .array(
      z.custom<Notifier>(
        (n) => typeof n === 'object' && n !== null && typeof (n as Notifier).deliver === 'function',
        { message: 'must be a Notifier ({ name, deliver })' },
      ),
    )
    .optional(),
  notifyLeaseMs: z.number().int().min(10).max(86_400_000).optional(),
  notifyBackoffMs: z.number().int().min(1).max(86_400_000).optional(),
  tickIntervalMs: z.number().int().min(0).max(86_400_000).optional(),
  maxRetries: z.number().int().min(0).max(10_000).optional(),
  verifyWorkers: z.boolean().optional(),
});

export const bootstrapSchema = z.object({
  name: name(),
  workspace: name().optional(),
  kind: z.enum(['human', 'service']).optional(),
  owners: z
    .array(
      z.object({
        name: name(),
        kind: z.enum(['human', 'service']).optional(),
        key: z.string().optional(),
        meta: z.record(z.string(), z.custom<JsonValue>()).optional(),
      }),
    )
    .max(15)
    .optional(),
  recoveryKey: z.string().optional(),
  meta: z.record(z.string(), z.custom<JsonValue>()).optional(),
  skewMs: z
    .number()
    .int()
    .min(1_000)
    .max(24 * 3_600_000)
    .optional(),
});

export const isObject = (e: unknown) => typeof e === 'object' && e !== null;
export const submitSchema = z
  .array(z.custom<SignedEvent>(isObject, { message: 'must be a signed event' }))
  .min(1)
  .max(1_000);
export const ingestSchema = z
  .array(z.custom<BatonEvent>(isObject, { message: 'must be a committed event' }))
  .min(1);

export const verifySchema = z.object({
  from: checkpointSchema.optional(),
  onProgress: z
    .custom<(p: VerifyProgress) => void>((v) => typeof v === 'function', 'must be a function')
    .optional(),
});
export const checkpointOptionsSchema = z.object({ as: idString.optional() });
export const importOptionsSchema = z.object({ checkpoint: checkpointSchema.optional() });
export const upcastSchema = z.custom<BatonEvent>(
  (e) =>
    typeof e === 'object' &&
    e !== null &&
    typeof (e as BatonEvent).type === 'string' &&
    'data' in (e as object),
  { message: 'must be an event (an object with `type` and `data`)' },
);

/**
 * The app's logger, each call guarded: a logger that throws must not turn a commit that
 * happened into an error (the caller would retry what is already written).
 */
export function neverThrows(logger: Logger): Logger {
  const guard =
    (m: keyof Logger) =>
    (message: string, fields?: Record<string, unknown>): void => {
      try {
        logger[m](message, fields);
      } catch {
        // Nothing to tell it with: the logger itself failed.
      }
    };
  return { debug: guard('debug'), info: guard('info'), warn: guard('warn'), error: guard('error') };
}
