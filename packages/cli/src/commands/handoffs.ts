import {
  type Briefing,
  type Handoff,
  type HandoffStatus,
  type JsonValue,
  PRIORITIES,
} from '@baton/core';
import type { Command } from 'commander';
import { collect, intArg, type Runner } from '../cli.js';
import { EXIT, type Output, usage } from '../output.js';
import { namer } from './identities.js';

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

function describeHandoff(out: Output, h: Handoff, name: (id: string) => string): string[] {
  const c = out.c;
  const what =
    h.kind === 'approval'
      ? `approve ${h.approval?.action} on ${h.approval?.resource}${h.approval?.summary ? `: ${h.approval.summary}` : ''}`
      : h.kind === 'question'
        ? `question: ${h.questionText ?? ''}${h.question?.options?.length ? ` [${h.question.options.join(' / ')}]` : ''}`
        : (h.noteText ?? '');
  const priority =
    h.priority === 'urgent' || h.priority === 'high' ? c.red(h.priority) : c.dim(h.priority);
  return [
    c.bold(h.id),
    h.kind,
    priority,
    name(h.from),
    h.status,
    h.due ? h.due.slice(0, 16).replace('T', ' ') : '',
    what,
  ];
}

function printBriefing(out: Output, b: Briefing, maxTokens?: number): void {
  out.show(
    { ...b, markdown: b.toMarkdown(maxTokens !== undefined ? { maxTokens } : undefined) },
    () => out.line(b.toMarkdown(maxTokens !== undefined ? { maxTokens } : undefined)),
  );
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
        out.show(items, () => {
          if (items.length === 0) out.line(out.c.dim('Nothing waits on you.'));
          out.table(
            ['id', 'kind', 'priority', 'from', 'status', 'due', 'what'],
            items.map((h) => describeHandoff(out, h, name)),
          );
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
        printBriefing(out, await actor.handoffs.briefing(id), o.maxTokens);
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
          const actor = await session.actor();
          const h = await actor.handoffs.offer({
            to: await session.idOf(o.to),
            ...(o.artifact ? { artifacts: o.artifact } : {}),
            ...(o.note !== undefined ? { note: o.note } : {}),
            ...(o.question ? { questions: o.question } : {}),
            priority: o.priority as Handoff['priority'],
            ...(o.due !== undefined ? { due: o.due } : {}),
          });
          const name = await namer(session);
          out.show(h, () =>
            out.line(
              `${out.c.green('✓')} Offered ${out.c.bold(h.id)} to ${h.to.map(name).join(', ')}.`,
            ),
          );
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
        printBriefing(out, await actor.handoffs.accept(id), o.maxTokens);
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
            id,
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
          const list = await actor.handoffs[verb](
            ids,
            o.note !== undefined ? { note: o.note } : undefined,
          );
          out.show(list, () => {
            for (const h of list) out.line(`${out.c.green('✓')} ${h.id} is ${h.status}.`);
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
            ...(o.about ? { about: o.about } : {}),
            priority: o.priority as Handoff['priority'],
          });
          out.show(h, () => out.line(`${out.c.green('✓')} Asked ${out.c.bold(h.id)}.`));
          return EXIT.OK;
        },
      ),
    );

  program
    .command('answer')
    .description('Answer a question handed to you (JSON is taken as JSON, anything else as text).')
    .argument('<question>', 'the question handoff id')
    .argument('<answer>', 'the answer')
    .action(
      run(async ({ session, out }, id: string, answer: string) => {
        const actor = await session.actor();
        const h = await actor.handoffs.answer(id, parseAnswer(answer));
        out.show(h, () => out.line(`${out.c.green('✓')} Answered ${h.id}.`));
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
