import { loadTags } from '../auth/loadTags.js';
import type { ViewTx } from '../auth/view.js';
import { BatonError, ErrorCode } from '../errors.js';
import type { Checkpoint } from '../log/checkpoint.js';
import { type BatonEvent, type Head, parseType } from '../log/event.js';
import { integrityError, StoredEvents } from '../log/verifier.js';
import type { BlobWrite } from '../store/store.js';
import type { CommitParts, Outcome } from './batch.js';

/**
 * One attempt of `ingest()` (and `import()`): events committed elsewhere, appended
 * unchanged. Each must continue `head` and pass the checks `verify()` makes (see
 * {@link StoredEvents}); every body they refer to must be given, stored, or erased; and, with
 * `checkpoint`, the events must extend it. (The pipeline runs it at the head the view is at.) Throws `INTEGRITY` at the first that fails.
 *
 * @returns The batch, and the head after it.
 */
export async function ingestedBatch(
  parts: CommitParts,
  list: readonly BatonEvent[],
  blobs: BlobWrite[],
  tx: ViewTx,
  checkpoint?: Checkpoint,
): Promise<Outcome<Head>> {
  const { store, types } = parts;
  // Each stream's version before the events: what this process saw, else the store's row.
  const versions = new Map<string, number>();
  for (const e of list) {
    if (typeof e.stream === 'string' && !versions.has(e.stream))
      versions.set(e.stream, await parts.sync.streamVersion(e.stream));
  }
  const checker = new StoredEvents(types, {
    after: parts.sync.seen,
    versionOf: (stream) => versions.get(stream),
  });
  const data: unknown[] = [];
  const bodies = new Map<string, number>();
  const erasedHere = new Set<string>();
  for (const e of list) {
    const r = checker.step(e, tx);
    if ('problem' in r) throw integrityError((await checker.flush()) ?? r.problem, 'given');
    // A grant naming a tag for the first time: its earlier artifacts, before the next event.
    if (tx.hasUnloadedTags()) await loadTags(store, tx);
    data.push(r.data);
    for (const h of types.blobsOf(e, r.data)) if (!bodies.has(h)) bodies.set(h, e.seq);
    if (parseType(e.type).name === 'blob.erased') erasedHere.add((r.data as { hash: string }).hash);
    if (checkpoint && e.seq === checkpoint.seq) refuseUnlessExtends(checkpoint, e, tx);
  }
  const problem = await checker.flush();
  if (problem) throw integrityError(problem, 'given');
  if (checkpoint && checker.head.seq < checkpoint.seq) {
    throw new BatonError(
      ErrorCode.INTEGRITY,
      `The events end at seq ${checker.head.seq}, before the checkpoint at seq ${checkpoint.seq}: they do not extend it (truncated). Nothing was written.`,
    );
  }
  const given = new Set(blobs.map((b) => b.hash));
  for (const [h, seq] of bodies) {
    if (
      given.has(h) ||
      erasedHere.has(h) ||
      (await store.blobs.has(h)) ||
      (await store.get('erasures', h))
    )
      continue;
    throw new BatonError(
      ErrorCode.INTEGRITY,
      `Body ${h} (referred to at seq ${seq}) is missing and was not erased.`,
    );
  }
  return {
    write: { events: [...list], data, blobs, erasedLater: erasedHere },
    result: { ...checker.head },
  };
}

/** Refuses `e` (at the checkpoint's seq) unless it is the event checkpoint `cp` signed, signed by an owner or service key registered at that point. */
function refuseUnlessExtends(cp: Checkpoint, e: BatonEvent, tx: ViewTx): void {
  const refuse = (why: string): never => {
    throw new BatonError(
      ErrorCode.INTEGRITY,
      `The events do not extend the checkpoint at seq ${cp.seq}: ${why}. Nothing was written.`,
    );
  };
  if (e.hash !== cp.hash || e.ws !== cp.ws)
    refuse(`the event at seq ${cp.seq} is another one than it signed`);
  const who = tx.identity(cp.by);
  if (
    !who ||
    !(who.isOwner || who.kind === 'service') ||
    !who.keys.some((k) => k.key === cp.key && k.since <= cp.seq)
  )
    refuse(`its signer ${cp.by} holds no owner or service key registered at that point`);
}
