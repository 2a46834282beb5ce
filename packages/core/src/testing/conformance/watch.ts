import { describe, expect } from 'vitest';
import type { Suite } from './harness.js';
import { appendEvents, eventually, sleep } from './helpers.js';

/** Watchers and the wake-up hint. */
export function watchTests({ hasPeer, test }: Suite): void {
  describe('watch', () => {
    test('calls a watcher after a commit with the new head seq', async ({ store }) => {
      const seen: number[] = [];
      const stop = store.watch((seq) => seen.push(seq));
      try {
        await appendEvents(store, 2);
        expect(await eventually(() => seen.includes(2))).toBe(true);
        await appendEvents(store, 1);
        expect(await eventually(() => seen.includes(3))).toBe(true);
        expect(Math.max(...seen)).toBe(3);
      } finally {
        stop();
      }
    });

    test('calls every watcher, and only those still subscribed', async ({ store }) => {
      const a: number[] = [];
      const b: number[] = [];
      const stopA = store.watch((seq) => a.push(seq));
      const stopB = store.watch((seq) => b.push(seq));
      try {
        await appendEvents(store, 1);
        expect(await eventually(() => a.includes(1) && b.includes(1))).toBe(true);
        stopA();
        stopA();
        await sleep(50);
        const before = a.length;
        await appendEvents(store, 1);
        expect(await eventually(() => b.includes(2))).toBe(true);
        await sleep(100);
        expect(a.length).toBe(before);
        expect(a.includes(2)).toBe(false);
      } finally {
        stopA();
        stopB();
      }
    });

    test(
      'wakes a watcher on one handle when a peer commits',
      async (h) => {
        const peer = await h.peer();
        const seen: number[] = [];
        const stop = h.store.watch((seq) => seen.push(seq));
        try {
          await appendEvents(peer, 3);
          expect(await eventually(() => seen.includes(3), 2000), 'no wake-up within 2 s').toBe(
            true,
          );
          const seenByPeer: number[] = [];
          const stopPeer = peer.watch((seq) => seenByPeer.push(seq));
          try {
            await appendEvents(h.store, 1);
            expect(
              await eventually(() => seenByPeer.includes(4), 2000),
              'no wake-up within 2 s',
            ).toBe(true);
          } finally {
            stopPeer();
          }
        } finally {
          stop();
        }
      },
      !hasPeer,
    );

    test(
      'stops waking a handle’s watchers once that handle is closed',
      async (h) => {
        const peer = await h.peer();
        const onPeer: number[] = [];
        const onStore: number[] = [];
        peer.watch((seq) => onPeer.push(seq));
        const stop = h.store.watch((seq) => onStore.push(seq));
        try {
          await peer.close();
          await appendEvents(h.store, 1);
          expect(await eventually(() => onStore.includes(1))).toBe(true);
          await sleep(100);
          expect(onPeer).toEqual([]);
        } finally {
          stop();
        }
      },
      !hasPeer,
    );
  });
}
