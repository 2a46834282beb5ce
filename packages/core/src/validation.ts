import { z } from 'zod';
import { canonicalJson, findNonJson, type JsonValue } from './crypto/canonical.js';
import { BatonError, ErrorCode } from './errors.js';

/** Longest name, title or id a caller may pass. */
export const MAX_NAME = 200;
/** Largest inline JSON (metadata, event data) in canonical bytes; big bodies belong in blobs. */
export const MAX_INLINE_JSON = 256 * 1024;

/** A plain JSON value (checked for NaN, undefined, class instances, cycles). */
export const jsonValue = z.custom<JsonValue>((v) => findNonJson(v) === undefined, {
  message: 'must be plain JSON (no undefined, NaN, Infinity, functions, class instances or cycles)',
});

/** A plain JSON object with a size limit. */
export function jsonObject(maxBytes = MAX_INLINE_JSON) {
  return z.custom<Record<string, JsonValue>>(
    (v) =>
      typeof v === 'object' &&
      v !== null &&
      !Array.isArray(v) &&
      findNonJson(v) === undefined &&
      canonicalJson(v).length <= maxBytes,
    { message: `must be a plain JSON object of at most ${maxBytes} bytes` },
  );
}

/** A non-empty string of at most `max` characters. */
export const name = (max = MAX_NAME) => z.string().trim().min(1).max(max);

/** An identifier-like string: no control characters, 1–200 characters. */
export const idString = z
  .string()
  .min(1)
  .max(MAX_NAME)
  .refine((s) => !hasControlCharacter(s), 'must not contain control characters');

/** True when `s` holds a C0 control character or DEL. */
export function hasControlCharacter(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** An ISO-8601 timestamp with a timezone. */
export const isoTime = z.iso.datetime({ offset: true });

/** A time given as an ISO string, a `Date` or epoch milliseconds, turned into ISO. */
export const timeInput = z
  .union([isoTime, z.date(), z.number().int().nonnegative()])
  .transform((v) => new Date(v).toISOString());

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.length ? `\`${issue.path.map(String).join('.')}\`` : 'the input';
  return `${path} ${issue.message.replace(/^Invalid input: /, '')}`;
}

/**
 * Parses a public input with its zod schema, or throws `VALIDATION` naming the field(s)
 * and what to pass instead. Nothing is written when this throws.
 */
export function parseInput<S extends z.ZodType>(
  schema: S,
  input: unknown,
  where: string,
): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issues = r.error.issues.slice(0, 3).map(describeIssue).join('; ');
  const first = r.error.issues[0];
  throw new BatonError(
    ErrorCode.VALIDATION,
    `${where}: ${issues}. Check the arguments against the docs of ${where}.`,
    {
      details: {
        field: first?.path.map(String).join('.'),
        issues: r.error.issues.map(describeIssue),
      },
    },
  );
}
