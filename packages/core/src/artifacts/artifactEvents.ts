import { z } from 'zod';
import { canonicalJson, findNonJson, MAX_JSON_DEPTH } from '../crypto/canonical.js';
import { fromUtf8 } from '../crypto/encoding.js';
import { sha256b64 } from '../crypto/hash.js';
import { BatonError, ErrorCode } from '../errors.js';
import { type EventOf, type EventTypeDef, rules, type StateReader } from '../log/eventTypes.js';
import { fitsBytes, idString, isoTime, jsonObject, name, utf8Length } from '../validation.js';
import {
  type ArtifactRow,
  advanceSeen,
  artifactRow,
  putArtifact,
  putVersion,
  type VersionRow,
  versionRow,
} from './artifactRows.js';
import { applyStoredChange, applyStoredChanges, MAX_CONTENT } from './content.js';
import { type KnownContent, madeContent, recentContents } from './recentContents.js';

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

/**
 * How often a full copy of an artifact's content was kept before issue 18: every 16th version.
 *
 * @deprecated Writers now choose snapshots by how much changed since the last one
 * ({@link SNAPSHOTS}); logs written either way read alike.
 */
export const SNAPSHOT_EVERY = 16;

/** Longest hold a claim may take (what `artifacts.claim` allows). */
const MAX_HOLD_MS = 30 * 86_400_000;

/** The artifact's row as it stands before `e`, or `NOT_FOUND`. */
async function existing(state: StateReader, e: EventOf<{ id: string }>): Promise<ArtifactRow> {
  const row = await artifactRow(state, e.data.id);
  if (!row)
    throw new BatonError(
      ErrorCode.NOT_FOUND,
      `Event ${e.id} (${e.type}) is about artifact ${e.data.id}, which does not exist.`,
    );
  return row;
}

/**
 * A body's text as the state holds it: its text, `'erased'` when an owner erased it (its
 * content cannot be checked any more), or `NOT_FOUND` when it is neither given nor stored.
 */
async function bodyText(
  state: StateReader,
  hash: string,
  e: EventOf<unknown>,
  what: string,
): Promise<string | 'erased'> {
  const bytes = await state.blob(hash);
  if (!bytes) {
    if (await state.get('erasures', hash)) return 'erased';
    throw new BatonError(
      ErrorCode.NOT_FOUND,
      `Event ${e.id} (${e.type}) refers to ${what} ${hash}, which is neither given with it nor stored. Store the body with the event.`,
    );
  }
  if (bytes.length > MAX_CONTENT * 4)
    throw new BatonError(
      ErrorCode.VALIDATION,
      `Event ${e.id} (${e.type}): ${what} ${hash} is ${bytes.length} bytes, more than an artifact's body can be.`,
    );
  try {
    return fromUtf8(bytes);
  } catch {
    throw new BatonError(
      ErrorCode.VALIDATION,
      `Event ${e.id} (${e.type}): ${what} ${hash} is not UTF-8 text.`,
    );
  }
}

/**
 * The content of `row` at `version` rebuilt from the rows and bodies before the event (the
 * nearest snapshot, patched forward), with the bodies it is made of; `undefined` when a body
 * it needs is gone.
 */
async function contentBefore(
  state: StateReader,
  row: ArtifactRow,
  version: number,
): Promise<KnownContent | undefined> {
  const chain: VersionRow[] = [];
  for (let v = version; v >= 1; v--) {
    const vr = await versionRow(state, row.id, v);
    if (!vr) return undefined;
    chain.push(vr);
    if (vr.snapshot) break;
  }
  chain.reverse();
  const read = async (hash: string | undefined) => {
    const bytes = hash ? await state.blob(hash) : undefined;
    try {
      return bytes ? fromUtf8(bytes) : undefined;
    } catch {
      return undefined;
    }
  };
  const first = chain[0];
  const snapshot = await read(first?.snapshot);
  if (snapshot === undefined) return undefined;
  const changes: string[] = [];
  let changeBytes = 0;
  for (const vr of chain.slice(1)) {
    const change = await read(vr.change);
    if (change === undefined) return undefined;
    changes.push(change);
    changeBytes += utf8Length(change);
  }
  const text = applyStoredChanges(row.kind, snapshot, changes);
  if (text === undefined || !first?.snapshot) return undefined;
  const bodies = [first.snapshot, ...chain.slice(1).map((vr) => vr.change!)];
  return { contentHash: chain.at(-1)!.contentHash, text, bodies, changeBytes };
}

/**
 * The content event `e` makes of the head (`head` its version row) when the head's content
 * is kept from a recent read, write or admission and `change` turns it into content that
 * passes `contentProblem` and has the hash `e` names; `undefined` otherwise (the plain rebuild
 * then decides, so both ways admit the same events).
 */
function fromRecent(
  e: EventOf<z.output<typeof edited>>,
  row: ArtifactRow,
  head: VersionRow | undefined,
  change: string,
): string | undefined {
  const known = head && recentContents.get(head);
  if (!known) return undefined;
  const next = applyStoredChange(row.kind, known.text, change);
  if (next === undefined || contentProblem(row.kind, next) !== undefined) return undefined;
  // The writer's own copy of the content, hashed as it was made: equal text, equal hash.
  const made = recentContents.get(e.data);
  if (!(made?.hashed && made.text === next) && sha256b64(next) !== e.data.contentHash)
    return undefined;
  keepAdmitted(e, known, next, change);
  return next;
}

/** Keeps the content `e` made of the head (`before`) for what reads or edits it next. */
function keepAdmitted(
  e: EventOf<z.output<typeof edited>>,
  before: KnownContent,
  text: string,
  change: string,
): void {
  recentContents.put(
    e.data.id,
    e.data.version,
    madeContent(before, text, e.data, utf8Length(change)),
  );
}

function inconsistent(e: EventOf<unknown>, why: string): BatonError {
  return new BatonError(ErrorCode.VALIDATION, `Event ${e.id} (${e.type}): ${why}.`);
}

/** What is wrong with an artifact's content: its size, or for JSON that it is not canonical JSON nested no deeper than allowed. */
function contentProblem(kind: 'text' | 'json', text: string): string | undefined {
  if (!fitsBytes(text, MAX_CONTENT)) return `the content is larger than ${MAX_CONTENT} bytes`;
  if (kind === 'text') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'the content of a json artifact is not JSON';
  }
  const bad = findNonJson(value, '', new Set(), MAX_JSON_DEPTH);
  if (bad) return `the content is not plain JSON: ${bad}`;
  if (canonicalJson(value) !== text) return 'the content of a json artifact is not canonical JSON';
  return undefined;
}

/** Checks an artifact's content ({@link contentProblem}). */
function checkContent(e: EventOf<unknown>, kind: 'text' | 'json', text: string): void {
  const problem = contentProblem(kind, text);
  if (problem) throw inconsistent(e, problem);
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
    async admitState(e, state) {
      if (await artifactRow(state, e.data.id))
        throw new BatonError(
          ErrorCode.INVALID_STATE,
          `Event ${e.id} creates artifact ${e.data.id}, which exists already.`,
        );
      if (e.data.content !== e.data.contentHash)
        throw inconsistent(e, '`contentHash` is not the hash of `content`');
      const text = await bodyText(state, e.data.content, e, 'content');
      if (text !== 'erased') checkContent(e, e.data.kind, text);
    },
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
        putVersion(version),
        ...(await advanceSeen(rows, e.actor, e.data.id, 1)),
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
    async admitState(e, state) {
      const row = await existing(state, e);
      const d = e.data;
      if (row.archived)
        throw new BatonError(
          ErrorCode.INVALID_STATE,
          `Event ${e.id} edits ${row.title} (${d.id}), which is archived.`,
        );
      if (d.version !== row.version + 1)
        throw new BatonError(
          ErrorCode.INVALID_STATE,
          `Event ${e.id} says it makes version ${d.version} of ${d.id}, but the head is ${row.version}: an edit makes version ${row.version + 1}.`,
        );
      if (d.baseVersion > row.version)
        throw inconsistent(
          e,
          `\`baseVersion\` ${d.baseVersion} is ahead of the head (${row.version})`,
        );
      // An edit from an older base is merged over the head, and says so.
      const merged = d.baseVersion < row.version;
      if (merged !== (d.mergedFrom !== undefined) || (merged && d.mergedFrom !== row.version))
        throw inconsistent(
          e,
          merged
            ? `an edit from version ${d.baseVersion} is merged over the head and names it in \`mergedFrom\` (${row.version})`
            : '`mergedFrom` names a merge, but the edit was made from the head',
        );
      if (d.snapshot !== undefined && d.snapshot !== d.contentHash)
        throw inconsistent(e, '`snapshot` is not a copy of the content `contentHash` names');
      if (d.snapshot !== undefined) await bodyText(state, d.snapshot, e, 'snapshot');
      const change = await bodyText(state, d.change, e, 'change');
      if (change === 'erased') return;
      const headRow = await versionRow(state, row.id, row.version);
      if (fromRecent(e, row, headRow, change) !== undefined) return;
      const head = await contentBefore(state, row, row.version);
      // A body the head needs was erased: what it was cannot be checked any more.
      if (head === undefined) return;
      const next = applyStoredChange(row.kind, head.text, change);
      if (next === undefined)
        throw inconsistent(
          e,
          row.kind === 'json'
            ? `its change is not a JSON Patch that applies to version ${row.version} and leaves JSON`
            : `its change is not a unified diff that applies to version ${row.version}`,
        );
      checkContent(e, row.kind, next);
      if (sha256b64(next) !== d.contentHash)
        throw inconsistent(e, '`contentHash` is not the hash of the content its change gives');
      keepAdmitted(e, head, next, change);
    },
    async project(e, rows) {
      const row = await artifactRow(rows, e.data.id);
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
        putVersion(version),
        ...(await advanceSeen(rows, e.actor, e.data.id, sawUpTo)),
      ];
    },
  } satisfies EventTypeDef<z.output<typeof edited>>,
  {
    name: 'artifact.archived',
    version: 1,
    schema: archived,
    stream: (d) => `artifact/${d.id}`,
    authorize: (e) => rules.needs('write', `artifact:${e.data.id}`),
    async admitState(e, state) {
      if ((await existing(state, e)).archived)
        throw new BatonError(
          ErrorCode.INVALID_STATE,
          `Event ${e.id}: ${e.data.id} is archived already.`,
        );
    },
    async project(e, rows) {
      const row = await artifactRow(rows, e.data.id);
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
    async admitState(e, state) {
      const row = await existing(state, e);
      const at = Date.parse(e.at);
      const until = Date.parse(e.data.until);
      if (!(until > at && until <= at + MAX_HOLD_MS))
        throw inconsistent(e, '`until` is not within 30 days after the claim');
      if (row.holder && row.holder.id !== e.actor && Date.parse(row.holder.until) > at)
        throw new BatonError(
          ErrorCode.INVALID_STATE,
          `Event ${e.id}: ${row.holder.id} holds ${e.data.id} until ${row.holder.until}.`,
        );
    },
    async project(e, rows) {
      const row = await artifactRow(rows, e.data.id);
      return row ? [putArtifact({ ...row, holder: { id: e.actor, until: e.data.until } })] : [];
    },
  } satisfies EventTypeDef<z.output<typeof claimed>>,
  {
    name: 'artifact.released',
    version: 1,
    schema: released,
    stream: (d) => `artifact/${d.id}`,
    authorize: (e) => rules.needs('write', `artifact:${e.data.id}`),
    async admitState(e, state) {
      const row = await existing(state, e);
      if (row.holder?.id !== e.actor)
        throw new BatonError(
          ErrorCode.INVALID_STATE,
          `Event ${e.id}: ${e.actor} does not hold ${e.data.id}.`,
        );
    },
    async project(e, rows) {
      const row = await artifactRow(rows, e.data.id);
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
    async admitState(e, state) {
      const row = await existing(state, e);
      if (e.data.version > row.version)
        throw new BatonError(
          ErrorCode.INVALID_STATE,
          `Event ${e.id}: ${e.data.id} has no version ${e.data.version} (its head is ${row.version}).`,
        );
    },
    project: (e, rows) => advanceSeen(rows, e.actor, e.data.id, e.data.version),
  } satisfies EventTypeDef<z.output<typeof seen>>,
] as unknown as EventTypeDef<never>[];
