// The review, end to end, in four processes: Ada sets up; the agent drafts and pauses for
// her approval (its process exits); Ada decides in her own process; a new agent process
// resumes the thread and publishes, once. `pnpm start -- edit` or `-- reject` for the
// other endings.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { paths } from './paths.js';

const decision = process.argv.slice(2).find((a) => a !== '--') ?? 'approve';
if (!['approve', 'edit', 'reject'].includes(decision)) {
  console.error(`Say approve, edit or reject, not "${decision}".`);
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), 'baton-langgraph-review-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const run = (script: string, ...args: string[]) =>
  execFileSync(
    process.execPath,
    [...process.execArgv, fileURLToPath(new URL(script, import.meta.url)), ...args],
    {
      encoding: 'utf8',
    },
  ).trim();

console.log(run('./person.ts', 'setup', dir));
const paused = run('./agent.ts', 'start', dir);
console.log(paused);
const handoff = /handoff (ho_[\w-]+)/.exec(paused)![1]!;
console.log(run('./person.ts', decision, dir, handoff));
console.log(run('./agent.ts', 'resume', dir, handoff));
console.log(run('./agent.ts', 'resume', dir, handoff));
const outbox = paths(dir).outbox;
const lines = existsSync(outbox)
  ? readFileSync(outbox, 'utf8').trim().split('\n').filter(Boolean)
  : [];
console.log(`outbox: ${lines.length} publication(s)${lines.length ? `: ${lines.join(', ')}` : ''}`);
