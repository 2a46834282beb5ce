import type { ContextEntry, ContextType, RecordInput } from '@baton/core';
import type { Command } from 'commander';
import { collect } from '../intArg.js';
import { EXIT, type Output, usage } from '../output.js';
import { allPages } from '../pages.js';
import type { Runner } from '../runner.js';
import { fullId, namer, shortener } from './identities.js';

/** One line about a ContextLog entry, led by its (short) id. */
function describeEntry(
  out: Output,
  e: ContextEntry,
  name: (id: string) => string,
  short: (id: string) => string,
): string {
  const c = out.c;
  const why = e.why ? c.dim(` — why: ${e.why}`) : '';
  const state =
    e.type === 'question'
      ? e.open
        ? c.yellow(' (open)')
        : c.dim(` (answered${e.answer ? ` by ${name(e.answer.by)}: ${e.answer.text}` : ''})`)
      : e.answers
        ? c.dim(` (answers ${short(e.answers)})`)
        : '';
  return `${c.bold(short(e.id))} ${c.dim(e.at.slice(0, 16).replace('T', ' '))} ${c.bold(e.type)} by ${name(e.actor)}: ${e.text}${why}${state}`;
}

const COST_GROUPS = ['actor', 'artifact', 'session', 'handoff'] as const;

/** `note`, `decide`, `question`, `context`, `costs`. */
export function registerContextCommands(program: Command, run: Runner): void {
  const record = (
    verb: string,
    type: ContextType,
    description: string,
    extra: (cmd: Command) => Command = (cmd) => cmd,
  ) =>
    extra(
      program
        .command(verb)
        .description(description)
        .argument('<text>', 'what to record')
        .option('--about <artifact>', 'an artifact it is about; repeatable', collect),
    ).action(
      run(
        async (
          { session, out },
          text: string,
          o: { about?: string[]; why?: string; alternative?: string[] },
        ) => {
          if (text.trim() === '') throw usage('<text> is empty: say what to record.');
          const actor = await session.actor();
          const input: RecordInput = { type, text };
          if (o.about)
            input.about = await Promise.all(o.about.map((a) => fullId(actor, a, ['artifact'])));
          if (o.why !== undefined) input.why = o.why;
          if (o.alternative) input.alternatives = o.alternative;
          const e = await actor.context.record(input);
          const short = await shortener(actor, [e.id]);
          out.show(e, () =>
            out.line(`${out.c.green('✓')} Recorded ${type} ${out.c.bold(short(e.id))}.`),
          );
          return EXIT.OK;
        },
      ),
    );

  record('note', 'note', 'Record a note in the ContextLog.');
  record(
    'decide',
    'decision',
    'Record a decision and why, so whoever picks the work up next knows.',
    (cmd) =>
      cmd
        .requiredOption('--why <text>', 'the reason')
        .option('--alternative <text>', 'an option you did not take; repeatable', collect),
  );
  record(
    'question',
    'question',
    'Record an open question (it stays open until someone answers it).',
  );
  record('learned', 'learned', 'Record something learned.');

  program
    .command('context')
    .description('The ContextLog: what was tried, learned, decided and why.')
    .option('--about <artifact>', 'only entries about this artifact')
    .option('--type <type>', 'only this type (note, decision, question, …); repeatable', collect)
    .option('--open', 'only open questions')
    .option('--text <words>', 'only entries containing these words')
    .action(
      run(
        async (
          { session, out },
          o: { about?: string; type?: string[]; open?: boolean; text?: string },
        ) => {
          const actor = await session.actor();
          const about = o.about ? await fullId(actor, o.about, ['artifact']) : undefined;
          const items = await allPages((after) =>
            actor.context.query({
              ...(about ? { about } : {}),
              ...(o.type ? { types: o.type as ContextType[] } : {}),
              ...(o.open ? { open: true } : {}),
              ...(o.text ? { text: o.text } : {}),
              ...(after ? { after } : {}),
            }),
          );
          const name = await namer(session);
          const short = await shortener(
            actor,
            items.flatMap((e) => [e.id, ...(e.answers ? [e.answers] : [])]),
          );
          out.show(items, () => {
            if (items.length === 0)
              out.line(out.c.dim(o.open ? 'No open questions.' : 'Nothing recorded.'));
            for (const e of items) out.line(describeEntry(out, e, name, short));
            if (o.open && items.length > 0)
              out.note(out.c.dim('Answer one with `baton answer <id> <answer>`.'));
          });
          return EXIT.OK;
        },
      ),
    );

  program
    .command('costs')
    .description('Model usage and cost recorded in the ContextLog, summed.')
    .option('--by <group>', `group by ${COST_GROUPS.join(', ')}`, 'actor')
    .option('--since <time>', 'only usage since this ISO time')
    .action(
      run(async ({ session, out }, o: { by: string; since?: string }) => {
        if (!(COST_GROUPS as readonly string[]).includes(o.by))
          throw usage(`--by must be one of ${COST_GROUPS.join(', ')}, not "${o.by}".`);
        const actor = await session.actor();
        const lines = await actor.context.costs({
          by: o.by as (typeof COST_GROUPS)[number],
          ...(o.since !== undefined ? { since: o.since } : {}),
        });
        const name = await namer(session);
        const short = await shortener(
          actor,
          lines.map((l) => l.key).filter((k) => k !== '-'),
        );
        out.show(lines, () => {
          if (lines.length === 0) out.line(out.c.dim('No usage recorded.'));
          out.table(
            [o.by, 'entries', 'tokens in', 'tokens out', 'cost (USD)'],
            lines.map((l) => [
              o.by === 'actor' ? name(l.key) : short(l.key),
              String(l.entries),
              String(l.inputTokens),
              String(l.outputTokens),
              l.costUsd.toFixed(4),
            ]),
          );
        });
        return EXIT.OK;
      }),
    );
}
