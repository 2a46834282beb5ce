import type { CommitPipeline } from '../commit/pipeline.js';
import { handoffRow } from '../handoffs/handoffRows.js';
import type { Logger } from '../logger.js';
import type { Outbox } from '../notify/outbox.js';
import type { Store } from '../store/store.js';
import type { Checkpoints } from './checkpoints.js';
import type { ViewSync } from './viewSync.js';
import type { TickResult, WorkspaceEvents } from './workspaceEvents.js';

/** What {@link tick} reads and writes through. */
export interface TickParts {
  store: Store;
  sync: ViewSync;
  pipeline: CommitPipeline;
  checkpoints: Checkpoints;
  outbox: Outbox;
  clock: () => number;
  logger: Logger;
}

// Due handoffs read per page.
const DUE_PAGE = 200;

/**
 * What time makes due (see `Workspace.tick`): a periodic checkpoint, then — as the service
 * identity, when this process holds one's key — each open handoff past its `due` escalated to
 * its `escalateTo`, and the outbox run.
 */
export async function tick(parts: TickParts): Promise<TickResult> {
  const { store, sync, pipeline, outbox } = parts;
  await sync.catchUp();
  const none: TickResult = { escalated: [], queued: [], delivered: [], failed: [] };
  if (!sync.view.workspace) return none;
  await parts.checkpoints
    .auto()
    .catch((err) => parts.logger.warn('tick: making a checkpoint failed', { error: String(err) }));
  const service = await outbox.serviceIdentity();
  if (!service) return none;
  const now = new Date(parts.clock()).toISOString();
  const escalated: string[] = [];
  let after: string | undefined;
  do {
    const page = await store.query('handoffs', 'due', { lt: now }, { limit: DUE_PAGE, after });
    for (const { key } of page.items) {
      const events = await pipeline.commit({
        actor: service,
        plan: async () => {
          const row = await handoffRow(store, key);
          if (
            !row?.escalateTo ||
            row.escalatedTo ||
            (row.status !== 'offered' && row.status !== 'accepted')
          )
            return { drafts: [] };
          const data = { id: key, to: row.escalateTo };
          return { drafts: [{ type: 'handoff.escalated', data, refs: [key, row.escalateTo] }] };
        },
      });
      if (events.length) escalated.push(key);
    }
    after = page.next;
  } while (after);
  if (!outbox.active) return { ...none, escalated };
  return { escalated, ...(await outbox.run(service)) };
}

/**
 * Runs `run` (the workspace's `tick()`) once now, then every `every` ms until the workspace
 * closes. A failed run is logged; the timer does not keep the process alive.
 */
export async function tickEvery(
  every: number,
  run: () => Promise<unknown>,
  parts: { logger: Logger; events: WorkspaceEvents },
): Promise<void> {
  await run().catch((err) => parts.logger.warn('tick on open failed', { error: String(err) }));
  const timer = setInterval(() => {
    run().catch((err) => parts.logger.warn('tick failed', { error: String(err) }));
  }, every);
  (timer as { unref?: () => void }).unref?.();
  parts.events.once('close', () => clearInterval(timer));
}
