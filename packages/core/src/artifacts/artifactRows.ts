import type { JsonValue } from '../crypto/canonical.js';
import { type RowSource, valuesOf } from '../scope.js';
import {
  type Page,
  type PageOptions,
  PRIMARY_INDEX,
  type ProjectionWrite,
} from '../store/store.js';

/**
 * The artifact projections' rows, typed: `artifacts` (one row an artifact), `artifact-versions`
 * (one row a version) and `seen` (an identity's cursor on an artifact). Reads and writes of
 * these collections go through here, so no other module names them.
 */

/** An artifact's row in the `artifacts` projection. */
export interface ArtifactRow {
  id: string;
  kind: 'text' | 'json';
  title: string;
  tags: string[];
  meta: Record<string, JsonValue>;
  schema?: string;
  version: number;
  createdBy: string;
  createdAt: string;
  updatedBy: string;
  updatedAt: string;
  archived: boolean;
  holder?: { id: string; until: string };
}

/** One version's row in the `artifact-versions` projection. */
export interface VersionRow {
  id: string;
  version: number;
  author: string;
  at: string;
  seq: number;
  reason?: string;
  baseVersion?: number;
  mergedFrom?: number;
  /** The change from the previous version (a patch body); absent for version 1. */
  change?: string;
  /** A full copy of the content: version 1, and versions its writer chose ({@link SNAPSHOTS}). */
  snapshot?: string;
  /** SHA-256 of the content at this version. */
  contentHash: string;
}

/** The `artifact-versions` key of a version: ordered by artifact, then version. */
export function versionKey(id: string, version: number): string {
  return `${id}/${String(version).padStart(10, '0')}`;
}

/** The `seen` key of an identity's cursor on an artifact. */
export function seenKey(identity: string, artifact: string): string {
  return `${identity}/${artifact}`;
}

type RowReader = Pick<RowSource, 'get'>;

/** The artifact's row, or `undefined` when there is none. */
export async function artifactRow(rows: RowReader, id: string): Promise<ArtifactRow | undefined> {
  return (await rows.get('artifacts', id)) as ArtifactRow | undefined;
}

/** The row of version `version` of artifact `id`, or `undefined`. */
export async function versionRow(
  rows: RowReader,
  id: string,
  version: number,
): Promise<VersionRow | undefined> {
  return (await rows.get('artifact-versions', versionKey(id, version))) as VersionRow | undefined;
}

/** The version `identity` last saw of `artifact`, or 0. */
export async function seenVersion(
  rows: RowReader,
  identity: string,
  artifact: string,
): Promise<number> {
  const row = (await rows.get('seen', seenKey(identity, artifact))) as
    | { version: number }
    | undefined;
  return row?.version ?? 0;
}

/** The indexes of the `artifacts` projection. */
export type ArtifactIndex = 'tag' | 'holder' | 'kind' | 'updated';

/** A page of artifact rows by one of the `artifacts` indexes. */
export async function artifactsPage(
  rows: RowSource,
  index: ArtifactIndex,
  range: { eq?: string; gte?: string },
  options: PageOptions,
): Promise<Page<ArtifactRow>> {
  return valuesOf<ArtifactRow>(await rows.query('artifacts', index, range, options));
}

/** A page of an artifact's version rows, oldest first. */
export async function versionsPage(
  rows: RowSource,
  id: string,
  options: PageOptions,
): Promise<Page<VersionRow>> {
  return valuesOf<VersionRow>(
    await rows.query('artifact-versions', PRIMARY_INDEX, { prefix: `${id}/` }, options),
  );
}

/**
 * A page of an artifact's version rows from version `from` to `to`, both included, oldest
 * first (newest first with `reverse`).
 */
export async function versionRange(
  rows: RowSource,
  id: string,
  from: number,
  to: number,
  options: PageOptions,
): Promise<Page<VersionRow>> {
  const range = { gte: versionKey(id, from), lt: versionKey(id, to + 1) };
  return valuesOf<VersionRow>(await rows.query('artifact-versions', PRIMARY_INDEX, range, options));
}

function artifactIndexes(row: ArtifactRow): Record<string, string | string[]> {
  const indexes: Record<string, string | string[]> = {
    tag: row.tags,
    kind: row.kind,
    updated: row.updatedAt,
  };
  if (row.holder) indexes.holder = row.holder.id;
  return indexes;
}

/** The write of an artifact's row. */
export function putArtifact(row: ArtifactRow): ProjectionWrite {
  return {
    collection: 'artifacts',
    key: row.id,
    value: row as unknown as JsonValue,
    indexes: artifactIndexes(row),
  };
}

/** The write of a version's row. */
export function putVersion(row: VersionRow): ProjectionWrite {
  return {
    collection: 'artifact-versions',
    key: versionKey(row.id, row.version),
    value: row as unknown as JsonValue,
  };
}

/** The write moving `identity`'s cursor on `artifact` to `version`; none when it is there already. */
export async function advanceSeen(
  rows: RowReader,
  identity: string,
  artifact: string,
  version: number,
): Promise<ProjectionWrite[]> {
  if ((await seenVersion(rows, identity, artifact)) >= version) return [];
  const key = seenKey(identity, artifact);
  return [{ collection: 'seen', key, value: { version }, indexes: { artifact } }];
}
