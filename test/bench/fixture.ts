/**
 * The workspace the benchmarks run against: an owner, an agent whose key the bench holds
 * (so it can hand the workspace either a real Ed25519 signer or a null signer for the
 * same registered key), and a grant letting the agent `email.send` on `email:*`.
 */

import {
  type Actor,
  type AppendBatch,
  type BatonEvent,
  cryptoKeySigner,
  didKeyOf,
  generateEd25519,
  type Head,
  MemoryStore,
  type Signer,
  Workspace,
} from '@baton/core';

/** A MemoryStore that remembers the last batch appended, to replay it in isolation. */
export class RecordingStore extends MemoryStore {
  last: AppendBatch | undefined;

  override async append(batch: AppendBatch): Promise<Head> {
    this.last = batch;
    return super.append(batch);
  }
}

const ZERO_SIGNATURE = new Uint8Array(64);

/**
 * A signer for `publicKey` that does not sign: it returns 64 zero bytes at once, so a
 * write's cost without the Ed25519 signature can be measured. The events it produces do
 * not verify; they are only ever appended to a throwaway MemoryStore.
 */
export function nullSigner(publicKey: string): Signer {
  return {
    publicKey,
    sign: async () => ZERO_SIGNATURE,
  };
}

export interface Fixture {
  ws: Workspace;
  store: RecordingStore;
  ownerId: string;
  agentId: string;
  grantId: string;
  /** The agent's private key (for bare `crypto.subtle.sign`). */
  privateKey: CryptoKey;
  /** The agent signing with its real Ed25519 key. */
  agent: Actor;
  /** The agent with a signer that returns zeros. */
  agentNull: Actor;
  realSigner: Signer;
  zeroSigner: Signer;
  /** A committed `grant.exercised` event, as the write path built it. */
  sample: BatonEvent;
}

export const ACTION = 'email.send';
export const RESOURCE = 'email:x';

/** A fresh in-memory workspace with the agent and its grant, and one committed sample event. */
export async function makeFixture(): Promise<Fixture> {
  const store = new RecordingStore();
  const ws = await Workspace.open({ store });
  const owner = await ws.bootstrap({ name: 'Ada' });
  const me = ws.as(owner.id);
  const pair = await generateEd25519();
  const did = await didKeyOf(pair.publicKey);
  const agentIdentity = await me.identities.create({ kind: 'agent', name: 'bench', key: did });
  const grant = await me.capabilities.grant({
    to: agentIdentity.id,
    resource: 'email:*',
    actions: [ACTION],
  });
  const realSigner = cryptoKeySigner(pair.privateKey, did);
  const zeroSigner = nullSigner(did);
  const agent = ws.as(agentIdentity.id, { signer: realSigner });
  const agentNull = ws.as(agentIdentity.id, { signer: zeroSigner });
  const { event: sample } = await agent.authorize(ACTION, RESOURCE);
  return {
    ws,
    store,
    ownerId: owner.id,
    agentId: agentIdentity.id,
    grantId: grant.id,
    privateKey: pair.privateKey,
    agent,
    agentNull,
    realSigner,
    zeroSigner,
    sample,
  };
}

/** The action and resource asked about through the delegation chain. */
export const CHAIN_ACTION = 'read';
export const CHAIN_RESOURCE = 'doc:launch';

export interface ChainFixture {
  ws: Workspace;
  store: MemoryStore;
  /** A second Workspace instance on the same memory (another process, in effect). */
  peer: Workspace;
  /** The identity at the end of the chain, acting through `ws`. */
  holder: Actor;
  holderId: string;
  /** The holder's grant, then its parent, … up to the owner's root grant. */
  chain: string[];
  /**
   * One change to the grants: `issued` and `issued-by-peer` issue one more grant, to a
   * bystander, through `ws` or through `peer` (the view's generation moves; `ws` must catch
   * up on its next call after the peer's); `used` exercises the holder's chain once, which
   * changes the use count of every one of its links.
   */
  change: (kind: ChainChange) => Promise<unknown>;
}

export type ChainChange = 'issued' | 'issued-by-peer' | 'used';

/**
 * A workspace where `links` agents pass a grant down one after another: the owner grants
 * `read` + `grant` on `doc:*` to agent 1, agent 1 to agent 2, …, each a little narrower, so
 * the last agent's `read` on `doc:launch` is allowed by a chain of `links` delegated grants
 * plus the owner's root grant — every link checked on every call.
 */
export async function makeChainFixture(links: number): Promise<ChainFixture> {
  const store = new MemoryStore();
  const ws = await Workspace.open({ store });
  const owner = await ws.bootstrap({ name: 'Ada' });
  const me = ws.as(owner.id);
  let from = me;
  let holderId = owner.id;
  const chain: string[] = [];
  const expires = Date.now() + 24 * 3_600_000;
  for (let i = 1; i <= links; i++) {
    const agent = await me.identities.create({ kind: 'agent', name: `link${i}` });
    const g = await from.capabilities.grant({
      to: agent.id,
      resource: i < links ? 'doc:*' : CHAIN_RESOURCE,
      actions: i < links ? ['grant', 'read'] : ['read'],
      // Bounds that every link must check, each inside its parent's.
      expiresAt: expires - i * 60_000,
      maxUses: 1_000_000_000 - i,
    });
    chain.unshift(g.id);
    from = ws.as(agent.id);
    holderId = agent.id;
  }
  chain.push(`gr_root_${owner.id}`);
  // Grants issued by `change` go to a bystander, so the holder's own list stays as it is.
  const bystander = await me.identities.create({ kind: 'agent', name: 'bystander' });
  const peer = await Workspace.open({ store: store.peer(), keyring: ws.keyring });
  const mePeer = peer.as(owner.id);
  const holder = ws.as(holderId);
  let n = 0;
  const change = (kind: ChainChange) =>
    kind === 'used'
      ? holder.authorize(CHAIN_ACTION, CHAIN_RESOURCE)
      : (kind === 'issued' ? me : mePeer).capabilities.grant({
          to: bystander.id,
          resource: `scratch:${++n}`,
          actions: ['read'],
        });
  return { ws, store, peer, holder, holderId, chain, change };
}

/** Re-numbers a recorded batch's events to continue `head` (ids, seqs, links; hashes are placeholders). */
export function renumber(templates: BatonEvent[], head: Head, n: { count: number }): BatonEvent[] {
  let prev = head;
  return templates.map((t) => {
    n.count++;
    const e: BatonEvent = {
      ...t,
      id: `ev_bench_${n.count}`,
      seq: prev.seq + 1,
      prev: prev.hash,
      hash: `h_${n.count}`,
    };
    prev = { seq: e.seq, hash: e.hash };
    return e;
  });
}

type Draft = Awaited<ReturnType<Parameters<Workspace['_commit']>[0]['plan']>>['drafts'][number];

/** A command writing `n` `grant.exercised` events in one append (what `authorize` writes one of). */
export function commitBatch(
  fx: { ws: Workspace; agentId: string; grantId: string },
  signer: Signer,
  n: number,
): () => Promise<BatonEvent[]> {
  const drafts: Draft[] = Array.from({ length: n }, () => ({
    type: 'grant.exercised',
    data: { grant: fx.grantId, action: ACTION, resource: RESOURCE },
    refs: [RESOURCE, fx.agentId],
  }));
  return () => fx.ws._commit({ actor: fx.agentId, signer, plan: () => ({ drafts }) });
}
