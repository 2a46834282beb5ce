import { versionRow } from './artifacts/artifactRows.js';
import type { JsonValue } from './crypto/canonical.js';
import { type BatonEvent, parseType } from './log/event.js';
import type { EventTypeDef, ProjectionReader } from './log/eventTypes.js';
import type { ProjectionWrite } from './store/store.js';

/**
 * The `records` projection: one row an identity, its track record's counts (what
 * `identities.record(id)` returns), kept up to date as events are appended and rebuilt by
 * `rebuildProjections()`. Beside it, `record-reverts` holds the edits a later version could
 * still revert, one row per artifact and content hash: the edits whose previous version had
 * that content. A new version with that content reverts them all at once, so each edit costs
 * a constant number of row reads and writes, whatever the artifact's history.
 */
export const TRACK_RECORDS = 'records';
const REVERTS = 'record-reverts';

/** An identity's counts in the `records` projection (see `identities.record`). */
export interface TrackRecordCounts {
  /** Work handoffs it offered, and (as recipient) accepted, completed, returned, declined. */
  handoffs: {
    offered: number;
    accepted: number;
    completed: number;
    returned: number;
    declined: number;
  };
  /** Approvals it requested and how they were decided; approvals it decided for others. */
  approvals: {
    requested: number;
    granted: number;
    denied: number;
    approvedForOthers: number;
    deniedForOthers: number;
  };
  /** Its edits, and how many a later version reverted. */
  edits: { total: number; reverted: number };
  /** Its `usage` entries, summed. */
  cost: { entries: number; inputTokens: number; outputTokens: number; costUsd: number };
}

/** The counts of an identity with no record yet. */
export function emptyCounts(): TrackRecordCounts {
  return {
    handoffs: { offered: 0, accepted: 0, completed: 0, returned: 0, declined: 0 },
    approvals: { requested: 0, granted: 0, denied: 0, approvedForOthers: 0, deniedForOthers: 0 },
    edits: { total: 0, reverted: 0 },
    cost: { entries: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 },
  };
}

/** The counts of identity `id` as the rows stand (all zero when it has none). */
export async function trackRecordCounts(
  rows: ProjectionReader,
  id: string,
): Promise<TrackRecordCounts> {
  const row = (await rows.get(TRACK_RECORDS, id)) as TrackRecordCounts | undefined;
  return row ? structuredClone(row) : emptyCounts();
}

/** Edits waiting to be reverted: by version, with their author. */
type Waiting = { version: number; author: string }[];

function revertKey(artifact: string, contentHash: string): string {
  return `${artifact}/${contentHash}`;
}

/** The event types whose events change track records. */
const COUNTED = new Set([
  'handoff.offered',
  'handoff.accepted',
  'handoff.completed',
  'handoff.returned',
  'handoff.declined',
  'handoff.decided',
  'artifact.edited',
  'context.recorded',
]);

/**
 * The `records` (and `record-reverts`) rows event `e` changes, its `data` parsed; `rows`
 * reads the projections as they stand before it.
 */
export async function trackRecordRows(
  e: BatonEvent & { data: unknown },
  rows: ProjectionReader,
): Promise<ProjectionWrite[]> {
  const name = parseType(e.type).name;
  if (!COUNTED.has(name)) return [];
  const d = e.data as Record<string, unknown>;
  const changed = new Map<string, TrackRecordCounts>();
  const of = async (id: string) => {
    let c = changed.get(id);
    if (!c) {
      c = await trackRecordCounts(rows, id);
      changed.set(id, c);
    }
    return c;
  };
  const out: ProjectionWrite[] = [];
  switch (name) {
    case 'handoff.offered':
      if (d.kind === 'approval') (await of(e.actor)).approvals.requested++;
      else (await of(e.actor)).handoffs.offered++;
      break;
    case 'handoff.accepted':
    case 'handoff.completed':
    case 'handoff.returned':
    case 'handoff.declined':
      (await of(e.actor)).handoffs[
        name.slice('handoff.'.length) as keyof TrackRecordCounts['handoffs']
      ]++;
      break;
    case 'handoff.decided': {
      const approved = d.decision === 'approved';
      (await of(d.requester as string)).approvals[approved ? 'granted' : 'denied']++;
      (await of(e.actor)).approvals[approved ? 'approvedForOthers' : 'deniedForOthers']++;
      break;
    }
    case 'artifact.edited': {
      const artifact = d.id as string;
      const version = d.version as number;
      const content = d.contentHash as string;
      (await of(e.actor)).edits.total++;
      // This version reverts every edit whose previous version had its content.
      const reverted = (await rows.get(REVERTS, revertKey(artifact, content))) as
        | { edits: Waiting }
        | undefined;
      for (const w of reverted?.edits ?? []) (await of(w.author)).edits.reverted++;
      const waiting = new Map<string, Waiting>();
      if (reverted) waiting.set(revertKey(artifact, content), []);
      const before = (await versionRow(rows, artifact, version - 1))?.contentHash;
      if (before !== undefined) {
        const key = revertKey(artifact, before);
        const now =
          waiting.get(key) ??
          ((await rows.get(REVERTS, key)) as { edits: Waiting } | undefined)?.edits ??
          [];
        waiting.set(key, [...now, { version, author: e.actor }]);
      }
      for (const [key, edits] of waiting) {
        out.push({
          collection: REVERTS,
          key,
          value: edits.length ? ({ edits } as unknown as JsonValue) : null,
        });
      }
      break;
    }
    case 'context.recorded': {
      if (d.type !== 'usage') break;
      const u =
        (d.fields as { usage?: { inputTokens?: number; outputTokens?: number; costUsd?: number } })
          ?.usage ?? {};
      const c = (await of(e.actor)).cost;
      c.entries++;
      c.inputTokens += u.inputTokens ?? 0;
      c.outputTokens += u.outputTokens ?? 0;
      c.costUsd += u.costUsd ?? 0;
      break;
    }
  }
  for (const [id, c] of changed) {
    out.push({ collection: TRACK_RECORDS, key: id, value: c as unknown as JsonValue });
  }
  return out;
}

/**
 * `def` with the track-record rows added to its own projections, for the built-in types
 * whose events change track records (the others are returned as they are).
 */
export function withTrackRecords<D>(def: EventTypeDef<D>): EventTypeDef<D> {
  if (!COUNTED.has(def.name)) return def;
  const own = def.project;
  return {
    ...def,
    async project(e, rows) {
      const mine = own ? await own(e, rows) : [];
      return [...mine, ...(await trackRecordRows(e, rows))];
    },
  };
}
