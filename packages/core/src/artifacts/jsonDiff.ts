import type { Operation } from 'rfc6902';
import { canonicalJsonUnchecked, type JsonValue } from '../crypto/canonical.js';
import { utf8Length } from '../validation.js';
import { DIFF_COST_LIMIT, diffSequences } from './textDiff.js';

/**
 * Past this many operations for one array, the patch replaces the array whole: applying
 * thousands of removals to a long array costs a copy of the array each, and a merge treats
 * an array as one value anyway.
 */
const MAX_ARRAY_OPS = 1_000;

/** Items moved by an array's insertions and removals (each moves what follows it), at most. */
const MAX_SPLICE_WORK = 4_000_000;

function pointer(path: string, key: string | number): string {
  return `${path}/${String(key).replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

function isObject(v: JsonValue): v is { [key: string]: JsonValue } {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * An RFC 6902 JSON Patch that turns `from` into `to`: objects key by key, arrays by a
 * bounded diff of their items (see {@link diffSequences}), anything else replaced.
 */
export function createJsonPatch(from: JsonValue, to: JsonValue): Operation[] {
  const ops: Operation[] = [];
  const budget = { left: DIFF_COST_LIMIT };
  diffValue(from, to, '', ops, budget);
  return ops;
}

function diffValue(
  from: JsonValue,
  to: JsonValue,
  path: string,
  ops: Operation[],
  budget: { left: number },
): void {
  if (from === to) return;
  // Objects are compared key by key (no serializing at every level): equal ones give no operations.
  if (isObject(from) && isObject(to)) {
    for (const key of Object.keys(from)) {
      if (!(key in to)) ops.push({ op: 'remove', path: pointer(path, key) });
    }
    for (const key of Object.keys(to)) {
      if (key in from) diffValue(from[key]!, to[key]!, pointer(path, key), ops, budget);
      else ops.push({ op: 'add', path: pointer(path, key), value: to[key]! });
    }
    return;
  }
  if (Array.isArray(from) && Array.isArray(to)) {
    const mine: Operation[] = [];
    const keys = (items: JsonValue[]) => items.map((v) => canonicalJsonUnchecked(v));
    const a = keys(from);
    const b = keys(to);
    if (a.length === b.length && a.every((k, i) => k === b[i])) return;
    const hunks = diffSequences(a, b, Math.max(0, budget.left));
    budget.left -= from.length + to.length;
    // Each insertion or removal moves the items after it: past a bound, one replacement is cheaper.
    let splices = 0;
    for (const h of hunks) splices += Math.abs(h.aLength - h.bLength);
    if (splices > MAX_ARRAY_OPS || splices * (from.length + 1) > MAX_SPLICE_WORK) {
      ops.push({ op: 'replace', path, value: to });
      return;
    }
    // From the last change back, so the indexes of earlier changes still hold.
    for (let h = hunks.length - 1; h >= 0 && mine.length <= MAX_ARRAY_OPS; h--) {
      const { aStart, aLength, bStart, bLength } = hunks[h]!;
      const paired = Math.min(aLength, bLength);
      for (let i = aLength - 1; i >= paired; i--)
        mine.push({ op: 'remove', path: pointer(path, aStart + i) });
      for (let i = 0; i < paired; i++)
        diffValue(from[aStart + i]!, to[bStart + i]!, pointer(path, aStart + i), mine, budget);
      for (let i = paired; i < bLength; i++)
        mine.push({ op: 'add', path: pointer(path, aStart + i), value: to[bStart + i]! });
    }
    if (mine.length > MAX_ARRAY_OPS) ops.push({ op: 'replace', path, value: to });
    else ops.push(...mine);
    return;
  }
  ops.push({ op: 'replace', path, value: to });
}

/** The value a JSON Pointer names in `doc`, or `undefined` when there is none. */
export function valueAtPointer(doc: JsonValue, path: string): JsonValue | undefined {
  if (path === '') return doc;
  let node: JsonValue | undefined = doc;
  for (const raw of path.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) node = /^(0|[1-9][0-9]*)$/.test(key) ? node[Number(key)] : undefined;
    else if (node !== null && typeof node === 'object')
      node = Object.hasOwn(node, key) ? node[key] : undefined;
    else return undefined;
    if (node === undefined) return undefined;
  }
  return node;
}

/**
 * About how many bytes of UTF-8 `value` takes as JSON, counting no further than `limit`:
 * what a `copy` adds to a document, measured without serializing copies of copies.
 */
export function jsonSizeUpTo(value: JsonValue, limit: number): number {
  let size = 0;
  const stack: JsonValue[] = [value];
  while (stack.length > 0 && size <= limit) {
    const v = stack.pop()!;
    if (typeof v === 'string') size += utf8Length(v) + 2;
    else if (v === null || typeof v !== 'object') size += String(v).length;
    else if (Array.isArray(v)) {
      size += 2 + v.length;
      for (const item of v) stack.push(item);
    } else {
      size += 2;
      for (const [k, item] of Object.entries(v)) {
        size += utf8Length(k) + 4;
        stack.push(item);
      }
    }
  }
  return size;
}
