import { loadTags } from '../auth/loadTags.js';
import { AuthorityView, viewFromSnapshot } from '../auth/view.js';
import { sha256b64 } from '../crypto/hash.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/store.js';
import type { Checkpoint } from './checkpoint.js';
import { startAt } from './checkpointTrust.js';
import { EMPTY_HEAD, type Head, parseType } from './event.js';
import type { EventTypes } from './eventTypes.js';
import { ProjectionRebuild } from './projectionRebuild.js';
import { inThreadSignatures, type SignatureChecker } from './signatures.js';
import { type Problem, type SignatureJob, StoredEvents } from './storedEvents.js';
import { idempotencyProblem, storedRowsProblem } from './storedRows.js';
import { StreamedRows } from './streamedRows.js';

// The parts of verification that other modules use too, each in the module of its job.
export { trustedCheckpoint } from './checkpointTrust.js';
export { ProjectionRebuild, stateReader } from './projectionRebuild.js';
export { signingKeys } from './signatures.js';
export { integrityError, StoredEvents, type StoredEventsOptions } from './storedEvents.js';

/** A body that was erased: its hash, the event that referred to it, and who erased it why. */
export interface ErasedBody {
  hash: string;
  /** Seq of the (first) event that refers to the body. */
  seq: number;
  by: string;
  reason: string;
}

/** What `verify()` found. */
export interface VerifyReport {
  ok: boolean;
  /** The head the log reached, as recomputed. */
  head: Head;
  /** Events checked (from the checkpoint on, when there is one). */
  events: number;
  /** The checkpoint's seq, when verification started from one. */
  from?: number;
  /** Bodies the log refers to that an owner erased — reported, not failures. */
  erased: ErasedBody[];
  /**
   * The first problem, when there is one: the seq where it is (for a stored row, the last
   * event that wrote it, or the head), the event's id, the projection row (`collection/key`)
   * when a stored row differs from the log, and what differs.
   */
  problem?: { seq: number; id?: string; row?: string; reason: string };
}

/** How far `workspace.verify()` has got: reported after each batch of events checked. */
export interface VerifyProgress {
  /** The last seq checked. */
  seq: number;
  /** The head seq when verification started (or `seq`, if the log has grown past it). */
  head: number;
  /** Events checked so far. */
  events: number;
}

// How many events' signatures and bodies are checked together (in parallel).
const BATCH = 256;
// Batches whose signatures are being checked while the next is read and admitted: enough to
// keep every worker thread busy while the main thread steps events.
const IN_FLIGHT = 2;

/**
 * Re-checks a log: chain links and hashes, every signature (in parallel), the workspace id,
 * the time rule, authorization of each event against the grants in force at its own
 * position, every body it refers to (present and unchanged, or erased by an owner), and —
 * on a full run — the stored projection rows of `collections` and the idempotency rows
 * against the log. With `from`, first proves the log extends the checkpoint and starts from
 * its snapshot (then stored rows cannot be rebuilt and are not compared).
 */
export async function verifyLog(
  store: Store,
  types: EventTypes,
  logger: Logger,
  from?: Checkpoint,
  onProgress?: (progress: VerifyProgress) => void,
  collections: readonly string[] = [],
  signatures: SignatureChecker = inThreadSignatures,
): Promise<VerifyReport> {
  const args = [store, types, logger, from] as const;
  const started = from ? undefined : await store.head();
  const first = await verifyPass(...args, onProgress, collections, signatures, true);
  if (first === 'rows differ' || (first.problem && started && (await moved(store, started)))) {
    // The stored rows differ from the log's: the pass holding every row names the first that
    // does. So it judges, too, when another writer appended meanwhile: the streamed pass reads
    // back rows it let go of, which that writer may have changed since.
    return (await verifyPass(...args, undefined, collections, signatures, false)) as VerifyReport;
  }
  return first;
}

/** Whether the store's head is no longer `head` (a store that cannot say, closed say, did not move). */
async function moved(store: Store, head: Head): Promise<boolean> {
  try {
    return (await store.head()).seq !== head.seq;
  } catch {
    return false;
  }
}

/**
 * One pass of {@link verifyLog}. With `streamed`, the rebuilt rows are compared with the
 * stored ones as the replay goes ({@link StreamedRows}: memory stays flat) and a difference
 * is only `'rows differ'`; without, every rebuilt row is held and the first difference named.
 */
async function verifyPass(
  store: Store,
  types: EventTypes,
  logger: Logger,
  from: Checkpoint | undefined,
  onProgress: ((progress: VerifyProgress) => void) | undefined,
  collections: readonly string[],
  signatures: SignatureChecker,
  streamed: boolean,
): Promise<VerifyReport | 'rows differ'> {
  let view = new AuthorityView();
  let start: Head = EMPTY_HEAD;
  const erased: ErasedBody[] = [];
  // Stored rows can be compared only with rows rebuilt from the first event.
  let rows: StreamedRows | undefined = streamed && !from ? new StreamedRows(store) : undefined;
  // Bodies the replay read, for the check of their hashes after the signatures (read once).
  const read = new Map<string, Uint8Array>();
  let rebuild: ProjectionRebuild | undefined = new ProjectionRebuild(
    types,
    async (h) => {
      const bytes = read.get(h) ?? (await store.blobs.get(h));
      if (bytes) keepRead(read, h, bytes);
      return bytes;
    },
    (h) => store.get('erasures', h),
    rows,
  );
  let checker = new StoredEvents(
    types,
    rows
      ? {
          after: start,
          signatures,
          // Each stream's version is its `streams` row, brought back before its next event.
          versionOf: (stream) => {
            const row = rows!.peek('streams', stream);
            return row === undefined ? 0 : (row as { version: number }).version;
          },
          forgetAfter: STREAMS_REMEMBERED,
        }
      : { after: start, signatures, versions: rebuild?.streams },
  );
  const report = (problem?: Problem): VerifyReport => {
    const r: VerifyReport = { ok: !problem, head: checker.head, events: checker.count, erased };
    if (from && checker.head.seq >= from.seq) r.from = from.seq;
    if (problem) r.problem = problem;
    return r;
  };

  if (from) {
    const begin = await startAt(store, from, logger);
    if ('problem' in begin) return report(begin.problem);
    if (begin.snapshot) {
      view = viewFromSnapshot(begin.snapshot);
      start = { seq: from.seq, hash: from.hash };
      checker = new StoredEvents(types, { after: start, signatures });
    }
  }
  if (start.seq !== 0) {
    rebuild = undefined;
    rows = undefined;
  }

  // The head when verification starts: the denominator of progress (the log may grow meanwhile).
  const target = onProgress ? (await store.head()).seq : 0;
  let reported = -1;
  const progress = () => {
    if (!onProgress || checker.checked.count === reported) return;
    reported = checker.checked.count;
    try {
      const { head, count } = checker.checked;
      onProgress({ seq: head.seq, head: Math.max(target, head.seq), events: count });
    } catch (err) {
      logger.error('verify: onProgress threw; ignoring it', { error: String(err) });
    }
  };
  const seenBlobs = new Set<string>();
  const bodies = async (j: SignatureJob): Promise<Problem | undefined> => {
    for (const h of j.blobs) {
      const bytes = read.get(h) ?? (await store.blobs.get(h));
      read.delete(h);
      if (bytes) {
        if (sha256b64(bytes) !== h)
          return {
            seq: j.e.seq,
            id: j.e.id,
            reason: `body ${h} was changed (its bytes no longer match its hash)`,
          };
        continue;
      }
      const erasure = await erasureOf(store, types, h);
      if (!erasure)
        return { seq: j.e.seq, id: j.e.id, reason: `body ${h} is missing and no owner erased it` };
      if (!seenBlobs.has(h))
        erased.push({ hash: h, seq: j.e.seq, by: erasure.by, reason: erasure.reason });
      seenBlobs.add(h);
    }
    return undefined;
  };

  for await (const e of store.read({ after: start.seq })) {
    if (rows && typeof e?.stream === 'string') await rows.prefetch('streams', e.stream);
    const tx = view.begin();
    const r = checker.step(e, tx, true);
    // Anything wrong earlier (a signature in the pending batch) is the first problem.
    if ('problem' in r) return report((await checker.flush(bodies)) ?? r.problem);
    // From a checkpoint, a grant naming a tag for the first time: its earlier artifacts.
    if (tx.hasUnloadedTags()) {
      try {
        await loadTags(store, tx);
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        return report((await checker.flush(bodies)) ?? { seq: e.seq, id: e.id, reason });
      }
    }
    if (rebuild) {
      try {
        await rebuild.add(e, r.data, tx);
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        return report((await checker.flush(bodies)) ?? { seq: e.seq, id: e.id, reason });
      }
      rebuild.addView(tx);
    }
    tx.commit();
    if (rows?.due) await rows.settle();
    if (checker.pending >= BATCH) {
      checker.send(bodies);
      const p = await checker.settle(IN_FLIGHT);
      if (p) return report(p);
      progress();
    }
  }
  checker.send(bodies);
  while (checker.sent > 0) {
    const p = await checker.settle(checker.sent - 1);
    if (p) return report(p);
    progress();
  }
  // Once at the end in any case (an empty log, or nothing after the checkpoint, too).
  progress();
  const last = checker.head;
  const head = await store.head();
  if (head.seq !== last.seq) {
    return report({
      seq: Math.min(head.seq, last.seq + 1),
      reason:
        head.seq > last.seq
          ? `the store's head is seq ${head.seq}, but the log read ends at seq ${last.seq}: events ${last.seq + 1}–${head.seq} are missing`
          : `the store's head is seq ${head.seq}, but the log read goes on to seq ${last.seq}`,
    });
  }
  if (head.hash !== last.hash) {
    return report({
      seq: head.seq,
      reason: `the store's head names hash ${head.hash} for seq ${head.seq}, but the event read at seq ${last.seq} has hash ${last.hash}`,
    });
  }
  if (rows) {
    if (!(await rows.finish(collections))) return 'rows differ';
    const problem = await idempotencyProblem(store, last);
    if (problem) return report(problem);
  } else if (rebuild) {
    const problem = await storedRowsProblem(store, rebuild, collections, last);
    if (problem) return report(problem);
  }
  return report();
}

// Streams whose versions the checker keeps itself; the others' come from their `streams` rows.
const STREAMS_REMEMBERED = 4_096;
// Bodies kept between the replay's read and the check of their hash: those of the events in flight.
const READ_BODIES = 4 * BATCH * IN_FLIGHT;

function keepRead(read: Map<string, Uint8Array>, hash: string, bytes: Uint8Array): void {
  read.delete(hash);
  read.set(hash, bytes);
  if (read.size > READ_BODIES) read.delete(read.keys().next().value!);
}

/** The erasure of body `hash`, proven by its `blob.erased` event in the log. */
async function erasureOf(
  store: Store,
  types: EventTypes,
  hash: string,
): Promise<{ by: string; reason: string } | undefined> {
  const row = (await store.get('erasures', hash)) as { event?: string } | undefined;
  if (!row?.event) return undefined;
  const e = await store.event(row.event);
  if (!e || parseType(e.type).name !== 'blob.erased') return undefined;
  const data = types.dataOf(e) as { hash: string; reason: string };
  return data.hash === hash ? { by: e.actor, reason: data.reason } : undefined;
}
