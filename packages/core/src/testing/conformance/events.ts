import { utf8 } from '../../crypto/encoding.js';
import { sha256b64 } from '../../crypto/hash.js';
import { type BatonEvent, eventHash, type Head } from '../../log/event.js';
import type { BlobWrite } from '../../store/store.js';

/** The workspace id every {@link conformanceEvents} event carries. */
export const CONFORMANCE_WS = 'ws_conformance';

/** Fields of a fake event a test may set; `seq`, `prev` and `hash` are always computed. */
export type ConformanceEventFields = Partial<Omit<BatonEvent, 'seq' | 'prev' | 'hash'>>;

let eventCounter = 0;
// Ids stay unique across every call in a process, and across processes sharing a database.
const RUN_TAG = Math.random().toString(36).slice(2, 8);

/** A fresh event id, unique in this process. */
export function conformanceId(prefix = 'evt'): string {
  eventCounter++;
  return `${prefix}_${RUN_TAG}_${eventCounter}`;
}

/**
 * Builds `count` well-chained fake events that continue `head`: `seq` from `head.seq + 1`,
 * `prev` linking each to the one before (the workspace id for seq 1), `hash` computed with
 * {@link eventHash}. Stores do not verify signatures, so `sig` is a fixed placeholder.
 *
 * @param head - The head the events continue.
 * @param count - How many events.
 * @param fields - Fields to set on every event, or a function of the event's index in the
 *   batch. A fixed `id` given for `count > 1` repeats the id (useful to test refusals).
 *   Defaults to none: unique ids, stream `'workspace'`, type `'conformance.tested@1'`.
 * @example
 * ```ts
 * const events = conformanceEvents(await store.head(), 3, (i) => ({ refs: [`r${i}`] }));
 * await store.append({ events, expectedHead: await store.head() });
 * ```
 */
export function conformanceEvents(
  head: Head,
  count: number,
  fields: ConformanceEventFields | ((index: number) => ConformanceEventFields) = {},
): BatonEvent[] {
  const out: BatonEvent[] = [];
  let prev = head.seq === 0 ? CONFORMANCE_WS : head.hash;
  for (let i = 0; i < count; i++) {
    const seq = head.seq + i + 1;
    const extra = typeof fields === 'function' ? fields(i) : fields;
    const body: Omit<BatonEvent, 'hash'> = {
      ws: CONFORMANCE_WS,
      id: conformanceId(),
      stream: 'workspace',
      type: 'conformance.tested@1',
      actor: 'id_conformance',
      at: new Date(Date.UTC(2025, 0, 1) + seq * 1000).toISOString(),
      data: { seq },
      refs: [],
      sig: 'c2lnbmF0dXJlLW5vdC1jaGVja2VkLWJ5LXN0b3Jlcw',
      version: 1,
      ...extra,
      seq,
      prev,
    };
    const event: BatonEvent = { ...body, hash: eventHash(body) };
    out.push(event);
    prev = event.hash;
  }
  return out;
}

/** An event with some fields changed and its hash recomputed (to build broken chains). */
export function rehash(event: BatonEvent, change: Partial<BatonEvent>): BatonEvent {
  const { hash: _old, ...rest } = { ...event, ...change };
  return { ...rest, hash: eventHash(rest) };
}

/** A blob of the UTF-8 bytes of `text`, addressed by its SHA-256. */
export function blobOf(text: string): BlobWrite {
  const bytes = utf8(text);
  return { hash: sha256b64(bytes), bytes };
}

export function blobOfBytes(bytes: Uint8Array): BlobWrite {
  return { hash: sha256b64(bytes), bytes };
}
