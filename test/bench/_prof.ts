import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { didKeyOf, generateEd25519, type JsonValue, Workspace } from '@baton/core';
import { SqliteStore } from '@baton/sqlite';
import { ACTION, nullSigner, RESOURCE } from './fixture.js';

const dir = mkdtempSync(join(os.tmpdir(), 'prof-'));
const store = process.env.MEM ? new (await import('@baton/core')).MemoryStore() : new SqliteStore({ path: join(dir, 'p.db') });
const ws = await Workspace.open({ store });
const owner = await ws.bootstrap({ name: 'Ada' });
const me = ws.as(owner.id);
const pair = await generateEd25519();
const did = await didKeyOf(pair.publicKey);
const agent = await me.identities.create({ kind: 'agent', name: 'bench', key: did });
await me.capabilities.grant({ to: agent.id, resource: 'email:*', actions: [ACTION] });
const signer = nullSigner(did);
const grant = ws._view.grantsOf(agent.id)[0]!;
const N = Number(process.argv[2] ?? 100);
const drafts = Array.from({ length: N }, () => ({
  type: 'grant.exercised',
  data: { grant: grant.id, action: ACTION, resource: RESOURCE } as JsonValue,
  refs: [RESOURCE, agent.id],
}));
const a = ws.as(agent.id, { signer });
const mode = process.argv[3] ?? 'commit';
const run = () => mode === 'commit' ? ws._commit({ actor: agent.id, signer, plan: () => drafts }) : a.authorize(ACTION, RESOURCE);
for (let i = 0; i < 200; i++) await run();
const t0 = performance.now();
let count = 0;
while (performance.now() - t0 < 5000) { await run(); count++; }
const ms = performance.now() - t0;
console.log(mode, N, 'per call', (ms / count).toFixed(3), 'ms', 'per event', ((ms * 1000) / count / (mode === 'commit' ? N : 1)).toFixed(1), 'µs');
await ws.close();
