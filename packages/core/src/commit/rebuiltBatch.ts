import { AuthorityView } from '../auth/view.js';
import type { JsonValue } from '../crypto/canonical.js';
import { EMPTY_HEAD, type Head } from '../log/event.js';
import { integrityError, ProjectionRebuild, StoredEvents } from '../log/verifier.js';
import { PRIMARY_INDEX, type Store } from '../store/store.js';
import { CATCH_UP_BATCH } from '../workspace/viewSync.js';
import type { CommitParts, Outcome } from './batch.js';

// The projection collections core owns and rebuildProjections() rewrites. (Idempotency rows
// record requests, not events, so they are kept as they are.)
export const REBUILT_COLLECTIONS = [
  'meta',
  'identities',
  'grants',
  'streams',
  'erasures',
  'artifacts',
  'artifact-versions',
  'seen',
  'context',
  'context-costs',
  'context-bodies',
  'handoff-spans',
  'handoffs',
  'outbox',
  'notified',
  'records',
  'record-reverts',
];

/**
 * One attempt of `rebuildProjections()`: every projection row the log up to `head` makes,
 * replayed from the first event into a new view — each event verified as catch-up and
 * `verify()` check them, so a forged row in the log stops it with `INTEGRITY` — and every
 * other row of those collections deleted. Written as one batch of rows, no events.
 */
export async function rebuiltBatch(parts: CommitParts, head: Head): Promise<Outcome<undefined>> {
  const { store, types } = parts;
  const view = new AuthorityView();
  const checker = new StoredEvents(types, { after: EMPTY_HEAD });
  const rebuild = new ProjectionRebuild(
    types,
    (h) => store.blobs.get(h),
    (h) => store.get('erasures', h),
  );
  for await (const e of store.read({ until: head.seq })) {
    const tx = view.begin();
    const r = checker.step(e, tx);
    if ('problem' in r) throw integrityError((await checker.flush()) ?? r.problem);
    await rebuild.add(e, r.data, tx);
    rebuild.addView(tx);
    tx.commit();
    if (checker.pending >= CATCH_UP_BATCH) {
      const problem = await checker.flush();
      if (problem) throw integrityError(problem);
    }
  }
  const problem = await checker.flush();
  if (problem) throw integrityError(problem);
  if (checker.head.seq !== head.seq || checker.head.hash !== head.hash) {
    throw integrityError({
      seq: Math.min(checker.head.seq + 1, head.seq),
      reason: `the store's head is seq ${head.seq} (hash ${head.hash}), but the log read ends at seq ${checker.head.seq} (hash ${checker.head.hash})`,
    });
  }
  const rows = rebuild.rows();
  const collections = new Set([
    ...REBUILT_COLLECTIONS,
    ...[...rows.values()].map((w) => w.collection),
  ]);
  for (const c of collections) {
    for await (const row of rowsOf(store, c)) {
      if (!rows.has(`${c}\u0000${row.key}`))
        rows.set(`${c}\u0000${row.key}`, { collection: c, key: row.key, value: null });
    }
  }
  return { write: { events: [], projections: [...rows.values()] }, result: undefined };
}

async function* rowsOf(
  store: Store,
  collection: string,
): AsyncIterable<{ key: string; value: JsonValue }> {
  let after: string | undefined;
  do {
    const page = await store.query(collection, PRIMARY_INDEX, {}, { limit: 500, after });
    yield* page.items;
    after = page.next;
  } while (after);
}
