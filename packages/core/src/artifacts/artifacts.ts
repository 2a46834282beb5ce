import { applyPatch as applyJsonPatch, type Operation } from 'rfc6902';
import { z } from 'zod';
import type { Actor } from '../actor.js';
import { canonicalJson, findNonJson, type JsonValue, MAX_JSON_DEPTH } from '../crypto/canonical.js';
import { fromUtf8, utf8 } from '../crypto/encoding.js';
import { sha256b64 } from '../crypto/hash.js';
import { derivedId, randomId } from '../crypto/ids.js';
import { BatonError, ErrorCode, isBatonError, MergeConflictError } from '../errors.js';
import { erasedText } from '../log/body.js';
import { type BlobWrite, type Page, PRIMARY_INDEX } from '../store/store.js';
import {
  fitsBytes,
  idString,
  jsonObject,
  jsonValue,
  name,
  parseInput,
  timeInput,
  utf8String,
} from '../validation.js';
import type { Workspace } from '../workspace.js';
import {
  type ArtifactRow,
  SNAPSHOT_EVERY,
  seenKey,
  type VersionRow,
  versionKey,
} from './artifactEvents.js';
import { applyStoredChange, inBox, MAX_CONTENT } from './content.js';
import { createJsonPatch, jsonSizeUpTo, valueAtPointer } from './jsonDiff.js';
import { mergeJson, mergeText } from './merge.js';
import { applyUnifiedDiff, unifiedDiff } from './textDiff.js';

/** Artifact content: text, or a JSON value for `json` artifacts. */
export type ArtifactContent = string | JsonValue;

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
  /** The change from the version before: a unified diff (text) or a JSON Patch (json). */
  diff: string;
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

/** Input of {@link Artifacts.edit}: new `content`, or a `patch` (JSON Patch for json, unified diff for text). */
export interface EditArtifactInput {
  content?: ArtifactContent;
  patch?: string | Operation[];
  /** The version the edit was made from. Required: an edit never lands blind. */
  baseVersion: number;
  /** Why — shown to whoever reads the change next. */
  reason: string;
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

const editSchema = z
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
  readonly #ws: Workspace;
  readonly #actor: Actor;

  /** @internal */
  constructor(ws: Workspace, actor: Actor) {
    this.#ws = ws;
    this.#actor = actor;
  }

  /** Creates an artifact at version 1. Needs `create` on `artifact:<id>` (e.g. a grant on `artifact:*`). */
  async create(input: CreateArtifactInput): Promise<Artifact> {
    const args = parseInput(createSchema, input, 'artifacts.create');
    const text = this.#serialize(args.kind, args.content, args.schema, 'artifacts.create');
    await this.#ws._catchUp();
    const id = args.idempotencyKey
      ? derivedId('art', [this.#ws.id ?? '', this.#actor.id, args.idempotencyKey])
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
    const [event] = await this.#actor._commit({
      idempotency: {
        key: idempotencyKey,
        operation: 'artifacts.create',
        input: request as JsonValue,
      },
      plan: () => [{ type: 'artifact.created', data, refs: [id] }],
      blobs: [{ hash: content, bytes: body }],
    });
    // The creator gets back what it wrote (version 1), even when its grant is `create` alone.
    const made = (event!.data as { id: string }).id;
    const row = (await this.#ws.store.get('artifacts', made)) as unknown as ArtifactRow;
    return this.#view(row, 1, await this._contentAt(row, 1));
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
    return this.#view(row, v, await this._contentAt(row, v));
  }

  /** Artifacts this actor may read, newest update first, filtered by tag, holder, kind or update time. */
  async list(options: ListArtifactsOptions = {}): Promise<Page<Artifact>> {
    const o = parseInput(listSchema, options, 'artifacts.list');
    await this.#ws._catchUp();
    const store = this.#ws.store;
    const [index, range] = o.tag
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
      const page = await store.query('artifacts', index, range, {
        limit,
        after,
        reverse: index === 'updated',
      });
      for (const { value } of page.items) {
        const row = value as unknown as ArtifactRow;
        if (!o.includeArchived && row.archived) continue;
        if (o.kind && row.kind !== o.kind) continue;
        if (o.updatedSince && row.updatedAt < o.updatedSince) continue;
        if (o.holder && this.#holderOf(row)?.id !== o.holder) continue;
        if (!this.#actor._canNow('read', `artifact:${row.id}`)) continue;
        items.push(this.#view(row, row.version, await this._contentAt(row, row.version)));
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
    const page = await this.#ws.store.query(
      'artifact-versions',
      PRIMARY_INDEX,
      { prefix: `${id}/` },
      { limit: o.limit ?? 100, after: o.after },
    );
    const items = page.items.map(({ value }) => versionOf(value as unknown as VersionRow));
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
    // The bodies of the change, filled in by the plan (which may run again after a lost race).
    const pendingBlobs: BlobWrite[] = [];
    const [event] = await this.#actor._commit({
      idempotency: {
        key: idempotencyKey,
        operation: `artifacts.edit:${id}`,
        input: request as JsonValue,
      },
      plan: async () => {
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
        const base = await this._contentAt(row, args.baseVersion);
        const yours = this.#apply(row, base, args, id);
        let next = yours;
        let mergedFrom: number | undefined;
        const head =
          args.baseVersion === row.version ? base : await this._contentAt(row, row.version);
        if (args.baseVersion !== row.version) {
          const m =
            row.kind === 'text'
              ? mergeText(base as string, head as string, yours as string)
              : mergeJson(base as JsonValue, head as JsonValue, yours as JsonValue);
          if (!m.clean) {
            throw new MergeConflictError({
              artifact: id,
              base: this.#text(row.kind, base),
              theirs: this.#text(row.kind, head),
              yours: this.#text(row.kind, yours),
              baseVersion: args.baseVersion,
              theirsVersion: row.version,
              regions: m.regions,
            });
          }
          next = m.merged;
          mergedFrom = row.version;
        }
        const nextText = this.#serialize(row.kind, next, row.schema, 'artifacts.edit');
        const version = row.version + 1;
        const change = utf8(this.#diff(row.kind, head, next));
        const blobs: BlobWrite[] = [{ hash: sha256b64(change), bytes: change }];
        const data: Record<string, JsonValue> = {
          id,
          version,
          baseVersion: args.baseVersion,
          reason: args.reason,
          change: blobs[0]!.hash,
          contentHash: sha256b64(nextText),
        };
        if (mergedFrom !== undefined) data.mergedFrom = mergedFrom;
        if (version % SNAPSHOT_EVERY === 0) {
          const full = utf8(nextText);
          blobs.push({ hash: sha256b64(full), bytes: full });
          data.snapshot = blobs[1]!.hash;
        }
        pendingBlobs.splice(0, pendingBlobs.length, ...blobs);
        return [{ type: 'artifact.edited', data, refs: [id] }];
      },
      blobs: pendingBlobs,
    });
    // The version this edit made — under concurrent edits the head may already be past it.
    return this.get(id, { version: (event!.data as { version: number }).version });
  }

  /** The change between two versions: a unified diff (text) or a JSON Patch as JSON (json). */
  async diff(id: string, from: number, to: number): Promise<string> {
    parseInput(idString, id, 'artifacts.diff(id)');
    const f = parseInput(versionArg, from, 'artifacts.diff(from)');
    const t = parseInput(versionArg, to, 'artifacts.diff(to)');
    const row = await this.#readable(id);
    if (f > row.version || t > row.version)
      throw new BatonError(ErrorCode.NOT_FOUND, `${id} has versions 1 to ${row.version}.`);
    return shown(
      this.#diff(row.kind, await this._contentAt(row, f), await this._contentAt(row, t)),
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
    const until = new Date(this.#ws._now() + (o?.ttl ?? 3_600_000)).toISOString();
    await this.#simple(id, 'artifact.claimed', { id, until }, (row) => {
      const h = this.#holderOf(row);
      if (h && h.id !== this.#actor.id) {
        const who = this.#ws._view.identity(h.id)?.name ?? h.id;
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
      if (!h || h.id !== this.#actor.id)
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
    const s = (await this.#ws.store.get('seen', seenKey(this.#actor.id, id))) as
      | { version: number }
      | undefined;
    return s?.version ?? 0;
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
    return this._changes(row, since, this.#actor.id);
  }

  /** @internal Attributed changes of `row` after `since`, leaving out `exclude`'s own. */
  async _changes(
    row: ArtifactRow,
    since: number,
    exclude?: string,
    until = row.version,
  ): Promise<ArtifactChange[]> {
    const out: ArtifactChange[] = [];
    let prev = since >= 1 ? await this._contentAt(row, since) : undefined;
    for (let v = Math.max(since + 1, 1); v <= Math.min(until, row.version); v++) {
      const vr = (await this.#ws.store.get(
        'artifact-versions',
        versionKey(row.id, v),
      )) as unknown as VersionRow;
      const content = await this._contentAt(row, v);
      if (vr.author !== exclude) {
        out.push({
          ...versionOf(vr),
          authorName: this.#ws._view.identity(vr.author)?.name ?? vr.author,
          diff: shown(this.#diff(row.kind, prev ?? (row.kind === 'text' ? '' : null), content)),
        });
      }
      prev = content;
    }
    return out;
  }

  /** @internal The content of `row` at `version`: the nearest snapshot at or before it, patched forward. */
  async _contentAt(row: ArtifactRow, version: number): Promise<ArtifactContent> {
    const chain: VersionRow[] = [];
    for (let v = version; v >= 1; v--) {
      const vr = (await this.#ws.store.get(
        'artifact-versions',
        versionKey(row.id, v),
      )) as unknown as VersionRow | undefined;
      if (!vr) throw new BatonError(ErrorCode.NOT_FOUND, `${row.id} has no version ${v}.`);
      chain.push(vr);
      if (vr.snapshot) break;
    }
    chain.reverse();
    const first = await this.#ws.blob(chain[0]!.snapshot!);
    if (!first || 'erased' in first)
      return first && 'erased' in first ? erasedText(first.erased) : '';
    let text = fromUtf8(first.bytes);
    for (const vr of chain.slice(1)) {
      const patch = await this.#ws.blob(vr.change!);
      if (!patch || 'erased' in patch)
        return patch && 'erased' in patch ? erasedText(patch.erased) : '';
      text = this.#applyChange(row.kind, text, fromUtf8(patch.bytes));
    }
    return row.kind === 'json' ? (JSON.parse(text) as JsonValue) : text;
  }

  #applyChange(kind: 'text' | 'json', text: string, change: string): string {
    const out = applyStoredChange(kind, text, change);
    if (out === undefined)
      throw new BatonError(ErrorCode.INTEGRITY, 'A stored change does not apply to its base.');
    return out;
  }

  #apply(
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
      const parent =
        op.path === '' ? box : valueAtPointer(box.doc, op.path.replace(/\/[^/]*$/, ''));
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
      const [error] = missing
        ? [new Error(missing)]
        : applyJsonPatch(box, [inBox(op as Operation)]);
      if (error || box.doc === undefined)
        throw new BatonError(
          ErrorCode.VALIDATION,
          `artifacts.edit: \`patch.${i}\` (${op.op} ${op.path}) does not apply to version ${args.baseVersion}${error ? `: ${error.message.replace(/\/doc/g, '')}` : ''}.`,
          { details: { field: `patch.${i}` } },
        );
    }
    return box.doc;
  }

  #diff(kind: 'text' | 'json', from: ArtifactContent, to: ArtifactContent): string {
    if (kind === 'text') return unifiedDiff(from as string, to as string);
    return JSON.stringify(createJsonPatch(from, to));
  }

  #text(kind: 'text' | 'json', c: ArtifactContent): string {
    return kind === 'text' ? (c as string) : JSON.stringify(c, null, 2);
  }

  #serialize(
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
      const s = this.#ws._schemas.get(schema);
      if (!s)
        throw new BatonError(
          ErrorCode.VALIDATION,
          `${where}: no schema "${schema}" is registered. Pass it in Workspace.open({ schemas }).`,
        );
      parseInput(s, content, `${where}: \`content\` (schema ${schema})`);
    }
    const bad = findNonJson(content, '', new Set(), MAX_JSON_DEPTH);
    if (bad)
      throw new BatonError(
        ErrorCode.VALIDATION,
        `${where}: \`content\` is not plain JSON: ${bad}.`,
        {
          details: { field: 'content' },
        },
      );
    const text = canonicalJson(content);
    if (!fitsBytes(text, MAX_CONTENT))
      throw new BatonError(
        ErrorCode.VALIDATION,
        `${where}: \`content\` is larger than ${MAX_CONTENT} bytes of UTF-8 as JSON.`,
        { details: { field: 'content' } },
      );
    return text;
  }

  async #simple(
    id: string,
    type: string,
    data: Record<string, JsonValue> | null,
    check: (row: ArtifactRow) => void,
    make?: (row: ArtifactRow) => Record<string, JsonValue>,
  ): Promise<void> {
    await this.#actor._commit({
      plan: async () => {
        const row = await this.#row(id);
        check(row);
        return [{ type, data: make ? make(row) : data!, refs: [id] }];
      },
    });
  }

  async #row(id: string): Promise<ArtifactRow> {
    const row = (await this.#ws.store.get('artifacts', id)) as unknown as ArtifactRow | undefined;
    if (!row)
      throw new BatonError(
        ErrorCode.NOT_FOUND,
        `Artifact ${id} does not exist. List them with actor.artifacts.list().`,
      );
    return row;
  }

  async #readable(id: string): Promise<ArtifactRow> {
    await this.#ws._catchUp();
    const row = (await this.#ws.store.get('artifacts', id)) as unknown as ArtifactRow | undefined;
    if (!row || !this.#actor._canNow('read', `artifact:${id}`)) {
      throw new BatonError(
        ErrorCode.NOT_FOUND,
        `Artifact ${id} does not exist, or ${this.#actor.id} may not read it.`,
      );
    }
    return row;
  }

  #holderOf(row: ArtifactRow): { id: string; until: string } | undefined {
    return row.holder && Date.parse(row.holder.until) > this.#ws._now() ? row.holder : undefined;
  }

  #view(row: ArtifactRow, version: number, content: ArtifactContent): Artifact {
    const { holder: _, ...rest } = row;
    const out: Artifact = { ...rest, version, head: row.version, content };
    const h = this.#holderOf(row);
    if (h) out.holder = h;
    return out;
  }
}

function versionOf(vr: VersionRow): ArtifactVersion {
  const out: ArtifactVersion = { version: vr.version, author: vr.author, at: vr.at };
  if (vr.reason !== undefined) out.reason = vr.reason;
  if (vr.baseVersion !== undefined) out.baseVersion = vr.baseVersion;
  if (vr.mergedFrom !== undefined) out.mergedFrom = vr.mergedFrom;
  return out;
}

/** A diff as people read it: a unified diff's hunks, without its file header lines. */
function shown(diff: string): string {
  const at = diff.indexOf('@@');
  return diff.startsWith('Index:') && at >= 0 ? diff.slice(at) : diff;
}
