import { BatonError, ErrorCode, type KvValue, parseInput, type Store } from '@baton/core';
import type { RunnableConfig } from '@langchain/core/runnables';
import {
  BaseCheckpointSaver,
  type ChannelVersions,
  type Checkpoint,
  type CheckpointListOptions,
  type CheckpointMetadata,
  type CheckpointPendingWrite,
  type CheckpointTuple,
  compareWritesSortKeys,
  maxChannelVersion,
  type PendingWrite,
  type SerializerProtocol,
  TASKS,
  WRITES_IDX_MAP,
  writesSortKey,
} from '@langchain/langgraph-checkpoint';
import { z } from 'zod';
import { type JsonReader, jsonPlusReader } from './jsonPlusReader.js';
import {
  arrayElements,
  damaged,
  frame,
  isWellFormed,
  joinRuns,
  keyPart,
  sameBytes,
  sameJson,
  storeSchema,
  type Unframed,
  unframe,
} from './kvRecords.js';

/** Options of {@link BatonCheckpointSaver}. */
export interface BatonCheckpointSaverOptions {
  /**
   * The Baton store whose `kv` area holds the checkpoints — any `Store`, e.g.
   * `workspace.store`, a `MemoryStore` or a `SqliteStore`. Required.
   */
  store: Store;
  /**
   * How checkpoints, metadata, channel values and writes become bytes. Defaults to
   * LangGraph's `JsonPlusSerializer` (what every official saver uses).
   */
  serde?: SerializerProtocol;
}

/** Every key this saver writes starts with this, so other users of `kv` never collide. */
const PREFIX = 'lg/';
/** Separates a checkpoint's key from the task of a writes entry stored after it. */
const WRITES_MARK = '\u0001';
/**
 * JSON arrays at least this long (serialized) are stored in runs of elements, so the
 * elements a checkpoint shares with its parent — a growing message list — are stored once.
 * Below it, the whole value: a run's bookkeeping would cost more than it saves.
 */
const RUNS_FROM_BYTES = 1_024;
/**
 * Most runs one array value is kept in: a read gathers at most this many pieces. The
 * newest runs are merged into the new one while they would be more, and while the one
 * before it is no bigger than {@link MERGE_RATIO} of it: run sizes then fall geometrically
 * toward the end, so a list that grows by similar elements keeps 3–6 (bench L1, 20 steps:
 * 17.8 KB of message text stored per thread for a final list of 9 KB, where whole copies
 * would be 100 KB and 12 runs at most stored 16.4 KB; a checkpoint has 3.6 runs on average
 * and the latest 4, where 12 at most gave 5.6 and 7 — each one more record to get).
 */
const MAX_RUNS = 6;
/** See {@link MAX_RUNS}. */
const MERGE_RATIO = 0.75;
/**
 * Entries read in the first page when looking for the latest checkpoint (each further page
 * four times more): its writes come first in a reverse read (none once a run has finished,
 * one entry per task while it runs), then its record. The records holding its runs are
 * then got by key, all in one `kv.getMany`. On bench L1's data that beat a first page of 12
 * that brings some of them along (1.14× the official saver's latest getTuple against 1.19×,
 * one process, A/B): the cost follows the rows and bytes read, and most of those rows were
 * not needed.
 */
const LATEST_PAGE = 1;
/** Page size when walking keys (list, deleteThread, pending writes). */
const PAGE = 100;
/**
 * Bytes of record segments a saver holds for later reads (see `#held`): 4 MiB, the records of
 * a few hundred checkpoints of bench L1's size.
 */
const HELD_BYTES = 4 * 1024 * 1024;
/** Record headers a saver remembers of its own writes (a few hundred bytes each). */
const REMEMBERED = 256;

const serdeSchema = z.custom<SerializerProtocol>(
  (v) =>
    typeof v === 'object' &&
    v !== null &&
    typeof (v as SerializerProtocol).dumpsTyped === 'function' &&
    typeof (v as SerializerProtocol).loadsTyped === 'function',
  { message: 'must be a SerializerProtocol (dumpsTyped and loadsTyped)' },
);
const optionsSchema = z.object({ store: storeSchema, serde: serdeSchema.optional() });

const wellFormed = (what: string) =>
  z
    .string()
    .refine(isWellFormed, { message: `${what} must not contain a lone surrogate` })
    .refine((id) => !id.includes('\u0000') && !id.includes(WRITES_MARK), {
      message: `${what} must not contain U+0000 or U+0001`,
    });
const threadId = z.string().min(1);
const configurable = z.object({
  thread_id: threadId.optional(),
  checkpoint_ns: z.string().optional(),
  checkpoint_id: wellFormed('checkpoint_id').optional(),
  thread_ts: z.unknown().optional(),
});
const configSchema = z.object({ configurable: configurable.optional() });
/**
 * An object whose values are not looked into (channel values are the serializer's
 * business): checked in O(1), where `z.record` would walk and copy it on every put.
 */
const objectOf = z.custom<Record<string, unknown>>(
  (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
  { message: 'must be an object' },
);
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isVersions = (v: unknown): boolean =>
  isObject(v) && Object.values(v).every((x) => typeof x === 'number' || typeof x === 'string');
/**
 * Channel versions checked by one pass of plain code: `z.record` with a union per entry
 * cost a fifth of a put in the bench (it builds a copy of every map it checks).
 */
const versionsOf = z.custom<Record<string, string | number>>(isVersions, {
  message: 'must map channel names to versions (numbers or strings)',
});
const checkpointSchema = z.looseObject({
  v: z.number().int(),
  id: wellFormed('checkpoint.id').min(1),
  ts: z.string(),
  channel_values: objectOf,
  channel_versions: versionsOf,
  versions_seen: z.custom<Record<string, Record<string, string | number>>>(
    (v) => isObject(v) && Object.values(v).every(isVersions),
    { message: 'must map node names to channel versions' },
  ),
});
const metadataSchema = objectOf;
const versionsSchema = versionsOf;
const writesSchema = z.array(z.tuple([z.string(), z.unknown()]));
const taskIdSchema = z.string();
const taskPathSchema = z.string().optional();
/** True for writes {@link writesSchema} accepts, checked without copying them. */
const isWrites = (w: unknown): w is [string, unknown][] =>
  Array.isArray(w) &&
  w.every((x) => Array.isArray(x) && x.length === 2 && typeof x[0] === 'string');
const listOptionsSchema = z
  .object({
    limit: z.number().int().nonnegative().optional(),
    before: z.unknown().optional(),
    filter: z.record(z.string(), z.unknown()).optional(),
  })
  .optional();

/**
 * What a checkpoint record's header holds. Its segments are `[skeleton, metadata]` (the
 * skeleton: the checkpoint without channel values), serialized together as type `ct`, then
 * the values this checkpoint introduced.
 */
interface RecordHeader {
  t: string;
  n: string;
  id: string;
  p: string | null;
  ct: string;
  /**
   * channel → [version, serializer type, segment, holder]: the value is segment `segment`
   * of this record (holder `null`) or of the record of checkpoint `holder` — the one that
   * introduced that version (same thread and namespace).
   */
  ch: Record<string, ChannelRef>;
}
/**
 * Where a channel's value is: `[version, type, segment, holder]`, or, for a JSON array
 * stored in runs, `[version, type, -1, null, runs]`.
 */
type ChannelRef =
  | [string | number, string, number, string | null]
  | [string | number, string, number, null, Run[]];
/**
 * Consecutive elements of an array value, as text joined by commas: segment `segment` of
 * this record (holder `null`) or of checkpoint `holder`'s. Records of format 1 also carry
 * the run's element count and a hash of its text, which this version does not use.
 */
type Run = [holder: string | null, segment: number] | [string | null, number, number, string];
/** One task's writes against one checkpoint: [idx, channel, serializer type] per segment. */
interface WritesHeader {
  k: string;
  p: string;
  w: [number, string, string][];
}

// Stored headers are checked by plain code: they are read on every getTuple, are not
// public input, and a zod parse of them was a tenth of a read in the bench.
function isRecordHeader(h: Record<string, unknown>): h is Record<string, unknown> & RecordHeader {
  return (
    typeof h.t === 'string' &&
    typeof h.n === 'string' &&
    typeof h.id === 'string' &&
    (h.p === null || typeof h.p === 'string') &&
    typeof h.ct === 'string' &&
    isObject(h.ch) &&
    Object.values(h.ch).every(
      (r) =>
        Array.isArray(r) &&
        (r.length === 4 || (r.length === 5 && Array.isArray(r[4]) && r[4].every(isRun))) &&
        (typeof r[0] === 'number' || typeof r[0] === 'string') &&
        typeof r[1] === 'string' &&
        Number.isInteger(r[2]) &&
        (r[3] === null || typeof r[3] === 'string'),
    )
  );
}

function isRun(r: unknown): boolean {
  return (
    Array.isArray(r) &&
    (r.length === 2 || (r.length === 4 && Number.isInteger(r[2]) && typeof r[3] === 'string')) &&
    (r[0] === null || typeof r[0] === 'string') &&
    Number.isInteger(r[1])
  );
}

function isWritesHeader(h: Record<string, unknown>): h is Record<string, unknown> & WritesHeader {
  return (
    typeof h.k === 'string' &&
    typeof h.p === 'string' &&
    Array.isArray(h.w) &&
    h.w.every(
      (r) =>
        Array.isArray(r) &&
        r.length === 3 &&
        Number.isInteger(r[0]) &&
        typeof r[1] === 'string' &&
        typeof r[2] === 'string',
    )
  );
}
interface StoredWrite {
  task: string;
  path: string;
  idx: number;
  channel: string;
  type: string;
  bytes: Uint8Array;
}

interface Loaded {
  header: RecordHeader;
  segments: Uint8Array[];
}

interface Found {
  loaded: Loaded;
  writes: StoredWrite[];
  /** Records read along with it (same page), by checkpoint id: holders found for free. */
  nearby?: Map<string, Uint8Array[]>;
}

/**
 * A LangGraph checkpointer on a Baton store's `kv` area: memory and SQLite now, every
 * other Baton store as it lands. Passes the official `@langchain/langgraph-checkpoint-validation`
 * suite on `MemoryStore` and `SqliteStore`.
 *
 * @remarks
 * Each channel value is stored once per (thread, namespace, channel, version), as the
 * official Postgres saver's per-version blobs are: a checkpoint's record holds the values
 * it introduced (the channels in `newVersions`), and a channel whose version did not
 * change since the parent checkpoint points at the record that holds that version — so a
 * value that did not change between checkpoints is stored once, and a checkpoint with its
 * new values is one kv write. Forks stay apart (a pointer names the record, not just the
 * version). A JSON array of 1 KB or more (a growing message list) goes further: it is
 * kept in runs of elements, and the elements a checkpoint shares with its parent (the
 * same bytes) are not stored again; the newest runs are merged as the list grows, so a
 * value is in at most 6 runs (about 4 for a list that grows by similar elements), and a
 * read gathers at most 6 pieces. One task's writes against a checkpoint are one kv entry,
 * keyed right after the checkpoint. Keys are laid out per thread and namespace with
 * checkpoint ids last, so the latest checkpoint with its writes is one short reverse range
 * read (then one `kv.getMany` of the records holding its runs, unless the saver holds them:
 * it keeps up to 4 MiB of the records it wrote or read last), and `list` reads only the
 * thread (or namespace) asked for. With LangGraph's stock `JsonPlusSerializer`, JSON is read
 * with one synchronous walk that hands the same objects to the same `load`: the same values
 * with less work (its own walk awaits once per object entry).
 * `deleteThread` deletes every checkpoint and write of the thread, in every namespace.
 *
 * Every input is checked first; a bad config (a non-string `thread_id`, a missing
 * `checkpoint_id` for writes) throws `BatonError` `VALIDATION`, and a record written by a
 * newer `@baton/langgraph` throws `INVALID_STATE` (upgrade to read it) — in both cases
 * before anything is written. Thread ids, namespaces and task ids may be any string (they
 * are escaped in keys); checkpoint ids may not hold lone surrogates, U+0000 or U+0001.
 *
 * @example
 * ```ts
 * import { BatonCheckpointSaver } from '@baton/langgraph';
 * const checkpointer = new BatonCheckpointSaver({ store: workspace.store });
 * const graph = builder.compile({ checkpointer });
 * await graph.invoke(input, { configurable: { thread_id: 'review-42' } });
 * ```
 */
export class BatonCheckpointSaver extends BaseCheckpointSaver {
  readonly #kv: Store['kv'];
  readonly #locks = new Map<string, Promise<void>>();
  /**
   * Headers of the records this saver wrote last, by key: a put's parent is nearly always
   * the checkpoint the same saver put just before, and reading it back (values and all)
   * was a fifth of a put's time in the bench. Only this saver's own writes go in, so an
   * entry is what the store holds unless another process overwrote the same checkpoint id.
   */
  readonly #written = new Recent<RecordHeader>(REMEMBERED);
  /**
   * Segments of the checkpoint records this saver wrote or read as holders last, by key,
   * at most {@link HELD_BYTES} of them: a checkpoint takes its unchanged values (a message
   * list's older runs) from records before it, so a read, and a put comparing its list with
   * its parent's runs, finds them here instead of in the store. A checkpoint id names one
   * checkpoint for good, as LangGraph makes them (ids are uuid6), so a record held is the one
   * the store has — as {@link #written} assumes too.
   */
  readonly #held = new Recent<Uint8Array[]>(HELD_BYTES, sizeOf);
  /** The JSON reader of the serializer in `serde` ({@link jsonPlusReader}), made on first use. */
  #reader: { serde: SerializerProtocol; read: JsonReader | undefined } | undefined;

  /**
   * @param options - The store to keep checkpoints in, and optionally a serializer.
   * @throws BatonError `VALIDATION` when `store` is not a Baton store or `serde` not a serializer.
   */
  constructor(options: BatonCheckpointSaverOptions) {
    const o = parseInput(optionsSchema, options, 'new BatonCheckpointSaver(options)');
    super(o.serde);
    this.#kv = o.store.kv;
  }

  /**
   * The checkpoint `config` names (its `checkpoint_id`), or the thread's latest in its
   * namespace, with its metadata, parent and pending writes; `undefined` when there is none
   * or `config` names no thread.
   *
   * @throws BatonError `VALIDATION` for a malformed config, `INVALID_STATE` for a record a
   *   newer version wrote.
   */
  async getTuple(config: RunnableConfig): Promise<CheckpointTuple | undefined> {
    const c = parseConfig(config, 'BatonCheckpointSaver.getTuple(config)');
    const thread = c.configurable?.thread_id;
    if (thread === undefined) return undefined;
    const ns = c.configurable?.checkpoint_ns ?? '';
    const id = c.configurable?.checkpoint_id || stringOrEmpty(c.configurable?.thread_ts);
    const found = id
      ? await this.#one(checkpointKey(thread, ns, id))
      : await this.#latest(thread, ns);
    if (found === undefined) return undefined;
    const tuple = await this.#tuple(found);
    // Keep the caller's config when it named the checkpoint, as the official savers do.
    if (id) tuple.config = config;
    return tuple;
  }

  /**
   * The checkpoints `config` selects, newest first within a thread and namespace: of one
   * thread (or all, without `thread_id`), of one namespace (or all, without
   * `checkpoint_ns`).
   *
   * @param options - `limit` (default: all), `before` (only ids below its `checkpoint_id`),
   *   `filter` (metadata entries that must be equal; `undefined` values are ignored).
   * @throws BatonError `VALIDATION` for a malformed config or options.
   */
  async *list(
    config: RunnableConfig,
    options?: CheckpointListOptions,
  ): AsyncGenerator<CheckpointTuple> {
    const c = parseConfig(config, 'BatonCheckpointSaver.list(config)');
    const o = parseInput(listOptionsSchema, options, 'BatonCheckpointSaver.list(options)') ?? {};
    const thread = c.configurable?.thread_id;
    const ns = c.configurable?.checkpoint_ns;
    const onlyId = c.configurable?.checkpoint_id;
    const before =
      o.before === undefined
        ? undefined
        : parseConfig(o.before, 'BatonCheckpointSaver.list(options.before)').configurable
            ?.checkpoint_id;
    const filter = Object.entries(o.filter ?? {}).filter(([, v]) => v !== undefined);
    let remaining = o.limit ?? Number.POSITIVE_INFINITY;
    if (remaining <= 0) return;
    const prefix =
      thread === undefined
        ? `${PREFIX}c/`
        : ns === undefined
          ? `${PREFIX}c/${keyPart(thread)}/`
          : checkpointPrefix(thread, ns);
    for await (const found of this.#scan(prefix, PAGE)) {
      const { loaded } = found;
      const h = loaded.header;
      if (ns !== undefined && h.n !== ns) continue;
      if (onlyId && h.id !== onlyId) continue;
      if (before !== undefined && !(h.id < before)) continue;
      if (filter.length > 0) {
        const [, metadata] = (await this.#loads(h.ct, loaded.segments[0]!)) as [
          unknown,
          Record<string, unknown>,
        ];
        if (!filter.every(([k, v]) => sameJson(metadata?.[k], v))) continue;
      }
      yield await this.#tuple(found);
      if (--remaining <= 0) return;
    }
  }

  /**
   * Saves a checkpoint under `config`'s thread and namespace, its parent being
   * `config`'s `checkpoint_id`. Only the channels in `newVersions` are written; the others
   * keep the value the parent checkpoint has for the same version.
   *
   * @returns The config of the saved checkpoint (`thread_id`, `checkpoint_ns`, `checkpoint_id`).
   * @throws BatonError `VALIDATION` for a config without `thread_id` or a malformed
   *   checkpoint; `INVALID_STATE` when the parent or the checkpoint itself was written by a
   *   newer version. Nothing is written then.
   */
  async put(
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    newVersions: ChannelVersions,
  ): Promise<RunnableConfig> {
    const where = 'BatonCheckpointSaver.put';
    const c = parseConfig(config, `${where}(config)`);
    const thread = c.configurable?.thread_id;
    if (c.configurable === undefined || thread === undefined) throw missing(where, 'thread_id');
    // The common case by plain code, as parseConfig does; anything else through the schemas.
    const cp = looksLikeCheckpoint(checkpoint)
      ? (checkpoint as z.infer<typeof checkpointSchema>)
      : parseInput(checkpointSchema, checkpoint, `${where}(checkpoint)`);
    if (!isObject(metadata)) parseInput(metadataSchema, metadata, `${where}(metadata)`);
    const versions = isVersions(newVersions)
      ? (newVersions as Record<string, string | number>)
      : parseInput(versionsSchema, newVersions, `${where}(newVersions)`);
    const ns = c.configurable.checkpoint_ns ?? '';
    const parentId = c.configurable.checkpoint_id || undefined;
    const key = checkpointKey(thread, ns, cp.id);

    const parentKey = parentId === undefined ? undefined : checkpointKey(thread, ns, parentId);
    const cached = parentKey === undefined ? undefined : this.#written.get(parentKey);
    const parentValue =
      parentKey === undefined || cached !== undefined ? undefined : await this.#kv.get(parentKey);
    // Throws when a newer version wrote the parent, before anything is written.
    const stored = parentValue === undefined ? undefined : decodeRecord(parentValue);
    const parent = cached ?? stored?.header;

    const { channel_values: values, ...rest } = cp;
    const refs: RecordHeader['ch'] = {};
    // Unchanged channels point at the record that holds their version's value.
    const inherited: RecordHeader['ch'] = {};
    for (const [channel, ref] of Object.entries(parent?.ch ?? {})) {
      inherited[channel] = fromParent(ref, parentId!);
      if (!(channel in versions) && cp.channel_versions[channel] === ref[0]) {
        refs[channel] = inherited[channel]!;
      }
    }
    // Arrays last: the longest value is then the one part not scanned (see #dumpParts).
    const changed = Object.keys(versions)
      .filter((ch) => values[ch] !== undefined)
      .sort((a, b) => Number(Array.isArray(values[a])) - Number(Array.isArray(values[b])));
    const [[ct, head], ...encoded] = (await this.#dumpParts([
      [{ ...rest, channel_values: {} }, metadata],
      ...changed.map((ch) => values[ch]),
    ])) as [[string, Uint8Array], ...[string, Uint8Array][]];
    const segments = [head];
    for (const [i, channel] of changed.entries()) {
      const [type, bytes] = encoded[i]!;
      if (!isArrayText(type, bytes)) {
        refs[channel] = [versions[channel]!, type, segments.length, null];
        segments.push(bytes);
        continue;
      }
      const from = inherited[channel]?.[4];
      const parentTexts =
        from === undefined
          ? undefined
          : (this.#heldRunTexts(thread, ns, from) ??
            (await this.#runTexts(thread, ns, from, parentId!, stored?.segments)));
      const runs = runsFor(bytes, from ?? [], parentTexts ?? [], segments);
      refs[channel] = [versions[channel]!, type, -1, null, runs];
    }
    // One write: the checkpoint and the values it introduced land together or not at all.
    const header: RecordHeader = {
      t: thread,
      n: ns,
      id: cp.id,
      p: parentId ?? null,
      ct,
      ch: refs,
    };
    const value = frame(header, segments);
    await this.#kv.put(key, value);
    this.#written.set(key, header);
    this.#held.set(key, framedSegments(value, segments));
    return { configurable: { thread_id: thread, checkpoint_ns: ns, checkpoint_id: cp.id } };
  }

  /**
   * `parts` serialized each on its own, as `[type, bytes]`. When the serializer makes JSON
   * of them all, in one call: the array of them, cut into its elements (each call has a
   * fixed cost — bench L1's put made three); otherwise (bytes, another type) one call each.
   */
  async #dumpParts(parts: unknown[]): Promise<[string, Uint8Array][]> {
    if (parts.length > 1 && !parts.some((p) => p instanceof Uint8Array)) {
      const [type, bytes] = await this.serde.dumpsTyped(parts);
      const texts = type === 'json' ? arrayElements(bytes, parts.length) : undefined;
      if (texts !== undefined) return texts.map((t) => ['json', t]);
    }
    return Promise.all(parts.map((p) => this.serde.dumpsTyped(p)));
  }

  /**
   * Saves writes of task `taskId` against the checkpoint `config` names. A regular write
   * already stored at the same index is kept; the special channels (errors, interrupts,
   * scheduled, resume) have fixed negative indexes and are overwritten.
   *
   * @param taskPath - The task's path, by which `pendingWrites` are ordered. Defaults to `""`.
   * @throws BatonError `VALIDATION` for a config without `thread_id` or `checkpoint_id`, or
   *   malformed writes. Nothing is written then.
   */
  async putWrites(
    config: RunnableConfig,
    writes: PendingWrite[],
    taskId: string,
    taskPath?: string,
  ): Promise<void> {
    const where = 'BatonCheckpointSaver.putWrites';
    const c = parseConfig(config, `${where}(config)`);
    const thread = c.configurable?.thread_id;
    const id = c.configurable?.checkpoint_id;
    if (thread === undefined) throw missing(where, 'thread_id');
    if (!id) throw missing(where, 'checkpoint_id');
    // The common case by plain code (a zod parse copies every write); the schemas name the
    // bad field otherwise.
    const w = isWrites(writes) ? writes : parseInput(writesSchema, writes, `${where}(writes)`);
    const task =
      typeof taskId === 'string' ? taskId : parseInput(taskIdSchema, taskId, `${where}(taskId)`);
    const path =
      typeof taskPath === 'string'
        ? taskPath
        : (parseInput(taskPathSchema, taskPath, `${where}(taskPath)`) ?? '');
    const ns = c.configurable?.checkpoint_ns ?? '';
    const key = writesKey(thread, ns, id, task);
    const encoded = await Promise.all(w.map(([, value]) => this.serde.dumpsTyped(value)));
    await this.#locked(key, async () => {
      const before = await this.#kv.get(key);
      const stored = before === undefined ? [] : decodeWrites(before);
      const byIdx = new Map(stored.map((x) => [x.idx, x]));
      w.forEach(([channel], i) => {
        const idx = WRITES_IDX_MAP[channel] ?? i;
        // A regular write already stored at its index is kept; special channels overwrite.
        if (idx >= 0 && byIdx.has(idx)) return;
        const [type, bytes] = encoded[i]!;
        byIdx.set(idx, { task, path, idx, channel, type, bytes });
      });
      const all = [...byIdx.values()];
      const header: WritesHeader = {
        k: task,
        p: path,
        w: all.map((x) => [x.idx, x.channel, x.type]),
      };
      await this.#kv.put(
        key,
        frame(
          header,
          all.map((x) => x.bytes),
        ),
      );
    });
  }

  /**
   * Runs `fn` after every earlier call for the same key in this saver has settled: the
   * read-modify-write of one task's writes must not interleave with another for that task.
   */
  async #locked(key: string, fn: () => Promise<void>): Promise<void> {
    const prev = this.#locks.get(key) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.#locks.set(key, settled);
    try {
      await run;
    } finally {
      if (this.#locks.get(key) === settled) this.#locks.delete(key);
    }
  }

  /**
   * Deletes every checkpoint, pending write and channel value of the thread, in every
   * namespace. Deleting a thread that has none is a no-op.
   *
   * @throws BatonError `VALIDATION` when `threadId` is not a non-empty string.
   */
  async deleteThread(threadId: string): Promise<void> {
    const thread = parseInput(
      threadIdSchema,
      threadId,
      'BatonCheckpointSaver.deleteThread(threadId)',
    );
    this.#written.clear();
    this.#held.clear();
    const prefix = `${PREFIX}c/${keyPart(thread)}/`;
    for (;;) {
      const page = await this.#kv.list(prefix, { limit: PAGE });
      if (page.items.length === 0) break;
      for (const item of page.items) await this.#kv.delete(item.key);
    }
  }

  /**
   * Checkpoint records under `prefix`, newest key first, each with the writes stored
   * against it — which sort right after it (see {@link writesKey}), so one range read
   * returns both.
   */
  async *#scan(prefix: string, limit: number): AsyncGenerator<Found> {
    let pending: { key: string; writes: StoredWrite[] }[] = [];
    let after: string | undefined;
    do {
      const page = await this.#kv.list(prefix, { reverse: true, limit, after });
      after = page.next;
      const entries = page.items.map((item) => ({ key: item.key, entry: decodeEntry(item.value) }));
      const nearby = new Map<string, Uint8Array[]>();
      for (const { entry } of entries) {
        if (entry.kind === 'record') nearby.set(entry.loaded.header.id, entry.loaded.segments);
      }
      for (const { key, entry } of entries) {
        if (entry.kind === 'writes') {
          pending.push({ key, writes: entry.writes });
          continue;
        }
        const mark = key + WRITES_MARK;
        const writes = pending.filter((p) => p.key.startsWith(mark)).flatMap((p) => p.writes);
        // Writes left over belong to no checkpoint (putWrites against a missing one).
        pending = [];
        yield { loaded: entry.loaded, writes, nearby };
      }
    } while (after !== undefined);
  }

  /**
   * The latest checkpoint of a thread's namespace: a short reverse range read that ends at
   * its record (its writes, keyed after it, come first), then {@link #values} gets the
   * records holding its runs by key (one `kv.getMany`). Only the entries used are decoded.
   */
  async #latest(thread: string, ns: string): Promise<Found | undefined> {
    const prefix = checkpointPrefix(thread, ns);
    const writes: { key: string; value: KvValue }[] = [];
    let after: string | undefined;
    let limit = LATEST_PAGE;
    do {
      const page = await this.#kv.list(prefix, { reverse: true, limit, after });
      after = page.next;
      limit = Math.min(PAGE, limit * 4);
      for (const item of page.items) {
        // Checkpoint ids hold no WRITES_MARK: a key with one past the prefix is writes.
        if (item.key.includes(WRITES_MARK, prefix.length)) {
          writes.push(item);
          continue;
        }
        const mark = item.key + WRITES_MARK;
        const own = writes
          .filter((w) => w.key.startsWith(mark))
          .flatMap((w) => decodeWrites(w.value));
        return { loaded: decodeRecord(item.value), writes: own };
      }
    } while (after !== undefined);
    return undefined;
  }

  /** The checkpoint stored under `key`, with its writes: one forward range read. */
  async #one(key: string): Promise<Found | undefined> {
    const mark = key + WRITES_MARK;
    let loaded: Loaded | undefined;
    const writes: StoredWrite[] = [];
    let after: string | undefined;
    do {
      const page = await this.#kv.list(key, { limit: PAGE, after });
      after = page.next;
      for (const item of page.items) {
        // Longer ids that start with this one share the prefix: skip them.
        if (item.key !== key && !item.key.startsWith(mark)) continue;
        const entry = decodeEntry(item.value);
        if (entry.kind === 'writes') writes.push(...entry.writes);
        else loaded = entry.loaded;
      }
    } while (after !== undefined);
    return loaded === undefined ? undefined : { loaded, writes };
  }

  /**
   * The texts of the runs `runs` (holders named, as {@link fromParent} makes them) when every
   * record holding them is held — the common case of a put after the same saver's last —
   * without an await; else `undefined`.
   */
  #heldRunTexts(thread: string, ns: string, runs: Run[]): Uint8Array[] | undefined {
    const texts: Uint8Array[] = [];
    for (const [holder, segment] of runs) {
      const held = this.#held.get(checkpointKey(thread, ns, holder!));
      if (held === undefined) return undefined;
      texts.push(segmentOf(held, segment));
    }
    return texts;
  }

  /**
   * The texts of the runs `runs` (holders named, as {@link fromParent} makes them), from the
   * records held or, for a parent this saver did not write or read lately, from the store.
   */
  async #runTexts(
    thread: string,
    ns: string,
    runs: Run[],
    parentId: string,
    parentSegments: Uint8Array[] | undefined,
  ): Promise<Uint8Array[]> {
    const nearby = new Map<string, Uint8Array[]>();
    if (parentSegments !== undefined) nearby.set(parentId, parentSegments);
    const holders = await this.#holders(
      thread,
      ns,
      parentId,
      runs.map((r) => r[0]),
      nearby,
    );
    return runs.map((r) => segmentOf(holders.get(r[0]!)!, r[1]));
  }

  async #tuple({ loaded, writes, nearby }: Found): Promise<CheckpointTuple> {
    const h = loaded.header;
    const channels = Object.entries(h.ch);
    const bytes = await this.#values(loaded, nearby);
    const pendingWrites = writes.length === 0 ? [] : await this.#loadWrites(writes);
    const types = channels.map(([, ref]) => ref[1]);
    let loadedValues: unknown[];
    if (h.ct === 'json' && types.every((t) => t === 'json')) {
      // All JSON: one array of them, one deserialization (each call has a fixed cost of
      // its own — a twentieth of a read in the bench).
      loadedValues = (await this.#loads(
        'json',
        joinRuns([loaded.segments[0]!, ...bytes]),
      )) as unknown[];
    } else {
      loadedValues = await Promise.all([
        this.#loads(h.ct, loaded.segments[0]!),
        ...bytes.map((b, i) => this.#loads(types[i]!, b instanceof Uint8Array ? b : joinRuns(b))),
      ]);
    }
    const [[skeleton, metadata], ...values] = loadedValues as [
      [Checkpoint, CheckpointMetadata],
      ...unknown[],
    ];
    const checkpoint: Checkpoint = { ...skeleton, channel_values: {} };
    channels.forEach(([channel], i) => {
      checkpoint.channel_values[channel] = values[i];
    });
    if (checkpoint.v < 4 && h.p !== null) await this.#migratePendingSends(checkpoint, h);
    const tuple: CheckpointTuple = {
      config: { configurable: { thread_id: h.t, checkpoint_ns: h.n, checkpoint_id: h.id } },
      checkpoint,
      metadata,
      pendingWrites: pendingWrites.map(
        (w) => [w.task, w.channel, w.value] as CheckpointPendingWrite,
      ),
    };
    if (h.p !== null) {
      tuple.parentConfig = {
        configurable: { thread_id: h.t, checkpoint_ns: h.n, checkpoint_id: h.p },
      };
    }
    return tuple;
  }

  /**
   * The serialized channel values of a checkpoint, in `header.ch` order (a value kept in
   * runs as the texts of its runs, for {@link joinRuns}), from its record and the records
   * holding them.
   */
  async #values(
    loaded: Loaded,
    nearby?: Map<string, Uint8Array[]>,
  ): Promise<(Uint8Array | Uint8Array[])[]> {
    const h = loaded.header;
    const refs = Object.values(h.ch);
    const ids: (string | null)[] = [];
    for (const ref of refs) {
      ids.push(ref[3]);
      for (const run of ref[4] ?? []) ids.push(run[0]);
    }
    const holders = await this.#holders(h.t, h.n, h.id, ids, nearby);
    const segment = (holder: string | null, at: number) =>
      segmentOf(holder === null ? loaded.segments : holders.get(holder)!, at);
    return refs.map((ref) => {
      const runs = ref[4];
      return runs === undefined ? segment(ref[3], ref[2]) : runs.map((r) => segment(r[0], r[1]));
    });
  }

  /**
   * The segments of the records `ids` name (`null`: none), from `nearby` or got by key, all
   * in one `kv.getMany` (one statement on SQLite, one promise: LangGraph's async context
   * tracking makes each promise cost).
   */
  async #holders(
    thread: string,
    ns: string,
    of: string,
    ids: (string | null)[],
    nearby?: Map<string, Uint8Array[]>,
  ): Promise<Map<string, Uint8Array[]>> {
    const holders = new Map<string, Uint8Array[]>();
    const missing: string[] = [];
    for (const id of ids) {
      if (id === null || holders.has(id) || missing.includes(id)) continue;
      const near = nearby?.get(id) ?? this.#held.get(checkpointKey(thread, ns, id));
      if (near === undefined) missing.push(id);
      else holders.set(id, near);
    }
    if (missing.length === 0) return holders;
    const got = await this.#kv.getMany(missing.map((id) => checkpointKey(thread, ns, id)));
    got.forEach((v, i) => {
      if (v === undefined) {
        throw new BatonError(
          ErrorCode.INTEGRITY,
          `Checkpoint ${of} of thread ${JSON.stringify(thread)} takes channel values from checkpoint ${missing[i]}, which is not in the store (deleted under it?). Delete the thread with deleteThread() or restore the store from a backup.`,
        );
      }
      // Only its segments are used: its header is not checked beyond the framing.
      const { segments } = unframe(v, 'A checkpoint record');
      holders.set(missing[i]!, segments);
      this.#held.set(checkpointKey(thread, ns, missing[i]!), segments);
    });
    return holders;
  }

  /**
   * `this.serde.loadsTyped(type, bytes)`; JSON of the stock serializer through
   * {@link jsonPlusReader}, which gives the same values with less work.
   */
  #loads(type: string, bytes: Uint8Array): Promise<unknown> {
    if (type !== 'json') return this.serde.loadsTyped(type, bytes);
    // `serde` is a public field of BaseCheckpointSaver: the reader follows it if replaced.
    if (this.#reader?.serde !== this.serde) {
      this.#reader = { serde: this.serde, read: jsonPlusReader(this.serde) };
    }
    return this.#reader.read?.(bytes) ?? this.serde.loadsTyped(type, bytes);
  }

  /** Checkpoints before format 4 kept pending sends as writes of the parent: move them in. */
  async #migratePendingSends(checkpoint: Checkpoint, h: RecordHeader): Promise<void> {
    const parent = await this.#one(checkpointKey(h.t, h.n, h.p!));
    const sends = (await this.#loadWrites(parent?.writes ?? [])).filter((w) => w.channel === TASKS);
    checkpoint.channel_values[TASKS] = sends.map((w) => w.value);
    const versions = Object.values(checkpoint.channel_versions);
    checkpoint.channel_versions[TASKS] =
      versions.length > 0 ? maxChannelVersion(...versions) : this.getNextVersion(undefined);
  }

  /** Writes deserialized, in `writesSortKey` order. */
  async #loadWrites(found: StoredWrite[]) {
    found.sort((a, b) =>
      compareWritesSortKeys(
        writesSortKey(a.path, a.task, a.idx),
        writesSortKey(b.path, b.task, b.idx),
      ),
    );
    return Promise.all(
      found.map(async (w) => ({ ...w, value: await this.#loads(w.type, w.bytes) })),
    );
  }
}

const threadIdSchema = threadId;

/**
 * The fields of a `RunnableConfig` the saver reads, picked out before parsing: LangGraph's
 * configs carry large internal objects (callbacks, the checkpointer, scratchpads) that an
 * object schema would walk and copy on every call — a third of a put's time in the bench.
 */
function pickConfig(config: unknown): unknown {
  if (typeof config !== 'object' || config === null) return config;
  const c = (config as { configurable?: unknown }).configurable;
  if (typeof c !== 'object' || c === null) return { configurable: c };
  const { thread_id, checkpoint_ns, checkpoint_id, thread_ts } = c as Record<string, unknown>;
  return { configurable: { thread_id, checkpoint_ns, checkpoint_id, thread_ts } };
}

type ParsedConfig = z.infer<typeof configSchema>;

/** Ids of the shape LangGraph makes (uuid6) and the like: no check beyond this needed. */
const PLAIN_ID = /^[\w.:-]*$/;

/** True for a checkpoint {@link checkpointSchema} accepts, checked without copying it. */
function looksLikeCheckpoint(cp: unknown): boolean {
  if (!isObject(cp)) return false;
  const { v, id, ts, channel_values, channel_versions, versions_seen } = cp;
  return (
    Number.isInteger(v) &&
    typeof id === 'string' &&
    id !== '' &&
    PLAIN_ID.test(id) &&
    typeof ts === 'string' &&
    isObject(channel_values) &&
    isVersions(channel_versions) &&
    isObject(versions_seen) &&
    Object.values(versions_seen).every(isVersions)
  );
}

/**
 * The picked config, checked. The common case — strings where strings go — is checked by
 * plain code (the zod parse cost a twentieth of a read in the bench); anything else goes
 * through the schema, which refuses it with a message naming the field.
 */
function parseConfig(config: unknown, where: string): ParsedConfig {
  const picked = pickConfig(config) as { configurable?: Record<string, unknown> } | undefined;
  const c = picked?.configurable;
  if (
    typeof picked === 'object' &&
    picked !== null &&
    (c === undefined ||
      ((c.thread_id === undefined || (typeof c.thread_id === 'string' && c.thread_id !== '')) &&
        (c.checkpoint_ns === undefined || typeof c.checkpoint_ns === 'string') &&
        (c.checkpoint_id === undefined ||
          (typeof c.checkpoint_id === 'string' && PLAIN_ID.test(c.checkpoint_id)))))
  ) {
    return picked as ParsedConfig;
  }
  return parseInput(configSchema, picked, where);
}

/** A parent's channel reference as its child sees it: "this record" becomes the parent. */
function fromParent(ref: ChannelRef, parentId: string): ChannelRef {
  const runs = ref[4];
  if (runs === undefined) return [ref[0], ref[1], ref[2], ref[3] ?? parentId];
  return [ref[0], ref[1], -1, null, runs.map(([holder, seg]) => [holder ?? parentId, seg])];
}

/** True for a serialized JSON array long enough to be stored in runs. */
function isArrayText(type: string, bytes: Uint8Array): boolean {
  return (
    type === 'json' &&
    bytes.length >= RUNS_FROM_BYTES &&
    bytes[0] === 0x5b &&
    bytes[bytes.length - 1] === 0x5d
  );
}

/**
 * The runs of a JSON array value: the parent's runs (`parent`, whose texts are
 * `parentTexts`) it starts with, byte for byte and each ending where one of its elements
 * does, then one new run of the rest, stored in `segments`. The newest kept runs are
 * merged into the new one as {@link MAX_RUNS} says. Every run boundary is one the first
 * run's whole-array text began with, so it falls between two elements.
 */
function runsFor(
  bytes: Uint8Array,
  parent: Run[],
  parentTexts: Uint8Array[],
  segments: Uint8Array[],
): Run[] {
  const end = bytes.length - 1;
  const runs: Run[] = [];
  const texts: Uint8Array[] = [];
  let at = 1;
  for (const [i, text] of parentTexts.entries()) {
    const stop = at + text.length;
    if (stop > end || (stop < end && bytes[stop] !== 0x2c)) break;
    if (!sameBytes(text, bytes.subarray(at, stop))) break;
    runs.push(parent[i]!);
    texts.push(text);
    at = stop + 1;
  }
  if (at >= end) return runs;
  while (
    texts.length > 0 &&
    (texts.length >= MAX_RUNS || texts.at(-1)!.length <= MERGE_RATIO * (end - at))
  ) {
    at -= texts.pop()!.length + 1;
    runs.pop();
  }
  const text = bytes.subarray(at, end);
  runs.push([null, segments.length]);
  segments.push(text);
  return runs;
}

/** The bytes `segments` hold. */
function sizeOf(segments: readonly Uint8Array[]): number {
  let n = 0;
  for (const s of segments) n += s.length;
  return n;
}

/**
 * The segments of a value {@link frame} made of `segments`, as views of it (they come last,
 * in order): what is held of it keeps no other buffer alive.
 */
function framedSegments(value: Uint8Array, segments: readonly Uint8Array[]): Uint8Array[] {
  let at = value.length - sizeOf(segments);
  return segments.map((s) => {
    const view = value.subarray(at, at + s.length);
    at += s.length;
    return view;
  });
}

/** Segment `at` (a value's; 0 is the checkpoint's own) of a record's segments. */
function segmentOf(segments: Uint8Array[], at: number): Uint8Array {
  const bytes = segments[at];
  if (bytes === undefined || at < 1) throw damaged('A checkpoint record');
  return bytes;
}

/**
 * A map of the entries set last, oldest first: past `limit` (by `weigh`, default one per
 * entry), the oldest are dropped.
 */
class Recent<V> {
  readonly #map = new Map<string, V>();
  readonly #limit: number;
  readonly #weigh: (value: V) => number;
  #weight = 0;

  constructor(limit: number, weigh: (value: V) => number = () => 1) {
    this.#limit = limit;
    this.#weigh = weigh;
  }

  get(key: string): V | undefined {
    return this.#map.get(key);
  }

  /** Sets `key` as the newest entry, then drops the oldest while over the limit. */
  set(key: string, value: V): void {
    const old = this.#map.get(key);
    if (old !== undefined) this.#weight -= this.#weigh(old);
    this.#map.delete(key);
    this.#map.set(key, value);
    this.#weight += this.#weigh(value);
    for (const [k, v] of this.#map) {
      if (this.#weight <= this.#limit) break;
      this.#map.delete(k);
      this.#weight -= this.#weigh(v);
    }
  }

  clear(): void {
    this.#map.clear();
    this.#weight = 0;
  }
}

function checkpointPrefix(thread: string, ns: string): string {
  return `${PREFIX}c/${keyPart(thread)}/${keyPart(ns)}/`;
}

/** The id goes in unescaped, last: key order is then checkpoint id order. */
function checkpointKey(thread: string, ns: string, id: string): string {
  return checkpointPrefix(thread, ns) + id;
}

/**
 * One entry per task and checkpoint holds all of that task's writes, keyed right after the
 * checkpoint's own record (its key, {@link WRITES_MARK}, the task): ids hold no character
 * at or below the mark, so the writes of a checkpoint sort between it and the next id.
 */
function writesKey(thread: string, ns: string, id: string, task: string): string {
  return checkpointKey(thread, ns, id) + WRITES_MARK + keyPart(task);
}

type Entry = { kind: 'record'; loaded: Loaded } | { kind: 'writes'; writes: StoredWrite[] };

/** A checkpoint record or a task's writes, told apart by their header. */
function decodeEntry(value: KvValue): Entry {
  const u = unframe(value, 'A checkpoint entry');
  return 'w' in u.header
    ? { kind: 'writes', writes: writesOf(u) }
    : { kind: 'record', loaded: recordOf(u) };
}

function decodeRecord(value: KvValue): Loaded {
  return recordOf(unframe(value, 'A checkpoint record'));
}

function recordOf({ header, segments }: Unframed): Loaded {
  const what = 'A checkpoint record';
  if (!isRecordHeader(header) || segments.length < 1) throw damaged(what);
  return { header, segments };
}

function decodeWrites(value: KvValue): StoredWrite[] {
  return writesOf(unframe(value, 'The pending writes of a task'));
}

function writesOf({ header, segments }: Unframed): StoredWrite[] {
  const what = 'The pending writes of a task';
  if (!isWritesHeader(header) || segments.length !== header.w.length) throw damaged(what);
  return header.w.map(([idx, channel, type], i) => ({
    task: header.k,
    path: header.p,
    idx,
    channel,
    type,
    bytes: segments[i]!,
  }));
}

function missing(where: string, field: string): BatonError {
  return new BatonError(
    ErrorCode.VALIDATION,
    `${where}: config.configurable.${field} is missing. Pass { configurable: { thread_id: "…"${field === 'checkpoint_id' ? ', checkpoint_id: "…"' : ''} } } — the config LangGraph hands the checkpointer has it.`,
    { details: { field: `config.configurable.${field}` } },
  );
}

function stringOrEmpty(v: unknown): string {
  return typeof v === 'string' ? v : '';
}
