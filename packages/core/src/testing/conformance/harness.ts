import { it } from 'vitest';
import type { Store } from '../../store/store.js';

/** What {@link runStoreConformance} needs to open, share, reopen and remove a store. */
export interface StoreConformanceInit {
  /** The store's name, shown in the suite's title (`'SqliteStore'`). */
  name: string;
  /** Opens a fresh, empty store. Called once or more per test. */
  create(): Promise<Store>;
  /**
   * Opens a second handle onto the same storage as `store` — another connection, as a second
   * process would have. Racing, sharing and cross-handle watch tests are skipped without it.
   */
  openPeer?(store: Store): Promise<Store>;
  /**
   * Closes `store` and opens the same storage again, for durable stores. Durability tests are
   * skipped without it (the in-memory store has nothing to reopen).
   */
  reopen?(store: Store): Promise<Store>;
  /** Closes `store` and removes its storage. Defaults to `store.close()`. */
  destroy?(store: Store): Promise<void>;
  /** Random sequences the model-based test runs. Defaults to `50`. */
  modelRuns?: number;
}

export interface Harness {
  /** The store under test; replaced by {@link Harness.reopen}. */
  store: Store;
  /** A second handle onto the same storage, closed after the test. */
  peer(): Promise<Store>;
  /** Closes and reopens the storage; returns (and sets) the new handle. */
  reopen(): Promise<Store>;
  /** Another fresh, independent store, removed after the test. */
  another(): Promise<Store>;
}

/** What each subject's tests get: the store factory around a test, and what the initializer offers. */
export interface Suite {
  init: StoreConformanceInit;
  hasPeer: boolean;
  hasReopen: boolean;
  modelRuns: number;
  /** Runs `fn` with a fresh store (and its peers and others), disposing all afterwards. */
  withStore(fn: (h: Harness) => Promise<void>): Promise<void>;
  /** `it` with a fresh store, disposed afterwards; skipped when `skip` is true. */
  test(name: string, fn: (h: Harness) => Promise<void>, skip?: boolean): void;
}

/** The {@link Suite} for one store's initializer. */
export function conformanceSuite(init: StoreConformanceInit): Suite {
  const hasPeer = init.openPeer !== undefined;
  const hasReopen = init.reopen !== undefined;
  const modelRuns = init.modelRuns ?? 50;

  async function dispose(store: Store): Promise<void> {
    if (init.destroy) await init.destroy(store);
    else await store.close();
  }

  async function withStore(fn: (h: Harness) => Promise<void>): Promise<void> {
    const peers: Store[] = [];
    const others: Store[] = [];
    const h: Harness = {
      store: await init.create(),
      async peer() {
        if (!init.openPeer) throw new Error(`${init.name}: this test needs openPeer`);
        const p = await init.openPeer(h.store);
        peers.push(p);
        return p;
      },
      async reopen() {
        if (!init.reopen) throw new Error(`${init.name}: this test needs reopen`);
        h.store = await init.reopen(h.store);
        return h.store;
      },
      async another() {
        const s = await init.create();
        others.push(s);
        return s;
      },
    };
    try {
      await fn(h);
    } finally {
      for (const p of peers) await p.close().catch(() => undefined);
      for (const s of others) await dispose(s);
      await dispose(h.store);
    }
  }

  /** `it` with a fresh store, disposed afterwards; skipped when `skip` is true. */
  function test(name: string, fn: (h: Harness) => Promise<void>, skip = false): void {
    it.skipIf(skip)(name, () => withStore(fn));
  }

  return { init, hasPeer, hasReopen, modelRuns, withStore, test };
}
