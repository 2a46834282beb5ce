import type { JsonValue } from '../crypto/canonical.js';
import { fromUtf8 } from '../crypto/encoding.js';
import { BatonError, ErrorCode } from '../errors.js';
import { erasedText } from '../log/body.js';
import type { Scope } from '../scope.js';
import { type ArtifactRow, type VersionRow, versionRow } from './artifactRows.js';
import { applyStoredChange } from './content.js';
import { createJsonPatch } from './jsonDiff.js';
import { unifiedDiff } from './textDiff.js';

/** Artifact content: text, or a JSON value for `json` artifacts. */
export type ArtifactContent = string | JsonValue;

/** One version in an artifact's history, attributed. */
export interface ArtifactVersion {
  version: number;
  author: string;
  at: string;
  reason?: string;
  baseVersion?: number;
  /** The head version this edit was merged over, when its base was behind. */
  mergedFrom?: number;
}

/** A version with its change, as `changesSince` returns it. */
export interface ArtifactChange extends ArtifactVersion {
  /** The author's name. */
  authorName: string;
  /** The change from the version before: a unified diff (text) or a JSON Patch as JSON (json). */
  diff: string;
}

/** What reading an artifact's versions takes from a scope. */
type Reads = Pick<Scope, 'rows' | 'blob' | 'authority'>;

/**
 * The content of `row` at `version`: the nearest snapshot at or before it, patched forward
 * (`"[erased by …]"` when a body it needs was erased).
 */
export async function contentAt(
  scope: Reads,
  row: ArtifactRow,
  version: number,
): Promise<ArtifactContent> {
  const chain: VersionRow[] = [];
  for (let v = version; v >= 1; v--) {
    const vr = await versionRow(scope.rows, row.id, v);
    if (!vr) throw new BatonError(ErrorCode.NOT_FOUND, `${row.id} has no version ${v}.`);
    chain.push(vr);
    if (vr.snapshot) break;
  }
  chain.reverse();
  const first = await scope.blob(chain[0]!.snapshot!);
  if (!first || 'erased' in first)
    return first && 'erased' in first ? erasedText(first.erased) : '';
  let text = fromUtf8(first.bytes);
  for (const vr of chain.slice(1)) {
    const patch = await scope.blob(vr.change!);
    if (!patch || 'erased' in patch)
      return patch && 'erased' in patch ? erasedText(patch.erased) : '';
    const out = applyStoredChange(row.kind, text, fromUtf8(patch.bytes));
    if (out === undefined)
      throw new BatonError(ErrorCode.INTEGRITY, 'A stored change does not apply to its base.');
    text = out;
  }
  return row.kind === 'json' ? (JSON.parse(text) as JsonValue) : text;
}

/**
 * The attributed changes of `row` after version `since` up to `until` (the head by
 * default), leaving out `exclude`'s own: what `changesSince` and briefings show.
 */
export async function artifactChanges(
  scope: Reads,
  row: ArtifactRow,
  since: number,
  exclude?: string,
  until = row.version,
): Promise<ArtifactChange[]> {
  const out: ArtifactChange[] = [];
  let prev = since >= 1 ? await contentAt(scope, row, since) : undefined;
  for (let v = Math.max(since + 1, 1); v <= Math.min(until, row.version); v++) {
    const vr = await versionRow(scope.rows, row.id, v);
    if (!vr) throw new BatonError(ErrorCode.NOT_FOUND, `${row.id} has no version ${v}.`);
    const content = await contentAt(scope, row, v);
    if (vr.author !== exclude) {
      out.push({
        ...versionOf(vr),
        authorName: scope.authority.identity(vr.author)?.name ?? vr.author,
        diff: shownDiff(diffOf(row.kind, prev ?? (row.kind === 'text' ? '' : null), content)),
      });
    }
    prev = content;
  }
  return out;
}

/** The change between two contents: a unified diff (text) or a JSON Patch as JSON (json). */
export function diffOf(kind: 'text' | 'json', from: ArtifactContent, to: ArtifactContent): string {
  if (kind === 'text') return unifiedDiff(from as string, to as string);
  return JSON.stringify(createJsonPatch(from, to));
}

/** A diff as people read it: a unified diff's hunks, without its file header lines. */
export function shownDiff(diff: string): string {
  const at = diff.indexOf('@@');
  return diff.startsWith('Index:') && at >= 0 ? diff.slice(at) : diff;
}

/** A version row as callers read it. */
export function versionOf(vr: VersionRow): ArtifactVersion {
  const out: ArtifactVersion = { version: vr.version, author: vr.author, at: vr.at };
  if (vr.reason !== undefined) out.reason = vr.reason;
  if (vr.baseVersion !== undefined) out.baseVersion = vr.baseVersion;
  if (vr.mergedFrom !== undefined) out.mergedFrom = vr.mergedFrom;
  return out;
}
