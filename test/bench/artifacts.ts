/**
 * Benchmark 7 (issue 18): artifact storage against git, and large text artifacts.
 * Part of `pnpm bench`, or alone: `pnpm exec tsx --conditions=source test/bench/artifacts.ts`
 * (add `storage` or `large` for one half).
 *
 * A. Storage. A text document is edited through `artifacts.edit` on a SqliteStore file, one
 *    word at a time: 5 KB edited 1,000 times, and 1 MB edited 100 times. The same versions
 *    go into a git repository in a temp dir (one commit each, the edit's reason as message)
 *    with the real `git`, which is then `git gc`-ed. What "takes" means is printed, in full:
 *    - the artifact's bodies: the bytes of every blob its versions refer to, as stored
 *      (compressed where the store compresses), against the bytes of git's blob objects in
 *      its pack — content history against content history; this is the goal's figure;
 *    - its events (signed JSON, as stored) and its version rows, against git's commits and
 *      trees (the metadata of each version);
 *    - the whole SQLite file after VACUUM (every event of the workspace, rows and indexes
 *      included) against git's whole pack.
 *    Goal: bodies ≤ 2× git's blobs for 5 KB / 1,000 edits, ≤ 3× for 1 MB.
 * B. A 1 MB text artifact (~18,900 lines) on SQLite: an edit of one line (goal ≤ 10 ms), a
 *    clean three-way merge of non-overlapping edits (`mergeText`, goal ≤ 50 ms) and a
 *    merged edit through `artifacts.edit`, and `changesSince` of 20 versions (goal ≤ 100 ms);
 *    each beside a baseline timed in the same alternating rounds: the plain algorithm the
 *    fast path replaces (diff3 over whole texts; each version rebuilt from its snapshot).
 *
 * Without `git` on the PATH, part A prints why and reports Baton's figures alone.
 * Results are written to test/bench/results/artifacts.json.
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { mergeText, sha256b64, Workspace } from '@baton/core';
import { SqliteStore } from '@baton/sqlite';
import Database from 'better-sqlite3';
// The plain algorithms the fast paths are held to, from core's source.
import { mergeTextPlain } from '../../packages/core/src/artifacts/merge.js';
import {
  applyUnifiedDiff,
  applyUnifiedDiffToLines,
  myersDiff,
  renderUnifiedDiff,
  textLines,
  unifiedDiff,
} from '../../packages/core/src/artifacts/textDiff.js';
import { fmtInt, fmtRatio, fmtUs, table, verdict } from './format.js';
import { pairedRatio, type Timing, type TimingOptions, timeInterleaved } from './timing.js';

// ------------------------------------------------------------------ documents

/** A seeded generator (mulberry32), so every run edits the same documents the same way. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const WORDS = (
  'the of and to in a is that for it as was with be by on not he this are or his from at ' +
  'which but have an they you were her she there been one all we their has would when if ' +
  'so no will more can out its said what up other into about time some could them only ' +
  'than do new two like then first now also any my may these our see over know after who ' +
  'made people way very did draft launch pricing review agent handoff version merge'
).split(' ');

function pick(rnd: () => number, items: readonly string[]): string {
  return items[Math.floor(rnd() * items.length)]!;
}

/** Prose of about `bytes` bytes: lines of 10 to 14 words (~53 bytes), a newline after each. */
function documentText(bytes: number, rnd: () => number): string {
  const lines: string[] = [];
  let size = 0;
  while (size < bytes) {
    const n = 10 + Math.floor(rnd() * 5);
    const line = Array.from({ length: n }, () => pick(rnd, WORDS)).join(' ');
    lines.push(line);
    size += line.length + 1;
  }
  return `${lines.join('\n')}\n`;
}

/** `text` with one word of one line replaced by another word. */
function oneWordEdit(text: string, rnd: () => number): string {
  const lines = text.split('\n');
  const at = Math.floor(rnd() * (lines.length - 1));
  const words = lines[at]!.split(' ');
  const w = Math.floor(rnd() * words.length);
  let next = pick(rnd, WORDS);
  while (next === words[w]) next = pick(rnd, WORDS);
  words[w] = next;
  lines[at] = words.join(' ');
  return lines.join('\n');
}

// ------------------------------------------------------------------ A. storage

interface StorageCase {
  name: string;
  bytes: number;
  edits: number;
  goal: number;
}

const CASES: StorageCase[] = [
  { name: '5 KB, 1,000 edits', bytes: 5_000, edits: 1_000, goal: 2 },
  { name: '1 MB, 100 edits', bytes: 1_000_000, edits: 100, goal: 3 },
];

interface BatonSizes {
  /** Bytes of the blobs the artifact's versions refer to, as stored. */
  bodies: number;
  /** The same blobs' bytes before the store's compression. */
  bodiesRaw: number;
  snapshots: number;
  /** Bytes of the artifact's events (JSON bodies, as stored). */
  events: number;
  /** Bytes of its version rows (JSON values). */
  rows: number;
  /** The whole file after VACUUM. */
  file: number;
}

interface GitSizes {
  pack: number;
  blobs: number;
  commits: number;
  trees: number;
}

async function batonHistory(dir: string, c: StorageCase, versions: string[]): Promise<BatonSizes> {
  const path = join(dir, 'store.db');
  const ws = await Workspace.open({ store: new SqliteStore({ path }), tickIntervalMs: 0 });
  const ada = await ws.bootstrap({ name: 'Ada' });
  const me = ws.as(ada.id);
  const doc = await me.artifacts.create({ kind: 'text', title: c.name, content: versions[0]! });
  for (let v = 1; v < versions.length; v++)
    await me.artifacts.edit(doc.id, { content: versions[v]!, baseVersion: v, reason: `edit ${v}` });
  await ws.close();
  const db = new Database(path);
  try {
    const rows = db
      .prepare(
        "SELECT value FROM baton_rows WHERE collection = 'artifact-versions' AND key >= ? AND key < ?",
      )
      .all(`${doc.id}/`, `${doc.id}0`) as { value: string }[];
    const hashes = new Set<string>();
    let snapshots = 0;
    let rowBytes = 0;
    for (const { value } of rows) {
      rowBytes += Buffer.byteLength(value);
      const vr = JSON.parse(value) as { change?: string; snapshot?: string };
      if (vr.change) hashes.add(vr.change);
      if (vr.snapshot) {
        hashes.add(vr.snapshot);
        snapshots++;
      }
    }
    const blob = db.prepare('SELECT * FROM baton_blobs WHERE hash = ?');
    let bodies = 0;
    let bodiesRaw = 0;
    for (const h of hashes) {
      const row = blob.get(h) as { bytes: Uint8Array; encoding?: string | null };
      bodies += row.bytes.length;
      bodiesRaw +=
        row.encoding === 'deflate-raw' ? inflateRawSync(row.bytes).length : row.bytes.length;
    }
    const events = (
      db
        .prepare('SELECT sum(length(CAST(body AS BLOB))) AS n FROM baton_events WHERE stream = ?')
        .get(`artifact/${doc.id}`) as { n: number }
    ).n;
    const vacuumed = join(dir, 'vacuumed.db');
    db.prepare('VACUUM INTO ?').run(vacuumed);
    return {
      bodies,
      bodiesRaw,
      snapshots,
      events,
      rows: rowBytes,
      file: statSync(vacuumed).size,
    };
  } finally {
    db.close();
  }
}

/** Why git cannot be used here, or `undefined` when it can. */
function gitMissing(): string | undefined {
  const r = spawnSync('git', ['--version'], { encoding: 'utf8' });
  if (r.error) return `git is not available (${r.error.message})`;
  if (r.status !== 0) return `\`git --version\` exited with ${r.status}`;
  return undefined;
}

/** The versions as a git history (fast-import, one commit each), `git gc`-ed; its pack's sizes. */
function gitHistory(dir: string, versions: string[]): GitSizes {
  const repo = join(dir, 'repo');
  const git = (args: string[], input?: Buffer) => {
    const r = spawnSync('git', ['-C', repo, ...args], {
      input,
      encoding: 'buffer',
      maxBuffer: 1 << 30,
      env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: dir },
    });
    if (r.status !== 0) throw new Error(`git ${args[0]}: ${r.stderr?.toString() ?? r.error}`);
    return r.stdout.toString();
  };
  spawnSync('git', ['init', '-q', repo]);
  const parts: Buffer[] = [];
  const data = (text: string) => {
    const b = Buffer.from(text);
    parts.push(Buffer.from(`data ${b.length}\n`), b, Buffer.from('\n'));
  };
  const when = 1_764_590_400;
  versions.forEach((text, v) => {
    parts.push(Buffer.from(`blob\nmark :${2 * v + 1}\n`));
    data(text);
    parts.push(Buffer.from(`commit refs/heads/main\nmark :${2 * v + 2}\n`));
    parts.push(Buffer.from(`author Ada <ada@example.com> ${when + v} +0000\n`));
    parts.push(Buffer.from(`committer Ada <ada@example.com> ${when + v} +0000\n`));
    data(v === 0 ? 'create' : `edit ${v}`);
    if (v > 0) parts.push(Buffer.from(`from :${2 * v}\n`));
    parts.push(Buffer.from(`M 100644 :${2 * v + 1} document.txt\n\n`));
  });
  git(['fast-import', '--quiet'], Buffer.concat(parts));
  git(['gc', '--quiet']);
  const packDir = join(repo, '.git', 'objects', 'pack');
  const pack = readdirSync(packDir).find((f) => f.endsWith('.pack'))!;
  const sizes: GitSizes = {
    pack: statSync(join(packDir, pack)).size,
    blobs: 0,
    commits: 0,
    trees: 0,
  };
  // verify-pack -v: "sha type size size-in-pack offset [depth base]" per object.
  for (const line of git(['verify-pack', '-v', join(packDir, pack)]).split('\n')) {
    const [, type, , inPack] = line.split(/\s+/);
    const n = Number(inPack);
    if (type === 'blob') sizes.blobs += n;
    else if (type === 'commit') sizes.commits += n;
    else if (type === 'tree') sizes.trees += n;
  }
  return sizes;
}

const kb = (n: number) => `${(n / 1024).toFixed(n < 10_240 ? 1 : 0)} KB`;

async function storageBench(): Promise<Record<string, unknown>> {
  console.log(
    '\n7A. Artifact storage: Baton on SQLite against a git gc-ed pack of the same versions',
  );
  const missing = gitMissing();
  if (missing) console.log(`  ${missing}: Baton's figures only, no comparison.`);
  const out: Record<string, unknown> = {};
  const rows: string[][] = [];
  for (const c of CASES) {
    const rnd = random(18);
    const versions = [documentText(c.bytes, rnd)];
    for (let v = 0; v < c.edits; v++) versions.push(oneWordEdit(versions.at(-1)!, rnd));
    const dir = mkdtempSync(join(os.tmpdir(), 'baton-bench-art-'));
    try {
      const baton = await batonHistory(dir, c, versions);
      let git: GitSizes | undefined;
      try {
        git = missing ? undefined : gitHistory(dir, versions);
      } catch (err) {
        console.log(
          `  ${c.name}: the git history could not be made (${(err as Error).message.trim()}).`,
        );
      }
      const ratio = git ? baton.bodies / git.blobs : undefined;
      out[c.name] = { baton, git, ratio, goal: c.goal };
      const vs = (a: number, b: number | undefined) =>
        b === undefined ? kb(a) : `${kb(a)} vs ${kb(b)} (${fmtRatio(a / b)})`;
      rows.push([
        c.name,
        `${vs(baton.bodies, git?.blobs)}`,
        `${vs(baton.events + baton.rows, git && git.commits + git.trees)}`,
        `${vs(baton.file, git?.pack)}`,
        `${fmtInt(baton.snapshots)}`,
        ratio === undefined ? '–' : `≤ ${c.goal}× ${verdict(ratio <= c.goal)}`,
      ]);
      console.log(
        `  ${c.name}: bodies ${kb(baton.bodies)} as stored (${kb(baton.bodiesRaw)} before compression), ${baton.snapshots} snapshots; events ${kb(baton.events)}, version rows ${kb(baton.rows)}${git ? `; git pack ${kb(git.pack)} = blobs ${kb(git.blobs)} + commits ${kb(git.commits)} + trees ${kb(git.trees)}` : ''}`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log(
    "  Bodies: the artifact's content history (every blob its versions refer to, as stored) against git's blob objects. Events and version rows: what git keeps in commits and trees. The file: the whole SQLite file after VACUUM against the whole pack. The goal is on bodies.",
  );
  table(
    [
      'document',
      'bodies vs git blobs',
      'events+rows vs commits+trees',
      'file vs pack',
      'snapshots',
      'goal (bodies)',
    ],
    rows,
  );
  return out;
}

// ------------------------------------------------------------------ B. a large artifact

const GOAL_EDIT_MS = 10;
const GOAL_MERGE_MS = 50;
const GOAL_CHANGES_MS = 100;
const LARGE_BYTES = 1_000_000;
const CHANGES = 20;
const TIMING: TimingOptions = { warmupMs: 300, roundMs: 300, rounds: 7, maxPerRound: 20 };

/** `text` with line `at` replaced. */
function withLine(text: string, at: number, line: string): string {
  const lines = text.split('\n');
  lines[at] = line;
  return lines.join('\n');
}

async function largeBench(): Promise<Record<string, unknown>> {
  console.log(
    `\n7B. A 1 MB text artifact on SQLite (medians of ${TIMING.rounds} rounds, each beside its baseline)`,
  );
  const dir = mkdtempSync(join(os.tmpdir(), 'baton-bench-large-'));
  const ws = await Workspace.open({
    store: new SqliteStore({ path: join(dir, 'large.db') }),
    tickIntervalMs: 0,
  });
  try {
    const ada = await ws.bootstrap({ name: 'Ada' });
    const me = ws.as(ada.id);
    const bob = await me.identities.create({ kind: 'human', name: 'Bob' });
    await me.capabilities.grant({ to: bob.id, resource: 'artifact:*', actions: ['read'] });
    const reader = ws.as(bob.id);
    const rnd = random(7);
    let text = documentText(LARGE_BYTES, rnd);
    const lineCount = text.split('\n').length - 1;
    const doc = await me.artifacts.create({ kind: 'text', title: 'Large', content: text });
    let head = 1;
    let n = 0;
    // The next content is made untimed (`prepare`): splitting and joining 1 MB is the caller's work.
    let next = text;
    const nextEdit = () => {
      n++;
      next = withLine(text, (n * 7_919) % lineCount, `edited line ${n} ${pick(rnd, WORDS)}`);
    };
    const edit = async () => {
      const a = await me.artifacts.edit(doc.id, {
        content: next,
        baseVersion: head,
        reason: `edit ${n}`,
      });
      head = a.version;
      text = next;
    };
    for (let i = 0; i < CHANGES; i++) {
      nextEdit();
      await edit();
    }
    console.log(`  ${fmtInt(text.length)} bytes, ${fmtInt(lineCount)} lines`);

    // A clean merge: two one-line edits far apart, and the merged edit through artifacts.edit.
    const base = text;
    const theirs = withLine(base, Math.floor(lineCount / 4), 'theirs');
    const yours = withLine(base, Math.floor((3 * lineCount) / 4), 'yours');
    if (!mergeText(base, theirs, yours).clean)
      throw new Error('the merge bench expects a clean merge');
    // Untimed: someone else's edit of one line moves the head; timed: an edit of another
    // line from the version before it, which merges.
    let mergeBase = head;
    let mine = text;
    const theirEdit = async () => {
      mergeBase = head;
      nextEdit();
      mine = withLine(text, (n * 7_919 + 5_000) % lineCount, `merged ${n}`);
      await edit();
    };
    const mergedEdit = async () => {
      const a = await me.artifacts.edit(doc.id, {
        content: mine,
        baseVersion: mergeBase,
        reason: 'merged',
      });
      head = a.version;
      text = a.content as string;
    };

    // The plain work the fast paths are held to: the 20 diffs of whole texts, already in memory.
    const versions: string[] = [];
    const changes = async () => {
      const out = await reader.artifacts.changesSince(doc.id, { since: head - CHANGES });
      if (out.length !== CHANGES) throw new Error(`expected ${CHANGES} changes, got ${out.length}`);
      return out;
    };
    const plainDiffs = () => {
      for (let v = 1; v < versions.length; v++) {
        const [a, b] = [textLines(versions[v - 1]!), textLines(versions[v]!)];
        renderUnifiedDiff(a, b, myersDiff(a, b), 0);
      }
    };
    const loadVersions = async () => {
      versions.length = 0;
      for (let v = head - CHANGES; v <= head; v++)
        versions.push((await me.artifacts.get(doc.id, { version: v })).content as string);
    };
    await loadVersions();

    const [tEdit, tHash] = await timeInterleaved(
      [
        { name: 'edit one line', fn: edit, prepare: nextEdit },
        { name: 'sha256 of the content', fn: () => sha256b64(text) },
      ],
      TIMING,
    );
    const [tMerge, tMergePlain] = await timeInterleaved(
      [
        { name: 'mergeText', fn: () => mergeText(base, theirs, yours) },
        { name: 'diff3 over every line', fn: () => mergeTextPlain(base, theirs, yours) },
      ],
      TIMING,
    );
    const [tMerged] = await timeInterleaved(
      [{ name: 'merged edit', fn: mergedEdit, prepare: theirEdit }],
      TIMING,
    );
    await loadVersions();
    const [tChanges, tPlain] = await timeInterleaved(
      [
        { name: `changesSince of ${CHANGES} versions`, fn: changes },
        { name: `${CHANGES} diffs of whole texts in memory`, fn: plainDiffs },
      ],
      TIMING,
    );
    // The parts, each against the plain way over every line: the stored change of a one-line
    // edit, and applying it.
    const edited = withLine(text, Math.floor(lineCount / 2), 'one changed line');
    const patch = unifiedDiff(text, edited, undefined, { context: 0, header: false });
    const [tDiff, tDiffPlain, tApply, tApplyPlain] = await timeInterleaved(
      [
        { name: 'diff of a one-line edit', fn: () => unifiedDiff(text, edited) },
        {
          name: 'over every line',
          fn: () => {
            const [a, b] = [textLines(text), textLines(edited)];
            return renderUnifiedDiff(a, b, myersDiff(a, b), 0);
          },
        },
        { name: 'apply a one-line change', fn: () => applyUnifiedDiff(text, patch) },
        {
          name: 'split, apply, join',
          fn: () => applyUnifiedDiffToLines(textLines(text), patch)?.join(''),
        },
      ],
      TIMING,
    );
    const ms = (t: Timing) => t.cpuNs / 1e6;
    const row = (t: Timing, goal: number | undefined, base: Timing | undefined): string[] => [
      t.name,
      fmtUs(t.cpuNs),
      `${fmtUs(t.ns)} (${fmtUs(t.minNs)})`,
      goal === undefined ? '–' : `≤ ${goal} ms ${verdict(ms(t) <= goal)}`,
      base ? `${fmtRatio(pairedRatio(t, base).median)} ${base.name} (${fmtUs(base.cpuNs)})` : '–',
    ];
    const [load] = os.loadavg();
    console.log(
      `  Goals are judged on CPU time: wall time here also holds other processes' (load ${load!.toFixed(1)} on ${os.cpus().length} cores).`,
    );
    table(
      [
        'operation',
        'CPU',
        'wall (fastest round)',
        'goal (CPU)',
        'against the baseline of the same rounds',
      ],
      [
        row(tEdit!, GOAL_EDIT_MS, tHash),
        row(tMerge!, GOAL_MERGE_MS, tMergePlain),
        row(tMerged!, undefined, undefined),
        row(tChanges!, GOAL_CHANGES_MS, tPlain),
        row(tDiff!, undefined, tDiffPlain),
        row(tApply!, undefined, tApplyPlain),
      ],
    );
    const figure = (t: Timing, goal?: number, base?: Timing) => ({
      cpuMs: ms(t),
      wallMs: t.ns / 1e6,
      fastestWallMs: t.minNs / 1e6,
      goalMs: goal,
      pass: goal === undefined ? undefined : ms(t) <= goal,
      baseline: base && { name: base.name, cpuMs: ms(base), ratio: pairedRatio(t, base).median },
    });
    return {
      bytes: text.length,
      lines: lineCount,
      load,
      edit: figure(tEdit!, GOAL_EDIT_MS, tHash),
      merge: figure(tMerge!, GOAL_MERGE_MS, tMergePlain),
      mergedEdit: figure(tMerged!),
      changesSince: figure(tChanges!, GOAL_CHANGES_MS, tPlain),
      diff: figure(tDiff!, undefined, tDiffPlain),
      apply: figure(tApply!, undefined, tApplyPlain),
    };
  } finally {
    await ws.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------ main

const which = process.argv[2];
const results: Record<string, unknown> = {};
if (which !== 'large') results.storage = await storageBench();
if (which !== 'storage') results.large = await largeBench();
const dir = new URL('./results/', import.meta.url);
await mkdir(dir, { recursive: true });
await writeFile(new URL('artifacts.json', dir), `${JSON.stringify(results, null, 2)}\n`);
