import { type ArtifactChange, artifactChanges } from '../artifacts/artifactHistory.js';
import { artifactRow, versionRow } from '../artifacts/artifactRows.js';
import {
  type ContextType,
  contextIndexKey,
  contextPage,
  contextRow,
} from '../context/contextRows.js';
import { type ContextEntry, entryReadable, queryEntries, readEntry } from '../context/entries.js';
import { isBatonError } from '../errors.js';
import type { Scope } from '../scope.js';
import type { Handoff } from './handoffRead.js';
import { handoffsPage } from './handoffRows.js';

/**
 * What a briefing left out because its reader may not read it: per resource (an artifact, or
 * `workspace` for entries about no artifact), why, and how much.
 */
export interface Withheld {
  /** `artifact:<id>`, or `workspace`. */
  resource: string;
  /** Why the reader may not read it, as the grant check says. */
  reason: string;
  /** The artifact's changes left out (its title, diffs and versions with them). */
  changes: number;
  /** ContextLog entries about it left out. */
  entries: number;
}

/** What a recipient needs to pick the work up: computed from the log, never pasted. */
export interface Briefing {
  handoff: string;
  kind: Handoff['kind'];
  from: { id: string; name: string };
  to: { id: string; name: string };
  status: Handoff['status'];
  note?: string;
  /** Per artifact the reader may read: what others changed between the recipient's last look and the offer. */
  artifacts: {
    id: string;
    title: string;
    seen: number;
    version: number;
    changes: ArtifactChange[];
  }[];
  /**
   * Questions answered by the time of the offer, with their answers: those about the work,
   * the handoff's own, and the recipient's own questions to the offerer (asked in handoffs
   * the recipient offered it earlier, about anything) — so an asker's next briefing from
   * whoever it asked carries the answers.
   */
  answered: { question: ContextEntry; answer: ContextEntry }[];
  /**
   * The same questions still open at the time of the offer. Each entry's `id` is what
   * `context.answer(id, …)` (or `baton answer <id>`) takes; `toMarkdown` lists them with it.
   */
  questions: ContextEntry[];
  decisions: ContextEntry[];
  learnings: ContextEntry[];
  todos: ContextEntry[];
  /** Summaries that stand for compacted entries. */
  summaries: ContextEntry[];
  /**
   * What was left out because the reader may not `read` it — an artifact's changes, entries
   * about it — and why. Empty when nothing was. Listed first in {@link Briefing.toMarkdown}.
   */
  withheld: Withheld[];
  /** A compact text for a prompt or a person, most important first within `maxTokens` (≈ 4 characters a token). */
  toMarkdown(options?: { maxTokens?: number }): string;
}

/** The kinds of entry a briefing shows (questions with their answers, decisions, learnings, todos, summaries). */
const BRIEFED: ContextType[] = ['question', 'answer', 'decision', 'learned', 'todo', 'summary'];

/**
 * Builds the briefing of handoff `h` for its recipient, as `actor` may read it. Everything is
 * bounded by the offer: the changes between the seen version and the head recorded in the
 * offer, and the ContextLog entries committed up to it — so reading it again later gives the
 * same briefing. An artifact `actor` may not read shows up only in `withheld` (the
 * ContextLog leaves out entries about it by its own read rule; they are counted there).
 */
export async function buildBriefing(scope: Scope, h: Handoff): Promise<Briefing> {
  const recipient = h.to[0]!;
  const name = (id: string) => scope.authority.identity(id)?.name ?? id;
  const resourceOf = (artifact: string) => `artifact:${artifact}`;
  const readable = (resource: string) => scope.may('read', resource);
  const withheld = new Map<string, Withheld>();
  const withhold = (resource: string): Withheld => {
    let w = withheld.get(resource);
    if (!w) {
      const d = scope.decide('read', resource);
      const reason = d.allowed ? `${name(scope.actor)} may not read it` : d.reason;
      w = { resource, reason, changes: 0, entries: 0 };
      withheld.set(resource, w);
    }
    return w;
  };
  const artifacts: Briefing['artifacts'] = [];
  for (const a of h.artifacts) {
    const row = await artifactRow(scope.rows, a.id);
    if (!row) continue;
    if (!readable(resourceOf(a.id))) {
      withhold(resourceOf(a.id)).changes += await countChanges(scope, a, recipient);
      continue;
    }
    const changes = await artifactChanges(scope, row, a.seen, recipient, a.head);
    artifacts.push({ id: a.id, title: row.title, seen: a.seen, version: a.head, changes });
  }
  const entries: ContextEntry[] = [];
  const about = h.artifacts.map((a) => a.id);
  if (about.length) {
    // Only the kinds a briefing shows, committed by the offer: read through the about+type
    // index, so neither later entries nor notes, tool calls and usage are read.
    let after: string | undefined;
    do {
      const page = await queryEntries(
        scope,
        { about, types: BRIEFED, limit: 500, after, includeSummarized: false },
        { untilSeq: h.offerSeq },
      );
      entries.push(...page.items);
      after = page.next;
    } while (after);
    // The entries the ContextLog left out for this reader, counted against what it may not read.
    const counted = new Set<string>();
    for (const artifact of about) {
      let next: string | undefined;
      do {
        const page = await contextPage(
          scope.rows,
          'about',
          { prefix: `${artifact}\u0000`, lt: contextIndexKey(artifact, h.offerSeq + 1) },
          { limit: 500, after: next },
        );
        for (const row of page.items) {
          if (row.seq > h.offerSeq || row.summarizedBy || entryReadable(scope, row)) continue;
          if (counted.has(row.id)) continue;
          counted.add(row.id);
          for (const x of row.about.filter((x) => !readable(resourceOf(x))))
            withhold(resourceOf(x)).entries++;
        }
        next = page.next;
      } while (next);
    }
  }
  for (const q of h.questions) {
    if (entries.some((e) => e.id === q)) continue;
    try {
      entries.push(await readEntry(scope, q));
    } catch (err) {
      if (!isBatonError(err) || err.code !== 'NOT_FOUND') throw err;
      const row = await contextRow(scope.rows, q);
      if (!row) continue;
      // Counted above when it is about the handoff's artifacts.
      if (row.about.some((x) => about.includes(x))) continue;
      const unreadable = row.about.length
        ? row.about.filter((x) => !readable(resourceOf(x))).map(resourceOf)
        : ['workspace'];
      for (const r of unreadable) withhold(r).entries++;
    }
  }
  // The recipient's own questions to the offerer — asked in handoffs the recipient offered it,
  // about anything — come back with their answers, or stay listed as open.
  for (const q of await questionsAsked(scope, recipient, h)) {
    if (entries.some((e) => e.id === q)) continue;
    const row = await contextRow(scope.rows, q);
    if (!row || row.seq > h.offerSeq) continue;
    const entry = await readEntry(scope, q).catch(notFound);
    if (!entry) continue;
    entries.push(entry);
    if (row.answeredBy) {
      const a = await contextRow(scope.rows, row.answeredBy);
      if (a && a.seq <= h.offerSeq) {
        const answer = await readEntry(scope, a.id).catch(notFound);
        if (answer) entries.push(answer);
      }
    }
  }
  const answers = entries.filter((e) => e.type === 'answer' && e.answers !== undefined);
  const answered: Briefing['answered'] = [];
  const open: ContextEntry[] = [];
  for (const q of entries.filter((e) => e.type === 'question')) {
    const a = answers.find((x) => x.answers === q.id);
    if (a) answered.push({ question: q, answer: a });
    else open.push(q);
  }
  const pick = (t: ContextEntry['type']) => entries.filter((e) => e.type === t);
  const b: Omit<Briefing, 'toMarkdown'> = {
    handoff: h.id,
    kind: h.kind,
    from: { id: h.from, name: name(h.from) },
    to: { id: recipient, name: name(recipient) },
    status: h.status,
    artifacts,
    answered,
    questions: open,
    decisions: pick('decision'),
    learnings: pick('learned'),
    todos: pick('todo'),
    summaries: pick('summary'),
    withheld: [...withheld.values()],
  };
  if (h.noteText !== undefined) b.note = h.noteText;
  return { ...b, toMarkdown: (o) => toMarkdown(b, o?.maxTokens ?? 2_000, name) };
}

function notFound(err: unknown): undefined {
  if (isBatonError(err) && err.code === 'NOT_FOUND') return undefined;
  throw err;
}

/**
 * The questions `asker` put to the offerer of `h` — in work handoffs and `ask`s it offered
 * them before `h` — read from the `from` index of the asker's handoffs.
 */
async function questionsAsked(scope: Scope, asker: string, h: Handoff): Promise<string[]> {
  if (asker === h.from) return [];
  const out: string[] = [];
  let after: string | undefined;
  do {
    const page = await handoffsPage(scope.rows, 'from', asker, { limit: 200, after });
    for (const row of page.items) {
      if (row.offerSeq >= h.offerSeq) continue;
      if (row.to.includes(h.from)) out.push(...row.questions);
    }
    after = page.next;
  } while (after);
  return out;
}

/** How many versions of `a` after the recipient's seen one, up to the offer's head, others made. */
async function countChanges(
  scope: Scope,
  a: Handoff['artifacts'][number],
  recipient: string,
): Promise<number> {
  let n = 0;
  for (let v = a.seen + 1; v <= a.head; v++) {
    const vr = await versionRow(scope.rows, a.id, v);
    if (vr && vr.author !== recipient) n++;
  }
  return n;
}

interface Block {
  order: number;
  rank: number;
  kind: string;
  text: string;
}

/**
 * Untrusted text (a title, a name, a reason, an entry's text) as inline markdown: line breaks
 * become spaces, so it cannot start a heading, list or quote of its own; links, images, code
 * spans and HTML are escaped, so it shows as the text it is.
 */
function inline(s: string): string {
  return escapeInline(s.replace(/\s*[\r\n]+\s*/g, ' '));
}

function escapeInline(s: string): string {
  return s.replace(/[\\`[\]<]/g, (c) => (c === '<' ? '&lt;' : `\\${c}`));
}

/** A code fence longer than any run of backticks in `body`, so the body cannot close it. */
function fence(body: string): string {
  const longest = Math.max(0, ...(body.match(/`+/g) ?? []).map((r) => r.length));
  return '`'.repeat(Math.max(3, longest + 1));
}

function toMarkdown(
  b: Omit<Briefing, 'toMarkdown'>,
  maxTokens: number,
  rawName: (id: string) => string,
): string {
  const name = (id: string) => inline(rawName(id));
  const blocks: Block[] = [];
  let order = 0;
  const add = (rank: number, kind: string, text: string) =>
    blocks.push({ order: order++, rank, kind, text });
  add(
    0,
    'header',
    `# Handoff from ${inline(b.from.name)} to ${inline(b.to.name)}${b.note ? `\n\n> ${b.note.split(/\r?\n/).map(escapeInline).join('\n> ')}` : ''}`,
  );
  if (b.withheld.length) {
    const lines = b.withheld.map((w) => {
      const parts = [
        ...(w.changes ? [`${w.changes} change${w.changes === 1 ? '' : 's'}`] : []),
        ...(w.entries ? [`${w.entries} context entr${w.entries === 1 ? 'y' : 'ies'}`] : []),
      ];
      return `- ${w.resource}: ${parts.length ? parts.join(' and ') : 'its content'} left out (${inline(w.reason)})`;
    });
    add(0, 'withheld', `## Withheld: you may not read\n\n${lines.join('\n')}`);
  }
  for (const a of b.artifacts) {
    add(
      1,
      'artifact',
      `## ${inline(a.title)} (v${a.seen} → v${a.version}): ${a.changes.length} change${a.changes.length === 1 ? '' : 's'} by others since you last saw it`,
    );
    for (const c of a.changes) {
      add(
        1,
        'change',
        `- v${c.version} by ${inline(c.authorName)}: ${c.reason !== undefined ? inline(c.reason) : '(no reason given)'}${c.mergedFrom ? ` (merged over v${c.mergedFrom})` : ''}`,
      );
      const diff = c.diff.trim();
      add(5, 'diff', `${fence(diff)}diff\n${diff}\n${fence(diff)}`);
    }
  }
  if (b.answered.length) add(2, 'heading', '## Answers to questions');
  for (const { question, answer } of b.answered)
    add(
      2,
      'answer',
      `- Q (${name(question.actor)}): ${inline(question.text)}\n  A (${name(answer.actor)}): ${inline(answer.text)}`,
    );
  if (b.questions.length) add(3, 'heading', '## Open questions (answer by id)');
  for (const q of b.questions)
    add(
      3,
      'question',
      `- ${q.id}: ${inline(q.text)}${q.options?.length ? ` [${q.options.map(inline).join(' / ')}]` : ''} (asked by ${name(q.actor)})`,
    );
  if (b.decisions.length) add(4, 'heading', '## Decisions');
  for (const d of b.decisions)
    add(
      4,
      'decision',
      `- ${inline(d.text)}${d.why ? ` — because ${inline(d.why)}` : ''} (${name(d.actor)})`,
    );
  if (b.summaries.length) add(4, 'heading', '## Earlier context, summarized');
  for (const x of b.summaries) add(4, 'summary', `- ${inline(x.text)}`);
  if (b.todos.length) add(6, 'heading', '## To do');
  for (const t of b.todos) add(6, 'todo', `- [ ] ${inline(t.text)}`);
  if (b.learnings.length) add(7, 'heading', '## Learned');
  for (const l of b.learnings) add(7, 'learning', `- ${inline(l.text)}`);

  const budget = maxTokens * 4;
  const kept = new Set<Block>();
  let used = 0;
  const left = new Map<string, number>();
  for (const block of [...blocks].sort((x, y) => x.rank - y.rank || x.order - y.order)) {
    const cost = block.text.length + 2;
    if (used + cost <= budget - 120 || block.rank === 0) {
      kept.add(block);
      used += cost;
    } else if (block.kind !== 'heading') left.set(block.kind, (left.get(block.kind) ?? 0) + 1);
  }
  // A heading stays only with something under it.
  const out = blocks.filter(
    (x) =>
      kept.has(x) &&
      (x.kind !== 'heading' ||
        blocks.some(
          (y) => y.order > x.order && y.rank === x.rank && kept.has(y) && y.kind !== 'heading',
        )),
  );
  let text = out.map((x) => x.text).join('\n\n');
  if (left.size) {
    const parts = [...left].map(([k, n]) => `${n} ${k}${n === 1 ? '' : 's'}`);
    text += `\n\n_Left out to stay within ${maxTokens} tokens: ${parts.join(', ')}._`;
  }
  return text;
}
