import { BatonError, ConflictError, ErrorCode, isBatonError, reasonOf } from '../errors.js';
import type { BatonEvent, Head } from '../log/event.js';
import { checkBatch } from './checkBatch.js';
import { prefixEnd } from './keys.js';
import type { AppendBatch, IndexRange, ProjectionWrite, ReadQuery } from './store.js';

/**
 * What an append checks first, inside its transaction: that `head` (the store's current head)
 * is the batch's `expectedHead` — else `ConflictError` — then {@link checkBatch}'s chain rules.
 * Returns the head the batch reaches, frozen (callers get it back from `append`).
 */
export function checkAppend(
  head: Head,
  batch: AppendBatch,
  exists: (id: string) => boolean = () => false,
): Head {
  const want = batch.expectedHead;
  if (head.seq !== want.seq || head.hash !== want.hash) throw new ConflictError(want, head);
  const next = checkBatch(head, batch, exists);
  return Object.freeze({ seq: next.seq, hash: next.hash });
}

/**
 * The secondary index entries of a projection write, `[index name, index key]`, each pair
 * once (a row listed twice under one key would show twice and break keyset paging). None for
 * a delete (`value: null`).
 */
export function indexEntries(write: ProjectionWrite): [string, string][] {
  if (write.value === null) return [];
  return Object.entries(write.indexes ?? {}).flatMap(([name, keys]) =>
    [...new Set(Array.isArray(keys) ? keys : [keys])].map((k): [string, string] => [name, k]),
  );
}

/** A comparison {@link rangeBounds} asks of an index key. */
export type KeyComparison = '=' | '>' | '>=' | '<';

/**
 * An {@link IndexRange} as the comparisons a key must pass, `[operator, operand]`: one per
 * bound, and `prefix` as `>= prefix` and `< prefixEnd(prefix)` (which an ordinary index serves).
 * `{}` gives none.
 */
export function rangeBounds(range: IndexRange): [KeyComparison, string][] {
  const end = range.prefix === undefined ? undefined : prefixEnd(range.prefix);
  const all: [KeyComparison, string | undefined][] = [
    ['=', range.eq],
    ['>', range.gt],
    ['>=', range.gte],
    ['<', range.lt],
    ['>=', range.prefix],
    ['<', end],
  ];
  return all.filter((b): b is [KeyComparison, string] => b[1] !== undefined);
}

/**
 * A backend failure as the `STORE` error a store throws: `"<what> failed on <where>: <the
 * backend's message>."`, then `hint` (what to do about it), with the failure as `cause`.
 * A `BatonError` passes through unchanged.
 */
export function storeFailure(
  err: unknown,
  what: string,
  where: string,
  hint?: string,
  details?: Record<string, unknown>,
): BatonError {
  if (isBatonError(err)) return err;
  const reason = reasonOf(err).replace(/\.$/, '');
  const message = `${what} failed on ${where}: ${reason}.${hint ? ` ${hint}` : ''}`;
  return new BatonError(ErrorCode.STORE, message, { cause: err, details });
}

/**
 * {@link Store.read}'s stream, page by page: `fetch(after, n)` gives up to `n` events with
 * `seq > after` in commit order. Pages of `size` are fetched until `query.limit` events are
 * out or a page comes back short, so memory stays flat.
 */
export async function* readPages(
  query: Pick<ReadQuery, 'after' | 'limit'>,
  fetch: (after: number, n: number) => BatonEvent[] | Promise<BatonEvent[]>,
  size = 256,
): AsyncGenerator<BatonEvent> {
  let left = query.limit ?? Number.POSITIVE_INFINITY;
  for (let after = query.after ?? 0; left > 0; ) {
    const n = Math.min(size, left);
    const page = await fetch(after, n);
    yield* page;
    if (page.length < n) return;
    left -= page.length;
    after = page.at(-1)!.seq;
  }
}

/**
 * A store handle's life: once {@link StoreHandle.close | closed} it refuses calls with a
 * `STORE` error (`closedMessage`), and while open it turns what a backend call throws into
 * the store's own `STORE` error through `fail` (see {@link storeFailure}).
 */
export class StoreHandle {
  #closed = false;
  readonly #closedMessage: string;
  readonly #fail: (what: string, err: unknown) => BatonError;

  constructor(closedMessage: string, fail: (what: string, err: unknown) => BatonError) {
    this.#closedMessage = closedMessage;
    this.#fail = fail;
  }

  /** Throws `STORE` when the handle is closed. */
  live(): void {
    if (this.#closed) throw new BatonError(ErrorCode.STORE, this.#closedMessage);
  }

  /** Runs `fn` on the open handle; what it throws becomes `fail(what, err)`. */
  run<T>(what: string, fn: () => T): T {
    this.live();
    try {
      return fn();
    } catch (err) {
      throw this.#fail(what, err);
    }
  }

  /**
   * Closes the handle, once (later calls do nothing): `release` frees the backend, and what it
   * throws becomes `fail('close', err)`.
   */
  async close(release: () => void | Promise<void> = () => {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await release();
    } catch (err) {
      throw this.#fail('close', err);
    }
  }
}
