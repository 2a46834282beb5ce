import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Workspace } from '@baton/core';
import { KeyDirectory } from '@baton/core/node';
import { SqliteStore } from '@baton/sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryWritable, runCli } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'baton-cli-out-'));

async function baton(args: string[], options: { env?: NodeJS.ProcessEnv; isTTY?: boolean } = {}) {
  const stdout = new MemoryWritable();
  const stderr = new MemoryWritable();
  const code = await runCli(args, {
    stdout,
    stderr,
    stdin: Readable.from([]),
    env: options.env ?? {},
    cwd: dir,
    isTTY: options.isTTY ?? false,
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: the escape character is what is looked for
const ANSI = /\u001b\[/;

beforeAll(async () => {
  expect((await baton(['init', '--name', 'Ada'])).code).toBe(0);
  // A log long enough for a progress bar, written through the library on the same file.
  const ws = await Workspace.open({
    store: new SqliteStore({ path: join(dir, '.baton', 'workspace.db') }),
    keyring: new KeyDirectory({ path: join(dir, '.baton', 'keys') }),
    tickIntervalMs: 0,
  });
  const me = ws.as(ws.info!.owners[0]!);
  for (let i = 0; i < 2_100; i++) await me.context.record({ type: 'note', text: `note ${i}` });
  await ws.close();
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('output for people', () => {
  it('colours a terminal, and not a pipe or NO_COLOR', async () => {
    expect((await baton(['whoami'], { isTTY: true })).stdout).toMatch(ANSI);
    expect((await baton(['whoami'])).stdout).not.toMatch(ANSI);
    expect((await baton(['whoami'], { isTTY: true, env: { NO_COLOR: '1' } })).stdout).not.toMatch(
      ANSI,
    );
    expect((await baton(['whoami'], { env: { FORCE_COLOR: '1' } })).stdout).toMatch(ANSI);
  });

  it('shows a progress bar while verifying a large log on a terminal, and none in JSON or a pipe', async () => {
    const tty = await baton(['verify'], { isTTY: true, env: { NO_COLOR: '1' } });
    expect(tty.code).toBe(0);
    expect(tty.stderr).toMatch(/verifying .*\d+% · \d+\/2101 events/);
    expect(tty.stdout).toMatch(/The log checks out: 2101 events/);
    const piped = await baton(['verify']);
    expect(piped.stderr).toBe('');
    const json = await baton(['--json', 'verify'], { isTTY: true });
    expect(json.stderr).toBe('');
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, events: 2101 });
  });
});
