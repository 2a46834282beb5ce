import { EventEmitter } from 'eventemitter3';
import type { JsonValue } from '../crypto/canonical.js';
import { type BatonEvent, parseType } from '../log/event.js';
import type { EventTypes } from '../log/eventTypes.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/store.js';
import type { WatchFilter } from '../validation.js';
import { storeCall } from './storeCall.js';
import type { ViewSync } from './viewSync.js';
import type { WorkspaceEvents } from './workspaceEvents.js';

// Events read per page while a watch catches up: a slow consumer holds at most one page.
const PAGE = 256;

/**
 * Full event types for a filter that may name types without their version: `'grant.issued'`
 * stands for every version of it (`grant.issued@1`, `@2`, …).
 */
export function typeFilter(
  types: EventTypes,
  names: readonly string[] | undefined,
): string[] | undefined {
  return names?.flatMap((t) => {
    if (t.includes('@')) return [t];
    const def = types.get(t);
    return def ? Array.from({ length: def.version }, (_, i) => `${t}@${i + 1}`) : [t];
  });
}

/** `e` in the current shape of its type, upcast by its registered upcasters (see `Workspace.upcast`). */
export function upcastEvent(
  types: EventTypes,
  e: BatonEvent,
): BatonEvent & { upcastFrom?: string } {
  const { name, version } = parseType(e.type);
  const def = types.get(name);
  if (!def || def.version === version) return e;
  return {
    ...e,
    type: `${name}@${def.version}`,
    data: types.dataOf(e) as JsonValue,
    upcastFrom: e.type,
  };
}

/**
 * Follows the log for watches and subscriptions: reads what was committed after a cursor
 * (only as far as this process has verified), then waits for the next commit — woken by the
 * store's commit hints, or by polling when none come.
 */
export class Watcher {
  readonly #store: Store;
  readonly #types: EventTypes;
  readonly #sync: ViewSync;
  readonly #events: WorkspaceEvents;
  readonly #logger: Logger;
  readonly #pollMs: number;
  /** The store's commit hints, fanned out to every waiting watch through one store subscription. */
  readonly #hints = new EventEmitter<{ commit: [seq: number] }>();
  #unwatch: (() => void) | undefined;

  constructor(parts: {
    store: Store;
    types: EventTypes;
    sync: ViewSync;
    events: WorkspaceEvents;
    logger: Logger;
    pollMs: number;
  }) {
    this.#store = parts.store;
    this.#types = parts.types;
    this.#sync = parts.sync;
    this.#events = parts.events;
    this.#logger = parts.logger;
    this.#pollMs = parts.pollMs;
  }

  /** The watch loop shared by workspace and actor watches: the events after the cursor that match `f` and `allowed`. */
  async *watch(
    f: WatchFilter,
    allowed: (e: BatonEvent) => boolean,
    tagsFor?: readonly string[],
  ): AsyncIterableIterator<BatonEvent> {
    const types = typeFilter(this.#types, f.types);
    const sync = this.#sync;
    let cursor = f.after ?? (await this.#store.head()).seq;
    while (!sync.closed && !f.signal?.aborted) {
      const stored = await storeCall('head', () => this.#store.head());
      if (stored.seq > cursor) {
        // Deliver only events this process has verified: catch up first (INTEGRITY at a
        // forged one, which ends the watch), and read no further than the view reached.
        try {
          await sync.catchUp(tagsFor);
        } catch (err) {
          if (sync.closed) return;
          throw err;
        }
        const head = { seq: Math.min(stored.seq, sync.view.seq) };
        if (head.seq <= cursor) {
          await this.#waitForCommit(cursor, f.signal);
          continue;
        }
        let n = 0;
        for await (const e of this.#store.read({
          after: cursor,
          until: head.seq,
          stream: f.stream,
          ref: f.ref,
          types,
          limit: PAGE,
        })) {
          n++;
          cursor = e.seq;
          if (allowed(e)) yield e;
          if (sync.closed || f.signal?.aborted) return;
        }
        if (n < PAGE) cursor = head.seq;
        continue;
      }
      await this.#waitForCommit(cursor, f.signal);
    }
  }

  /** Calls `listener` for each event of {@link Watcher.watch}, one at a time; returns the function that stops it. */
  subscribe(
    f: WatchFilter,
    listener: (e: BatonEvent) => void | Promise<void>,
    allowed: (e: BatonEvent) => boolean,
    tagsFor?: readonly string[],
  ): () => void {
    const controller = new AbortController();
    f.signal?.addEventListener('abort', () => controller.abort(), { once: true });
    const stop = () => controller.abort();
    this.#events.once('close', stop);
    void (async () => {
      try {
        for await (const e of this.watch({ ...f, signal: controller.signal }, allowed, tagsFor)) {
          try {
            await listener(e);
          } catch (err) {
            this.#logger.error('a subscriber threw; it keeps receiving events', {
              error: String(err),
              seq: e.seq,
            });
          }
        }
      } catch (err) {
        if (!this.#sync.closed)
          this.#logger.error('a subscription stopped on a store error', { error: String(err) });
      } finally {
        this.#events.off('close', stop);
      }
    })();
    return stop;
  }

  /** Resolves at the first commit hint past `after`, after a poll interval, on abort or on close. */
  #waitForCommit(after: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let done = false;
      const onCommit = (seq: number) => {
        if (seq > after) finish();
      };
      const finish = () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.#hints.off('commit', onCommit);
        if (this.#hints.listenerCount('commit') === 0) {
          this.#unwatch?.();
          this.#unwatch = undefined;
        }
        signal?.removeEventListener('abort', finish);
        this.#events.off('close', finish);
        resolve();
      };
      const timer = setTimeout(finish, this.#pollMs);
      this.#hints.on('commit', onCommit);
      this.#unwatch ??= this.#store.watch((seq) => this.#hints.emit('commit', seq));
      signal?.addEventListener('abort', finish, { once: true });
      this.#events.once('close', finish);
    });
  }
}
