import type { z } from 'zod';
import type { CommitParts } from '../commit/batch.js';
import type { Draft } from '../commit/draft.js';
import { CommitPipeline } from '../commit/pipeline.js';
import type { JsonValue } from '../crypto/canonical.js';
import { randomId } from '../crypto/ids.js';
import { type Keyring, MemoryKeyring } from '../crypto/keyring.js';
import { registerBuiltinEvents } from '../log/builtinEvents.js';
import { DEFAULT_SKEW_MS, EventTypes } from '../log/eventTypes.js';
import { type SignatureChecker, signatureChecker } from '../log/signatures.js';
import { type Logger, silentLogger } from '../logger.js';
import { Outbox } from '../notify/outbox.js';
import { MemoryStore } from '../store/memoryStore.js';
import { Checkpoints } from './checkpoints.js';
import { ViewSync } from './viewSync.js';
import { Watcher } from './watcher.js';
import { type WorkspaceEvents, workspaceEvents } from './workspaceEvents.js';
import { type bootstrapSchema, neverThrows, type WorkspaceOptions } from './workspaceOptions.js';

/** @internal The parts a workspace is made of, wired together from its options. */
export interface WorkspaceParts extends CommitParts {
  logger: Logger;
  events: WorkspaceEvents;
  pipeline: CommitPipeline;
  checkpoints: Checkpoints;
  watcher: Watcher;
  outbox: Outbox;
  /** How stored events' signatures are checked: the workspace's share of the worker threads. */
  signatures: SignatureChecker;
}

/** The parts of a workspace opened with `options` (their defaults filled in), not yet loaded. */
export function workspaceParts(options: WorkspaceOptions): WorkspaceParts {
  const store = options.store ?? new MemoryStore();
  const keyring = options.keyring ?? new MemoryKeyring();
  const clock = options.clock ?? Date.now;
  const logger = options.logger ? neverThrows(options.logger) : silentLogger;
  const types = new EventTypes();
  registerBuiltinEvents(types);
  for (const def of options.eventTypes ?? []) types.register(def);
  const events = workspaceEvents(options.hooks ?? {}, logger);
  const signatures = signatureChecker({ workers: options.verifyWorkers ?? true, logger });
  const sync = new ViewSync(store, types, logger, signatures);
  const maxRetries = options.maxRetries ?? 50;
  const pipeline = new CommitPipeline({
    store,
    types,
    keyring,
    sync,
    clock,
    events,
    logger,
    maxRetries,
  });
  const pollMs = options.pollIntervalMs ?? 1_000;
  return {
    store,
    types,
    keyring,
    sync,
    clock,
    logger,
    events,
    signatures,
    pipeline,
    checkpoints: new Checkpoints({ store, keyring, sync, pipeline, clock }),
    watcher: new Watcher({ store, types, sync, events, logger, pollMs }),
    outbox: new Outbox({
      store,
      keyring,
      sync,
      pipeline,
      clock,
      service: options.service,
      notifiers: options.notifiers ?? [],
      leaseMs: options.notifyLeaseMs ?? 30_000,
      backoffMs: options.notifyBackoffMs ?? 1_000,
    }),
  };
}

/**
 * The bootstrap event of a new workspace: its first owner (a new key in `keyring`), the
 * further owners (a new key each, unless given) and the recovery key, each a root of
 * authority.
 */
export async function bootstrapDraft(
  input: z.output<typeof bootstrapSchema>,
  keyring: Keyring,
): Promise<{ ownerId: string; draft: Draft }> {
  const ownerId = randomId('id');
  const key = await keyring.generate(ownerId);
  const owners: JsonValue[] = [
    { id: ownerId, kind: input.kind ?? 'human', name: input.name, key, meta: input.meta ?? {} },
  ];
  for (const o of input.owners ?? []) {
    const id = randomId('id');
    owners.push({
      id,
      kind: o.kind ?? 'human',
      name: o.name,
      key: o.key ?? (await keyring.generate(id)),
      meta: o.meta ?? {},
    });
  }
  if (input.recoveryKey !== undefined) {
    owners.push({
      id: randomId('id'),
      kind: 'service',
      name: 'recovery',
      key: input.recoveryKey,
      meta: {},
    });
  }
  const data = {
    name: input.workspace ?? `${input.name}'s workspace`,
    skewMs: input.skewMs ?? DEFAULT_SKEW_MS,
    owners,
  };
  return { ownerId, draft: { type: 'workspace.bootstrapped', data } };
}
