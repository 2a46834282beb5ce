import { type BatonEvent, eventHash, type Head } from './event.js';

/**
 * The chain link of the event after `head` in the log of workspace `ws`: its seq, and its
 * prev — the hash of the event before it, or the workspace id for the first event.
 */
export function linkAfter(head: Head, ws: string): { seq: number; prev: string } {
  return { seq: head.seq + 1, prev: head.seq === 0 ? ws : head.hash };
}

/**
 * Links events into the log after `head`: sets each one's seq, prev (the hash of the one
 * before) and hash where it is, without copies — the write path's batch, a hundred events at a
 * time. The one place events are chained.
 *
 * @param texts - The events' signing texts, when the caller has them (from signing). Defaults
 *   to computing them.
 */
export function linkInPlace(
  head: Head,
  ws: string,
  events: readonly BatonEvent[],
  texts: readonly (string | undefined)[] = [],
): void {
  let last = head;
  events.forEach((e, i) => {
    const link = linkAfter(last, ws);
    e.seq = link.seq;
    e.prev = link.prev;
    e.hash = eventHash(e, texts[i]);
    last = e;
  });
}

/**
 * What is wrong with the link of `e`, read after `head` in the log of workspace `ws` — its
 * seq is not the next one, or its prev not the hash before it — as the seq where the
 * problem is and why; `undefined` when `e` follows `head`.
 */
export function linkProblem(
  e: Pick<BatonEvent, 'seq' | 'prev'>,
  head: Head,
  ws: string,
): { seq: number; reason: string } | undefined {
  const want = linkAfter(head, ws);
  if (e.seq !== want.seq) {
    return {
      seq: want.seq,
      reason:
        e.seq === head.seq
          ? `seq ${e.seq} was read twice`
          : `event ${want.seq} is missing (the next one read is seq ${e.seq})`,
    };
  }
  if (e.prev !== want.prev) {
    return {
      seq: e.seq,
      reason:
        head.seq === 0
          ? `prev is ${String(e.prev)}, not the workspace id ${ws}`
          : `prev ${String(e.prev)} is not the hash of the event before (seq ${head.seq}, hash ${head.hash}): the events before it were replaced`,
    };
  }
  return undefined;
}

/** What is wrong with the hash of `e` (whose signing text is `text`), or `undefined` when it is its own. */
export function hashProblem(e: BatonEvent, text: string): string | undefined {
  const own = eventHash(e, text);
  return own === e.hash
    ? undefined
    : `hash does not match the event (it says ${String(e.hash)}, its content hashes to ${own})`;
}
