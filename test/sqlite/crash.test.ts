import { describe, expect, it } from 'vitest';
import { runCrashLoop } from './crashHarness.js';

describe('SqliteStore through crashes', () => {
  it('keeps every acknowledged batch whole and the log verifiable while appending processes are SIGKILLed 50 times', {
    timeout: 120_000,
  }, async () => {
    const report = await runCrashLoop({ kills: 50, lanes: 2 });
    expect(report.failures).toEqual([]);
    expect(report.kills).toBeGreaterThanOrEqual(50);
    expect(report.ackedBatches).toBeGreaterThan(0);
    expect(report.lost).toEqual([]);
    expect(report.partial).toEqual([]);
    expect(report.verify, JSON.stringify(report.verify.problem)).toMatchObject({
      ok: true,
      events: report.events,
    });
  });
});
