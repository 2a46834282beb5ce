import type { BatonEvent } from '@baton/core';
import type { Command } from 'commander';
import { collect, intArg } from '../intArg.js';
import { EXIT, type Output } from '../output.js';
import type { Runner } from '../runner.js';
import { namer } from './identities.js';

/** One line of the timeline: seq, time, who, what, on which stream. */
function describeEvent(out: Output, e: BatonEvent, name: (id: string) => string): string {
  const c = out.c;
  return `${c.dim(String(e.seq).padStart(6))} ${c.dim(e.at.slice(0, 19).replace('T', ' '))} ${c.bold(name(e.actor))} ${c.cyan(e.type.replace(/@\d+$/, ''))} ${c.dim(e.stream)}`;
}

/** `log`, `watch`. */
export function registerLogCommands(program: Command, run: Runner): void {
  program
    .command('log')
    .description('The timeline: every signed, attributed event, oldest first.')
    .option('--type <type>', "only this event type ('artifact.edited'); repeatable", collect)
    .option('--ref <id>', 'only events about this artifact, identity, handoff or grant')
    .option('--actor <identity>', 'only events by this identity (id or name)')
    .option('--after <seq>', 'start after this seq', intArg(0))
    .option('--limit <n>', 'at most this many events', intArg(1))
    .action(
      run(
        async (
          { session, out },
          o: { type?: string[]; ref?: string; actor?: string; after?: number; limit?: number },
        ) => {
          const actor = await session.actor();
          const who = o.actor !== undefined ? await session.idOf(o.actor) : undefined;
          const name = await namer(session);
          // Printed a page at a time, so a long log never sits in memory whole; under
          // --json it is still one array.
          let after = o.after ?? 0;
          let left = o.limit ?? Number.POSITIVE_INFINITY;
          let first = true;
          const print = (e: BatonEvent) => {
            if (!out.json) return out.line(describeEvent(out, e, name));
            out.io.stdout.write(`${first ? '[\n' : ',\n'}${JSON.stringify(e, null, 2)}`);
            first = false;
          };
          while (left > 0) {
            const page = await actor.log({
              after,
              ...(o.type ? { types: o.type } : {}),
              ...(o.ref ? { ref: o.ref } : {}),
              limit: 500,
            });
            for (const e of page.items) {
              if (left === 0) break;
              if (who && e.actor !== who) continue;
              print(e);
              left--;
            }
            // A page may be short, even empty, when few of the events it passed are readable:
            // `next` alone says whether there is more.
            if (page.next === undefined) break;
            after = Number(page.next);
          }
          if (out.json) out.io.stdout.write(first ? '[]\n' : '\n]\n');
          return EXIT.OK;
        },
      ),
    );

  program
    .command('watch')
    .description('Follow the log live (Ctrl-C to stop); with --json, one event per line.')
    .option('--type <type>', 'only this event type; repeatable', collect)
    .option('--ref <id>', 'only events about this id')
    .option('--from <seq>', 'start after this seq instead of now', intArg(0))
    .option('--count <n>', 'stop after this many events', intArg(1))
    .action(
      run(
        async (
          { session, out },
          o: { type?: string[]; ref?: string; from?: number; count?: number },
        ) => {
          const actor = await session.actor();
          const name = await namer(session);
          const stop = new AbortController();
          const onSignal = () => stop.abort();
          process.once('SIGINT', onSignal);
          process.once('SIGTERM', onSignal);
          let n = 0;
          try {
            for await (const e of actor.watch({
              ...(o.type ? { types: o.type } : {}),
              ...(o.ref ? { ref: o.ref } : {}),
              ...(o.from !== undefined ? { after: o.from } : {}),
              signal: stop.signal,
            })) {
              if (out.json) out.line(JSON.stringify(e));
              else out.line(describeEvent(out, e, name));
              if (o.count !== undefined && ++n >= o.count) break;
            }
          } finally {
            process.off('SIGINT', onSignal);
            process.off('SIGTERM', onSignal);
          }
          return EXIT.OK;
        },
      ),
    );
}
