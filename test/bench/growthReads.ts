/**
 * The reads the growth benchmark times (test/bench/growth.ts): every public read, each on the
 * fixed target set of the growth fixture (test/bench/growthFixture.ts), so each returns the
 * same result at every size.
 */

import type { Actor, Workspace } from '@baton/core';
import {
  type GrowthTargets,
  RARE_TYPES,
  RARE_WORD,
  TARGET_SESSION,
  TARGET_TAG,
} from './growthFixture.js';

/** A workspace opened on one fixture, and the actors that read it. */
export interface Subject {
  store: 'SQLite' | 'MemoryStore';
  size: number;
  ws: Workspace;
  t: GrowthTargets;
  /** The owner: reads everything. */
  me: Actor;
  drafter: Actor;
  bea: Actor;
  /** Reads only through the tag grant. */
  reviewer: Actor;
}

export interface Read {
  name: string;
  /** Also run at 10⁶. */
  atHuge?: boolean;
  run: (s: Subject) => Promise<unknown>;
}

/** Resolves once `subscribe({ after: 0, types: RARE_TYPES })` has delivered every rare event. */
function subscribeFirstPage(
  subscribe: (listener: () => void) => () => void,
  expected: number,
): Promise<number> {
  return new Promise((resolve, reject) => {
    let n = 0;
    let stop: (() => void) | undefined;
    const timer = setTimeout(() => {
      stop?.();
      reject(new Error(`subscribe delivered ${n} of ${expected} events in 120 s`));
    }, 120_000);
    stop = subscribe(() => {
      if (++n !== expected) return;
      clearTimeout(timer);
      setImmediate(() => stop?.());
      resolve(n);
    });
  });
}

/** Events of {@link RARE_TYPES} in the fixture: two in the target set, one in the tail. */
const RARE_COUNT = 3;

export const READS: Read[] = [
  { name: 'head()', atHuge: true, run: (s) => s.ws.head() },
  { name: 'artifacts.get (tag grant)', run: (s) => s.reviewer.artifacts.get(s.t.docA) },
  {
    name: 'artifacts.get at a version',
    run: (s) => s.drafter.artifacts.get(s.t.docA, { version: 2 }),
  },
  { name: 'artifacts.list first page', run: (s) => s.me.artifacts.list({ limit: 20 }) },
  {
    name: `artifacts.list by tag → 3`,
    run: (s) => s.reviewer.artifacts.list({ tag: TARGET_TAG }),
  },
  { name: 'artifacts.history', run: (s) => s.drafter.artifacts.history(s.t.docA) },
  {
    name: 'artifacts.changesSince (since 1)',
    run: (s) => s.drafter.artifacts.changesSince(s.t.docA, { since: 1 }),
  },
  {
    name: 'artifacts.diff (1 → head)',
    run: (s) => s.drafter.artifacts.diff(s.t.docA, 1, s.t.docAVersion),
  },
  { name: 'context.query({ about: A })', run: (s) => s.me.context.query({ about: s.t.docA }) },
  {
    name: 'context.query({ about: [A, B] })',
    run: (s) => s.me.context.query({ about: [s.t.docA, s.t.docB] }),
  },
  {
    name: "context.query({ types: ['question'] })",
    run: (s) => s.me.context.query({ types: ['question'] }),
  },
  { name: 'context.query({ actor })', run: (s) => s.me.context.query({ actor: s.t.drafter }) },
  {
    name: 'context.query({ session })',
    run: (s) => s.me.context.query({ session: TARGET_SESSION }),
  },
  { name: 'context.query({ text })', run: (s) => s.me.context.query({ text: RARE_WORD }) },
  { name: 'context.query({ open: true })', run: (s) => s.me.context.query({ open: true }) },
  { name: 'context.query({ since })', run: (s) => s.me.context.query({ since: s.t.since }) },
  { name: "context.costs({ by: 'actor' })", run: (s) => s.me.context.costs({ by: 'actor' }) },
  {
    name: "context.costs({ by: 'artifact' })",
    run: (s) => s.me.context.costs({ by: 'artifact' }),
  },
  {
    name: "context.costs({ by: 'session' })",
    run: (s) => s.me.context.costs({ by: 'session' }),
  },
  {
    name: "context.costs({ by: 'handoff' })",
    run: (s) => s.me.context.costs({ by: 'handoff' }),
  },
  { name: 'context.openQuestions()', run: (s) => s.me.context.openQuestions() },
  { name: 'context.openQuestions(A)', run: (s) => s.drafter.context.openQuestions(s.t.docA) },
  { name: 'handoffs.get', run: (s) => s.bea.handoffs.get(s.t.accepted) },
  { name: 'inbox (Bea)', atHuge: true, run: (s) => s.bea.inbox() },
  {
    name: 'handoffs.briefing (2 artifacts)',
    atHuge: true,
    run: (s) => s.drafter.handoffs.briefing(s.t.back),
  },
  { name: 'identities.get', run: (s) => s.me.identities.get(s.t.bea) },
  { name: 'identities.list', run: (s) => s.me.identities.list() },
  { name: 'identities.record', run: (s) => s.me.identities.record(s.t.drafter) },
  {
    name: 'capabilities.list({ audience })',
    run: (s) => s.me.capabilities.list({ audience: s.t.drafter }),
  },
  {
    name: 'can (through the tag grant)',
    run: (s) => s.reviewer.can('read', `artifact:${s.t.docA}`),
  },
  { name: 'log({ types }) → 3', run: (s) => s.me.log({ types: RARE_TYPES }) },
  {
    name: 'workspace.subscribe({ after: 0, types })',
    run: (s) =>
      subscribeFirstPage((l) => s.ws.subscribe({ after: 0, types: RARE_TYPES }, l), RARE_COUNT),
  },
  {
    name: 'actor.subscribe({ after: 0, types })',
    run: (s) =>
      subscribeFirstPage((l) => s.me.subscribe({ after: 0, types: RARE_TYPES }, l), RARE_COUNT),
  },
];

/** What a read returned, in a few characters: its rows, or its size as JSON. */
export function describe(result: unknown): string {
  const rows = (n: number) => `${n} row${n === 1 ? '' : 's'}`;
  if (Array.isArray(result)) return rows(result.length);
  if (typeof result === 'number') return `${result} events`;
  if (typeof result === 'object' && result !== null) {
    const items = (result as { items?: unknown }).items;
    if (Array.isArray(items)) return rows(items.length);
    if ('seq' in result && 'hash' in result) return 'head';
    return `${(JSON.stringify(result).length / 1_000).toFixed(1)} kB`;
  }
  if (typeof result === 'string') return `${(result.length / 1_000).toFixed(1)} kB`;
  return String(result);
}

/** The subject of the reads on `ws`, a workspace holding the fixture. */
export function subject(
  store: Subject['store'],
  size: number,
  ws: Workspace,
  t: GrowthTargets,
): Subject {
  return {
    store,
    size,
    ws,
    t,
    me: ws.as(t.owner),
    drafter: ws.as(t.drafter),
    bea: ws.as(t.bea),
    reviewer: ws.as(t.reviewer),
  };
}
