import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { sha256b64 } from '@baton/core';
import { SqliteStore } from '@baton/sqlite';

const dir = mkdtempSync(join(tmpdir(), 'prim-'));
const s = new SqliteStore({ path: join(dir, 'a.db') });
const big = new Uint8Array(9000).fill(65);
const small = new Uint8Array(400).fill(66);
async function t(name: string, n: number, f: (i: number) => Promise<unknown> | unknown) {
  for (let i = 0; i < 200; i++) await f(i + 1e6);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await f(i);
  console.log(name, (((performance.now() - t0) / n) * 1000).toFixed(1), 'µs');
}
await t('put 9KB', 2000, (i) => s.kv.put(`lg/b/thread/${i}`, big));
await t('put 400B', 2000, (i) => s.kv.put(`lg/s/thread/${i}`, small));
await t('get 9KB', 2000, (i) => s.kv.get(`lg/b/thread/${i}`));
await t('get 400B', 2000, (i) => s.kv.get(`lg/s/thread/${i}`));
await t('get missing', 2000, (i) => s.kv.get(`lg/x/thread/${i}`));
await t('list rev 1', 2000, () => s.kv.list('lg/s/thread/', { reverse: true, limit: 1 }));
await t('list 0 rows', 2000, () => s.kv.list('lg/w/thread/', { limit: 100 }));
await t('sha 9KB', 2000, () => sha256b64(big));
await t('frame copy', 2000, () => {
  const o = new Uint8Array(9100);
  o.set(big, 100);
  return o;
});
