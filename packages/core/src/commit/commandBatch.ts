import type { ViewTx } from '../auth/view.js';
import { canonicalJson, type JsonValue } from '../crypto/canonical.js';
import { sha256b64 } from '../crypto/hash.js';
import { derivedId, randomId } from '../crypto/ids.js';
import { BatonError, ErrorCode } from '../errors.js';
import type { BatonEvent, Head } from '../log/event.js';
import { signingKeys } from '../log/verifier.js';
import type { ProjectionWrite } from '../store/store.js';
import type { CommitParts, Outcome } from './batch.js';
import { Chain } from './chain.js';
import type { CommitRequest, IdMaker } from './draft.js';
import { type SignedBefore, signEvents } from './signatures.js';

/**
 * One attempt of a command: the committed events when its idempotency key was used before;
 * else its plan run against `tx` (the caught-up view), each draft admitted, placed and
 * applied in turn (so later drafts see the earlier ones), then the batch signed and chained
 * to `head`.
 *
 * @param bootstrapWs - The new workspace's id, for the bootstrap event (no view has one yet).
 * @param before - What the command's earlier attempts signed (see {@link SignedBefore}).
 */
export async function commandBatch(
  parts: CommitParts,
  req: CommitRequest,
  tx: ViewTx,
  head: Head,
  bootstrapWs: string | undefined,
  before: SignedBefore,
): Promise<Outcome<BatonEvent[]>> {
  const { store, types } = parts;
  const ws = tx.workspace?.id ?? bootstrapWs;
  if (!ws) {
    throw new BatonError(
      ErrorCode.INVALID_STATE,
      'This workspace is not bootstrapped yet. Call workspace.bootstrap({ name }) first.',
    );
  }
  const key = req.idempotency?.key;
  const idem = key !== undefined ? { ...req.idempotency!, key } : undefined;
  const idemKey = idem && derivedId('idem', [ws, req.actor, idem.key]);
  // The request's digest: a retry must ask for the same thing to get the same commit. Only
  // the hash is kept in the row, never the request: it may hold a body erased later.
  const digest = idem
    ? sha256b64(canonicalJson({ op: idem.operation, input: idem.input as JsonValue }))
    : '';
  if (idemKey) {
    const row = (await store.get('idempotency', idemKey)) as
      | { digest: string; events: string[] }
      | undefined;
    if (row) {
      // (A row written before digests were hashed holds the canonical request itself.)
      if (row.digest !== digest && sha256b64(row.digest) !== digest) {
        throw new BatonError(
          ErrorCode.VALIDATION,
          `idempotencyKey "${idem!.key}" was used before for a different request. Use a new key for a new request.`,
        );
      }
      const existing: BatonEvent[] = [];
      for (const id of row.events) existing.push((await store.event(id))!);
      return { done: existing };
    }
  }
  let counter = 0;
  const ids: IdMaker = {
    next: (prefix) =>
      idem ? derivedId(prefix, [ws, req.actor, idem.key, String(counter++)]) : randomId(prefix),
  };
  const now = parts.clock();
  if (before.at === undefined || Math.abs(Date.parse(before.at) - now) > 10_000)
    before.at = new Date(now).toISOString();
  const at = before.at;
  const { drafts, blobs } = await req.plan(tx, ids, at);
  // A plan that finds nothing to do (already done by someone else) writes nothing.
  if (drafts.length === 0) return { done: [] };
  const chain = new Chain(head, (s) => parts.sync.streamVersion(s));
  const pending = new Map<string, number>();
  const events: BatonEvent[] = [];
  const data: unknown[] = [];
  const keys: string[][] = [];
  for (const d of drafts) {
    const e: BatonEvent = {
      ws,
      id: ids.next('ev'),
      stream: '',
      type: types.typeOf(d.type),
      actor: req.actor,
      at,
      data: d.data,
      refs: d.refs ?? [],
      sig: '',
      version: 0,
      seq: 0,
      prev: '',
      hash: '',
    };
    const parsed = types.dataOf(e);
    e.stream = types.get(d.type)!.stream(parsed as never);
    if (req.session !== undefined) e.session = req.session;
    if (d.auth !== undefined) e.auth = d.auth;
    const admitted = types.admit(e, tx, {
      now,
      pickAuth: d.auth === undefined,
      pending,
      data: parsed,
    });
    // The keys that may sign it are the actor's before the event applies (a key rotation is
    // signed with the old key).
    keys.push(signingKeys(e, tx));
    await chain.place(e);
    // Applied before signing, so later drafts see its effect; the view reads no sig, prev or hash.
    types.apply(e, tx, admitted);
    events.push(e);
    data.push(admitted);
  }
  const texts = await signEvents(events, keys, parts.keyring, parts.sync.view, req.signer, before);
  chain.link(events, texts);
  const projections: ProjectionWrite[] = idemKey
    ? [
        {
          collection: 'idempotency',
          key: idemKey,
          value: { digest, events: events.map((e) => e.id) },
        },
      ]
    : [];
  return { write: { events, data, projections, blobs }, result: events };
}
