import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BatonError, ErrorCode, MemoryStore } from '@baton/core';
import { SqliteStore } from '@baton/sqlite';
import type { AgentInputItem } from '@openai/agents-core';
import { describe, expect, it, onTestFinished } from 'vitest';
import { BatonSession } from '../src/index.js';

function sqlitePath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'baton-oa-session-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'ws.db');
}

const user = (content: string): AgentInputItem => ({ type: 'message', role: 'user', content });
const said = (items: AgentInputItem[]) => items.map((i) => (i as { content: string }).content);

async function refusal(p: Promise<unknown>): Promise<BatonError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'expected a BatonError').toBeDefined();
  return err as BatonError;
}

describe('BatonSession', () => {
  it('keeps the conversation across a process restart, in order', async () => {
    const path = sqlitePath();
    const store = new SqliteStore({ path });
    const s = new BatonSession({ store, sessionId: 'conv' });
    expect(await s.getSessionId()).toBe('conv');
    await s.addItems([user('a'), user('b')]);
    await s.addItems([user('c')]);
    await store.close();

    const reopened = new SqliteStore({ path });
    const again = new BatonSession({ store: reopened, sessionId: 'conv' });
    expect(said(await again.getItems())).toEqual(['a', 'b', 'c']);
    expect(said(await again.getItems(2))).toEqual(['b', 'c']);
    expect(said(await again.getItems(5))).toEqual(['a', 'b', 'c']);
    expect(await again.getItems(0)).toEqual([]);
    expect(
      said(await new BatonSession({ store: reopened, sessionId: 'other' }).getItems()),
    ).toEqual([]);
    await reopened.close();
  });

  it('keeps sessions whose ids nest apart', async () => {
    const store = new MemoryStore();
    const outer = new BatonSession({ store, sessionId: 'a' });
    const inner = new BatonSession({ store, sessionId: 'a/item' });
    await inner.addItems([user('inner')]);
    await outer.addItems([user('outer')]);
    expect(said(await outer.getItems())).toEqual(['outer']);
    await outer.clearSession();
    expect(said(await inner.getItems())).toEqual(['inner']);
  });

  it('pops the latest item and clears the whole conversation', async () => {
    const s = new BatonSession({ store: new MemoryStore(), sessionId: 'conv' });
    await s.addItems([user('a'), user('b')]);
    expect(said([(await s.popItem())!])).toEqual(['b']);
    expect(said(await s.getItems())).toEqual(['a']);
    await s.clearSession();
    expect(await s.getItems()).toEqual([]);
    expect(await s.popItem()).toBeUndefined();
    await s.addItems([user('fresh')]);
    expect(said(await s.getItems())).toEqual(['fresh']);
  });

  it('applies a history transaction exactly once when the same operation is retried', async () => {
    const s = new BatonSession({ store: new MemoryStore(), sessionId: 'conv' });
    await s.addItems([user('a')]);
    const op = {
      operationId: 'turn-1',
      transaction: { type: 'append_items' as const, items: [user('b')] },
    };
    await s.applyHistoryTransaction(op);
    await s.applyHistoryTransaction(op);
    await Promise.all([s.applyHistoryTransaction(op), s.applyHistoryTransaction(op)]);
    expect(said(await s.getItems())).toEqual(['a', 'b']);

    const reused = await refusal(
      s.applyHistoryTransaction({
        operationId: 'turn-1',
        transaction: { type: 'append_items', items: [user('other')] },
      }),
    );
    expect(reused.code).toBe(ErrorCode.VALIDATION);
    expect(reused.message).toMatch(/already applied with a different transaction/);
    expect(said(await s.getItems())).toEqual(['a', 'b']);
  });

  it('replaces a matching suffix once, and refuses a stale one without changing history', async () => {
    const s = new BatonSession({ store: new MemoryStore(), sessionId: 'conv' });
    await s.addItems([user('a'), user('b'), user('c')]);
    const replace = {
      operationId: 'fix',
      transaction: {
        type: 'replace_suffix' as const,
        expectedSuffix: [user('b'), user('c')],
        replacement: [user('B')],
      },
    };
    await s.applyHistoryTransaction(replace);
    await s.applyHistoryTransaction(replace);
    expect(said(await s.getItems())).toEqual(['a', 'B']);
    const stale = await refusal(
      s.applyHistoryTransaction({
        operationId: 'fix-2',
        transaction: { type: 'replace_suffix', expectedSuffix: [user('c')], replacement: [] },
      }),
    );
    expect(stale.code).toBe(ErrorCode.CONFLICT);
    expect(said(await s.getItems())).toEqual(['a', 'B']);
    // The refused operation id was not recorded: it can still be used.
    await s.applyHistoryTransaction({
      operationId: 'fix-2',
      transaction: { type: 'append_items', items: [user('d')] },
    });
    expect(said(await s.getItems())).toEqual(['a', 'B', 'd']);
  });

  it('loses and duplicates nothing when two handles on one file write at once', async () => {
    const path = sqlitePath();
    const one = new SqliteStore({ path });
    const two = new SqliteStore({ path });
    const a = new BatonSession({ store: one, sessionId: 'conv' });
    const b = new BatonSession({ store: two, sessionId: 'conv' });
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? a : b).addItems([user(`m${i}`), user(`m${i}'`)]),
      ),
    );
    const got = said(await a.getItems());
    expect(got).toHaveLength(40);
    expect(new Set(got).size).toBe(40);
    for (let i = 0; i < 20; i++) expect(got.indexOf(`m${i}'`)).toBe(got.indexOf(`m${i}`) + 1);
    await one.close();
    await two.close();
  });

  it('sees every change another handle made, though it keeps what it read', async () => {
    const path = sqlitePath();
    const one = new SqliteStore({ path });
    const two = new SqliteStore({ path });
    const a = new BatonSession({ store: one, sessionId: 'conv' });
    const b = new BatonSession({ store: two, sessionId: 'conv' });
    await a.addItems([user('a1')]);
    expect(said(await a.getItems())).toEqual(['a1']);
    await b.addItems([user('b1')]);
    expect(said(await a.getItems())).toEqual(['a1', 'b1']);
    // a's next write expects what it saw last; b moved the session, so a re-reads and appends.
    await b.addItems([user('b2')]);
    await a.addItems([user('a2')]);
    expect(said(await b.getItems())).toEqual(['a1', 'b1', 'b2', 'a2']);
    expect(said(await a.getItems())).toEqual(['a1', 'b1', 'b2', 'a2']);
    expect(said([(await b.popItem())!])).toEqual(['a2']);
    expect(said(await a.getItems(2))).toEqual(['b1', 'b2']);
    await a.applyHistoryTransaction({
      operationId: 'op-1',
      transaction: {
        type: 'replace_suffix',
        expectedSuffix: [user('b2')],
        replacement: [user('B2'), user('a3')],
      },
    });
    expect(said(await b.getItems())).toEqual(['a1', 'b1', 'B2', 'a3']);
    await b.clearSession();
    expect(await a.getItems()).toEqual([]);
    await a.addItems([user('new')]);
    expect(said(await b.getItems())).toEqual(['new']);
    // What getItems returns is the caller's to change: the session keeps its own copy.
    const mine = await a.getItems();
    (mine[0] as { content: string }).content = 'tampered';
    expect(said(await a.getItems())).toEqual(['new']);
    await one.close();
    await two.close();
  });

  it('refuses bad input with a BatonError naming the field, writing nothing', async () => {
    const store = new MemoryStore();
    expect(
      (await refusal(Promise.resolve().then(() => new BatonSession({ store: {} as never })))).code,
    ).toBe(ErrorCode.VALIDATION);
    const s = new BatonSession({ store, sessionId: 'conv' });
    for (const bad of [
      s.addItems('nope' as never),
      s.addItems([42 as never]),
      s.getItems(-1),
      s.getItems(1.5),
      s.applyHistoryTransaction({
        operationId: '',
        transaction: { type: 'append_items', items: [] },
      }),
      s.applyHistoryTransaction({ operationId: 'x', transaction: { type: 'other' } as never }),
    ]) {
      expect((await refusal(bad)).code).toBe(ErrorCode.VALIDATION);
    }
    expect((await store.kv.list('')).items).toEqual([]);
  });
});
