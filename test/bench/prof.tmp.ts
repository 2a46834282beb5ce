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
let head = 1; const times: number[] = [];
const phase = process.argv[2] ?? 'edit';
const bob = ws.as((await me.identities.create({ kind: 'human', name: 'Bob' })).id);
await me.capabilities.grant({ to: bob.id, resource: 'artifact:*', actions: ['read'] });
for (let k = 0; k < 120; k++) {
  const ls = text.split('\n'); ls[(k * 7919) % 18900] = line(); const next = ls.join('\n');
  const t0 = performance.now();
  const a = await me.artifacts.edit(doc.id, { content: next, baseVersion: head, reason: 'e' });
  times.push(performance.now() - t0); head = a.version; text = next;
}
console.log('edit median', times.sort((a, b) => a - b)[60]!.toFixed(2));
const ct: number[] = [];
for (let k = 0; k < 20; k++) { const t0 = performance.now(); await bob.artifacts.changesSince(doc.id, { since: head - 20 }); ct.push(performance.now() - t0); }
console.log('changes median', ct.sort((a, b) => a - b)[10]!.toFixed(2));
