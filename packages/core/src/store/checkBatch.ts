import { badArgument } from '../crypto/arguments.js';
import { BatonError, ErrorCode } from '../errors.js';
import type { Head } from '../log/event.js';
import type { AppendBatch } from './store.js';

/**
 * The Store contract's rules for a batch against the head it continues — for adapters to
 * call after their head check: at least one event (or projection writes alone, without
 * blobs); seqs contiguous from the head; each event linked to the one before; no id twice
 * in the batch, nor one `exists` says is committed. Throws `VALIDATION`; returns the head
 * the batch reaches.
 */
export function checkBatch(
  head: Head,
  batch: Pick<AppendBatch, 'events' | 'projections' | 'blobs'>,
  exists: (id: string) => boolean = () => false,
): Head {
  const refuse = (message: string): never => {
    throw new BatonError(ErrorCode.VALIDATION, message);
  };
  if (
    typeof head !== 'object' ||
    head === null ||
    !Number.isSafeInteger(head.seq) ||
    typeof head.hash !== 'string'
  )
    throw badArgument('checkBatch', 'head', 'a Head ({ seq, hash })', head);
  if (typeof batch !== 'object' || batch === null || !Array.isArray(batch.events))
    throw badArgument('checkBatch', 'batch', 'an AppendBatch (with an `events` array)', batch);
  if (typeof exists !== 'function')
    throw badArgument('checkBatch', 'exists', 'a function (id) => boolean', exists);
  if (batch.events.length === 0 && (!batch.projections?.length || batch.blobs?.length)) {
    refuse(
      'An append needs at least one event (or, to rewrite projections, projection writes alone).',
    );
  }
  const ids = new Set<string>();
  let prev = head;
  for (const [i, e] of batch.events.entries()) {
    if (
      typeof e !== 'object' ||
      e === null ||
      typeof e.id !== 'string' ||
      !Number.isSafeInteger(e.seq) ||
      typeof e.hash !== 'string'
    )
      throw badArgument(
        'checkBatch',
        `batch.events[${i}]`,
        'a committed event (with a string id and hash, and a whole-number seq)',
        e,
      );
    if (e.seq !== prev.seq + 1)
      refuse(`Event ${e.id} has seq ${e.seq}; the log expects ${prev.seq + 1}.`);
    if (prev.seq > 0 && e.prev !== prev.hash)
      refuse(`Event ${e.id} does not link to the head (prev ≠ ${prev.hash}).`);
    if (ids.has(e.id) || exists(e.id))
      refuse(`Event id "${e.id}" exists already in this workspace.`);
    ids.add(e.id);
    prev = { seq: e.seq, hash: e.hash };
  }
  return prev;
}
