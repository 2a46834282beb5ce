import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SqliteStore } from '@baton/sqlite';
import { AIMessage, HumanMessage } from '@langchain/core/messages';
import { SqliteSaver } from '@langchain/langgraph-checkpoint-sqlite';
import { BatonCheckpointSaver } from '../../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'prof-'));
const store = new SqliteStore({ path: join(dir, 'a.db') });
const baton = new BatonCheckpointSaver({ store });
const official = SqliteSaver.fromConnString(join(dir, 'o.db'));
const messages = [new HumanMessage({ content: 'hi', id: 'h' })];
for (let i = 0; i < 20; i++)
  messages.push(
    new AIMessage({
      id: `m${i}`,
      content:
        'Step 1. The draft covers the launch plan: audience, channels, the embargo date and who signs off. ',
      usage_metadata: { input_tokens: 300, output_tokens: 90, total_tokens: 390 },
    }),
  );
const cp = {
  v: 4,
  id: '1f0-0001',
  ts: new Date().toISOString(),
  channel_values: { messages, 'branch:to:agent': null },
  channel_versions: { messages: 21, 'branch:to:agent': 21, __start__: 2 },
  versions_seen: { agent: { 'branch:to:agent': 20 } },
};
const meta = { source: 'loop' as const, step: 20, parents: {} };
const mode = process.argv[2];
const saver = mode === 'o' ? official : baton;
await saver.put({ configurable: { thread_id: 't' } }, cp as never, meta, {
  messages: 21,
  'branch:to:agent': 21,
});
const what = process.argv[3];
for (let i = 0; i < 300; i++)
  await saver.getTuple({ configurable: { thread_id: 't', checkpoint_ns: '' } });
let t0 = performance.now();
for (let i = 0; i < 1000; i++)
  await saver.getTuple({ configurable: { thread_id: 't', checkpoint_ns: '' } });
console.log(mode, 'getTuple', (performance.now() - t0).toFixed(0), 'µs');
t0 = performance.now();
for (let i = 0; i < 500; i++)
  await saver.put(
    { configurable: { thread_id: 't' + (i % 5) } },
    { ...cp, id: `1f1-${String(i).padStart(5, '0')}` } as never,
    meta,
    { messages: 21 + i },
  );
console.log(mode, 'put', ((performance.now() - t0) * 2).toFixed(0), 'µs');
t0 = performance.now();
for (let i = 0; i < 500; i++) await saver.serde.dumpsTyped(cp);
console.log(mode, 'dumps', ((performance.now() - t0) * 2).toFixed(0), 'µs');
const [, bytes] = await saver.serde.dumpsTyped(cp);
t0 = performance.now();
for (let i = 0; i < 500; i++) await saver.serde.loadsTyped('json', bytes);
console.log(mode, 'loads', ((performance.now() - t0) * 2).toFixed(0), 'µs', bytes.length);
