import { BatonError, ErrorCode } from '../errors.js';
import { hashProblem } from '../log/chain.js';
import { type BatonEvent, parseType, signingText } from '../log/event.js';
import { eventSignedByAny } from '../log/signatures.js';
import type { Store } from '../store/store.js';
import type { Identity, ViewTx } from './view.js';

// Artifact rows read per page while a tag's artifacts load.
const PAGE = 500;

/**
 * Loads into `tx` the artifacts created with each of `tags` up to the transaction's position —
 * so that `artifact:tag/<tag>` grants authorize exactly what a replay of the whole log would.
 * `tags` defaults to those a grant of `tx` named for the first time (`tx.unloadedTags()`);
 * a caller passes the view's own unloaded tags it needs (`view.tagsNeededBy(identity)`).
 *
 * @remarks
 * Nothing is taken from projection rows on trust. The `artifacts` rows' `tag` index only
 * says where to look: each artifact's `artifact.created` event is read and checked — its
 * workspace, its hash recomputed, its signature against a key its actor held at its seq,
 * and that its signed data carries the tag — and the artifacts found must be exactly as many
 * as the view counted being created with the tag (`tx.tagCount`, kept from the signed log
 * or a trusted checkpoint). When rows hide one, the log itself is read instead; when that
 * does not add up either, the store was changed outside Baton and this throws `INTEGRITY`.
 * Costs the tag's artifacts, never the whole log (unless the rows were tampered with).
 */
export async function loadTags(
  store: Store,
  tx: ViewTx,
  tags: Iterable<string> = tx.unloadedTags(),
): Promise<void> {
  for (const tag of tags) {
    const want = tx.tagCount(tag);
    let found = await fromRows(store, tx, tag);
    if (found.size !== want) found = await fromLog(store, tx, tag);
    if (found.size !== want) {
      throw new BatonError(
        ErrorCode.INTEGRITY,
        `The log up to seq ${tx.seq} creates ${want} artifacts with tag "${tag}", but ${found.size} signed artifact.created events with it were found in the store. The store was changed outside Baton: run workspace.verify() and restore the store from a backup or an export.`,
        { details: { seq: tx.seq, reason: `tag "${tag}" does not add up` } },
      );
    }
    tx.putTagMembers(tag, found);
  }
}

/** The artifacts with `tag` found through the rows' tag index, each checked against its signed event. */
async function fromRows(store: Store, tx: ViewTx, tag: string): Promise<Set<string>> {
  const found = createdHere(tx, tag);
  let after: string | undefined;
  do {
    const page = await store.query('artifacts', 'tag', { eq: tag }, { limit: PAGE, after });
    const checked = await Promise.all(
      page.items.map(async ({ key }) => {
        if (found.has(key)) return undefined;
        for await (const e of store.read({ stream: `artifact/${key}`, limit: 1 })) {
          return (await createdWith(e, tx, tag)) === key ? key : undefined;
        }
        return undefined;
      }),
    );
    for (const id of checked) if (id !== undefined) found.add(id);
    after = page.next;
  } while (after);
  return found;
}

/** The artifacts with `tag` found by reading the log up to the transaction's position. */
async function fromLog(store: Store, tx: ViewTx, tag: string): Promise<Set<string>> {
  const found = createdHere(tx, tag);
  for await (const e of store.read({ until: tx.seq })) {
    if (parseType(e.type).name !== 'artifact.created') continue;
    const id = await createdWith(e, tx, tag);
    if (id !== undefined) found.add(id);
  }
  return found;
}

/** The artifacts this transaction created (or loaded) with `tag`: not in the store yet, maybe. */
function createdHere(tx: ViewTx, tag: string): Set<string> {
  const out = new Set<string>();
  for (const [id, tags] of tx.tags) if (tags.includes(tag)) out.add(id);
  return out;
}

/**
 * The artifact `e` creates with `tag`, when `e` checks out as an event of this log up to
 * `tx`'s position: an `artifact.created` of the workspace, its hash its own, signed by a key
 * its actor held at its seq, its signed data carrying the tag.
 */
async function createdWith(e: BatonEvent, tx: ViewTx, tag: string): Promise<string | undefined> {
  if (typeof e !== 'object' || e === null || typeof e.type !== 'string') return undefined;
  if (parseType(e.type).name !== 'artifact.created' || e.ws !== tx.workspace?.id) return undefined;
  if (!(Number.isSafeInteger(e.seq) && e.seq <= tx.seq && e.version === 1)) return undefined;
  const d = e.data as { id?: unknown; tags?: unknown } | null;
  if (typeof d?.id !== 'string' || !Array.isArray(d.tags) || !d.tags.includes(tag))
    return undefined;
  if (e.stream !== `artifact/${d.id}`) return undefined;
  let text: string;
  try {
    text = signingText(e);
  } catch {
    return undefined;
  }
  if (hashProblem(e, text) !== undefined) return undefined;
  const keys = keysAt(tx.identity(e.actor), e.seq);
  return (await eventSignedByAny(e, keys, text)) ? d.id : undefined;
}

/** The keys `who` held at log position `seq`. */
function keysAt(who: Identity | undefined, seq: number): string[] {
  if (!who) return [];
  return who.keys
    .filter((k) => k.since <= seq && (k.until === undefined || seq <= k.until))
    .map((k) => k.key);
}
