/**
 * The growth benchmark's fixture (issue 18): a realistic SQLite log of about `size` events,
 * built through the public API only, cached between runs under test/bench/.cache/.
 *
 * The log has three parts, so every read the bench times returns the same result at every
 * size while the history around it grows:
 *
 * 1. Setup and the fixed target set, written first: a workspace with people, agents and a
 *    service identity; grants (one a tag grant, `artifact:tag/launch`, another gated by an
 *    approval); three `launch` artifacts (two text, one json) edited by two identities; context
 *    entries of every type about them in one session (questions, some answered; a decision
 *    with why; a summary via `compact`; tool and usage entries); a work handoff of two of them
 *    accepted, its question answered, sent back (the briefing read), another left open; a
 *    question handoff answered and one open; an approval decided and used; a suspended
 *    identity and a revoked grant (the rare event types `log({ types })` asks for); a rare
 *    word for text search.
 * 2. Filler, in rounds of ~25 events by four agents taking turns: artifacts created with
 *    tags and edited (text and json patches), context entries (notes, attempts, learned,
 *    decisions with why, todos, tool and usage entries in a fixed pool of sessions, and a
 *    summary every eighth round), work handoffs offered, accepted and completed, approvals
 *    requested, decided and used, and the checkpoints `tick()` makes every 1,000 events.
 *    The filler records no questions, suspends and revokes nothing, and never touches the
 *    target identities, artifacts or sessions; its usage entries are about no artifact and
 *    in eight sessions; so no target read's result grows with it.
 * 3. A short tail written last: two entries in the target session (what `since` finds) and a
 *    second suspension (so a scan for the rare types must reach the head).
 *
 * Building is resumable: the build writes `<name>.partial.db` and a progress file after each
 * round; run again, it continues from the last round finished (a round cut short leaves a few
 * stray filler events, which no target read sees). Keys live in a `KeyDirectory` beside it.
 *
 * Build one alone: `pnpm exec tsx --conditions=source test/bench/growthFixture.ts 1e5`.
 */

import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { type ContextEntry, type Identity, Workspace } from '@baton/core';
import { KeyDirectory } from '@baton/core/node';
import { SCHEMA_VERSION, SqliteStore } from '@baton/sqlite';

/** Bump when what the fixture writes changes: cached files of another version are not used. */
export const FIXTURE_VERSION = 1;

/**
 * Where fixtures are cached: `BATON_GROWTH_CACHE`, or test/bench/.cache/ (gitignored).
 * Defaults to the latter.
 */
export const CACHE_DIR =
  process.env.BATON_GROWTH_CACHE ?? fileURLToPath(new URL('./.cache/', import.meta.url));

/** The word only one target entry holds, for `context.query({ text })`. */
export const RARE_WORD = 'quokkaridge';

/** The session the target entries are recorded in. */
export const TARGET_SESSION = 'launch-run';

/** The tag the target artifacts carry, and the tag grant names. */
export const TARGET_TAG = 'launch';

/** The event types only the target set writes: `log({ types })` and `subscribe` ask for them. */
export const RARE_TYPES = ['identity.suspended', 'grant.revoked'];

/** Ids and facts of the fixed target set, saved beside the fixture. */
export interface GrowthTargets {
  workspace: string;
  owner: string;
  /** A human: the target handoffs' recipient, whose inbox is read. */
  bea: string;
  /** The agent who records the target context (in {@link TARGET_SESSION}). */
  drafter: string;
  /** An agent that reads only through the tag grant `artifact:tag/launch`. */
  reviewer: string;
  ops: string;
  /** Two text artifacts and one json one, all tagged {@link TARGET_TAG}. */
  docA: string;
  docB: string;
  spec: string;
  /** Versions of docA: `changesSince(docA, { since: 1 })` and `get(docA, { version: 2 })`. */
  docAVersion: number;
  /** The work handoff bea accepted (two artifacts). */
  accepted: string;
  /** The handoff bea sent back to drafter (two artifacts): its briefing is read. */
  back: string;
  /** A work handoff offered to bea and left open (in her inbox). */
  open: string;
  /** Entries whose `at` is on or after this are the tail's: `query({ since })`. */
  since: string;
  /** Events in the log when the build finished. */
  events: number;
}

/** A cached fixture. */
export interface GrowthFixture {
  size: number;
  path: string;
  keys: string;
  targets: GrowthTargets;
  /** Wall time the build took, summed over resumed runs, in ms. */
  buildMs: number;
  /** Whether this call built (part of) it. */
  built: boolean;
}

const ACTIONS = ['read', 'create', 'write', 'comment', 'handoff'];
const FILLER_AGENTS = 4;
const FILLER_SESSIONS = 8;
const FILLER_TAGS = 16;
const DEPLOY = 'deploy';

/** The file names of the fixture of `size` events, for a store of SQLite schema `schema`. */
export function fixtureFiles(size: number, schema = SCHEMA_VERSION) {
  const name = `growth-v${FIXTURE_VERSION}-s${schema}-${size}`;
  return {
    db: join(CACHE_DIR, `${name}.db`),
    partial: join(CACHE_DIR, `${name}.partial.db`),
    progress: join(CACHE_DIR, `${name}.progress.json`),
    meta: join(CACHE_DIR, `${name}.json`),
    keys: join(CACHE_DIR, `${name}.keys`),
    /** What each read returned the first time the bench ran on it (see growth.ts). */
    expected: join(CACHE_DIR, `${name}.expected.json`),
    /** Held (with the builder's pid) while a process builds the fixture. */
    lock: join(CACHE_DIR, `${name}.lock`),
  };
}

/**
 * A fixture built for an older SQLite schema, copied under the current one's name (the
 * store migrates the copy when it is opened; the original stays as it was). Building 10⁶
 * events takes long: a schema change should not throw the log away.
 */
function migratedCopy(size: number): boolean {
  for (let schema = SCHEMA_VERSION - 1; schema >= 1; schema--) {
    const old = fixtureFiles(size, schema);
    if (!existsSync(old.meta) || !existsSync(old.db)) continue;
    const f = fixtureFiles(size);
    copyFileSync(old.db, f.db);
    cpSync(old.keys, f.keys, { recursive: true });
    if (existsSync(old.expected)) copyFileSync(old.expected, f.expected);
    copyFileSync(old.meta, f.meta);
    return true;
  }
  return false;
}

/** The cached fixture of `size` events, or `undefined` when it is not built (completely). */
export function cachedFixture(size: number): GrowthFixture | undefined {
  const f = fixtureFiles(size);
  if ((!existsSync(f.meta) || !existsSync(f.db)) && !migratedCopy(size)) return undefined;
  const saved = JSON.parse(readFileSync(f.meta, 'utf8')) as {
    targets: GrowthTargets;
    buildMs: number;
  };
  return { size, path: f.db, keys: f.keys, ...saved, built: false };
}

interface Progress {
  targets: Omit<GrowthTargets, 'since' | 'events'>;
  fillers: string[];
  round: number;
  buildMs: number;
}

const lines = (n: number, seed: string) =>
  Array.from({ length: n }, (_, i) => `${seed} line ${i}: the quick brown fox jumps.`);

/** A text edit: line `at` of `base` rewritten. */
function editLine(base: string, at: number, text: string): string {
  const ls = base.split('\n');
  ls[at % (ls.length - 1)] = text;
  return ls.join('\n');
}

const summarize = (entries: ContextEntry[]) =>
  `Summary of ${entries.length} entries: ${entries.map((e) => e.type).join(', ')}.`;

/**
 * Writes the setup and the target set; returns what the filler and tail need. Everything an
 * identity does here goes through its actor, signed with the key the KeyDirectory holds.
 */
async function writeTargets(ws: Workspace): Promise<Progress> {
  const owner = await ws.bootstrap({ name: 'Ada', workspace: 'Growth bench' });
  const me = ws.as(owner.id);
  const ops = await me.identities.create({ kind: 'service', name: 'ops', generateKey: true });
  const bea = await me.identities.create({ kind: 'human', name: 'Bea', generateKey: true });
  const drafter = await me.identities.create({ kind: 'agent', name: 'drafter', generateKey: true });
  const reviewer = await me.identities.create({
    kind: 'agent',
    name: 'reviewer',
    generateKey: true,
  });
  const fillers: Identity[] = [];
  for (let i = 0; i < FILLER_AGENTS; i++)
    fillers.push(
      await me.identities.create({ kind: 'agent', name: `worker-${i}`, generateKey: true }),
    );
  for (const who of [bea, drafter, ...fillers]) {
    await me.capabilities.grant({ to: who.id, resource: 'artifact:*', actions: ACTIONS });
    await me.capabilities.grant({
      to: who.id,
      resource: 'workspace',
      actions: ['read', 'comment', 'handoff'],
    });
  }
  for (const who of [drafter, ...fillers])
    await me.capabilities.grant({
      to: who.id,
      resource: 'deploy:*',
      actions: [DEPLOY],
      requiresApproval: [{ action: DEPLOY, approvers: [owner.id] }],
    });
  await me.capabilities.grant({
    to: reviewer.id,
    resource: `artifact:tag/${TARGET_TAG}`,
    actions: ['read', 'comment'],
  });

  // The target artifacts, edited by drafter and bea.
  const d = ws.as(drafter.id, { session: TARGET_SESSION });
  const b = ws.as(bea.id, { session: 'bea-review' });
  const textA = lines(40, 'launch post').join('\n');
  const docA = await d.artifacts.create({
    kind: 'text',
    title: 'Launch post',
    content: textA,
    tags: [TARGET_TAG, 'blog'],
  });
  const docB = await d.artifacts.create({
    kind: 'text',
    title: 'Launch FAQ',
    content: lines(30, 'faq').join('\n'),
    tags: [TARGET_TAG],
  });
  const spec = await d.artifacts.create({
    kind: 'json',
    title: 'Launch plan',
    content: { date: '2026-12-01', channels: ['blog', 'mail'], owner: 'Ada', status: 'draft' },
    tags: [TARGET_TAG],
  });
  let a = docA;
  a = await d.artifacts.edit(docA.id, {
    content: editLine(a.content as string, 3, 'A sharper opening line.'),
    baseVersion: a.version,
    reason: 'sharper opening',
  });
  a = await b.artifacts.edit(docA.id, {
    content: editLine(a.content as string, 12, 'Pricing, said plainly.'),
    baseVersion: a.version,
    reason: 'pricing paragraph',
  });
  a = await d.artifacts.edit(docA.id, {
    content: editLine(a.content as string, 30, 'A call to action.'),
    baseVersion: a.version,
    reason: 'call to action',
  });
  await d.artifacts.edit(spec.id, {
    patch: [{ op: 'replace', path: '/status', value: 'review' }],
    baseVersion: 1,
    reason: 'ready for review',
  });
  await b.artifacts.edit(spec.id, {
    patch: [{ op: 'add', path: '/channels/-', value: 'social' }],
    baseVersion: 2,
    reason: 'add social',
  });

  // Context of every type, in the target session.
  await d.context.record({
    type: 'note',
    about: [docA.id],
    text: `First draft is up; it quotes the ${RARE_WORD} survey.`,
  });
  await d.context.record({
    type: 'attempt',
    about: [docA.id],
    text: 'Tried a shorter headline.',
    outcome: 'failed',
  });
  await d.context.record({
    type: 'learned',
    about: [docB.id],
    text: 'Readers ask about pricing first.',
  });
  await d.context.record({
    type: 'decision',
    about: [docA.id, docB.id],
    text: 'Launch on the blog first.',
    why: 'It reaches the most readers for the least work.',
    alternatives: ['Mail first', 'Social first'],
  });
  await d.context.record({ type: 'todo', about: [docB.id], text: 'Add a refund question.' });
  await d.context.record({
    type: 'tool',
    about: [docA.id],
    text: 'search("launch checklist")',
    tool: { name: 'search', argsDigest: 'a1', resultDigest: 'r1', durationMs: 120 },
  });
  for (const about of [[docA.id], [docB.id], [docA.id, docB.id]])
    await d.context.record({
      type: 'usage',
      about,
      text: 'model call',
      usage: { model: 'gpt-x', inputTokens: 1200, outputTokens: 300, costUsd: 0.02 },
    });
  const questions: ContextEntry[] = [];
  for (const [about, text] of [
    [[docA.id], 'Is the headline too long?'],
    [[docA.id], 'Do we name competitors?'],
    [[docA.id], 'Which launch date?'],
    [[docB.id], 'Is the refund window 30 days?'],
    [[docB.id], 'Do we link the docs?'],
    [[], 'Who signs off the launch?'],
  ] as [string[], string][])
    questions.push(await d.context.record({ type: 'question', about, text }));
  await b.context.answer(questions[0]!.id, 'Yes: cut it to eight words.');
  await b.context.answer(questions[3]!.id, 'Yes, 30 days.');
  await me.context.answer(questions[5]!.id, 'Ada does.');
  await d.context.record({ type: 'note', about: [docB.id], text: 'FAQ outline agreed.' });
  await d.context.compact({ about: docB.id, summarize });

  // Handoffs: work accepted and sent back, one left open, questions, an approval used.
  const h = await d.handoffs.offer({
    to: bea.id,
    artifacts: [docA.id, docB.id],
    note: 'Please review the launch post and FAQ.',
    questions: ['Is the tone right?'],
    priority: 'high',
  });
  await b.handoffs.accept(h.id);
  await b.context.answer(h.id, 'The tone is right.');
  a = await b.artifacts.get(docA.id);
  a = await b.artifacts.edit(docA.id, {
    content: editLine(a.content as string, 20, 'Reviewed: one fix.'),
    baseVersion: a.version,
    reason: 'review fix',
  });
  await b.context.record({
    type: 'usage',
    about: [docA.id],
    text: 'review assist',
    usage: { model: 'gpt-x', inputTokens: 800, outputTokens: 100, costUsd: 0.01 },
  });
  const back = await b.handoffs.offer({
    to: drafter.id,
    artifacts: [docA.id, docB.id],
    note: 'Reviewed; back to you.',
  });
  const open = await d.handoffs.offer({
    to: bea.id,
    artifacts: [spec.id],
    note: 'The launch plan, when you have a minute.',
    priority: 'normal',
  });
  const asked = await d.handoffs.ask({
    to: bea.id,
    question: 'Ship on Friday?',
    options: ['yes', 'no'],
    about: [docA.id],
  });
  await b.handoffs.answer(asked.id, 'yes');
  await d.handoffs.ask({ to: bea.id, question: 'Can you record the demo?', about: [docB.id] });
  const approval = await d.handoffs.requestApproval({
    action: DEPLOY,
    resource: 'deploy:launch-site',
    summary: 'Deploy the launch site',
  });
  await me.handoffs.approve(approval.id);
  await d.authorize(DEPLOY, 'deploy:launch-site');
  await ws.as(reviewer.id).context.record({
    type: 'note',
    about: [docA.id],
    text: 'Reviewed through the launch tag.',
  });

  // The rare types.
  const old = await me.identities.create({ kind: 'agent', name: 'old-bot', generateKey: true });
  const oldGrant = await me.capabilities.grant({
    to: old.id,
    resource: 'artifact:*',
    actions: ['read'],
  });
  await me.identities.suspend(old.id, { reason: 'retired' });
  await me.capabilities.revoke(oldGrant.id, { reason: 'retired' });
  await ws.checkpoint();

  return {
    targets: {
      workspace: ws.id!,
      owner: owner.id,
      bea: bea.id,
      drafter: drafter.id,
      reviewer: reviewer.id,
      ops: ops.id,
      docA: docA.id,
      docB: docB.id,
      spec: spec.id,
      docAVersion: a.version,
      accepted: h.id,
      back: back.id,
      open: open.id,
    },
    fillers: fillers.map((f) => f.id),
    round: 0,
    buildMs: 0,
  };
}

/** One round of filler (~25 events): work by `fillers[round % 4]`, handed to the next. */
async function fillerRound(ws: Workspace, p: Progress, round: number): Promise<void> {
  const who = p.fillers[round % p.fillers.length]!;
  const next = p.fillers[(round + 1) % p.fillers.length]!;
  const session = `worker-run-${round % FILLER_SESSIONS}`;
  const f = ws.as(who, { session });
  const g = ws.as(next, { session: `worker-run-${(round + 1) % FILLER_SESSIONS}` });
  const tag = `topic-${round % FILLER_TAGS}`;
  let doc = await f.artifacts.create({
    kind: 'text',
    title: `Notes ${round}`,
    content: lines(20, `notes ${round}`).join('\n'),
    tags: [tag],
  });
  const data = await f.artifacts.create({
    kind: 'json',
    title: `Config ${round}`,
    content: { round, items: [1, 2, 3], status: 'new' },
    tags: [tag, `topic-${(round + 5) % FILLER_TAGS}`],
  });
  for (let i = 0; i < 3; i++)
    doc = await f.artifacts.edit(doc.id, {
      content: editLine(doc.content as string, 2 + i * 5, `edit ${i} of round ${round}`),
      baseVersion: doc.version,
      reason: `pass ${i}`,
    });
  await f.artifacts.edit(data.id, {
    patch: [{ op: 'replace', path: '/status', value: 'ready' }],
    baseVersion: 1,
    reason: 'ready',
  });
  await f.context.record({ type: 'note', about: [doc.id], text: `Started round ${round}.` });
  await f.context.record({
    type: 'attempt',
    about: [doc.id],
    text: 'Tried the fast path.',
    outcome: round % 3 ? 'succeeded' : 'failed',
  });
  await f.context.record({ type: 'learned', about: [data.id], text: 'The config needs a status.' });
  await f.context.record({
    type: 'decision',
    about: [doc.id, data.id],
    text: 'Keep the notes short.',
    why: 'Reviewers skim.',
    alternatives: ['Long notes'],
  });
  await f.context.record({ type: 'todo', about: [doc.id], text: 'Tidy the last section.' });
  await f.context.record({
    type: 'tool',
    about: [data.id],
    text: 'lint(config)',
    tool: { name: 'lint', durationMs: 40 + (round % 50) },
  });
  for (let i = 0; i < 2; i++)
    await f.context.record({
      type: 'usage',
      text: 'model call',
      usage: { model: 'gpt-x', inputTokens: 500 + i, outputTokens: 120, costUsd: 0.004 },
    });
  const h = await f.handoffs.offer({ to: next, artifacts: [doc.id], note: `Round ${round}` });
  await g.handoffs.accept(h.id);
  await g.artifacts.edit(doc.id, {
    content: editLine(doc.content as string, 17, `reviewed in round ${round}`),
    baseVersion: doc.version,
    reason: 'review',
  });
  await g.handoffs.complete(h.id, { note: 'done' });
  if (round % 4 === 0) {
    const resource = `deploy:site-${round % 64}`;
    const req = await f.handoffs.requestApproval({ action: DEPLOY, resource, summary: 'deploy' });
    await ws.as(p.targets.owner).handoffs.approve(req.id);
    await f.authorize(DEPLOY, resource);
  }
  if (round % 8 === 7) await f.context.compact({ about: doc.id, summarize });
  await ws.tick();
}

/** The tail: written after the filler, the newest events of the log. */
async function writeTail(ws: Workspace, t: Progress['targets']): Promise<string> {
  await new Promise((resolve) => setTimeout(resolve, 5));
  const since = new Date().toISOString();
  await new Promise((resolve) => setTimeout(resolve, 5));
  const d = ws.as(t.drafter, { session: TARGET_SESSION });
  await d.context.record({ type: 'note', about: [t.docA], text: 'Launch day: all green.' });
  await d.context.record({ type: 'learned', about: [t.docB], text: 'The FAQ cut support mail.' });
  const me = ws.as(t.owner);
  const late = await me.identities.create({ kind: 'agent', name: 'late-bot', generateKey: true });
  await me.identities.suspend(late.id, { reason: 'done' });
  await ws.checkpoint();
  return since;
}

function open(path: string, keys: string): Promise<Workspace> {
  return Workspace.open({
    store: new SqliteStore({ path }),
    keyring: new KeyDirectory({ path: keys }),
    tickIntervalMs: 0,
  });
}

/**
 * The fixture of about `size` events: from the cache, or built (resuming a build cut short).
 *
 * @param log - Called with progress lines. Defaults to printing them.
 */
export async function growthFixture(
  size: number,
  log: (line: string) => void = (l) => console.log(l),
): Promise<GrowthFixture> {
  const cached = cachedFixture(size);
  if (cached) return cached;
  const f = fixtureFiles(size);
  mkdirSync(CACHE_DIR, { recursive: true });
  lock(f.lock);
  try {
    return await build(size, f, log);
  } finally {
    rmSync(f.lock, { force: true });
  }
}

/** Takes the build lock, or throws naming the live process that holds it. */
function lock(file: string): void {
  try {
    writeFileSync(file, String(process.pid), { flag: 'wx' });
    return;
  } catch {}
  const pid = Number(readFileSync(file, 'utf8'));
  let alive = false;
  try {
    process.kill(pid, 0);
    alive = true;
  } catch {}
  if (alive)
    throw new Error(
      `${file}: process ${pid} is building this fixture; wait for it (or stop it: the build resumes).`,
    );
  writeFileSync(file, String(process.pid));
}

async function build(
  size: number,
  f: ReturnType<typeof fixtureFiles>,
  log: (line: string) => void,
): Promise<GrowthFixture> {
  let p: Progress | undefined = existsSync(f.progress)
    ? (JSON.parse(readFileSync(f.progress, 'utf8')) as Progress)
    : undefined;
  if (!p || !existsSync(f.partial)) {
    p = undefined;
    for (const x of [f.partial, `${f.partial}-wal`, `${f.partial}-shm`, f.progress])
      rmSync(x, { force: true });
    rmSync(f.keys, { recursive: true, force: true });
    mkdirSync(f.keys, { recursive: true, mode: 0o700 });
  }
  const started = performance.now();
  const ws = await open(f.partial, f.keys);
  const save = (q: Progress) =>
    writeFileSync(
      f.progress,
      JSON.stringify({ ...q, buildMs: q.buildMs + performance.now() - started }),
    );
  if (!p) {
    p = await writeTargets(ws);
    save(p);
    log(`  growth fixture ${size}: target set written (${(await ws.head()).seq} events)`);
  } else log(`  growth fixture ${size}: resuming at round ${p.round}`);
  const TAIL = 8;
  let lastLog = performance.now();
  let seq = (await ws.head()).seq;
  while (seq < size - TAIL) {
    await fillerRound(ws, p, p.round);
    p.round++;
    seq = (await ws.head()).seq;
    if (p.round % 20 === 0) save(p);
    if (performance.now() - lastLog > 30_000) {
      lastLog = performance.now();
      const s = (performance.now() - started) / 1_000;
      log(`  growth fixture ${size}: ${seq} events, ${s.toFixed(0)} s in this run`);
    }
  }
  save(p);
  const since = await writeTail(ws, p.targets);
  const events = (await ws.head()).seq;
  await ws.close();
  const buildMs = p.buildMs + performance.now() - started;
  renameSync(f.partial, f.db);
  for (const x of [`${f.partial}-wal`, `${f.partial}-shm`, f.progress]) rmSync(x, { force: true });
  const targets: GrowthTargets = { ...p.targets, since, events };
  writeFileSync(f.meta, `${JSON.stringify({ targets, buildMs }, null, 2)}\n`);
  log(
    `  growth fixture ${size}: built ${events} events in ${(buildMs / 1_000).toFixed(1)} s (${((buildMs / events) * 100).toFixed(0)} s per 10⁵)`,
  );
  return { size, path: f.db, keys: f.keys, targets, buildMs, built: true };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const arg of process.argv.slice(2)) await growthFixture(Number(arg));
}
