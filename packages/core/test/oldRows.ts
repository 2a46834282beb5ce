import { type MemoryStore, PRIMARY_INDEX, type ProjectionWrite } from '../src/index.js';

/**
 * Rewrites the store's context rows as code before the composite indexes wrote them: the
 * indexes about, type, actor, at and session only, no search text, no marker.
 */
export async function makeRowsOld(store: MemoryStore): Promise<void> {
  const writes: ProjectionWrite[] = [{ collection: 'meta', key: 'context', value: null }];
  let after: string | undefined;
  do {
    const page = await store.query('context', PRIMARY_INDEX, {}, { limit: 500, after });
    for (const { key, value } of page.items) {
      const row = value as {
        seq: number;
        about: string[];
        type: string;
        actor: string;
        at: string;
        session?: string;
      };
      const k = (v: string) => `${v}\u0000${String(row.seq).padStart(12, '0')}`;
      writes.push({
        collection: 'context',
        key,
        value,
        indexes: {
          about: (row.about.length ? row.about : ['-']).map(k),
          type: k(row.type),
          actor: k(row.actor),
          at: k(row.at),
          ...(row.session ? { session: k(row.session) } : {}),
        },
      });
    }
    after = page.next;
  } while (after);
  for (const c of ['context-costs', 'context-bodies', 'handoff-spans']) {
    const page = await store.query(c, PRIMARY_INDEX, {}, { limit: 10_000 });
    for (const { key } of page.items) writes.push({ collection: c, key, value: null });
  }
  await store.append({ events: [], expectedHead: await store.head(), projections: writes });
}
