import {
  BatonError,
  canonicalJson,
  ErrorCode,
  isBatonError,
  type JsonValue,
  type KvExpectation,
  type KvValue,
  type KvWrite,
  parseInput,
  type Store,
  sha256b64,
} from '@baton/core';
import type {
  AgentInputItem,
  SessionHistoryTransaction,
  SessionHistoryTransactionArgs,
  SessionHistoryTransactionAwareSession,
} from '@openai/agents-core';
import { z } from 'zod';

/** Options of {@link BatonSession}. */
export interface BatonSessionOptions {
  /** Any Baton store, e.g. `workspace.store`; the session lives in its `kv` area. */
  store: Store;
  /** The conversation's id. Defaults to a new random id. */
  sessionId?: string;
  /** The kv key prefix all sessions share. Defaults to `'openai-agents/session/'`. */
  prefix?: string;
}

const optionsSchema = z.object({
  store: z.custom<Store>(
    (s) => typeof s === 'object' && s !== null && typeof (s as Store).kv?.batch === 'function',
    'must be a Baton Store (e.g. workspace.store) whose kv area has batch()',
  ),
  sessionId: z
    .string()
    .min(1)
    .max(200)
    .refine((s) => ![...s].some((c) => c.charCodeAt(0) < 0x20), 'must hold no control characters')
    .optional(),
  prefix: z.string().min(1).max(200).optional(),
});

const itemsSchema = z.array(z.looseObject({ type: z.string().optional() })).max(10_000);
const limitSchema = z.number().int().nonnegative().optional();
const transactionSchema = z.object({
  operationId: z.string().min(1).max(1_000),
  transaction: z.discriminatedUnion('type', [
    z.object({ type: z.literal('append_items'), items: itemsSchema }),
    z.object({
      type: z.literal('replace_suffix'),
      expectedSuffix: itemsSchema,
      replacement: itemsSchema,
    }),
  ]),
});

/** How many times a write re-reads and retries after another writer moved the session. */
const MAX_ATTEMPTS = 50;
/** Item keys carry a zero-padded position so the kv area's key order is the conversation's. */
const SEQ_DIGITS = 15;

interface Meta {
  /** Bumped by every change: the compare-and-set token. */
  rev: number;
  /** The position the next item gets. */
  next: number;
  [k: string]: JsonValue;
}

type Row = { key: string; value: KvValue };

/** Items as plain JSON (drops `undefined` fields the SDK may leave). */
function plain(items: readonly AgentInputItem[]): JsonValue[] {
  return items.map((i) => JSON.parse(JSON.stringify(i)) as JsonValue);
}

/**
 * An OpenAI Agents SDK `Session` whose conversation lives in a Baton store's `kv` area: it
 * survives process restarts, and any process that opens the same store and session id sees it.
 *
 * @remarks
 * Implements `SessionHistoryTransactionAwareSession`: `applyHistoryTransaction({ operationId,
 * transaction })` records the operation id in the same atomic `kv.batch` as the change, so a
 * retried operation is applied exactly once; reusing an id for another transaction, or a
 * `replace_suffix` whose expected suffix no longer matches, throws and changes nothing. Every
 * write is a compare-and-set on the session's revision, so concurrent writers from several
 * processes never lose or duplicate an item (a loser re-reads and retries). A handle keeps the
 * items it last read under the revision it read them at: `getItems` then costs one kv read
 * while no one changed the session, and a write expects that revision without reading it.
 *
 * @example
 * ```ts
 * const session = new BatonSession({ store: ws.store, sessionId: 'support-42' });
 * await run(agent, 'Hello', { session });
 * ```
 */
export class BatonSession implements SessionHistoryTransactionAwareSession {
  readonly #store: Store;
  readonly #id: string;
  readonly #base: string;
  /**
   * The conversation as this handle last saw it, valid while the stored meta still holds
   * `meta` (every change bumps its `rev`, under compare-and-set): a read then costs one kv get.
   */
  #cache: { meta: Meta; rows: Row[] } | undefined;

  constructor(options: BatonSessionOptions) {
    const o = parseInput(optionsSchema, options, 'new BatonSession');
    this.#store = o.store;
    this.#id = o.sessionId ?? `sess_${crypto.randomUUID()}`;
    // Encoded, so that no session id's keys fall under another's (`a` and `a/item`).
    this.#base = `${o.prefix ?? 'openai-agents/session/'}${encodeURIComponent(this.#id)}/`;
  }

  /** The conversation's id. */
  async getSessionId(): Promise<string> {
    return this.#id;
  }

  /**
   * The conversation's items in order; with `limit`, the most recent `limit` of them (still
   * oldest first), as the SDK's `Session` contract says; `0` gives none.
   *
   * @param limit - A whole number ≥ 0. Defaults to all items.
   */
  async getItems(limit?: number): Promise<AgentInputItem[]> {
    const n = parseInput(limitSchema, limit, 'BatonSession.getItems(limit)');
    if (n === 0) return [];
    const rows = await this.#allRows();
    return (n === undefined ? rows : rows.slice(-n)).map(
      (r) => structuredClone(r.value) as unknown as AgentInputItem,
    );
  }

  /** Every item row, from the cache when the stored meta shows no change since. */
  async #allRows(): Promise<Row[]> {
    const metaKey = `${this.#base}meta`;
    let stored = (await this.#store.kv.get(metaKey)) as Meta | undefined;
    for (let attempt = 1; ; attempt++) {
      if (!stored) return [];
      if (this.#cache && this.#cache.meta.rev === stored.rev) return this.#cache.rows;
      const rows = await this.#itemRows();
      const after = (await this.#store.kv.get(metaKey)) as Meta | undefined;
      // Cached only when no writer moved the session while it was listed.
      if (after?.rev === stored.rev || attempt >= MAX_ATTEMPTS) {
        if (after?.rev === stored.rev) this.#cache = { meta: stored, rows };
        return rows;
      }
      stored = after;
    }
  }

  /** Appends items to the conversation. */
  async addItems(items: AgentInputItem[]): Promise<void> {
    const list = parseInput(itemsSchema, items, 'BatonSession.addItems(items)');
    if (list.length === 0) return;
    const values = plain(list as AgentInputItem[]);
    await this.#write(async (meta) => ({ writes: this.#appendWrites(meta, values), meta }));
  }

  /** Removes and returns the most recent item, or `undefined` when the conversation is empty. */
  async popItem(): Promise<AgentInputItem | undefined> {
    let popped: AgentInputItem | undefined;
    await this.#write(async (meta) => {
      const [last] = await this.#itemRows(1);
      popped = last?.value as unknown as AgentInputItem | undefined;
      return { writes: last ? [{ key: last.key }] : [], meta };
    });
    return popped;
  }

  /** Deletes the whole conversation, with the operation ids it recorded. */
  async clearSession(): Promise<void> {
    await this.#write(async () => {
      const writes: KvWrite[] = [];
      for (const sub of ['item/', 'op/']) {
        let after: string | undefined;
        do {
          const page = await this.#store.kv.list(`${this.#base}${sub}`, { after, limit: 500 });
          for (const x of page.items) writes.push({ key: x.key });
          after = page.next;
        } while (after);
      }
      return { writes, meta: { rev: 0, next: 0 } };
    });
  }

  /**
   * Applies an SDK history transaction exactly once: a retry with the same `operationId` and
   * transaction succeeds without applying it again.
   *
   * @throws `BatonError` `VALIDATION` when the id was used for a different transaction, and
   *   `CONFLICT` when a `replace_suffix` no longer matches the stored suffix; nothing is written.
   */
  async applyHistoryTransaction(args: SessionHistoryTransactionArgs): Promise<void> {
    const a = parseInput(transactionSchema, args, 'BatonSession.applyHistoryTransaction');
    const t = a.transaction as SessionHistoryTransaction;
    const digest = sha256b64(canonicalJson(plainTransaction(t)));
    const opKey = `${this.#base}op/${sha256b64(a.operationId)}`;
    await this.#write(async (meta) => {
      const done = await this.#store.kv.get(opKey);
      if (done !== undefined) {
        if ((done as { digest?: string }).digest !== digest)
          throw new BatonError(
            ErrorCode.VALIDATION,
            `BatonSession.applyHistoryTransaction: operationId ${JSON.stringify(a.operationId)} was already applied with a different transaction. Use a new operationId for a new change.`,
            { details: { field: 'operationId' } },
          );
        return undefined;
      }
      const writes: KvWrite[] = [];
      if (t.type === 'append_items') {
        writes.push(...this.#appendWrites(meta, plain(t.items)));
      } else {
        const k = t.expectedSuffix.length;
        const tail = k === 0 ? [] : await this.#itemRows(k);
        const want = plain(t.expectedSuffix);
        if (tail.length !== k || canonicalJson(tail.map((r) => r.value)) !== canonicalJson(want))
          throw new BatonError(
            ErrorCode.CONFLICT,
            'BatonSession.applyHistoryTransaction: the stored history no longer ends with the expected suffix, so nothing was replaced. Read the session again.',
            { details: { field: 'transaction.expectedSuffix' } },
          );
        for (const r of tail) writes.push({ key: r.key });
        writes.push(...this.#appendWrites(meta, plain(t.replacement)));
      }
      writes.push({ key: opKey, value: { digest, at: new Date().toISOString() } });
      return { writes, meta, expect: [{ key: opKey }] };
    });
  }

  /** Puts for `values` at the next positions; advances `meta.next`. */
  #appendWrites(meta: Meta, values: JsonValue[]): KvWrite[] {
    return values.map((value) => ({
      key: `${this.#base}item/${String(meta.next++).padStart(SEQ_DIGITS, '0')}`,
      value,
    }));
  }

  /** The last `limit` item rows (all when absent), oldest first. */
  async #itemRows(limit?: number): Promise<{ key: string; value: KvValue }[]> {
    const prefix = `${this.#base}item/`;
    const out: { key: string; value: KvValue }[] = [];
    let after: string | undefined;
    do {
      const page =
        limit === undefined
          ? await this.#store.kv.list(prefix, { after, limit: 1_000 })
          : await this.#store.kv.list(prefix, {
              after,
              limit: Math.min(limit - out.length, 1_000),
              reverse: true,
            });
      out.push(...page.items);
      after = limit !== undefined && out.length >= limit ? undefined : page.next;
    } while (after);
    return limit === undefined ? out : out.reverse();
  }

  /**
   * One compare-and-set write: `plan` gets the current meta (mutable) and returns the writes,
   * or `undefined` for nothing to do. Retries when another writer moved the session first.
   */
  async #write(
    plan: (
      meta: Meta,
    ) => Promise<{ writes: KvWrite[]; meta: Meta; expect?: KvExpectation[] } | undefined>,
  ): Promise<void> {
    const metaKey = `${this.#base}meta`;
    // The first attempt expects the meta this handle last saw (no read); a conflict re-reads.
    let cached = this.#cache;
    for (let attempt = 1; ; attempt++) {
      const stored = cached
        ? cached.meta
        : ((await this.#store.kv.get(metaKey)) as Meta | undefined);
      const meta: Meta = stored ? { ...stored } : { rev: 0, next: 0 };
      const p = await plan(meta);
      if (!p) return;
      const next: Meta = { ...p.meta, rev: (stored?.rev ?? 0) + 1 };
      try {
        await this.#store.kv.batch([...p.writes, { key: metaKey, value: next }], {
          expect: [{ key: metaKey, value: stored }, ...(p.expect ?? [])],
        });
      } catch (err) {
        if (!isBatonError(err) || err.code !== ErrorCode.CONFLICT || attempt >= MAX_ATTEMPTS)
          throw err;
        if (cached) this.#cache = undefined;
        cached = undefined;
        continue;
      }
      this.#cache = cached
        ? { meta: next, rows: applied(cached.rows, p.writes, this.#base) }
        : undefined;
      return;
    }
  }
}

/** `rows` after `writes` (deletes and item puts; item keys sort in conversation order). */
function applied(rows: Row[], writes: KvWrite[], base: string): Row[] {
  const gone = new Set(writes.filter((w) => w.value === undefined).map((w) => w.key));
  const prefix = `${base}item/`;
  const added = writes
    .filter((w) => w.value !== undefined && w.key.startsWith(prefix))
    .map((w) => ({ key: w.key, value: w.value as KvValue }));
  const out = rows.filter((r) => !gone.has(r.key));
  out.push(...added);
  return out.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
}

function plainTransaction(t: SessionHistoryTransaction): JsonValue {
  return t.type === 'append_items'
    ? { type: t.type, items: plain(t.items) }
    : { type: t.type, expectedSuffix: plain(t.expectedSuffix), replacement: plain(t.replacement) };
}
