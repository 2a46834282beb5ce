import type { Store } from '../src/index.js';

/** Wraps a store and counts every call and every event it reads: how tests see what work costs. */
export function countingStore(store: Store) {
  const counts = { calls: 0, events: 0 };
  const wrapped: Store = {
    append: (b) => store.append(b),
    read: async function* (q) {
      counts.calls++;
      for await (const e of store.read(q)) {
        counts.events++;
        yield e;
      }
    },
    event: (id) => {
      counts.calls++;
      return store.event(id);
    },
    head: () => store.head(),
    get: (c, k) => {
      counts.calls++;
      return store.get(c, k);
    },
    query: (c, i, r, p) => {
      counts.calls++;
      return store.query(c, i, r, p);
    },
    search: (c, n, i, r, p) => {
      counts.calls++;
      return store.search(c, n, i, r, p);
    },
    blobs: {
      get: (h) => {
        counts.calls++;
        return store.blobs.get(h);
      },
      has: (h) => store.blobs.has(h),
      delete: (h) => store.blobs.delete(h),
    },
    kv: store.kv,
    watch: (f) => store.watch(f),
    close: () => store.close(),
  };
  return {
    store: wrapped,
    counts,
    reset() {
      counts.calls = 0;
      counts.events = 0;
    },
  };
}
