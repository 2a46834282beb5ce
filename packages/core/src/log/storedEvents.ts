import type { ViewTx } from '../auth/view.js';
import { describeValue } from '../crypto/arguments.js';
import { canonicalJsonIfPlain } from '../crypto/canonical.js';
import { BatonError, ErrorCode } from '../errors.js';
import { hashProblem, linkProblem } from './chain.js';
import { type BatonEvent, type Head, parseType, signedFieldsOf, signingText } from './event.js';
import type { EventTypes } from './eventTypes.js';
import {
  inThreadSignatures,
  type SignatureCheck,
  type SignatureChecker,
  signingKeys,
} from './signatures.js';

/**
 * What is wrong with a log, where: the seq (for a stored row, the last event that wrote it,
 * or the head), the event's id, the projection row (`collection/key`) when a stored row
 * differs from the log, and what differs.
 */
export interface Problem {
  seq: number;
  id?: string;
  row?: string;
  reason: string;
}

/** Where {@link StoredEvents} starts: the last event already seen, and what is known before it. */
export interface StoredEventsOptions {
  /** The head the first event checked must continue: seq and hash (`EMPTY_HEAD` from the start). */
  after: Head;
  /** Stream versions known before `after` (`undefined`: not known, so only continuity is checked). Defaults to none known. */
  versionOf?: (stream: string) => number | undefined;
  /**
   * How to treat an event whose type this process does not register: `'refuse'` it (verify),
   * or check only its chain link, hash, workspace and signature (a process opened without the
   * app's event types, or by an older library than the one that wrote a newer version of an
   * app type, can still follow the log; such events change no authority but the use count of
   * the grant they name). Defaults to `'refuse'`.
   */
  unknownTypes?: 'refuse' | 'signature';
  /** How the signatures are checked (a workspace's share of the worker threads). Defaults to {@link inThreadSignatures}. */
  signatures?: SignatureChecker;
  /**
   * The map the stream versions it sees are kept in, when the caller keeps them anyway (the
   * projection rebuild of `verify()`), so they are held once. Defaults to a map of its own.
   */
  versions?: Map<string, number>;
  /**
   * Past this many streams the versions it remembers are forgotten, so its memory does not
   * grow with the log; a forgotten stream is then checked as one first seen after a
   * checkpoint (continuity from `versionOf`, else from its next event). Defaults to never
   * (every stream remembered: `verify()`, rebuild and ingest check every version).
   */
  forgetAfter?: number;
}

/** One event whose signature is still to check. */
export interface SignatureJob extends SignatureCheck {
  e: BatonEvent;
  keys: string[];
  blobs: string[];
}

/**
 * The one check of an event read from the store, shared by `verify()` and every path that
 * applies stored events (open, catch-up, rebuild, ingest and import): the chain link to
 * what was seen before — by hash, not only by seq —, the stream version, the hash
 * recomputed, admission against the authority view at the event's own position (the same
 * `EventTypes.admit` the write path runs, with the event's own `auth`), and the signature
 * against the keys the actor held there. Signatures are checked in parallel batches:
 * {@link StoredEvents.step} queues them and {@link StoredEvents.flush} checks the queue.
 */
export class StoredEvents {
  /** The last event stepped (or `after`). */
  head: Head;
  /** Events stepped. */
  count = 0;
  readonly #types: EventTypes;
  readonly #fromStart: boolean;
  readonly #versionOf: (stream: string) => number | undefined;
  readonly #versions: Map<string, number>;
  readonly #forgetAfter: number;
  /** False once versions were forgotten: a stream not remembered may then be an old one. */
  #remembersAll: boolean;
  readonly #unknown: 'refuse' | 'signature';
  readonly #signatures: SignatureChecker;
  #ws: string | undefined;
  #jobs: SignatureJob[] = [];
  /** Batches sent off to be checked, oldest first, each with the head and count it ends at. */
  #inFlight: { done: Promise<Problem | undefined>; head: Head; count: number }[] = [];
  /** The last batch's checks of `extra` (they run in seq order, one batch after another). */
  #extras: Promise<unknown> = Promise.resolve();
  /** The last event whose batch checked out (signatures, and `extra`), and how many events that covers. */
  checked: { head: Head; count: number };

  constructor(types: EventTypes, options: StoredEventsOptions) {
    this.#types = types;
    this.head = options.after;
    this.#fromStart = options.after.seq === 0;
    this.#remembersAll = this.#fromStart;
    this.#versions = options.versions ?? new Map();
    this.#forgetAfter = options.forgetAfter ?? Number.POSITIVE_INFINITY;
    this.#versionOf = options.versionOf ?? (() => undefined);
    this.#unknown = options.unknownTypes ?? 'refuse';
    this.#signatures = options.signatures ?? inThreadSignatures;
    this.checked = { head: options.after, count: 0 };
  }

  /** Signatures queued and not yet sent off to be checked. */
  get pending(): number {
    return this.#jobs.length;
  }

  /** Batches sent off by {@link StoredEvents.send} and not yet settled. */
  get sent(): number {
    return this.#inFlight.length;
  }

  /**
   * Checks `e` against `tx` (the view just before it) and applies it to `tx`. Returns its
   * parsed data (`undefined` for an unknown type let through), or the problem — in which case
   * `tx` may hold part of the event and must be dropped.
   */
  step(e: BatonEvent, tx: ViewTx, blobs = false): { data: unknown } | { problem: Problem } {
    const fail = (reason: string, seq = e.seq) => ({
      problem: { seq, id: typeof e.id === 'string' ? e.id : undefined, reason },
    });
    const prev = this.head;
    if (typeof e !== 'object' || e === null)
      return fail('the stored event is not an object', prev.seq + 1);
    if (
      !Number.isSafeInteger(e.seq) ||
      !Number.isSafeInteger(e.version) ||
      typeof e.prev !== 'string' ||
      typeof e.hash !== 'string' ||
      typeof e.sig !== 'string'
    ) {
      return fail(
        `its chain fields are malformed (seq ${describeValue(e.seq)}, version ${describeValue(e.version)}, prev, hash and sig must be strings)`,
        prev.seq + 1,
      );
    }
    this.#ws ??= tx.workspace?.id ?? e.ws;
    const link = linkProblem(e, prev, this.#ws);
    if (link) return fail(link.reason, link.seq);
    // Versions count each stream's events. A stream's first version after the starting point
    // cannot be known without its history, so only continuity is checked there.
    const known = this.#versions.get(e.stream) ?? this.#versionOf(e.stream);
    const expectedVersion = known !== undefined ? known + 1 : this.#remembersAll ? 1 : undefined;
    if ((expectedVersion !== undefined && e.version !== expectedVersion) || !(e.version >= 1)) {
      return fail(
        `version ${e.version} is not the next of stream ${e.stream} (${expectedVersion ?? '≥ 1'})`,
      );
    }
    // The signed fields' canonical JSON, checked in the same walk; only a refused event pays
    // for signingText's separate check, which says what is wrong.
    const fields = signedFieldsOf(e);
    let text = canonicalJsonIfPlain(fields) as string;
    if (text === undefined) {
      try {
        text = signingText(e);
      } catch (err) {
        return fail((err as Error).message);
      }
    }
    const badHash = hashProblem(e, text);
    if (badHash) return fail(badHash);
    let data: unknown;
    let keys: string[];
    let bodies: string[] = [];
    // A type this process does not know, or a newer version of one that changes no
    // authority (no `apply`), can only be followed, not judged.
    const type = typeof e.type === 'string' ? parseType(e.type) : undefined;
    const def = type ? this.#types.get(type.name) : undefined;
    const opaque = !def || (type!.version > def.version && !def.apply);
    try {
      if (opaque && this.#unknown === 'signature') {
        const ws = tx.workspace?.id;
        if (!ws || e.ws !== ws) return fail(`the event belongs to workspace ${e.ws}, not ${ws}`);
        keys = signingKeys(e, tx);
        this.#types.apply(e, tx, null);
      } else {
        data = this.#types.admit(fields, tx, {});
        if (fields.auth !== e.auth) {
          return fail(
            `auth names grant ${String(e.auth)}, but ${String(fields.auth)} authorizes it`,
          );
        }
        keys = signingKeys(e, tx);
        if (blobs) bodies = this.#types.blobsOf(e, data);
        this.#types.apply(e, tx, data);
      }
    } catch (err) {
      return fail(err instanceof Error ? err.message : String(err));
    }
    this.#jobs.push({ e, keys, sig: e.sig, text, blobs: bodies });
    if (this.#versions.size >= this.#forgetAfter && !this.#versions.has(e.stream)) {
      this.#versions.clear();
      this.#remembersAll = false;
    }
    this.#versions.set(e.stream, e.version);
    this.head = { seq: e.seq, hash: e.hash };
    this.count++;
    return { data };
  }

  /**
   * Checks the queued signatures (all in flight at once) and, through `extra`, anything
   * else per event (verify's bodies), after any batches {@link StoredEvents.send} sent off.
   * Returns the first problem in seq order.
   */
  async flush(
    extra?: (job: SignatureJob) => Promise<Problem | undefined>,
  ): Promise<Problem | undefined> {
    this.send(extra);
    return this.settle(0);
  }

  /**
   * Sends the queued signatures off to be checked without waiting for them, so the next
   * events can be stepped meanwhile (on worker threads, the signatures of one batch are
   * checked while the next is read and admitted). `extra` runs for each event that refers
   * to bodies and whose signature checks out, in seq order. {@link StoredEvents.settle} collects the answers.
   */
  send(extra?: (job: SignatureJob) => Promise<Problem | undefined>): void {
    const batch = this.#jobs;
    if (batch.length === 0) return;
    this.#jobs = [];
    const signed = this.#signatures.check(batch);
    const before = this.#extras;
    const done = (async (): Promise<Problem | undefined> => {
      const ok = await signed;
      await before;
      let first: Problem | undefined;
      for (let i = 0; i < batch.length; i++) {
        const j = batch[i]!;
        if (!ok[i]) {
          first ??= {
            seq: j.e.seq,
            id: j.e.id,
            reason: `bad signature (not by a current key of ${j.e.actor})`,
          };
          continue;
        }
        // Every event of the batch has its bodies checked (verify reports every erased one).
        if (extra && j.blobs.length > 0) {
          const p = await extra(j);
          first ??= p;
        }
      }
      return first;
    })();
    // Settled in order by settle(); one abandoned after an earlier problem must not go unhandled.
    done.catch(() => {});
    this.#extras = done.catch(() => {});
    this.#inFlight.push({ done, head: this.head, count: this.count });
  }

  /**
   * Waits for the batches sent off until at most `keep` are still being checked, oldest
   * first, moving {@link StoredEvents.checked}; returns the first problem among them. On a
   * problem, {@link StoredEvents.head} and {@link StoredEvents.count} go back to the end of
   * its batch — where checking stopped, as if no later batch had been stepped.
   */
  async settle(keep: number): Promise<Problem | undefined> {
    while (this.#inFlight.length > keep) {
      const b = this.#inFlight.shift()!;
      const problem = await b.done;
      if (problem) {
        // The batches after it no longer matter: what is wrong first is the answer.
        this.#inFlight = [];
        this.#jobs = [];
        this.head = b.head;
        this.count = b.count;
        return problem;
      }
      this.checked = { head: b.head, count: b.count };
    }
    return undefined;
  }
}

/**
 * The `INTEGRITY` error for an event that does not verify, naming its seq and what is wrong:
 * one read from the store (`'store'`), or one handed to `ingest`/`import` (`'given'`).
 */
export function integrityError(problem: Problem, source: 'store' | 'given' = 'store'): BatonError {
  const id = problem.id ? ` (${problem.id})` : '';
  const message =
    source === 'store'
      ? `The event at seq ${problem.seq}${id} in the store does not verify: ${problem.reason}. Nothing from seq ${problem.seq} on was applied, and nothing will be written on top of it. The store was changed outside Baton: run workspace.verify() and restore the store from a backup or an export.`
      : `The event at seq ${problem.seq}${id} does not verify: ${problem.reason}. Nothing was written.`;
  return new BatonError(ErrorCode.INTEGRITY, message, { details: { ...problem } });
}
