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
