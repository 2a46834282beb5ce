import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { BatonError, ErrorCode } from '@baton/core';
import type { CliIo } from './output.js';
import { usage } from './output.js';

/** Everything on stdin (for content piped in). */
export async function readAll(io: CliIo): Promise<string> {
  let text = '';
  for await (const chunk of io.stdin) text += chunk.toString();
  return text;
}

/** Reads one line from stdin after printing `question` on stderr; `undefined` at end of input. */
export async function ask(io: CliIo, question: string): Promise<string | undefined> {
  io.stderr.write(question);
  const rl = createInterface({ input: io.stdin, terminal: false });
  try {
    for await (const line of rl) return line;
    return undefined;
  } finally {
    rl.close();
  }
}

/** The editor to open: `$VISUAL`, then `$EDITOR`. */
function editorOf(io: CliIo): string {
  const editor = io.env.VISUAL || io.env.EDITOR;
  if (!editor) {
    throw new BatonError(
      ErrorCode.INVALID_STATE,
      'Set $EDITOR (or $VISUAL) to the editor to open, e.g. `export EDITOR=nano`, or pass the new content with --file.',
    );
  }
  return editor;
}

/**
 * Opens `text` in the user's editor and returns what they saved. The file is kept (its path
 * returned) so that nothing typed is lost if the write that follows fails.
 */
export function editText(
  io: CliIo,
  text: string,
  name: string,
): { text: string; file: string; dispose(): void } {
  const editor = editorOf(io);
  const dir = mkdtempSync(join(tmpdir(), 'baton-edit-'));
  const file = join(dir, name.replace(/[^A-Za-z0-9._-]/g, '_'));
  writeFileSync(file, text, { mode: 0o600 });
  // Through the shell, so an EDITOR with arguments ("code --wait") works as it does for git;
  // the file goes in as a positional argument, never spliced into the command text.
  const r = spawnSync('/bin/sh', ['-c', `${editor} "$1"`, 'baton-edit', file], {
    stdio: 'inherit',
    cwd: io.cwd,
    env: io.env,
  });
  if (r.error || r.status !== 0) {
    // Whatever was typed is kept: the file stays where it is.
    throw usage(
      `The editor (${editor}) exited with ${r.error ? r.error.message : `code ${r.status}`}; nothing was changed. What you typed is in ${file}.`,
    );
  }
  return {
    text: readFileSync(file, 'utf8'),
    file,
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
