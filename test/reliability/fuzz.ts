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
 * Prints a summary (non-BatonErrors grouped by entry point, error name and first message
 * line, each with its smallest input as JavaScript source, by the Baton file they pass
 * through). Exits 1 when any call threw something else than a BatonError, changed the head
 * on a refusal or hung; 0 otherwise. The same seed makes the same calls.
 */

import { writeFileSync } from 'node:fs';
import { formatReport, passed, runFuzz, shrinkGroups } from './fuzzHarness.js';

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
const step = Math.max(1, Math.floor(calls / 20));
const report = await runFuzz({
  calls,
  seed,
  sqliteEvery,
  resetEvery,
  entries: only,
  onProgress: (done, r) => {
    if (done % step === 0)
      console.log(
        `  ${done} calls, ${r.other} non-BatonErrors, ${r.headChanges.length} head changes, ${r.hangs.length} hangs (${(performance.now() / 1000).toFixed(0)} s)`,
      );
  },
});
if (!noShrink && report.groups.length) {
  console.log(`Shrinking ${report.groups.length} groups…`);
  await shrinkGroups(report, { entries: only, onGroup: (g) => console.log(`  ${g.key}`) });
}
console.log(`\n${formatReport(report)}\n\n${passed(report) ? 'PASS' : 'FAIL'}`);
if (json)
  writeFileSync(
    json,
    JSON.stringify(report, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v), 2),
  );
process.exit(passed(report) ? 0 : 1);
