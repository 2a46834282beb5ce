import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { SqliteStore } from '@baton/sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT, MemoryWritable, runCli } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'baton-cli-args-'));
const db = join(dir, '.baton', 'workspace.db');

/** Runs `baton` in-process in the test's directory. */
async function baton(args: string[], input = '') {
  const stdout = new MemoryWritable();
  const stderr = new MemoryWritable();
  const code = await runCli(args, {
    stdout,
    stderr,
    stdin: Readable.from(input ? [input] : []),
    env: { NO_COLOR: '1' },
    cwd: dir,
    isTTY: false,
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** Everything a command could change: the log head, the key files, the config. */
async function state() {
  const store = new SqliteStore({ path: db });
  const head = await store.head();
  await store.close();
  return {
    head,
    keys: readdirSync(join(dir, '.baton', 'keys')).sort(),
    config: readFileSync(join(dir, '.baton', 'config.json'), 'utf8'),
  };
}

let doc: string;
let handoff: string;
beforeAll(async () => {
  expect((await baton(['init', '--name', 'Ada'])).code).toBe(0);
  expect((await baton(['id', 'create', 'drafter', '--key-here'])).code).toBe(0);
  const g = await baton([
    'grant',
    'drafter',
    '--resource',
    'artifact:*',
    '--actions',
    'read,write',
  ]);
  expect(g.code).toBe(0);
  const created = await baton(['--json', 'new', '--title', 'Plan'], 'one\n');
  doc = (JSON.parse(created.stdout) as { id: string }).id;
  const offered = await baton(['--json', 'offer', '--to', 'drafter', '--artifact', doc]);
  handoff = (JSON.parse(offered.stdout) as { id: string }).id;
  writeFileSync(join(dir, 'taken.jsonl'), 'kept\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Each row: the arguments, and what the message must name. Ids the table needs are filled
// in per test (`DOC`, `HANDOFF`).
const CASES: [string[], RegExp][] = [
  [[], /Usage: baton/],
  [['bogus'], /unknown command 'bogus'/],
  [['init'], /required option '--name <name>'/],
  [['init', '--name', 'Bob'], /holds the workspace .* already/],
  [['whoami', 'extra'], /too many arguments/],
  [['use'], /missing required argument 'identity'/],
  [['use', 'nobody'], /No identity "nobody"/],
  [['id'], /Usage: baton id/],
  [['id', 'create'], /missing required argument 'name'/],
  [['id', 'create', 'x', '--kind', 'robot'], /--kind must be human, agent or service/],
  [['id', 'create', 'x'], /Say where x's private key lives/],
  [['id', 'create', 'x', '--key-here', '--key-dir', 'k'], /one of --key, --key-dir and --key-here/],
  [['keygen'], /--keys <dir>/],
  [['keygen', 'extra'], /too many arguments/],
  [['id', 'create', '', '--key-here'], /`name`/],
  [['--as', 'drafter', 'id', 'create', 'helper', '--key-here'], /may not create/],
  [['id', 'list', '--kind', 'robot'], /kind/],
  [['id', 'show', 'nobody'], /No identity "nobody"/],
  [['id', 'suspend'], /missing required argument 'identity'/],
  [['id', 'reinstate', 'nobody'], /No identity "nobody"/],
  [['grant', 'drafter', '--actions', 'read'], /required option '--resource <pattern>'/],
  [
    ['grant', 'drafter', '--resource', 'x:*', '--actions', ','],
    /--actions: name at least one action/,
  ],
  [
    ['grant', 'drafter', '--resource', 'x:*', '--actions', 'read', '--max-uses', '0'],
    /--max-uses.*whole number ≥ 1/,
  ],
  [
    ['grant', 'drafter', '--resource', 'x:*', '--actions', 'read', '--expires', 'soon'],
    /expiresAt/,
  ],
  [
    ['delegate', 'drafter', '--resource', 'x:*', '--actions', 'read', '--depth', '-1'],
    /--depth.*whole number ≥ 0/,
  ],
  [['revoke'], /missing required argument 'grant'/],
  [['revoke', 'gr_nope'], /gr_nope/],
  [['grants', 'nobody'], /No identity "nobody"/],
  [['can', 'read'], /missing required argument 'resource'/],
  [['do', 'publish'], /missing required argument 'resource'/],
  [['--as', 'drafter', 'do', 'publish', 'artifact:x'], /may not publish on artifact:x/],
  [['record'], /missing required argument 'identity'/],
  [['new', '--kind', 'text'], /required option '--title <title>'/],
  [['new', '--title', 'T', '--kind', 'xml'], /--kind must be text or json/],
  [['new', '--title', 'T', '--file', '/no/such/file'], /Cannot read --file \/no\/such\/file/],
  [['new', '--title', 'T', '--kind', 'json'], /stdin is not valid JSON/],
  [['list', '--bogus'], /unknown option '--bogus'/],
  [['show', 'DOC', '--version', '0'], /--version.*whole number ≥ 1/],
  [['show', 'art_nope'], /art_nope/],
  [['edit'], /missing required argument 'artifact'/],
  [['edit', 'DOC', '--file', '/no/such/file'], /Cannot read --file/],
  [['edit', 'DOC', '--reason', 'x'], /Set \$EDITOR/],
  [['diff', 'DOC', 'abc'], /<from> must be a version number/],
  [['diff', 'DOC', '1', '9'], /has versions 1 to 1/],
  [['history'], /missing required argument 'artifact'/],
  [['changes'], /missing required argument 'artifact'/],
  [['inbox', '--bogus'], /unknown option '--bogus'/],
  [['brief'], /missing required argument 'handoff'/],
  [['brief', 'HANDOFF', '--max-tokens', '3'], /--max-tokens.*whole number ≥ 50/],
  [['offer', '--note', 'x'], /required option '--to <identity>'/],
  [
    ['offer', '--to', 'drafter', '--priority', 'meh'],
    /--priority must be one of urgent, high, normal, low/,
  ],
  [['offer', '--to', 'drafter', '--note', 'x', '--due', 'tomorrow'], /due/],
  [['offer', '--to', 'drafter'], /Nothing to hand over: give --artifact/],
  [['offer', '--to', 'drafter', '--note', ' '], /Nothing to hand over/],
  [['offer', '--to', 'drafter', '--artifact', 'art_nope'], /art_nope/],
  [['accept'], /missing required argument 'handoff'/],
  [['accept', 'HANDOFF'], /Cannot accept handoff/],
  [['decline'], /missing required argument 'handoff'/],
  [['return', 'ho_nope'], /ho_nope/],
  [['complete'], /missing required argument 'handoff'/],
  [['cancel'], /missing required argument 'handoff'/],
  [['approve'], /missing required argument 'request'/],
  [['deny', 'HANDOFF'], /approval/],
  [['ask', 'Tone?'], /required option '--to <identity>'/],
  [['ask', '--to', 'drafter'], /missing required argument 'question'/],
  [['answer', 'HANDOFF'], /missing required argument 'answer'/],
  [['answer', 'HANDOFF', 'yes'], /not waiting on|Question|no open question/],
  [['answer', 'ctx_nope', 'yes'], /ctx_nope/],
  [['answer', 'DOC', 'yes'], /is an artifact id; give a context entry or handoff id/],
  [['answer', 'HANDOFF', ' '], /<answer> is empty/],
  [['can', 'read', 'workspace', '--for', 'nobody'], /No identity "nobody"/],
  [['--as', 'drafter', 'can', 'read', 'workspace', '--for', 'Ada'], /needs read on grant:\*/],
  [['id', 'create', 'DRAFTER', '--key-here'], /named "drafter" exists already/],
  [['note'], /missing required argument 'text'/],
  [['decide', 'x'], /required option '--why <text>'/],
  [['question'], /missing required argument 'text'/],
  [['learned', ' '], /<text> is empty/],
  [['context', '--type', 'gossip'], /types/],
  [['costs', '--by', 'planet'], /--by must be one of actor, artifact, session, handoff/],
  [['log', '--limit', '0'], /--limit.*whole number ≥ 1/],
  [['log', '--after', '-1'], /--after.*whole number ≥ 0/],
  [['log', '--actor', 'nobody'], /No identity "nobody"/],
  [['watch', '--count', '0'], /--count.*whole number ≥ 1/],
  [['verify', '--from', '/no/such/checkpoint'], /Cannot read the checkpoint file/],
  [['checkpoint', 'extra'], /too many arguments/],
  [['export', 'a', 'b'], /too many arguments/],
  [['export', 'taken.jsonl'], /taken.jsonl exists already/],
  [['checkpoint', '--out', 'taken.jsonl'], /taken.jsonl exists already/],
  [['import'], /missing required argument 'file'/],
  [['import', '/no/such/export'], /No file \/no\/such\/export/],
  [['erase', 'abc'], /required option '--reason <text>'/],
  [['erase', 'abc', '--reason', 'oops'], /body hash/],
  [['--as', 'nobody', 'inbox'], /No identity "nobody"/],
  [['mcp', '--wait', '-1'], /--wait.*whole number ≥ 0/],
  [['mcp', '--approver', 'nobody'], /No identity "nobody"/],
  [['mcp', '--http', 'eighty'], /--http.*whole number/],
  [['token', 'create', 'nobody'], /No identity "nobody"/],
  [['token', 'revoke', 'nobody'], /nobody/],
];

describe('baton given bad arguments', () => {
  it.each(CASES)(
    'baton %j exits non-zero, names the problem and changes nothing',
    async (args, message) => {
      const filled = args.map((a) => (a === 'DOC' ? doc : a === 'HANDOFF' ? handoff : a));
      const before = await state();
      const r = await baton(filled);
      expect(r.code, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).not.toBe(EXIT.OK);
      expect(`${r.stderr}${r.stdout}`).toMatch(message);
      expect(await state()).toEqual(before);
    },
  );

  it('covers every command baton has', async () => {
    const help = (await baton(['--help'])).stdout;
    const commands = [...help.matchAll(/^ {2}([a-z]+)[ |]/gm)].map((m) => m[1]!);
    expect(commands.length).toBeGreaterThan(35);
    const covered = new Set(
      CASES.map(([args]) => args.find((a) => !a.startsWith('-') && a !== 'nobody')),
    );
    for (const c of commands.filter((c) => c !== 'help'))
      expect(covered, `no bad-argument case for ${c}`).toContain(c);
  });

  it('uses exit code 2 for usage errors and the error code for the rest', async () => {
    expect((await baton(['new', '--title', 'T', '--kind', 'xml'])).code).toBe(EXIT.USAGE);
    expect((await baton(['log', '--limit', '0'])).code).toBe(EXIT.USAGE);
    expect((await baton(['show', 'art_nope'])).code).toBe(EXIT.NOT_FOUND);
    expect((await baton(['--as', 'drafter', 'do', 'publish', 'artifact:x'])).code).toBe(
      EXIT.FORBIDDEN,
    );
    expect((await baton(['init', '--name', 'Bob'])).code).toBe(EXIT.INVALID_STATE);
    const json = await baton(['--json', 'show', 'art_nope']);
    expect(JSON.parse(json.stderr)).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });
});
