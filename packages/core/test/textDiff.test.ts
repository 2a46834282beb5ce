import { applyPatch, createPatch } from 'diff';
import fc from 'fast-check';
import { applyPatch as applyJsonPatch, type Operation } from 'rfc6902';
import { describe, expect, it } from 'vitest';
import { createJsonPatch } from '../src/artifacts/jsonDiff.js';
import { applyUnifiedDiff, diffSequences, unifiedDiff } from '../src/artifacts/textDiff.js';
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
