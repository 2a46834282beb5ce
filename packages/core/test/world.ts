import { MemoryStore, Workspace, type WorkspaceOptions } from '../src/index.js';

/** A bootstrapped workspace on a MemoryStore with a settable clock, an owner and one agent. */
export async function world(options: WorkspaceOptions = {}) {
  const clock = { now: Date.parse('2026-11-21T12:00:00.000Z') };
  const store = (options.store as MemoryStore | undefined) ?? new MemoryStore();
  const ws = await Workspace.open({ ...options, store, clock: () => clock.now });
  const ada = await ws.bootstrap({ name: 'Ada' });
  const me = ws.as(ada.id);
  const drafter = await me.identities.create({ kind: 'agent', name: 'drafter' });
  const agent = ws.as(drafter.id);
  return {
    clock,
    store,
    ws,
    ada,
    me,
    drafter,
    agent,
    /** A second Workspace instance on the same memory, with the same clock and keyring. */
    peer(extra: WorkspaceOptions = {}) {
      return Workspace.open({
        store: store.peer(),
        keyring: ws.keyring,
        clock: () => clock.now,
        ...extra,
      });
    },
    /** Moves the clock forward by `ms`. */
    tick(ms: number) {
      clock.now += ms;
    },
    /** The ISO time `ms` from now. */
    iso(ms: number) {
      return new Date(clock.now + ms).toISOString();
    },
  };
}
