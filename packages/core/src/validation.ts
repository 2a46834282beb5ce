import { z } from 'zod';
import {
  canonicalJsonUnchecked,
  findNonJson,
  type JsonValue,
  MAX_JSON_DEPTH,
} from './crypto/canonical.js';
import { BatonError, ErrorCode } from './errors.js';

/** Longest name, title or id a caller may pass, in characters (UTF-16 units). */
export const MAX_NAME = 200;
/** Largest inline JSON (metadata, event data) in bytes of UTF-8 canonical JSON; big bodies belong in blobs. */
export const MAX_INLINE_JSON = 256 * 1024;

/**
 * The length of `text` in UTF-8 bytes (what it takes to store), without encoding it. A
 * lone surrogate counts 3 bytes, as the encoder writes U+FFFD for it.
 */
export function utf8Length(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (
      c >= 0xd800 &&
      c <= 0xdbff &&
      i + 1 < text.length &&
      (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00
    ) {
      // A surrogate pair: two units, four bytes.
      n += 2;
      i++;
    } else n += 2;
  }
  return n;
}

/** Whether `text` takes at most `max` bytes of UTF-8 (quick for text far from the limit). */
export function fitsBytes(text: string, max: number): boolean {
  if (text.length > max) return false;
  if (text.length * 3 <= max) return true;
  return utf8Length(text) <= max;
}

/** A string of at most `max` bytes of UTF-8. */
export const utf8String = (max: number) =>
  z.string().refine((s) => fitsBytes(s, max), `must be at most ${max} bytes of UTF-8`);

/**
 * A plain JSON value: no NaN, undefined, class instances or cycles, nested at most
 * {@link MAX_JSON_DEPTH} levels.
 */
export const jsonValue = z.custom<JsonValue>().superRefine((v, ctx) => {
  const bad = findNonJson(v, '', new Set(), MAX_JSON_DEPTH);
  if (bad) ctx.addIssue({ code: 'custom', message: `must be plain JSON (${bad})` });
});

/** A plain JSON object with a size limit in bytes of UTF-8 canonical JSON. */
export function jsonObject(maxBytes = MAX_INLINE_JSON) {
  return z.custom<Record<string, JsonValue>>().superRefine((v, ctx) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      ctx.addIssue({ code: 'custom', message: 'must be a plain JSON object' });
      return;
    }
    const bad = findNonJson(v, '', new Set(), MAX_JSON_DEPTH);
    if (bad) ctx.addIssue({ code: 'custom', message: `must be plain JSON (${bad})` });
    else if (!fitsBytes(canonicalJsonUnchecked(v), maxBytes))
      ctx.addIssue({ code: 'custom', message: `must be at most ${maxBytes} bytes as JSON` });
  });
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

/** An `AbortSignal` (or anything that behaves as one: `aborted` and the two listener methods). */
export const abortSignal = z.custom<AbortSignal>(
  (s) =>
    typeof s === 'object' &&
    s !== null &&
    typeof (s as AbortSignal).aborted === 'boolean' &&
    typeof (s as AbortSignal).addEventListener === 'function' &&
    typeof (s as AbortSignal).removeEventListener === 'function',
  { message: 'must be an AbortSignal (e.g. new AbortController().signal)' },
);

/** A filter over the log for `workspace.watch`, `workspace.subscribe` and the actor's. */
export interface WatchFilter {
  /** Start after this seq. Defaults to the head when the watch starts (live events only). */
  after?: number;
  stream?: string;
  ref?: string;
  /** Event type names (`'grant.issued'`) or full types (`'grant.issued@1'`). */
  types?: string[];
  /** Stops the watch. */
  signal?: AbortSignal;
}

/** @internal The schema of a `WatchFilter` (workspace and actor watches alike). */
export const watchSchema = z.object({
  after: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional(),
  stream: z.string().min(1).max(400).optional(),
  ref: z.string().min(1).max(400).optional(),
  types: z.array(z.string().min(1).max(200)).max(256).optional(),
  signal: abortSignal.optional(),
});

/** The longest timer Node and browsers keep (a longer one fires at once): about 24.8 days, in ms. */
export const MAX_TIMER_MS = 2_147_483_647;

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
