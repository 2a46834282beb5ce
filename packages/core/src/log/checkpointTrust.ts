import { loadTags } from '../auth/loadTags.js';
import { snapshotOf, type ViewSnapshot, viewFromSnapshot } from '../auth/view.js';
import { sha256b64 } from '../crypto/hash.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/store.js';
import { hashProblem } from './chain.js';
import {
  type Checkpoint,
  checkpointSchema,
  checkpointSigned,
  LATEST_CHECKPOINT_KEY,
  snapshotKey,
} from './checkpoint.js';
import { type BatonEvent, parseType, signingText } from './event.js';
import { eventSignedByAny } from './signatures.js';
import type { Problem } from './storedEvents.js';

/**
 * Proves the log extends checkpoint `cp`, and finds the snapshot kept with it — with the
 * artifacts of every tag a grant names loaded from their signed events (a checkpoint's
 * snapshot holds none), as `verify({ from })` decides each event with the view as it stands.
 */
export async function startAt(
  store: Store,
  cp: Checkpoint,
  logger: Logger,
): Promise<{ problem: Problem } | { snapshot?: ViewSnapshot }> {
  if (!(await checkpointSigned(cp))) {
    return { problem: { seq: cp.seq, reason: 'the checkpoint’s signature is not valid' } };
  }
  const head = await store.head();
  if (head.seq < cp.seq) {
    return {
      problem: {
        seq: head.seq + 1,
        reason: `the log ends at seq ${head.seq}, before the kept checkpoint at seq ${cp.seq}: it was truncated`,
      },
    };
  }
  const at = await eventAt(store, cp.seq);
  if (!at || at.hash !== cp.hash || at.ws !== cp.ws) {
    return {
      problem: {
        seq: cp.seq,
        reason: `the event at seq ${cp.seq} is not the one the checkpoint signed: the log was rewritten behind it`,
      },
    };
  }
  const text = await store.kv.get(snapshotKey(cp.seq));
  if (typeof text !== 'string' || sha256b64(text) !== cp.view) {
    logger.warn('no usable snapshot kept with this checkpoint; verifying from the start', {
      seq: cp.seq,
    });
    return {};
  }
  const snapshot = JSON.parse(text) as ViewSnapshot;
  const signer = snapshot.identities.find((i) => i.id === cp.by);
  if (
    !signer ||
    !(signer.isOwner || signer.kind === 'service') ||
    !signer.keys.some((k) => k.key === cp.key)
  ) {
    return {
      problem: {
        seq: cp.seq,
        reason: `the checkpoint is not signed by an owner or service identity's key (${cp.by})`,
      },
    };
  }
  if (!snapshot.unloadedTags?.length) return { snapshot };
  const view = viewFromSnapshot(snapshot);
  const tx = view.begin();
  try {
    await loadTags(store, tx, [...view.unloadedTags]);
  } catch (err) {
    return { problem: { seq: cp.seq, reason: err instanceof Error ? err.message : String(err) } };
  }
  tx.commit();
  return { snapshot: snapshotOf(view, { members: true }) };
}

/** The event at `seq`, as the store holds it. */
async function eventAt(store: Store, seq: number): Promise<BatonEvent | undefined> {
  if (!(seq >= 1)) return undefined;
  for await (const e of store.read({ after: seq - 1, limit: 1 }))
    return e.seq === seq ? e : undefined;
  return undefined;
}

/** True when `e`'s hash is its own and `key` signed it. */
async function sound(e: BatonEvent, key: string): Promise<boolean> {
  let text: string;
  try {
    text = signingText(e);
  } catch {
    return false;
  }
  return hashProblem(e, text) === undefined && (await eventSignedByAny(e, [key], text));
}

// How many registrations a checkpoint signer's key may be traced through back to an owner.
const MAX_TRACE = 16;

/**
 * The newest checkpoint kept in the store (`checkpoint()` and `tick()` keep it under
 * {@link LATEST_CHECKPOINT_KEY}), with its authority-view snapshot — when it can be trusted
 * although whoever writes the store could have written it: its signature is valid; the
 * event at its seq has its hash; the snapshot matches its digest; and its signer's key is
 * registered in the log itself — an owner key of the bootstrap event at seq 1, or the key of
 * a service identity whose `identity.created` (or `identity.keyRotated`) event, read at its
 * seq with its hash and signature checked, was signed by a key traced back to an owner the
 * same way. Anything else is ignored with a warning (`undefined`), never an error.
 */
export async function trustedCheckpoint(
  store: Store,
  logger: Logger,
): Promise<{ checkpoint: Checkpoint; snapshot: ViewSnapshot } | undefined> {
  const raw = await store.kv.get(LATEST_CHECKPOINT_KEY);
  if (raw === undefined) return undefined;
  const ignore = (reason: string) => {
    logger.warn('ignoring the checkpoint kept in the store; replaying the whole log instead', {
      reason,
    });
    return undefined;
  };
  let value: unknown = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      return ignore('it is not JSON');
    }
  }
  const parsed = checkpointSchema.safeParse(value);
  if (!parsed.success) return ignore('it is not a checkpoint');
  const cp = parsed.data;
  if (!(await checkpointSigned(cp))) return ignore('its signature is not valid');
  const at = await eventAt(store, cp.seq);
  if (!at || at.hash !== cp.hash || at.ws !== cp.ws)
    return ignore(`the event at seq ${cp.seq} is not the one it signed`);
  const text = await store.kv.get(snapshotKey(cp.seq));
  if (typeof text !== 'string' || sha256b64(text) !== cp.view)
    return ignore('the snapshot kept with it is missing or does not match its digest');
  let snapshot: ViewSnapshot;
  try {
    snapshot = JSON.parse(text) as ViewSnapshot;
  } catch {
    return ignore('its snapshot is not JSON');
  }
  if (
    snapshot.seq !== cp.seq ||
    snapshot.workspace?.id !== cp.ws ||
    !Array.isArray(snapshot.identities)
  )
    return ignore('its snapshot is not of the checkpointed position');

  const boot = await eventAt(store, 1);
  const owners =
    boot && parseType(boot.type).name === 'workspace.bootstrapped' && boot.ws === cp.ws
      ? ((boot.data as { owners?: { id: string; key: string }[] }).owners ?? [])
      : [];
  const first = owners.find((o) => o.id === boot?.actor);
  if (!boot || boot.prev !== cp.ws || !first || !(await sound(boot, first.key)))
    return ignore('the bootstrap event at seq 1 does not check out');
  const identity = (id: string) => snapshot.identities.find((i) => i.id === id);
  /** The event that registered `key` for `id`, when it checks out: created or rotated to it. */
  const registration = async (id: string, key: string) => {
    const entry = identity(id)?.keys.find((k) => k.key === key);
    if (!entry) return undefined;
    for (const seq of [entry.since, entry.since - 1]) {
      const e = await eventAt(store, seq);
      if (!e || e.ws !== cp.ws) continue;
      const name = parseType(e.type).name;
      const d = e.data as { id?: unknown; key?: unknown; kind?: unknown };
      if (
        (name === 'identity.created' || name === 'identity.keyRotated') &&
        d.id === id &&
        d.key === key
      )
        return { e, kind: name === 'identity.created' ? d.kind : undefined };
    }
    return undefined;
  };
  const traced = async (id: string, key: string, depth: number): Promise<boolean> => {
    if (owners.some((o) => o.id === id && o.key === key)) return true;
    if (depth >= MAX_TRACE) return false;
    const reg = await registration(id, key);
    if (!reg) return false;
    const by = identity(reg.e.actor);
    const seq = reg.e.seq;
    for (const k of by?.keys ?? []) {
      if (k.since > seq || (k.until !== undefined && k.until < seq)) continue;
      if ((await sound(reg.e, k.key)) && (await traced(reg.e.actor, k.key, depth + 1))) return true;
    }
    return false;
  };
  let role = owners.some((o) => o.id === cp.by);
  if (!role) {
    const signer = identity(cp.by);
    const created = signer?.keys[0] && (await registration(cp.by, signer.keys[0].key));
    role = created !== undefined && created.kind === 'service';
  }
  if (!role || !(await traced(cp.by, cp.key, 0)))
    return ignore(
      `its signer ${cp.by} holds no key the log registers for an owner or a service identity`,
    );
  return { checkpoint: cp, snapshot };
}
