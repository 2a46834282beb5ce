import type { JsonValue } from '../crypto/canonical.js';
import { type RowSource, valuesOf } from '../scope.js';
import type { Page, PageOptions, ProjectionWrite } from '../store/store.js';

// The `handoffs` projection's rows, typed: one row a handoff, indexed by recipient (`inbox`),
// offerer (`from`), approval digest and due time. Reads and writes of the collection go
// through here, so no other module names it.

/** What a handoff passes across. */
export type HandoffKind = 'work' | 'approval' | 'question';

/** Where a handoff stands. `expired` is derived on read from `due`. */
export type HandoffStatus =
  | 'offered'
  | 'accepted'
  | 'completed'
  | 'returned'
  | 'declined'
  | 'cancelled'
  | 'approved'
  | 'denied'
  | 'answered'
  | 'consumed'
  | 'expired';

/** How urgent, from most to least. */
export const PRIORITIES = ['urgent', 'high', 'normal', 'low'] as const;
export type Priority = (typeof PRIORITIES)[number];

/** A handoff's row in the `handoffs` projection. */
export interface HandoffRow {
  id: string;
  kind: HandoffKind;
  from: string;
  to: string[];
  status: Exclude<HandoffStatus, 'expired'>;
  priority: Priority;
  due?: string;
  escalateTo?: string;
  escalatedTo?: string;
  note?: string;
  artifacts: { id: string; seen: number; head: number }[];
  questions: string[];
  approval?: {
    action: string;
    resource: string;
    digest: string;
    summary?: string;
    /** The payload's body hash. */
    payload?: string;
    onTimeout: 'expire' | 'deny';
  };
  question?: { entry: string; options?: string[]; schema?: string };
  decision?: { by: string; at: string; note?: string; payload?: string };
  answer?: { by: string; at: string; value: JsonValue; entry: string };
  outcome?: { by: string; at: string; note?: string };
  offerSeq: number;
  createdAt: string;
  updatedAt: string;
  seq: number;
}

/** Statuses in which a handoff still waits on someone. */
export const OPEN: readonly HandoffStatus[] = ['offered', 'accepted'];

function rank(p: Priority): number {
  return PRIORITIES.indexOf(p);
}

/** The projection write of a row, with its inbox, digest and due indexes. */
export function handoffWrite(row: HandoffRow): ProjectionWrite {
  const open = OPEN.includes(row.status);
  const pad = String(row.offerSeq).padStart(12, '0');
  const who = [...row.to, ...(row.escalatedTo ? [row.escalatedTo] : [])];
  const indexes: Record<string, string | string[]> = {
    from: `${row.from}\u0000${pad}`,
    inbox: open
      ? who.map((w) => `${w}\u0000${rank(row.priority)}\u0000${row.due ?? '~'}\u0000${pad}`)
      : [],
  };
  if (row.approval && (row.status === 'offered' || row.status === 'approved'))
    indexes.digest = row.approval.digest;
  if (open && row.due) indexes.due = row.due;
  return { collection: 'handoffs', key: row.id, value: row as unknown as JsonValue, indexes };
}

type RowReader = Pick<RowSource, 'get'>;

/** The handoff's row, or `undefined` when there is none. */
export async function handoffRow(rows: RowReader, id: string): Promise<HandoffRow | undefined> {
  return (await rows.get('handoffs', id)) as HandoffRow | undefined;
}

/**
 * A page of the rows waiting on `identity` (`inbox`: by priority, then due, then offer) or
 * offered by it (`from`: in offer order).
 */
export async function handoffsPage(
  rows: RowSource,
  index: 'inbox' | 'from',
  identity: string,
  options: PageOptions,
): Promise<Page<HandoffRow>> {
  return valuesOf<HandoffRow>(
    await rows.query('handoffs', index, { prefix: `${identity}\u0000` }, options),
  );
}
