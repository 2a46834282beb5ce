import { describe, expect, it } from 'vitest';
import { ENTRIES, formatReport, runFuzz } from './fuzzHarness.js';

// The sweep `pnpm test` runs: a few thousand calls with a fixed seed (the script
// `pnpm fuzz` makes 10⁵). Each finding is listed with the input that shows it.
const SEED = 1_215;
const API = ENTRIES.map((e) => e.name).filter((n) => !n.startsWith('util.'));
const HELPERS = ENTRIES.map((e) => e.name).filter((n) => n.startsWith('util.'));

function findings(r: Awaited<ReturnType<typeof runFuzz>>) {
  return {
    nonBatonErrors: r.groups.map((g) => `${g.key} (${g.count}×)\n    ${g.input}`),
    headChangedOnRefusal: r.headChanges.map((h) => `${h.entry} threw ${h.code}: ${h.input}`),
    hangs: r.hangs.map((h) => `${h.entry}: ${h.input}`),
    uncaught: r.unhandled,
  };
}

const clean = { nonBatonErrors: [], headChangedOnRefusal: [], hangs: [], uncaught: [] };

describe('fuzz of every public input (finding 15)', () => {
  it('#15 answers every fuzzed Workspace and Actor call with a result or a BatonError, never changes the head on a refusal and never hangs', async () => {
    const r = await runFuzz({
      calls: 4_000,
      seed: SEED,
      resetEvery: 800,
      sqliteEvery: 3,
      entries: API,
    });
    expect(r.calls, formatReport(r)).toBe(4_000);
    expect(findings(r), formatReport(r)).toEqual(clean);
  }, 120_000);

  it('#15 answers every fuzzed call of the exported helpers with a result or a BatonError', async () => {
    const r = await runFuzz({ calls: 600, seed: SEED, sqliteEvery: 0, entries: HELPERS });
    expect(findings(r), formatReport(r)).toEqual(clean);
  }, 60_000);
});
