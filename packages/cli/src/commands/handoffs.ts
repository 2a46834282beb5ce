import {
  type Actor,
  type Briefing,
  type Handoff,
  type HandoffStatus,
  type JsonValue,
  PRIORITIES,
} from '@baton/core';
import type { Command } from 'commander';
import { collect, intArg } from '../intArg.js';
import { EXIT, type Output, usage } from '../output.js';
import type { Runner } from '../runner.js';
import { fullId, namer, shortener } from './identities.js';

const PRIORITY: readonly string[] = PRIORITIES;
const ALL_STATUSES: HandoffStatus[] = [
  'offered',
  'accepted',
  'completed',
  'returned',
  'declined',
  'cancelled',
  'approved',
  'denied',
  'answered',
  'consumed',
  'expired',
];

function describeHandoff(
  out: Output,
  h: Handoff,
  name: (id: string) => string,
  short: (id: string) => string,
): string[] {
  const c = out.c;
  const asks = h.kind === 'work' && h.openQuestions.length > 0;
  const what =
    h.kind === 'approval'
      ? `approve ${h.approval?.action} on ${h.approval?.resource}${h.approval?.summary ? `: ${h.approval.summary}` : ''}`
      : h.kind === 'question'
        ? `question: ${h.questionText ?? ''}${h.question?.options?.length ? ` [${h.question.options.join(' / ')}]` : ''}`
        : `${h.noteText ?? ''}${asks ? `${h.noteText ? ' ' : ''}(questions: ${h.openQuestions.map(short).join(', ')})` : ''}`;
  const priority =
    h.priority === 'urgent' || h.priority === 'high' ? c.red(h.priority) : c.dim(h.priority);
  return [
    c.bold(short(h.id)),
    h.kind,
    priority,
    name(h.from),
    h.status,
    h.due ? h.due.slice(0, 16).replace('T', ' ') : '',
    what,
  ];
}

/** Exactly what an approval request asks: action, resource, summary, payload, digest, requester, the grant gating it. */
export function describeApproval(out: Output, h: Handoff, name: (id: string) => string): void {
  const c = out.c;
  const a = h.approval;
  if (!a) return;
  out.line(`${c.bold(`Approval request ${h.id}`)} ${c.dim(`(${h.status})`)}`);
  const row = (k: string, v: string) => out.line(`  ${c.dim(k.padEnd(10))} ${v}`);
  row('requester', `${name(h.from)} (${h.from})`);
  row('action', a.action);
  row('resource', a.resource);
  row('summary', a.summary ?? c.dim('(none)'));
  row(
    'payload',
    h.requestedPayload !== undefined
      ? JSON.stringify(h.requestedPayload, null, 2).replace(/\n/g, '\n             ')
      : c.dim('(none)'),
  );
  row('digest', a.digest);
  row('grant', h.grant ?? c.dim('(unknown)'));
  row('approvers', h.to.map(name).join(', '));
  if (h.decision) {
    row('decided', `${h.status} by ${name(h.decision.by)} at ${h.decision.at}`);
    if (h.approvedPayload !== undefined)
      row('approved', `with the payload edited to ${JSON.stringify(h.approvedPayload)}`);
  }
}

function printBriefing(
  out: Output,
  b: Briefing,
  maxTokens: number | undefined,
  h: Handoff,
  name: (id: string) => string,
): void {
  const markdown = b.toMarkdown(maxTokens !== undefined ? { maxTokens } : undefined);
  if (out.json) {
    out.data(h.kind === 'approval' ? { ...b, markdown, approval: h } : { ...b, markdown });
    return;
  }
  if (h.kind === 'approval') {
    describeApproval(out, h, name);
    out.line();
  }
  out.line(markdown);
}

/** The handoff a person named by id or unique prefix, read as the actor may. */
async function handoffArg(actor: Actor, ref: string): Promise<Handoff> {
  return actor.handoffs.get(await fullId(actor, ref, ['handoff']));
}

/** `inbox`, `brief`, `offer`, `accept`, `decline`, `return`, `complete`, `cancel`, `approve`, `deny`, `ask`, `answer`. */
export function registerHandoffCommands(program: Command, run: Runner): void {
  program
    .command('inbox')
    .description('What waits on you: handoffs, approvals and questions, most urgent first.')
    .option('--all', 'include ones already closed')
    .action(
      run(async ({ session, out }, o: { all?: boolean }) => {
        const actor = await session.actor();
        const items = (await actor.inbox(o.all ? { status: [...ALL_STATUSES] } : {})).items;
        const name = await namer(session);
        const short = await shortener(
          actor,
          items.flatMap((h) => [h.id, ...h.openQuestions]),
        );
        out.show(items, () => {
          if (items.length === 0) out.line(out.c.dim('Nothing waits on you.'));
          out.table(
            ['id', 'kind', 'priority', 'from', 'status', 'due', 'what'],
            items.map((h) => describeHandoff(out, h, name, short)),
          );
          if (items.some((h) => h.openQuestions.length > 0))
            out.note(out.c.dim('Answer a question with `baton answer <id> <answer>`.'));
        });
        return EXIT.OK;
      }),
    );

  program
    .command('brief')
    .description(
      'The briefing of a handoff: what changed and why, decisions, open questions (Markdown).',
    )
    .argument('<handoff>', 'its id')
    .option('--max-tokens <n>', 'fit the briefing in about this many tokens', intArg(50))
    .action(
      run(async ({ session, out }, id: string, o: { maxTokens?: number }) => {
        const actor = await session.actor();
        const h = await handoffArg(actor, id);
        const name = await namer(session);
        printBriefing(out, await actor.handoffs.briefing(h.id), o.maxTokens, h, name);
        return EXIT.OK;
      }),
    );

  program
    .command('offer')
    .description('Hand work to someone: artifacts, a note, questions; they get a briefing.')
    .requiredOption('--to <identity>', 'who gets it (id or name)')
    .option('--artifact <id>', 'an artifact handed over; repeatable', collect)
    .option('--note <text>', 'what you want them to know')
    .option('--question <text>', 'a question for them; repeatable', collect)
    .option('--priority <p>', 'urgent, high, normal or low', 'normal')
    .option('--due <time>', 'ISO time by when')
    .action(
      run(
        async (
          { session, out },
          o: {
            to: string;
            artifact?: string[];
            note?: string;
            question?: string[];
            priority: string;
            due?: string;
          },
        ) => {
          if (!PRIORITY.includes(o.priority))
            throw usage(`--priority must be one of ${PRIORITY.join(', ')}, not "${o.priority}".`);
          if (!o.artifact?.length && !o.question?.length && !o.note?.trim())
            throw usage(
              'Nothing to hand over: give --artifact <id>, --note <text> or --question <text> (or several).',
            );
          const actor = await session.actor();
          const artifacts = o.artifact
            ? await Promise.all(o.artifact.map((a) => fullId(actor, a, ['artifact'])))
            : undefined;
          const h = await actor.handoffs.offer({
            to: await session.idOf(o.to),
            ...(artifacts ? { artifacts } : {}),
            ...(o.note !== undefined ? { note: o.note } : {}),
            ...(o.question ? { questions: o.question } : {}),
            priority: o.priority as Handoff['priority'],
            ...(o.due !== undefined ? { due: o.due } : {}),
          });
          const name = await namer(session);
          const short = await shortener(actor, [h.id, ...h.questions]);
          out.show(h, () => {
            out.line(
              `${out.c.green('✓')} Offered ${out.c.bold(short(h.id))} to ${h.to.map(name).join(', ')}.`,
            );
            for (const q of h.questions) out.line(`  question ${out.c.bold(short(q))}`);
          });
          return EXIT.OK;
        },
      ),
    );

  program
    .command('accept')
    .description('Take a handoff on, and read its briefing.')
    .argument('<handoff>', 'its id')
    .option('--max-tokens <n>', 'fit the briefing in about this many tokens', intArg(50))
    .action(
      run(async ({ session, out }, id: string, o: { maxTokens?: number }) => {
        const actor = await session.actor();
        const full = await fullId(actor, id, ['handoff']);
        const b = await actor.handoffs.accept(full);
        const name = await namer(session);
        printBriefing(out, b, o.maxTokens, await actor.handoffs.get(full), name);
        return EXIT.OK;
      }),
    );

  const close = (verb: 'decline' | 'return' | 'complete' | 'cancel', what: string) =>
    program
      .command(verb)
      .description(what)
      .argument('<handoff>', 'its id')
      .option('--note <text>', 'a note for the other side')
      .action(
        run(async ({ session, out }, id: string, o: { note?: string }) => {
          const actor = await session.actor();
          const h = await actor.handoffs[verb](
            await fullId(actor, id, ['handoff']),
            o.note !== undefined ? { note: o.note } : undefined,
          );
          out.show(h, () => out.line(`${out.c.green('✓')} ${h.id} is ${h.status}.`));
          return EXIT.OK;
        }),
      );
  close('decline', 'Decline a handoff offered to you.');
  close('return', 'Give an accepted handoff back unfinished.');
  close('complete', 'Mark an accepted handoff done.');
  close('cancel', 'Withdraw a handoff you offered.');

  const decide = (verb: 'approve' | 'deny') =>
    program
      .command(verb)
      .description(
        verb === 'approve'
          ? 'Say yes to approval requests (one, or several of a group).'
          : 'Say no to approval requests.',
      )
      .argument('<request...>', 'approval request ids')
      .option('--note <text>', 'a note for the requester')
      .action(
        run(async ({ session, out }, ids: string[], o: { note?: string }) => {
          const actor = await session.actor();
          const full = await Promise.all(ids.map((id) => fullId(actor, id, ['handoff'])));
          const list = await actor.handoffs[verb](
            full,
            o.note !== undefined ? { note: o.note } : undefined,
          );
          const name = await namer(session);
          out.show(list, () => {
            for (const h of list) {
              describeApproval(out, h, name);
              out.line(`${out.c.green('✓')} ${h.id} is ${h.status}.`);
            }
          });
          return EXIT.OK;
        }),
      );
  decide('approve');
  decide('deny');

  program
    .command('ask')
    .description('Ask someone a question; their answer lands in the ContextLog.')
    .requiredOption('--to <identity>', 'who should answer (id or name)')
    .argument('<question>', 'the question')
    .option('--option <text>', 'a possible answer; repeatable', collect)
    .option('--about <artifact>', 'an artifact it is about; repeatable', collect)
    .option('--priority <p>', 'urgent, high, normal or low', 'normal')
    .action(
      run(
        async (
          { session, out },
          question: string,
          o: { to: string; option?: string[]; about?: string[]; priority: string },
        ) => {
          if (!PRIORITY.includes(o.priority))
            throw usage(`--priority must be one of ${PRIORITY.join(', ')}, not "${o.priority}".`);
          const actor = await session.actor();
          const h = await actor.handoffs.ask({
            to: await session.idOf(o.to),
            question,
            ...(o.option ? { options: o.option } : {}),
            ...(o.about
              ? { about: await Promise.all(o.about.map((a) => fullId(actor, a, ['artifact']))) }
              : {}),
            priority: o.priority as Handoff['priority'],
          });
          const short = await shortener(actor, [h.id]);
          out.show(h, () => out.line(`${out.c.green('✓')} Asked ${out.c.bold(short(h.id))}.`));
          return EXIT.OK;
        },
      ),
    );

  program
    .command('answer')
    .description(
      'Answer a question: one asked with `ask`, one of a handoff’s questions, or one recorded with `question` (JSON is taken as JSON, anything else as text). The asker’s next briefing shows it.',
    )
    .argument(
      '<question>',
      'the question’s id or a unique prefix (ctx_… as briefings, inbox and `context --open` show it, or the ho_… of an `ask`)',
    )
    .argument('<answer>', 'the answer')
    .action(
      run(async ({ session, out }, id: string, answer: string) => {
        if (answer.trim() === '') throw usage('<answer> is empty: say what the answer is.');
        const actor = await session.actor();
        const full = await fullId(actor, id, ['context', 'handoff']);
        const entry = await actor.context.answer(full, parseAnswer(answer));
        if (full.startsWith('ho_')) {
          const h = await actor.handoffs.get(full);
          if (h.kind === 'question') {
            // A question handoff answers with the handoff, as it always has.
            out.show(h, () => out.line(`${out.c.green('✓')} Answered ${h.id}.`));
            return EXIT.OK;
          }
        }
        out.show(entry, () =>
          out.line(`${out.c.green('✓')} Answered ${entry.answers} ${out.c.dim(`(${entry.id})`)}.`),
        );
        return EXIT.OK;
      }),
    );
}

function parseAnswer(text: string): JsonValue {
  if (/^\s*[[{"]|^(true|false|null|-?\d)/.test(text)) {
    try {
      return JSON.parse(text) as JsonValue;
    } catch {
      // not JSON after all: plain text
    }
  }
  return text;
}
