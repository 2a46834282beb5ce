import type { ViewTx } from '../auth/view.js';
import type { JsonValue } from '../crypto/canonical.js';
import type { BlobWrite, ProjectionWrite } from '../store/store.js';
import type { BatonEvent } from './event.js';
import {
  type EventTypes,
  ProjectionOverlay,
  type ProjectionReader,
  type StateReader,
} from './eventTypes.js';

/**
 * The state a batch's events are admitted against: rows through `rows`, bodies given with the
 * write first (the first given under a hash).
 *
 * @remarks
 * The given bodies are looked up by hash in a map made once: an import gives every body of
 * the log in one batch, and a search of the list per body read made it quadratic (10⁵ events,
 * ~40k bodies: a quarter of the import's CPU time in the growth bench's MemoryStore copy).
 */
export function stateReader(
  rows: ProjectionOverlay,
  view: ViewTx,
  given: readonly BlobWrite[],
  stored: (hash: string) => Promise<Uint8Array | undefined>,
): StateReader {
  const byHash = new Map<string, Uint8Array>();
  for (const b of given) if (!byHash.has(b.hash)) byHash.set(b.hash, b.bytes);
  return {
    view,
    get: (c, k) => rows.get(c, k),
    blob: async (h) => byHash.get(h) ?? (await stored(h)),
  };
}

/** Where a {@link ProjectionRebuild} keeps the rows it makes, and reads them back from. */
export interface RebuiltRows extends ProjectionReader {
  put(w: ProjectionWrite): void;
}

/**
 * Projection rows rebuilt from the log alone (what `rebuildProjections()` writes and
 * `verify()` compares with the stored rows): each event's state rules run against the rows
 * as rebuilt so far, then its projections are folded in. By default holds every row in
 * memory — the projections' size, not the log's; with `rows` (a `StreamedRows`), hands them
 * there, and each stream's version goes there too, as its `streams` row.
 */
export class ProjectionRebuild {
  /** Rebuilt rows are read back from what is rebuilt so far, never from the stored rows. */
  readonly overlay = new ProjectionOverlay(async () => undefined);
  readonly #rows: RebuiltRows;
  readonly #held: boolean;
  /** The seq of the last event that wrote each row, by `collection\0key`. */
  readonly writtenAt = new Map<string, number>();
  /** Each stream's version as rebuilt so far (what `verify()` checks each next version against too). */
  readonly streams = new Map<string, number>();
  readonly #types: EventTypes;
  readonly #blob: (hash: string) => Promise<Uint8Array | undefined>;
  readonly #erased: (hash: string) => Promise<JsonValue | undefined>;

  /**
   * @param blob - Reads a stored body.
   * @param erased - The erasure of a body as the store holds it now: a body erased later in
   *   the log is gone already, so it must read as erased, not as missing. (`verify()` checks
   *   the stored erasure rows against the log apart.) Defaults to none.
   * @param rows - Where the rows go. Defaults to {@link ProjectionRebuild.overlay}, holding
   *   every row, each stream's version in {@link ProjectionRebuild.streams} and the seq that
   *   last wrote each row in {@link ProjectionRebuild.writtenAt}.
   */
  constructor(
    types: EventTypes,
    blob: (hash: string) => Promise<Uint8Array | undefined>,
    erased: (hash: string) => Promise<JsonValue | undefined> = async () => undefined,
    rows?: RebuiltRows,
  ) {
    this.#types = types;
    this.#blob = blob;
    this.#erased = erased;
    this.#rows = rows ?? this.overlay;
    this.#held = rows === undefined;
  }

  /** Folds in event `e` (already applied to `tx`, the view at its position): state rules, then rows. */
  async add(e: BatonEvent, data: unknown, tx: ViewTx): Promise<void> {
    const rows = this.#rows;
    const rebuilt: StateReader = {
      view: tx,
      get: (c, k) => rows.get(c, k),
      blob: this.#blob,
    };
    const state: StateReader = {
      ...rebuilt,
      get: async (c, k) =>
        (await rows.get(c, k)) ?? (c === 'erasures' ? await this.#erased(k) : undefined),
    };
    await this.#types.admitState(e, state, data);
    for (const w of await this.#types.projectionsOf(e, rebuilt, data)) this.#put(w, e.seq);
    if (this.#held) this.streams.set(e.stream, e.version);
    else rows.put({ collection: 'streams', key: e.stream, value: { version: e.version } });
  }

  /** Folds in the view rows `tx` changed (identities, grants, workspace facts). */
  addView(tx: ViewTx): void {
    for (const w of tx.projectionWrites()) this.#put(w, tx.seq);
  }

  #put(w: ProjectionWrite, seq: number): void {
    this.#rows.put(w);
    if (this.#held) this.writtenAt.set(`${w.collection}\u0000${w.key}`, seq);
  }

  /** Every rebuilt row (`value: null` for one deleted), the streams' versions included. */
  rows(): Map<string, ProjectionWrite> {
    const rows = new Map(this.overlay.writes);
    for (const [stream, version] of this.streams)
      rows.set(`streams\u0000${stream}`, {
        collection: 'streams',
        key: stream,
        value: { version },
      });
    return rows;
  }
}
