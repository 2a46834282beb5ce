import { applyPatch as applyJsonPatch, type Operation } from 'rfc6902';
import { canonicalJson, findNonJson, type JsonValue, MAX_JSON_DEPTH } from '../crypto/canonical.js';
import { applyUnifiedDiff, applyUnifiedDiffToLines, textLines } from './textDiff.js';

/** Largest artifact content, in bytes of UTF-8 of its text or canonical JSON: 8 MiB. */
export const MAX_CONTENT = 8 * 1024 * 1024;

/** A JSON Patch operation with its pointers moved under `/doc`, to patch a `{ doc }` box (so the root can be replaced too). */
export function inBox(op: Operation): Operation {
  const out = { ...op, path: `/doc${op.path}` } as Operation;
  if ('from' in op && typeof op.from === 'string')
    (out as { from: string }).from = `/doc${op.from}`;
  return out;
}

/**
 * @internal A stored change (a unified diff, or a JSON Patch as JSON) applied to the content
 * it was made from (text, or canonical JSON): the content it gives, or `undefined` when it
 * does not apply or is not a change at all.
 */
export function applyStoredChange(
  kind: 'text' | 'json',
  text: string,
  change: string,
): string | undefined {
  try {
    if (kind === 'text') return applyUnifiedDiff(text, change);
    const ops = JSON.parse(change) as unknown;
    if (!Array.isArray(ops) || ops.length > 1_000_000) return undefined;
    for (const op of ops) {
      if (
        typeof op !== 'object' ||
        op === null ||
        typeof op.path !== 'string' ||
        (op.path !== '' && !op.path.startsWith('/')) ||
        ('from' in op && typeof op.from !== 'string')
      )
        return undefined;
    }
    const box = { doc: JSON.parse(text) as JsonValue };
    const errors = applyJsonPatch(
      box,
      ops.map((op) => inBox(op as Operation)),
    );
    if (errors.some((e) => e !== null) || box.doc === undefined) return undefined;
    const bad = findNonJson(box.doc, '', new Set(), MAX_JSON_DEPTH);
    if (bad) return undefined;
    return canonicalJson(box.doc);
  } catch {
    // Whatever a stored change is, if it does not apply it is not a change of this content.
    return undefined;
  }
}

/**
 * @internal Stored changes applied in turn to `text` ({@link applyStoredChange}): the content
 * they give, or `undefined` when one does not apply. A text is split into lines once and
 * joined once, however many changes there are.
 */
export function applyStoredChanges(
  kind: 'text' | 'json',
  text: string,
  changes: readonly string[],
): string | undefined {
  if (kind === 'json' || changes.length < 2) {
    let out: string | undefined = text;
    for (const c of changes) if (out !== undefined) out = applyStoredChange(kind, out, c);
    return out;
  }
  let lines: string[] | undefined = textLines(text);
  try {
    for (const c of changes) if (lines) lines = applyUnifiedDiffToLines(lines, c);
  } catch {
    // Whatever a stored change is, if it does not apply it is not a change of this content.
    return undefined;
  }
  return lines?.join('');
}
