import { loadTags } from '../auth/loadTags.js';
import type { ViewTx } from '../auth/view.js';
import { canonicalJson } from '../crypto/canonical.js';
import { BatonError, ErrorCode } from '../errors.js';
import { type BatonEvent, type Head, type SignedEvent, signedFieldsOf } from '../log/event.js';
import { eventSignedByAny, signingKeys } from '../log/signatures.js';
import type { Store } from '../store/store.js';
import { utf8Length } from '../validation.js';
import type { CommitParts, Outcome } from './batch.js';
import { Chain } from './chain.js';

/**
 * The most event data one `submit()` call takes, in UTF-8 bytes: 16 MiB. (Each event's data
 * is at most 256 KiB, and a call at most 1,000 events: 256 MiB without this bound.)
 */
export const MAX_SUBMIT_BYTES = 16 * 1024 * 1024;

/**
 * One attempt of `submit()`: the committed twins when every event was committed before;
 * else each event admitted against `tx` (workspace id, time window, authorization), its
 * signature checked, placed and applied, and the batch chained to `head`.
 */
export async function submittedBatch(
  parts: CommitParts,
  list: readonly SignedEvent[],
  tx: ViewTx,
  head: Head,
): Promise<Outcome<BatonEvent[]>> {
  const existing = await committedTwins(parts.store, list);
  if (existing) return { done: existing };
  const chain = new Chain(head, (s) => parts.sync.streamVersion(s));
  const pending = new Map<string, number>();
  const events: BatonEvent[] = [];
  let bytes = 0;
  for (const signed of list) {
    const fields = signedFieldsOf(signed);
    parts.types.admit(fields, tx, { now: parts.clock(), pending });
    // admit() has bounded the data's nesting, so it serializes without a stack overflow.
    bytes += utf8Length(JSON.stringify(fields.data));
    if (bytes > MAX_SUBMIT_BYTES) {
      throw new BatonError(
        ErrorCode.VALIDATION,
        `workspace.submit: these events carry more than ${MAX_SUBMIT_BYTES / 1024 / 1024} MiB of data in one call. Submit them in smaller batches.`,
      );
    }
    const e: BatonEvent = { ...fields, sig: signed.sig, version: 0, seq: 0, prev: '', hash: '' };
    if (!(await eventSignedByAny(e, signingKeys(e, tx)))) {
      throw new BatonError(
        ErrorCode.INTEGRITY,
        `Event ${e.id}: the signature is not valid for any current key of ${e.actor}.`,
      );
    }
    await chain.place(e);
    parts.types.apply(e, tx);
    // A grant naming a tag for the first time: its earlier artifacts, before the next event.
    if (tx.hasUnloadedTags()) await loadTags(parts.store, tx);
    events.push(e);
  }
  chain.link(events);
  return { write: { events }, result: events };
}

/** The committed twins of pre-signed events, when all were committed before; VALIDATION when an id was used for something else. */
async function committedTwins(
  store: Store,
  events: readonly SignedEvent[],
): Promise<BatonEvent[] | undefined> {
  const found: BatonEvent[] = [];
  for (const e of events) {
    const old = await store.event(e.id);
    if (!old) continue;
    if (
      canonicalJson(signedFieldsOf(old)) !== canonicalJson(signedFieldsOf(e)) ||
      old.sig !== e.sig
    ) {
      throw new BatonError(
        ErrorCode.VALIDATION,
        `Event id ${e.id} exists already with different content. Use a new id.`,
      );
    }
    found.push(old);
  }
  if (found.length === 0) return undefined;
  if (found.length !== events.length) {
    throw new BatonError(
      ErrorCode.VALIDATION,
      'Some of these events were committed before and some were not; submit the new ones alone.',
    );
  }
  return found;
}
