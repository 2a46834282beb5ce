// Where the example keeps its files: one folder, shared by the three processes.
import { join } from 'node:path';

export function paths(dir: string) {
  return {
    db: join(dir, 'workspace.db'),
    adaKeys: join(dir, 'ada-keys'),
    agentKeys: join(dir, 'agent-keys'),
    ids: join(dir, 'ids.json'),
    outbox: join(dir, 'outbox.jsonl'),
  };
}

/** The thread the review runs in (its Baton session too). */
export const THREAD = 'review-1';
