import { applyPatch as applyJsonPatch, type Operation } from 'rfc6902';
import { z } from 'zod';
import { canonicalJson, findNonJson, type JsonValue, MAX_JSON_DEPTH } from '../crypto/canonical.js';
import { BatonError, ErrorCode, isBatonError } from '../errors.js';
import { fitsBytes, idString, jsonValue, parseInput, utf8String } from '../validation.js';
import type { ArtifactContent } from './artifactHistory.js';
import type { ArtifactRow } from './artifactRows.js';
import { inBox, MAX_CONTENT } from './content.js';
import { jsonSizeUpTo, valueAtPointer } from './jsonDiff.js';
import { applyUnifiedDiff } from './textDiff.js';

// How an edit's input (new content or a patch) and a create's content become the stored text.

/** Input of `artifacts.edit`: new `content`, or a `patch` (JSON Patch for json, unified diff for text). */
export interface EditArtifactInput {
  content?: ArtifactContent;
  patch?: string | Operation[];
  /** The version the edit was made from. Required: an edit never lands blind. */
  baseVersion: number;
  /** Why — shown to whoever reads the change next. */
  reason: string;
  idempotencyKey?: string;
}

/** A JSON Pointer (RFC 6901): empty (the whole document) or `/`-separated tokens, `~` escaped as `~0`/`~1`. */
const jsonPointer = z
  .string()
  .max(4_096)
  .refine(
    (p) => p === '' || (p.startsWith('/') && !/~(?![01])/.test(p)),
    'must be a JSON Pointer: "" or starting with "/" (e.g. "/title"), with "~" written as "~0"',
  );
const jsonPatchOperation = z.discriminatedUnion('op', [
  z.object({ op: z.literal('add'), path: jsonPointer, value: jsonValue }),
  z.object({ op: z.literal('remove'), path: jsonPointer }),
  z.object({ op: z.literal('replace'), path: jsonPointer, value: jsonValue }),
  z.object({ op: z.literal('move'), from: jsonPointer, path: jsonPointer }),
  z.object({ op: z.literal('copy'), from: jsonPointer, path: jsonPointer }),
  z.object({ op: z.literal('test'), path: jsonPointer, value: jsonValue }),
]);

/**
 * Largest `patch` an edit may pass: a unified diff of at most 32 MiB of UTF-8 (room for a
 * whole rewrite of the largest content), or a JSON Patch of at most 1,000 operations.
 */
export const MAX_PATCH = { bytes: 4 * MAX_CONTENT, operations: 1_000 } as const;

export const editSchema = z
  .object({
    content: jsonValue.optional(),
    patch: z
      .union([utf8String(MAX_PATCH.bytes), z.array(jsonPatchOperation).max(MAX_PATCH.operations)])
      .optional(),
    baseVersion: z.number().int().min(1),
    reason: z.string().trim().min(1, 'must say why').max(2_000),
    idempotencyKey: idString.optional(),
  })
  .refine(
    (e) => (e.content === undefined) !== (e.patch === undefined),
    'pass either `content` or `patch`',
  );

/** The content an edit's `content` or `patch` makes of `base`, or `VALIDATION` saying why not. */
export function applyEdit(
  row: ArtifactRow,
  base: ArtifactContent,
  args: z.output<typeof editSchema>,
  id: string,
): ArtifactContent {
  if (args.content !== undefined) {
    if (row.kind === 'text' && typeof args.content !== 'string') {
      throw new BatonError(
        ErrorCode.VALIDATION,
        `artifacts.edit: \`content\` of text artifact ${id} must be a string.`,
      );
    }
    return args.content;
  }
  if (row.kind === 'text') {
    if (typeof args.patch !== 'string')
      throw new BatonError(
        ErrorCode.VALIDATION,
        'artifacts.edit: `patch` of a text artifact is a unified diff string.',
        { details: { field: 'patch' } },
      );
    let out: string | undefined;
    try {
      out = applyUnifiedDiff(base as string, args.patch);
    } catch (err) {
      if (!isBatonError(err)) throw err;
      throw new BatonError(ErrorCode.VALIDATION, `artifacts.edit: ${err.message}`, {
        details: { field: 'patch' },
      });
    }
    if (out === undefined)
      throw new BatonError(
        ErrorCode.VALIDATION,
        `artifacts.edit: \`patch\` does not apply to version ${args.baseVersion} (its lines are not where its hunks say). Diff against version ${args.baseVersion}, or pass the new \`content\`.`,
        { details: { field: 'patch' } },
      );
    return out;
  }
  if (!Array.isArray(args.patch))
    throw new BatonError(
      ErrorCode.VALIDATION,
      'artifacts.edit: `patch` of a json artifact is a JSON Patch (an array of operations).',
      { details: { field: 'patch' } },
    );
  const box = { doc: structuredClone(base) as JsonValue };
  // Copies are the one operation that can grow a document past its patch's own size
  // (each copy of a copy doubling it): count what they add before making them.
  let copied = 0;
  for (const [i, op] of args.patch.entries()) {
    if (op.op === 'copy') {
      const value = valueAtPointer(box.doc, op.from);
      if (value !== undefined) copied += jsonSizeUpTo(value, MAX_CONTENT - copied);
      if (copied > MAX_CONTENT)
        throw new BatonError(
          ErrorCode.VALIDATION,
          `artifacts.edit: \`patch.${i}\` copies the content past ${MAX_CONTENT} bytes.`,
          { details: { field: `patch.${i}` } },
        );
    }
    // What an operation reads must be there, and the container a value goes into (the
    // library would set a key on a number, or delete one from a string).
    const parent = op.path === '' ? box : valueAtPointer(box.doc, op.path.replace(/\/[^/]*$/, ''));
    const missing =
      parent === null || typeof parent !== 'object'
        ? `there is no object or array at the parent of ${op.path}`
        : 'from' in op && valueAtPointer(box.doc, op.from) === undefined
          ? `there is no value at ${op.from}`
          : op.op !== 'add' &&
              op.op !== 'copy' &&
              op.op !== 'move' &&
              valueAtPointer(box.doc, op.path) === undefined
            ? `there is no value at ${op.path}`
            : undefined;
    const [error] = missing ? [new Error(missing)] : applyJsonPatch(box, [inBox(op as Operation)]);
    if (error || box.doc === undefined)
      throw new BatonError(
        ErrorCode.VALIDATION,
        `artifacts.edit: \`patch.${i}\` (${op.op} ${op.path}) does not apply to version ${args.baseVersion}${error ? `: ${error.message.replace(/\/doc/g, '')}` : ''}.`,
        { details: { field: `patch.${i}` } },
      );
  }
  return box.doc;
}

/** Content as people read it in a conflict: text as it is, JSON pretty-printed. */
export function contentText(kind: 'text' | 'json', c: ArtifactContent): string {
  return kind === 'text' ? (c as string) : JSON.stringify(c, null, 2);
}

/** The stored text of `content`, checked against its kind, size and schema. */
export function serializeContent(
  schemaOf: (name: string) => z.ZodType | undefined,
  kind: 'text' | 'json',
  content: ArtifactContent,
  schema: string | undefined,
  where: string,
): string {
  if (kind === 'text') {
    if (typeof content !== 'string')
      throw new BatonError(
        ErrorCode.VALIDATION,
        `${where}: \`content\` of a text artifact must be a string.`,
      );
    if (!fitsBytes(content, MAX_CONTENT))
      throw new BatonError(
        ErrorCode.VALIDATION,
        `${where}: \`content\` is larger than ${MAX_CONTENT} bytes of UTF-8.`,
        { details: { field: 'content' } },
      );
    return content;
  }
  if (schema !== undefined) {
    const s = schemaOf(schema);
    if (!s)
      throw new BatonError(
        ErrorCode.VALIDATION,
        `${where}: no schema "${schema}" is registered. Pass it in Workspace.open({ schemas }).`,
      );
    parseInput(s, content, `${where}: \`content\` (schema ${schema})`);
  }
  const bad = findNonJson(content, '', new Set(), MAX_JSON_DEPTH);
  if (bad)
    throw new BatonError(ErrorCode.VALIDATION, `${where}: \`content\` is not plain JSON: ${bad}.`, {
      details: { field: 'content' },
    });
  const text = canonicalJson(content);
  if (!fitsBytes(text, MAX_CONTENT))
    throw new BatonError(
      ErrorCode.VALIDATION,
      `${where}: \`content\` is larger than ${MAX_CONTENT} bytes of UTF-8 as JSON.`,
      { details: { field: 'content' } },
    );
  return text;
}
