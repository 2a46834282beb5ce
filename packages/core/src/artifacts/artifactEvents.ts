import { z } from 'zod';
import type { JsonValue } from '../crypto/canonical.js';
import { type EventTypeDef, rules } from '../log/eventTypes.js';
import type { ProjectionWrite } from '../store/store.js';
import { idString, isoTime, jsonObject, name } from '../validation.js';

const hash = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be a body hash');
const tags = z.array(z.string().trim().min(1).max(100)).max(64);

const created = z.object({
  id: idString,
  kind: z.enum(['text', 'json']),
  title: name(),
  tags,
  meta: jsonObject(16 * 1024),
  schema: idString.optional(),
  content: hash,
  contentHash: hash,
  reason: z.string().max(2_000).optional(),
});

const edited = z.object({
  id: idString,
  version: z.number().int().min(2),
  baseVersion: z.number().int().min(1),
  mergedFrom: z.number().int().min(1).optional(),
  reason: z.string().trim().min(1).max(2_000),
  change: hash,
  snapshot: hash.optional(),
  contentHash: hash,
});

const archived = z.object({ id: idString, reason: z.string().max(2_000).optional() });
const claimed = z.object({ id: idString, until: isoTime });
const released = z.object({ id: idString });
const seen = z.object({ id: idString, version: z.number().int().min(1) });

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
  /** A full copy of the content (version 1, and every {@link SNAPSHOT_EVERY} versions). */
  snapshot?: string;
  /** SHA-256 of the content at this version. */
  contentHash: string;
}

/**
 * A full copy of an artifact's content is kept every this many versions, so reading any
 * version applies at most this many patches.
 */
export const SNAPSHOT_EVERY = 16;

/** The `artifact-versions` key of a version: ordered by artifact, then version. */
export function versionKey(id: string, version: number): string {
  return `${id}/${String(version).padStart(10, '0')}`;
}

/** The `seen` key of an identity's cursor on an artifact. */
export function seenKey(identity: string, artifact: string): string {
  return `${identity}/${artifact}`;
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

function putArtifact(row: ArtifactRow): ProjectionWrite {
  return {
    collection: 'artifacts',
    key: row.id,
    value: row as unknown as JsonValue,
    indexes: artifactIndexes(row),
  };
}

async function advanceSeen(
  get: (c: string, k: string) => Promise<JsonValue | undefined>,
  identity: string,
  artifact: string,
  version: number,
): Promise<ProjectionWrite[]> {
  const key = seenKey(identity, artifact);
  const now = (await get('seen', key)) as { version: number } | undefined;
  if (now && now.version >= version) return [];
  return [{ collection: 'seen', key, value: { version }, indexes: { artifact } }];
}

async function rowOf(get: (c: string, k: string) => Promise<JsonValue | undefined>, id: string) {
  return (await get('artifacts', id)) as ArtifactRow | undefined;
}

/** The artifact event types. */
export const artifactEvents = [
  {
    name: 'artifact.created',
    version: 1,
    schema: created,
    stream: (d) => `artifact/${d.id}`,
    authorize: (e) => rules.needs('create', `artifact:${e.data.id}`),
    blobs: (d) => [d.content],
    // Tags are fixed at creation; the authority view keeps them for `artifact:tag/<tag>` grants.
    apply: (e, view) => view.putTags(e.data.id, e.data.tags),
    async project(e, rows) {
      const row: ArtifactRow = {
        id: e.data.id,
        kind: e.data.kind,
        title: e.data.title,
        tags: e.data.tags,
        meta: e.data.meta,
        version: 1,
        createdBy: e.actor,
        createdAt: e.at,
        updatedBy: e.actor,
        updatedAt: e.at,
        archived: false,
      };
      if (e.data.schema !== undefined) row.schema = e.data.schema;
      const version: VersionRow = {
        id: e.data.id,
        version: 1,
        author: e.actor,
        at: e.at,
        seq: e.seq,
        snapshot: e.data.content,
        contentHash: e.data.contentHash,
      };
      if (e.data.reason !== undefined) version.reason = e.data.reason;
      return [
        putArtifact(row),
        {
          collection: 'artifact-versions',
          key: versionKey(e.data.id, 1),
          value: version as unknown as JsonValue,
        },
        ...(await advanceSeen((c, k) => rows.get(c, k), e.actor, e.data.id, 1)),
      ];
    },
  } satisfies EventTypeDef<z.output<typeof created>>,
  {
    name: 'artifact.edited',
    version: 1,
    schema: edited,
    stream: (d) => `artifact/${d.id}`,
    authorize: (e) => rules.needs('write', `artifact:${e.data.id}`),
    blobs: (d) => (d.snapshot ? [d.change, d.snapshot] : [d.change]),
    async project(e, rows) {
      const row = await rowOf((c, k) => rows.get(c, k), e.data.id);
      if (!row) return [];
      const version: VersionRow = {
        id: e.data.id,
        version: e.data.version,
        author: e.actor,
        at: e.at,
        seq: e.seq,
        reason: e.data.reason,
        baseVersion: e.data.baseVersion,
        change: e.data.change,
        contentHash: e.data.contentHash,
      };
      if (e.data.mergedFrom !== undefined) version.mergedFrom = e.data.mergedFrom;
      if (e.data.snapshot !== undefined) version.snapshot = e.data.snapshot;
      // A merged edit saw only its base: the versions it merged over are still news to its author.
      const sawUpTo = e.data.mergedFrom !== undefined ? e.data.baseVersion : e.data.version;
      return [
        putArtifact({ ...row, version: e.data.version, updatedBy: e.actor, updatedAt: e.at }),
        {
          collection: 'artifact-versions',
          key: versionKey(e.data.id, e.data.version),
          value: version as unknown as JsonValue,
        },
        ...(await advanceSeen((c, k) => rows.get(c, k), e.actor, e.data.id, sawUpTo)),
      ];
    },
  } satisfies EventTypeDef<z.output<typeof edited>>,
  {
    name: 'artifact.archived',
    version: 1,
    schema: archived,
    stream: (d) => `artifact/${d.id}`,
    authorize: (e) => rules.needs('write', `artifact:${e.data.id}`),
    async project(e, rows) {
      const row = await rowOf((c, k) => rows.get(c, k), e.data.id);
      return row
        ? [putArtifact({ ...row, archived: true, updatedBy: e.actor, updatedAt: e.at })]
        : [];
    },
  } satisfies EventTypeDef<z.output<typeof archived>>,
  {
    name: 'artifact.claimed',
    version: 1,
    schema: claimed,
    stream: (d) => `artifact/${d.id}`,
    authorize: (e) => rules.needs('write', `artifact:${e.data.id}`),
    async project(e, rows) {
      const row = await rowOf((c, k) => rows.get(c, k), e.data.id);
      return row ? [putArtifact({ ...row, holder: { id: e.actor, until: e.data.until } })] : [];
    },
  } satisfies EventTypeDef<z.output<typeof claimed>>,
  {
    name: 'artifact.released',
    version: 1,
    schema: released,
    stream: (d) => `artifact/${d.id}`,
    authorize: (e) => rules.needs('write', `artifact:${e.data.id}`),
    async project(e, rows) {
      const row = await rowOf((c, k) => rows.get(c, k), e.data.id);
      if (!row) return [];
      const { holder: _, ...rest } = row;
      return [putArtifact(rest)];
    },
  } satisfies EventTypeDef<z.output<typeof released>>,
  {
    name: 'artifact.seen',
    version: 1,
    schema: seen,
    stream: (d) => `artifact/${d.id}`,
    authorize: (e) => rules.needs('read', `artifact:${e.data.id}`),
    project: (e, rows) => advanceSeen((c, k) => rows.get(c, k), e.actor, e.data.id, e.data.version),
  } satisfies EventTypeDef<z.output<typeof seen>>,
] as unknown as EventTypeDef<never>[];
