import { describe, expect } from 'vitest';
import { PRIMARY_INDEX } from '../../store/store.js';
import { conformanceEvents } from './events.js';
import type { Suite } from './harness.js';
import { appendEvents, settlement } from './helpers.js';

/** Closing a store. */
export function closeTests({ test }: Suite): void {
  describe('close', () => {
    test('closes idempotently', async ({ store }) => {
      await appendEvents(store, 1);
      await store.close();
      await store.close();
      await Promise.all([store.close(), store.close()]);
    });

    test('rejects every operation after close rather than hanging', async ({ store }) => {
      await appendEvents(store, 1);
      const head = await store.head();
      await store.close();
      const ops: [string, () => unknown][] = [
        ['append', () => store.append({ events: conformanceEvents(head, 1), expectedHead: head })],
        [
          'read',
          async () => {
            for await (const _ of store.read()) {
              // draining
            }
          },
        ],
        ['event', () => store.event('x')],
        ['head', () => store.head()],
        ['get', () => store.get('c', 'k')],
        ['query', () => store.query('c', PRIMARY_INDEX, {})],
        ['blobs.get', () => store.blobs.get('h')],
        ['blobs.has', () => store.blobs.has('h')],
        ['blobs.delete', () => store.blobs.delete('h')],
        ['kv.get', () => store.kv.get('k')],
        ['kv.put', () => store.kv.put('k', 1)],
        ['kv.delete', () => store.kv.delete('k')],
        ['kv.list', () => store.kv.list('')],
      ];
      for (const [name, op] of ops) expect(await settlement(op), name).toBe('rejected');
    });
  });
}
