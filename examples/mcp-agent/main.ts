// An MCP agent joins a Baton workspace as its own identity. Ada (a person, at a terminal)
// sets up the workspace with the `baton` CLI, drafts a post and hands it to an agent with a
// note and a question. The agent is a scripted MCP client (no model): it spawns
// `baton mcp --as drafter` — a server holding only the agent's key — reads the briefing Ada
// left, edits with a reason, records its decision and asks to publish. Ada approves from the
// CLI, and the agent's waiting call comes back approved. Every act is signed by its actor.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const dir = mkdtempSync(join(tmpdir(), 'baton-mcp-agent-'));
// The story's files go when it ends, however it ends.
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const agentKeys = join(dir, 'agent-keys');
// The `baton` program beside @baton/cli's entry point (its sources when run from them).
const cliEntry = fileURLToPath(import.meta.resolve('@baton/cli'));
const batonPath = cliEntry.replace(/index\.(ts|js)$/, 'baton.$1');
const env: Record<string, string> = { NO_COLOR: '1' };
for (const [k, v] of Object.entries(process.env))
  if (v !== undefined && !k.startsWith('BATON_') && k !== 'INIT_CWD') env[k] = v;
const run = promisify(execFile);
/** Runs `baton ...args` as Ada, in the workspace's directory; returns its JSON output. */
async function baton<T = unknown>(...args: string[]): Promise<T> {
  const { stdout } = await run(
    process.execPath,
    [...process.execArgv, batonPath, '--json', ...args],
    {
      cwd: dir,
      env,
    },
  );
  return JSON.parse(stdout) as T;
}
const say = (text: string) => console.log(`\n— ${text}`);
const text = (r: unknown) =>
  ((r as { content: { text?: string }[] }).content ?? []).map((c) => c.text ?? '').join('\n');
const data = <T>(r: unknown) => (r as { structuredContent: T }).structuredContent;

// Ada, at her terminal.
await baton('init', '--name', 'Ada');
await baton('id', 'create', 'drafter', '--key-dir', agentKeys);
await baton(
  'grant',
  'drafter',
  '--resource',
  'artifact:*',
  '--actions',
  'read,create,write,comment,handoff,publish',
  '--approval',
  'publish',
);
const draft = join(dir, 'draft.md');
writeFileSync(
  draft,
  '# Launch post\n\nWe are very excited and happy to announce that we launch today.\nPricing later.\n',
);
const doc = await baton<{ id: string }>(
  'new',
  '--title',
  'Launch post',
  '--file',
  draft,
  '--reason',
  'first draft',
);
const offered = await baton<{ id: string }>(
  'offer',
  '--to',
  'drafter',
  '--artifact',
  doc.id,
  '--note',
  'Tighten the intro, then ask me before publishing.',
  '--question',
  'Is the title too plain?',
);
say(
  'Ada set up the workspace, drafted the post and handed it to "drafter" (an agent; its key lives elsewhere).',
);

// The agent: an MCP client that starts `baton mcp --as drafter` with only its own key.
const client = new Client({ name: 'scripted-agent', version: '1.0.0' });
await client.connect(
  new StdioClientTransport({
    command: process.execPath,
    args: [...process.execArgv, batonPath, '--keys', agentKeys, 'mcp', '--as', 'drafter'],
    cwd: dir,
    env,
    stderr: 'ignore',
  }),
);
const tools = (await client.listTools()).tools.map((t) => t.name);
say(`The agent connected over MCP and sees ${tools.length} tools: ${tools.join(', ')}.`);

const inbox = data<{ items: { id: string; note?: string }[] }>(
  await client.callTool({ name: 'my_inbox', arguments: {} }),
);
const handoff = inbox.items.find((i) => i.id === offered.id)!;
say(`Its inbox holds Ada's handoff: "${handoff.note}". It accepts; the briefing it gets:`);
console.log(
  text(await client.callTool({ name: 'accept_handoff', arguments: { handoff: handoff.id } })),
);

// A model would call read_artifact; a program reads the resource: the content as it is, its
// version and title beside it.
const [at] = (await client.readResource({ uri: `baton://artifact/${doc.id}` })).contents;
if (!at || !('text' in at)) throw new Error('the artifact came back without its text');
const read = { content: at.text, version: Number(at._meta?.version) };
const tightened = read.content.replace(
  'We are very excited and happy to announce that we launch today.',
  'We launch today.',
);
const edit = await client.callTool({
  name: 'edit_artifact',
  arguments: {
    id: doc.id,
    baseVersion: read.version,
    content: tightened,
    reason: 'tighten the intro, as Ada asked',
  },
});
say(`The agent edited with a reason: ${text(edit)}`);
await client.callTool({
  name: 'record_context',
  arguments: {
    type: 'decision',
    text: 'Keep the title as it is',
    why: 'short titles read better in feeds',
    about: [doc.id],
  },
});
say('It recorded its decision, and asks to publish (publishing needs Ada’s approval).');

const publish = {
  action: 'publish',
  resource: `artifact:${doc.id}`,
  summary: 'Publish the launch post',
};
const asking = client.callTool(
  { name: 'request_approval', arguments: { ...publish, waitMs: 50_000 } },
  undefined,
  {
    timeout: 58_000,
  },
);

// Ada, at her terminal: the request shows up in her inbox; she approves it.
let request: { id: string } | undefined;
while (!request) {
  const items = await baton<{ id: string; kind: string }[]>('inbox');
  request = items.find((i) => i.kind === 'approval');
  if (!request) await new Promise((r) => setTimeout(r, 200));
}
say(`Ada sees the approval request ${request.id} in her inbox and approves it from the CLI.`);
await baton('approve', request.id, '--note', 'Ship it');

const answer = await asking;
say(`The agent's waiting call returned: ${text(answer)}`);
if (data<{ status: string }>(answer).status !== 'approved')
  throw new Error('the approval did not come through');
console.log(`  (the agent would publish now) — ${read.content.split('\n')[0]}`);
await client.callTool({
  name: 'complete_handoff',
  arguments: { handoff: handoff.id, note: 'Tightened and published' },
});
await client.close();

const log = await baton<{ type: string; actor: string }[]>('log');
const ids = await baton<{ id: string; name: string }[]>('id', 'list');
const nameOf = (id: string) => ids.find((i) => i.id === id)?.name ?? id;
say('The log, every event signed by its actor:');
for (const e of log.slice(-8))
  console.log(`  ${nameOf(e.actor).padEnd(8)} ${e.type.replace(/@\d+$/, '')}`);
const verified = await baton<{ ok: boolean }>('verify');
say(`baton verify: ${verified.ok ? 'the log checks out' : 'PROBLEM'}.`);
