import { z } from 'zod';
import type { CommitPipeline } from '../commit/pipeline.js';
import { fromBase64url, toBase64url } from '../crypto/encoding.js';
import { sha256b64 } from '../crypto/hash.js';
import { BatonError, ErrorCode } from '../errors.js';
import { type Checkpoint, checkpointSigned } from '../log/checkpoint.js';
import type { BatonEvent, Head } from '../log/event.js';
import type { EventTypes } from '../log/eventTypes.js';
import type { BlobWrite, Store } from '../store/store.js';
import { parseInput } from '../validation.js';
import { storeCall } from './storeCall.js';
import type { ViewSync } from './viewSync.js';
import { importOptionsSchema, isObject } from './workspaceOptions.js';

const exportHeaderSchema = z.object({
  baton: z.literal('export'),
  version: z.literal(1),
  // An export of an empty workspace names none.
  ws: z.string().min(1).nullable(),
  head: z.object({ seq: z.number().int().nonnegative(), hash: z.string() }),
});
const exportLineSchema = z.union([
  z.object({ event: z.custom<BatonEvent>(isObject, { message: 'must be an event' }) }),
  z.object({
    blob: z.object({ hash: z.string().min(1), data: z.string().regex(/^[A-Za-z0-9_-]*$/) }),
  }),
]);

type ExportHeader = z.output<typeof exportHeaderSchema>;

/** What export and import read and write through. */
export interface TransferParts {
  store: Store;
  types: EventTypes;
  sync: ViewSync;
  pipeline: CommitPipeline;
}

/** The log as JSONL lines: the header, then each event, each body it refers to just before it (see `Workspace.export`). */
export async function* exportLog(parts: TransferParts): AsyncIterable<string> {
  const { store, sync } = parts;
  await sync.catchUp();
  const head = await storeCall('head', () => store.head());
  yield JSON.stringify({ baton: 'export', version: 1, ws: sync.view.workspace?.id ?? null, head });
  const sent = new Set<string>();
  for await (const e of store.read({ until: head.seq })) {
    for (const h of parts.types.blobsOf(e)) {
      if (sent.has(h)) continue;
      sent.add(h);
      const bytes = await store.blobs.get(h);
      if (bytes) yield JSON.stringify({ blob: { hash: h, data: toBase64url(bytes) } });
    }
    yield JSON.stringify({ event: e });
  }
}

/** Reads an export into an empty store, checked whole before anything is written (see `Workspace.import`). */
export async function importLog(
  parts: TransferParts,
  source: string | Iterable<string> | AsyncIterable<string>,
  options: { checkpoint?: Checkpoint },
): Promise<Head> {
  if (
    typeof source !== 'string' &&
    !(source && (Symbol.iterator in Object(source) || Symbol.asyncIterator in Object(source)))
  ) {
    throw new BatonError(
      ErrorCode.VALIDATION,
      'workspace.import: pass the export as a string or an (async) iterable of lines.',
    );
  }
  const { checkpoint } = parseInput(importOptionsSchema, options, 'workspace.import');
  if (checkpoint) {
    if (!(await checkpointSigned(checkpoint))) {
      throw new BatonError(
        ErrorCode.INTEGRITY,
        'workspace.import: the checkpoint’s signature is not valid. Pass the checkpoint exactly as checkpoint() returned it.',
      );
    }
  }
  // An export starts at seq 1: it can only become the whole log of an empty store.
  const existing = await storeCall('head', () => parts.store.head());
  if (existing.seq > 0) {
    throw new BatonError(
      ErrorCode.INVALID_STATE,
      `This store holds a workspace already (${existing.seq} events): import into an empty store.`,
    );
  }
  const { header, events, blobs } = await readExport(source);
  const last = events.at(-1);
  const foreign = events.find((e) => e.ws !== header.ws);
  if (foreign) {
    throw new BatonError(
      ErrorCode.INTEGRITY,
      `workspace.import: the header names workspace ${header.ws}, but event ${String(foreign.id)} (seq ${String(foreign.seq)}) belongs to ${String(foreign.ws)}. Nothing was written.`,
    );
  }
  if ((last?.seq ?? 0) !== header.head.seq || (last?.hash ?? '') !== header.head.hash) {
    throw new BatonError(
      ErrorCode.INTEGRITY,
      `workspace.import: the header says the log ends at seq ${header.head.seq} (hash ${header.head.hash}), but its last event is seq ${last?.seq ?? 0} (hash ${last?.hash ?? 'none'}): the export was truncated or changed. Nothing was written.`,
    );
  }
  if (checkpoint && checkpoint.ws !== header.ws) {
    throw new BatonError(
      ErrorCode.INTEGRITY,
      `workspace.import: the checkpoint is of workspace ${checkpoint.ws}, the export of ${header.ws}. Nothing was written.`,
    );
  }
  if (events.length === 0) {
    if (checkpoint)
      throw new BatonError(
        ErrorCode.INTEGRITY,
        'workspace.import: the export holds no events, so it does not extend the checkpoint.',
      );
    return parts.sync.catchUp();
  }
  return parts.pipeline.ingest(events, blobs, checkpoint);
}

/** The header, events and bodies of an export's lines; every body checked against its hash. */
async function readExport(
  source: string | Iterable<string> | AsyncIterable<string>,
): Promise<{ header: ExportHeader; events: BatonEvent[]; blobs: BlobWrite[] }> {
  const events: BatonEvent[] = [];
  const blobs: BlobWrite[] = [];
  let header: ExportHeader | undefined;
  let n = 0;
  const bad = (what: string): never => {
    throw new BatonError(ErrorCode.VALIDATION, `workspace.import: line ${n} ${what}.`);
  };
  for await (const chunk of typeof source === 'string' ? [source] : source) {
    if (typeof chunk !== 'string') {
      n++;
      bad('is not a string (pass the export’s lines as strings)');
    }
    for (const line of chunk.split('\n')) {
      n++;
      if (line.trim() === '') continue;
      let item: unknown;
      try {
        item = JSON.parse(line);
      } catch (cause) {
        throw new BatonError(ErrorCode.VALIDATION, `workspace.import: line ${n} is not JSON.`, {
          cause,
        });
      }
      if (!header) {
        const h = exportHeaderSchema.safeParse(item);
        if (!h.success) {
          throw new BatonError(
            ErrorCode.VALIDATION,
            'workspace.import: this is not a Baton export (version 1); the first line must be its header ({ baton: "export", version: 1, ws, head }).',
          );
        }
        header = h.data;
        continue;
      }
      const parsed = exportLineSchema.safeParse(item);
      if (!parsed.success)
        bad('is neither an event ({ event }) nor a body ({ blob: { hash, data } })');
      const entry = parsed.data!;
      if ('event' in entry) events.push(entry.event as BatonEvent);
      else {
        let bytes: Uint8Array;
        try {
          bytes = fromBase64url(entry.blob.data);
        } catch {
          bytes = bad('holds a body whose `data` is not base64url');
        }
        if (sha256b64(bytes) !== entry.blob.hash) {
          throw new BatonError(
            ErrorCode.INTEGRITY,
            `workspace.import: body ${entry.blob.hash} (line ${n}) does not match its hash.`,
          );
        }
        blobs.push({ hash: entry.blob.hash, bytes });
      }
    }
  }
  if (!header) throw new BatonError(ErrorCode.VALIDATION, 'workspace.import: the export is empty.');
  return { header, events, blobs };
}
