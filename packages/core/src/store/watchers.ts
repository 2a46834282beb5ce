import { badArgument } from '../crypto/arguments.js';

/** Options of {@link CommitWatchers}. */
export interface CommitWatchersOptions {
  /**
   * Reports another handle's commits: the head seq when something may have changed since the
   * last call, `undefined` when nothing did (a cheap check first, such as SQLite's
   * `data_version`). Called every `intervalMs` while anyone watches; a throw is taken as
   * "try again next time". Defaults to none: only this handle's commits wake watchers.
   */
  poll?: () => number | undefined;
  /** How often `poll` runs, in ms. Defaults to `25`. */
  intervalMs?: number;
  /** The head seq when the handle opened: a poll that reports it wakes no one. */
  seq?: number;
}

/**
 * The `watch` half of a store: the watchers of one handle, woken with the new head seq at once
 * after this handle's commits ({@link CommitWatchers.committed}) and, while anyone watches,
 * by polling for other handles' commits. The poll timer never keeps a process running, and
 * one watcher's failure does not keep the others from hearing of a commit.
 */
export class CommitWatchers {
  readonly #watchers = new Set<(seq: number) => void>();
  readonly #poll: (() => number | undefined) | undefined;
  readonly #intervalMs: number;
  #timer: ReturnType<typeof setInterval> | undefined;
  #seen: number | undefined;
  #closed = false;

  constructor(options: CommitWatchersOptions = {}) {
    if (options.poll !== undefined && typeof options.poll !== 'function')
      throw badArgument('new CommitWatchers', 'options.poll', 'a function', options.poll);
    this.#poll = options.poll;
    this.#intervalMs = options.intervalMs ?? 25;
    this.#seen = options.seq;
  }

  /** Adds a watcher (what `Store.watch` does); returns its unsubscribe. */
  add(onCommit: (seq: number) => void): () => void {
    const w = (seq: number) => {
      if (!this.#closed && this.#watchers.has(w)) onCommit(seq);
    };
    this.#watchers.add(w);
    if (this.#poll && !this.#timer) {
      this.#timer = setInterval(() => this.#tick(), this.#intervalMs);
      this.#timer.unref?.();
    }
    return () => {
      this.#watchers.delete(w);
      if (this.#watchers.size === 0) this.#stop();
    };
  }

  /** Tells the watchers of this handle's commit that moved the head to `seq`. */
  committed(seq: number): void {
    this.#seen = seq;
    for (const w of this.#watchers) queueMicrotask(() => w(seq));
  }

  /** Drops every watcher and stops polling for good (what `Store.close` does). */
  close(): void {
    this.#closed = true;
    this.#watchers.clear();
    this.#stop();
  }

  #tick(): void {
    let seq: number | undefined;
    try {
      seq = this.#poll!();
    } catch {
      return; // The backend is busy or gone; the next tick tries again, and core polls too.
    }
    if (seq === undefined || seq === this.#seen) return;
    this.#seen = seq;
    for (const w of [...this.#watchers]) {
      try {
        w(seq);
      } catch {
        // A watcher's failure is its own; the others still hear of the commit.
      }
    }
  }

  #stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
