import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Workspace, MemoryStore, mergeText } from '@baton/core';
import { SqliteStore } from '@baton/sqlite';

let seed = 42;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const WORDS = 'the of and to in a is that for it as was with be by on not he this are or his from at which but have an they you were her she there been one all we their has would when if so no will more can out its said what up other into about time some could them only than do new two like then first now also any my may these our see over know after who made been people way very did'.split(' ');
const word = () => WORDS[Math.floor(rnd() * WORDS.length)]!;
const line = () => Array.from({ length: 10 }, word).join(' ');
const doc = (lines: number) => Array.from({ length: lines }, line).join('\n') + '\n';

const dir = mkdtempSync(join(tmpdir(), 'art-'));
const kind = process.argv[2] ?? 'sqlite';
const store = kind === 'sqlite' ? new SqliteStore({ path: join(dir, 'a.db') }) : new MemoryStore();
const ws = await Workspace.open({ store, tickIntervalMs: 0 });
const ada = await ws.bootstrap({ name: 'Ada' });
const me = ws.as(ada.id);
const bob = ws.as((await me.identities.create({ kind: 'human', name: 'Bob' })).id);
await me.capabilities.grant({ to: bob.id, resource: 'artifact:*', actions: ['read'] });
let text = doc(18_900);
console.log('bytes', text.length);
const a = await me.artifacts.create({ kind: 'text', title: 'big', content: text });
const editOnce = (t: string) => {
  const ls = t.split('\n');
  const i = Math.floor(rnd() * (ls.length - 1));
  ls[i] = line();
  return ls.join('\n');
};
let v = 1;
const times: number[] = [];
for (let k = 0; k < 40; k++) {
  text = editOnce(text);
  const t0 = performance.now();
  await me.artifacts.edit(a.id, { content: text, baseVersion: v, reason: 'e' });
  times.push(performance.now() - t0);
  v++;
}
times.sort((x, y) => x - y);
console.log('edit median', times[20]!.toFixed(1), 'ms');
// merge
const base = (await me.artifacts.get(a.id)).content as string;
const t1 = editOnce(base);
const y1 = editOnce(base);
let t0 = performance.now();
const m = mergeText(base, t1, y1);
console.log('mergeText', (performance.now() - t0).toFixed(1), 'ms', m.clean);
t0 = performance.now();
const ch = await bob.artifacts.changesSince(a.id, { since: v - 20 });
console.log('changesSince 20', (performance.now() - t0).toFixed(1), 'ms', ch.length);
await me.artifacts.edit(a.id, { content: t1, baseVersion: v, reason: 'theirs' });
t0 = performance.now();
await me.artifacts.edit(a.id, { content: y1, baseVersion: v, reason: 'yours' });
console.log('merged edit', (performance.now() - t0).toFixed(1), 'ms');
