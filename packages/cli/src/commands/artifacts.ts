import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type Artifact, type ArtifactContent, isBatonError, type JsonValue } from '@baton/core';
import type { Command } from 'commander';
import { ask, editText, readAll } from '../input.js';
import { collect, intArg } from '../intArg.js';
import { EXIT, type Output, usage } from '../output.js';
import { allPages } from '../pages.js';
import type { Runner } from '../runner.js';
import { describeApproval } from './handoffs.js';
import { fullId, namer, shortener } from './identities.js';

/** An artifact's content as the text a person edits: text as is, JSON pretty-printed. */
function asText(a: Pick<Artifact, 'kind' | 'content'>): string {
  return a.kind === 'json' ? `${JSON.stringify(a.content, null, 2)}\n` : String(a.content);
}

/** Text a person wrote back into content of the artifact's kind. */
function fromText(kind: Artifact['kind'], text: string, where: string): ArtifactContent {
  if (kind === 'text') return text;
  try {
    return JSON.parse(text) as JsonValue;
  } catch (err) {
    throw usage(`${where} is not valid JSON (${(err as Error).message}); nothing was changed.`);
  }
}

/** A unified diff with + and - lines coloured. */
function colourDiff(out: Output, diff: string): string {
  return diff
    .split('\n')
    .map((l) =>
      l.startsWith('+')
        ? out.c.green(l)
        : l.startsWith('-')
          ? out.c.red(l)
          : l.startsWith('@@')
            ? out.c.cyan(l)
            : l,
    )
    .join('\n');
}

/** `new`, `list`, `show`, `edit`, `diff`, `history`, `changes`. */
export function registerArtifactCommands(program: Command, run: Runner): void {
  program
    .command('new')
    .description('Create an artifact (versioned shared work) from a file or stdin.')
    .requiredOption('--title <title>', 'its title')
    .option('--kind <kind>', 'text or json', 'text')
    .option('--file <path>', 'read the content from this file (default: stdin)')
    .option('--tag <tag>', 'a tag; repeatable', collect)
    .option('--reason <text>', "why it exists (the first version's reason)")
    .action(
      run(
        async (
          { session, out, io },
          o: { title: string; kind: string; file?: string; tag?: string[]; reason?: string },
        ) => {
          if (o.kind !== 'text' && o.kind !== 'json')
            throw usage(`--kind must be text or json, not "${o.kind}".`);
          const actor = await session.actor();
          const text =
            o.file !== undefined
              ? await readFile(resolve(io.cwd, o.file), 'utf8').catch(() => {
                  throw usage(`Cannot read --file ${o.file}.`);
                })
              : await readAll(io);
          const a = await actor.artifacts.create({
            kind: o.kind,
            title: o.title,
            content: fromText(o.kind, text, o.file ?? 'stdin'),
            ...(o.tag ? { tags: o.tag } : {}),
            ...(o.reason !== undefined ? { reason: o.reason } : {}),
          });
          out.show(a, () =>
            out.line(
              `${out.c.green('✓')} Created ${out.c.bold(a.title)} ${out.c.dim(`(${a.id}, version ${a.version})`)}`,
            ),
          );
          return EXIT.OK;
        },
      ),
    );

  program
    .command('list')
    .alias('ls')
    .description('Artifacts, most recently changed first.')
    .option('--tag <tag>', 'only those with this tag')
    .option('--archived', 'include archived ones')
    .action(
      run(async ({ session, out }, o: { tag?: string; archived?: boolean }) => {
        const actor = await session.actor();
        const items = await allPages((after) =>
          actor.artifacts.list({
            ...(o.tag ? { tag: o.tag } : {}),
            ...(o.archived ? { includeArchived: true } : {}),
            ...(after ? { after } : {}),
          }),
        );
        const name = await namer(session);
        const short = await shortener(
          actor,
          items.map((a) => a.id),
        );
        out.show(items, () => {
          if (items.length === 0) out.line(out.c.dim('No artifacts.'));
          out.table(
            ['id', 'title', 'version', 'updated', 'by'],
            items.map((a) => [
              short(a.id),
              a.title,
              String(a.version),
              a.updatedAt.slice(0, 16).replace('T', ' '),
              name(a.updatedBy),
            ]),
          );
        });
        return EXIT.OK;
      }),
    );

  program
    .command('show')
    .description(
      "Print an artifact's content (stdout) with a line about it (stderr); given a handoff, what it is — for an approval request, exactly what would be approved.",
    )
    .argument('<artifact>', 'its id (or a unique prefix), or a handoff id')
    .option('--version <n>', 'an earlier version', intArg(1))
    .action(
      run(async ({ session, out }, ref: string, o: { version?: number }) => {
        const actor = await session.actor();
        const id = await fullId(actor, ref, ['artifact', 'handoff']);
        if (id.startsWith('ho_')) {
          const h = await actor.handoffs.get(id);
          const name = await namer(session);
          out.show(h, () => {
            if (h.kind === 'approval') describeApproval(out, h, name);
            else
              out.line(
                `${out.c.bold(`${h.kind} handoff ${h.id}`)} from ${name(h.from)} to ${h.to.map(name).join(', ')} · ${h.status}${h.noteText ? `\n  ${h.noteText}` : ''}${h.questionText ? `\n  question: ${h.questionText}` : ''}`,
              );
          });
          return EXIT.OK;
        }
        const a = await actor.artifacts.get(
          id,
          o.version !== undefined ? { version: o.version } : {},
        );
        const name = await namer(session);
        if (out.json) out.data(a);
        else {
          out.note(
            out.c.dim(
              `${a.title} · ${a.kind} · version ${a.version} of ${a.head} · last changed by ${name(a.updatedBy)} at ${a.updatedAt}`,
            ),
          );
          out.io.stdout.write(asText(a));
        }
        return EXIT.OK;
      }),
    );

  program
    .command('edit')
    .description(
      'Edit an artifact in $EDITOR (or from --file) and say why. If someone changed it meanwhile, the edits are merged; where both touched the same place, the conflict is shown and nothing is written.',
    )
    .argument('<artifact>', 'its id')
    .option('--reason <text>', 'why you changed it (asked for when left out)')
    .option('--file <path>', 'take the new content from this file instead of opening an editor')
    .action(
      run(async ({ session, out, io }, ref: string, o: { reason?: string; file?: string }) => {
        const actor = await session.actor();
        const id = await fullId(actor, ref, ['artifact']);
        const before = await actor.artifacts.get(id);
        let text: string;
        let kept: { file: string; dispose(): void } | undefined;
        if (o.file !== undefined) {
          text = await readFile(resolve(io.cwd, o.file), 'utf8').catch(() => {
            throw usage(`Cannot read --file ${o.file}.`);
          });
        } else {
          const edited = editText(
            io,
            asText(before),
            `${id}.${before.kind === 'json' ? 'json' : 'txt'}`,
          );
          text = edited.text;
          kept = edited;
        }
        if (text === asText(before)) {
          kept?.dispose();
          out.show({ changed: false, artifact: before }, () =>
            out.line(out.c.dim('No change; nothing written.')),
          );
          return EXIT.OK;
        }
        const content = fromText(before.kind, text, kept?.file ?? o.file ?? 'the edit');
        const reason = (o.reason ?? (await ask(io, 'Why this change? ')))?.trim();
        if (!reason) {
          throw usage(
            `Say why with --reason (the edit is kept in ${kept?.file ?? o.file}); nothing was changed.`,
          );
        }
        try {
          const after = await actor.artifacts.edit(id, {
            content,
            baseVersion: before.version,
            reason,
          });
          kept?.dispose();
          out.show({ changed: true, artifact: after }, () => {
            const merged =
              after.version > before.version + 1 ? ` (merged with changes made meanwhile)` : '';
            out.line(
              `${out.c.green('✓')} ${after.title}: version ${after.version} — "${reason}"${merged}`,
            );
          });
          return EXIT.OK;
        } catch (err) {
          if (kept && isBatonError(err)) out.note(`Your edited text is kept in ${kept.file}.`);
          throw err;
        }
      }),
    );

  program
    .command('diff')
    .description('What changed between two versions (default: the last change).')
    .argument('<artifact>', 'its id')
    .argument('[from]', 'the older version (default: the one before <to>)')
    .argument('[to]', 'the newer version (default: the latest)')
    .action(
      run(
        async ({ session, out }, ref: string, from: string | undefined, to: string | undefined) => {
          const actor = await session.actor();
          const id = await fullId(actor, ref, ['artifact']);
          const head = (await actor.artifacts.get(id)).version;
          const t = to === undefined ? head : versionArg(to, 'to');
          const f = from === undefined ? Math.max(1, t - 1) : versionArg(from, 'from');
          const diff = await actor.artifacts.diff(id, f, t);
          out.show({ artifact: id, from: f, to: t, diff }, () => out.line(colourDiff(out, diff)));
          return EXIT.OK;
        },
      ),
    );

  program
    .command('history')
    .description('Every version: who, when, why.')
    .argument('<artifact>', 'its id')
    .action(
      run(async ({ session, out }, ref: string) => {
        const actor = await session.actor();
        const id = await fullId(actor, ref, ['artifact']);
        const versions = await allPages((after) =>
          actor.artifacts.history(id, after ? { after } : {}),
        );
        const name = await namer(session);
        out.show(versions, () =>
          out.table(
            ['version', 'at', 'by', 'why'],
            versions.map((v) => [
              String(v.version),
              v.at.slice(0, 19).replace('T', ' '),
              name(v.author),
              `${v.reason ?? ''}${v.mergedFrom !== undefined ? out.c.dim(` (merged with ${v.mergedFrom})`) : ''}`,
            ]),
          ),
        );
        return EXIT.OK;
      }),
    );

  program
    .command('changes')
    .description(
      'What others changed since you last looked — each version with its reason and diff — then marks it seen.',
    )
    .argument('<artifact>', 'its id')
    .option('--peek', 'do not mark the changes seen')
    .action(
      run(async ({ session, out }, ref: string, o: { peek?: boolean }) => {
        const actor = await session.actor();
        const id = await fullId(actor, ref, ['artifact']);
        const changes = await actor.artifacts.changesSince(id);
        out.show(changes, () => {
          if (changes.length === 0) out.line(out.c.dim('Nothing new since you last looked.'));
          for (const ch of changes) {
            out.line(
              `${out.c.bold(`version ${ch.version}`)} by ${ch.authorName} at ${ch.at}: ${ch.reason ?? out.c.dim('(no reason given)')}`,
            );
            out.line(colourDiff(out, ch.diff));
          }
        });
        if (!o.peek && changes.length > 0) await actor.artifacts.markSeen(id);
        return EXIT.OK;
      }),
    );
}

function versionArg(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw usage(`<${name}> must be a version number (1 or more), not "${value}".`);
  return n;
}
