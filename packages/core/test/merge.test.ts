import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { createPatch } from 'rfc6902';
import { describe, expect, it, onTestFinished } from 'vitest';
import { mergeTextPlain } from '../src/artifacts/merge.js';
import { type JsonValue, MAX_JSON_DEPTH, mergeJson, mergeText } from '../src/index.js';
import { world } from './world.js';

/** Random edits of a list of lines: deletions, insertions of new lines, replacements. */
function edits(fresh: () => string) {
  return fc
    .array(
      fc.record({
        op: fc.constantFrom('del', 'ins', 'chg'),
        at: fc.nat(),
        n: fc.integer({ min: 1, max: 3 }),
      }),
      { minLength: 0, maxLength: 4 },
    )
    .map((ops) => (lines: string[]) => {
      const out = [...lines];
      for (const { op, at, n } of ops) {
        const i = out.length ? at % (out.length + 1) : 0;
        if (op === 'del' && out.length)
          out.splice(Math.min(i, out.length - 1), Math.min(n, out.length - i));
        else if (op === 'ins') out.splice(i, 0, ...Array.from({ length: n }, fresh));
        else if (op === 'chg' && out.length) out[Math.min(i, out.length - 1)] = fresh();
      }
      return out;
    });
}

describe('three-way text merge', () => {
  it('agrees with git merge-file on thousands of random edits of documents with unique lines', () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-merge-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    let uid = 0;
    const fresh = () => `new line ${uid++}`;
    const doc = (l: string[]) => (l.length ? `${l.join('\n')}\n` : '');
    // Random cases (deterministic seed), then one shell loop runs git on all of them:
    // spawning git once per case from Node would dominate the test's time.
    const cases = fc
      .sample(fc.tuple(fc.integer({ min: 0, max: 14 }), edits(fresh), edits(fresh)), {
        numRuns: 2_000,
        seed: 20261121,
      })
      .map(([size, editYours, editTheirs], n) => {
        const base = Array.from({ length: size }, (_, i) => `base line ${n}-${i}`);
        return { b: doc(base), y: doc(editYours(base)), t: doc(editTheirs(base)) };
      });
    cases.forEach((c, n) => {
      writeFileSync(join(dir, `${n}.yours`), c.y);
      writeFileSync(join(dir, `${n}.base`), c.b);
      writeFileSync(join(dir, `${n}.theirs`), c.t);
    });
    const script = `cd "$1" && for n in $(seq 0 ${cases.length - 1}); do git merge-file -p $n.yours $n.base $n.theirs > $n.out; echo $? > $n.code; done`;
    const run = spawnSync('bash', ['-c', script, 'merge', dir]);
    expect(run.status).toBe(0);
    let clean = 0;
    let conflicts = 0;
    cases.forEach((c, n) => {
      const gitClean = readFileSync(join(dir, `${n}.code`), 'utf8').trim() === '0';
      const ours = mergeText(c.b, c.t, c.y);
      expect(ours.clean, `case ${n}: ${JSON.stringify(c)}`).toBe(gitClean);
      if (ours.clean) {
        expect(ours.merged, `case ${n}`).toBe(readFileSync(join(dir, `${n}.out`), 'utf8'));
        clean++;
      } else conflicts++;
    });
    // Both verdicts were exercised.
    expect(clean).toBeGreaterThan(200);
    expect(conflicts).toBeGreaterThan(200);
  }, 120_000);

  it('never loses an edit on documents with repeated lines: each side’s new lines are in the result, or it conflicts', () => {
    const word = fc.constantFrom('a', 'b', 'c', '');
    fc.assert(
      fc.property(
        fc.array(word, { maxLength: 12 }),
        fc.array(word, { maxLength: 12 }),
        fc.array(word, { maxLength: 12 }),
        (base, yours, theirs) => {
          const [b, y, t] = [base.join('\n'), yours.join('\n'), theirs.join('\n')];
          const m = mergeText(b, t, y);
          if (!m.clean) return;
          // Identity and symmetry of the easy cases.
          if (y === b) expect(m.merged).toBe(t);
          if (t === b || t === y) expect(m.merged).toBe(y);
          // Every line one side inserted (relative to the base) appears in the result at least as often.
          const count = (xs: string[]) =>
            xs.reduce((acc, x) => acc.set(x, (acc.get(x) ?? 0) + 1), new Map<string, number>());
          const [cb, cy, ct, cm] = [b, y, t, m.merged].map((x) => count(x.split('\n')));
          for (const side of [cy!, ct!]) {
            for (const [line, n] of side) {
              const inserted = n - (cb!.get(line) ?? 0);
              if (inserted > 0) {
                expect(cm!.get(line) ?? 0, `line ${JSON.stringify(line)}`).toBeGreaterThanOrEqual(
                  inserted,
                );
              }
            }
          }
        },
      ),
      { numRuns: 3_000, seed: 7 },
    );
  });
});

describe('three-way text merge of large documents', () => {
  // Few distinct lines, so that cut prefixes and suffixes meet repeated lines at their edges.
  const line = fc.constantFrom('a', 'b', 'c', '', 'a b');
  const doc = fc.array(line, { maxLength: 14 });
  /** A side: the base with a few lines deleted, inserted or replaced. */
  const side = (base: string[]) =>
    fc
      .array(fc.tuple(fc.constantFrom('del', 'ins', 'chg'), fc.nat(), line), { maxLength: 3 })
      .map((ops) => {
        const out = [...base];
        for (const [op, at, l] of ops) {
          const i = at % (out.length + 1);
          if (op === 'ins') out.splice(i, 0, l);
          else if (out.length > 0)
            out.splice(Math.min(i, out.length - 1), 1, ...(op === 'chg' ? [l] : []));
        }
        return out;
      });

  it('gives what diff3 over every line gives, merged text and conflict regions alike', () => {
    const cases = doc.chain((base) =>
      fc.tuple(fc.constant(base), side(base), side(base), doc, doc),
    );
    fc.assert(
      fc.property(cases, ([base, yours, theirs, head, tail]) => {
        // A common head and tail, as in a long document edited in its middle.
        const text = (l: string[]) => [...head, ...l, ...tail].join('\n');
        const [b, y, t] = [text(base), text(yours), text(theirs)];
        expect(mergeText(b, t, y)).toEqual(mergeTextPlain(b, t, y));
      }),
      { numRuns: 20_000, seed: 18 },
    );
  });

  it('merges one-line edits far apart in a document of 20,000 lines', () => {
    const base = Array.from({ length: 20_000 }, (_, i) => `line ${i % 50}`);
    const theirs = [...base];
    theirs[1_000] = 'theirs';
    const yours = [...base];
    yours[19_000] = 'yours';
    const m = mergeText(base.join('\n'), theirs.join('\n'), yours.join('\n'));
    const expected = [...theirs];
    expected[19_000] = 'yours';
    expect(m).toEqual({ clean: true, merged: expected.join('\n') });
  });
});

describe('three-way json merge', () => {
  const doc = fc.dictionary(
    fc.constantFrom('a', 'b', 'c', 'd'),
    fc.oneof(
      fc.integer({ min: 0, max: 3 }),
      fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }),
    ),
    { maxKeys: 4 },
  );

  it('never loses an edit: a clean merge holds every change of both sides', () => {
    fc.assert(
      fc.property(doc, doc, doc, (base, yours, theirs) => {
        const m = mergeJson(base as JsonValue, theirs as JsonValue, yours as JsonValue);
        if (!m.clean) return;
        // Applying each side's own changes to the merge changes nothing: they are all in it.
        for (const side of [yours, theirs]) {
          for (const op of createPatch(base, side)) {
            const key = op.path.split('/')[1]!;
            expect((m.merged as Record<string, unknown>)[key], `${op.op} ${op.path}`).toEqual(
              (side as Record<string, unknown>)[key],
            );
          }
        }
      }),
      { numRuns: 3_000, seed: 11 },
    );
  });

  it('merges documents nested as deep as artifact content may be, and refuses deeper ones naming the side', () => {
    const nest = (n: number, leaf: JsonValue): JsonValue => {
      let v = leaf;
      for (let i = 0; i < n; i++) v = { v };
      return v;
    };
    // Two keys at the top, each side changing its own: a clean merge of both.
    const base = { a: nest(MAX_JSON_DEPTH - 1, 0), b: 0 };
    const theirs = { a: nest(MAX_JSON_DEPTH - 1, 1), b: 0 };
    const yours = { a: nest(MAX_JSON_DEPTH - 1, 0), b: 1 };
    expect(mergeJson(base, theirs, yours)).toEqual({
      clean: true,
      merged: { a: nest(MAX_JSON_DEPTH - 1, 1), b: 1 },
    });
    expect(() => mergeJson(base, theirs, { ...yours, a: nest(MAX_JSON_DEPTH, 0) })).toThrow(
      expect.objectContaining({
        code: 'VALIDATION',
        details: { function: 'mergeJson', field: 'yours' },
      }),
    );
  });
});

describe('merge arguments', () => {
  it('refuses a text merge of anything but three strings, naming the argument', () => {
    expect(() => mergeText('a', 'b', 5 as unknown as string)).toThrow(
      /mergeText: `yours` must be a string/,
    );
    expect(() => mergeText(null as unknown as string, 'b', 'c')).toThrow(/mergeText: `base`/);
  });
});

describe('concurrent edits through two Workspace instances', () => {
  it('puts every edit in the history (merged) or raises it as a conflict: none is lost', async () => {
    const w = await world();
    await w.me.capabilities.grant({
      to: w.drafter.id,
      resource: 'artifact:*',
      actions: ['read', 'create', 'write'],
    });
    const ws2 = await w.peer();
    const lines = Array.from({ length: 30 }, (_, i) => `line ${i}`);
    const doc = await w.agent.artifacts.create({
      kind: 'text',
      title: 'Shared',
      content: `${lines.join('\n')}\n`,
    });
    const actors = [w.agent, ws2.as(w.drafter.id), w.me, ws2.as(w.ada.id)];
    let attempted = 0;
    let conflicts = 0;
    for (let round = 0; round < 6; round++) {
      const base = await w.agent.artifacts.get(doc.id);
      const results = await Promise.allSettled(
        actors.map((a, i) => {
          attempted++;
          const mine = (base.content as string).split('\n');
          const at = (round * 7 + i * (i % 2 ? 3 : 11)) % 30;
          mine[at] = `${mine[at]} edited by ${i} in round ${round}`;
          return a.artifacts.edit(doc.id, {
            content: mine.join('\n'),
            baseVersion: base.version,
            reason: `round ${round} actor ${i}`,
          });
        }),
      );
      for (const r of results) {
        if (r.status === 'rejected') {
          expect(r.reason).toMatchObject({ code: 'MERGE_CONFLICT' });
          conflicts++;
        }
      }
    }
    const history = await w.me.artifacts.history(doc.id, { limit: 500 });
    const edits = history.items.length - 1;
    expect(edits + conflicts).toBe(attempted);
    expect(edits).toBeGreaterThan(0);
    // Every committed edit's line is in the final text.
    const final = (await w.me.artifacts.get(doc.id)).content as string;
    for (const h of history.items.slice(1)) {
      const [, round, actor] = /round (\d+) actor (\d+)/.exec(h.reason!)!;
      expect(final).toContain(`edited by ${actor} in round ${round}`);
    }
    expect((await w.ws.verify()).ok).toBe(true);
  });
});
