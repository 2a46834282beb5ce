import type { JsonValue } from '../../crypto/canonical.js';
import type { BatonEvent } from '../../log/event.js';
import {
  type IndexRange,
  PRIMARY_INDEX,
  type ProjectionRow,
  type ProjectionWrite,
  type ReadQuery,
} from '../../store/store.js';

// The reference model the conformance tests compare stores against: what reads, queries and
// ranges must return, written independently of any store (and of core's own key helpers).

/** Compares strings by Unicode code point. */
export function byCodePoint(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

export function inRangeRef(key: string, r: IndexRange): boolean {
  return (
    (r.eq === undefined || key === r.eq) &&
    (r.prefix === undefined || key.startsWith(r.prefix)) &&
    (r.gt === undefined || byCodePoint(key, r.gt) > 0) &&
    (r.gte === undefined || byCodePoint(key, r.gte) >= 0) &&
    (r.lt === undefined || byCodePoint(key, r.lt) < 0)
  );
}

export interface ModelRow {
  value: JsonValue;
  indexes: Record<string, string[]>;
}

export type ModelCollections = Map<string, Map<string, ModelRow>>;

export function applyWrites(model: ModelCollections, writes: ProjectionWrite[]): void {
  for (const w of writes) {
    let col = model.get(w.collection);
    if (!col) {
      col = new Map();
      model.set(w.collection, col);
    }
    if (w.value === null) {
      col.delete(w.key);
      continue;
    }
    const indexes: Record<string, string[]> = {};
    for (const [name, keys] of Object.entries(w.indexes ?? {})) {
      indexes[name] = [...new Set(Array.isArray(keys) ? keys : [keys])];
    }
    col.set(w.key, { value: structuredClone(w.value), indexes });
  }
}

export function queryRef(
  col: Map<string, ModelRow> | undefined,
  index: string,
  range: IndexRange,
  reverse = false,
): ProjectionRow[] {
  const entries: [string, string, JsonValue][] = [];
  for (const [key, row] of col ?? []) {
    const keys = index === PRIMARY_INDEX ? [key] : (row.indexes[index] ?? []);
    for (const k of keys) if (inRangeRef(k, range)) entries.push([k, key, row.value]);
  }
  entries.sort((x, y) => byCodePoint(x[0], y[0]) || byCodePoint(x[1], y[1]));
  if (reverse) entries.reverse();
  return entries.map(([, key, value]) => ({ key, value }));
}

export function readRef(events: BatonEvent[], q: ReadQuery = {}): BatonEvent[] {
  const out = events.filter(
    (e) =>
      e.seq > (q.after ?? 0) &&
      (q.until === undefined || e.seq <= q.until) &&
      (q.stream === undefined || e.stream === q.stream) &&
      (q.ref === undefined || e.refs.includes(q.ref)) &&
      (q.types === undefined || q.types.includes(e.type)),
  );
  return q.limit === undefined ? out : out.slice(0, q.limit);
}
