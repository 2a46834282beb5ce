import { EventEmitter } from 'eventemitter3';
import type { BatonEvent, Head } from '../log/event.js';
import type { Logger } from '../logger.js';
import type { WorkspaceHooks } from './workspaceOptions.js';

/** What `Workspace.tick` did. */
export interface TickResult {
  /** Handoffs escalated. */
  escalated: string[];
  /** Notifications queued in the outbox. */
  queued: string[];
  /** Notifications delivered by this call. */
  delivered: string[];
  /** Notifications whose delivery failed this time (retried later, with backoff). */
  failed: string[];
}

/** A lost race for the log head, about to be retried. */
export interface ConflictRetry {
  attempt: number;
  expected: Head;
  actual: Head;
}

/** The workspace's in-process events and their arguments. */
export interface WorkspaceEventMap {
  /** After every successful append, with the committed events. */
  commit: [events: readonly BatonEvent[]];
  /** A write lost the race for the log head and is being retried. */
  conflictRetry: [info: ConflictRetry];
  /** What a `tick()` did. */
  tick: [result: TickResult];
  /** The workspace closed: watchers, subscriptions and timers stop. */
  close: [];
}

/** @internal The emitter the workspace's parts talk through. */
export type WorkspaceEvents = EventEmitter<WorkspaceEventMap>;

/**
 * A new emitter with the app's {@link WorkspaceHooks} listening: `onAppend` on `commit`,
 * `onConflictRetry` on `conflictRetry`, each guarded (what a hook throws is logged and
 * ignored, so a hook cannot turn a commit that happened into an error).
 */
export function workspaceEvents(hooks: WorkspaceHooks, logger: Logger): WorkspaceEvents {
  const events: WorkspaceEvents = new EventEmitter();
  const guarded =
    <A extends unknown[]>(fn: (...args: A) => void) =>
    (...args: A): void => {
      try {
        fn(...args);
      } catch (err) {
        logger.error('a hook threw; ignoring it', { error: String(err) });
      }
    };
  // Read at each call, as the hooks object is the app's.
  events.on(
    'commit',
    guarded((e: readonly BatonEvent[]) => hooks.onAppend?.(e)),
  );
  events.on(
    'conflictRetry',
    guarded((i: ConflictRetry) => hooks.onConflictRetry?.(i)),
  );
  return events;
}
