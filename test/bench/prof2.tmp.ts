import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Workspace } from '@baton/core';
import { SqliteStore } from '@baton/sqlite';
const WORDS = 'the of and to in a is that for it as was with be by on not he this are or his from at which but have an they you were her she there been one all we their has would when if so'.split(' ');
let seed = 1; const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const line = () => Array.from({ length: 12 }, () => WORDS[Math.floor(rnd() * WORDS.length)]).join(' ');
let text = Array.from({ length: 18_900 }, line).join('\n') + '\n';
const dir = mkdtempSync(join(tmpdir(), 'art-'));
const ws = await Workspace.open({ store: new SqliteStore({ path: join(dir, 'a.db') }), tickIntervalMs: 0 });
const me = ws.as((await ws.bootstrap({ name: 'Ada' })).id);
const doc = await me.artifacts.create({ kind: 'text', title: 'big', content: text });
let head = 1; let wall = 0; let cpu = 0;
const N = 300;
for (let k = 0; k < N; k++) {
  const ls = text.split('\n'); ls[(k * 7919) % 18900] = line(); const next = ls.join('\n');
  const t0 = performance.now(); const c0 = process.cpuUsage();
  const a = await me.artifacts.edit(doc.id, { content: next, baseVersion: head, reason: 'e' });
  const c = process.cpuUsage(c0); cpu += (c.user + c.system) / 1000; wall += performance.now() - t0; head = a.version; text = next;
}
console.log('edit mean wall', (wall / N).toFixed(2), 'cpu', (cpu / N).toFixed(2));
