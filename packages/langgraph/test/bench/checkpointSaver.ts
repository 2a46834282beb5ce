/**
 * Bench: BatonCheckpointSaver on SqliteStore against the official SqliteSaver
 * (`@langchain/langgraph-checkpoint-sqlite`), in one run, each on a file of its own.
 *
 * A real LangGraph graph (messages state, one node that appends an AI message per step,
 * 20 steps) runs once against a recording MemorySaver; the calls it made (put, putWrites)
 * are then replayed into both savers for 5 threads, call by call in alternating order, so
 * load from other processes falls on both alike. Reported: the median time per `put`,
 * per latest `getTuple` (no checkpoint id: what `invoke` does when a thread resumes), and
 * the bytes on disk after the run, each as a ratio to the official saver.
 *
 * Run: `pnpm bench` (all benches) or
 * `pnpm exec tsx --conditions=source packages/langgraph/test/bench/checkpointSaver.ts`.
 */

import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { isDeepStrictEqual } from 'node:util';
import { SqliteStore } from '@baton/sqlite';
import { AIMessage, HumanMessage } from '@langchain/core/messages';
import type { RunnableConfig } from '@langchain/core/runnables';
import { END, MessagesAnnotation, START, StateGraph } from '@langchain/langgraph';
import {
  type BaseCheckpointSaver,
  type ChannelVersions,
  type Checkpoint,
  type CheckpointMetadata,
  copyCheckpoint,
  MemorySaver,
  type PendingWrite,
  TASKS,
} from '@langchain/langgraph-checkpoint';
import { SqliteSaver } from '@langchain/langgraph-checkpoint-sqlite';
import { fmtInt, fmtRatio, fmtUs, table, verdict } from '../../../../test/bench/format.js';
import { BatonCheckpointSaver } from '../../src/index.js';

const STEPS = 20;
const THREADS = 5;
/** Latest-getTuple reads per thread and saver (after the run). */
const READS = 300;

type Call =
  | {
      kind: 'put';
      config: RunnableConfig;
      checkpoint: Checkpoint;
      metadata: CheckpointMetadata;
      versions: ChannelVersions;
    }
  | {
      kind: 'writes';
      config: RunnableConfig;
      writes: PendingWrite[];
      taskId: string;
      taskPath?: string;
    };

/** A MemorySaver that remembers every put and putWrites the graph made. */
class RecordingSaver extends MemorySaver {
  readonly calls: Call[] = [];
  override async put(
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    versions: ChannelVersions = {},
  ): Promise<RunnableConfig> {
    this.calls.push({
      kind: 'put',
      config,
      // copyCheckpoint, not structuredClone: that would turn the messages into plain objects.
      checkpoint: copyCheckpoint(checkpoint),
      metadata,
      versions,
    });
    return super.put(config, checkpoint, metadata);
  }
  override async putWrites(
    config: RunnableConfig,
    writes: PendingWrite[],
    taskId: string,
    taskPath?: string,
  ): Promise<void> {
    this.calls.push({ kind: 'writes', config, writes, taskId, taskPath });
    return super.putWrites(config, writes, taskId, taskPath);
  }
}

const filler =
  'The draft covers the launch plan: audience, channels, the embargo date and who signs off. ';

/** Records the calls of one 20-step run of a messages graph. */
async function record(): Promise<Call[]> {
  let step = 0;
  const graph = new StateGraph(MessagesAnnotation)
    .addNode('agent', async () => {
      step++;
      return {
        messages: [
          new AIMessage({
            content: `Step ${step}. ${filler}`,
            response_metadata: { model: 'scripted', finish_reason: 'stop' },
            usage_metadata: {
              input_tokens: 300 + step * 40,
              output_tokens: 90,
              total_tokens: 390 + step * 40,
            },
          }),
        ],
      };
    })
    .addEdge(START, 'agent')
    .addConditionalEdges('agent', () => (step < STEPS ? 'agent' : END))
    .compile({ checkpointer: new RecordingSaver() });
  const saver = graph.checkpointer as RecordingSaver;
  await graph.invoke(
    { messages: [new HumanMessage('Draft the launch post and keep it under 300 words.')] },
    { configurable: { thread_id: 'recorded' }, recursionLimit: STEPS + 5 },
  );
  return saver.calls;
}

function retarget(config: RunnableConfig, thread: string): RunnableConfig {
  return { ...config, configurable: { ...config.configurable, thread_id: thread } };
}

async function replay(saver: BaseCheckpointSaver, call: Call, thread: string): Promise<number> {
  const t0 = performance.now();
  if (call.kind === 'put') {
    await saver.put(retarget(call.config, thread), call.checkpoint, call.metadata, call.versions);
    return performance.now() - t0;
  }
  await saver.putWrites(retarget(call.config, thread), call.writes, call.taskId, call.taskPath);
  return -1;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function bytesOf(path: string): number {
  let n = 0;
  for (const f of [path, `${path}-wal`]) {
    try {
      n += statSync(f).size;
    } catch {
      // absent
    }
  }
  return n;
}

async function main(): Promise<void> {
  const calls = await record();
  const dir = mkdtempSync(join(tmpdir(), 'baton-lg-bench-'));
  try {
    const batonPath = join(dir, 'baton.db');
    const officialPath = join(dir, 'official.db');
    const store = new SqliteStore({ path: batonPath });
    const baton = new BatonCheckpointSaver({ store });
    const official = SqliteSaver.fromConnString(officialPath);
    const emptyBaton = bytesOf(batonPath);

    // Warm-up on a thread of its own (JIT, prepared statements), then deleted.
    for (const call of calls) {
      await replay(baton, call, 'warmup');
      await replay(official, call, 'warmup');
    }
    await baton.deleteThread('warmup');
    await official.deleteThread('warmup');

    const puts = { baton: [] as number[], official: [] as number[] };
    const serializeMs: number[] = [];
    let lastSize = 0;
    for (let t = 0; t < THREADS; t++) {
      const thread = `thread-${t}`;
      for (const [i, call] of calls.entries()) {
        const pair: [BaseCheckpointSaver, number[]][] = [
          [baton, puts.baton],
          [official, puts.official],
        ];
        if ((i + t) % 2 === 1) pair.reverse();
        for (const [saver, into] of pair) {
          const ms = await replay(saver, call, thread);
          if (ms >= 0) into.push(ms);
        }
        if (call.kind === 'put') {
          const t0 = performance.now();
          await official.serde.dumpsTyped(call.checkpoint);
          serializeMs.push(performance.now() - t0);
        }
      }
      const latest = await official.getTuple({ configurable: { thread_id: thread } });
      lastSize = (await official.serde.dumpsTyped(latest?.checkpoint))[1].length;
    }

    const gets = { baton: [] as number[], official: [] as number[] };
    for (let r = 0; r < READS; r++) {
      for (let t = 0; t < THREADS; t++) {
        const config = { configurable: { thread_id: `thread-${t}`, checkpoint_ns: '' } };
        const pair: [BaseCheckpointSaver, number[]][] = [
          [baton, gets.baton],
          [official, gets.official],
        ];
        if ((r + t) % 2 === 1) pair.reverse();
        for (const [saver, into] of pair) {
          const t0 = performance.now();
          await saver.getTuple(config);
          into.push(performance.now() - t0);
        }
      }
    }

    // Same answer from both, or the figures mean nothing. (The official saver also returns
    // the empty pending-sends channel, which has no version and so no value in ours.)
    const a = await baton.getTuple({ configurable: { thread_id: 'thread-0' } });
    const b = await official.getTuple({ configurable: { thread_id: 'thread-0' } });
    const { [TASKS]: sends, ...officialValues } = b?.checkpoint.channel_values ?? {};
    const same =
      a !== undefined &&
      b !== undefined &&
      isDeepStrictEqual(sends ?? [], []) &&
      isDeepStrictEqual(a.checkpoint, { ...b.checkpoint, channel_values: officialValues });
    if (!same) {
      throw new Error('The two savers disagree on the latest checkpoint of thread-0.');
    }

    await store.close();
    official.db.close();
    const bytes = { baton: bytesOf(batonPath), official: bytesOf(officialPath) };

    const put = { baton: median(puts.baton) * 1e6, official: median(puts.official) * 1e6 };
    const get = { baton: median(gets.baton) * 1e6, official: median(gets.official) * 1e6 };
    const ratios = {
      put: put.baton / put.official,
      get: get.baton / get.official,
      bytes: bytes.baton / bytes.official,
    };
    console.log(
      `\nL1. LangGraph checkpoints on SQLite: ${STEPS} steps × ${THREADS} threads, ${calls.filter((c) => c.kind === 'put').length} puts per thread, latest checkpoint ${fmtInt(lastSize)} B serialized\n`,
    );
    table(
      ['', 'BatonCheckpointSaver', 'official SqliteSaver', 'ratio', 'goal', ''],
      [
        [
          'put (median)',
          fmtUs(put.baton),
          fmtUs(put.official),
          fmtRatio(ratios.put),
          '≤ 1.0×',
          verdict(ratios.put <= 1),
        ],
        [
          'latest getTuple (median)',
          fmtUs(get.baton),
          fmtUs(get.official),
          fmtRatio(ratios.get),
          '≤ 1.0×',
          verdict(ratios.get <= 1),
        ],
        [
          'bytes on disk',
          fmtInt(bytes.baton),
          fmtInt(bytes.official),
          fmtRatio(ratios.bytes),
          '≤ 0.5×',
          verdict(ratios.bytes <= 0.5),
        ],
      ],
    );
    console.log(
      `\n  serializing the checkpoint alone (median): ${fmtUs(median(serializeMs) * 1e6)}`,
    );
    console.log(
      `\n  (The Baton file's ${fmtInt(emptyBaton)} B include the empty Baton schema — log, projections, blobs — that every store file has.)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
