import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { versionKey } from '../src/artifacts/artifactRows.js';
import { fromUtf8 } from '../src/crypto/encoding.js';
import {
  type Actor,
  cryptoKeySigner,
  fromBase64url,
  MemoryKeyring,
  MemoryStore,
  SNAPSHOTS,
  type Store,
  Workspace,
} from '../src/index.js';
import { world } from './world.js';

// An export made with the code of main at 0fa989e, before issue 18 changed how versions are stored: a text
// artifact of 41 versions (diffs with three lines of context and file headers, a snapshot
// every 16 versions, version 41 merged from 38) and a json artifact of 20 versions.
const oldFormat = readFileSync(
  new URL('./fixtures/artifactsBeforeIssue18.jsonl', import.meta.url),
  'utf8',
)
  .trimEnd()
  .split('\n');
const OLD_TEXT = 'art_01M8SJS9N7E5NT0XPFAB2WEQEJ';
const OLD_JSON = 'art_01M8SJS9SQYR9ANJMN017B5Z8B';
// Its owner's key, exported with it so that the test can edit on top of it.
const oldOwner = JSON.parse(
  readFileSync(new URL('./fixtures/artifactsBeforeIssue18.key.json', import.meta.url), 'utf8'),
) as { identity: string; publicKey: string; pkcs8: string };

/** A keyring holding the old log's owner key. */
async function oldKeyring(): Promise<MemoryKeyring> {
  const key = await crypto.subtle.importKey(
    'pkcs8',
    fromBase64url(oldOwner.pkcs8) as BufferSource,
    { name: 'Ed25519' },
    false,
    ['sign'],
  );
  const keyring = new MemoryKeyring();
  keyring.add(oldOwner.identity, cryptoKeySigner(key, oldOwner.publicKey));
  return keyring;
}

/** Version `v` of the old text artifact, as its writer made it. */
function oldTextAt(v: number): string {
  const lines = Array.from({ length: 30 }, (_, i) => `line ${i} of the old-format document`);
  for (let k = 2; k <= Math.min(v, 40); k++)
    lines[(k * 7) % 30] = `line ${(k * 7) % 30} edited at version ${k}`;
  if (v === 41) lines[1] = 'line 1 merged from version 38';
  return lines.join('\n');
}

const oldJsonAt = (v: number) =>
  v === 1 ? { n: 0, items: [] } : { n: v, items: Array.from({ length: v }, (_, i) => i) };

/** The version row of `id` at `version`, as the store keeps it. */
async function versionRowOf(store: Store, id: string, version: number) {
  return (await store.get('artifact-versions', versionKey(id, version))) as {
    change?: string;
    snapshot?: string;
  };
}

/** Edits `doc` `n` times as `who`, changing one line each time; returns every version's text. */
async function editLines(who: Actor, id: string, first: string, n: number): Promise<string[]> {
  const versions = [first];
  for (let i = 0; i < n; i++) {
    const lines = versions.at(-1)!.split('\n');
    lines[(i * 7) % (lines.length - 1)] = `line changed by edit ${i}`;
    versions.push(lines.join('\n'));
    await who.artifacts.edit(id, {
      content: versions.at(-1)!,
      baseVersion: versions.length - 1,
      reason: `edit ${i}`,
    });
  }
  return versions;
}

const page = (lines: number) =>
  `${Array.from({ length: lines }, (_, i) => `line ${i} of a page of prose`).join('\n')}\n`;

describe('artifact history storage', () => {
  it('reads every version of a log written before issue 18, verifies it, and edits on top of it', async () => {
    const ws = await Workspace.open({ keyring: await oldKeyring(), tickIntervalMs: 0 });
    await ws.import(oldFormat);
    expect((await ws.verify()).ok).toBe(true);
    const me = ws.as(oldOwner.identity);
    for (let v = 1; v <= 41; v++)
      expect((await me.artifacts.get(OLD_TEXT, { version: v })).content).toBe(oldTextAt(v));
    for (let v = 1; v <= 20; v++)
      expect((await me.artifacts.get(OLD_JSON, { version: v })).content).toEqual(oldJsonAt(v));
    // Its changes read as they always did: a diff of each version against the one before.
    const bob = await me.identities.create({ kind: 'human', name: 'Bob' });
    await me.capabilities.grant({ to: bob.id, resource: 'artifact:*', actions: ['read', 'write'] });
    const reader = ws.as(bob.id);
    const since = await reader.artifacts.changesSince(OLD_TEXT, { since: 10 });
    expect(since.map((c) => c.version)).toEqual(Array.from({ length: 31 }, (_, i) => 11 + i));
    for (const c of since)
      expect(c.diff).toBe(await reader.artifacts.diff(OLD_TEXT, c.version - 1, c.version));
    expect(since[0]!.diff).toMatch(
      /^@@ -15,7 \+15,7 @@\n(.*\n){3}-line 17 of the old-format document\n\+line 17 edited at version 11\n/,
    );
    // New versions stored the new way on top of the old ones.
    const next = `${oldTextAt(41)}\nan added line`;
    await reader.artifacts.edit(OLD_TEXT, { content: next, baseVersion: 41, reason: 'new format' });
    await reader.artifacts.edit(OLD_JSON, { content: { n: 21 }, baseVersion: 20, reason: 'json' });
    const lines: string[] = [];
    for await (const l of me.export()) lines.push(l);
    const fresh = await Workspace.open({ tickIntervalMs: 0 });
    await fresh.import(lines);
    expect((await fresh.verify()).ok).toBe(true);
    const again = fresh.as(bob.id);
    expect((await again.artifacts.get(OLD_TEXT)).content).toBe(next);
    expect((await again.artifacts.get(OLD_TEXT, { version: 33 })).content).toBe(oldTextAt(33));
    expect((await again.artifacts.get(OLD_JSON)).content).toEqual({ n: 21 });
  });

  it('stores a change without context lines or file header', async () => {
    const w = await world();
    const doc = await w.me.artifacts.create({ kind: 'text', title: 'T', content: page(50) });
    const lines = page(50).split('\n');
    lines[20] = 'a new line 20';
    await w.me.artifacts.edit(doc.id, { content: lines.join('\n'), baseVersion: 1, reason: 'r' });
    const row = await versionRowOf(w.store, doc.id, 2);
    const change = fromUtf8((await w.store.blobs.get(row.change!))!);
    expect(change).toBe('@@ -21,1 +21,1 @@\n-line 20 of a page of prose\n+a new line 20\n');
    expect(row.snapshot).toBeUndefined();
  });

  it('keeps a full copy once the changes since the last one number SNAPSHOTS.maxChanges, not every 16 versions', async () => {
    const w = await world();
    const doc = await w.me.artifacts.create({ kind: 'text', title: 'T', content: page(400) });
    const versions = await editLines(w.me, doc.id, page(400), SNAPSHOTS.maxChanges + 20);
    const snapshots: number[] = [];
    for (let v = 1; v <= versions.length; v++)
      if ((await versionRowOf(w.store, doc.id, v)).snapshot) snapshots.push(v);
    expect(snapshots).toEqual([1, SNAPSHOTS.maxChanges + 1]);
    for (const v of [1, 16, 17, SNAPSHOTS.maxChanges, SNAPSHOTS.maxChanges + 1, versions.length])
      expect((await w.me.artifacts.get(doc.id, { version: v })).content).toBe(versions[v - 1]);
  });

  it('keeps a full copy once the changes since the last one add up to SNAPSHOTS.changeBytesPerContentByte times the content', async () => {
    const w = await world();
    // Each edit rewrites all of a 6 KB text: its changes soon outweigh it.
    const text = (i: number) => page(200).replaceAll('prose', `prose ${i}`);
    const doc = await w.me.artifacts.create({ kind: 'text', title: 'T', content: text(0) });
    const versions = [text(0)];
    for (let i = 1; i <= 12; i++) {
      versions.push(text(i));
      await w.me.artifacts.edit(doc.id, { content: text(i), baseVersion: i, reason: 'r' });
    }
    const snapshots: number[] = [];
    for (let v = 1; v <= versions.length; v++)
      if ((await versionRowOf(w.store, doc.id, v)).snapshot) snapshots.push(v);
    // Each change (~12 KB) is twice the content: four times it within two edits.
    expect(snapshots).toEqual([1, 3, 5, 7, 9, 11, 13]);
    for (let v = 1; v <= versions.length; v++)
      expect((await w.me.artifacts.get(doc.id, { version: v })).content).toBe(versions[v - 1]);
  });

  it('copies a short text no more often than every SNAPSHOTS.minChangeBytes of changes', async () => {
    const w = await world();
    const doc = await w.me.artifacts.create({ kind: 'text', title: 'T', content: 'a\nb\n' });
    for (let i = 1; i <= 20; i++)
      await w.me.artifacts.edit(doc.id, { content: `x${i}\ny${i}\n`, baseVersion: i, reason: 'r' });
    for (let v = 2; v <= 21; v++)
      expect((await versionRowOf(w.store, doc.id, v)).snapshot).toBeUndefined();
  });

  it('shows an erased body as erased, though its version was read just before, in this workspace and another', async () => {
    const w = await world();
    const doc = await w.me.artifacts.create({ kind: 'text', title: 'T', content: page(10) });
    const versions = await editLines(w.me, doc.id, page(10), 3);
    const peer = await w.peer();
    for (const ws of [w.ws, peer])
      expect((await ws.as(w.ada.id).artifacts.get(doc.id)).content).toBe(versions[3]);
    const change = (await versionRowOf(w.store, doc.id, 3)).change!;
    await peer.as(w.ada.id).erase(change, 'a secret in version 3');
    for (const ws of [w.ws, peer]) {
      const me = ws.as(w.ada.id);
      expect((await me.artifacts.get(doc.id)).content).toBe(
        '[erased by Ada: a secret in version 3]',
      );
      expect((await me.artifacts.get(doc.id, { version: 2 })).content).toBe(versions[1]);
    }
    // An edit over the unreadable head stores a full copy: the versions after it read again.
    const edited = await w.me.artifacts.edit(doc.id, {
      content: 'fresh\n',
      baseVersion: 4,
      reason: 'r',
    });
    expect(edited.content).toBe('fresh\n');
    expect((await versionRowOf(w.store, doc.id, 5)).snapshot).toBeDefined();
    expect((await peer.as(w.ada.id).artifacts.get(doc.id)).content).toBe('fresh\n');
    expect((await w.ws.verify()).ok).toBe(true);
    const other = await Workspace.open({ store: w.store.peer(), clock: () => w.clock.now });
    expect((await other.verify()).ok).toBe(true);
  });

  it('lists each change since a version as the diff of that version against the one before', async () => {
    const line = fc.constantFrom('a', 'b', 'c', '', 'a longer line of prose');
    const edit = fc.record({
      at: fc.nat(),
      lines: fc.array(line, { maxLength: 3 }),
      drop: fc.nat({ max: 2 }),
      merged: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(line, { maxLength: 20 }),
        fc.array(edit, { minLength: 1, maxLength: 40 }),
        fc.nat(),
        async (first, edits, from) => {
          const w = await world({ store: new MemoryStore() });
          const b = await w.me.identities.create({ kind: 'human', name: 'Bob' });
          await w.me.capabilities.grant({ to: b.id, resource: 'artifact:*', actions: ['read'] });
          const doc = await w.me.artifacts.create({
            kind: 'text',
            title: 'T',
            content: first.join('\n'),
          });
          let head = 1;
          for (const e of edits) {
            // A merged edit starts from the version before the head and changes its last line.
            const base = e.merged && head > 1 ? head - 1 : head;
            const lines = (
              (await w.me.artifacts.get(doc.id, { version: base })).content as string
            ).split('\n');
            lines.splice(e.at % (lines.length + 1), e.drop, ...e.lines);
            try {
              head = (
                await w.me.artifacts.edit(doc.id, {
                  content: lines.join('\n'),
                  baseVersion: base,
                  reason: 'r',
                })
              ).version;
            } catch (err) {
              expect(err).toMatchObject({ code: 'MERGE_CONFLICT' });
            }
          }
          const reader = w.ws.as(b.id);
          const since = from % head;
          const changes = await reader.artifacts.changesSince(doc.id, { since });
          expect(changes.map((c) => c.version)).toEqual(
            Array.from({ length: head - since }, (_, i) => since + 1 + i),
          );
          for (const c of changes) {
            const diff =
              c.version === 1
                ? undefined
                : await reader.artifacts.diff(doc.id, c.version - 1, c.version);
            if (diff !== undefined) expect(c.diff).toBe(diff);
          }
        },
      ),
      { numRuns: 60, seed: 18 },
    );
  });
});
