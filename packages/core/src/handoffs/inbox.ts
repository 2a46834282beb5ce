import { z } from 'zod';
import type { Scope } from '../scope.js';
import type { Page } from '../store/store.js';
import { parseInput } from '../validation.js';
import { type Handoff, handoffOf } from './handoffRead.js';
import { type HandoffKind, type HandoffStatus, handoffsPage } from './handoffRows.js';

/** Options of `actor.inbox`. */
export interface InboxOptions {
  kinds?: HandoffKind[];
  /** Defaults to open handoffs only. */
  status?: HandoffStatus[];
  limit?: number;
  after?: string;
}

/** An inbox item: a handoff, with a group key for approvals that can be decided together. */
export interface InboxItem extends Handoff {
  /** For approvals: `"<action> <resource>"`. */
  group?: string;
}

const inboxSchema = z.object({
  kinds: z.array(z.enum(['work', 'approval', 'question'])).optional(),
  status: z.array(z.string()).optional(),
  limit: z.number().int().min(1).max(500).optional(),
  after: z.string().optional(),
});

/** What waits on the scope's identity, by priority then due (`actor.inbox`). */
export async function inboxOf(scope: Scope, options: InboxOptions): Promise<Page<InboxItem>> {
  const o = parseInput(inboxSchema, options, 'actor.inbox');
  await scope.catchUp();
  const limit = o.limit ?? 100;
  const status = o.status ?? ['offered', 'accepted'];
  const page = await handoffsPage(scope.rows, 'inbox', scope.actor, {
    limit: limit * 2,
    after: o.after,
  });
  const items: InboxItem[] = [];
  for (const row of page.items) {
    const h = await handoffOf(scope, row);
    if (o.kinds && !o.kinds.includes(h.kind)) continue;
    if (!status.includes(h.status)) continue;
    const item: InboxItem = h;
    if (h.approval) item.group = `${h.approval.action} ${h.approval.resource}`;
    items.push(item);
    if (items.length === limit) break;
  }
  return page.next ? { items, next: page.next } : { items };
}
