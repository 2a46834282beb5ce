/**
 * The `baton` command is safe to read and to pipe: text an agent wrote cannot drive the
 * person's terminal, a closed pipe ends a command quietly, and `--json` is all JSON.
 */

import { spawnSync } from 'node:child_process';
import type { Artifact } from '@baton/core';
import { Workspace } from '@baton/core';
import { KeyDirectory } from '@baton/core/node';
import { SqliteStore } from '@baton/sqlite';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { killSpawned, REPO_ROOT, TSX_LOADER } from '../helpers/spawnTs.js';
import { BATON, type CliDir, cliDir } from './baton.js';

/** One of each kind of character a terminal obeys or hides. */
const HOSTILE: Record<string, string> = {
  'a CSI colour': '\u001b[31mRED\u001b[0m',
  'a cursor move and line erase': '\u001b[2A\u001b[2K',
  'an OSC 52 clipboard write': '\u001b]52;c;ZXZpbA==\u0007',
  'an OSC 8 hyperlink': '\u001b]8;;https://evil.example\u001b\\click\u001b]8;;\u001b\\',
  'a carriage return': 'shown\rhidden',
  'a bell and a backspace': 'ding\u0007\u0008',
  'a C1 CSI': '\u009b31m',
  'a bidi override': 'abc\u202edcba',
  'bidi isolates': '\u2066x\u2069\u2067y\u2069\u2068z\u2069',
  'bidi embeddings': '\u202ax\u202c\u202by\u202c',
  'zero-width characters': 'a\u200bb\u200cc\u200dd\u200ee\u200ff',
  'invisible operators and a word joiner': 'a\u2060b\u2061c\u2062d\u2063e\u2064',
  'a BOM and a Mongolian vowel separator': '\ufeffa\u180eb',
  'tag characters': 'flag\u{e0001}\u{e0041}\u{e007f}',
};
const ALL = Object.values(HOSTILE).join(' | ');
/** Any raw character from HOSTILE (newline and tab are allowed: they are printed on purpose). */
const RAW =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these characters are what is looked for
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u180e\u{e0000}-\u{e007f}]/u;

const dirs: CliDir[] = [];
afterEach(killSpawned);
afterAll(() => {
  for (const d of dirs) d.remove();
});

describe('text from the workspace on a terminal', () => {
  let cli: CliDir;
  let doc: Artifact;
  let offer: string;
  let agentId: string;

  beforeAll(async () => {
    cli = cliDir();
    dirs.push(cli);
    expect((await cli.run(['init', '--name', 'Ada'])).code).toBe(0);
    // An agent writes hostile text into every field a person reads: its name, a title, the
    // content, reasons, notes, a decision's why, questions, a handoff's note.
    const ws = await Workspace.open({
      store: new SqliteStore({ path: cli.db }),
      keyring: new KeyDirectory({ path: `${cli.dir}/.baton/keys` }),
      tickIntervalMs: 0,
    });
    const ada = ws.as(ws.info!.owners[0]!);
    const agent = await ada.identities.create({
      kind: 'agent',
      name: `agent ${HOSTILE['a CSI colour']}${HOSTILE['a bidi override']}`,
      generateKey: true,
    });
    agentId = agent.id;
    for (const [resource, actions] of [
      ['artifact:*', ['read', 'create', 'write', 'comment', 'handoff']],
      ['workspace', ['comment', 'handoff']],
    ] as const)
      await ada.capabilities.grant({ to: agent.id, resource, actions: [...actions] });
    const me = ws.as(agent.id);
    doc = await me.artifacts.create({
      kind: 'text',
      title: `Plan ${ALL}`,
      content: `first line\n${ALL}\nlast line\n`,
      reason: `start ${ALL}`,
    });
    await me.artifacts.edit(doc.id, {
      content: `first line\n${ALL}\nchanged ${ALL}\nlast line\n`,
      baseVersion: 1,
      reason: `edit ${ALL}`,
    });
    await me.context.record({ type: 'note', text: `note ${ALL}`, about: [doc.id] });
    await me.context.record({
      type: 'decision',
      text: `decided ${ALL}`,
      why: `why ${ALL}`,
      about: [doc.id],
    });
    await me.context.record({ type: 'question', text: `open? ${ALL}`, about: [doc.id] });
    offer = (
      await me.handoffs.offer({
        to: ada.id,
        artifacts: [doc.id],
        note: `handoff note ${ALL}`,
        questions: [`question ${ALL}`],
      })
    ).id;
    await me.handoffs.ask({ to: ada.id, question: `asked ${ALL}`, options: [`yes ${ALL}`, 'no'] });
    await ws.close();
  }, 120_000);

  const commands = (): [string, string[]][] => [
    ['list', ['list']],
    ['show', ['show', doc.id]],
    ['show --version 1', ['show', doc.id, '--version', '1']],
    ['diff', ['diff', doc.id]],
    ['history', ['history', doc.id]],
    ['changes --peek', ['changes', doc.id, '--peek']],
    ['log', ['log']],
    ['inbox', ['inbox']],
    ['brief', ['brief', offer]],
    ['context', ['context']],
    ['context --open', ['context', '--open']],
    ['id list', ['id', 'list']],
    ['id show', ['id', 'show', agentId]],
    ['grants', ['grants', agentId]],
    ['record', ['record', agentId]],
    ['whoami as the agent', ['--as', agentId, 'whoami']],
    ['costs', ['costs']],
    // Errors that quote the agent's name.
    ['an error naming the agent', ['--as', agentId, 'id', 'create', 'x', '--key-here']],
    ['a refused can', ['--as', agentId, 'can', 'admin', 'workspace']],
    // Last: it changes the handoff (run a second time, it is refused, quoting it again).
    ['accept', ['accept', offer]],
  ];

  it('shows every control and formatting character as an escape, in every command, with and without colour', async () => {
    for (const [what, args] of commands()) {
      for (const env of [{}, { NO_COLOR: undefined, FORCE_COLOR: '1' }]) {
        const r = await cli.run(args, { env });
        const out = r.stdout + r.stderr;
        expect(r.stderr, `${what}: no stack trace`).not.toMatch(/\n\s+at /);
        if ('FORCE_COLOR' in env) {
          // Baton's own colour stays; nothing else that starts with ESC gets through.
          // biome-ignore lint/suspicious/noControlCharactersInRegex: Baton's colour codes are taken out
          const withoutColour = out.replace(/\u001b\[[0-9;]*m/g, '');
          expect(RAW.exec(withoutColour)?.[0], `${what} (colour) let a raw character through`).toBe(
            undefined,
          );
          expect(out, `${what} (colour)`).not.toContain('\u001b[31mRED');
        } else {
          expect(RAW.exec(out)?.[0], `${what} let a raw character through`).toBe(undefined);
        }
      }
    }
  }, 240_000);

  it('prints each kind as a \\u escape where it was', async () => {
    const shown = (await cli.run(['show', doc.id])).stdout;
    expect(shown).toContain('\\u001b[31mRED\\u001b[0m');
    expect(shown).toContain('\\u001b]52;c;ZXZpbA==\\u0007');
    expect(shown).toContain('shown\\u000dhidden');
    expect(shown).toContain('abc\\u202edcba');
    expect(shown).toContain('a\\u200bb\\u200cc\\u200dd');
    expect(shown).toContain('flag\\udb40\\udc01');
    // Multi-line content keeps its lines.
    expect(shown.split('\n')[0]).toBe('first line');
    expect(shown.split('\n').at(-2)).toBe('last line');
  });

  it('keeps the exact strings under --json', async () => {
    const a = await cli.json<Artifact>(['show', doc.id]);
    expect(a.title).toBe(`Plan ${ALL}`);
    expect(a.content).toBe(`first line\n${ALL}\nchanged ${ALL}\nlast line\n`);
    const r = await cli.run(['--json', 'list']);
    expect(RAW.exec(r.stdout)?.[0]).toBe(undefined);
    expect((JSON.parse(r.stdout) as Artifact[])[0]!.title).toBe(`Plan ${ALL}`);
  });
});

describe('tables with wide characters', () => {
  it('align columns after CJK and emoji titles', async () => {
    const cli = cliDir();
    dirs.push(cli);
    await cli.run(['init', '--name', 'Ada']);
    for (const title of ['Plain title', '発売のお知らせ', '🚀 Launch 🎉', 'Cafe\u0301 menu'])
      expect((await cli.run(['new', '--title', title], { input: 'x\n' })).code).toBe(0);
    const lines = (await cli.run(['list'])).stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(5);
    // The version column ("1") starts at the same terminal column on every row.
    const column = (line: string) => {
      const at = line.search(/ {2}1 {2}/);
      return displayColumns(line.slice(0, at));
    };
    const header = lines[0]!;
    const versionAt = displayColumns(header.slice(0, header.indexOf('version')));
    for (const line of lines.slice(1)) expect(column(line) + 2, line).toBe(versionAt);
  }, 60_000);
});

/** Terminal columns of `s`, counted independently of the CLI: wide ranges 2, marks 0. */
function displayColumns(s: string): number {
  let n = 0;
  for (const { segment } of new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(s)) {
    const cp = segment.codePointAt(0)!;
    n += (cp >= 0x3000 && cp <= 0x9fff) || cp >= 0x1f300 ? 2 : 1;
  }
  return n;
}

describe('a closed pipe', () => {
  let cli: CliDir;
  beforeAll(async () => {
    cli = cliDir();
    dirs.push(cli);
    await cli.run(['init', '--name', 'Ada']);
    const doc = await cli.json<Artifact>(['new', '--title', 'Plan'], { input: 'one\n' });
    await cli.run(['edit', doc.id, '--file', cli.file('two.txt', 'two\n'), '--reason', 'r']);
    docId = doc.id;
  }, 60_000);
  let docId = '';

  /** Runs `baton ...args | reader` in bash; stderr is baton's, then its exit status. */
  const piped = (args: string[], reader: string) =>
    spawnSync(
      'bash',
      [
        '-c',
        `"${process.execPath}" --import "${TSX_LOADER}" --conditions=source "${BATON}" ${args.join(' ')} | ${reader}; echo "exit \${PIPESTATUS[0]}" >&2`,
      ],
      { cwd: cli.dir, env: { ...process.env, NO_COLOR: '1' }, encoding: 'utf8' },
    );

  // `true` reads nothing: the pipe is closed before the command writes its first line.
  it.each([
    ['log', () => ['log']],
    ['log --json', () => ['--json', 'log']],
    ['history', () => ['history', docId]],
    ['export', () => ['export']],
    ['list', () => ['list']],
    ['show', () => ['show', docId]],
  ])(
    'ends %s quietly with exit 0 and no stack trace when the reader is gone',
    (_, args) => {
      const r = piped(args(), 'true');
      expect(r.stderr).toMatch(/exit 0\n$/);
      expect(r.stderr).not.toMatch(/EPIPE|\n\s+at /);
    },
    60_000,
  );

  it('ends `baton log | head -2` and `baton history … | head -3` with exit 0, the lines read printed', async () => {
    // A log longer than the pipe's buffer, so head closes it while baton still writes.
    const ws = await Workspace.open({
      store: new SqliteStore({ path: cli.db }),
      keyring: new KeyDirectory({ path: `${cli.dir}/.baton/keys` }),
      tickIntervalMs: 0,
    });
    const me = ws.as(ws.info!.owners[0]!);
    for (let i = 0; i < 800; i++) await me.context.record({ type: 'note', text: `note ${i}` });
    for (let v = 2; v < 60; v++)
      await me.artifacts.edit(docId, { content: `v${v}\n`, baseVersion: v, reason: `r${v}` });
    await ws.close();
    const log = piped(['log'], 'head -2');
    expect(log.stdout.trimEnd().split('\n')).toHaveLength(2);
    expect(log.stderr).toBe('exit 0\n');
    const history = piped(['history', docId], 'head -3');
    expect(history.stdout.trimEnd().split('\n')).toHaveLength(3);
    expect(history.stderr).toBe('exit 0\n');
    const exported = piped(['export'], 'head -c 10');
    expect(exported.stderr).toBe('exit 0\n');
  }, 120_000);
});

describe('--json', () => {
  let cli: CliDir;
  beforeAll(async () => {
    cli = cliDir();
    dirs.push(cli);
    await cli.run(['init', '--name', 'Ada']);
  }, 60_000);

  it.each([
    ['an unknown command', ['--json', 'bogus'], /unknown command 'bogus'/],
    ['an unknown option', ['--json', 'inbox', '--nope'], /unknown option '--nope'/],
    ['a missing argument', ['--json', 'show'], /missing required argument 'artifact'/],
    [
      'a bad option value',
      ['--json', 'log', '--limit', 'x'],
      /--limit <n>.*must be a whole number/,
    ],
    ['a missing subcommand', ['--json', 'id'], /needs a subcommand/],
    ['--json after the command', ['inbox', '--nope', '--json'], /unknown option '--nope'/],
  ])(
    'prints a usage error (%s) as a JSON error on stderr, nothing on stdout, exit 2',
    async (_, args, message) => {
      const r = await cli.run(args);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      const err = JSON.parse(r.stderr) as { error: { code: string; message: string } };
      expect(err.error.code).toBe('VALIDATION');
      expect(err.error.message).toMatch(message);
    },
  );

  it('keeps usage errors as text without --json', async () => {
    const r = await cli.run(['bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: unknown command 'bogus'/);
  });

  it('prints a failure as one JSON error object with the exit code unchanged', async () => {
    const r = await cli.run(['--json', 'show', 'art_nothing']);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(JSON.parse(r.stderr)).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });

  it('gets only JSON on stdout through `pnpm --silent baton`, from the caller’s directory', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
    for (const k of ['BATON_DB', 'BATON_DIR', 'BATON_AS', 'BATON_KEYS']) delete env[k];
    const run = (silent: boolean) =>
      spawnSync(
        'pnpm',
        ['-C', REPO_ROOT, ...(silent ? ['--silent'] : []), 'baton', '--json', 'whoami'],
        { cwd: cli.dir, env, encoding: 'utf8' },
      );
    const silent = run(true);
    expect(silent.status).toBe(0);
    expect((JSON.parse(silent.stdout) as { db: string }).db).toBe(cli.db);
    // Without --silent, pnpm's own banner lands on stdout first.
    const loud = run(false);
    expect(loud.stdout).toMatch(/^\s*> /);
  }, 120_000);
});
