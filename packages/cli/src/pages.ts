import type { Page } from '@baton/core';

/** Every item of a paged listing: calls `page(after)` with each `next` cursor until there is none. */
export async function allPages<T>(page: (after?: string) => Promise<Page<T>>): Promise<T[]> {
  const items: T[] = [];
  let after: string | undefined;
  do {
    const p = await page(after);
    items.push(...p.items);
    after = p.next;
  } while (after);
  return items;
}
