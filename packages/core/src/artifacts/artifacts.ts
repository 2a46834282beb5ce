import { z } from 'zod';
import type { JsonValue } from '../crypto/canonical.js';
import { utf8 } from '../crypto/encoding.js';
import { sha256b64 } from '../crypto/hash.js';
import { derivedId, randomId } from '../crypto/ids.js';
import { BatonError, ErrorCode, MergeConflictError } from '../errors.js';
import type { Scope } from '../scope.js';
import type { BlobWrite, Page } from '../store/store.js';
import { idString, jsonObject, jsonValue, name, parseInput, timeInput } from '../validation.js';
import {
  type ArtifactChange,
  type ArtifactContent,
  type ArtifactVersion,
  artifactChanges,
  contentAt,
  contentOf,
  diffOf,
  shownDiff,
  storedChange,
  takesSnapshot,
  versionOf,
  versionText,
} from './artifactHistory.js';
import {
  type ArtifactIndex,
  type ArtifactRow,
  artifactRow,
  artifactsPage,
  seenVersion,
  versionsPage,
} from './artifactRows.js';
import { MAX_CONTENT } from './content.js';
import {
  applyEdit,
  contentText,
  type EditArtifactInput,
  editSchema,
  MAX_PATCH,
  serializeContent,
} from './editing.js';
import { mergeJson, mergeText } from './merge.js';
import { madeContent, recentContents } from './recentContents.js';

export type { ArtifactChange, ArtifactContent, ArtifactVersion } from './artifactHistory.js';
export type { EditArtifactInput } from './editing.js';
export { MAX_PATCH };

/** An artifact at one version, as an actor reads it. */
export interface Artifact extends Omit<ArtifactRow, 'holder'> {
  /** The content at this version (`"[erased by …]"` when a body it needs was erased). */
  content: ArtifactContent;
  /** The version read (the head unless asked otherwise). */
  version: number;
  /** The head version. */
  head: number;
  /** Who holds the baton, while the hold lasts. */
  holder?: { id: string; until: string };
}

/** Input of {@link Artifacts.create}. */
export interface CreateArtifactInput {
  kind: 'text' | 'json';
  title: string;
  content: ArtifactContent;
  tags?: string[];
  meta?: Record<string, JsonValue>;
  /** For json: the name of a zod schema registered in `Workspace.open({ schemas })`. */
  schema?: string;
  reason?: string;
  idempotencyKey?: string;
}

/** Options of {@link Artifacts.list}. */
export interface ListArtifactsOptions {
  tag?: string;
  holder?: string;
  kind?: 'text' | 'json';
  /** Only artifacts updated at or after this time. */
  updatedSince?: string | Date | number;
  includeArchived?: boolean;
  /** Page size. Defaults to `50`. */
  limit?: number;
  after?: string;
}

const createSchema = z.object({
  kind: z.enum(['text', 'json']),
  title: name(),
  content: jsonValue,
  tags: z.array(z.string().trim().min(1).max(100)).max(64).optional(),
  meta: jsonObject(16 * 1024).optional(),
  schema: idString.optional(),
  reason: z.string().max(2_000).optional(),
  idempotencyKey: idString.optional(),
});
const listSchema = z.object({
  tag: z.string().min(1).optional(),
  holder: idString.optional(),
  kind: z.enum(['text', 'json']).optional(),
  updatedSince: timeInput.optional(),
  includeArchived: z.boolean().optional(),
  limit: z.number().int().min(1).max(500).optional(),
  after: z.string().optional(),
});
const pageSchema = z.object({
  limit: z.number().int().min(1).max(500).optional(),
  after: z.string().optional(),
});
const versionArg = z.number().int().min(1);
const getSchema = z.object({ version: versionArg.optional() }).optional();
const changesSchema = z.object({ since: z.number().int().min(0).optional() }).optional();
const claimSchema = z
  .object({
    ttl: z
      .number()
      .int()
      .min(1_000)
      .max(30 * 86_400_000),
  })
  .optional();
const reasonOpt = z.object({ reason: z.string().max(2_000).optional() }).optional();

export { MAX_CONTENT };

/**
 * Versioned shared work: text or JSON that people and agents edit in turns, every version
 * attributed with a reason, concurrent edits merged three-way or raised as conflicts —
 * never silently lost. Reached as `actor.artifacts`.
 */
export class Artifacts {
  readonly #scope: Scope;

  /** @internal */
  constructor(scope: Scope) {
    this.#scope = scope;
  }

  /** Creates an artifact at version 1. Needs `create` on `artifact:<id>` (e.g. a grant on `artifact:*`). */
  async create(input: CreateArtifactInput): Promise<Artifact> {
    const args = parseInput(createSchema, input, 'artifacts.create');
    const text = serializeContent(
      this.#scope.schema,
      args.kind,
      args.content,
      args.schema,
      'artifacts.create',
    );
    await this.#scope.catchUp();
    const id = args.idempotencyKey
      ? derivedId('art', [this.#scope.workspace, this.#scope.actor, args.idempotencyKey])
      : randomId('art');
    const body = utf8(text);
    const content = sha256b64(body);
    const { idempotencyKey, ...request } = args;
    const data: Record<string, JsonValue> = {
      id,
      kind: args.kind,
      title: args.title,
      tags: args.tags ?? [],
      meta: args.meta ?? {},
      content,
      contentHash: content,
    };
    if (args.schema !== undefined) data.schema = args.schema;
    if (args.reason !== undefined) data.reason = args.reason;
    const [event] = await this.#scope.commit({
      idempotency: {
        key: idempotencyKey,
        operation: 'artifacts.create',
        input: request as JsonValue,
      },
      plan: () => ({
        drafts: [{ type: 'artifact.created', data, refs: [id] }],
        blobs: [{ hash: content, bytes: body }],
      }),
    });
    // The creator gets back what it wrote (version 1), even when its grant is `create` alone.
    const made = (event!.data as { id: string }).id;
    const row = (await artifactRow(this.#scope.rows, made))!;
    return this.#asRead(row, 1, await contentAt(this.#scope, row, 1));
  }

  /** The artifact at its head, or at `version`. Needs `read`. */
  async get(id: string, options: { version?: number } = {}): Promise<Artifact> {
    parseInput(idString, id, 'artifacts.get(id)');
    const version = parseInput(getSchema, options, 'artifacts.get')?.version;
    const row = await this.#readable(id);
    const v = version ?? row.version;
    if (v > row.version)
      throw new BatonError(
        ErrorCode.NOT_FOUND,
        `${id} has no version ${v} (its head is ${row.version}).`,
      );
    return this.#asRead(row, v, await contentAt(this.#scope, row, v));
  }

  /** Artifacts this actor may read, newest update first, filtered by tag, holder, kind or update time. */
  async list(options: ListArtifactsOptions = {}): Promise<Page<Artifact>> {
    const o = parseInput(listSchema, options, 'artifacts.list');
    await this.#scope.catchUp();
    const [index, range]: [ArtifactIndex, { eq?: string; gte?: string }] = o.tag
      ? ['tag', { eq: o.tag }]
      : o.holder
        ? ['holder', { eq: o.holder }]
        : o.kind
          ? ['kind', { eq: o.kind }]
          : ['updated', o.updatedSince ? { gte: o.updatedSince } : {}];
    const limit = o.limit ?? 50;
    const items: Artifact[] = [];
    let after = o.after;
    while (items.length < limit) {
      const page = await artifactsPage(this.#scope.rows, index, range, {
        limit,
        after,
        reverse: index === 'updated',
      });
      for (const row of page.items) {
        if (!o.includeArchived && row.archived) continue;
        if (o.kind && row.kind !== o.kind) continue;
        if (o.updatedSince && row.updatedAt < o.updatedSince) continue;
        if (o.holder && this.#holderOf(row)?.id !== o.holder) continue;
        if (!this.#scope.may('read', `artifact:${row.id}`)) continue;
        items.push(this.#asRead(row, row.version, await contentAt(this.#scope, row, row.version)));
        if (items.length === limit) break;
      }
      after = page.next;
      if (!after) break;
    }
    return after && items.length === limit ? { items, next: after } : { items };
  }

  /** The attributed versions of an artifact, oldest first, a page at a time. */
  async history(
    id: string,
    options: { limit?: number; after?: string } = {},
  ): Promise<Page<ArtifactVersion>> {
    parseInput(idString, id, 'artifacts.history(id)');
    const o = parseInput(pageSchema, options, 'artifacts.history');
    await this.#readable(id);
    const page = await versionsPage(this.#scope.rows, id, {
      limit: o.limit ?? 100,
      after: o.after,
    });
    const items = page.items.map(versionOf);
    return page.next ? { items, next: page.next } : { items };
  }

  /**
   * Edits an artifact. `baseVersion` is the version the edit was made from: when the head
   * has moved since, the edit is merged three-way (text by lines, JSON by non-overlapping
   * patches) and committed with `mergedFrom`; when both sides changed the same place it
   * throws {@link MergeConflictError} and writes nothing. Needs `write`.
   */
  async edit(id: string, input: EditArtifactInput): Promise<Artifact> {
    parseInput(idString, id, 'artifacts.edit(id)');
    const args = parseInput(editSchema, input, 'artifacts.edit');
    const { idempotencyKey, ...request } = args;
    // What the last run of the plan made: the edit returns it without reading it back.
    let made: { version: number; contentHash: string; text: string } | undefined;
    const [event] = await this.#scope.commit({
      idempotency: {
        key: idempotencyKey,
        operation: `artifacts.edit:${id}`,
        input: request as JsonValue,
      },
      plan: async () => {
        made = undefined;
        const row = await this.#row(id);
        if (row.archived)
          throw new BatonError(
            ErrorCode.INVALID_STATE,
            `${row.title} (${id}) is archived; it cannot be edited.`,
          );
        if (args.baseVersion > row.version) {
          throw new BatonError(
            ErrorCode.VALIDATION,
            `artifacts.edit: \`baseVersion\` ${args.baseVersion} is ahead of the head (${row.version}).`,
          );
        }
        const baseText = await versionText(this.#scope, row, args.baseVersion);
        const base = contentOf(row.kind, baseText);
        const yours = applyEdit(row, base, args, id);
        let next = yours;
        let mergedFrom: number | undefined;
        const headText =
          args.baseVersion === row.version
            ? baseText
            : await versionText(this.#scope, row, row.version);
        const head = headText === baseText ? base : contentOf(row.kind, headText);
        if (args.baseVersion !== row.version) {
          const m =
            row.kind === 'text'
              ? mergeText(base as string, head as string, yours as string)
              : mergeJson(base as JsonValue, head as JsonValue, yours as JsonValue);
          if (!m.clean) {
            throw new MergeConflictError({
              artifact: id,
              base: contentText(row.kind, base),
              theirs: contentText(row.kind, head),
              yours: contentText(row.kind, yours),
              baseVersion: args.baseVersion,
              theirsVersion: row.version,
              regions: m.regions,
            });
          }
          next = m.merged;
          mergedFrom = row.version;
        }
        const nextText = serializeContent(
          this.#scope.schema,
          row.kind,
          next,
          row.schema,
          'artifacts.edit',
        );
        const version = row.version + 1;
        const change = utf8(storedChange(row.kind, head, next));
        const blobs: BlobWrite[] = [{ hash: sha256b64(change), bytes: change }];
        const contentHash = sha256b64(nextText);
        const data: Record<string, JsonValue> = {
          id,
          version,
          baseVersion: args.baseVersion,
          reason: args.reason,
          change: blobs[0]!.hash,
          contentHash,
        };
        if (mergedFrom !== undefined) data.mergedFrom = mergedFrom;
        const snapshot = takesSnapshot(headText, change.length, nextText);
        if (snapshot) {
          blobs.push({ hash: contentHash, bytes: utf8(nextText) });
          data.snapshot = contentHash;
        }
        made = { version, contentHash, text: nextText };
        // Kept as hashed, so admission compares the content it rebuilds instead of hashing it again.
        const before = snapshot || 'gone' in headText ? undefined : headText.known;
        const kept = {
          contentHash,
          change: blobs[0]!.hash,
          snapshot: snapshot ? contentHash : undefined,
        };
        recentContents.put(id, version, madeContent(before, nextText, kept, change.length));
        return { drafts: [{ type: 'artifact.edited', data, refs: [id] }], blobs };
      },
    });
    // The version this edit made — under concurrent edits the head may already be past it.
    const committed = event!.data as { version: number; contentHash: string };
    if (made?.version !== committed.version || made.contentHash !== committed.contentHash)
      return this.get(id, { version: committed.version });
    const row = await this.#readable(id);
    const content = row.kind === 'json' ? (JSON.parse(made.text) as JsonValue) : made.text;
    return this.#asRead(row, made.version, content);
  }

  /** The change between two versions: a unified diff (text) or a JSON Patch as JSON (json). */
  async diff(id: string, from: number, to: number): Promise<string> {
    parseInput(idString, id, 'artifacts.diff(id)');
    const f = parseInput(versionArg, from, 'artifacts.diff(from)');
    const t = parseInput(versionArg, to, 'artifacts.diff(to)');
    const row = await this.#readable(id);
    if (f > row.version || t > row.version)
      throw new BatonError(ErrorCode.NOT_FOUND, `${id} has versions 1 to ${row.version}.`);
    return shownDiff(
      diffOf(row.kind, await contentAt(this.#scope, row, f), await contentAt(this.#scope, row, t)),
    );
  }

  /** Archives an artifact: it stays readable with its history, and cannot be edited. Needs `write`. */
  async archive(id: string, options?: { reason?: string }): Promise<Artifact> {
    parseInput(idString, id, 'artifacts.archive(id)');
    const o = parseInput(reasonOpt, options, 'artifacts.archive');
    const data: Record<string, JsonValue> = { id };
    if (o?.reason !== undefined) data.reason = o.reason;
    await this.#simple(id, 'artifact.archived', data, (row) => {
      if (row.archived) throw new BatonError(ErrorCode.INVALID_STATE, `${id} is archived already.`);
    });
    return this.get(id);
  }

  /**
   * Takes the baton: marks this actor as holding the artifact for `ttl` ms. Advisory —
   * others can still edit — but shown everywhere. Refused while someone else holds it.
   */
  async claim(id: string, options?: { ttl: number }): Promise<Artifact> {
    parseInput(idString, id, 'artifacts.claim(id)');
    const o = parseInput(claimSchema, options, 'artifacts.claim');
    const until = new Date(this.#scope.now() + (o?.ttl ?? 3_600_000)).toISOString();
    await this.#simple(id, 'artifact.claimed', { id, until }, (row) => {
      const h = this.#holderOf(row);
      if (h && h.id !== this.#scope.actor) {
        const who = this.#scope.authority.identity(h.id)?.name ?? h.id;
        throw new BatonError(
          ErrorCode.INVALID_STATE,
          `${who} holds ${row.title} until ${h.until}; ask them to release it or hand it off.`,
        );
      }
    });
    return this.get(id);
  }

  /** Gives the baton back. Only its holder releases it. */
  async release(id: string): Promise<Artifact> {
    parseInput(idString, id, 'artifacts.release(id)');
    await this.#simple(id, 'artifact.released', { id }, (row) => {
      const h = this.#holderOf(row);
      if (!h || h.id !== this.#scope.actor)
        throw new BatonError(ErrorCode.INVALID_STATE, `You do not hold ${row.title}.`);
    });
    return this.get(id);
  }

  /** Records that this actor has seen `version` (an explicit, rare event: plain reads stay reads). */
  async markSeen(id: string, version?: number): Promise<void> {
    parseInput(idString, id, 'artifacts.markSeen(id)');
    const v =
      version === undefined
        ? undefined
        : parseInput(versionArg, version, 'artifacts.markSeen(version)');
    await this.#simple(
      id,
      'artifact.seen',
      null,
      (row) => {
        if ((v ?? row.version) > row.version)
          throw new BatonError(ErrorCode.VALIDATION, `${id} has no version ${v}.`);
      },
      (row) => ({ id, version: v ?? row.version }),
    );
  }

  /** The version this actor last saw (created, edited, was handed or marked), or 0. */
  async seen(id: string): Promise<number> {
    parseInput(idString, id, 'artifacts.seen(id)');
    return seenVersion(this.#scope.rows, this.#scope.actor, id);
  }

  /**
   * What others changed since this actor last saw the artifact: each version after its
   * cursor by someone else, with author, reason and diff.
   */
  async changesSince(id: string, options: { since?: number } = {}): Promise<ArtifactChange[]> {
    parseInput(idString, id, 'artifacts.changesSince(id)');
    const o = parseInput(changesSchema, options, 'artifacts.changesSince');
    const row = await this.#readable(id);
    const since = o?.since ?? (await this.seen(id));
    return artifactChanges(this.#scope, row, since, this.#scope.actor);
  }

  async #simple(
    id: string,
    type: string,
    data: Record<string, JsonValue> | null,
    check: (row: ArtifactRow) => void,
    make?: (row: ArtifactRow) => Record<string, JsonValue>,
  ): Promise<void> {
    await this.#scope.commit({
      plan: async () => {
        const row = await this.#row(id);
        check(row);
        return { drafts: [{ type, data: make ? make(row) : data!, refs: [id] }] };
      },
    });
  }

  async #row(id: string): Promise<ArtifactRow> {
    const row = await artifactRow(this.#scope.rows, id);
    if (!row)
      throw new BatonError(
        ErrorCode.NOT_FOUND,
        `Artifact ${id} does not exist. List them with actor.artifacts.list().`,
      );
    return row;
  }

  async #readable(id: string): Promise<ArtifactRow> {
    await this.#scope.catchUp();
    const row = await artifactRow(this.#scope.rows, id);
    if (!row || !this.#scope.may('read', `artifact:${id}`)) {
      throw new BatonError(
        ErrorCode.NOT_FOUND,
        `Artifact ${id} does not exist, or ${this.#scope.actor} may not read it.`,
      );
    }
    return row;
  }

  #holderOf(row: ArtifactRow): { id: string; until: string } | undefined {
    return row.holder && Date.parse(row.holder.until) > this.#scope.now() ? row.holder : undefined;
  }

  /** The artifact of `row` at `version` as callers read it (the hold only while it lasts). */
  #asRead(row: ArtifactRow, version: number, content: ArtifactContent): Artifact {
    const { holder: _, ...rest } = row;
    const out: Artifact = { ...rest, version, head: row.version, content };
    const h = this.#holderOf(row);
    if (h) out.holder = h;
    return out;
  }
}
