import { AuthorityView, type ViewSnapshot, type ViewTx, viewFromSnapshot } from '../auth/view.js';
import { utf8 } from '../crypto/encoding.js';
import { sha256b64 } from '../crypto/hash.js';
import { verifySignature } from '../crypto/keys.js';
import { BatonError, ErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/store.js';
import { type Checkpoint, checkpointText, snapshotKey } from './checkpoint.js';
import {
  type BatonEvent,
  EMPTY_HEAD,
  eventHash,
  type Head,
  parseType,
  type SignedFields,
  signedFieldsOf,
  signingText,
} from './event.js';
import type { EventTypes } from './eventTypes.js';

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
  /** The first problem, when there is one. */
  problem?: { seq: number; id?: string; reason: string };
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

/** The keys that may have signed `e` at its position: the actor's current keys (for bootstrap, the first owner's). */
export function signingKeys(e: SignedFields, view: Pick<ViewTx, 'identity'>): string[] {
  if (parseType(e.type).name === 'workspace.bootstrapped') {
    const owners = (e.data as { owners?: { id: string; key: string }[] }).owners ?? [];
    const me = owners.find((o) => o.id === e.actor);
    return me ? [me.key] : [];
  }
  const who = view.identity(e.actor);
  return who ? who.keys.filter((k) => k.until === undefined).map((k) => k.key) : [];
}

type Problem = NonNullable<VerifyReport['problem']>;

// How many events' signatures and bodies are checked together (in parallel).
const BATCH = 256;

/**
 * Re-checks a log: chain links and hashes, every signature (in parallel), the workspace id,
 * the time rule, authorization of each event against the grants in force at its own
 * position, and every body it refers to (present and unchanged, or erased by an owner).
 * With `from`, first proves the log extends the checkpoint and starts from its snapshot.
 */
export async function verifyLog(
  store: Store,
  types: EventTypes,
  logger: Logger,
  from?: Checkpoint,
  onProgress?: (progress: VerifyProgress) => void,
): Promise<VerifyReport> {
  let view = new AuthorityView();
  let prev: Head = EMPTY_HEAD;
  let count = 0;
  let wsId: string | undefined;
  const erased: ErasedBody[] = [];
  const versions = new Map<string, number>();
  const report = (problem?: Problem): VerifyReport => {
    const r: VerifyReport = { ok: !problem, head: prev, events: count, erased };
    if (from && prev.seq >= from.seq) r.from = from.seq;
    if (problem) r.problem = problem;
    return r;
  };

  if (from) {
    const start = await startAt(store, from, logger);
    if ('problem' in start) return report(start.problem);
    if (start.snapshot) {
      view = viewFromSnapshot(start.snapshot);
      prev = { seq: from.seq, hash: from.hash };
      wsId = from.ws;
    }
  }

  const startedAt = prev.seq;
  // The head when verification starts: the denominator of progress (the log may grow meanwhile).
  const target = onProgress ? (await store.head()).seq : 0;
  const progress = () => {
    if (!onProgress) return;
    try {
      onProgress({ seq: prev.seq, head: Math.max(target, prev.seq), events: count });
    } catch (err) {
      logger.error('verify: onProgress threw; ignoring it', { error: String(err) });
    }
  };
  type Job = { e: BatonEvent; keys: string[]; text: string; blobs: string[] };
  let jobs: Job[] = [];
  const seenBlobs = new Set<string>();
  const flush = async (): Promise<Problem | undefined> => {
    const batch = jobs;
    jobs = [];
    const results = await Promise.all(batch.map((j) => checkJob(j)));
    return results.find((p) => p !== undefined);
  };
  const checkJob = async (j: Job): Promise<Problem | undefined> => {
    const bytes = utf8(j.text);
    let signed = false;
    for (const k of j.keys) {
      if (await verifySignature(k, j.e.sig, bytes).catch(() => false)) {
        signed = true;
        break;
      }
    }
    if (!signed)
      return {
        seq: j.e.seq,
        id: j.e.id,
        reason: `bad signature (not by a current key of ${j.e.actor})`,
      };
    for (const h of j.blobs) {
      const bytes = await store.blobs.get(h);
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

  for await (const e of store.read({ after: prev.seq })) {
    const problem = await stepProblem(e);
    if (problem) {
      // Anything wrong earlier (a signature in the pending batch) is the first problem.
      return report((await flush()) ?? problem);
    }
    if (jobs.length >= BATCH) {
      const p = await flush();
      if (p) return report(p);
      progress();
    }
  }
  const last = await flush();
  if (last) return report(last);
  progress();
  const head = await store.head();
  if (head.seq !== prev.seq || head.hash !== prev.hash) {
    return report({
      seq: Math.min(head.seq, prev.seq + 1),
      reason: `the store's head (seq ${head.seq}) is not the last event read (seq ${prev.seq})`,
    });
  }
  return report();

  async function stepProblem(e: BatonEvent): Promise<Problem | undefined> {
    if (e.seq !== prev.seq + 1)
      return {
        seq: prev.seq + 1,
        reason: `event ${prev.seq + 1} is missing (the next one read is seq ${e.seq})`,
      };
    wsId ??= e.ws;
    const expectedPrev = e.seq === 1 ? wsId : prev.hash;
    if (e.prev !== expectedPrev)
      return { seq: e.seq, id: e.id, reason: 'prev does not link to the event before' };
    // Versions count each stream's events. From a checkpoint, a stream's first version after
    // it cannot be known without its history, so only continuity is checked there.
    const known = versions.get(e.stream);
    const expectedVersion = known !== undefined ? known + 1 : startedAt > 0 ? undefined : 1;
    if ((expectedVersion !== undefined && e.version !== expectedVersion) || !(e.version >= 1)) {
      return {
        seq: e.seq,
        id: e.id,
        reason: `version ${e.version} is not the next of stream ${e.stream} (${expectedVersion ?? '≥ 1'})`,
      };
    }
    versions.set(e.stream, e.version);
    let text: string;
    try {
      text = signingText(e);
    } catch (err) {
      return { seq: e.seq, id: e.id, reason: (err as Error).message };
    }
    if (eventHash(e, text) !== e.hash)
      return { seq: e.seq, id: e.id, reason: 'hash does not match the event' };
    const tx = view.begin();
    const fields = signedFieldsOf(e);
    let data: unknown;
    try {
      data = types.admit(fields, tx, {});
      if (fields.auth !== e.auth) throw new BatonError(ErrorCode.INTEGRITY, 'auth does not match');
    } catch (err) {
      return { seq: e.seq, id: e.id, reason: err instanceof Error ? err.message : String(err) };
    }
    jobs.push({ e, keys: signingKeys(e, tx), text, blobs: types.blobsOf(e, data) });
    types.apply(e, tx, data);
    tx.commit();
    prev = { seq: e.seq, hash: e.hash };
    count++;
    return undefined;
  }
}

/** Proves the log extends checkpoint `cp`, and finds the snapshot kept with it. */
async function startAt(
  store: Store,
  cp: Checkpoint,
  logger: Logger,
): Promise<{ problem: Problem } | { snapshot?: ViewSnapshot }> {
  const { sig, ...body } = cp;
  if (!(await verifySignature(cp.key, sig, utf8(checkpointText(body))).catch(() => false))) {
    return { problem: { seq: cp.seq, reason: 'the checkpoint’s signature is not valid' } };
  }
  const head = await store.head();
  if (head.seq < cp.seq) {
    return {
      problem: {
        seq: head.seq + 1,
        reason: `the log ends at seq ${head.seq}, before the kept checkpoint at seq ${cp.seq}: it was truncated`,
      },
    };
  }
  let at: BatonEvent | undefined;
  for await (const e of store.read({ after: cp.seq - 1, limit: 1 })) at = e;
  if (!at || at.seq !== cp.seq || at.hash !== cp.hash || at.ws !== cp.ws) {
    return {
      problem: {
        seq: cp.seq,
        reason: `the event at seq ${cp.seq} is not the one the checkpoint signed: the log was rewritten behind it`,
      },
    };
  }
  const text = await store.kv.get(snapshotKey(cp.seq));
  if (typeof text !== 'string' || sha256b64(text) !== cp.view) {
    logger.warn('no usable snapshot kept with this checkpoint; verifying from the start', {
      seq: cp.seq,
    });
    return {};
  }
  const snapshot = JSON.parse(text) as ViewSnapshot;
  const signer = snapshot.identities.find((i) => i.id === cp.by);
  if (
    !signer ||
    !(signer.isOwner || signer.kind === 'service') ||
    !signer.keys.some((k) => k.key === cp.key)
  ) {
    return {
      problem: {
        seq: cp.seq,
        reason: `the checkpoint is not signed by an owner or service identity's key (${cp.by})`,
      },
    };
  }
  return { snapshot };
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
