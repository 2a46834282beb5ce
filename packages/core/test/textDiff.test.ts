import { applyPatch, createPatch } from 'diff';
import fc from 'fast-check';
import { applyPatch as applyJsonPatch, type Operation } from 'rfc6902';
import { describe, expect, it } from 'vitest';
import { createJsonPatch } from '../src/artifacts/jsonDiff.js';
import {
  applyUnifiedDiff,
  applyUnifiedDiffToLines,
  changedRegion,
  diffSequences,
  myersDiff,
  renderUnifiedDiff,
  textLines,
  unifiedDiff,
} from '../src/artifacts/textDiff.js';
import { isBatonError } from '../src/index.js';

/** Length of a longest common subsequence, by the textbook table. */
function lcs(a: string[], b: string[]): number {
  const row = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    let diag = 0;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = a[i - 1] === b[j - 1] ? diag + 1 : Math.max(up, row[j - 1]!);
      diag = up;
    }
  }
  return row[b.length]!;
}

const text = fc
  .array(fc.constantFrom('a\n', 'b\n', 'c', '\n', 'x\r\n', 'é\n'), { maxLength: 20 })
  .map((parts) => parts.join(''));

describe('text diff', () => {
  it('finds a shortest edit (as many common items as a longest common subsequence)', () => {
    const items = fc.array(fc.constantFrom('a', 'b', 'c'), { maxLength: 30 });
    fc.assert(
      fc.property(items, items, (a, b) => {
        const hunks = diffSequences(a, b);
        const common = lcs(a, b);
        expect(hunks.reduce((n, h) => n + h.aLength, 0)).toBe(a.length - common);
        expect(hunks.reduce((n, h) => n + h.bLength, 0)).toBe(b.length - common);
      }),
      { numRuns: 5_000 },
    );
  });

  it('gives the new text back when its unified diff is applied to the old one, also with the budget spent', () => {
    fc.assert(
      fc.property(text, text, fc.constantFrom(0, 5, 4_000_000), (a, b, budget) => {
        const patch = unifiedDiff(a, b, budget);
        expect(applyUnifiedDiff(a, patch)).toBe(b);
      }),
      { numRuns: 5_000 },
    );
  });

  it('reads the unified diffs the diff library writes, and writes ones it reads', () => {
    fc.assert(
      fc.property(text, text, (a, b) => {
        expect(applyUnifiedDiff(a, createPatch('content', a, b, '', '', { context: 3 }))).toBe(b);
        expect(applyPatch(a, unifiedDiff(a, b))).toBe(b);
      }),
      { numRuns: 2_000 },
    );
  });

  it('refuses what is not a unified diff with VALIDATION naming `patch`', () => {
    for (const bad of ['hello', '@@ -1,2 +1,2 @@\n a\n', '@@ nonsense @@\n', '@@ -1 +1 @@\n*x\n']) {
      let caught: unknown;
      try {
        applyUnifiedDiff('a\nb\n', bad);
      } catch (err) {
        caught = err;
      }
      expect(isBatonError(caught, 'VALIDATION'), bad).toBe(true);
      expect((caught as Error).message).toContain('`patch`');
    }
  });

  it('diffs a whole rewrite of 40,000 lines in well under a second', () => {
    const a = Array.from({ length: 40_000 }, (_, i) => `line ${i}\n`).join('');
    const b = Array.from({ length: 40_000 }, (_, i) => `new line ${i}\n`).join('');
    const t = performance.now();
    const patch = unifiedDiff(a, b);
    expect(performance.now() - t).toBeLessThan(2_000);
    expect(applyUnifiedDiff(a, patch)).toBe(b);
  });
});

describe('text diff of large texts', () => {
  // Few distinct lines and characters, so that common parts end inside repeated lines.
  const bigText = fc
    .tuple(
      fc.array(fc.constantFrom('a\n', 'b\n', 'ab\n', '\n', 'a', 'é\n'), { maxLength: 12 }),
      fc.array(fc.constantFrom('a\n', 'b\n', 'x\n', 'long line of prose\n'), { maxLength: 300 }),
    )
    .map(([mid, common]) => ({ mid: mid.join(''), common: common.join('') }));
  const pair = fc.tuple(bigText, bigText, fc.boolean()).map(([x, y, tail]) => {
    // Both texts share a head (and maybe a tail), as versions of one document do.
    const end = tail ? y.common : '';
    return [x.common + x.mid + end, x.common + y.mid + end] as const;
  });

  it('finds the same hunks when the common prefix and suffix are cut first as when every item is compared', () => {
    const items = fc.array(fc.constantFrom('a', 'b', 'c'), { maxLength: 30 });
    fc.assert(
      fc.property(items, items, fc.constantFrom(0, 7, 4_000_000), (a, b, budget) => {
        expect(diffSequences(a, b, budget)).toEqual(myersDiff(a, b, budget));
      }),
      { numRuns: 10_000, seed: 18 },
    );
  });

  it('writes the unified diff that comparing every line writes, at any context and budget', () => {
    fc.assert(
      fc.property(
        pair,
        fc.constantFrom(0, 1, 3),
        fc.constantFrom(0, 5, 4_000_000),
        ([a, b], context, budget) => {
          const [la, lb] = [textLines(a), textLines(b)];
          const plain = renderUnifiedDiff(la, lb, myersDiff(la, lb, budget), 0, { context });
          expect(unifiedDiff(a, b, budget, { context })).toBe(plain);
        },
      ),
      { numRuns: 10_000, seed: 18 },
    );
  });

  it('cuts the region where two texts differ at whole lines, keeping what is common around it', () => {
    fc.assert(
      fc.property(pair, ([a, b]) => {
        const r = changedRegion(a, b);
        const [la, lb] = [textLines(a), textLines(b)];
        expect(la.slice(0, r.line)).toEqual(lb.slice(0, r.line));
        const tailA = la.slice(r.line + r.from.length);
        expect(tailA).toEqual(lb.slice(r.line + r.to.length));
        expect([...la.slice(0, r.line), ...r.from, ...tailA].join('')).toBe(a);
      }),
      { numRuns: 5_000, seed: 18 },
    );
  });

  it('applies a diff to a text as to its lines, and gives the new text back from a diff without context', () => {
    fc.assert(
      fc.property(pair, pair, ([a, b], [c]) => {
        for (const context of [0, 3]) {
          const patch = unifiedDiff(a, b, undefined, { context, header: context > 0 });
          expect(applyUnifiedDiff(a, patch)).toBe(b);
          // The same patch on another text: both appliers agree, whether it applies or not.
          expect(applyUnifiedDiff(c, patch)).toBe(
            applyUnifiedDiffToLines(textLines(c), patch)?.join(''),
          );
          expect(applyUnifiedDiffToLines(textLines(a), patch)).toEqual(textLines(b));
        }
      }),
      { numRuns: 5_000, seed: 18 },
    );
  });

  it('reads a diff without context that diff -U0 writes', () => {
    const patch =
      '--- a\n+++ b\n@@ -2 +2 @@\n-two\n+deux\n@@ -3,0 +4,2 @@\n+four\n+five\n@@ -5 +6,0 @@\n-six\n';
    expect(applyUnifiedDiff('one\ntwo\nthree\nx\nsix\n', patch)).toBe(
      'one\ndeux\nthree\nfour\nfive\nx\n',
    );
  });
});

describe('JSON diff', () => {
  it('gives a JSON Patch that turns the old value into the new one', () => {
    const leaf = fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constantFrom('x', 'y', null, true));
    const value = fc.letrec((tie) => ({
      v: fc.oneof(
        { depthSize: 'small' },
        leaf,
        fc.array(tie('v'), { maxLength: 5 }),
        fc.dictionary(fc.constantFrom('a', 'b', 'c/d', 'e~f'), tie('v'), { maxKeys: 4 }),
      ),
    })).v;
    fc.assert(
      fc.property(value, value, (a, b) => {
        const box = { doc: structuredClone(a) };
        const ops = createJsonPatch(a as never, b as never).map((op) => ({
          ...op,
          path: `/doc${op.path}`,
        })) as Operation[];
        expect(applyJsonPatch(box, ops).every((e) => e === null)).toBe(true);
        expect(box.doc).toEqual(b);
      }),
      { numRuns: 3_000 },
    );
  });
});
