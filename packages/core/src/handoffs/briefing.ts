import type { Actor } from '../actor.js';
import type { ArtifactRow } from '../artifacts/artifactEvents.js';
import type { ArtifactChange } from '../artifacts/artifacts.js';
import type { ContextEntry } from '../context/contextLog.js';
import type { Workspace } from '../workspace.js';
import type { Handoff } from './handoffs.js';

/** What a recipient needs to pick the work up: computed from the log, never pasted. */
export interface Briefing {
  handoff: string;
  kind: Handoff['kind'];
  from: { id: string; name: string };
  to: { id: string; name: string };
  status: Handoff['status'];
  note?: string;
  /** Per artifact: what others changed between the recipient's last look and the offer. */
  artifacts: {
    id: string;
    title: string;
    seen: number;
    version: number;
    changes: ArtifactChange[];
  }[];
  /** Questions about the work answered by the time of the offer, with their answers. */
  answered: { question: ContextEntry; answer: ContextEntry }[];
  /** Questions still open at the time of the offer. */
  questions: ContextEntry[];
  decisions: ContextEntry[];
  learnings: ContextEntry[];
  todos: ContextEntry[];
  /** Summaries that stand for compacted entries. */
  summaries: ContextEntry[];
  /** A compact text for a prompt or a person, most important first within `maxTokens` (≈ 4 characters a token). */
  toMarkdown(options?: { maxTokens?: number }): string;
}

/**
 * Builds the briefing of handoff `h` for its recipient. Everything is bounded by the offer:
 * the changes between the seen version and the head recorded in the offer, and the
 * ContextLog entries committed up to it — so reading it again later gives the same briefing.
 */
export async function buildBriefing(ws: Workspace, actor: Actor, h: Handoff): Promise<Briefing> {
  const recipient = h.to[0]!;
  const name = (id: string) => ws._view.identity(id)?.name ?? id;
  const artifacts: Briefing['artifacts'] = [];
  for (const a of h.artifacts) {
    const row = (await ws.store.get('artifacts', a.id)) as unknown as ArtifactRow | undefined;
    if (!row) continue;
    const changes = await actor.artifacts._changes(row, a.seen, recipient, a.head);
    artifacts.push({ id: a.id, title: row.title, seen: a.seen, version: a.head, changes });
  }
  const upTo = (e: ContextEntry) => e.seq <= h.offerSeq;
  const entries: ContextEntry[] = [];
  const about = h.artifacts.map((a) => a.id);
  if (about.length) {
    let after: string | undefined;
    do {
      const page = await actor.context.query({
        about,
        limit: 500,
        after,
        includeSummarized: false,
      });
      entries.push(...page.items.filter(upTo));
      after = page.next;
    } while (after);
  }
  for (const q of h.questions) {
    if (!entries.some((e) => e.id === q)) entries.push(await actor.context.get(q));
  }
  const byId = new Map(entries.map((e) => [e.id, e]));
  const answers = entries.filter((e) => e.type === 'answer' && e.answers !== undefined);
  const answered: Briefing['answered'] = [];
  const open: ContextEntry[] = [];
  for (const q of entries.filter((e) => e.type === 'question')) {
    const a = answers.find((x) => x.answers === q.id);
    if (a) answered.push({ question: q, answer: a });
    else open.push(q);
  }
  void byId;
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
  };
  if (h.noteText !== undefined) b.note = h.noteText;
  return { ...b, toMarkdown: (o) => toMarkdown(b, o?.maxTokens ?? 2_000, name) };
}

interface Block {
  order: number;
  rank: number;
  kind: string;
  text: string;
}

function toMarkdown(
  b: Omit<Briefing, 'toMarkdown'>,
  maxTokens: number,
  name: (id: string) => string,
): string {
  const blocks: Block[] = [];
  let order = 0;
  const add = (rank: number, kind: string, text: string) =>
    blocks.push({ order: order++, rank, kind, text });
  add(
    0,
    'header',
    `# Handoff from ${b.from.name} to ${b.to.name}${b.note ? `\n\n> ${b.note.replace(/\n/g, '\n> ')}` : ''}`,
  );
  for (const a of b.artifacts) {
    add(
      1,
      'artifact',
      `## ${a.title} (v${a.seen} → v${a.version}): ${a.changes.length} change${a.changes.length === 1 ? '' : 's'} by others since you last saw it`,
    );
    for (const c of a.changes) {
      add(
        1,
        'change',
        `- v${c.version} by ${c.authorName}: ${c.reason ?? '(no reason given)'}${c.mergedFrom ? ` (merged over v${c.mergedFrom})` : ''}`,
      );
      add(5, 'diff', `\`\`\`diff\n${c.diff.trim()}\n\`\`\``);
    }
  }
  if (b.answered.length) add(2, 'heading', '## Answers to questions');
  for (const { question, answer } of b.answered)
    add(
      2,
      'answer',
      `- Q (${name(question.actor)}): ${question.text}\n  A (${name(answer.actor)}): ${answer.text}`,
    );
  if (b.questions.length) add(3, 'heading', '## Open questions');
  for (const q of b.questions) add(3, 'question', `- ${q.text} (asked by ${name(q.actor)})`);
  if (b.decisions.length) add(4, 'heading', '## Decisions');
  for (const d of b.decisions)
    add(4, 'decision', `- ${d.text}${d.why ? ` — because ${d.why}` : ''} (${name(d.actor)})`);
  if (b.summaries.length) add(4, 'heading', '## Earlier context, summarized');
  for (const x of b.summaries) add(4, 'summary', `- ${x.text}`);
  if (b.todos.length) add(6, 'heading', '## To do');
  for (const t of b.todos) add(6, 'todo', `- [ ] ${t.text}`);
  if (b.learnings.length) add(7, 'heading', '## Learned');
  for (const l of b.learnings) add(7, 'learning', `- ${l.text}`);

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
