/**
 * The official checkpointer validation suite (`@langchain/langgraph-checkpoint-validation`),
 * run on BatonCheckpointSaver over MemoryStore and over SqliteStore (a temp file per
 * checkpointer). `validate()` registers Jest-style global tests, which is why this file
 * runs in the `langgraph-validation` project (vitest globals on). After each store's run it
 * prints how many of the suite's tests passed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore, type Store } from '@baton/core';
import { SqliteStore } from '@baton/sqlite';
import { validate } from '@langchain/langgraph-checkpoint-validation';
import { afterAll } from 'vitest';
import { BatonCheckpointSaver } from '../src/index.js';

interface Task {
  type: string;
  name: string;
  mode?: string;
  tasks?: Task[];
  result?: { state?: string };
}

function count(tasks: Task[], prefix: string, into = { passed: 0, failed: 0, skipped: 0 }) {
  for (const t of tasks) {
    if (t.type === 'suite' && t.tasks) {
      if (prefix === '' || t.name.startsWith(prefix)) count(t.tasks, '', into);
    } else if (prefix === '') {
      if (t.mode === 'skip' || t.result?.state === 'skip') into.skipped++;
      else if (t.result?.state === 'pass') into.passed++;
      else into.failed++;
    }
  }
  return into;
}

const stores = new WeakMap<BatonCheckpointSaver, Store>();
const dir = mkdtempSync(join(tmpdir(), 'baton-lg-validation-'));
let files = 0;

const targets: { name: string; open: () => Store }[] = [
  { name: 'BatonCheckpointSaver on MemoryStore', open: () => new MemoryStore() },
  {
    name: 'BatonCheckpointSaver on SqliteStore',
    open: () => new SqliteStore({ path: join(dir, `checkpoints-${++files}.db`) }),
  },
];

for (const target of targets) {
  validate({
    checkpointerName: target.name,
    createCheckpointer() {
      const store = target.open();
      const saver = new BatonCheckpointSaver({ store });
      stores.set(saver, store);
      return saver;
    },
    async destroyCheckpointer(saver) {
      await stores.get(saver)?.close();
    },
  });
}

// biome-ignore lint/correctness/noEmptyPattern: vitest hands hooks the suite second and wants a pattern first
afterAll(({}, file) => {
  for (const target of targets) {
    const c = count((file as unknown as Task).tasks ?? [], target.name);
    console.log(
      `Official checkpoint validation suite, ${target.name}: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped (${c.passed + c.failed + c.skipped} tests).`,
    );
  }
  rmSync(dir, { recursive: true, force: true });
});
