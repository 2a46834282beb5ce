import type { JsonValue } from '../crypto/canonical.js';
import type { ProjectionReader } from '../log/eventTypes.js';
import type { RowSource } from '../scope.js';
import { prefixEnd } from '../store/keys.js';
import type { IndexRange, ProjectionWrite } from '../store/store.js';
import { type ContextRow, contextPage } from './contextRows.js';

// The `context-costs` projection: usage totals kept as `usage` entries are recorded, so
// `context.costs` reads totals, not the log. One row per (by, key, recorder, about, day),
// plus the same with day `*` for all time. The recorder and the about set stay apart because
// the read rule decides on them (an entry is read by its recorder, or by whoever may read all
// it is about); the day lets `since` skip whole days before it.

/** What `context.costs` totals by. */
export type CostBy = 'actor' | 'artifact' | 'session' | 'handoff';

/** The ways {@link CostBy} can total. */
export const COST_BYS: readonly CostBy[] = ['actor', 'artifact', 'session', 'handoff'];

/** Totals of some `usage` entries. */
export interface CostTotals {
  entries: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

/** A row of `context-costs`: totals of one key's entries by one recorder about one set, on a day (or `*`). */
export interface CostCell extends CostTotals {
  by: CostBy;
  key: string;
  actor: string;
  /** What the entries are about, sorted, each once. */
  about: string[];
  /** `YYYY-MM-DD` of the entries' time, or `*` for every day. */
  day: string;
}

const COSTS = 'context-costs';
const ALL_DAYS = '*';

/** The keys a `usage` entry counts under for `by` (an artifact listed twice counts twice). */
export function costKeys(
  row: Pick<ContextRow, 'actor' | 'session' | 'about' | 'spans'>,
  by: CostBy,
) {
  if (by === 'actor') return [row.actor];
  if (by === 'session') return [row.session ?? '-'];
  if (by === 'handoff') return row.spans ?? [];
  return row.about.length ? row.about : ['-'];
}

/** Adds an entry's (or a cell's) totals to `into`. */
export function addTotals(into: CostTotals, usage: Partial<CostTotals> & { entries?: number }) {
  into.entries += usage.entries ?? 1;
  into.inputTokens += usage.inputTokens ?? 0;
  into.outputTokens += usage.outputTokens ?? 0;
  into.costUsd += usage.costUsd ?? 0;
}

/** The `context-costs` rows a new `usage` entry changes: its totals added to each of its cells. */
export async function costWrites(
  rows: ProjectionReader,
  row: ContextRow,
): Promise<ProjectionWrite[]> {
  const usage = row.fields.usage ?? {};
  const about = [...new Set(row.about)].sort();
  const cells = new Map<string, CostCell>();
  for (const by of COST_BYS)
    for (const key of costKeys(row, by))
      for (const day of [ALL_DAYS, row.at.slice(0, 10)]) {
        const id = JSON.stringify([by, key, row.actor, about, day]);
        const cell = cells.get(id) ??
          ((await rows.get(COSTS, id)) as CostCell | undefined) ?? {
            by,
            key,
            actor: row.actor,
            about,
            day,
            entries: 0,
            inputTokens: 0,
            outputTokens: 0,
            costUsd: 0,
          };
        const next = { ...cell };
        addTotals(next, usage);
        cells.set(id, next);
      }
  return [...cells].map(([key, cell]) => ({
    collection: COSTS,
    key,
    value: cell as unknown as JsonValue,
    indexes: { by: `${cell.by}\u0000${cell.day}` },
  }));
}

/**
 * Each cell of `by` — for all time, or for the whole days after the day of `since` — then,
 * with `since`, each `usage` entry of that day from `since` on (from the `usageAt` index).
 */
export async function* costCells(
  rows: RowSource,
  by: CostBy,
  since: string | undefined,
): AsyncIterable<CostCell | ContextRow> {
  const range: IndexRange =
    since === undefined
      ? { eq: `${by}\u0000${ALL_DAYS}` }
      : { gt: `${by}\u0000${since.slice(0, 10)}`, lt: prefixEnd(`${by}\u0000`) };
  let after: string | undefined;
  do {
    const page = await rows.query(COSTS, 'by', range, { limit: 500, after });
    for (const item of page.items) yield item.value as unknown as CostCell;
    after = page.next;
  } while (after);
  if (since === undefined) return;
  const day = { gte: since, prefix: since.slice(0, 10) };
  do {
    const page = await contextPage(rows, 'usageAt', day, { limit: 500, after });
    yield* page.items;
    after = page.next;
  } while (after);
}
