/**
 * Fuzz of every public input of @baton/core (issue 12): calls every entry point with
 * fast-check-made arguments — valid, one to three places mutated, or wholly random — and
 * checks each call either succeeds or throws a BatonError, that a refused call leaves the
 * store head unchanged, and that every call settles within the time bound.
 *
 *   pnpm fuzz [calls=100000] [--seed N] [--no-shrink] [--sqlite-every K] [--reset-every N]
 *             [--only name,name] [--json file]
 *   (= tsx --conditions=source test/reliability/fuzz.ts …)
 *
 * The calls run in a child process watched by this one: a call that blocks the event loop
 * (which no timer inside the process can interrupt) is killed after 30 s, counted as a hang,
 * and the run goes on in a new child from the next call.
 *
 * Prints a summary (non-BatonErrors grouped by entry point, error name and first message
 * line, each with its smallest input and, unless `--no-shrink`, the one fast-check shrank it
 * to, by the Baton file they pass through). Exits 1 when any call threw something other than
 * a BatonError, changed the head on a refusal or hung; 0 otherwise. The same seed makes the
 * same calls.
 */

import { type ChildProcess, fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  type CallResult,
  formatReport,
  passed,
  type RunOptions,
  runCalls,
  shrinkGroups,
  Tally,
} from './fuzzHarness.js';

/** How long one call may block before the watchdog kills it. */
const BLOCKED_MS = 30_000;

type Message =
  | { t: 'start'; i: number; entry: string }
  | { t: 'ready'; i: number; recipe: string }
  | { t: 'result'; r: CallResult }
  | { t: 'uncaught'; text: string }
  | { t: 'fixture'; kind: 'memory' | 'sqlite' }
  | { t: 'done' };

if (process.env.BATON_FUZZ_CHILD) {
  const options = JSON.parse(process.env.BATON_FUZZ_CHILD) as RunOptions;
  const send = (m: Message) => process.send!(m);
  await runCalls(options, {
    onStart: (i, entry) => send({ t: 'start', i, entry }),
    onReady: (i, recipe) => send({ t: 'ready', i, recipe: recipe.slice(0, 2_000) }),
    onResult: (r) => send({ t: 'result', r }),
    onUncaught: (text) => send({ t: 'uncaught', text }),
    onFixture: (kind) => send({ t: 'fixture', kind }),
  });
  send({ t: 'done' });
  process.disconnect?.();
  process.exit(0);
}

const argv = process.argv.slice(2);
const flag = (name: string) => {
  const i = argv.indexOf(name);
  if (i < 0) return undefined;
  const v = argv[i + 1];
  argv.splice(i, 2);
  return v;
};
const seed = Number(flag('--seed') ?? 20261201);
const sqliteEvery = Number(flag('--sqlite-every') ?? 10);
const resetEvery = Number(flag('--reset-every') ?? 1_000);
const only = flag('--only')?.split(',');
const json = flag('--json');
const noShrink = argv.includes('--no-shrink');
const calls = Number(argv.find((a) => !a.startsWith('--')) ?? 100_000);
if (![seed, calls, sqliteEvery, resetEvery].every(Number.isInteger) || calls < 1) {
  console.error(
    'usage: fuzz.ts [calls=100000] [--seed N] [--no-shrink] [--sqlite-every K] [--reset-every N] [--only a,b] [--json file]',
  );
  process.exit(2);
}

console.log(`Fuzzing ${calls} calls, seed ${seed}…`);
const tally = new Tally(seed);
const step = Math.max(1, Math.floor(calls / 20));
const started = performance.now();

/** Runs calls from `from` in a child; resolves with the index to go on from (or `calls` when done). */
function chunk(from: number): Promise<number> {
  return new Promise((resolve) => {
    const options: RunOptions = { calls, seed, from, sqliteEvery, resetEvery, entries: only };
    const child: ChildProcess = fork(fileURLToPath(import.meta.url), [], {
      execArgv: process.execArgv,
      env: { ...process.env, BATON_FUZZ_CHILD: JSON.stringify(options) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let current: { i: number; entry: string; recipe?: string; at: number } | undefined;
    let next = from;
    let settled = false;
    const finish = (to: number) => {
      if (settled) return;
      settled = true;
      clearInterval(watchdog);
      resolve(to);
    };
    const watchdog = setInterval(() => {
      if (!current || performance.now() - current.at < BLOCKED_MS) return;
      tally.add({
        index: current.i,
        entry: current.entry,
        actor: '?',
        kind: 'hang',
        ms: performance.now() - current.at,
        input: `${current.recipe ?? '(input not built yet)'} — blocked the event loop; killed`,
      });
      console.log(
        `  call ${current.i} (${current.entry}) blocked for ${BLOCKED_MS / 1000} s: killed`,
      );
      const resume = current.i + 1;
      current = undefined;
      child.kill('SIGKILL');
      finish(resume);
    }, 1_000);
    child.on('message', (m: Message) => {
      switch (m.t) {
        case 'start':
          current = { i: m.i, entry: m.entry, at: performance.now() };
          break;
        case 'ready':
          if (current?.i === m.i) current.recipe = m.recipe;
          break;
        case 'result':
          current = undefined;
          next = m.r.index + 1;
          tally.add(m.r);
          if (tally.report.calls % step === 0) {
            const r = tally.report;
            console.log(
              `  ${r.calls} calls, ${r.other} non-BatonErrors, ${r.headChanges.length} head changes, ${r.hangs.length} hangs (${((performance.now() - started) / 1000).toFixed(0)} s)`,
            );
          }
          break;
        case 'uncaught':
          tally.report.unhandled.push(m.text);
          break;
        case 'fixture':
          tally.report.fixtures[m.kind]++;
          break;
        case 'done':
          finish(calls);
          break;
      }
    });
    child.on('exit', (code, signal) => {
      if (settled) return;
      // Died on its own (an error that escaped everything): note it, go on after the call.
      tally.report.unhandled.push(
        `the run's process exited (${signal ?? code}) during call ${current?.i ?? next} (${current?.entry ?? '?'})`,
      );
      finish((current?.i ?? next) + 1);
    });
  });
}

let from = 0;
while (from < calls) from = await chunk(from);
const report = tally.finish();
if (!noShrink && report.groups.length) {
  console.log(`Shrinking ${report.groups.length} groups (up to 10 s each)…`);
  await shrinkGroups(report, { entries: only });
}
console.log(`\n${formatReport(report)}\n\n${passed(report) ? 'PASS' : 'FAIL'}`);
if (json) writeFileSync(json, JSON.stringify(report, null, 2));
process.exit(passed(report) ? 0 : 1);
