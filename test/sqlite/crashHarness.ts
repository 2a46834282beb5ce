/**
 * Kills processes appending to a SQLite-backed workspace with SIGKILL at random moments and
 * checks what survives: every batch whole or absent, every acknowledged event present, and
 * a log that verifies. Shared by test/sqlite/crash.test.ts (≥ 50 kills) and
 * test/reliability/sqliteCrash.ts (as many as asked).
 *
 * The child (test/fixtures/sqliteCrashChild.ts) is bundled once with esbuild and run with
 * plain `node`: through tsx each child would spend ~2 s starting, through the bundle ~0.4 s,
 * and the kill count is bounded by how fast children start.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type BatonEvent, type VerifyReport, Workspace } from '@baton/core';
import { KeyDirectory } from '@baton/core/node';
import { SqliteStore } from '@baton/sqlite';
import { NOTE_TYPES, noteWorkspace } from '../fixtures/sqliteNotes.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHILD = join(REPO_ROOT, 'test/fixtures/sqliteCrashChild.ts');

export interface CrashLoopOptions {
  /** How many children to kill in all. */
  kills: number;
  /** Children appending at the same time, each killed and replaced in turn. Defaults to `2`. */
  lanes?: number;
  /** A child is killed a random 0…`maxDelayMs` ms after it is ready. Defaults to `300`. */
  maxDelayMs?: number;
  /** Share of kills aimed at a child still starting up (opening the store). Defaults to `0.1`. */
  earlyShare?: number;
  /** Called with a line of progress now and then. */
  progress?: (line: string) => void;
}

export interface CrashReport {
  kills: number;
  /** Kills that found the child between `begin` and `ack` of a batch. */
  inFlight: number;
  /** Batches the children acknowledged, and events in them. */
  ackedBatches: number;
  ackedEvents: number;
  /** Events in the log at the end (acknowledged or not). */
  events: number;
  /** Acknowledged event ids missing from the log after a kill. */
  lost: string[];
  /** Batches found in the log with events missing, out of order or not contiguous. */
  partial: string[];
  /** Children that ended other than by our SIGKILL, with their stderr. */
  failures: string[];
  verify: VerifyReport;
  ms: number;
}

interface Ack {
  batch: string;
  size: number;
  ids: string[];
}

/** Bundles the child with its workspace sources into one ESM file under test/.tmp. */
async function bundleChild(dir: string): Promise<string> {
  // esbuild comes with tsx (a root dev dependency): resolve it from there.
  const esbuild = createRequire(createRequire(import.meta.url).resolve('tsx'))('esbuild') as {
    build(options: Record<string, unknown>): Promise<unknown>;
  };
  const outfile = join(dir, 'sqliteCrashChild.mjs');
  await esbuild.build({
    entryPoints: [CHILD],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['source'],
    // The native addon stays a dependency, found from test/.tmp through the root node_modules.
    external: ['better-sqlite3'],
    logLevel: 'warning',
  });
  return outfile;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs the kill loop in a fresh directory under test/.tmp and reports what survived. */
export async function runCrashLoop(options: CrashLoopOptions): Promise<CrashReport> {
  const started = Date.now();
  const lanes = options.lanes ?? 2;
  const maxDelay = options.maxDelayMs ?? 300;
  const earlyShare = options.earlyShare ?? 0.1;
  const say = options.progress ?? (() => {});
  mkdirSync(join(REPO_ROOT, 'test/.tmp'), { recursive: true });
  const dir = mkdtempSync(join(REPO_ROOT, 'test/.tmp/sqlite-crash-'));
  const live = new Set<ChildProcess>();
  try {
    const { path, keys, agents } = await noteWorkspace(dir, ['appender']);
    const agent = { id: agents[0]! };
    const bundle = await bundleChild(dir);

    const acked: Ack[] = [];
    const lost: string[] = [];
    const failures: string[] = [];
    let kills = 0;
    let inFlight = 0;
    let lives = 0;

    // Reads what the killed children committed, from this process's own connection.
    const checker = new SqliteStore({ path });

    /** Checks every event of the batches `acks` names is in the store. */
    async function checkAcked(acks: Ack[]): Promise<void> {
      for (const a of acks) {
        const ids = new Set<string>();
        for await (const e of checker.read({ ref: `batch:${a.batch}` })) ids.add(e.id);
        for (const id of a.ids) if (!ids.has(id)) lost.push(id);
      }
    }

    async function lane(laneNo: number): Promise<void> {
      while (kills < options.kills) {
        const kill = ++kills;
        const life = `${laneNo}-${lives++}`;
        const child = spawn(process.execPath, [bundle, path, keys, agent.id, life], {
          cwd: REPO_ROOT,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        live.add(child);
        const lines: string[] = [];
        let stderr = '';
        child.stderr!.setEncoding('utf8').on('data', (c: string) => {
          stderr += c;
        });
        const reader = createInterface({ input: child.stdout! });
        let onReady!: () => void;
        const ready = new Promise<void>((resolve) => {
          onReady = resolve;
        });
        reader.on('line', (l) => {
          lines.push(l);
          if (l === 'ready') onReady();
        });
        const closed = new Promise<void>((resolve) => reader.once('close', resolve));
        const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
          child.once('exit', (code, signal) => resolve({ code, signal })),
        );
        if (Math.random() < earlyShare) {
          await sleep(Math.random() * 300);
        } else {
          await Promise.race([ready, exited]);
          await sleep(Math.random() * maxDelay);
        }
        child.kill('SIGKILL');
        const end = await exited;
        await closed;
        live.delete(child);
        if (end.signal !== 'SIGKILL') {
          failures.push(`child ${life} ended with ${end.code ?? end.signal}: ${stderr}`);
          continue;
        }
        const acks: Ack[] = [];
        for (const l of lines) {
          const m = /^ack (\S+) (\d+) (\S+) \.$/.exec(l);
          if (m) acks.push({ batch: m[1]!, size: Number(m[2]), ids: m[3]!.split(',') });
        }
        if (lines.at(-1)?.startsWith('begin ')) inFlight++;
        acked.push(...acks);
        await checkAcked(acks);
        if (kill % 25 === 0) {
          say(`${kill} kills · ${acked.length} batches acknowledged · ${lost.length} lost`);
        }
      }
    }
    try {
      await Promise.all(Array.from({ length: lanes }, (_, i) => lane(i)));
    } finally {
      await checker.close();
    }

    // Reopen as a workspace: the whole log, batch by batch, and verify().
    const ws = await Workspace.open({
      store: new SqliteStore({ path }),
      keyring: new KeyDirectory({ path: keys }),
      eventTypes: NOTE_TYPES,
    });
    try {
      const batches = new Map<string, BatonEvent[]>();
      let events = 0;
      for await (const e of ws.store.read()) {
        events++;
        if (e.type !== 'note.added@1') continue;
        const batch = (e.data as { batch: string }).batch;
        const list = batches.get(batch) ?? [];
        list.push(e);
        batches.set(batch, list);
      }
      const partial: string[] = [];
      for (const [batch, list] of batches) {
        const size = (list[0]!.data as { size: number }).size;
        const whole =
          list.length === size &&
          list.every((e, i) => (e.data as { i: number }).i === i && e.seq === list[0]!.seq + i);
        if (!whole) partial.push(batch);
      }
      for (const a of acked) if (!batches.has(a.batch)) lost.push(...a.ids);
      const verify = await ws.verify();
      return {
        kills,
        inFlight,
        ackedBatches: acked.length,
        ackedEvents: acked.reduce((n, a) => n + a.size, 0),
        events,
        lost: [...new Set(lost)],
        partial,
        failures,
        verify,
        ms: Date.now() - started,
      };
    } finally {
      await ws.close();
    }
  } finally {
    for (const child of live) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}
