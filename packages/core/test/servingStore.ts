import type { BatonEvent, MemoryStore, Store } from '../src/index.js';

/** A store that serves `events` as its log (as storage edited behind core's back would), and everything else from `base`. */
export function serving(
  events: BatonEvent[],
  base: MemoryStore,
  blobs?: Map<string, Uint8Array>,
): Store {
  return {
    append: () => Promise.reject(new Error('read only')),
    async *read(q = {}) {
      let n = 0;
      for (const e of events) {
        if (q.after !== undefined && e.seq <= q.after) continue;
        if (q.until !== undefined && e.seq > q.until) break;
        if (q.limit !== undefined && n >= q.limit) break;
        n++;
        yield e;
      }
    },
    event: async (id) => events.find((e) => e.id === id),
    head: async () => {
      const last = events.at(-1);
      return last ? { seq: last.seq, hash: last.hash } : { seq: 0, hash: '' };
    },
    get: (c, k) => base.get(c, k),
    query: (c, i, r, p) => base.query(c, i, r, p),
    search: (c, n, i, r, p) => base.search(c, n, i, r, p),
    blobs: {
      get: async (h) => (blobs?.has(h) ? blobs.get(h) : base.blobs.get(h)),
      has: async (h) => blobs?.has(h) || base.blobs.has(h),
      delete: async () => {},
    },
    kv: base.kv,
    watch: () => () => {},
    close: async () => {},
  };
}
