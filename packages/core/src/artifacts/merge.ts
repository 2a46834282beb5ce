import { applyPatch, type Operation } from 'rfc6902';
import { badArgument } from '../crypto/arguments.js';
import { findNonJson, type JsonValue, MAX_JSON_DEPTH } from '../crypto/canonical.js';
import {
  BatonError,
  ErrorCode,
  type MergeConflictError,
  type MergeConflictRegion,
} from '../errors.js';
import { createJsonPatch } from './jsonDiff.js';
import { type DiffHunk, diffSequences, myersDiff } from './textDiff.js';

/**
 * One overlapping change found by a three-way merge: where it starts in the base, and the
 * base's and each side's version of it. The same type as {@link MergeConflictRegion}, the
 * regions a {@link MergeConflictError} carries.
 */
export type ConflictRegion = MergeConflictRegion;

/** What a three-way merge gives: the merged content, or the regions both sides changed. */
export type MergeOutcome<T> =
  | { clean: true; merged: T }
  | { clean: false; regions: ConflictRegion[] };

/** Splits text into lines; joining the lines with `\n` gives the text back exactly. */
export function lines(text: string): string[] {
  return text.split('\n');
}

/**
 * Three-way merge of text by lines (diff3): changes to separate lines from both sides
 * merge; changes to the same or adjacent lines conflict, unless both sides made the same
 * change.
 *
 * @remarks
 * Each side is diffed against the base over the lines between their common prefix and
 * suffix only (`diffSequences` in `textDiff.ts`), so a merge of a few changes to a large text costs
 * about a split and a join of its lines.
 *
 * @throws BatonError `VALIDATION` when `base`, `theirs` or `yours` is not a string.
 */
export function mergeText(base: string, theirs: string, yours: string): MergeOutcome<string> {
  for (const [arg, v] of [
    ['base', base],
    ['theirs', theirs],
    ['yours', yours],
  ] as const) {
    if (typeof v !== 'string') throw badArgument('mergeText', arg, 'a string', v);
  }
  return mergeTextPlain(base, theirs, yours, diffSequences);
}

/**
 * @internal {@link mergeText} without checking its arguments, diffing each side against the
 * base with `diff` — by default comparing every line ({@link myersDiff}): the plain
 * algorithm, which the tests hold the fast one to.
 */
export function mergeTextPlain(
  base: string,
  theirs: string,
  yours: string,
  diff: typeof diffSequences = myersDiff,
): MergeOutcome<string> {
  if (theirs === base || theirs === yours) return { clean: true, merged: yours };
  if (yours === base) return { clean: true, merged: theirs };
  const merged = mergeLines(lines(base), lines(yours), lines(theirs), diff);
  if ('regions' in merged) return { clean: false, regions: merged.regions };
  return { clean: true, merged: merged.lines.join('\n') };
}

/** diff3 of lines: the merged lines, or the conflicting regions. */
function mergeLines(
  o: string[],
  y: string[],
  t: string[],
  diff: typeof diffSequences,
): { lines: string[] } | { regions: ConflictRegion[] } {
  const out: string[] = [];
  const conflicts: ConflictRegion[] = [];
  const append = (part: readonly string[]) => {
    for (const l of part) out.push(l);
  };
  for (const r of mergeRegions(o, y, t, diff)) {
    if ('stable' in r) append(r.stable);
    else if (sameLines(r.yours, r.theirs)) append(r.yours);
    else {
      conflicts.push({
        at: r.at,
        base: r.base.join('\n'),
        theirs: r.theirs.join('\n'),
        yours: r.yours.join('\n'),
      });
    }
  }
  return conflicts.length ? { regions: conflicts } : { lines: out };
}

function sameLines(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((l, i) => l === b[i]);
}

type MergeRegion =
  | { stable: string[] }
  | { at: number; base: string[]; yours: string[]; theirs: string[] };

/**
 * diff3's regions: each side's changes against the base, ordered by where they start in
 * the base; changes of both sides that overlap or touch form one unstable region, a
 * change of one side alone is taken as it is, and the base between changes is stable.
 */
function mergeRegions(
  o: string[],
  y: string[],
  t: string[],
  diff: typeof diffSequences,
): MergeRegion[] {
  const changes = [
    ...diff(o, y).map((h) => ({ side: 'yours' as const, h })),
    ...diff(o, t).map((h) => ({ side: 'theirs' as const, h })),
  ].sort((p, q) => p.h.aStart - q.h.aStart);
  const out: MergeRegion[] = [];
  let at = 0;
  for (let i = 0; i < changes.length; ) {
    const start = changes[i]!.h.aStart;
    let end = start + changes[i]!.h.aLength;
    let j = i + 1;
    while (j < changes.length && changes[j]!.h.aStart <= end) {
      end = Math.max(end, changes[j]!.h.aStart + changes[j]!.h.aLength);
      j++;
    }
    if (start > at) out.push({ stable: o.slice(at, start) });
    const group = changes.slice(i, j);
    if (group.length === 1) {
      const { side, h } = group[0]!;
      out.push({ stable: (side === 'yours' ? y : t).slice(h.bStart, h.bStart + h.bLength) });
    } else {
      // Each side's text over the region: its own changes, widened by the base it left as is.
      const span = (side: 'yours' | 'theirs', text: string[]) => {
        const own: DiffHunk[] = [];
        for (const c of group) if (c.side === side) own.push(c.h);
        if (own.length === 0) return o.slice(start, end);
        // Before its first change and after its last, a side's lines are the base's, shifted.
        const first = own[0]!;
        const last = own.at(-1)!;
        const from = first.bStart - (first.aStart - start);
        const to = last.bStart + last.bLength + (end - (last.aStart + last.aLength));
        return text.slice(from, to);
      };
      out.push({
        at: start,
        base: o.slice(start, end),
        yours: span('yours', y),
        theirs: span('theirs', t),
      });
    }
    at = end;
    i = j;
  }
  if (at < o.length) out.push({ stable: o.slice(at) });
  return out;
}

/** The container a JSON Patch operation really touches: array element paths count as the whole array. */
function scopes(op: Operation, base: JsonValue): string[] {
  const paths = [op.path];
  if ('from' in op && typeof op.from === 'string') paths.push(op.from);
  return paths.map((p) => {
    const parts = p.split('/').slice(1);
    let node: JsonValue | undefined = base;
    const kept: string[] = [];
    for (const part of parts) {
      // An array index (or '-') moves with every other change to that array: scope it to the array.
      if (Array.isArray(node)) return `/${kept.join('/')}`;
      kept.push(part);
      node =
        node !== null && typeof node === 'object'
          ? (node as Record<string, JsonValue>)[part.replace(/~1/g, '/').replace(/~0/g, '~')]
          : undefined;
    }
    return `/${kept.join('/')}`;
  });
}

/**
 * Finds, for a scope of one side, a scope of the other side it overlaps — the same place,
 * one inside the other, or either being the whole document — in time proportional to the
 * scope's depth (a patch may have hundreds of thousands of operations).
 */
function scopeIndex(theirs: string[]): (scope: string) => string | undefined {
  const norm = (s: string) => (s === '/' ? '' : s);
  const exact = new Map<string, string>();
  const containing = new Map<string, string>();
  for (const ts of theirs) {
    const x = norm(ts);
    if (!exact.has(x)) exact.set(x, ts);
    for (let cut = x.lastIndexOf('/'); cut >= 0; cut = x.lastIndexOf('/', cut - 1)) {
      const above = x.slice(0, cut);
      if (containing.has(above)) break;
      containing.set(above, ts);
      if (cut === 0) break;
    }
  }
  return (scope) => {
    if (theirs.length === 0) return undefined;
    const y = norm(scope);
    if (exact.has('')) return exact.get('');
    if (y === '') return theirs[0];
    const same = exact.get(y) ?? containing.get(y);
    if (same !== undefined) return same;
    for (let cut = y.lastIndexOf('/'); cut > 0; cut = y.lastIndexOf('/', cut - 1)) {
      const hit = exact.get(y.slice(0, cut));
      if (hit !== undefined) return hit;
    }
    return undefined;
  };
}

/**
 * Three-way merge of JSON by non-overlapping patches: each side's RFC 6902 patch against
 * the base; when no operation of one side touches a value (or an array) the other side
 * touches, yours is applied on top of theirs. Identical changes are not conflicts.
 *
 * @throws BatonError `VALIDATION` when `base`, `theirs` or `yours` is not plain JSON, or
 *   nests deeper than {@link MAX_JSON_DEPTH}.
 */
export function mergeJson(
  base: JsonValue,
  theirs: JsonValue,
  yours: JsonValue,
): MergeOutcome<JsonValue> {
  for (const [arg, v] of [
    ['base', base],
    ['theirs', theirs],
    ['yours', yours],
  ] as const) {
    const bad = findNonJson(v, arg, new Set(), MAX_JSON_DEPTH);
    if (bad)
      throw new BatonError(
        ErrorCode.VALIDATION,
        `mergeJson: \`${arg}\` must be plain JSON, nested at most ${MAX_JSON_DEPTH} levels deep (${bad}). Pass only JSON values.`,
        { details: { function: 'mergeJson', field: arg } },
      );
  }
  const t = createJsonPatch(base, theirs);
  const y = createJsonPatch(base, yours);
  if (t.length === 0) return { clean: true, merged: yours };
  if (y.length === 0) return { clean: true, merged: theirs };
  const conflicts = new Map<string, ConflictRegion>();
  const theirScope = scopeIndex(t.flatMap((op) => scopes(op, base)));
  // Each place is judged once, however many operations touch it.
  const judged = new Set<string>();
  for (const op of y) {
    for (const ys of scopes(op, base)) {
      const hit = theirScope(ys);
      if (hit === undefined) continue;
      const at = hit.length <= ys.length ? hit : ys;
      if (judged.has(at)) continue;
      judged.add(at);
      const sameChange = JSON.stringify(valueAt(theirs, at)) === JSON.stringify(valueAt(yours, at));
      if (sameChange) continue;
      conflicts.set(at, {
        at,
        base: JSON.stringify(valueAt(base, at)) ?? 'undefined',
        theirs: JSON.stringify(valueAt(theirs, at)) ?? 'undefined',
        yours: JSON.stringify(valueAt(yours, at)) ?? 'undefined',
      });
    }
  }
  if (conflicts.size) return { clean: false, regions: [...conflicts.values()] };
  const merged = structuredClone(theirs);
  const box = { doc: merged };
  // Paths are relative to the document; a box lets a patch replace the root as well.
  const errors = applyPatch(
    box,
    y.map((op) => prefix(op)),
  );
  if (errors.some((e) => e !== null)) {
    return {
      clean: false,
      regions: [
        {
          at: '',
          base: JSON.stringify(base),
          theirs: JSON.stringify(theirs),
          yours: JSON.stringify(yours),
        },
      ],
    };
  }
  return { clean: true, merged: box.doc };
}

function prefix(op: Operation): Operation {
  const out = { ...op, path: `/doc${op.path}` } as Operation;
  if ('from' in op && typeof op.from === 'string')
    (out as { from: string }).from = `/doc${op.from}`;
  return out;
}

function valueAt(doc: JsonValue, pointer: string): JsonValue | undefined {
  let node: JsonValue | undefined = doc;
  for (const part of pointer.split('/').slice(1)) {
    if (part === '' && pointer === '/') break;
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, JsonValue>)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return node;
}
