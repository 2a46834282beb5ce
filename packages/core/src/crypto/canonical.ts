import { BatonError, ErrorCode } from '../errors.js';

/** A plain JSON value: what event data, metadata and payloads may hold. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

/**
 * Checks that a value is plain JSON — no `undefined`, `NaN`, `Infinity`, functions,
 * symbols, bigints, class instances (Dates, Maps, …) or cycles — and returns the path of
 * the first offending part, or `undefined` when the value is fine.
 */
export function findNonJson(
  value: unknown,
  path = '',
  seen = new Set<object>(),
): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value)
        ? undefined
        : `${path || '(value)'} is ${value}, not a JSON number`;
    case 'object': {
      if (value === null) return undefined;
      if (seen.has(value)) return `${path || '(value)'} is a cycle`;
      seen.add(value);
      try {
        if (Array.isArray(value)) {
          for (let i = 0; i < value.length; i++) {
            if (!(i in value)) return `${path}[${i}] is a hole in a sparse array`;
            const bad = findNonJson(value[i], `${path}[${i}]`, seen);
            if (bad) return bad;
          }
          return undefined;
        }
        const proto = Object.getPrototypeOf(value);
        if (proto !== Object.prototype && proto !== null) {
          const name = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
          return `${path || '(value)'} is a ${name} instance, not a plain object`;
        }
        for (const [k, v] of Object.entries(value)) {
          const bad = findNonJson(v, path ? `${path}.${k}` : k, seen);
          if (bad) return bad;
        }
        if (Object.getOwnPropertySymbols(value).length > 0)
          return `${path || '(value)'} has symbol keys`;
        return undefined;
      } finally {
        seen.delete(value);
      }
    }
    default:
      return `${path || '(value)'} is ${typeof value === 'undefined' ? 'undefined' : `a ${typeof value}`}`;
  }
}

/**
 * RFC 8785 (JCS) canonical JSON of a plain JSON value: the bytes that are signed and hashed.
 *
 * @throws BatonError `VALIDATION` when the value is not plain JSON.
 */
export function canonicalJson(value: unknown): string {
  const bad = findNonJson(value);
  if (bad) {
    throw new BatonError(ErrorCode.VALIDATION, `Not plain JSON: ${bad}. Pass only JSON values.`);
  }
  return canonicalJsonUnchecked(value as JsonValue);
}

/**
 * @internal {@link canonicalJson} for a value already known to be plain JSON.
 *
 * @remarks
 * RFC 8785 serializes strings and numbers exactly as ECMAScript's `JSON.stringify` does
 * (§3.2.2), and orders object keys by their UTF-16 code units (§3.2.3) — the order of
 * JavaScript's default string comparison. Properties holding `undefined` are left out, as
 * `JSON.stringify` leaves them out.
 */
export function canonicalJsonUnchecked(value: JsonValue | object): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      const item = value[i];
      out += item === undefined ? 'null' : canonicalJsonUnchecked(item);
    }
    return `${out}]`;
  }
  const record = value as Record<string, JsonValue | undefined>;
  const keys = Object.keys(record).sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const item = record[key];
    if (item === undefined) continue;
    out += first ? '' : ',';
    first = false;
    out += `${JSON.stringify(key)}:${canonicalJsonUnchecked(item)}`;
  }
  return `${out}}`;
}
