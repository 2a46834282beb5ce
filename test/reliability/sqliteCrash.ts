/**
 * Crash test of @baton/sqlite at scale: SIGKILLs processes appending to one SQLite file at
 * random moments, as many times as asked, then checks no batch is partial, no acknowledged
 * event is lost and `verify()` passes. Not part of `pnpm test` (that kills 50 times).
 *
 *   pnpm crash:sqlite [kills=200] [lanes=2]
 *   (= tsx --conditions=source test/reliability/sqliteCrash.ts …)
 *
 * Exits 0 when everything held, 1 otherwise, after printing a summary.
 */

import { runCrashLoop } from '../sqlite/crashHarness.js';

const kills = Number(process.argv[2] ?? 200);
const lanes = Number(process.argv[3] ?? 2);
if (!Number.isInteger(kills) || kills < 1 || !Number.isInteger(lanes) || lanes < 1) {
  console.error('usage: sqliteCrash.ts [kills=200] [lanes=2]');
  process.exit(2);
}

console.log(`Killing ${kills} appending processes (${lanes} at a time) with SIGKILL…`);
const r = await runCrashLoop({ kills, lanes, progress: (line) => console.log(`  ${line}`) });
const ok =
  r.failures.length === 0 &&
  r.lost.length === 0 &&
  r.partial.length === 0 &&
  r.verify.ok &&
  r.verify.events === r.events;
console.log(`
kills                          ${r.kills} (${r.inFlight} with a batch in flight)
batches acknowledged           ${r.ackedBatches} (${r.ackedEvents} events)
events in the log              ${r.events}
acknowledged events lost       ${r.lost.length}${r.lost.length ? ` (${r.lost.slice(0, 5).join(', ')}…)` : ''}
partial batches                ${r.partial.length}${r.partial.length ? ` (${r.partial.slice(0, 5).join(', ')}…)` : ''}
children that died otherwise   ${r.failures.length}
verify()                       ${r.verify.ok ? 'ok' : `FAILED at seq ${r.verify.problem?.seq}: ${r.verify.problem?.reason}`} (${r.verify.events} events)
took                           ${(r.ms / 1000).toFixed(1)} s
${ok ? 'PASS' : 'FAIL'}`);
for (const f of r.failures.slice(0, 3)) console.log(f);
process.exit(ok ? 0 : 1);
