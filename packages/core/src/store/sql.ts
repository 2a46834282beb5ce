import { rangeBounds } from './backend.js';
import { DEFAULT_PAGE_SIZE, decodeCursor } from './keys.js';
import type { IndexRange, PageOptions } from './store.js';

/**
 * A condition of a SQL `WHERE` clause with `?` placeholders, and its value: one parameter,
 * an array of them (one per `?`), or `undefined` to leave the condition out.
 */
export type SqlCondition = [value: unknown, sql: string];

/**
 * ` AND <sql>` for each condition whose value is given, and their parameters in order — for
 * stores on SQL databases, appended to a query that has a `WHERE` of its own.
 */
export function sqlConditions(conditions: readonly SqlCondition[]): [string, unknown[]] {
  const given = conditions.filter(([value]) => value !== undefined);
  const text = given.map(([, sql]) => ` AND ${sql}`).join('');
  return [text, given.flatMap(([value]) => value)];
}

/**
 * The rest of a SQL keyset page over `cols` — the index key, then the row key (the same
 * column twice for an index over row keys): conditions that keep `cols[0]` in `range` and
 * start after `page.after` (a cursor of `cols.length` parts), then `ORDER BY` and a `LIMIT`
 * of one row more than the page, so {@link pageOf} can tell whether there is a next one.
 * Returns the SQL, its parameters in order and the page size.
 */
export function keysetSql(
  cols: readonly string[],
  range: IndexRange,
  page: PageOptions,
): { sql: string; params: unknown[]; limit: number } {
  const limit = page.limit ?? DEFAULT_PAGE_SIZE;
  const [dir, cmp] = page.reverse ? ['DESC', '<'] : ['ASC', '>'];
  const after = page.after === undefined ? undefined : decodeCursor(page.after, cols.length);
  // One column compared alone keeps the range on an ordinary index (a row value of one column
  // repeated would not).
  const one = new Set(cols).size === 1;
  const [text, params] = sqlConditions([
    ...rangeBounds(range).map(([op, v]): SqlCondition => [v, `${cols[0]} ${op} ?`]),
    one
      ? [after?.at(-1), `${cols[0]} ${cmp} ?`]
      : [after, `(${cols.join(', ')}) ${cmp} (${cols.map(() => '?').join(', ')})`],
  ]);
  const order = (one ? [cols[0]] : cols).map((c) => `${c} ${dir}`).join(', ');
  return { sql: `${text} ORDER BY ${order} LIMIT ?`, params: [...params, limit + 1], limit };
}
