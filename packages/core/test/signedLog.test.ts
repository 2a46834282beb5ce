import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type BatonEvent, EMPTY_HEAD, eventHash, signingText, Workspace } from '../src/index.js';
import { linkInPlace, linkProblem } from '../src/log/chain.js';

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

  it('chains its signed events to the very links they were committed with', () => {
    const ws = events[0]!.ws;
    const signed = events.map(({ seq: _s, prev: _p, hash: _h, ...e }) => e);
    const linked = signed.map((e) => ({ ...e, seq: 0, prev: '', hash: '' }));
    linkInPlace(EMPTY_HEAD, ws, linked);
    expect(linked).toEqual(events);
    let head = EMPTY_HEAD;
    for (const e of events) {
      expect(linkProblem(e, head, ws)).toBeUndefined();
      head = { seq: e.seq, hash: e.hash };
    }
    expect(linkProblem(events[2]!, { seq: 1, hash: events[0]!.hash }, ws)).toEqual({
      seq: 2,
      reason: 'event 2 is missing (the next one read is seq 3)',
    });
    expect(linkProblem(events[1]!, { seq: 1, hash: 'other' }, ws)?.reason).toMatch(
      /^prev .* is not the hash of the event before \(seq 1, hash other\)/,
    );
  });
});
