import { AuthorityView, type ViewSnapshot, type ViewTx, viewFromSnapshot } from '../auth/view.js';
import { describeValue } from '../crypto/arguments.js';
import { canonicalJson, type JsonValue } from '../crypto/canonical.js';
import { utf8 } from '../crypto/encoding.js';
import { sha256b64 } from '../crypto/hash.js';
import { verifySignature } from '../crypto/keys.js';
import { BatonError, ErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import { compareKeys } from '../store/keys.js';
import { type BlobWrite, PRIMARY_INDEX, type ProjectionWrite, type Store } from '../store/store.js';
import {
  type Checkpoint,
  checkpointSchema,
  checkpointText,
  LATEST_CHECKPOINT_KEY,
  snapshotKey,
} from './checkpoint.js';
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
import { type EventTypes, ProjectionOverlay, type StateReader } from './eventTypes.js';

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

// Rows per page when verify() scans stored rows and index entries. A store may cost a pass
// over a collection per page (MemoryStore sorts it each time): with 500 rows per page the
// scan of 5 000 context rows and their indexes took 150 ms, 45% of the whole verify().
const SCAN_PAGE = 5_000;

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
}

/** One event whose signature is still to check. */
interface SignatureJob {
  e: BatonEvent;
  keys: string[];
  text: string;
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
  readonly #versions = new Map<string, number>();
  readonly #unknown: 'refuse' | 'signature';
  #ws: string | undefined;
  #jobs: SignatureJob[] = [];

  constructor(types: EventTypes, options: StoredEventsOptions) {
    this.#types = types;
    this.head = options.after;
    this.#fromStart = options.after.seq === 0;
    this.#versionOf = options.versionOf ?? (() => undefined);
    this.#unknown = options.unknownTypes ?? 'refuse';
  }

  /** Signatures queued and not yet checked. */
  get pending(): number {
    return this.#jobs.length;
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
    if (e.seq !== prev.seq + 1) {
      return fail(
        e.seq === prev.seq
          ? `seq ${e.seq} was read twice`
          : `event ${prev.seq + 1} is missing (the next one read is seq ${e.seq})`,
        prev.seq + 1,
      );
    }
    this.#ws ??= tx.workspace?.id ?? e.ws;
    const expectedPrev = e.seq === 1 ? this.#ws : prev.hash;
    if (e.prev !== expectedPrev) {
      return fail(
        e.seq === 1
          ? `prev is ${String(e.prev)}, not the workspace id ${this.#ws}`
          : `prev ${String(e.prev)} is not the hash of the event before (seq ${prev.seq}, hash ${prev.hash}): the events before it were replaced`,
      );
    }
    // Versions count each stream's events. A stream's first version after the starting point
    // cannot be known without its history, so only continuity is checked there.
    const known = this.#versions.get(e.stream) ?? this.#versionOf(e.stream);
    const expectedVersion = known !== undefined ? known + 1 : this.#fromStart ? 1 : undefined;
    if ((expectedVersion !== undefined && e.version !== expectedVersion) || !(e.version >= 1)) {
      return fail(
        `version ${e.version} is not the next of stream ${e.stream} (${expectedVersion ?? '≥ 1'})`,
      );
    }
    let text: string;
    try {
      text = signingText(e);
    } catch (err) {
      return fail((err as Error).message);
    }
    const own = eventHash(e, text);
    if (own !== e.hash)
      return fail(
        `hash does not match the event (it says ${String(e.hash)}, its content hashes to ${own})`,
      );
    let data: unknown;
    let keys: string[];
    let bodies: string[] = [];
    // A type this process does not know, or a newer version of one that changes no
    // authority (no `apply`), can only be followed, not judged.
    const def = typeof e.type === 'string' ? this.#types.get(parseType(e.type).name) : undefined;
    const opaque = !def || (parseType(e.type).version > def.version && !def.apply);
    try {
      if (opaque && this.#unknown === 'signature') {
        const ws = tx.workspace?.id;
        if (!ws || e.ws !== ws) return fail(`the event belongs to workspace ${e.ws}, not ${ws}`);
        keys = signingKeys(e, tx);
        this.#types.apply(e, tx, null);
      } else {
        const fields = signedFieldsOf(e);
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
    this.#jobs.push({ e, keys, text, blobs: bodies });
    this.#versions.set(e.stream, e.version);
    this.head = { seq: e.seq, hash: e.hash };
    this.count++;
    return { data };
  }

  /**
   * Checks the queued signatures (all in flight at once) and, through `extra`, anything
   * else per event (verify's bodies). Returns the first problem in seq order.
   */
  async flush(
    extra?: (job: SignatureJob) => Promise<Problem | undefined>,
  ): Promise<Problem | undefined> {
    const batch = this.#jobs;
    this.#jobs = [];
    const results = await Promise.all(
      batch.map(async (j): Promise<Problem | undefined> => {
        const bytes = utf8(j.text);
        let signed = false;
        for (const k of j.keys) {
          if (await verifySignature(k, j.e.sig, bytes).catch(() => false)) {
            signed = true;
            break;
          }
        }
        if (!signed) {
          return {
            seq: j.e.seq,
            id: j.e.id,
            reason: `bad signature (not by a current key of ${j.e.actor})`,
          };
        }
        return extra ? extra(j) : undefined;
      }),
    );
    return results.find((p) => p !== undefined);
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

/** The state a batch's events are admitted against: rows through `rows`, bodies given with the write first. */
export function stateReader(
  rows: ProjectionOverlay,
  view: ViewTx,
  given: readonly BlobWrite[],
  stored: (hash: string) => Promise<Uint8Array | undefined>,
): StateReader {
  return {
    view,
    get: (c, k) => rows.get(c, k),
    blob: async (h) => given.find((b) => b.hash === h)?.bytes ?? (await stored(h)),
  };
}

/**
 * Projection rows rebuilt from the log alone, in memory (what `rebuildProjections()` writes
 * and `verify()` compares with the stored rows): each event's state rules run against the
 * rows as rebuilt so far, then its projections are folded in. Holds every row — the
 * projections' size, not the log's.
 */
export class ProjectionRebuild {
  /** Rebuilt rows are read back from what is rebuilt so far, never from the stored rows. */
  readonly overlay = new ProjectionOverlay(async () => undefined);
  /** The seq of the last event that wrote each row, by `collection\0key`. */
  readonly writtenAt = new Map<string, number>();
  readonly #streams = new Map<string, number>();
  readonly #types: EventTypes;
  readonly #blob: (hash: string) => Promise<Uint8Array | undefined>;
  readonly #erased: (hash: string) => Promise<JsonValue | undefined>;

  /**
   * @param blob - Reads a stored body.
   * @param erased - The erasure of a body as the store holds it now: a body erased later in
   *   the log is gone already, so it must read as erased, not as missing. (`verify()` checks
   *   the stored erasure rows against the log apart.) Defaults to none.
   */
  constructor(
    types: EventTypes,
    blob: (hash: string) => Promise<Uint8Array | undefined>,
    erased: (hash: string) => Promise<JsonValue | undefined> = async () => undefined,
  ) {
    this.#types = types;
    this.#blob = blob;
    this.#erased = erased;
  }

  /** Folds in event `e` (already applied to `tx`, the view at its position): state rules, then rows. */
  async add(e: BatonEvent, data: unknown, tx: ViewTx): Promise<void> {
    const rebuilt = stateReader(this.overlay, tx, [], this.#blob);
    const state: StateReader = {
      ...rebuilt,
      get: async (c, k) =>
        (await this.overlay.get(c, k)) ?? (c === 'erasures' ? await this.#erased(k) : undefined),
    };
    await this.#types.admitState(e, state, data);
    for (const w of await this.#types.projectionsOf(e, this.overlay, data)) this.#put(w, e.seq);
    this.#streams.set(e.stream, e.version);
  }

  /** Folds in the view rows `tx` changed (identities, grants, workspace facts). */
  addView(tx: ViewTx): void {
    for (const w of tx.projectionWrites()) this.#put(w, tx.seq);
  }

  #put(w: ProjectionWrite, seq: number): void {
    this.overlay.put(w);
    this.writtenAt.set(`${w.collection}\u0000${w.key}`, seq);
  }

  /** Every rebuilt row (`value: null` for one deleted), the streams' versions included. */
  rows(): Map<string, ProjectionWrite> {
    const rows = new Map(this.overlay.writes);
    for (const [stream, version] of this.#streams)
      rows.set(`streams\u0000${stream}`, {
        collection: 'streams',
        key: stream,
        value: { version },
      });
    return rows;
  }
}

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
): Promise<VerifyReport> {
  let view = new AuthorityView();
  let start: Head = EMPTY_HEAD;
  const erased: ErasedBody[] = [];
  let checker = new StoredEvents(types, { after: start });
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
      checker = new StoredEvents(types, { after: start });
    }
  }
  // Stored rows can be compared only with rows rebuilt from the first event.
  const rebuild =
    start.seq === 0
      ? new ProjectionRebuild(
          types,
          (h) => store.blobs.get(h),
          (h) => store.get('erasures', h),
        )
      : undefined;

  // The head when verification starts: the denominator of progress (the log may grow meanwhile).
  const target = onProgress ? (await store.head()).seq : 0;
  const progress = () => {
    if (!onProgress) return;
    try {
      onProgress({
        seq: checker.head.seq,
        head: Math.max(target, checker.head.seq),
        events: checker.count,
      });
    } catch (err) {
      logger.error('verify: onProgress threw; ignoring it', { error: String(err) });
    }
  };
  const seenBlobs = new Set<string>();
  const bodies = async (j: SignatureJob): Promise<Problem | undefined> => {
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

  for await (const e of store.read({ after: start.seq })) {
    const tx = view.begin();
    const r = checker.step(e, tx, true);
    // Anything wrong earlier (a signature in the pending batch) is the first problem.
    if ('problem' in r) return report((await checker.flush(bodies)) ?? r.problem);
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
    if (checker.pending >= BATCH) {
      const p = await checker.flush(bodies);
      if (p) return report(p);
      progress();
    }
  }
  const last = await checker.flush(bodies);
  if (last) return report(last);
  progress();
  const read = checker.head;
  const head = await store.head();
  if (head.seq !== read.seq) {
    return report({
      seq: Math.min(head.seq, read.seq + 1),
      reason:
        head.seq > read.seq
          ? `the store's head is seq ${head.seq}, but the log read ends at seq ${read.seq}: events ${read.seq + 1}–${head.seq} are missing`
          : `the store's head is seq ${head.seq}, but the log read goes on to seq ${read.seq}`,
    });
  }
  if (head.hash !== read.hash) {
    return report({
      seq: head.seq,
      reason: `the store's head names hash ${head.hash} for seq ${head.seq}, but the event read at seq ${read.seq} has hash ${read.hash}`,
    });
  }
  if (rebuild) {
    const problem =
      (await compareRows(store, rebuild, collections, read)) ??
      (await checkIdempotency(store, read));
    if (problem) return report(problem);
  }
  return report();
}

/** The first place two JSON values differ, as `path: stored …, log …`. */
function difference(stored: unknown, rebuilt: unknown, path = ''): string | undefined {
  const show = (v: unknown) => (v === undefined ? 'absent' : JSON.stringify(v)?.slice(0, 120));
  const isObj = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (Array.isArray(stored) && Array.isArray(rebuilt)) {
    for (let i = 0; i < Math.max(stored.length, rebuilt.length); i++) {
      const d = difference(stored[i], rebuilt[i], `${path}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  if (isObj(stored) && isObj(rebuilt)) {
    for (const k of [...new Set([...Object.keys(stored), ...Object.keys(rebuilt)])].sort()) {
      const d = difference(stored[k], rebuilt[k], path ? `${path}.${k}` : k);
      if (d) return d;
    }
    return undefined;
  }
  if (
    stored !== undefined &&
    rebuilt !== undefined &&
    canonicalJson(stored as JsonValue) === canonicalJson(rebuilt as JsonValue)
  )
    return undefined;
  return `${path || 'the value'} is ${show(stored)} in the store, ${show(rebuilt)} by the log`;
}

/** Compares every stored row of the rebuilt collections with the rows the log makes. */
async function compareRows(
  store: Store,
  rebuild: ProjectionRebuild,
  collections: readonly string[],
  head: Head,
): Promise<Problem | undefined> {
  const rows = rebuild.rows();
  const names = new Set([...collections, ...[...rows.values()].map((w) => w.collection)]);
  const seen = new Set<string>();
  for (const c of [...names].sort()) {
    let after: string | undefined;
    do {
      const page = await store.query(c, PRIMARY_INDEX, {}, { limit: SCAN_PAGE, after });
      for (const row of page.items) {
        const k = `${c}\u0000${row.key}`;
        seen.add(k);
        const want = rows.get(k);
        if (!want || want.value === null) {
          return {
            seq: head.seq,
            row: `${c}/${row.key}`,
            reason: `stored row ${c}/${row.key} is not made by any event of the log (planted, or left behind)`,
          };
        }
        const d = difference(row.value, want.value);
        if (d) {
          return {
            seq: rebuild.writtenAt.get(k) ?? head.seq,
            row: `${c}/${row.key}`,
            reason: `stored row ${c}/${row.key} differs from the log: ${d}`,
          };
        }
      }
      after = page.next;
    } while (after);
  }
  for (const [k, w] of rows) {
    if (w.value === null || seen.has(k)) continue;
    return {
      seq: rebuild.writtenAt.get(k) ?? head.seq,
      row: `${w.collection}/${w.key}`,
      reason: `row ${w.collection}/${w.key}, made by the log, is missing from the store`,
    };
  }
  return compareIndexes(store, rows, head);
}

/**
 * Compares each secondary index the rebuilt rows have with the store's: the rows it lists,
 * in its order (index key, then row key). A planted, dropped or reordered entry shows.
 */
async function compareIndexes(
  store: Store,
  rows: Map<string, ProjectionWrite>,
  head: Head,
): Promise<Problem | undefined> {
  const byIndex = new Map<
    string,
    { collection: string; name: string; entries: [string, string][] }
  >();
  for (const w of rows.values()) {
    if (w.value === null) continue;
    for (const [name, keys] of Object.entries(w.indexes ?? {})) {
      const id = `${w.collection}\u0000${name}`;
      let index = byIndex.get(id);
      if (!index) {
        index = { collection: w.collection, name, entries: [] };
        byIndex.set(id, index);
      }
      for (const ik of Array.isArray(keys) ? keys : [keys]) index.entries.push([ik, w.key]);
    }
  }
  for (const { collection: c, name, entries } of [...byIndex.values()].sort((a, b) =>
    compareKeys(`${a.collection}\u0000${a.name}`, `${b.collection}\u0000${b.name}`),
  )) {
    entries.sort((x, y) => compareKeys(x[0], y[0]) || compareKeys(x[1], y[1]));
    let i = 0;
    let after: string | undefined;
    const mismatch = (stored: string | undefined): Problem => {
      const expected = entries[i]?.[1];
      return {
        seq: head.seq,
        row: `${c}/${stored ?? expected}`,
        reason: `the store's index "${name}" of ${c} does not match the log's rows at entry ${i + 1}: it lists ${stored ?? 'nothing more'}, the log's rows put ${expected ?? 'nothing'} there (an index entry was planted, removed or changed)`,
      };
    };
    do {
      const page = await store.query(c, name, {}, { limit: SCAN_PAGE, after });
      for (const row of page.items) {
        if (entries[i]?.[1] !== row.key) return mismatch(row.key);
        i++;
      }
      after = page.next;
    } while (after);
    if (i < entries.length) return mismatch(undefined);
  }
  return undefined;
}

/**
 * Checks each idempotency row names events the write path could have made for it: they
 * exist, are one actor's, and have ids derived from an idempotency key (not random ones,
 * which a row planted over an ordinary entry would name).
 */
async function checkIdempotency(store: Store, head: Head): Promise<Problem | undefined> {
  const derived = /^[a-z]+_[A-Za-z0-9_-]{22}$/;
  let after: string | undefined;
  do {
    const page = await store.query('idempotency', PRIMARY_INDEX, {}, { limit: SCAN_PAGE, after });
    for (const row of page.items) {
      const where = `idempotency/${row.key}`;
      const bad = (reason: string, seq = head.seq): Problem => ({
        seq,
        row: where,
        reason: `stored row ${where} ${reason}`,
      });
      const v = row.value as { digest?: unknown; events?: unknown };
      if (
        typeof v !== 'object' ||
        v === null ||
        typeof v.digest !== 'string' ||
        !Array.isArray(v.events) ||
        !v.events.every((id) => typeof id === 'string')
      )
        return bad('is not { digest, events } as the write path makes it');
      let actor: string | undefined;
      for (const id of v.events as string[]) {
        const e = await store.event(id);
        if (!e) return bad(`names event ${id}, which is not in the log`);
        if (!derived.test(id))
          return bad(`names event ${id}, whose id was not made from an idempotency key`, e.seq);
        if (actor !== undefined && e.actor !== actor)
          return bad(`names events of two actors (${actor}, ${e.actor})`, e.seq);
        actor = e.actor;
      }
    }
    after = page.next;
  } while (after);
  return undefined;
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

/** The event at `seq`, as the store holds it. */
async function eventAt(store: Store, seq: number): Promise<BatonEvent | undefined> {
  if (!(seq >= 1)) return undefined;
  for await (const e of store.read({ after: seq - 1, limit: 1 }))
    return e.seq === seq ? e : undefined;
  return undefined;
}

/** True when `e`'s hash is its own and `key` signed it. */
async function sound(e: BatonEvent, key: string): Promise<boolean> {
  try {
    const text = signingText(e);
    if (eventHash(e, text) !== e.hash) return false;
    return await verifySignature(key, e.sig, utf8(text)).catch(() => false);
  } catch {
    return false;
  }
}

// How many registrations a checkpoint signer's key may be traced through back to an owner.
const MAX_TRACE = 16;

/**
 * The newest checkpoint kept in the store (`checkpoint()` and `tick()` keep it under
 * {@link LATEST_CHECKPOINT_KEY}), with its authority-view snapshot — when it can be trusted
 * although whoever writes the store could have written it: its signature is valid; the
 * event at its seq has its hash; the snapshot matches its digest; and its signer's key is
 * registered in the log itself — an owner key of the bootstrap event at seq 1, or the key of
 * a service identity whose `identity.created` (or `identity.keyRotated`) event, read at its
 * seq with its hash and signature checked, was signed by a key traced back to an owner the
 * same way. Anything else is ignored with a warning (`undefined`), never an error.
 */
export async function trustedCheckpoint(
  store: Store,
  logger: Logger,
): Promise<{ checkpoint: Checkpoint; snapshot: ViewSnapshot } | undefined> {
  const raw = await store.kv.get(LATEST_CHECKPOINT_KEY);
  if (raw === undefined) return undefined;
  const ignore = (reason: string) => {
    logger.warn('ignoring the checkpoint kept in the store; replaying the whole log instead', {
      reason,
    });
    return undefined;
  };
  let value: unknown = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      return ignore('it is not JSON');
    }
  }
  const parsed = checkpointSchema.safeParse(value);
  if (!parsed.success) return ignore('it is not a checkpoint');
  const cp = parsed.data;
  const { sig, ...body } = cp;
  if (!(await verifySignature(cp.key, sig, utf8(checkpointText(body))).catch(() => false)))
    return ignore('its signature is not valid');
  const at = await eventAt(store, cp.seq);
  if (!at || at.hash !== cp.hash || at.ws !== cp.ws)
    return ignore(`the event at seq ${cp.seq} is not the one it signed`);
  const text = await store.kv.get(snapshotKey(cp.seq));
  if (typeof text !== 'string' || sha256b64(text) !== cp.view)
    return ignore('the snapshot kept with it is missing or does not match its digest');
  let snapshot: ViewSnapshot;
  try {
    snapshot = JSON.parse(text) as ViewSnapshot;
  } catch {
    return ignore('its snapshot is not JSON');
  }
  if (
    snapshot.seq !== cp.seq ||
    snapshot.workspace?.id !== cp.ws ||
    !Array.isArray(snapshot.identities)
  )
    return ignore('its snapshot is not of the checkpointed position');

  const boot = await eventAt(store, 1);
  const owners =
    boot && parseType(boot.type).name === 'workspace.bootstrapped' && boot.ws === cp.ws
      ? ((boot.data as { owners?: { id: string; key: string }[] }).owners ?? [])
      : [];
  const first = owners.find((o) => o.id === boot?.actor);
  if (!boot || boot.prev !== cp.ws || !first || !(await sound(boot, first.key)))
    return ignore('the bootstrap event at seq 1 does not check out');
  const identity = (id: string) => snapshot.identities.find((i) => i.id === id);
  /** The event that registered `key` for `id`, when it checks out: created or rotated to it. */
  const registration = async (id: string, key: string) => {
    const entry = identity(id)?.keys.find((k) => k.key === key);
    if (!entry) return undefined;
    for (const seq of [entry.since, entry.since - 1]) {
      const e = await eventAt(store, seq);
      if (!e || e.ws !== cp.ws) continue;
      const name = parseType(e.type).name;
      const d = e.data as { id?: unknown; key?: unknown; kind?: unknown };
      if (
        (name === 'identity.created' || name === 'identity.keyRotated') &&
        d.id === id &&
        d.key === key
      )
        return { e, kind: name === 'identity.created' ? d.kind : undefined };
    }
    return undefined;
  };
  const traced = async (id: string, key: string, depth: number): Promise<boolean> => {
    if (owners.some((o) => o.id === id && o.key === key)) return true;
    if (depth >= MAX_TRACE) return false;
    const reg = await registration(id, key);
    if (!reg) return false;
    const by = identity(reg.e.actor);
    const seq = reg.e.seq;
    for (const k of by?.keys ?? []) {
      if (k.since > seq || (k.until !== undefined && k.until < seq)) continue;
      if ((await sound(reg.e, k.key)) && (await traced(reg.e.actor, k.key, depth + 1))) return true;
    }
    return false;
  };
  let role = owners.some((o) => o.id === cp.by);
  if (!role) {
    const signer = identity(cp.by);
    const created = signer?.keys[0] && (await registration(cp.by, signer.keys[0].key));
    role = created !== undefined && created.kind === 'service';
  }
  if (!role || !(await traced(cp.by, cp.key, 0)))
    return ignore(
      `its signer ${cp.by} holds no key the log registers for an owner or a service identity`,
    );
  return { checkpoint: cp, snapshot };
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
