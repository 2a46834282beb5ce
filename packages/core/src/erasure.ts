import type { JsonValue } from './crypto/canonical.js';
import { sha256b64 } from './crypto/hash.js';
import { ErrorCode, isBatonError } from './errors.js';
import type { BatonEvent } from './log/event.js';
import type { Scope, ScopeHost } from './scope.js';
import { PRIMARY_INDEX, type ProjectionWrite, type Store } from './store/store.js';

/**
 * Erases body `hash` for good (`actor.erase`): records the `blob.erased` event once (the
 * first erasure's event is returned again), then deletes the bytes and every copy of them
 * left in old idempotency rows.
 */
export async function eraseBody(
  ws: Pick<ScopeHost, '_catchUp' | 'store'>,
  scope: Scope,
  hash: string,
  reason: string,
): Promise<BatonEvent> {
  await ws._catchUp();
  const row = (await ws.store.get('erasures', hash)) as { event: string } | undefined;
  let event = row ? await ws.store.event(row.event) : undefined;
  if (!event) {
    [event] = await scope.commit({
      plan: () => ({
        drafts: [{ type: 'blob.erased', data: { hash, reason }, refs: [hash] }],
      }),
    });
  }
  // Rows first, bytes second: deleting the body also empties a SQLite store's WAL, which
  // then covers the rewritten rows too.
  await hashOldIdempotencyRows(ws.store);
  await ws.store.blobs.delete(hash);
  return event!;
}

/**
 * Idempotency rows written before they kept digests hold whole requests, which may quote
 * the body being erased: they are replaced by the digest of the same request (so a retry
 * still matches), and no copy of the words is left in them.
 */
async function hashOldIdempotencyRows(store: Store): Promise<void> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const writes: ProjectionWrite[] = [];
    let after: string | undefined;
    do {
      const page = await store.query('idempotency', PRIMARY_INDEX, {}, { limit: 500, after });
      for (const { key, value } of page.items) {
        const row = value as { digest?: unknown };
        if (typeof row.digest === 'string' && row.digest.startsWith('{')) {
          const hashed = {
            ...(value as Record<string, JsonValue>),
            digest: sha256b64(row.digest),
          };
          writes.push({ collection: 'idempotency', key, value: hashed });
        }
      }
      after = page.next;
    } while (after);
    if (writes.length === 0) return;
    try {
      await store.append({ events: [], expectedHead: await store.head(), projections: writes });
      return;
    } catch (err) {
      // Another commit moved the head meanwhile: read the rows again.
      if (!isBatonError(err, ErrorCode.CONFLICT)) throw err;
    }
  }
}
