import type { VersionRow } from './artifactRows.js';

/** What is known of one version's content once it is rebuilt. */
export interface KnownContent {
  /** SHA-256 of the content: its version row's `contentHash`. */
  contentHash: string;
  /** The content as stored: the text, or canonical JSON. */
  text: string;
  /** The bodies it is rebuilt from: its snapshot, then each change after it, in order. */
  bodies: readonly string[];
  /** Bytes of the changes after the snapshot. */
  changeBytes: number;
  /** Whether `text` was hashed in this process and gave `contentHash` (not so when rebuilt from a store). */
  hashed?: boolean;
}

/**
 * How much recently rebuilt content is kept, counted as two bytes a character: 32 MiB, four
 * times the largest content, so a few large artifacts being edited stay in.
 */
export const RECENT_CONTENT_BYTES = 32 * 2 ** 20;

// Bench 7B (test/bench/artifacts.ts, CPU time): a one-line edit of a 1 MB text on SQLite, its
// head up to 128 changes past a snapshot, takes 4.6 ms with recent contents kept and 52 ms
// with RECENT_CONTENT_BYTES set to 0 (base, head and result each rebuilt from the snapshot).
/**
 * @internal The content of recently read, written or admitted versions, by artifact and
 * version, least recently used dropped first. An edit reads its base, its admission rebuilds
 * the head to check the change against it, and the edit returns the version it made: with
 * the version kept, none of them replays patches, and reading a large artifact's head costs
 * two row reads.
 *
 * @remarks
 * An entry is used only for a version row whose `contentHash` and own body (snapshot or
 * change) it names, so it is that version's content. Readers still check that none of
 * `bodies` was erased ({@link KnownContent.bodies}); admission need not, because it falls
 * back to the plain rebuild whenever the change does not give the content it claims.
 */
export class RecentContents {
  readonly #entries = new Map<string, KnownContent>();
  readonly #limit: number;
  #size = 0;

  constructor(limit = RECENT_CONTENT_BYTES) {
    this.#limit = limit;
  }

  /** The content kept for version `vr`, when it is that version's. */
  get(
    vr: Pick<VersionRow, 'id' | 'version' | 'contentHash' | 'change' | 'snapshot'>,
  ): KnownContent | undefined {
    const key = keyOf(vr.id, vr.version);
    const known = this.#entries.get(key);
    if (!known || known.contentHash !== vr.contentHash) return undefined;
    const own = known.bodies.at(-1);
    if (vr.snapshot ? known.bodies.length !== 1 || own !== vr.snapshot : own !== vr.change)
      return undefined;
    // Most recently used last.
    this.#entries.delete(key);
    this.#entries.set(key, known);
    return known;
  }

  /** Keeps `known` as the content of version `version` of artifact `id`. */
  put(id: string, version: number, known: KnownContent): void {
    const key = keyOf(id, version);
    this.#drop(key);
    const size = sizeOf(known);
    if (size > this.#limit) return;
    this.#entries.set(key, known);
    this.#size += size;
    for (const [old] of this.#entries) {
      if (this.#size <= this.#limit) break;
      this.#drop(old);
    }
  }

  #drop(key: string): void {
    const known = this.#entries.get(key);
    if (!known) return;
    this.#entries.delete(key);
    this.#size -= sizeOf(known);
  }
}

/**
 * What is known of the version an edit makes: `text`, hashed to `made.contentHash`, from the
 * content `before` it (`undefined` when the edit stores a snapshot, as it does after a head
 * that cannot be read) by a change of `changeBytes` bytes.
 */
export function madeContent(
  before: KnownContent | undefined,
  text: string,
  made: { contentHash: string; change: string; snapshot?: string },
  changeBytes: number,
): KnownContent {
  const fresh = made.snapshot !== undefined || before === undefined;
  return {
    contentHash: made.contentHash,
    text,
    bodies: fresh ? [made.snapshot ?? made.contentHash] : [...before.bodies, made.change],
    changeBytes: fresh ? 0 : before.changeBytes + changeBytes,
    hashed: true,
  };
}

function keyOf(id: string, version: number): string {
  return `${id}\u0000${version}`;
}

function sizeOf(known: KnownContent): number {
  return 2 * known.text.length + 64 * known.bodies.length;
}

/** @internal The one cache every workspace of the process shares: entries are content-addressed. */
export const recentContents = new RecentContents();
