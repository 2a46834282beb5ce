import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type BatonEvent, eventHash, signingText, Workspace } from '../src/index.js';

// A log exported on main at 1d8c3a4, before issue 17 changed how signing text and ids are
// made: strings with lone surrogates, astral and escaped characters, numbers of every form,
// keys that sort differently by code unit and by code point, and one of most event kinds.
const fixture = readFileSync(
  new URL('./fixtures/signedBeforeIssue17.jsonl', import.meta.url),
  'utf8',
);
const lines = fixture.trimEnd().split('\n');
const events = lines.flatMap((l) => {
  const parsed = JSON.parse(l) as { event?: BatonEvent };
  return parsed.event ? [parsed.event] : [];
});

describe('a log signed before the write path was made plain', () => {
  it('recomputes every event’s hash from its signing text as it was signed', () => {
    expect(events.length).toBe(15);
    for (const e of events) {
      const { hash, ...rest } = e;
      expect(eventHash(rest, signingText(e))).toBe(hash);
    }
  });

  it('imports into a new workspace and verifies, signatures included', async () => {
    const ws = await Workspace.open();
    const head = await ws.import(lines);
    expect(head).toEqual(JSON.parse(lines[0]!).head);
    const report = await ws.verify();
    expect(report.problem).toBeUndefined();
    expect(report).toMatchObject({ ok: true, events: 15 });
  });
});
