import { diff3Merge } from 'node-diff3';
import { applyPatch, createPatch, type Operation } from 'rfc6902';
import type { JsonValue } from '../crypto/canonical.js';

/** One overlapping change found by a three-way merge: the base and each side's version of it. */
export interface ConflictRegion {
  /** Where the region starts in the base: a 0-based line number (text) or a JSON Pointer (json). */
  at: number | string;
  base: string;
  theirs: string;
  yours: string;
}

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
 */
export function mergeText(base: string, theirs: string, yours: string): MergeOutcome<string> {
  if (theirs === base || theirs === yours) return { clean: true, merged: yours };
  if (yours === base) return { clean: true, merged: theirs };
  const regions = diff3Merge(lines(yours), lines(base), lines(theirs), {
    excludeFalseConflicts: true,
  });
  const out: string[] = [];
  const conflicts: ConflictRegion[] = [];
  for (const r of regions) {
    if (r.ok) out.push(...r.ok);
    else if (r.conflict) {
      conflicts.push({
        at: r.conflict.oIndex,
        base: r.conflict.o.join('\n'),
        theirs: r.conflict.b.join('\n'),
        yours: r.conflict.a.join('\n'),
      });
    }
  }
  return conflicts.length
    ? { clean: false, regions: conflicts }
    : { clean: true, merged: out.join('\n') };
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

function overlaps(a: string, b: string): boolean {
  const x = a === '/' ? '' : a;
  const y = b === '/' ? '' : b;
  return x === y || x.startsWith(`${y}/`) || y.startsWith(`${x}/`) || x === '' || y === '';
}

/**
 * Three-way merge of JSON by non-overlapping patches: each side's RFC 6902 patch against
 * the base; when no operation of one side touches a value (or an array) the other side
 * touches, yours is applied on top of theirs. Identical changes are not conflicts.
 */
export function mergeJson(
  base: JsonValue,
  theirs: JsonValue,
  yours: JsonValue,
): MergeOutcome<JsonValue> {
  const t = createPatch(base, theirs);
  const y = createPatch(base, yours);
  if (t.length === 0) return { clean: true, merged: yours };
  if (y.length === 0) return { clean: true, merged: theirs };
  const conflicts = new Map<string, ConflictRegion>();
  const tScopes = t.flatMap((op) => scopes(op, base));
  for (const op of y) {
    for (const ys of scopes(op, base)) {
      const hit = tScopes.find((ts) => overlaps(ts, ys));
      if (hit === undefined) continue;
      const at = hit.length <= ys.length ? hit : ys;
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
