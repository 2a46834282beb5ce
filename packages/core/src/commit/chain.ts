import { linkInPlace } from '../log/chain.js';
import type { BatonEvent, Head } from '../log/event.js';

/**
 * The chain fields of a batch appended after `head`: {@link Chain.place} gives each event its
 * seq and stream version as it is planned (the view reads them when the event applies), and
 * {@link Chain.link} gives the signed events their `prev` and `hash`.
 */
export class Chain {
  readonly #head: Head;
  readonly #versionOf: (stream: string) => Promise<number>;
  /** Each stream's version after the events placed so far. */
  readonly #streams = new Map<string, number>();
  #placed = 0;

  /** @param versionOf - A stream's version before the batch. */
  constructor(head: Head, versionOf: (stream: string) => Promise<number>) {
    this.#head = head;
    this.#versionOf = versionOf;
  }

  /** Gives `e` the next seq after the head and the events placed before it, and the next version of its stream. */
  async place(e: BatonEvent): Promise<void> {
    e.version = (this.#streams.get(e.stream) ?? (await this.#versionOf(e.stream))) + 1;
    this.#streams.set(e.stream, e.version);
    e.seq = this.#head.seq + ++this.#placed;
  }

  /**
   * Links the placed, signed events in order: each `prev` is the hash of the one before (the
   * head's, or the workspace id for seq 1), each `hash` its own.
   *
   * @param texts - The events' signing texts, when the caller has them.
   */
  link(events: BatonEvent[], texts?: readonly string[]): void {
    if (events.length > 0) linkInPlace(this.#head, events[0]!.ws, events, texts);
  }
}
