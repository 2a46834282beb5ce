import { BatonError, ErrorCode } from './errors.js';
import type { RowSource } from './scope.js';
import { PRIMARY_INDEX } from './store/store.js';

/** The kinds of id a person types: each with its prefix and the projection that holds its rows. */
export const ID_KINDS = {
  identity: { prefix: 'id_', collection: 'identities', noun: 'identity' },
  artifact: { prefix: 'art_', collection: 'artifacts', noun: 'artifact' },
  handoff: { prefix: 'ho_', collection: 'handoffs', noun: 'handoff' },
  context: { prefix: 'ctx_', collection: 'context', noun: 'context entry' },
  grant: { prefix: 'gr_', collection: 'grants', noun: 'grant' },
} as const;

/** A kind of id `Actor.resolveId` resolves: `identity`, `artifact`, `handoff`, `context`, `grant`. */
export type IdKind = keyof typeof ID_KINDS;

/** What a resolved id is: the full id and its kind. */
export interface ResolvedId {
  id: string;
  kind: IdKind;
}

// How many candidates an ambiguous prefix names: enough to pick from, few enough to read.
const MAX_CANDIDATES = 10;

/** The shortest a short id is, prefix included: long enough to stay unique as a workspace grows. */
export const MIN_SHORT_ID = 11;

function kindOf(id: string): IdKind | undefined {
  for (const [kind, k] of Object.entries(ID_KINDS))
    if (id.startsWith(k.prefix)) return kind as IdKind;
  return undefined;
}

/**
 * @internal Resolves `ref` — a full id or a unique prefix of one (`ho_01M8RCM2`, or without its
 * kind's prefix when `kinds` says which: `01M8RCM2`) — to the full id, reading the primary
 * index of each candidate kind's projection by range (never scanning it).
 *
 * @throws BatonError `NOT_FOUND` when nothing starts with it; `VALIDATION` (with
 *   `details.candidates`) when several do.
 */
export async function resolveIdIn(
  store: RowSource,
  ref: string,
  kinds: readonly IdKind[] = Object.keys(ID_KINDS) as IdKind[],
): Promise<ResolvedId> {
  const own = kindOf(ref);
  const tries: { kind: IdKind; full: string }[] = own
    ? kinds.includes(own)
      ? [{ kind: own, full: ref }]
      : []
    : kinds.map((kind) => ({ kind, full: `${ID_KINDS[kind].prefix}${ref}` }));
  const nouns = kinds.map((k) => ID_KINDS[k].noun).join(' or ');
  if (own && tries.length === 0) {
    throw new BatonError(
      ErrorCode.VALIDATION,
      `"${ref}" is ${article(ID_KINDS[own].noun)} id; give ${article(nouns)} id here.`,
      { details: { field: 'id', kind: own } },
    );
  }
  const found: ResolvedId[] = [];
  for (const { kind, full } of tries) {
    const collection = ID_KINDS[kind].collection;
    if ((await store.get(collection, full)) !== undefined) return { id: full, kind };
    const page = await store.query(
      collection,
      PRIMARY_INDEX,
      { prefix: full },
      { limit: MAX_CANDIDATES + 1 },
    );
    for (const row of page.items) found.push({ id: row.key, kind });
  }
  if (found.length === 1) return found[0]!;
  if (found.length === 0) {
    throw new BatonError(ErrorCode.NOT_FOUND, `No ${nouns} id is or starts with "${ref}".`, {
      details: { id: ref },
    });
  }
  const shown = found.slice(0, MAX_CANDIDATES).map((f) => f.id);
  throw new BatonError(
    ErrorCode.VALIDATION,
    `"${ref}" is ambiguous: it starts ${found.length > MAX_CANDIDATES ? `more than ${MAX_CANDIDATES}` : found.length} ids (${shown.join(', ')}${found.length > MAX_CANDIDATES ? ', …' : ''}). Give more of the id.`,
    { details: { field: 'id', id: ref, candidates: shown } },
  );
}

/**
 * @internal The shortest prefix of each id that no other id of its kind starts with (at least
 * {@link MIN_SHORT_ID} characters) — two index reads per id: its neighbours in key order.
 * An id of no known kind, or not stored, is given back whole.
 */
export async function shortIdsIn(
  store: RowSource,
  ids: readonly string[],
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const id of new Set(ids)) {
    const kind = kindOf(id);
    if (!kind) {
      out.set(id, id);
      continue;
    }
    const collection = ID_KINDS[kind].collection;
    const [before, after] = await Promise.all([
      store.query(collection, PRIMARY_INDEX, { lt: id }, { limit: 1, reverse: true }),
      store.query(collection, PRIMARY_INDEX, { gt: id }, { limit: 1 }),
    ]);
    let n = MIN_SHORT_ID;
    for (const other of [before.items[0]?.key, after.items[0]?.key]) {
      if (other === undefined) continue;
      n = Math.max(n, commonPrefix(id, other) + 1);
    }
    out.set(id, id.slice(0, Math.min(n, id.length)));
  }
  return out;
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

function article(noun: string): string {
  return /^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`;
}
